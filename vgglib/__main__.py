"""The command line: ``python -m vgglib summary|train|evaluate`` (also installed as the ``vgglib`` command).

``python -m vgglib train`` with no flags trains a small VGG16 on the embedded MNIST sample in a few minutes and
prints the test accuracy. ``--recipe NAME`` picks a preset from :mod:`vgglib.recipes` (``--list-recipes``);
any flag given explicitly overrides the recipe. Long runs: ``--out`` is checkpointed after every epoch;
Ctrl-C saves and stops; run the same command with ``--resume`` to continue. ``--log`` writes the history
(with the command, machine and package versions) as JSON after every epoch.

Bad arguments, missing files and damaged checkpoints end with one ``vgglib ...: error: ...`` message and a
non-zero exit status, no traceback (set ``VGGLIB_DEBUG=1`` to see one). ``train`` checks before it loads any
data: augmentation values (finite, in range), ``--data-dir`` (only with full data), ``--out`` and ``--log``
(different files, both writable; an existing ``--out`` must be a checkpoint) and, with ``--resume``, that the
stored run had the same settings (only ``--epochs`` may change). ``--epochs 0`` writes the untrained weights to
``--out``. Documented in the README and used in ``notebooks/09_training_vgg16_on_mnist.ipynb``.

``python -m vgglib coursework build|grade`` is for instructors (graded releases of the exercises, grading
submissions): :mod:`vgglib.coursework`, imported only when it runs, with the ``instructor`` extra.

Why one module: the three commands share one parser, its argument types and the one-line error handling; each
command is a short function that calls the library.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, cast

__all__ = ["main", "build_parser", "run_info"]


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _CLIError(Exception):
    """An error to report as one line (exit status 1)."""


def _parsed(text: str, kind: type[int] | type[float], words: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None


def _int_at_least(minimum: int, words: str) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum`` (``words`` says so in the error)."""

    def parse(text: str) -> int:
        value = _parsed(text, int, words)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {words}, got {value}")
        return int(value)

    return parse


def _float_where(ok: Callable[[float], bool], words: str) -> Callable[[str], float]:
    """An argparse type: a float for which ``ok`` holds (``words`` says which in the error)."""

    def parse(text: str) -> float:
        value = _parsed(text, float, "a number")
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {words}, got {value}")
        return float(value)

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_non_negative_int = _int_at_least(0, "an integer >= 0")
_positive_float = _float_where(lambda v: v > 0 and math.isfinite(v), "a finite number > 0")
_non_negative_float = _float_where(lambda v: v >= 0 and math.isfinite(v), "a finite number >= 0")
_probability = _float_where(lambda v: 0 <= v < 1, "a probability in [0, 1)")


def _input_size(text: str) -> int:
    value = _positive_int(text)
    if value % 32:
        raise argparse.ArgumentTypeError(
            f"{value} cannot pass VGG16's five 2x2 poolings: use a multiple of 32 "
            "(32 pads MNIST's 28x28, 64 zooms it like the seed)"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    from .recipes import DEFAULT_RECIPE, OPTIMIZERS, RECIPES

    parser = _Parser(
        prog="vgglib",
        description="VGG16 from scratch in numpy, on MNIST.",
        epilog="Run 'vgglib COMMAND --help' for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser(
        "summary",
        help="print VGG16's layers: shapes, parameters, activations, multiply-adds",
        description="Print the per-layer table of VGG16 (built from its spec: no weights are "
        "allocated), or of the model saved in --weights.",
    )
    s.add_argument("--input-size", type=_input_size, default=64, help="input height = width (default 64)")
    s.add_argument("--in-channels", type=_positive_int, default=1, help="input channels (default 1)")
    s.add_argument("--num-classes", type=_positive_int, default=10, help="classes (default 10)")
    s.add_argument("--width", type=_positive_float, default=1.0, help="channel multiplier (default 1.0)")
    s.add_argument("--weights", metavar="PATH", help="summarise the architecture saved in this checkpoint")

    t = sub.add_parser(
        "train",
        help="train VGG16 on MNIST and report the test accuracy",
        description="Train VGG16 on MNIST. Without flags: the '" + DEFAULT_RECIPE + "' recipe on "
        "the embedded sample, a few minutes. Flags override the recipe.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="recipes:\n" + "\n".join(f"  {name:<16} {r.description}" for name, r in RECIPES.items()),
    )
    t.add_argument("--recipe", default=DEFAULT_RECIPE, help=f"preset to start from (default {DEFAULT_RECIPE})")
    t.add_argument("--list-recipes", action="store_true", help="list the recipes with their settings and exit")
    t.add_argument("--data", choices=["sample", "full"], help="embedded sample, or the full MNIST files")
    t.add_argument(
        "--data-dir", metavar="DIR", help="where the full MNIST files are, with --data full (else $VGGLIB_DATA, cache)"
    )
    t.add_argument("--input-size", type=_input_size, help="32 (pad 28->32) or 64 (zoom, the seed's)")
    t.add_argument("--width", type=_positive_float, help="channel multiplier of VGG16 (1.0 = the original)")
    t.add_argument("--dropout", type=_probability, help="dropout probability after fc1 and fc2")
    t.add_argument("--epochs", type=_non_negative_int, help="number of epochs")
    t.add_argument("--batch-size", type=_positive_int, help="mini-batch size")
    t.add_argument("--optimizer", choices=list(OPTIMIZERS), help="optimizer (momentum: SGD only)")
    t.add_argument("--lr", type=_positive_float, help="(initial) learning rate")
    t.add_argument("--momentum", type=_probability, help="SGD momentum")
    t.add_argument("--weight-decay", type=_non_negative_float, help="L2 weight decay")
    t.add_argument("--schedule", choices=["constant", "step", "cosine"], help="learning-rate schedule")
    t.add_argument(
        "--augment",
        nargs="?",
        const="shift:2,rotate:10",
        metavar="SPEC",
        help="augment training batches: SPEC like shift:2,rotate:10,zoom:0.1 (the default when the "
        "flag has no value; shift 0..27 pixels, rotate 0..180 degrees, zoom 0 <= z < 1, flip 0..1); 'none' to "
        "switch off",
    )
    t.add_argument("--val-size", type=_non_negative_int, help="training images held out for validation")
    t.add_argument("--limit", type=_positive_int, help="use only the first N training images (smoke tests)")
    t.add_argument("--test-limit", type=_positive_int, help="evaluate on the first N test images only")
    t.add_argument("--seed", type=_non_negative_int, help="random seed (weights, order, augmentation, dropout)")
    t.add_argument(
        "--out", metavar="PATH", help="checkpoint file, written every epoch (default runs/vgglib-RECIPE.npz)"
    )
    t.add_argument(
        "--resume", action="store_true", help="continue from --out if it exists (same settings; --epochs may change)"
    )
    t.add_argument(
        "--checkpoint-every", type=_positive_int, metavar="N", help="also checkpoint every N batches (long epochs)"
    )
    t.add_argument("--log", metavar="PATH", help="write the history as JSON here after every epoch")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")

    e = sub.add_parser(
        "evaluate",
        help="evaluate a saved model on the MNIST test set",
        description="Load a checkpoint and report its test accuracy and confusion matrix.",
    )
    e.add_argument("--weights", required=True, metavar="PATH", help="checkpoint written by train")
    e.add_argument("--data", choices=["sample", "full"], default="sample", help="test set (default sample)")
    e.add_argument("--data-dir", metavar="DIR", help="where the full MNIST files are, with --data full")
    e.add_argument("--batch-size", type=_positive_int, default=64, help="batch size (default 64)")
    e.add_argument("--limit", type=_positive_int, help="evaluate on the first N test images only")
    _add_coursework_parser(sub)
    return parser


def _add_coursework_parser(sub: Any) -> None:
    """``coursework build|grade`` (instructors; vgglib/coursework.py, imported only when the command runs)."""
    c = sub.add_parser(
        "coursework",
        help="instructors: build graded releases of the exercises, grade submissions (otter-grader)",
        description="Graded coursework from the notebooks' exercises (needs pip install -e '.[instructor]'). "
        "README, 'For instructors'.",
    )
    actions = c.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
    b = actions.add_parser(
        "build",
        help="build a release: student notebooks, autograders with hidden tests, Gradescope zips",
        description="Build a release in OUT from the lesson sources (notebooks/_src/) and the hidden tests "
        "(coursework/hidden/): OUT/student/ to hand out, OUT/autograder/ to keep.",
    )
    b.add_argument("out", metavar="OUT", help="folder for the release (new, empty, or an earlier release)")
    b.add_argument("--notebooks", metavar="NN,NN", help="notebooks to include, e.g. 04,06 (default: the course file's)")
    b.add_argument("--points", metavar="FILE", help="TOML file whose [points] override the course file's")
    b.add_argument("--config", metavar="FILE", help="course file (default coursework/course.toml of the checkout)")
    b.add_argument("--repo", metavar="DIR", help="the vgglib checkout with notebooks/_src (default: found)")
    b.add_argument("--verify", action="store_true", help="grade the solved notebooks afterwards: full marks or fail")
    g = actions.add_parser(
        "grade",
        help="grade submissions locally and print each question's points and why a test failed",
        description="Grade notebooks with a release's autograders (locally, no Docker).",
    )
    g.add_argument("release", metavar="RELEASE", help="a folder written by coursework build")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION", help="a notebook, or a folder of notebooks")
    g.add_argument("--csv", metavar="FILE", help="also write one row of scores per submission to FILE")
    g.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help="grade N submissions at once (default 1)")
    g.add_argument(
        "--timeout",
        type=_non_negative_float,
        default=None,
        metavar="SECONDS",
        help="stop a submission still grading after SECONDS, with its kernel, and report it (default 600; 0: none)",
    )


def _cmd_coursework(args: argparse.Namespace) -> int:
    from .coursework import CourseworkError, run_command

    try:
        return run_command(args)
    except CourseworkError as err:
        raise _CLIError(str(err)) from None


def run_info(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Where and how a run happened: command, time, machine, Python and package versions."""
    import numpy as np
    import scipy

    from . import __version__

    cmd = ["python", "-m", "vgglib", *(sys.argv[1:] if argv is None else argv)]
    return {
        "command": " ".join(cmd),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "vgglib": __version__,
        },
    }


def _fmt_time(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{seconds:.1f}s"


def _load(split: Literal["train", "test"], source: str, data_dir: str | None, limit: int | None):
    from .mnist import load_mnist

    # source: Recipe.data or --data, both checked to be "sample" or "full" (and load_mnist checks it again)
    X, y = load_mnist(split, source=cast(Literal["sample", "full"], source), data_dir=data_dir)
    if limit is not None:
        X, y = X[:limit], y[:limit]
    return X, y


def _check_data_dir(data_dir: str | None, data: str, what: str) -> None:
    """``--data-dir`` is read only for the full MNIST files: refuse it for the embedded sample, not ignore it."""
    if data_dir is not None and data != "full":
        raise _CLIError(
            f"--data-dir is only used with the full MNIST files, but {what} uses the embedded sample: "
            "add --data full, or leave out --data-dir"
        )


def _check_outputs(out: Path, log: Path | None) -> None:
    """Before training: ``--out`` and ``--log`` are different files and both can be written."""
    from .checks import check_writable

    if log is not None and log.resolve() == out.resolve():
        raise _CLIError(
            f"--out {out} and --log {log} are the same file: the log would overwrite the checkpoint; "
            "give them different paths"
        )
    check_writable(out, "--out")
    if out.is_file() and not _is_checkpoint(out):
        raise _CLIError(
            f"--out {out} exists and is not a vgglib checkpoint: refusing to overwrite it "
            "(give another --out, or remove the file first)"
        )
    if log is not None:
        check_writable(log, "--log")


def _is_checkpoint(path: Path) -> bool:
    """Whether ``path`` looks like a vgglib checkpoint (a zip with a header entry), without reading its arrays."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return "__header__.npy" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


#: recipe fields that may differ between a run and its --resume (training longer is allowed)
_RESUMABLE_CHANGES = ("name", "description", "epochs")
#: recipe fields that have a train flag of the same name (--batch-size for batch_size); given flags override
_RECIPE_FLAGS = (
    "data",
    "input_size",
    "width",
    "dropout",
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "schedule",
    "augment",
    "val_size",
    "limit",
    "seed",
)


def _check_resume(out: Path, recipe: Any) -> None:
    """``--resume`` continues the run stored in ``out`` only with the same settings (except ``--epochs``).

    A checkpoint without the command line's recipe (written by ``fit`` elsewhere) is left to ``fit``'s checks."""
    from .checkpoint import read
    from .recipes import parse_augment

    if not out.is_file():
        return
    header, _ = read(out)
    run = header.get("meta", {}).get("run")
    stored = run.get("recipe") if isinstance(run, dict) else None
    if not isinstance(stored, dict):
        return
    given = recipe.as_dict()
    differ = []
    for key, value in given.items():
        if key in _RESUMABLE_CHANGES or key not in stored:
            continue
        old = stored[key]
        if key == "augment":
            try:
                same = repr(parse_augment(old)) == repr(parse_augment(value))
            except ValueError:
                same = False
        else:
            same = old == value
        if not same:
            flag = "--" + key.replace("_", "-") if key in _RECIPE_FLAGS else f"{key} (a recipe field)"
            differ.append(
                f"{flag} {old if old not in ('', None) else 'none'} stored, "
                f"{value if value not in ('', None) else 'none'} given"
            )
    if differ:
        raise _CLIError(
            f"cannot --resume {out} with other settings than it was trained with: {'; '.join(differ)} "
            "(only --epochs may change: repeat the stored settings, or give another --out to start a new run)"
        )


def _cmd_summary(args: argparse.Namespace) -> int:
    from .model import VGG16
    from .summarize import summary

    if args.weights:
        from .checkpoint import read

        header, _ = read(args.weights)
        summary(header["arch"])
    else:
        summary(VGG16.spec(args.in_channels, args.num_classes, args.input_size, args.width))
    return 0


def _cmd_train(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    import json

    from .atomicfile import atomic_write
    from .preprocess import train_val_split
    from .recipes import RECIPES, get_recipe
    from .train import JSONLogger, evaluate, fit, format_time_split

    if args.list_recipes:
        for name, r in RECIPES.items():
            print(f"{name}: {r.description}\n    {r.describe()}")
        return 0
    recipe = get_recipe(args.recipe).replace(**{key: getattr(args, key) for key in _RECIPE_FLAGS})
    _check_data_dir(args.data_dir, recipe.data, "--data sample" if args.data else f"recipe {recipe.name}")
    out = Path(args.out) if args.out else Path("runs") / f"vgglib-{recipe.name}.npz"  # folder made on save
    _check_outputs(out, Path(args.log) if args.log else None)
    if args.resume:
        _check_resume(out, recipe)
    X, y = _load("train", recipe.data, args.data_dir, recipe.limit)
    Xt, yt = _load("test", recipe.data, args.data_dir, args.test_limit)
    val = None
    if recipe.val_size:
        if recipe.val_size >= len(y):
            raise _CLIError(f"--val-size {recipe.val_size} leaves no training images out of {len(y)}")
        (X, y), val = train_val_split(X, y, recipe.val_size)
    model = recipe.build_model()
    print(f"Recipe {recipe.name}: {recipe.describe()}", flush=True)
    print(
        f"{model.num_params():,} parameters; {len(y):,} training images"
        + (f", {len(val[1]):,} validation" if val else "")
        + f", {len(yt):,} test; checkpoint {out}",
        flush=True,
    )
    if out.exists() and not args.resume:
        print(
            f"Note: {out} exists and will be overwritten "
            + ("after the first epoch" if recipe.epochs else "with the untrained weights (--epochs 0)")
            + " (--resume continues it instead).",
            flush=True,
        )
    info = {**run_info(argv), "recipe": recipe.as_dict(), "checkpoint": str(out)}
    callbacks: list[Any] = []
    if args.no_progress:  # one line per epoch instead of the bars (good for log files)

        def report(h: dict[str, Any]) -> None:
            val_part = (
                ""
                if h["val_accuracy"][-1] is None
                else f", val loss {h['val_loss'][-1]:.4f}, val accuracy {h['val_accuracy'][-1]:.2%}"
            )
            print(
                f"epoch {h['epoch'][-1]}/{recipe.epochs}: loss {h['train_loss'][-1]:.4f}, accuracy "
                f"{h['train_accuracy'][-1]:.2%}{val_part} ({_fmt_time(h['time'][-1])})",
                flush=True,
            )

        callbacks.append(report)
    if args.log:
        callbacks.append(JSONLogger(args.log, extra=info))
    t0 = time.perf_counter()
    history = fit(
        model,
        (X, y),
        recipe.epochs,
        recipe.batch_size,
        recipe.build_optimizer(),
        val_data=val,
        augment=recipe.build_augment(),
        checkpoint=out,
        resume=args.resume,
        seed=recipe.seed,
        callbacks=callbacks,
        schedule=recipe.build_schedule(),
        progress=not args.no_progress,
        checkpoint_every=args.checkpoint_every,
        meta={"run": info},
    )
    if history["stopped"]:
        print(f"Stopped ({history['stopped']}); continue with the same command and --resume.", flush=True)
        return 130 if history["interrupted"] else 0
    if args.no_progress and history["batch_loss"]:  # where the training time went (with progress on, fit says it)
        print(format_time_split(history), flush=True)
    result = evaluate(model, Xt, yt, batch_size=recipe.batch_size)
    wall = time.perf_counter() - t0
    if args.log:
        test = {
            "loss": result["loss"],
            "accuracy": result["accuracy"],
            "n": result["n"],
            "confusion": result["confusion"].tolist(),
        }
        text = json.dumps({**info, "history": history, "test": test, "wall_time": history["elapsed"]}, indent=1)
        atomic_write(args.log, lambda f: f.write(text.encode("utf-8")))
    correct = int(round(result["accuracy"] * result["n"]))
    weights = f"weights in {out}" if history["batch_loss"] else f"untrained weights (0 epochs) in {out}"
    print(
        f"test accuracy {result['accuracy']:.2%} ({correct:,}/{result['n']:,} {recipe.data} MNIST test images) "
        f"after {len(history['epoch'])} epochs, {_fmt_time(history['elapsed'])} training "
        f"({_fmt_time(wall)} this run); {weights}",
        flush=True,
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .checkpoint import load
    from .train import evaluate

    _check_data_dir(args.data_dir, args.data, "--data sample (the default)")
    ck = load(args.weights)
    Xt, yt = _load("test", args.data, args.data_dir, args.limit)
    result = evaluate(ck.model, Xt, yt, batch_size=args.batch_size)
    conf = result["confusion"]
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("      " + "".join(f"{j:>6}" for j in range(conf.shape[1])))
    for i, row in enumerate(conf):
        print(f"{i:>6}" + "".join(f"{v:>6}" for v in row))
    correct = int(conf.trace())
    print(
        f"test accuracy {result['accuracy']:.2%} ({correct:,}/{result['n']:,} {args.data} MNIST test images), "
        f"loss {result['loss']:.4f}; model {ck.model!r} from {args.weights}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .checkpoint import CheckpointError
    from .train import TrainingDivergedError

    prog = f"vgglib {args.command}"
    try:
        if args.command == "summary":
            return _cmd_summary(args)
        if args.command == "train":
            return _cmd_train(args, argv)
        if args.command == "coursework":
            return _cmd_coursework(args)
        return _cmd_evaluate(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (
        _CLIError,
        CheckpointError,
        TrainingDivergedError,
        FileNotFoundError,
        ValueError,
        TypeError,
        OSError,
    ) as err:
        if os.environ.get("VGGLIB_DEBUG"):
            raise
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
