"""What the benchmarks share: a clean BLAS environment, best-of and interleaved timing, and vgglib's VGG16 rebuilt
in PyTorch.

Imported by ``bench_vgg16.py`` (step times), ``bench_batch_split.py``, ``bench_layers.py`` and ``torch_recipe.py``
(a whole recipe, time to accuracy). Nothing here
imports numpy at module level: :func:`clean_environment` must run before numpy loads OpenBLAS.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

PINNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def clean_environment(threads: int | None) -> None:
    """Drop the OpenBLAS pinning variables and fix the thread count (None: leave it); re-exec if numpy is already
    loaded."""
    wanted = {} if threads is None else {var: str(threads) for var in THREAD_VARS}
    dirty = any(var in os.environ for var in PINNING_VARS) or any(os.environ.get(k) != v for k, v in wanted.items())
    if not dirty:
        return
    for var in PINNING_VARS:
        os.environ.pop(var, None)
    os.environ.update(wanted)
    if "numpy" in sys.modules:  # too late for this process: OpenBLAS read the variables at load time
        os.execve(sys.executable, [sys.executable, *sys.argv], dict(os.environ))


def best_of(repeat: int, f: Callable[[], Any], warmup: int = 0) -> tuple[float, Any]:
    """(the shortest of ``repeat`` timed calls of ``f`` in seconds, the last call's result), after ``warmup``
    untimed calls (best of, not mean: a shared machine only ever adds time)."""
    for _ in range(warmup):
        f()
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
    return min(times), result


def time_interleaved(tasks: dict[str, Callable[[], Any]], reps: int) -> dict[str, list[float]]:
    """Warm every task up once, then run ``reps`` rounds; each round runs every task once, in a rotated order."""
    for fn in tasks.values():
        fn()
    names = list(tasks)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(reps):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            t0 = time.perf_counter()
            tasks[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def torch_model(model: Any) -> Any:
    """The same network as the vgglib ``Sequential`` ``model`` in PyTorch, with its weights copied in
    (vgglib stores FC weights (in, out), PyTorch (out, in))."""
    import torch
    from torch import nn

    layers: list[Any] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Convolution2D":
            conv = nn.Conv2d(layer.inputs_channel, layer.num_filters, layer.kernel_size, layer.stride, layer.padding)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(layer.params["weights"]))
                conv.bias.copy_(torch.from_numpy(layer.params["bias"]))
            layers.append(conv)
        elif kind == "ReLU":
            layers.append(nn.ReLU())
        elif kind in ("Maxpooling2D", "Pooling2D"):
            layers.append(nn.MaxPool2d(layer.pool_size, layer.stride))
        elif kind == "Flatten":
            layers.append(nn.Flatten())
        elif kind == "FullyConnected":
            fc = nn.Linear(layer.num_inputs, layer.num_outputs)
            with torch.no_grad():
                fc.weight.copy_(torch.from_numpy(layer.params["weights"].T.copy()))
                fc.bias.copy_(torch.from_numpy(layer.params["bias"]))
            layers.append(fc)
        elif kind == "Dropout":
            layers.append(nn.Dropout(layer.p))
        else:
            raise ValueError(f"no PyTorch equivalent for {kind}")
    return nn.Sequential(*layers)
