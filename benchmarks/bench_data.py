#!/usr/bin/env python3
"""Time the MNIST data pipeline: loading + converting the full training set (target: < 3 s), and the per-batch
cost of the lazy BatchLoader and of the augmentations.

    VGGLIB_DATA=/path/to/mnist python benchmarks/bench_data.py [--data-dir DIR] [--repeat 3]

Needs the four original files (``--data-dir``, ``$VGGLIB_DATA`` or the user cache; see data/README.md). Like every
benchmark here it runs with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (``torch_twin.clean_environment``),
so numpy uses the machine's best kernels. Prints best-of-N wall times.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_twin import best_of, clean_environment  # noqa: E402

clean_environment(None)  # before numpy is imported anywhere; the thread count is left as it is

import argparse  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402

from vgglib import augment as A  # noqa: E402
from vgglib.mnist import load_mnist  # noqa: E402
from vgglib.preprocess import BatchLoader, prepare, to_float  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="directory with the original files")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    r = args.repeat
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )

    t_load, (images, labels) = best_of(r, lambda: load_mnist("train", "full", data_dir=args.data_dir))
    t_float, x = best_of(r, lambda: to_float(images))
    t_both, _ = best_of(r, lambda: to_float(load_mnist("train", "full", data_dir=args.data_dir)[0]))
    print(
        f"full train set {images.shape} {images.dtype}: load (sha256 + gunzip + checks) {t_load:.3f} s, "
        f"to_float {t_float:.3f} s ({x.nbytes / 1e6:.0f} MB float32)"
    )
    print(f"load + to_float together: {t_both:.3f} s  (target < 3 s: {'OK' if t_both < 3 else 'TOO SLOW'})")
    t_sample, _ = best_of(r, lambda: load_mnist("train"))
    print(f"embedded sample (6,000 train): load {t_sample * 1000:.1f} ms")
    del x

    t_prep, _ = best_of(r, lambda: prepare(images[:10000], 32, "pad"))
    print(f"prepare 10,000 images to (1, 32, 32) by padding: {t_prep:.3f} s")

    loader = BatchLoader(images, labels, batch_size=128, size=32, method="pad")
    t_epoch, n = best_of(1, lambda: sum(len(y) for _, y in loader.epoch(0)))
    print(f"BatchLoader epoch, 32x32 pad, batch 128: {t_epoch:.2f} s for {n} images")
    zoom = BatchLoader(images[: 128 * 20], labels[: 128 * 20], batch_size=128, size=64, method="zoom")
    t_zoom, _ = best_of(1, lambda: [None for _ in zoom.epoch(0)])
    print(
        f"BatchLoader 64x64 zoom (the seed's input): {t_zoom / 20 * 1000:.1f} ms per batch of 128, "
        f"~{t_zoom / 20 * 469:.1f} s per 60,000-image epoch"
    )

    batch = to_float(images[:128])[:, None]
    rng = np.random.default_rng(0)
    for name, f in [
        ("random_shift(2)", lambda: A.random_shift(batch, 2, rng)),
        ("random_flip", lambda: A.random_flip(batch, rng)),
        ("random_rotation(15)", lambda: A.random_rotation(batch, 15, rng)),
        ("random_zoom(0.1)", lambda: A.random_zoom(batch, 0.1, rng)),
        (
            "Compose(shift, rotation, zoom)",
            lambda: A.Compose([A.RandomShift(2), A.RandomRotation(15), A.RandomZoom(0.1)])(batch, rng),
        ),
    ]:
        t, _ = best_of(max(r, 5), f)
        print(f"augment {name:32s} {t * 1000:7.2f} ms per batch of 128 (28x28)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
