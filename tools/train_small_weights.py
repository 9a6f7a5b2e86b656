"""Train the small VGG16 whose weights notebook 13 explores, and ship them as a float16 checkpoint.

    VGGLIB_DATA=/path/to/mnist python tools/train_small_weights.py          # train (resumable), then export
    python tools/train_small_weights.py --data-dir DIR --export-only         # export an existing run again

Step 1 trains with vgglib's own command line (``python -m vgglib train``): the recipe ``mnist-vgg16`` (full
MNIST, 32x32 input, Adam with cosine decay, shifts and rotations, the last 5,000 training images held out for
validation, seed 0) at width 1/8 and ``EPOCHS`` epochs. The run is checkpointed to ``runs/small-weights/`` every
epoch and every 200 batches; the same command continues an interrupted run (``--resume``).

Step 2 exports: it converts the trained weights to float16 (``model.astype``) and saves them, without optimizer
state, with :func:`vgglib.checkpoint.save` to ``data/weights/vgg16_small_mnist_fp16.npz``; loads that file back
through :func:`vgglib.checkpoint.load` into a float32 model (the safe loader: no pickle; float16 weights are
copied into the float32 parameters); measures that model on the full 10,000-image test set and on the embedded
1,000-image sample; and writes ``results/small-weights.json`` and ``data/weights/README.md`` (provenance).
``tests/test_small_weights.py`` checks the file, its size and the recorded numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a clone without installing

from vgglib import __version__, checkpoint  # noqa: E402
from vgglib.__main__ import main as vgglib_main  # noqa: E402
from vgglib.mnist import load_mnist  # noqa: E402
from vgglib.model import VGG16  # noqa: E402
from vgglib.train import evaluate  # noqa: E402

RECIPE = "mnist-vgg16"
WIDTH = 0.125
EPOCHS = 8
RUN_DIR = REPO / "runs" / "small-weights"
RUN_CHECKPOINT = RUN_DIR / "train.npz"
RUN_LOG = RUN_DIR / "history.json"
WEIGHTS = REPO / "data" / "weights" / "vgg16_small_mnist_fp16.npz"
RESULTS = REPO / "results" / "small-weights.json"
README = WEIGHTS.parent / "README.md"
MAX_BYTES = 5_000_000


def train_argv(data_dir: str | None) -> list[str]:
    """The ``python -m vgglib train`` arguments of step 1."""
    argv = ["train", "--recipe", RECIPE, "--width", str(WIDTH), "--epochs", str(EPOCHS)]
    argv += ["--out", str(RUN_CHECKPOINT.relative_to(REPO)), "--log", str(RUN_LOG.relative_to(REPO))]
    argv += ["--no-progress", "--checkpoint-every", "200", "--resume"]
    if data_dir:
        argv += ["--data-dir", data_dir]
    return argv


def architecture() -> VGG16:
    """The float32 model the shipped weights load into (the recipe's architecture at width 1/8)."""
    return VGG16(input_size=32, width=WIDTH, dropout=0.5, resize="pad")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(data_dir: str | None) -> dict:
    """Step 2: float16 weights, reloaded through the safe loader and measured; the results file and README."""
    trained = checkpoint.load(RUN_CHECKPOINT)
    run = trained.meta.get("run", {})
    history = json.loads(RUN_LOG.read_text())["history"] if RUN_LOG.is_file() else {}
    X_test, y_test = load_mnist("test", "full", data_dir)
    X_sample, y_sample = load_mnist("test")
    float32_accuracy = evaluate(trained.model, X_test, y_test)["accuracy"]

    half = trained.model.astype(np.float16)
    recipe = run.get("recipe", {})
    meta = {
        "what": "VGG16 at width 1/8, 32x32 input (28x28 padded), trained on full MNIST; the model of notebook 13",
        "recipe": recipe,
        "command": run.get("command"),
        "trained": run.get("started"),
        "made_by": "tools/train_small_weights.py",
    }
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.save(WEIGHTS, half, meta=meta)

    model = architecture()  # float32
    checkpoint.load(WEIGHTS, model=model)
    assert model.dtype == np.float32
    full = evaluate(model, X_test, y_test)
    sample = evaluate(model, X_sample, y_sample)
    size = WEIGHTS.stat().st_size
    assert size < MAX_BYTES, f"{WEIGHTS} is {size:,} bytes, over {MAX_BYTES:,}"
    results = {
        "weights": str(WEIGHTS.relative_to(REPO)),
        "bytes": size,
        "sha256": sha256(WEIGHTS),
        "dtype": "float16",
        "architecture": model.config(),
        "parameters": model.num_params(),
        "recipe": recipe,
        "epochs": EPOCHS,
        "seed": recipe.get("seed"),
        "train_command": run.get("command"),
        "made_by": "VGGLIB_DATA=<folder of the four MNIST files> python tools/train_small_weights.py",
        "trained": run.get("started"),
        "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "train_wall_time_s": round(float(history.get("elapsed", 0.0)), 1),
        "val_accuracy_per_epoch": history.get("val_accuracy"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "vgglib": __version__},
        "test": {
            "data": "full MNIST test set (t10k, 10,000 images)",
            "n": full["n"],
            "accuracy": full["accuracy"],
            "correct": int(round(full["accuracy"] * full["n"])),
            "loss": full["loss"],
            "confusion": full["confusion"].tolist(),
            "accuracy_float32_before_export": float32_accuracy,
        },
        "sample_test": {
            "data": "embedded sample (the first 1,000 test images)",
            "n": sample["n"],
            "accuracy": sample["accuracy"],
            "correct": int(round(sample["accuracy"] * sample["n"])),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    README.write_text(readme(results))
    return results


def readme(r: dict) -> str:
    t, s, rec = r["test"], r["sample_test"], r["recipe"]
    val = ", ".join(f"{v:.2%}" for v in (r["val_accuracy_per_epoch"] or []))
    rows = [
        (
            "architecture",
            "`VGG16(input_size=32, width=0.125, dropout=0.5)`: 13 conv layers with 8-16-32-64-64 filters, 512 hidden "
            f"units, {r['parameters']:,} parameters",
        ),
        ("file", f"{r['bytes']:,} bytes, float16 weights only (no optimizer state), sha256 `{r['sha256']}`"),
        (
            "data",
            "full MNIST: the first 55,000 training images (the last 5,000 held out for validation), from the four "
            "original files (`VGGLIB_DATA`)",
        ),
        (
            "recipe",
            f"`{RECIPE}` (Adam, lr {rec.get('lr')}, cosine decay, batch {rec.get('batch_size')}, augmentation "
            f"`{rec.get('augment')}`, dropout {rec.get('dropout')}) at width {rec.get('width')}, {r['epochs']} "
            f"epochs, seed {r['seed']}",
        ),
        ("training command", f"`{r['train_command']}`"),
        ("made by", f"`{r['made_by']}` (trains with the command above, then converts to float16 and measures)"),
        (
            "trained",
            f"{r['trained']} ({r['train_wall_time_s'] / 60:.0f} min on {r['machine']['cpus']} shared CPU cores)",
        ),
        ("validation accuracy per epoch", val),
        (
            "**test accuracy**",
            f"**{t['accuracy']:.2%}** ({t['correct']:,}/{t['n']:,}: the full MNIST test set, the float16 weights "
            f"loaded into a float32 model; {t['accuracy_float32_before_export']:.2%} before the conversion)",
        ),
        ("embedded sample test set", f"{s['accuracy']:.2%} ({s['correct']:,}/{s['n']:,}; notebook 13 measures it)"),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return f"""# Shipped weights

`vgg16_small_mnist_fp16.npz`: a small trained VGG16 for notebook 13 (feature maps and the drawing pad), so that
the notebook explores a network that has really learnt MNIST without training one (which takes many minutes).

| | |
| --- | --- |
{table}

All numbers are in `results/small-weights.json` (written by the script; `tests/test_small_weights.py` checks
them and this file). Load the weights with vgglib's safe loader into a float32 model:

```python
from vgglib import checkpoint
from vgglib.model import VGG16

model = VGG16(input_size=32, width=0.125, dropout=0.5)
checkpoint.load("data/weights/vgg16_small_mnist_fp16.npz", model=model)  # float16 -> float32, no pickle
```

(`checkpoint.load(path)` without a model would build a float16 model: slower and less precise in numpy.)
The MNIST data: Yann LeCun, Corinna Cortes and Christopher J. C. Burges (CC BY-SA 3.0).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="folder of the four original MNIST files (default: $VGGLIB_DATA)")
    parser.add_argument("--export-only", action="store_true", help="skip training: export the finished run")
    args = parser.parse_args(argv)
    os.chdir(REPO)
    if not args.export_only:
        status = vgglib_main(train_argv(args.data_dir))
        if status:
            return status
    r = export(args.data_dir)
    print(
        f"wrote {r['weights']} ({r['bytes']:,} bytes): test accuracy {r['test']['accuracy']:.2%} "
        f"({r['test']['correct']:,}/{r['test']['n']:,}); sample {r['sample_test']['accuracy']:.2%}; "
        f"{RESULTS.relative_to(REPO)} and {README.relative_to(REPO)} written",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
