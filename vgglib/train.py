"""Training and evaluation: ``fit``, ``evaluate``, ``predict``, callbacks.

Used in ``notebooks/09_training_vgg16_on_mnist.ipynb`` (and 10-13); the CLI's ``train`` and ``evaluate`` are thin
wrappers around these.

``fit`` is one flat loop — for each epoch: a new shuffling order, then one step per batch (prepare, forward,
loss, backward, update), then the epoch's metrics and a checkpoint — plus everything a long run needs:

* lazy per-batch preprocessing: the raw uint8 images stay in memory, each batch is converted, augmented and
  resized by ``model.prepare`` (:func:`vgglib.preprocess.prepare_batch`) just before use (60,000 images at
  64x64 float32 would be ~1 GB);
* progress on stderr: a ``tqdm.auto`` bar on a terminal or in Jupyter; plain lines elsewhere (a log file, a
  pipe): about ten per epoch and one at its end, never a carriage return; callbacks for live curves;
* a checkpoint after every epoch (and every ``checkpoint_every`` batches) with the weights, the optimizer
  state, the position in the epoch, the shuffling order and the state of every random generator, so
  ``resume=True`` continues exactly where it stopped: the final weights are bit-identical to an
  uninterrupted run with the same seed;
* Ctrl-C (SIGINT) finishes the current batch, saves a checkpoint and returns the history so far
  (a second Ctrl-C stops at once);
* a NaN or infinite loss stops training with :class:`TrainingDivergedError` naming the epoch and batch,
  without applying that batch's update and without overwriting the last good checkpoint.

Why one module: ``fit`` reads top to bottom like nanoGPT's loop, and each helper it names (``_resume``,
``_train_batch``, ``_end_epoch``, ``_save``) sits right below it; callbacks and progress
(:mod:`vgglib.callbacks`), random state and Ctrl-C (:mod:`vgglib.runstate`) live apart.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint as ckpt
from .callbacks import Callback, JSONLogger, Progress, as_callbacks
from .checks import (
    check_batch_size,
    check_class_range,
    check_images,
    check_labels,
    check_learning_rate,
    check_positive_int,
)
from .fast.batch_split import BatchSplit
from .losses import softmax_cross_entropy
from .metrics import accuracy, confusion_matrix
from .model import Sequential
from .optim import Adam, Optimizer
from .runstate import StopFlag, capture, generators, reseed, restore, sigint_sets

__all__ = [
    "fit",
    "evaluate",
    "predict",
    "Callback",
    "JSONLogger",
    "TrainingDivergedError",
    "new_history",
    "TIME_PARTS",
    "time_split",
    "format_time_split",
]


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; ``history`` holds the training history up to that batch."""

    def __init__(self, message: str, history: dict[str, Any]) -> None:
        super().__init__(message)
        self.history = history


#: where a run's wall time goes (``history["time_split"]``, printed at the end of ``fit``): the network's steps
#: (forward, loss, backward, update), augmentation, the rest of batch preparation (conversion, resizing,
#: standardising), evaluation on ``val_data``, checkpoint writes; "other" is the rest (callbacks, progress, bookkeeping)
TIME_PARTS = ("network", "augmentation", "preparation", "evaluation", "checkpoints")


def time_split(history: dict[str, Any]) -> dict[str, float]:
    """Seconds per part of a run (:data:`TIME_PARTS` and ``"other"``) from its history; zeros for an old history."""
    stored = history.get("time_split")
    split = {part: 0.0 for part in TIME_PARTS}
    if isinstance(stored, dict):
        for part in TIME_PARTS:
            value = stored.get(part)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
                split[part] = float(value)
    elapsed = history.get("elapsed")
    total = float(elapsed) if isinstance(elapsed, (int, float)) and math.isfinite(elapsed) else sum(split.values())
    split["other"] = max(total - sum(split.values()), 0.0)
    return split


def format_time_split(history: dict[str, Any]) -> str:
    """One line, e.g. ``time 812 s: network 79%, augmentation 6%, preparation 3%, evaluation 9%, ...``."""
    split = time_split(history)
    total = sum(split.values())
    parts = ", ".join(f"{k} {100 * v / total:.0f}%" if total > 0 else f"{k} 0%" for k, v in split.items())
    return f"time {total:.0f} s: {parts}"


def new_history() -> dict[str, Any]:
    """An empty history: per-epoch lists (1-based ``epoch``), every batch's loss, run information."""
    return {
        "epoch": [],
        "train_loss": [],
        "train_accuracy": [],
        "val_loss": [],
        "val_accuracy": [],
        "lr": [],
        "time": [],
        "batch_loss": [],
        "elapsed": 0.0,
        "time_split": {part: 0.0 for part in TIME_PARTS},
        "interrupted": False,
        "stopped": None,
        "position": None,
    }


# ---------------------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------------------
def evaluate(model: Sequential, X: np.ndarray, y: np.ndarray, batch_size: int = 64) -> dict[str, Any]:
    """Loss, accuracy and confusion matrix of ``model`` on ``(X, y)`` in inference mode (dropout off).

    ``X``: raw uint8 images or prepared float inputs (see ``model.prepare``); ``y``: class ids (N,).
    Returns ``{"loss": mean cross-entropy, "accuracy": fraction correct, "confusion": int64 (C, C) with rows =
    true class and columns = predicted class, "predictions": (N,) class ids, "n": N}``.
    """
    y = check_labels(X, y, "evaluate")
    batch_size = check_batch_size(batch_size, "evaluate")
    total_loss, preds = 0.0, []
    net = BatchSplit(model)  # model.forward, each worker on a shard of the batch
    for i in range(0, len(y), batch_size):
        logits = net.forward(model.prepare(X[i : i + batch_size]), training=False)
        loss, _ = softmax_cross_entropy(logits, y[i : i + batch_size])
        total_loss += loss * len(logits)
        preds.append(logits.argmax(axis=1))
    pred = np.concatenate(preds)
    num_classes = max(int(logits.shape[1]), int(y.max()) + 1)
    return {
        "loss": total_loss / len(y),
        "accuracy": accuracy(y, pred),
        "confusion": confusion_matrix(y, pred, num_classes),
        "predictions": pred,
        "n": int(len(y)),
    }


def predict(model: Sequential, X: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Predicted class ids (N,) for raw uint8 images or prepared inputs (``model.predict``)."""
    return model.predict(X, batch_size)


# ---------------------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------------------
def _zero_running() -> dict[str, Any]:
    return {"loss": 0.0, "correct": 0, "seen": 0, "time": 0.0}


@dataclass
class _State:
    """One ``fit`` call: what a checkpoint captures (position, order, running sums, generators, history) and
    what the helpers share."""

    model: Sequential
    optimizer: Any
    n: int  # training images
    batch_size: int
    epochs: int
    seed: int
    path: Path | None  # the checkpoint file
    meta: dict[str, Any]
    rng: np.random.Generator = field(init=False)  # the trainer's: each epoch's order and the augmentation
    gens: dict[str, np.random.Generator] = field(init=False)  # it and the layers' (Dropout masks)
    net: BatchSplit = field(init=False)  # forward/backward, the batch split over the worker threads
    history: dict[str, Any] = field(default_factory=new_history)
    epoch: int = 0  # 0-based epoch in progress (or next to start)
    batch: int = 0  # next batch to run in that epoch
    perm: np.ndarray | None = None  # this epoch's order
    running: dict[str, Any] = field(default_factory=_zero_running)  # this epoch's sums so far
    rng_states: dict[str, Any] = field(default_factory=dict)  # the generators at the last batch boundary
    last_saved: str | None = None
    in_step: bool = False  # mid-update: a checkpoint now would not be consistent
    stop: StopFlag = field(default_factory=StopFlag)
    t_start: float = 0.0
    t_epoch: float = 0.0
    elapsed0: float = 0.0  # seconds trained before a resume
    split: dict[str, float] = field(default_factory=lambda: {part: 0.0 for part in TIME_PARTS})

    def __post_init__(self) -> None:
        self.rng = reseed(self.model, self.seed)
        self.gens = generators(self.rng, self.model)
        self.net = BatchSplit(self.model)
        self.history.update(self.fit_info, epochs=self.epochs)

    @property
    def nb(self) -> int:
        """Batches per epoch."""
        return math.ceil(self.n / self.batch_size)

    @property
    def fit_info(self) -> dict[str, Any]:
        return {"n_train": self.n, "batch_size": self.batch_size, "seed": self.seed, "batches_per_epoch": self.nb}

    @property
    def where(self) -> str:
        """The position as the messages say it: ``"epoch 2, batch 3"``, or ``"epoch 2"`` after epoch 2."""
        return f"epoch {self.epoch + 1}, batch {self.batch}" if self.batch else f"epoch {self.epoch}"


def fit(
    model: Sequential,
    train_data: tuple[np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int = 64,
    optimizer: Any = None,
    val_data: tuple[np.ndarray, np.ndarray] | None = None,
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    seed: int = 0,
    callbacks: Sequence[Callback | Callable[[dict[str, Any]], Any]] | None = (),
    schedule: Callable[[float, float], float] | None = None,
    progress: bool = True,
    checkpoint_every: int | None = None,
    meta: dict[str, Any] | None = None,
    verbose: bool = True,
) -> dict[str, Any]:
    """Train ``model`` on ``train_data = (X, y)`` for ``epochs`` epochs of shuffled mini-batches; return the history.

    Shapes: ``X`` raw uint8 images (N, 28, 28) — prepared per batch by ``model.prepare`` (to [0, 1], augmented,
    resized, standardised) — or prepared float inputs (N, *model.input_shape); ``y`` class ids (N,).

    * ``optimizer``: from :mod:`vgglib.optim` (default ``Adam(1e-3)``); ``schedule(epoch, epochs) -> lr`` sets
      its learning rate before every batch (``epoch`` fractional).
    * ``augment(x, rng)``: applied per batch to float [0, 1] images (N, 1, 28, 28), e.g.
      ``vgglib.augment.Compose([RandomShift(2), RandomRotation(10)])``.
    * ``seed`` drives every random choice: the order of each epoch, the augmentation and the Dropout masks
      (the model's Dropout layers get fresh generators derived from it).
    * ``checkpoint``: path of an ``.npz`` written after every epoch (and every ``checkpoint_every`` batches, and
      on Ctrl-C); ``resume=True`` continues from it if it exists (weights, optimizer, position, shuffling
      order, generators, history) — bit-identical to an uninterrupted run. ``epochs`` may then be larger
      than before, to train longer.
    * ``callbacks``: :class:`Callback` objects or functions called with the history after every epoch.
    * ``val_data = (X_val, y_val)``: evaluated after every epoch.
    * ``progress``: a bar on a terminal or in Jupyter, plain lines otherwise; ``verbose``: the resume/stop messages.

    History: lists ``epoch`` (1-based), ``train_loss``, ``train_accuracy`` (running, in training mode, with
    dropout), ``val_loss``, ``val_accuracy`` (None without ``val_data``), ``lr`` and ``time`` (seconds) per epoch;
    ``batch_loss`` per batch; ``elapsed``; ``time_split`` (seconds per part, :data:`TIME_PARTS`; printed with the
    progress at the end); ``interrupted``/``stopped`` (why it stopped early, else None).
    Raises :class:`TrainingDivergedError` on a NaN/inf loss.

    Checked before the first batch (ValueError naming the first bad index): every label is a class id of the
    model (0..C-1) and every float input is finite, in ``train_data`` and ``val_data``; the optimizer can
    update every parameter (e.g. Adam's eps must not underflow to 0 in float16). A ``schedule`` value that is not
    a finite number > 0 stops training at that batch, before its update (ValueError). A fresh run with
    ``epochs=0`` writes the untrained weights to ``checkpoint``.
    """
    X, y, epochs, batch_size, checkpoint_every = _check_fit_args(
        model, train_data, val_data, epochs, batch_size, checkpoint, resume, seed, checkpoint_every
    )
    cbs = as_callbacks(callbacks, "fit")
    optimizer = Adam(1e-3) if optimizer is None else optimizer
    if isinstance(optimizer, Optimizer):  # e.g. float16 weights with Adam's eps: refused now, not at batch 2
        for p in model.parameters():
            optimizer.check_param(p.name, p.value, "fit")
    s = _State(
        model=model,
        optimizer=optimizer,
        n=len(y),
        batch_size=batch_size,
        epochs=epochs,
        seed=int(seed),
        path=Path(checkpoint) if checkpoint is not None else None,
        meta=dict(meta or {}),
    )
    report = Progress(sys.stderr, progress, verbose)
    if resume:
        _resume(s, report)
    s.rng_states = capture(s.gens)
    s.t_start = time.perf_counter()
    for cb in cbs:
        cb.on_train_begin(s.history)
    try:
        with sigint_sets(s.stop), report:
            while s.epoch < epochs:
                _start_epoch(s)
                report.start_epoch(s.epoch, epochs, s.batch, s.nb)
                while s.batch < s.nb and not s.stop.requested:
                    loss = _train_batch(s, X, y, augment, schedule)
                    report.batch(s.batch, loss, s.running["correct"] / s.running["seen"], s.running["time"])
                    _notify(cbs, "on_batch_end", s)
                    if checkpoint_every and s.batch % checkpoint_every == 0 and s.batch < s.nb:
                        _save(s)
                if s.batch < s.nb:  # stopped mid-epoch: Ctrl-C or a callback
                    break
                _end_epoch(s, val_data)
                report.end_epoch(s.history)
                _save(s)
                _notify(cbs, "on_epoch_end", s)
                if s.stop.requested:
                    break
    except KeyboardInterrupt:  # a second Ctrl-C, or one raised outside the signal handler
        _interrupted(s, report)
    else:
        if s.stop.requested and s.epoch < epochs:
            _stopped(s, report)
        elif s.last_saved is None:  # nothing to train (epochs=0): the checkpoint holds the untrained weights
            _save(s)
    s.history["elapsed"] = s.elapsed0 + time.perf_counter() - s.t_start
    s.history["time_split"] = dict(s.split)
    if (s.batch or s.epoch) and report.mode is not None:  # the run's last progress line: where the time went
        report.say(format_time_split(s.history))
    for cb in cbs:
        cb.on_train_end(s.history)
    return s.history


def _check_fit_args(
    model: Any,
    train_data: Any,
    val_data: Any,
    epochs: Any,
    batch_size: Any,
    checkpoint: Any,
    resume: bool,
    seed: Any,
    checkpoint_every: Any,
) -> tuple[Any, np.ndarray, int, int, int | None]:
    """``(X, y, epochs, batch_size, checkpoint_every)`` after checking every argument of ``fit``."""
    if not isinstance(model, Sequential):
        raise TypeError(f"fit: expected a vgglib model (Sequential/VGG16), got {type(model).__name__}")
    if not (isinstance(train_data, (tuple, list)) and len(train_data) == 2):
        raise TypeError("fit: train_data must be a pair (X, y) of images and class ids")
    X, y = train_data
    y = check_labels(X, y, "fit")
    num_classes = _num_classes(model)
    if num_classes is not None:
        check_class_range(y, num_classes, "fit")
    check_images(X, "fit")
    if val_data is not None:
        if not (isinstance(val_data, (tuple, list)) and len(val_data) == 2):
            raise TypeError("fit: val_data must be a pair (X_val, y_val) or None")
        y_val = check_labels(val_data[0], val_data[1], "fit (val_data)")
        if num_classes is not None:
            check_class_range(y_val, num_classes, "fit (val_data)")
        check_images(val_data[0], "fit (val_data)")
    epochs = check_positive_int(epochs, "epochs", "fit", minimum=0)
    batch_size = check_batch_size(batch_size, "fit")
    if checkpoint_every is not None:
        checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every", "fit")
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint= (the file to resume from)")
    check_positive_int(seed, "seed", "fit", minimum=0)
    return X, y, epochs, batch_size, checkpoint_every


def _num_classes(model: Sequential) -> int | None:
    """The number of outputs (classes) of ``model``, or None if it cannot be told without running it."""
    n = getattr(model, "num_classes", None)
    if isinstance(n, int):
        return n
    if model.input_shape is not None:
        shape: tuple[int, ...] = model.input_shape
        try:
            for layer in model.layers:
                shape = tuple(layer.output_shape(shape))
        except (ValueError, TypeError, AttributeError):
            return None
        return int(shape[-1]) if len(shape) == 1 else None
    for layer in reversed(model.layers):  # no input shape: the last layer with outputs (FullyConnected)
        outputs = getattr(layer, "num_outputs", None)
        if isinstance(outputs, int):
            return outputs
    return None


def _resume(s: _State, report: Progress) -> None:
    """Continue from ``s.path`` if it exists: weights, optimizer, position, order, generators and history."""
    path = s.path
    assert path is not None
    if not path.exists():
        report.say(f"No checkpoint at {path} yet: starting from scratch.")
        return
    loaded = ckpt.load(path, s.model, s.optimizer)
    state = loaded.meta.get("trainer")
    if state is None or loaded.optimizer_state is None:
        raise ValueError(
            f"fit: {path} has no training state (it was not written by fit); load its weights "
            "with vgglib.checkpoint.load and train without resume"
        )
    stored_seed = state["fit"].get("seed")
    if stored_seed is not None and stored_seed != s.seed:
        raise ValueError(
            f"fit: cannot resume {path} with seed={s.seed}: it was trained with seed={stored_seed} (its random "
            f"state continues from the file); pass seed={stored_seed}"
        )
    if state["fit"]["n_train"] != s.n:
        raise ValueError(
            f"fit: cannot resume: {path} was trained on {state['fit']['n_train']} images, this run has {s.n}"
        )
    if state["batch"] > 0 and state["fit"]["batch_size"] != s.batch_size:
        raise ValueError(
            f"fit: cannot resume mid-epoch with batch_size={s.batch_size}: {path} used {state['fit']['batch_size']}"
        )
    restore(s.gens, state["rng"])
    s.history = state["history"]
    s.history.update(s.fit_info, epochs=s.epochs, interrupted=False, stopped=None)
    s.elapsed0 = float(s.history.get("elapsed", 0.0))
    s.split = {part: time_split(s.history)[part] for part in TIME_PARTS}
    s.epoch, s.batch, s.running = state["epoch"], state["batch"], state["running"]
    s.perm = loaded.arrays.get("perm") if s.batch > 0 else None
    if s.batch > 0 and (s.perm is None or len(s.perm) != s.n):
        raise ValueError(f"fit: {path} is mid-epoch but has no valid shuffling order")
    s.last_saved = s.where
    report.say(f"Resuming from {path}: {s.epoch} epochs and {s.batch} batches done of {s.epochs} epochs.")


def _start_epoch(s: _State) -> None:
    """A new epoch draws its order and zeroes its sums; a resumed one keeps them. Starts the epoch's clock."""
    if s.batch == 0:
        s.perm = s.rng.permutation(s.n)
        s.running = _zero_running()
        s.rng_states = capture(s.gens)
    s.t_epoch = time.perf_counter() - s.running["time"]


def _train_batch(s: _State, X: np.ndarray, y: np.ndarray, augment: Any, schedule: Any) -> float:
    """One step on batch ``s.batch`` of the epoch's order: prepare, forward, loss, backward, update; its loss."""
    e, b = s.epoch, s.batch
    assert s.perm is not None  # drawn (or restored) when the epoch began
    idx = s.perm[b * s.batch_size : (b + 1) * s.batch_size]
    t0 = time.perf_counter()
    augmenting = 0.0

    def timed_augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        nonlocal augmenting
        ta = time.perf_counter()
        out = augment(x, rng)
        augmenting += time.perf_counter() - ta
        return out

    xb, yb = s.model.prepare(X[idx], timed_augment if augment is not None else None, s.rng), y[idx]
    t1 = time.perf_counter()
    s.split["augmentation"] += augmenting
    s.split["preparation"] += t1 - t0 - augmenting
    if schedule is not None:
        value = schedule(e + b / s.nb, s.epochs)
        try:
            s.optimizer.lr = check_learning_rate(value, "fit", "lr")
        except (TypeError, ValueError):
            name = getattr(schedule, "__qualname__", None) or repr(schedule)
            shown = f"{value:g}" if isinstance(value, (int, float, np.number)) else repr(value)
            raise ValueError(
                f"fit: the schedule {name} returned lr={shown} at epoch {e + 1}, batch {b + 1} of {s.nb} "
                f"(called as schedule({e + b / s.nb:g}, {s.epochs})); a learning rate must be a finite number > 0. "
                "Stopped before this batch's update."
            ) from None
    logits = s.net.forward(xb, training=True)  # model.forward, each worker on a shard of the batch
    loss, dlogits = softmax_cross_entropy(logits, yb)
    if not math.isfinite(loss):
        last = (
            f"The last good checkpoint is {s.path} ({s.last_saved})."
            if s.last_saved
            else "No checkpoint was saved."
            if s.path is None
            else f"No checkpoint was written to {s.path} yet."
        )
        raise TrainingDivergedError(
            f"training diverged: the loss is {loss} at epoch {e + 1}, batch {b + 1} of {s.nb}; stopped without "
            f"applying this batch's update. {last} Try a lower learning rate (it was {s.optimizer.lr:g}).",
            s.history,
        )
    s.net.backward(dlogits, input_grad=False)  # the images need no gradient; grads summed over the shards
    s.in_step = True  # weights, sums and position change together
    s.optimizer.step(s.model)
    s.split["network"] += time.perf_counter() - t1
    s.running["loss"] += loss * len(yb)
    s.running["correct"] += int(np.sum(logits.argmax(axis=1) == yb))
    s.running["seen"] += len(yb)
    s.running["time"] = time.perf_counter() - s.t_epoch
    s.history["batch_loss"].append(float(loss))
    s.batch = b + 1
    s.rng_states = capture(s.gens)
    s.in_step = False
    s.history["position"] = {"epoch": e + 1, "batch": b + 1, "batches": s.nb}
    return float(loss)


def _end_epoch(s: _State, val_data: tuple[np.ndarray, np.ndarray] | None) -> None:
    """The epoch's metrics (validation included) into the history; then the position moves to the next epoch."""
    val = None
    if val_data is not None:
        t0 = time.perf_counter()
        val = evaluate(s.model, *val_data, batch_size=s.batch_size)
        s.split["evaluation"] += time.perf_counter() - t0
    r, h = s.running, s.history
    s.in_step = True  # the history and the position change together
    h["epoch"].append(s.epoch + 1)
    h["train_loss"].append(r["loss"] / max(r["seen"], 1))
    h["train_accuracy"].append(r["correct"] / max(r["seen"], 1))
    h["val_loss"].append(None if val is None else val["loss"])
    h["val_accuracy"].append(None if val is None else val["accuracy"])
    h["lr"].append(float(s.optimizer.lr))
    h["time"].append(time.perf_counter() - s.t_epoch)
    h["elapsed"] = s.elapsed0 + time.perf_counter() - s.t_start
    s.epoch, s.batch, s.perm = s.epoch + 1, 0, None
    s.rng_states = capture(s.gens)
    s.in_step = False


def _save(s: _State) -> None:
    """Checkpoint the consistent state in ``s`` (weights and optimizer as they are now), if there is a path.

    Non-finite weights are never written over the last good checkpoint: :class:`TrainingDivergedError`."""
    if s.path is None:
        return
    bad = next((p.name for p in s.model.parameters() if not np.all(np.isfinite(p.value))), None)
    if bad is not None:
        raise TrainingDivergedError(
            f"training diverged: parameter {bad} is not finite at epoch {s.epoch + 1}; not saving it over "
            f"the last good checkpoint {s.path} ({s.last_saved or 'none yet'}). Try a lower learning rate.",
            s.history,
        )
    # the time trained so far, also mid-epoch (Ctrl-C, checkpoint_every): a resumed run counts it
    t0 = time.perf_counter()
    s.history["elapsed"] = s.elapsed0 + t0 - s.t_start
    s.history["time_split"] = dict(s.split)
    state = {
        "epoch": s.epoch,
        "batch": s.batch,
        "rng": s.rng_states,
        "running": s.running,
        "fit": s.fit_info,
        "history": s.history,
    }
    ckpt.save(
        s.path,
        s.model,
        s.optimizer,
        meta={**s.meta, "trainer": state},
        arrays={"perm": s.perm} if s.perm is not None and s.batch > 0 else None,
    )
    s.split["checkpoints"] += time.perf_counter() - t0
    s.last_saved = s.where


def _notify(cbs: list[Callback], hook: str, s: _State) -> None:
    """Call ``hook`` of every callback; one returning True asks training to stop (like Ctrl-C)."""
    for cb in cbs:
        answer = getattr(cb, hook)(s.history)
        if answer is True or (isinstance(answer, np.bool_) and bool(answer)):  # also numpy's True (a comparison)
            s.stop.requested, s.stop.reason = True, "stopped by a callback"


def _stopped(s: _State, report: Progress) -> None:
    """Training stopped at a batch boundary (Ctrl-C or a callback): record why, save, say so."""
    reason = s.stop.reason
    s.history["interrupted"] = reason.startswith("interrupted")
    s.history["stopped"] = f"{reason} at epoch {s.epoch + 1}, batch {s.batch}"
    _save(s)
    report.say(
        f"Training {reason}: stopped at epoch {s.epoch + 1}, batch {s.batch} of {s.nb}"
        + (
            f"; checkpoint saved to {s.path} (resume with resume=True / --resume)."
            if s.path
            else "; no checkpoint path was given, so nothing was saved."
        )
    )


def _interrupted(s: _State, report: Progress) -> None:
    """A KeyboardInterrupt (a second Ctrl-C): the state in ``s`` is consistent unless it came mid-update."""
    s.history["interrupted"] = True
    s.history["stopped"] = f"interrupted (Ctrl-C) at epoch {s.epoch + 1}, batch {s.batch}"
    if s.in_step:
        report.say(
            "Training interrupted during an update of the weights or the history, so no checkpoint was "
            f"saved; {s.path or 'no checkpoint'} holds {s.last_saved or 'nothing yet'}."
        )
        return
    restore(s.gens, s.rng_states)
    _save(s)
    report.say(
        f"Training interrupted at epoch {s.epoch + 1}, batch {s.batch} of {s.nb}"
        + (f"; checkpoint saved to {s.path}." if s.path else ".")
    )
