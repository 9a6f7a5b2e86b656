"""The trained weights shipped for notebook 13 (data/weights/): small, float16, loadable only through vgglib's
safe checkpoint loader into a float32 model, and as accurate as results/small-weights.json (and the README next to
the weights) say. Made by tools/train_small_weights.py."""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vgglib import checkpoint
from vgglib.mnist import load_mnist
from vgglib.model import VGG16
from vgglib.train import evaluate

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "data" / "weights" / "vgg16_small_mnist_fp16.npz"
RESULTS = ROOT / "results" / "small-weights.json"
README = WEIGHTS.parent / "README.md"


@pytest.fixture(scope="module")
def results():
    return json.loads(RESULTS.read_text())


@pytest.fixture(scope="module")
def model():
    m = VGG16(input_size=32, width=0.125, dropout=0.5)
    checkpoint.load(WEIGHTS, model=m)
    return m


def test_the_file_is_small_float16_weights_without_pickles(results):
    assert WEIGHTS.stat().st_size < 5_000_000
    with zipfile.ZipFile(WEIGHTS) as z:
        assert all(name.endswith(".npy") for name in z.namelist())
    header, arrays = checkpoint.read(WEIGHTS)  # the safe reader: validates every member before use
    assert {info["dtype"] for info in header["params"].values()} == {"float16"}
    assert header["optimizer"] is None and not [k for k in arrays if k.startswith("optim/")]
    assert header["arch"] == VGG16(input_size=32, width=0.125, dropout=0.5).config() == results["architecture"]
    assert results["bytes"] == WEIGHTS.stat().st_size
    assert results["sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()


def test_it_loads_into_a_float32_model_through_the_safe_loader(model):
    header, arrays = checkpoint.read(WEIGHTS)
    assert model.dtype == np.float32
    for p in model.parameters():
        assert p.value.dtype == np.float32
        np.testing.assert_array_equal(p.value, arrays[f"param/{p.name}"].astype(np.float32))
    # without a model the loader builds a float16 one: it works, but the notebook does not want it
    assert checkpoint.load(WEIGHTS).model.dtype == np.float16


def test_the_recorded_accuracy_reaches_99_percent_and_the_readme_agrees(results):
    test = results["test"]
    assert test["n"] == 10_000 and test["accuracy"] >= 0.99
    assert test["correct"] == round(test["accuracy"] * 10_000) == int(np.trace(np.array(test["confusion"])))
    assert results["dtype"] == "float16" and results["seed"] == 0 and results["recipe"]["width"] == 0.125
    text = README.read_text()
    assert f"**{test['accuracy']:.2%}**" in text and f"{test['correct']:,}/10,000" in text
    assert results["sha256"] in text and results["train_command"] in text
    for key in ("trained", "train_command", "made_by", "epochs"):
        assert results[key], key
    top = (WEIGHTS.parents[2] / "README.md").read_text()  # the series table names the accuracy too
    assert f"(shipped weights, {test['accuracy']:.2%} on the test set)" in top


def test_the_sample_accuracy_is_what_the_file_gives(results, model):
    X, y = load_mnist("test")
    result = evaluate(model, X, y)
    assert result["n"] == results["sample_test"]["n"] == 1000
    assert abs(round(result["accuracy"] * 1000) - results["sample_test"]["correct"]) <= 1


@pytest.mark.slow
def test_the_full_test_accuracy_is_what_the_file_says(results, model, full_dir):
    X, y = load_mnist("test", "full", full_dir)
    result = evaluate(model, X, y, batch_size=250)
    assert abs(round(result["accuracy"] * 10_000) - results["test"]["correct"]) <= 2


def test_the_drawing_pad_reads_simple_strokes_with_these_weights(model):
    """A vertical bar is a 1 and a closed loop a 0 — for the trained network, after the MNIST conversion."""
    from vgglib import widgets

    pad = widgets.drawing_pad(model)
    pad.draw([[(140, 30), (140, 250)]])
    assert pad.state["prediction"] == 1, pad.state["probs"].round(2)
    pad.clear()
    t = np.linspace(0, 2 * np.pi, 60)
    pad.draw([np.stack([140 + 70 * np.sin(t), 140 - 100 * np.cos(t)], axis=1)])
    assert pad.state["prediction"] == 0, pad.state["probs"].round(2)
