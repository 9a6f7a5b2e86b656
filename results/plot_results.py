"""Draw the stored full-run results as one figure: ``results/mnist-vgg16/curves.png``.

    .venv/bin/python results/plot_results.py [results/mnist-vgg16/history.json]

Reads the history JSON that ``python -m vgglib train --recipe mnist-vgg16 --log ...`` writes (per-epoch curves,
every batch's loss, the test confusion matrix) and draws it with :mod:`vgglib.viz`. No weights are needed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from vgglib.viz import plot_confusion_matrix  # noqa: E402


def main(path: Path) -> Path:
    run = json.loads(path.read_text())
    history, test = run["history"], run.get("test")
    fig = plt.figure(figsize=(14, 4.6), dpi=90)
    ax_batch, ax_epoch, ax_cm = fig.add_subplot(1, 3, 1), fig.add_subplot(1, 3, 2), fig.add_subplot(1, 3, 3)
    batches = history["batch_loss"]
    per_epoch = len(batches) / max(1, len(history["epoch"]))
    x = [(i + 1) / per_epoch for i in range(len(batches))]
    ax_batch.plot(x, batches, lw=0.3, alpha=0.4, color="tab:blue")
    window = max(5, int(per_epoch // 10))  # a tenth of an epoch
    smooth = np.convolve(batches, np.ones(window) / window, mode="valid")
    ax_batch.plot(x[window - 1 :], smooth, lw=1.2, color="tab:blue", label=f"mean of {window} batches")
    ax_batch.legend(fontsize=8)
    ax_batch.set_yscale("log")
    ax_batch.set_xlabel("epoch")
    ax_batch.set_title("training loss of every batch")
    epochs = history["epoch"]
    for key, style in (("train_accuracy", "o-"), ("val_accuracy", "s--")):
        ax_epoch.plot(epochs, [100 * (1 - a) for a in history[key]], style, label=key.replace("_accuracy", ""))
    if test:
        ax_epoch.axhline(100 * (1 - test["accuracy"]), color="tab:red", lw=0.8, label="test (final)")
    ax_epoch.axhline(0.5, color="gray", lw=0.8, ls=":", label="0.5% (the 99.5% bar)")
    ax_epoch.set_yscale("log")
    ax_epoch.set_xlabel("epoch")
    ax_epoch.set_ylabel("error rate (%)")
    ax_epoch.set_title("per epoch: error rate (train with augmentation and dropout)")
    ax_epoch.legend(fontsize=8)
    if test:
        plot_confusion_matrix(
            test["confusion"], ax=ax_cm, title=f"test set: {100 * test['accuracy']:.2f}% of {test['n']:,}"
        )
    else:
        ax_cm.axis("off")
        ax_cm.set_title("test set: not evaluated yet")
    recipe = run["recipe"]
    fig.suptitle(
        f"recipe {recipe['name']}: VGG16 {recipe['input_size']}×{recipe['input_size']}, width "
        f"{recipe['width']:g}, {len(history['epoch'])} epochs, {run.get('wall_time', history['elapsed']) / 60:.0f} min"
    )
    fig.tight_layout()
    out = path.with_name("curves.png")
    fig.savefig(out)
    return out


def readme_row(path: Path) -> str:
    """The README results-table row for a finished run (tests/test_results.py checks the README against it)."""
    run = json.loads(path.read_text())
    h = run["history"]
    rate = h["n_train"] * len(h["epoch"]) / sum(h["time"])
    return (
        f"| `{run['recipe']['name']}` | {100 * run['test']['accuracy']:.2f}% | {len(h['epoch'])} | "
        f"{run['wall_time'] / 60:.0f} min | {rate:.0f} |"
    )


if __name__ == "__main__":
    history_path = Path(sys.argv[1] if len(sys.argv) > 1 else "results/mnist-vgg16/history.json")
    print("wrote", main(history_path))
    if "test" in json.loads(history_path.read_text()):
        print("README row:", readme_row(history_path))
