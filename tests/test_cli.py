"""The command line: python -m vgglib summary|train|evaluate; clear one-line errors; recipes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vgglib.__main__ import main
from vgglib.recipes import RECIPES, Recipe, get_recipe, parse_augment, register

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--width", "0.0625", "--limit", "64", "--test-limit", "40", "--batch-size", "16", "--no-progress"]


def cli(*args, cwd=None):
    """Run ``python -m vgglib ARGS`` in a fresh process (the way a user does)."""
    env = {k: v for k, v in os.environ.items() if k != "VGGLIB_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "vgglib", *map(str, args)],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_lists_the_commands():
    r = cli("--help")
    assert r.returncode == 0
    assert all(c in r.stdout for c in ("summary", "train", "evaluate"))
    r = cli("train", "--help")
    assert r.returncode == 0 and "--recipe" in r.stdout and "mnist-vgg16" in r.stdout and "--resume" in r.stdout


def test_summary(capsys):
    assert main(["summary", "--input-size", "224", "--in-channels", "3", "--num-classes", "1000"]) == 0
    out = capsys.readouterr().out
    assert "138,357,544" in out and "15.47 GMAC" in out and "15,237,608" in out
    assert main(["summary"]) == 0
    assert "39,928,522" in capsys.readouterr().out


def test_train_evaluate_resume(tmp_path, capsys):
    out, log = tmp_path / "w.npz", tmp_path / "runs" / "h.json"
    assert main(["train", *TINY, "--epochs", "1", "--val-size", "16", "--out", str(out), "--log", str(log)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("test accuracy ") and "/40 sample MNIST test images" in lines[-1]
    assert lines[-2].startswith("time ") and "network" in lines[-2] and "evaluation" in lines[-2]  # the split
    assert any(line.startswith("epoch 1/1: loss") and "val accuracy" in line for line in lines)
    stored = json.loads(log.read_text())
    assert stored["history"]["epoch"] == [1] and stored["test"]["n"] == 40
    assert stored["recipe"]["limit"] == 64 and stored["recipe"]["val_size"] == 16
    assert stored["versions"]["numpy"] and stored["machine"]["cpus"] and "--limit 64" in stored["command"]
    assert len(stored["test"]["confusion"]) == 10
    assert stored["history"]["time_split"]["network"] > 0
    accuracy = stored["test"]["accuracy"]

    assert main(["evaluate", "--weights", str(out), "--limit", "40"]) == 0
    text = capsys.readouterr().out
    assert f"test accuracy {accuracy:.2%}" in text and "confusion matrix" in text

    # --resume continues the same run to more epochs
    assert (
        main(["train", *TINY, "--epochs", "2", "--val-size", "16", "--out", str(out), "--resume", "--log", str(log)])
        == 0
    )
    assert "Resuming from" in capsys.readouterr().err
    assert json.loads(log.read_text())["history"]["epoch"] == [1, 2]


def test_recipe_with_overrides(tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert (
        main(
            [
                "train",
                "--recipe",
                "mnist-vgg16",
                "--data",
                "sample",
                *TINY,
                "--epochs",
                "1",
                "--val-size",
                "16",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "Recipe mnist-vgg16" in text and "augment shift:2,rotate:10" in text and "width 0.0625" in text
    assert "test accuracy" in text.strip().splitlines()[-1]
    assert main(["train", "--list-recipes"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in ("sample", "mnist-vgg16", "mnist-vgg16-64"))


@pytest.mark.parametrize(
    "args, status, message",
    [
        (["train", "--input-size", "48"], 2, "multiple of 32"),
        (["train", "--epochs", "many"], 2, "--epochs"),
        (["train", "--optimizer", "lbfgs"], 2, "invalid choice"),
        (["train", "--recipe", "nope", "--limit", "8"], 1, "unknown recipe 'nope'"),
        (["train", "--augment", "spin:3", "--limit", "8"], 1, "unknown augmentation 'spin'"),
        (["train", "--limit", "8", "--val-size", "8"], 1, "--val-size 8 leaves no training images"),
        (["evaluate"], 2, "--weights"),
        (["evaluate", "--weights", "missing.npz"], 1, "checkpoint not found: missing.npz"),
        (["evaluate", "--weights", "README.md"], 1, "not a vgglib checkpoint"),
    ],
)
def test_bad_arguments_and_files_give_one_clear_line(args, status, message):
    r = cli(*args)
    assert r.returncode == status, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vgglib") and message in lines[0], r.stderr


def test_missing_full_data_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("VGGLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty user cache
    r = cli("train", "--data", "full", "--data-dir", tmp_path / "nowhere")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("vgglib train: error: MNIST files") and "nowhere" in r.stderr


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "summary" in capsys.readouterr().out


def test_recipes_registry():
    r = get_recipe("mnist-vgg16")
    assert (r.input_size, r.resize_method, r.data, r.val_size) == (32, "pad", "full", 5000)
    assert get_recipe("mnist-vgg16-64").resize_method == "zoom"
    assert r.replace(width=None, epochs=2).epochs == 2 and r.replace(width=None).width == r.width
    model = r.replace(width=0.0625).build_model()
    assert model.input_shape == (1, 32, 32) and model.resize == "pad"
    assert type(r.build_optimizer()).__name__ == "Adam" and type(r.build_schedule()).__name__ == "CosineLR"
    assert repr(r.build_augment()) == "Compose([RandomShift(max_shift=2), RandomRotation(max_degrees=10.0)])"
    with pytest.raises(ValueError, match="exists already"):
        register(Recipe("sample"))
    try:
        register(Recipe("test-only", data="sample", epochs=1))
        assert get_recipe("test-only").epochs == 1
    finally:
        RECIPES.pop("test-only", None)
    with pytest.raises(ValueError, match="optimizer must be one of adam, adamw, sgd, rmsprop, adagrad"):
        Recipe("bad", optimizer="lbfgs")
    from vgglib.optim import SGD, AdamW, RMSprop

    built = Recipe("w", optimizer="adamw", lr=0.002, weight_decay=0.05).build_optimizer()
    assert type(built) is AdamW and (built.lr, built.weight_decay) == (0.002, 0.05)
    sgd = Recipe("s", optimizer="sgd", momentum=0.8).build_optimizer()
    assert type(sgd) is SGD and sgd.momentum == 0.8
    rms = Recipe("r", optimizer="rmsprop", lr=0.01).build_optimizer()
    assert type(rms) is RMSprop and rms.momentum == 0.0  # momentum is SGD's only
    assert "; AdamW lr 0.002 cosine, weight decay 0.05;" in Recipe("w", optimizer="adamw", lr=0.002,
                                                                  weight_decay=0.05).describe()  # fmt: skip
    assert parse_augment("none") is None and parse_augment("") is None
    with pytest.raises(ValueError, match="needs a value"):
        parse_augment("shift")
