#!/usr/bin/env python3
"""Where the recipe's training step loses to PyTorch: one core, layer by layer.

``vgglib.fit`` runs the trunk of the recipe's model (``mnist-vgg16``: VGG16 at width 0.25, 32×32, batch 64) as one
shard of the batch per core (``vgglib.fast.BatchSplit``). So its step is about one shard on one core, and this asks
how that compares with PyTorch on one core. Three measurements, interleaved:

1. **the training step** (forward, softmax cross-entropy, backward, SGD update) of the recipe's model, vgglib
   against PyTorch with the same weights: on one core with a shard-sized batch (default 32, half the recipe's 64),
   and on two cores with twice that (vgglib's batch split; PyTorch's two threads). Two cores' time over one core's
   is each library's *scaling*: 1 would be perfect. Steps run back to back, as training runs them (blocks of
   ``--block`` steps, the blocks interleaved); ``bench_vgg16.py`` times single steps between other tasks instead,
   which finds caches cold and costs vgglib more;
2. **every convolution**, forward and backward (dx and dW) apart, vgglib's fast layer (the library's own method)
   against ``torch.nn.Conv2d`` with the same weights, on the input the layer gets inside the model;
3. **the matrix products** those convolutions run (the shape of each layer's main GEMM for the method it took), in
   GFLOP/s against the BLAS's own peak on one core (a 1024² float32 product).

2 and 3 run on one core.

Figures only, nothing asserted (a shared machine is noisy: medians of interleaved runs, ratios from one run).
Without PyTorch (``pip install torch``) it measures vgglib's side alone.

    python benchmarks/bench_per_core.py --json results/benchmark/bench_per_core.json
    python benchmarks/bench_per_core.py --smoke        # seconds (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_twin import clean_environment, time_interleaved, torch_model  # noqa: E402


def gemm_shape(method: str, n: int, c: int, f: int, h: int, w: int) -> tuple[int, int, int, int]:
    """(count, rows, inner, columns) of the main matrix products a 3×3 / pad 1 convolution's forward runs with
    ``method`` (a ``ConvCache.method``) on n images of c channels, h×w, to f channels."""
    if method == "winograd":  # 16 products of (tiles × C)·(C × F)
        return 16, n * (h // 2) * (w // 2), c, f
    if method == "shifted":  # 3 products of the padded rows × 3C (one kernel row each)
        return 3, n * (h + 2) * (w + 2), 3 * c, f
    if method == "dense":  # one product of the flattened images with the dense matrix (H·W·C, H·W·F)
        return 1, n, h * w * c, h * w * f
    return 1, n * h * w, 9 * c, f  # im2col ("nhwc", "planes"): one product with the window matrix


def _median_ms(values: list[float]) -> float:
    import numpy as np

    return 1e3 * float(np.median(values))


def gemm_rate(count: int, m: int, k: int, n: int, reps: int) -> float:
    """GFLOP/s of ``count`` float32 products (m × k)·(k × n) in one ``np.matmul`` call, median of ``reps``."""
    import numpy as np

    rng = np.random.default_rng(3)
    a = rng.standard_normal((count, m, k), dtype=np.float32)
    b = rng.standard_normal((count, k, n), dtype=np.float32)
    out = np.empty((count, m, n), dtype=np.float32)
    seconds = time_interleaved({"gemm": lambda: np.matmul(a, b, out=out)}, reps)["gemm"]
    return 2 * count * m * k * n / (_median_ms(seconds) / 1e3) / 1e9


def measure(width: float, batch: int, reps: int, with_torch: bool, block: int = 5) -> dict[str, Any]:
    """The three measurements of the module's docstring (ms, medians); PyTorch's figures only ``with_torch``."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from vgglib.fast import BatchSplit, Convolution2D, workers
    from vgglib.losses import softmax_cross_entropy
    from vgglib.model import VGG16
    from vgglib.optim import SGD

    model = VGG16(1, 10, 32, width=width, dropout=0.5, rng=np.random.default_rng(0))
    net = BatchSplit(model)  # as vgglib.fit trains
    optimizer = SGD(0.01)
    rng = np.random.default_rng(1)
    x2 = rng.standard_normal((2 * batch, 1, 32, 32)).astype(np.float32)
    y2 = rng.integers(0, 10, 2 * batch)
    x, y = x2[:batch], y2[:batch]
    inputs: dict[int, np.ndarray] = {}

    def vgglib_step(cores: int, keep_inputs: bool = False) -> None:
        if cores == 2:
            net.backward(softmax_cross_entropy(net.forward(x2, True), y2)[1], input_grad=False)
        else:
            out = x
            for i, layer in enumerate(model.layers):
                if keep_inputs:
                    inputs[i] = out
                out = layer.forward(out, True)
            model.backward(softmax_cross_entropy(out, y)[1], input_grad=False)
        optimizer.step(model)

    tasks: dict[str, Any] = {"vgglib": vgglib_step}
    torch = net_t = None
    if with_torch:
        import torch

        net_t = torch_model(model)
        torch_opt = torch.optim.SGD(net_t.parameters(), lr=0.01)
        xt2, yt2 = torch.from_numpy(x2.copy()), torch.from_numpy(y2.copy())
        loss_fn = torch.nn.CrossEntropyLoss()

        def torch_step(cores: int) -> None:
            torch_opt.zero_grad(set_to_none=True)
            n = len(xt2) if cores == 2 else batch
            loss_fn(net_t(xt2[:n]), yt2[:n]).backward()
            torch_opt.step()

        tasks["PyTorch"] = torch_step

    def cores(count: int) -> None:
        """Run on ``count`` cores from now on: vgglib's workers, numpy's BLAS and PyTorch's threads."""
        workers.threads = count
        threadpool_limits(count, user_api="blas")
        if torch is not None:
            torch.set_num_threads(count)

    # steps run back to back, as training runs them: blocks of `block` steps of one library on one core count, the
    # blocks interleaved (libraries and core counts in turn); every step of a block is timed, the first too
    step_times: dict[str, list[float]] = {}
    names = list(tasks)
    for round_ in range(reps + 1):  # round 0 is the warm-up
        for count in (1, 2) if round_ % 2 else (2, 1):
            cores(count)  # (untimed)
            for name in names if round_ % 2 else names[::-1]:
                for _ in range(block):
                    t0 = time.perf_counter()
                    tasks[name](count)
                    if round_:
                        step_times.setdefault(f"{name}, {count} core{'s' * (count > 1)}", []).append(
                            time.perf_counter() - t0
                        )
    step = {name: _median_ms(times) for name, times in step_times.items()}

    cores(1)  # the rest on one core: no batch split, no per-operation split
    vgglib_step(1, keep_inputs=True)  # the inputs every layer sees in the model
    layers = []
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, Convolution2D):
            continue
        xi = inputs[i]
        first = i == 0
        yi = layer.forward(xi, True)
        method = layer._fast_cache.method
        dy = np.ascontiguousarray(rng.standard_normal(yi.shape, dtype=np.float32).transpose(0, 2, 3, 1))
        dy = dy.transpose(0, 3, 1, 2)  # channels-last, as a ReLU's gradient reaches it in the model
        passes = {
            "vgglib forward": lambda layer=layer, xi=xi: layer.forward(xi, True),
            "vgglib backward": lambda layer=layer, dy=dy, first=first: layer.backward(dy, input_grad=not first),
        }
        if net_t is not None:
            assert torch is not None
            conv = net_t[i]
            xt = torch.from_numpy(np.ascontiguousarray(xi)).requires_grad_(not first)
            dyt = torch.from_numpy(np.ascontiguousarray(dy))
            graph: list[Any] = []

            def torch_forward(conv: Any = conv, xt: Any = xt) -> None:
                with torch.no_grad():
                    conv(xt)

            def torch_backward(conv: Any = conv, xt: Any = xt, dyt: Any = dyt, graph: list[Any] = graph) -> None:
                graph[0].backward(dyt)  # (its forward ran untimed just before; see below)
                conv.zero_grad(set_to_none=True)
                xt.grad = None

            passes["PyTorch forward"] = torch_forward
            passes["PyTorch backward"] = torch_backward
        seconds: dict[str, list[float]] = {name: [] for name in passes}
        for name, fn in passes.items():  # warm-up
            if name == "PyTorch backward":
                graph[:] = [net_t[i](xt)]
            fn()
        for _ in range(reps):
            for name, fn in passes.items():
                if name == "PyTorch backward":
                    graph[:] = [net_t[i](xt)]  # a fresh graph, untimed: only the backward is timed
                t0 = time.perf_counter()
                fn()
                seconds[name].append(time.perf_counter() - t0)
        n, c, h, w = xi.shape
        shape = gemm_shape(method, n, c, layer.num_filters, h, w)
        layers.append(
            {
                "layer": layer.name,
                "input": [n, c, h, w],
                "filters": layer.num_filters,
                "method": method,
                "gemm": list(shape),
                "gemm_gflops": gemm_rate(*shape, reps),
                **{name.replace(" ", "_") + "_ms": _median_ms(values) for name, values in seconds.items()},
            }
        )
    peak = gemm_rate(1, 1024, 1024, 1024, max(3, reps // 3))
    totals = {key: sum(r[key] for r in layers) for key in layers[0] if key.endswith("_ms")}
    return {
        "width": width,
        "batch": batch,
        "reps": reps,
        "block": block,
        "step_ms": step,
        "step_times_s": step_times,
        "layers": layers,
        "conv_totals_ms": totals,
        "gemm_peak_gflops": peak,
    }


def print_result(res: dict[str, Any]) -> None:
    step = res["step_ms"]
    b = res["batch"]
    print(
        f"\nVGG16 width {res['width']:g}, 32x32x1; training steps back to back, {res['reps']} interleaved blocks of "
        f"{res['block']}; medians, ms"
    )
    print(f"{'training step':>18} | {'vgglib':>7} | {'PyTorch':>7} | ratio")
    for count, images in ((1, b), (2, 2 * b)):
        label = f"{count} core{'s' * (count > 1)}"
        v, t = step[f"vgglib, {label}"], step.get(f"PyTorch, {label}")
        versus = f"{t:7.1f} | {v / t:.2f}x" if t else f"{'-':>7} |"
        print(f"{label + ', ' + str(images) + ' images':>18} | {v:7.1f} | {versus}")
    scale = {
        name: step[f"{name}, 2 cores"] / step[f"{name}, 1 core"]
        for name in ("vgglib", "PyTorch")
        if f"{name}, 1 core" in step
    }
    print("scaling (2 cores, twice the images, over 1 core): " + ", ".join(f"{k} {v:.2f}" for k, v in scale.items()))
    print(f"\nOne core, {b} images, every convolution; ms")
    with_torch = "PyTorch_forward_ms" in res["layers"][0]
    print(
        f"{'layer':>8} {'input':>14} {'method':>9} | {'fwd':>5} {'torch':>5} {'ratio':>5} | {'bwd':>5} {'torch':>5} "
        f"{'ratio':>5} | GEMM (count x rows x inner x cols): GFLOP/s"
    )
    rows = [*res["layers"], {"layer": "all", **res["conv_totals_ms"]}]
    for r in rows:
        cells = []
        for p in ("forward", "backward"):
            v = r[f"vgglib_{p}_ms"]
            if with_torch:
                t = r[f"PyTorch_{p}_ms"]
                cells.append(f"{v:5.2f} {t:5.2f} {v / t:4.2f}x")
            else:
                cells.append(f"{v:5.2f} {'-':>5} {'-':>5}")
        shape = "x".join(str(d) for d in r["gemm"]) + f": {r['gemm_gflops']:.0f}" if "gemm" in r else ""
        size = f"{r['input'][1]}@{r['input'][2]}x{r['input'][3]}" if "input" in r else ""
        print(f"{r['layer']:>8} {size:>14} {r.get('method', ''):>9} | {cells[0]} | {cells[1]} | {shape}")
    print(f"BLAS peak on one core (1024x1024x1024, float32): {res['gemm_peak_gflops']:.0f} GFLOP/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--width", type=float, default=0.25, help="VGG16 channel multiplier (default 0.25)")
    parser.add_argument("--batch", type=int, default=32, help="images: one shard of the recipe's 64 (default 32)")
    parser.add_argument("--reps", type=int, default=20, help="interleaved repetitions (default 20)")
    parser.add_argument("--block", type=int, default=5, help="training steps run back to back per block (default 5)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI: width 1/16, batch 4, 1 repetition")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.width, args.batch, args.reps, args.block = 1 / 16, 4, 1, 2
    if min(args.batch, args.reps, args.block) < 1 or not 0 < args.width <= 4:
        parser.error("--batch, --reps and --block must be at least 1, --width in (0, 4]")
    clean_environment(2)

    with_torch = not args.no_torch
    if with_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch not installed: vgglib alone (pip install torch to compare)")
            with_torch = False
    res = measure(args.width, args.batch, args.reps, with_torch, args.block)
    print_result(res)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        config = {"size": 32, "cores": [1, 2], "date": time.strftime("%Y-%m-%d")}
        args.json.write_text(json.dumps({"config": config, **res}, indent=1) + "\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
