"""Hostile input to ``python -m vgglib train``/``evaluate``: each is refused before training with ONE clear line on
stderr and a non-zero exit status (never a traceback, never a success that did not happen), or does exactly what
it says (``--epochs 0`` writes the untrained weights)."""

import numpy as np
import pytest
from test_cli import TINY, cli

from vgglib import checkpoint
from vgglib.__main__ import main
from vgglib.recipes import get_recipe


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("VGGLIB_DEBUG", raising=False)  # VGGLIB_DEBUG=1 re-raises instead of the one line


def one_line_error(capsys, args, status=1):
    """Run ``main(args)`` in-process; check the status, nothing on stdout, and exactly one error line."""
    assert main(args) == status
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vgglib ") and ": error: " in lines[0], captured.err
    assert "Traceback" not in captured.err and captured.out == "", captured.out
    return lines[0]


# ----------------------------------------------------------------------------------------- 1. --augment ranges
@pytest.mark.parametrize(
    "spec, message",
    [
        (
            "rotate:nan",
            "augmentation rotate:nan is not a finite number: rotate takes the max degrees, a number in [0, 180]",
        ),
        ("rotate:inf", "rotate:inf is not a finite number"),
        (
            "rotate:1e308",
            "augmentation rotate:1e308 is out of range: rotate takes the max degrees, a number in [0, 180]",
        ),
        ("rotate:-5", "rotate:-5 is out of range"),
        (
            "shift:100000",
            "augmentation shift:100000 is out of range: shift takes the max pixels, an integer in [0, 27]",
        ),
        ("shift:-1", "shift:-1 is out of range"),
        ("shift:2.5", "shift:2.5 is not allowed: shift takes the max pixels, an integer in [0, 27]"),
        ("zoom:1", "zoom:1 is out of range: zoom takes the max relative zoom, a number in [0, 1)"),
        ("zoom:nan", "zoom:nan is not a finite number"),
        ("flip:2", "flip:2 is out of range: flip takes the probability, a number in [0, 1]"),
        ("shift:2,rotate:-inf", "rotate:-inf is not a finite number"),
    ],
)
def test_augment_values_are_checked_when_parsed(capsys, tmp_path, spec, message):
    line = one_line_error(capsys, ["train", *TINY, "--augment", spec, "--out", str(tmp_path / "a.npz")])
    assert line.startswith("vgglib train: error: ") and message in line, line
    assert not (tmp_path / "a.npz").exists()


def test_augment_at_the_edges_of_its_ranges_is_accepted():
    from vgglib.recipes import parse_augment

    assert repr(parse_augment("shift:0,shift:27,rotate:0,rotate:180,zoom:0.99,flip:1")) == (
        "Compose([RandomShift(max_shift=0), RandomShift(max_shift=27), RandomRotation(max_degrees=0.0), "
        "RandomRotation(max_degrees=180.0), RandomZoom(max_zoom=0.99), RandomFlip(p=1.0)])"
    )


def test_a_bad_augment_in_a_real_process_is_one_line():
    r = cli("train", "--augment", "rotate:nan", "--limit", "8")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "vgglib train: error: augmentation rotate:nan is not a finite number: rotate takes the max degrees, "
        "a number in [0, 180], e.g. rotate:10"
    ]


# ----------------------------------------------------------------------------------------- 2. --out == --log
def test_out_and_log_on_the_same_file_are_refused(capsys, tmp_path):
    out = tmp_path / "x.npz"
    line = one_line_error(capsys, ["train", *TINY, "--out", str(out), "--log", str(out)])
    assert line == (
        f"vgglib train: error: --out {out} and --log {out} are the same file: the log would overwrite the "
        "checkpoint; give them different paths"
    )
    (tmp_path / "d").mkdir()
    other_spelling = tmp_path / "d" / ".." / "x.npz"  # the same file after resolving
    line = one_line_error(capsys, ["train", *TINY, "--out", str(out), "--log", str(other_spelling)])
    assert "are the same file" in line
    assert not out.exists()


# ----------------------------------------------------------------------------------------- 3. --epochs 0
def test_epochs_0_writes_the_untrained_weights_and_says_so(capsys, tmp_path):
    out = tmp_path / "e0.npz"
    assert main(["train", *TINY, "--epochs", "0", "--out", str(out)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("test accuracy ") and "after 0 epochs" in last
    assert last.endswith(f"; untrained weights (0 epochs) in {out}"), last
    ck = checkpoint.load(out)
    untrained = get_recipe("sample").replace(width=0.0625).build_model()  # the same seed: the same weights
    assert all(np.array_equal(a.value, b.value) for a, b in zip(ck.model.parameters(), untrained.parameters()))
    assert ck.meta["trainer"]["epoch"] == 0 and ck.meta["run"]["recipe"]["epochs"] == 0


# ----------------------------------------------------------------------------------------- 4. unwritable outputs
@pytest.mark.parametrize("flag", ["--out", "--log"])
def test_unwritable_out_or_log_is_refused_before_training(capsys, tmp_path, flag):
    blocker = tmp_path / "somefile"
    blocker.write_text("a file, not a folder")
    target = blocker / "sub" / "x.npz"
    args = ["train", *TINY, "--out", str(tmp_path / "ok.npz"), flag, str(target)]
    line = one_line_error(capsys, args)  # stdout is empty: no data loaded, no recipe printed, no epoch run
    assert line == f"vgglib train: error: cannot write {flag} {target}: {blocker} is a file, not a folder"
    assert not (tmp_path / "ok.npz").exists()


def test_an_out_that_is_a_folder_is_refused(capsys, tmp_path):
    line = one_line_error(capsys, ["train", *TINY, "--out", str(tmp_path)])
    assert line == f"vgglib train: error: cannot write --out {tmp_path}: it is a folder (give a file name)"


def test_missing_folders_of_out_and_log_are_fine(capsys, tmp_path):
    out, log = tmp_path / "new" / "deeper" / "w.npz", tmp_path / "logs" / "h.json"
    assert main(["train", *TINY, "--epochs", "0", "--out", str(out), "--log", str(log)]) == 0
    assert out.is_file() and log.is_file()
    assert not [p for p in tmp_path.rglob(".vgglib-write-test-*")]  # the probe files are gone


# ----------------------------------------------------------------------------------------- 5. --resume settings
def test_resume_with_other_settings_is_refused_and_the_checkpoint_untouched(capsys, tmp_path):
    out = tmp_path / "r.npz"
    assert main(["train", *TINY, "--epochs", "0", "--out", str(out)]) == 0
    capsys.readouterr()
    before = out.read_bytes()
    line = one_line_error(
        capsys,
        ["train", *TINY, "--out", str(out), "--resume", "--seed", "3", "--lr", "0.01", "--augment", "shift:2"],
    )
    assert line == (
        f"vgglib train: error: cannot --resume {out} with other settings than it was trained with: "
        "--lr 0.001 stored, 0.01 given; --augment none stored, shift:2 given; --seed 0 stored, 3 given "
        "(only --epochs may change: repeat the stored settings, or give another --out to start a new run)"
    )
    tiny_batch = [a if a != "16" else "32" for a in TINY]  # --batch-size 32
    line = one_line_error(capsys, ["train", *tiny_batch, "--out", str(out), "--resume"])
    assert "--batch-size 16 stored, 32 given" in line
    assert out.read_bytes() == before  # nothing rewritten
    # the same settings and more epochs: allowed (training longer), continuing the stored run
    assert main(["train", *TINY, "--epochs", "1", "--out", str(out), "--resume"]) == 0
    captured = capsys.readouterr()
    assert "Resuming from" in captured.err and "after 1 epochs" in captured.out
    assert checkpoint.load(out).meta["run"]["recipe"]["epochs"] == 1


def test_resume_compares_augment_specs_by_meaning(capsys, tmp_path):
    out = tmp_path / "r.npz"
    assert main(["train", *TINY, "--epochs", "0", "--augment", "shift:2,rotate:10", "--out", str(out)]) == 0
    assert (
        main(["train", *TINY, "--epochs", "0", "--augment", "shift:2, rotate:10.0", "--out", str(out), "--resume"]) == 0
    )


# ----------------------------------------------------------------------------------------- 6. --data-dir
def test_data_dir_without_full_data_is_refused(capsys, tmp_path):
    line = one_line_error(capsys, ["train", *TINY, "--data-dir", str(tmp_path), "--out", str(tmp_path / "w.npz")])
    assert line == (
        "vgglib train: error: --data-dir is only used with the full MNIST files, but recipe sample uses the "
        "embedded sample: add --data full, or leave out --data-dir"
    )
    line = one_line_error(capsys, ["train", *TINY, "--data", "sample", "--data-dir", str(tmp_path)])
    assert "but --data sample uses the embedded sample" in line
    line = one_line_error(capsys, ["evaluate", "--weights", str(tmp_path / "w.npz"), "--data-dir", str(tmp_path)])
    assert line == (
        "vgglib evaluate: error: --data-dir is only used with the full MNIST files, but --data sample (the "
        "default) uses the embedded sample: add --data full, or leave out --data-dir"
    )


# ----------------------------------------------------------------------------------------- numbers that are no numbers
@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--lr", "inf", "argument --lr: expected a finite number > 0, got inf"),
        ("--lr", "nan", "argument --lr: expected a finite number > 0, got nan"),
        ("--weight-decay", "inf", "argument --weight-decay: expected a finite number >= 0, got inf"),
        ("--weight-decay", "-1", "argument --weight-decay: expected a finite number >= 0, got -1.0"),
        ("--width", "inf", "argument --width: expected a finite number > 0, got inf"),
    ],
)
def test_non_finite_numbers_are_refused_by_the_parser(capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *TINY, flag, value])
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"vgglib train: error: {message} (see vgglib train --help)"]


def test_an_out_that_is_not_a_checkpoint_is_not_overwritten(capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    line = one_line_error(capsys, ["train", *TINY, "--epochs", "0", "--out", str(notes)])
    assert line == (
        f"vgglib train: error: --out {notes} exists and is not a vgglib checkpoint: refusing to overwrite it "
        "(give another --out, or remove the file first)"
    )
    assert notes.read_text() == "my notes"
