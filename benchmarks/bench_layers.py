"""Per-layer convolution timings: every method of ``vgglib.fast`` against PyTorch, on one model's layer shapes.

For each 3×3 convolution of VGG16 at the given width, input size and batch (default: the ``mnist-vgg16`` recipe's
model, width 0.25 at 32×32, batch 64), time forward and forward + backward (dx and dW) of the fast layer with each
method forced — im2col (``nhwc``), Winograd, shifted products — and with the library's own choice (``auto``), next
to ``torch.nn.Conv2d`` with the same threads. This is the measurement behind the method thresholds
(``vgglib.fast.winograd.WINOGRAD_MIN_C``, ``vgglib.fast.shifted.SHIFTED_*``). Inputs are channels-last, as inside
the model. Best of ``--reps`` runs (a shared machine is noisy); figures only, nothing asserted.

    python benchmarks/bench_layers.py                 # the recipe's layers
    python benchmarks/bench_layers.py --width 0.5     # half width
    python benchmarks/bench_layers.py --smoke         # a tiny run (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_twin import best_of, clean_environment  # noqa: E402

METHODS = ("auto", "nhwc", "winograd", "shifted")


def vgg_conv_shapes(width: float, size: int) -> list[tuple[int, int, int]]:
    """(C, F, map size) of VGG16's 13 convolutions at ``width`` and input ``size``, repeats removed."""
    from vgglib.model import vgg16_layer_configs

    shapes: list[tuple[int, int, int]] = []
    s = size
    for cfg in vgg16_layer_configs(input_size=max(32, size), width=width):
        if cfg["type"] == "Maxpooling2D":
            s //= 2
        elif cfg["type"] == "Convolution2D":
            shape = (cfg["inputs_channel"], cfg["num_filters"], s)
            if s >= 1 and shape not in shapes:
                shapes.append(shape)
    return shapes


def forced(method: str):  # noqa: ANN201 - a context manager
    """Force the fast convolution's method where it applies (``auto``: the library's choice); ``method`` is a
    ``ConvCache.method`` name ("nhwc" is :func:`vgglib.fast.prefer`'s "im2col")."""
    from vgglib.fast import prefer  # (after clean_environment: numpy loads OpenBLAS with the right settings)

    return prefer("im2col" if method == "nhwc" else method)


def _forward_backward(layer, x, dy) -> None:  # noqa: ANN001
    layer.forward(x, training=True)
    layer.backward(dy)


def _torch_forward(torch, conv, xt) -> None:  # noqa: ANN001
    with torch.no_grad():
        conv(xt)


def _torch_forward_backward(conv, xt, dyt) -> None:  # noqa: ANN001
    conv.zero_grad()
    xt.grad = None
    conv(xt).backward(dyt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--width", type=float, default=0.25, help="VGG16 channel multiplier (default 0.25)")
    parser.add_argument("--size", type=int, default=32, help="input size (default 32)")
    parser.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and PyTorch (default 2)")
    parser.add_argument("--reps", type=int, default=10, help="timed runs per entry; the best is kept (default 10)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI: width 1/16, 16x16, batch 2, 1 rep")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.width, args.size, args.batch, args.reps = 1 / 16, 16, 2, 1
    if (args.size % 32 and not args.smoke) or args.batch < 1 or args.reps < 1:
        parser.error("--size must be a multiple of 32, --batch and --reps at least 1")
    clean_environment(args.threads)

    import numpy as np
    from threadpoolctl import threadpool_limits

    from vgglib.fast import Convolution2D

    threadpool_limits(args.threads, user_api="blas")
    torch = None
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            print("PyTorch not installed: vgglib's methods only (pip install torch to compare)")
    rng = np.random.default_rng(0)
    rows = []
    header = f"{'layer':>18} | " + " | ".join(f"{m:>15}" for m in METHODS) + " | " + f"{'torch':>15} | auto chose"
    print(
        f"VGG16 width {args.width:g}, {args.size}x{args.size}, batch {args.batch}, {args.threads} threads; "
        "forward + backward ms (forward ms), best of",
        args.reps,
    )
    print(header)
    for c, f, s in vgg_conv_shapes(args.width, args.size):
        x = np.ascontiguousarray(rng.standard_normal((args.batch, s, s, c), dtype=np.float32)).transpose(0, 3, 1, 2)
        dy = np.ascontiguousarray(rng.standard_normal((args.batch, s, s, f), dtype=np.float32)).transpose(0, 3, 1, 2)
        row: dict = {"c": c, "f": f, "size": s}
        cells = []
        for method in METHODS:
            layer = Convolution2D(c, f, 3, padding=1, rng=rng)
            with forced(method):
                layer.forward(x, training=True)
                got = layer._fast_cache.method
                if method != "auto" and got != method:
                    cells.append(f"{'n/a':>15}")
                    continue
                fwd = best_of(args.reps, partial(layer.forward, x, training=True), warmup=1)[0]
                both = best_of(args.reps, partial(_forward_backward, layer, x, dy), warmup=1)[0]
            row[method] = {"forward_ms": 1e3 * fwd, "forward_backward_ms": 1e3 * both, "method": got}
            cells.append(f"{1e3 * both:7.2f} ({1e3 * fwd:5.2f})")
        if torch is not None:
            conv = torch.nn.Conv2d(c, f, 3, padding=1)
            xt = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_(True)
            dyt = torch.from_numpy(np.ascontiguousarray(dy))

            tf = best_of(args.reps, partial(_torch_forward, torch, conv, xt), warmup=1)[0]
            tb = best_of(args.reps, partial(_torch_forward_backward, conv, xt, dyt), warmup=1)[0]
            row["torch"] = {"forward_ms": 1e3 * tf, "forward_backward_ms": 1e3 * tb}
            cells.append(f"{1e3 * tb:7.2f} ({1e3 * tf:5.2f})")
        else:
            cells.append(f"{'-':>15}")
        rows.append(row)
        print(f"{f'{c}->{f} @{s}x{s}':>18} | " + " | ".join(cells) + f" | {row['auto']['method']}")
    total = {m: sum(r[m]["forward_backward_ms"] for r in rows if m in r) for m in ("auto", "torch")}
    print(
        "total forward + backward, auto: "
        + f"{total['auto']:.1f} ms"
        + (f", PyTorch {total['torch']:.1f} ms (ratio {total['auto'] / total['torch']:.2f})" if torch else "")
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        config = {k: getattr(args, k) for k in ("width", "size", "batch", "threads", "reps", "smoke")}
        args.json.write_text(json.dumps({"config": config, "layers": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
