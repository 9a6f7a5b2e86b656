"""The full-scale recipe (``python -m vgglib train --recipe mnist-vgg16``) runs end to end on a tiny slice."""
from __future__ import annotations

import json
import re

import numpy as np

from vgglib.__main__ import main


def test_recipe_runs_end_to_end_on_a_tiny_slice(full_dir, tmp_path, capsys):
    log, out = tmp_path / "history.json", tmp_path / "run.npz"
    status = main(["train", "--recipe", "mnist-vgg16", "--data-dir", str(full_dir), "--limit", "192",
                   "--val-size", "64", "--width", "0.0625", "--epochs", "1", "--test-limit", "100",
                   "--no-progress", "--out", str(out), "--log", str(log)])
    assert status in (0, None)
    assert re.search(r"test accuracy \d+\.\d+%", capsys.readouterr().out)
    history = json.loads(log.read_text())
    assert history["recipe"]["name"] == "mnist-vgg16" and history["recipe"]["width"] == 0.0625
    assert history["history"]["epoch"] == [1] and len(history["history"]["val_accuracy"]) == 1
    assert history["test"]["n"] == 100 and np.array(history["test"]["confusion"]).sum() == 100
    assert out.is_file()
