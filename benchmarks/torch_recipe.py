#!/usr/bin/env python3
"""A vgglib training recipe run in PyTorch: the reference for "time to accuracy" (issue: the recipe, side by side).

The same architecture, width and initial weights (vgglib's VGG16 copied into ``torch.nn``), the same data split,
the same batch preparation and augmentation (vgglib's ``model.prepare`` feeds the tensors), the same optimizer
(torch.optim's class of the recipe's ``vgglib.optim`` one, whose rules it follows), learning-rate schedule (set
before every batch, as ``fit`` does), batch size and epochs; dropout from ``torch.manual_seed(seed)``. It prints
one line per epoch, the test accuracy, the wall time and where it went (network, augmentation, preparation,
evaluation), and writes a JSON like ``python -m vgglib train --log``::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/torch_recipe.py --data-dir ../shared/data/mnist --seed 0 \\
        --json results/time-to-accuracy/15-epochs/torch-mnist-vgg16-seed0.json
    .venv/bin/python benchmarks/torch_recipe.py --smoke      # seconds: the embedded sample, tiny model

Like ``bench_vgg16.py`` it drops OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE and sets the thread count (default 2) in its
own process before numpy is imported. ``benchmarks/time_to_accuracy.py`` runs it next to vgglib's CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_twin import PINNING_VARS, THREAD_VARS, clean_environment, torch_model  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", default="mnist-vgg16", help="a vgglib recipe name (default mnist-vgg16)")
    ap.add_argument("--data-dir", default=None, help="folder with the four MNIST files (default: $VGGLIB_DATA)")
    ap.add_argument("--seed", type=int, default=None, help="the recipe's seed, overridden")
    ap.add_argument("--epochs", type=int, default=None, help="the recipe's epochs, overridden")
    ap.add_argument("--limit", type=int, default=None, help="first N training images only")
    ap.add_argument("--width", type=float, default=None, help="the recipe's width, overridden")
    ap.add_argument("--val-size", type=int, default=None, help="the recipe's validation hold-out, overridden")
    ap.add_argument("--batch-size", type=int, default=None, help="the recipe's batch size, overridden")
    ap.add_argument("--threads", type=int, default=2, help="threads for PyTorch and numpy (default 2)")
    ap.add_argument("--json", default=None, help="write the run (history, test accuracy, times) here")
    ap.add_argument("--smoke", action="store_true", help="the sample data, width 1/16, 1 epoch of 256 images")
    args = ap.parse_args(argv)
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    clean_environment(ARGS.threads)

import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vgglib.atomicfile import atomic_write  # noqa: E402
from vgglib.mnist import load_mnist  # noqa: E402
from vgglib.preprocess import train_val_split  # noqa: E402
from vgglib.recipes import get_recipe  # noqa: E402


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(args: argparse.Namespace) -> dict:
    try:
        import torch
    except ImportError:
        sys.exit("torch_recipe.py needs PyTorch: .venv/bin/pip install -e '.[bench]' (see benchmarks/README.md)")

    torch.set_num_threads(args.threads)
    changes = {"seed": args.seed, "epochs": args.epochs, "limit": args.limit, "width": args.width}
    changes.update(val_size=args.val_size, batch_size=args.batch_size)  # the flags of `python -m vgglib train`
    if args.smoke:
        changes.update(data="sample", width=1 / 16, epochs=1, limit=256, val_size=64)
    recipe = get_recipe(args.recipe).replace(**changes)
    X, y = load_mnist("train", source=recipe.data, data_dir=args.data_dir)
    Xt, yt = load_mnist("test", source=recipe.data, data_dir=args.data_dir)
    if recipe.limit:
        X, y = X[: recipe.limit], y[: recipe.limit]
    val = None
    if recipe.val_size:
        (X, y), val = train_val_split(X, y, recipe.val_size)
    model = recipe.build_model()  # vgglib's: the initial weights, and the batch preparation
    net = torch_model(model)
    torch.manual_seed(recipe.seed)
    params = net.parameters()
    names = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
    extra = {"momentum": recipe.momentum} if recipe.optimizer == "sgd" else {}  # as Recipe.build_optimizer
    opt = getattr(torch.optim, names[recipe.optimizer])(params, lr=recipe.lr, weight_decay=recipe.weight_decay, **extra)
    schedule, augment = recipe.build_schedule(), recipe.build_augment()
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(recipe.seed)
    n, bs = len(y), recipe.batch_size
    nb = math.ceil(n / bs)
    split = dict.fromkeys(("network", "augmentation", "preparation", "evaluation"), 0.0)
    history: dict = {k: [] for k in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "time")}

    def timed_augment(x: np.ndarray, g: np.random.Generator) -> np.ndarray:
        t = time.perf_counter()
        out = augment(x, g)
        split["augmentation"] += time.perf_counter() - t
        return out

    def evaluate(Xe: np.ndarray, ye: np.ndarray) -> tuple[float, float]:
        net.eval()
        total, correct = 0.0, 0
        with torch.inference_mode():
            for i in range(0, len(ye), bs):
                xb = torch.from_numpy(model.prepare(Xe[i : i + bs]))
                yb = torch.from_numpy(ye[i : i + bs].astype(np.int64))
                logits = net(xb)
                total += float(loss_fn(logits, yb)) * len(yb)
                correct += int((logits.argmax(1) == yb).sum())
        return total / len(ye), correct / len(ye)

    print(f"PyTorch {torch.__version__}, {args.threads} threads; recipe {recipe.name}: {recipe.describe()}", flush=True)
    t_start = time.perf_counter()
    for epoch in range(recipe.epochs):
        t_epoch = time.perf_counter()
        perm = rng.permutation(n)
        run_loss, run_correct = 0.0, 0
        net.train()
        for b in range(nb):
            idx = perm[b * bs : (b + 1) * bs]
            t0 = time.perf_counter()
            aug_before = split["augmentation"]
            xb = torch.from_numpy(model.prepare(X[idx], timed_augment if augment is not None else None, rng))
            yb = torch.from_numpy(y[idx].astype(np.int64))
            t1 = time.perf_counter()
            split["preparation"] += t1 - t0 - (split["augmentation"] - aug_before)
            for group in opt.param_groups:
                group["lr"] = float(schedule(epoch + b / nb, recipe.epochs))
            opt.zero_grad(set_to_none=True)
            logits = net(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            run_loss += float(loss.detach()) * len(idx)
            run_correct += int((logits.detach().argmax(1) == yb).sum())
            split["network"] += time.perf_counter() - t1
        t0 = time.perf_counter()
        vl, va = evaluate(*val) if val is not None else (None, None)
        split["evaluation"] += time.perf_counter() - t0
        for key, value in zip(
            history, (epoch + 1, run_loss / n, run_correct / n, vl, va, time.perf_counter() - t_epoch)
        ):
            history[key].append(value)
        shown = "" if va is None else f", val accuracy {va:.2%}"
        took = history["time"][-1]
        print(f"epoch {epoch + 1}/{recipe.epochs}: loss {run_loss / n:.4f}{shown} ({took:.0f} s)", flush=True)
    elapsed = time.perf_counter() - t_start
    t0 = time.perf_counter()
    test_loss, test_acc = evaluate(Xt, yt)
    test_s = time.perf_counter() - t0
    split["other"] = max(elapsed - sum(split.values()), 0.0)
    parts = ", ".join(f"{k} {100 * v / elapsed:.0f}%" for k, v in split.items())
    print(f"test accuracy {test_acc:.2%} ({len(yt):,} images) after {recipe.epochs} epochs, {elapsed:.0f} s training")
    print(f"time {elapsed:.0f} s: {parts}", flush=True)
    return {
        "framework": "torch",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "threads": args.threads,
        "env": {k: os.environ.get(k) for k in (*PINNING_VARS, *THREAD_VARS)},
        "recipe": recipe.as_dict(),
        "history": {**history, "elapsed": elapsed, "time_split": split},
        "test": {"loss": test_loss, "accuracy": test_acc, "n": len(yt), "seconds": test_s},
        "wall_time": elapsed,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    res = run(ARGS)
    if ARGS.json:
        path = Path(ARGS.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(res, indent=1) + "\n"
        atomic_write(path, lambda f: f.write(text.encode("utf-8")))
        print(f"JSON written to {path}")


if __name__ == "__main__":
    main()
