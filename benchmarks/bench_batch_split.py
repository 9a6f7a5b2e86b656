#!/usr/bin/env python3
"""The batch split (``vgglib.fast.BatchSplit``) against the per-operation split, by VGG16 width.

For each width, a training step (forward, softmax cross-entropy, backward; no update) of VGG16 at 32×32×1 run two
ways on the same model in interleaved repetitions: the model's own ``forward``/``backward`` (every operation
split over the workers) and ``BatchSplit`` with its channel limit lifted (the trunk on one shard of the batch per
worker). This is the measurement behind ``vgglib.fast.batch_split.MAX_CHANNELS``; figures only, nothing asserted.

    python benchmarks/bench_batch_split.py                       # widths 0.25 0.5 1, batch 64
    python benchmarks/bench_batch_split.py --json results/benchmark/bench_batch_split.json
    python benchmarks/bench_batch_split.py --smoke               # seconds (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_twin import clean_environment, time_interleaved  # noqa: E402


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
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        config = {"batch": args.batch, "threads": args.threads, "size": 32, "date": time.strftime("%Y-%m-%d")}
        args.json.write_text(json.dumps({"config": config, "rows": rows}, indent=1) + "\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
