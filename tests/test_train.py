"""vgglib.train: sanity checks (ln 10, overfitting), history, evaluate, and robustness: bit-identical resume,
Ctrl-C (a real SIGINT in a subprocess), NaN stops, callbacks."""

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vgglib import checkpoint, mnist
from vgglib.augment import Compose, RandomRotation, RandomShift
from vgglib.model import VGG16
from vgglib.optim import SGD, Adam, CosineLR
from vgglib.train import Callback, JSONLogger, TrainingDivergedError, evaluate, fit, predict

ROOT = Path(__file__).resolve().parents[1]
X_ALL, Y_ALL = mnist.load_mnist("train")
X, Y = X_ALL[:48], Y_ALL[:48]


def tiny(seed=0, dropout=0.5):
    return VGG16(input_size=32, width=1 / 16, dropout=dropout, rng=np.random.default_rng(seed))


def weights(model):
    return [p.value.copy() for p in model.parameters()]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


AUG = Compose([RandomShift(2), RandomRotation(10)])


def train(model, epochs=3, **kw):
    kw.setdefault("optimizer", Adam(2e-3))
    return fit(
        model,
        (X, Y),
        epochs=epochs,
        batch_size=16,
        augment=kw.pop("augment", AUG),
        seed=1,
        progress=False,
        verbose=False,
        **kw,
    )


# ----------------------------------------------------------------------------------------- sanity checks
def test_initial_loss_is_ln10():
    model = tiny()
    result = evaluate(model, *mnist.load_mnist("test"), batch_size=250)
    assert abs(result["loss"] - math.log(10)) < 0.15, result["loss"]


def test_overfits_100_images():
    """cs231n's check: with no regularisation a small VGG16 must drive 100 images to 100% training accuracy.
    (Cosine decay lets it settle: at a constant rate the last epochs wobble between 94% and 100%.)"""
    for seed in (0, 1):
        model = tiny(seed=seed, dropout=0.0)
        x, y = X_ALL[:100], Y_ALL[:100]
        fit(
            model,
            (x, y),
            epochs=40,
            batch_size=20,
            optimizer=Adam(1e-3),
            schedule=CosineLR(1e-3),
            seed=seed,
            progress=False,
            verbose=False,
        )
        assert evaluate(model, x, y)["accuracy"] == 1.0, f"seed {seed}"


# ----------------------------------------------------------------------------------------- history, evaluate
def test_history_and_validation():
    model = tiny()
    calls = []
    h = train(
        model, epochs=2, val_data=(X_ALL[100:130], Y_ALL[100:130]), callbacks=[calls.append], schedule=CosineLR(2e-3)
    )
    assert h["epoch"] == [1, 2] and len(h["batch_loss"]) == 2 * 3
    assert all(len(h[k]) == 2 for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "time"))
    assert all(0 <= a <= 1 for a in h["train_accuracy"] + h["val_accuracy"])
    assert h["lr"][0] > h["lr"][1] > 0 and h["stopped"] is None and not h["interrupted"]
    assert h["val_accuracy"][-1] == evaluate(model, X_ALL[100:130], Y_ALL[100:130])["accuracy"]
    assert h["train_loss"][0] == pytest.approx(np.mean(h["batch_loss"][:3]))  # equal batches of 16
    assert len(calls) == 2 and calls[0] is h
    json.dumps(h)  # JSON-able as it is


def test_evaluate_and_predict():
    model = tiny()
    x, y = mnist.load_mnist("test")
    x, y = x[:70], y[:70]
    r = evaluate(model, x, y, batch_size=32)
    assert r["confusion"].shape == (10, 10) and r["confusion"].sum() == 70 and r["n"] == 70
    assert r["accuracy"] == pytest.approx(np.trace(r["confusion"]) / 70)
    assert np.array_equal(r["predictions"], predict(model, x, batch_size=7))
    assert np.array_equal(r["confusion"].sum(1), np.bincount(y, minlength=10))
    from vgglib.losses import softmax_cross_entropy

    loss, _ = softmax_cross_entropy(model.forward(model.prepare(x), training=False), y)
    assert r["loss"] == pytest.approx(loss, rel=1e-5)
    with pytest.raises(ValueError, match="labels"):
        evaluate(model, x, y[:-1])


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = tiny(), tiny(), tiny()
    train(a, epochs=1)
    train(b, epochs=1)
    fit(c, (X, Y), epochs=1, batch_size=16, optimizer=Adam(2e-3), augment=AUG, seed=2, progress=False, verbose=False)
    assert same(weights(a), weights(b)) and not same(weights(a), weights(c))


def test_augment_gets_float_images_in_0_1():
    seen = []

    def record(x, rng):
        seen.append((x.dtype, x.shape, float(x.min()), float(x.max())))
        return x

    train(tiny(), epochs=1, augment=record)
    assert seen[0] == (np.float32, (16, 1, 28, 28), 0.0, 1.0) and len(seen) == 3


# ----------------------------------------------------------------------------------------- resume
def test_resume_mid_epoch_is_bit_identical(tmp_path):
    reference = tiny()
    h_ref = train(reference, epochs=3)

    class StopAt(Callback):
        def on_batch_end(self, history):
            return history["position"] == {"epoch": 2, "batch": 2, "batches": 3}

    path = tmp_path / "ck.npz"
    first = tiny()
    h1 = train(first, epochs=3, checkpoint=path, callbacks=[StopAt()])
    assert h1["stopped"].startswith("stopped by a callback at epoch 2, batch 2") and len(h1["batch_loss"]) == 5
    state = checkpoint.load(path).meta["trainer"]
    assert (state["epoch"], state["batch"]) == (1, 2)
    resumed = tiny(seed=9)  # different initial weights: all come from the file
    h2 = train(resumed, epochs=3, checkpoint=path, resume=True, optimizer=Adam(1.0))
    assert same(weights(resumed), weights(reference))
    assert h2["batch_loss"] == h_ref["batch_loss"] and h2["epoch"] == [1, 2, 3]
    assert h2["train_loss"] == h_ref["train_loss"]


def test_resume_at_an_epoch_boundary_and_train_longer(tmp_path):
    reference = tiny()
    train(reference, epochs=3, optimizer=SGD(0.05, momentum=0.9))
    path = tmp_path / "ck.npz"
    train(tiny(), epochs=1, checkpoint=path, optimizer=SGD(0.05, momentum=0.9))
    resumed = tiny(seed=4)
    h = train(resumed, epochs=3, checkpoint=path, resume=True, optimizer=SGD(0.05, momentum=0.9))
    assert same(weights(resumed), weights(reference)) and h["epoch"] == [1, 2, 3]
    # a finished run resumed with the same epochs does nothing more
    again = tiny(seed=5)
    h3 = train(again, epochs=3, checkpoint=path, resume=True, optimizer=SGD(0.05, momentum=0.9))
    assert same(weights(again), weights(reference)) and h3["epoch"] == [1, 2, 3]


def test_keyboard_interrupt_saves_a_consistent_checkpoint(tmp_path):
    """A KeyboardInterrupt that bypasses the SIGINT handler (e.g. raised in a callback) still ends cleanly."""
    reference = tiny()
    train(reference, epochs=2)

    class Boom(Callback):
        def on_batch_end(self, history):
            if history["position"]["epoch"] == 1 and history["position"]["batch"] == 2:
                raise KeyboardInterrupt

    path = tmp_path / "ck.npz"
    h = train(tiny(), epochs=2, checkpoint=path, callbacks=[Boom()])
    assert h["interrupted"] and "epoch 1, batch 2" in h["stopped"]
    resumed = tiny(seed=3)
    train(resumed, epochs=2, checkpoint=path, resume=True)
    assert same(weights(resumed), weights(reference))


CHILD = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    from vgglib import mnist
    from vgglib.augment import Compose, RandomRotation, RandomShift
    from vgglib.model import VGG16
    from vgglib.optim import Adam
    from vgglib.train import Callback, fit

    X, Y = mnist.load_mnist("train")
    go = sys.argv[2]

    class Ready(Callback):
        def on_batch_end(self, history):
            if history["position"] == {"epoch": 2, "batch": 2, "batches": 3}:
                print("READY", flush=True)
                deadline = time.time() + 60
                while not os.path.exists(go) and time.time() < deadline:   # the parent sends SIGINT, then go
                    time.sleep(0.01)
                time.sleep(0.1)

    model = VGG16(input_size=32, width=1 / 16, rng=np.random.default_rng(0))
    h = fit(model, (X[:48], Y[:48]), epochs=3, batch_size=16, optimizer=Adam(2e-3),
            augment=Compose([RandomShift(2), RandomRotation(10)]), seed=1, checkpoint=sys.argv[1],
            callbacks=[Ready()], progress=False)
    print(json.dumps({"interrupted": h["interrupted"], "stopped": h["stopped"], "batches": len(h["batch_loss"])}))
""")


def test_sigint_in_a_subprocess_stops_saves_and_resumes_bit_identically(tmp_path):
    script, path, go = tmp_path / "child.py", tmp_path / "ck.npz", tmp_path / "go"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(go)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "READY"
        proc.send_signal(signal.SIGINT)
        go.touch()
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"interrupted": True, "stopped": "interrupted (Ctrl-C) at epoch 2, batch 2", "batches": 5}
    assert "checkpoint saved to" in err and "Traceback" not in err
    reference = tiny()
    train(reference, epochs=3)
    resumed = tiny(seed=8)
    train(resumed, epochs=3, checkpoint=path, resume=True)
    assert same(weights(resumed), weights(reference))


# ----------------------------------------------------------------------------------------- divergence
def test_nan_stops_with_the_batch_named_and_keeps_the_last_good_checkpoint(tmp_path):
    model = tiny()
    path = tmp_path / "ck.npz"
    good = {}

    def poison(history):
        if history["epoch"][-1] == 1:
            good["weights"] = weights(model)
            model["fc3"].params["weights"][0, 0] = np.nan

    with pytest.raises(TrainingDivergedError, match=r"nan at epoch 2, batch 1 of 3") as err:
        train(model, epochs=3, checkpoint=path, callbacks=[poison])
    assert f"last good checkpoint is {path} (epoch 1)" in str(err.value)
    assert err.value.history["epoch"] == [1]
    assert same(weights(checkpoint.load(path).model), good["weights"])


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_an_exploding_learning_rate_is_caught():
    with pytest.raises(TrainingDivergedError, match=r"at epoch \d+, batch \d+ of 3.*lower learning rate"):
        train(tiny(), epochs=5, optimizer=SGD(1e9), augment=None)


# ----------------------------------------------------------------------------------------- the rest
def test_callbacks_object_hooks_and_stop(tmp_path):
    class Count(Callback):
        def __init__(self):
            self.calls = []

        def on_train_begin(self, h):
            self.calls.append("begin")

        def on_batch_end(self, h):
            self.calls.append("batch")

        def on_epoch_end(self, h):
            self.calls.append("epoch")
            return True  # stop after the first epoch

        def on_train_end(self, h):
            self.calls.append("end")

    c = Count()
    h = train(tiny(), epochs=3, callbacks=[c])
    assert c.calls == ["begin", "batch", "batch", "batch", "epoch", "end"]
    assert h["epoch"] == [1] and h["stopped"] == "stopped by a callback at epoch 2, batch 0"
    log = tmp_path / "log" / "h.json"
    h = train(tiny(), epochs=1, callbacks=[JSONLogger(log, extra={"seed": 1})])
    stored = json.loads(log.read_text())
    assert stored["seed"] == 1 and stored["history"]["batch_loss"] == h["batch_loss"]


def test_checkpoint_every_n_batches(tmp_path):
    path = tmp_path / "ck.npz"
    positions = []

    class Peek(Callback):
        def on_batch_end(self, history):
            if path.exists():
                state = checkpoint.read(path)[0]["meta"]["trainer"]
                positions.append((state["epoch"], state["batch"]))

    train(tiny(), epochs=1, checkpoint=path, checkpoint_every=2, callbacks=[Peek()])
    assert positions == [(0, 2)]  # written after batch 2 (and at the epoch's end)
    assert checkpoint.read(path)[0]["meta"]["trainer"]["epoch"] == 1


def test_progress_bar_goes_to_stderr(capsys):
    fit(tiny(), (X[:16], Y[:16]), epochs=1, batch_size=8, progress=True, verbose=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "2/2" in err


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(capsys):
    """A log file gets lines, not a bar's carriage returns: ~10 per epoch plus one at its end."""
    fit(tiny(), (X, Y), epochs=2, batch_size=4, val_data=(X[:8], Y[:8]))  # 12 batches: every 2nd one
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err
    lines = err.strip().splitlines()
    epoch_lines = [ln for ln in lines if "train loss" in ln]
    assert [ln.split()[:4] for ln in epoch_lines] == [
        ["epoch", "1/2", "batch", "12/12"],
        ["epoch", "2/2", "batch", "12/12"],
    ]
    assert all("val accuracy" in ln for ln in epoch_lines)
    batch_lines = [ln for ln in lines if "train loss" not in ln and not ln.startswith("time ")]
    assert len(batch_lines) == 2 * 5 and batch_lines[0].startswith("epoch 1/2  batch 2/12  loss ")
    assert lines[-1].startswith("time ") and "network" in lines[-1] and "evaluation" in lines[-1]
    fit(tiny(), (X, Y), epochs=1, batch_size=16, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_bar_on_a_terminal(monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    fit(tiny(), (X[:16], Y[:16]), epochs=1, batch_size=8)
    out = term.getvalue()
    assert "\r" in out and "epoch 1/1" in out and "2/2" in out and "train loss" not in out


def test_resume_needs_a_checkpoint_and_starts_fresh_without_one(tmp_path, capsys):
    with pytest.raises(ValueError, match="resume=True needs checkpoint"):
        fit(tiny(), (X, Y), epochs=1, resume=True, progress=False)
    a = tiny()
    fit(a, (X, Y), epochs=1, batch_size=16, checkpoint=tmp_path / "new.npz", resume=True, progress=False)
    assert "No checkpoint at" in capsys.readouterr().err and (tmp_path / "new.npz").is_file()
    with pytest.raises(ValueError, match="trained on 48 images"):
        fit(
            tiny(),
            (X[:32], Y[:32]),
            epochs=2,
            batch_size=16,
            checkpoint=tmp_path / "new.npz",
            resume=True,
            progress=False,
        )
    checkpoint.save(tmp_path / "weights_only.npz", a)
    with pytest.raises(ValueError, match="no training state"):
        fit(tiny(), (X, Y), epochs=2, checkpoint=tmp_path / "weights_only.npz", resume=True, progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epochs=-1), "epochs"),
        (dict(batch_size=0), "batch_size"),
        (dict(seed=-3), "seed"),
        (dict(train_data=(X, Y[:-1])), "labels"),
        (dict(train_data=X), "pair"),
        (dict(callbacks=[3]), "callbacks"),
        (dict(train_data=(X, Y.astype(float))), "integer"),
    ],
)
def test_bad_fit_arguments(kwargs, match):
    args = dict(train_data=(X, Y), epochs=1, batch_size=16, progress=False)
    args.update(kwargs)
    model = args.pop("model", tiny())
    with pytest.raises((ValueError, TypeError), match=match):
        fit(model, **args)


# ----------------------------------------------------------------------------------------- hostile input
@pytest.mark.parametrize(
    "index, label, match",
    [
        (47, 10, r"^fit: label 10 at index 47 is not a class id in 0\.\.9 \(the model has 10 outputs\)$"),
        (5, -1, r"^fit: label -1 at index 5 is not a class id in 0\.\.9"),
    ],
)
def test_a_bad_label_is_found_before_the_first_batch_with_its_index(index, label, match):
    model = tiny()
    before = weights(model)
    y = Y.astype(np.int64)  # the MNIST labels are uint8, which cannot hold -1
    y[index] = label
    seen = []
    with pytest.raises(ValueError, match=match):
        fit(model, (X, y), epochs=1, batch_size=16, progress=False, callbacks=[seen.append])
    assert same(weights(model), before) and seen == []
    y_val = Y[:8].copy()
    y_val[[3, 6]] = 12
    with pytest.raises(ValueError, match=r"^fit \(val_data\): label 12 at index 3 .*\(2 bad labels in all\)$"):
        fit(model, (X, Y), epochs=1, batch_size=16, val_data=(X[:8], y_val), progress=False)
    assert same(weights(model), before)


def test_a_non_finite_prepared_input_is_named_not_blamed_on_the_learning_rate():
    model = tiny()
    before = weights(model)
    xp = model.prepare(X)  # prepared float inputs (48, 1, 32, 32)
    xp[17, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match=r"^fit: image 17 holds a non-finite value \(nan\); prepared float inputs"):
        fit(model, (xp, Y), epochs=1, batch_size=16, progress=False)
    xv = model.prepare(X[:8])
    xv[2, 0, 0, 0] = -np.inf
    with pytest.raises(ValueError, match=r"^fit \(val_data\): image 2 holds a non-finite value \(-inf\)"):
        fit(model, (model.prepare(X), Y), epochs=1, batch_size=16, val_data=(xv, Y[:8]), progress=False)
    wide = X.astype(np.int32)
    wide[30, 5, 5] = 300
    with pytest.raises(ValueError, match=r"^fit: image 30 holds the pixel value 300; integer images must be 0\.\.255"):
        fit(model, (wide, Y), epochs=1, batch_size=16, progress=False)
    assert same(weights(model), before)


@pytest.mark.parametrize("bad", [-1e-3, 0.0, float("nan"), float("inf")])
def test_a_schedule_value_that_is_no_learning_rate_stops_before_the_update(tmp_path, bad):
    model = tiny()
    path = tmp_path / "ck.npz"

    def schedule(epoch, epochs):
        return 1e-3 if epoch < 1 else bad  # fine for the first epoch, then not

    with pytest.raises(
        ValueError, match=rf"^fit: the schedule .*schedule returned lr={bad:g} at epoch 2, batch 1 of 3"
    ):
        train(model, epochs=2, checkpoint=path, schedule=schedule)
    after_epoch_1 = checkpoint.load(path)
    assert after_epoch_1.meta["trainer"]["epoch"] == 1
    assert same(weights(model), weights(after_epoch_1.model))  # no update with the bad value


def test_float16_with_adam_is_refused_before_training():
    model = tiny().astype(np.float16)
    before = weights(model)
    with pytest.raises(ValueError, match=r"^fit: float16 parameters with Adam: eps=1e-08 underflows to 0 in float16"):
        train(model, epochs=1)
    assert same(weights(model), before)
    with pytest.raises(ValueError, match=r"model\.astype\(np\.float32\)"):
        fit(model, (X, Y), epochs=1, progress=False)  # the default optimizer is Adam too


def test_epochs_0_writes_the_untrained_weights_and_resuming_them_is_the_same_run(tmp_path):
    path = tmp_path / "e0.npz"
    model = tiny()
    h = train(model, epochs=0, checkpoint=path)
    assert h["epoch"] == [] and path.is_file()
    assert same(weights(checkpoint.load(path).model), weights(tiny()))
    reference = tiny()
    train(reference, epochs=1)
    resumed = tiny(seed=7)
    train(resumed, epochs=1, checkpoint=path, resume=True)
    assert same(weights(resumed), weights(reference))


def test_resume_with_another_seed_is_refused(tmp_path):
    path = tmp_path / "ck.npz"
    train(tiny(), epochs=1, checkpoint=path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"cannot resume .* with seed=2: it was trained with seed=1 .*pass seed=1"):
        fit(tiny(), (X, Y), epochs=2, batch_size=16, checkpoint=path, resume=True, seed=2, progress=False)
    assert path.read_bytes() == before


def test_json_logger_on_an_unwritable_path_fails_before_the_first_batch(tmp_path):
    blocker = tmp_path / "somefile"
    blocker.write_text("not a folder")
    model = tiny()
    before = weights(model)
    with pytest.raises(ValueError, match=r"^JSONLogger: cannot write the log .*somefile is a file, not a folder$"):
        train(model, epochs=1, callbacks=[JSONLogger(blocker / "h.json")])
    assert same(weights(model), before)


def test_a_mid_epoch_checkpoint_keeps_the_time_already_trained(tmp_path):
    """A stop mid-epoch saves the elapsed time so far, so a resumed run's total counts the interrupted part."""

    class StopAtBatch2(Callback):
        def on_batch_end(self, history):
            return history["position"]["batch"] == 2

    path = tmp_path / "ck.npz"
    h = train(tiny(), epochs=1, checkpoint=path, callbacks=[StopAtBatch2()])
    assert h["stopped"] and not h["epoch"]  # stopped inside the first epoch
    saved = checkpoint.load(path).meta["trainer"]["history"]["elapsed"]
    assert 0 < saved <= h["elapsed"]
    resumed = train(tiny(seed=3), epochs=1, checkpoint=path, resume=True)
    assert resumed["elapsed"] > saved


def test_the_time_split_adds_up_to_the_run(tmp_path):
    """history["time_split"]: seconds per part (network, augmentation, preparation, evaluation, checkpoints);
    with "other" they add up to the elapsed time, and a resumed run keeps counting from its checkpoint."""
    from vgglib.augment import RandomShift
    from vgglib.train import TIME_PARTS, format_time_split, time_split

    ck = tmp_path / "ck.npz"
    h = fit(tiny(), (X, Y), epochs=1, batch_size=8, val_data=(X[:8], Y[:8]), augment=RandomShift(1),
            checkpoint=ck, progress=False)  # fmt: skip
    split = time_split(h)
    assert list(split) == [*TIME_PARTS, "other"]
    assert all(v > 0 for k, v in split.items() if k != "other"), split
    assert sum(split.values()) == pytest.approx(h["elapsed"], rel=1e-9)
    assert split["network"] > split["augmentation"]
    h2 = fit(tiny(), (X, Y), epochs=2, batch_size=8, augment=RandomShift(1), checkpoint=ck, resume=True,
             progress=False, verbose=False)  # fmt: skip
    assert time_split(h2)["network"] > split["network"] and time_split(h2)["evaluation"] == split["evaluation"]
    line = format_time_split(h2)
    assert line.startswith("time ") and line.count("%") == len(TIME_PARTS) + 1
    assert time_split({"elapsed": 3.0}) == {**dict.fromkeys(TIME_PARTS, 0.0), "other": 3.0}  # an old history
    assert time_split({"elapsed": 1.0, "time_split": {"network": "x", "evaluation": -1}})["other"] == 1.0
