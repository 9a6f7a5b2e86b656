#!/usr/bin/env python3
"""The batch split (``vgglib.fast.BatchSplit``) against the per-operation split, by VGG16 width.

For each width, a training step (forward, softmax cross-entropy, backward; no update) of VGG16 at 32×32×1 run two
ways on the same model in interleaved repetitions: the model's own ``forward``/``backward`` (every operation
split over the workers) and ``BatchSplit`` with its channel limit lifted (the trunk on one shard of the batch per
worker). This is the measurement behind ``vgglib.fast.batch_split.MAX_CHANNELS``; figures only, nothing asserted.

``--layers`` also asks why two shards side by side take longer than one shard alone: the trunk of the first width
(the recipe's 0.25) runs forward and backward as shard 0 alone on one worker (one-thread BLAS) and as all shards side
by side (the split), interleaved, with every layer of every shard timed. It prints each layer's median in both
settings, the sums, and the trunk's wall time in both: side by side, the layers' extra time is what the shards cost
each other (the interpreter lock between numpy calls, caches and memory bandwidth: not told apart here), and the wall
time beyond the layers' sum is the wait at the join and the spread between runs.

    python benchmarks/bench_batch_split.py                       # widths 0.25 0.5 1, batch 64
    python benchmarks/bench_batch_split.py --json results/benchmark/bench_batch_split.json
    python benchmarks/bench_batch_split.py --widths 0.25 --layers --reps 30
    python benchmarks/bench_batch_split.py --smoke               # seconds (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_twin import clean_environment, time_interleaved  # noqa: E402


def _run(layers: list[Any], x: Any) -> Any:
    """``x`` through ``layers``' training forward."""
    for layer in layers:
        x = layer.forward(x, True)
    return x


def layer_times(width: float, batch: int, reps: int) -> dict[str, Any]:
    """The trunk's layers one shard alone (one worker) and all shards side by side: medians in ms, and the trunk's
    wall time in both settings (see the module's docstring)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from vgglib.fast import BatchSplit, workers
    from vgglib.losses import softmax_cross_entropy
    from vgglib.model import VGG16

    model = VGG16(1, 10, 32, width=width, rng=np.random.default_rng(0))
    net = BatchSplit(model)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((batch, 1, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    bounds = net.shards(batch)
    assert bounds is not None, "the batch would not be split"
    net.backward(softmax_cross_entropy(net.forward(x), y)[1])  # builds the shards' replicas
    replicas = net.replicas
    trunk_out = _run(replicas[0], x[:1])
    dy = rng.standard_normal((batch, *trunk_out.shape[1:])).astype(np.float32)
    setting = ["alone"]
    times: dict[str, dict[tuple[str, str], list[float]]] = {
        "alone": defaultdict(list),
        "side by side": defaultdict(list),
    }

    def timed(layer: Any, method: str) -> None:
        original = getattr(layer, method)

        def run(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            out = original(*args, **kwargs)
            times[setting[0]][layer.name, method].append(time.perf_counter() - t0)
            return out

        setattr(layer, method, run)

    for replica in replicas:
        for layer in replica:
            timed(layer, "forward")
            timed(layer, "backward")

    def shard(i: int) -> None:
        lo, hi = bounds[i]
        _run(replicas[i], x[lo:hi])
        d = dy[lo:hi]
        for layer in reversed(replicas[i][1:]):
            d = layer.backward(d)
        replicas[i][0].backward(d, input_grad=False)
        for layer in replicas[i]:
            layer.grads = {}

    @workers.threaded
    def side_by_side() -> None:
        setting[0] = "side by side"
        workers.parallel_map(shard, range(len(bounds)))

    def alone() -> None:
        setting[0], saved = "alone", workers.threads
        with threadpool_limits(1):
            workers.threads = 1
            try:
                shard(0)
            finally:
                workers.threads = saved

    walls = time_interleaved({"alone": alone, "side by side": side_by_side}, reps)
    for recorded in times.values():  # drop time_interleaved's warm-up round: the first of reps + 1
        for key, values in recorded.items():
            recorded[key] = values[len(values) // (reps + 1) :]
    layers = [
        {
            "layer": name,
            "pass": method,
            "alone_ms": 1e3 * float(np.median(times["alone"][name, method])),
            "side_by_side_ms": 1e3 * float(np.median(times["side by side"][name, method])),
        }
        for name, method in times["alone"]
    ]
    return {
        "width": width,
        "batch": batch,
        "shards": len(bounds),
        "reps": reps,
        "layers": layers,
        "sum_alone_ms": sum(r["alone_ms"] for r in layers),
        "sum_side_by_side_ms": sum(r["side_by_side_ms"] for r in layers),
        "trunk_alone_ms": 1e3 * float(np.median(walls["alone"])),
        "trunk_side_by_side_ms": 1e3 * float(np.median(walls["side by side"])),
        "times_s": walls,
    }


def print_layer_times(res: dict[str, Any]) -> None:
    print(
        f"\nWhy the split is not {res['shards']}x: the trunk at width {res['width']:g}, {res['batch']} images in "
        f"{res['shards']} shards; medians, ms"
    )
    print(f"{'layer':>10} {'pass':>8} | {'alone':>6} | {'side by side':>12} | ratio")
    for r in sorted(res["layers"], key=lambda r: r["side_by_side_ms"] - r["alone_ms"], reverse=True)[:12]:  # most added
        ratio = r["side_by_side_ms"] / r["alone_ms"]
        print(f"{r['layer']:>10} {r['pass']:>8} | {r['alone_ms']:6.2f} | {r['side_by_side_ms']:12.2f} | {ratio:.2f}x")
    a, s = res["sum_alone_ms"], res["sum_side_by_side_ms"]
    print(f"{'all layers':>19} | {a:6.1f} | {s:12.1f} | {s / a:.2f}x")
    a, s = res["trunk_alone_ms"], res["trunk_side_by_side_ms"]
    print(f"{'trunk (wall)':>19} | {a:6.1f} | {s:12.1f} | {s / a:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--widths", type=float, nargs="+", default=[0.25, 0.5, 1.0], help="VGG16 channel multipliers")
    parser.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="worker threads (default 2)")
    parser.add_argument("--reps", type=int, default=None, help="interleaved repetitions (default 15, 5 at full width)")
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI: width 1/16, batch 16, 1 repetition")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--layers", action="store_true", help="also time the first width's trunk layers alone and side by side"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.widths, args.batch, args.reps = [1 / 16], 16, 1
    clean_environment(args.threads)

    import numpy as np

    from vgglib.fast import BatchSplit, workers
    from vgglib.fast import batch_split as split_module
    from vgglib.losses import softmax_cross_entropy
    from vgglib.model import VGG16

    workers.threads = args.threads
    split_module.MAX_CHANNELS = 10**9  # split every width: that is the comparison
    rng = np.random.default_rng(1)
    x = rng.standard_normal((args.batch, 1, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, args.batch)
    rows = []

    def step(runner):  # noqa: ANN001, ANN202 - the model itself, or its BatchSplit
        logits = runner.forward(x, training=True)
        runner.backward(softmax_cross_entropy(logits, y)[1], input_grad=False)

    print(f"VGG16 at 32x32x1, batch {args.batch}, {args.threads} workers; training step without the update, ms")
    print(f"{'width':>6} | {'operations split':>16} | {'batch split':>11} | paired ratio (median)")
    for width in args.widths:
        model = VGG16(1, 10, 32, width=width, rng=np.random.default_rng(0))
        net = BatchSplit(model)
        assert net.shards(args.batch) is not None, "the batch would not be split"

        reps = args.reps or (5 if width >= 1 else 15)
        times = time_interleaved({"ops": partial(step, model), "batch": partial(step, net)}, reps)
        ratio = float(np.median(np.array(times["batch"]) / np.array(times["ops"])))
        row = {
            "width": width,
            "operations_split_ms": 1e3 * float(np.median(times["ops"])),
            "batch_split_ms": 1e3 * float(np.median(times["batch"])),
            "paired_ratio": ratio,
            "reps": reps,
            "times_s": times,
        }
        rows.append(row)
        print(f"{width:6g} | {row['operations_split_ms']:16.1f} | {row['batch_split_ms']:11.1f} | {ratio:.2f}x")
    result: dict[str, Any] = {"rows": rows}
    if args.layers:
        result["layer_times"] = layer_times(args.widths[0], args.batch, args.reps or 30)
        print_layer_times(result["layer_times"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        config = {"batch": args.batch, "threads": args.threads, "size": 32, "date": time.strftime("%Y-%m-%d")}
        args.json.write_text(json.dumps({"config": config, **result}, indent=1) + "\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
