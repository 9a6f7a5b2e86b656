"""Training and evaluation: ``fit``, ``evaluate``, ``predict``, callbacks.

Used in ``notebooks/09_training_vgg16_on_mnist.ipynb`` (and 10-12); the CLI's ``train`` and ``evaluate`` are thin
wrappers around these.

``fit`` runs mini-batch training with everything a long run needs:

* lazy per-batch preprocessing: the raw uint8 images stay in memory, each batch is converted, augmented and
  resized by ``model.prepare`` just before use (60,000 images at 64x64 float32 would be ~1 GB);
* a progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal) and callbacks for live curves;
* a checkpoint after every epoch (and every ``checkpoint_every`` batches) with the weights, the optimizer
  state, the position in the epoch, the shuffling order and the state of every random generator, so
  ``resume=True`` continues exactly where it stopped: the final weights are bit-identical to an
  uninterrupted run with the same seed;
* Ctrl-C (SIGINT) finishes the current batch, saves a checkpoint and returns the history so far
  (a second Ctrl-C stops at once);
* a NaN or infinite loss stops training with :class:`TrainingDivergedError` naming the epoch and batch,
  without applying that batch's update and without overwriting the last good checkpoint.
"""
from __future__ import annotations

import math
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .losses import softmax_cross_entropy
from .model import Sequential

__all__ = ["fit", "evaluate", "predict", "Callback", "JSONLogger", "TrainingDivergedError", "new_history"]


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; ``history`` holds the training history up to that batch."""

    def __init__(self, message: str, history: dict[str, Any]) -> None:
        super().__init__(message)
        self.history = history


class Callback:
    """Hooks called by :func:`fit` with the history dict. Return True from ``on_batch_end`` or
    ``on_epoch_end`` to stop training (after saving a checkpoint, as for Ctrl-C).

    ``history["position"]`` says where training is: ``{"epoch": e, "batch": b, "batches": nb}`` (1-based).
    A plain function passed in ``callbacks`` is called as ``on_epoch_end``.
    """

    def on_train_begin(self, history: dict[str, Any]) -> Any:
        """Before the first batch (also when resuming)."""

    def on_batch_end(self, history: dict[str, Any]) -> Any:
        """After each batch's update; ``history["batch_loss"][-1]`` is its loss."""

    def on_epoch_end(self, history: dict[str, Any]) -> Any:
        """After each epoch (its metrics appended to the history, its checkpoint saved)."""

    def on_train_end(self, history: dict[str, Any]) -> Any:
        """When training ends for any reason but an exception."""


class _FunctionCallback(Callback):
    def __init__(self, fn: Callable[[dict[str, Any]], Any]) -> None:
        self.fn = fn

    def on_epoch_end(self, history: dict[str, Any]) -> Any:
        return self.fn(history)


class JSONLogger(Callback):
    """Write the history (plus ``extra``) as JSON to ``path`` after every epoch and at the end, atomically."""

    def __init__(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.extra = dict(extra or {})

    def write(self, history: dict[str, Any]) -> None:
        import json

        from .checkpoint import atomic_write
        text = json.dumps({**self.extra, "history": history}, indent=1)
        atomic_write(self.path, lambda f: f.write(text.encode("utf-8")))

    def on_epoch_end(self, history: dict[str, Any]) -> None:
        self.write(history)

    def on_train_end(self, history: dict[str, Any]) -> None:
        self.write(history)


def new_history() -> dict[str, Any]:
    """An empty history: per-epoch lists (1-based ``epoch``), every batch's loss, run information."""
    return {"epoch": [], "train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": [], "lr": [],
            "time": [], "batch_loss": [], "elapsed": 0.0, "interrupted": False, "stopped": None,
            "position": None}


# ---------------------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------------------
def _check_batch_size(batch_size: Any, where: str) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be an integer >= 1, got {batch_size!r}")
    return int(batch_size)


def _check_labels(X: Any, y: Any, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{where}: labels must be class ids, an integer array (N,), got {y.dtype} {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{where}: {len(X)} images but {len(y)} labels; expected one label per image")
    if len(y) == 0:
        raise ValueError(f"{where}: no images")
    return y


def evaluate(model: Sequential, X: np.ndarray, y: np.ndarray, batch_size: int = 64) -> dict[str, Any]:
    """Loss, accuracy and confusion matrix of ``model`` on ``(X, y)`` in inference mode (dropout off).

    ``X``: raw uint8 images or prepared float inputs (see ``model.prepare``); ``y``: class ids (N,).
    Returns ``{"loss": mean cross-entropy, "accuracy": fraction correct, "confusion": int64 (C, C) with rows =
    true class and columns = predicted class, "predictions": (N,) class ids, "n": N}``.
    """
    y = _check_labels(X, y, "evaluate")
    batch_size = _check_batch_size(batch_size, "evaluate")
    total_loss, preds = 0.0, []
    for i in range(0, len(y), batch_size):
        logits = model.forward(model.prepare(X[i:i + batch_size]), training=False)
        loss, _ = softmax_cross_entropy(logits, y[i:i + batch_size])
        total_loss += loss * len(logits)
        preds.append(logits.argmax(axis=1))
    pred = np.concatenate(preds)
    c = max(int(logits.shape[1]), int(y.max()) + 1)
    confusion = np.bincount(y.astype(np.int64) * c + pred, minlength=c * c).reshape(c, c)
    return {"loss": total_loss / len(y), "accuracy": float(np.mean(pred == y)), "confusion": confusion,
            "predictions": pred, "n": int(len(y))}


def predict(model: Sequential, X: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Predicted class ids (N,) for raw uint8 images or prepared inputs (``model.predict``)."""
    return model.predict(X, batch_size)


# ---------------------------------------------------------------------------------------------------------
# random state
# ---------------------------------------------------------------------------------------------------------
def _generators(rng: np.random.Generator, model: Sequential) -> dict[str, np.random.Generator]:
    return {"trainer": rng, **{f"layer:{name}": gen for name, gen in model.rngs.items()}}


def _capture(gens: dict[str, np.random.Generator]) -> dict[str, Any]:
    return {key: gen.bit_generator.state for key, gen in gens.items()}


def _restore(gens: dict[str, np.random.Generator], states: dict[str, Any]) -> None:
    missing = set(gens) - set(states)
    if missing:
        raise ValueError(f"the checkpoint has no random state for {sorted(missing)}")
    for key, gen in gens.items():
        if states[key]["bit_generator"] != type(gen.bit_generator).__name__:
            raise ValueError(f"random state of {key} is for {states[key]['bit_generator']}, the generator is "
                             f"{type(gen.bit_generator).__name__}")
    for key, gen in gens.items():
        gen.bit_generator.state = states[key]


def _reseed(model: Sequential, seed: int) -> np.random.Generator:
    """The trainer's generator for ``seed``; every layer generator (Dropout masks) gets its own child stream."""
    seq = np.random.SeedSequence(seed)
    layers = [layer for layer in model.layers if isinstance(getattr(layer, "rng", None), np.random.Generator)]
    children = seq.spawn(len(layers) + 1)
    for layer, child in zip(layers, children[1:]):
        layer.rng = np.random.default_rng(child)
    return np.random.default_rng(children[0])


# ---------------------------------------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------------------------------------
class _StopFlag:
    def __init__(self) -> None:
        self.requested = False
        self.reason = ""


@contextmanager
def _sigint_sets(flag: _StopFlag) -> Iterator[None]:
    """While active, the first SIGINT only sets ``flag`` (training stops at the next batch boundary); a second
    one raises KeyboardInterrupt as usual. Signals can only be caught in the main thread; elsewhere no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested, flag.reason = True, "interrupted (Ctrl-C)"

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


# ---------------------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------------------
def _as_callbacks(callbacks: Any) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or callable(callbacks) and not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    out = []
    for cb in callbacks:
        if isinstance(cb, Callback):
            out.append(cb)
        elif callable(cb):
            out.append(_FunctionCallback(cb))
        else:
            raise TypeError(f"fit: callbacks must be Callback objects or functions(history), got {cb!r}")
    return out


def _finite_params(model: Sequential) -> str | None:
    for p in model.parameters():
        if not np.all(np.isfinite(p.value)):
            return p.name
    return None


class _Run:
    """The mutable state of one ``fit`` call that a checkpoint must capture."""

    def __init__(self, history: dict[str, Any]) -> None:
        self.history = history
        self.epoch = 0          # 0-based epoch in progress (or next to start)
        self.batch = 0          # next batch to run in that epoch
        self.perm: np.ndarray | None = None
        self.running = {"loss": 0.0, "correct": 0, "seen": 0, "time": 0.0}
        self.rng_states: dict[str, Any] = {}
        self.last_saved: str | None = None


def fit(model: Sequential, train_data: tuple[np.ndarray, np.ndarray], epochs: int, batch_size: int = 64,
        optimizer: Any = None, val_data: tuple[np.ndarray, np.ndarray] | None = None,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
        checkpoint: str | Path | None = None, resume: bool = False, seed: int = 0,
        callbacks: Sequence[Callback | Callable[[dict[str, Any]], Any]] | None = (),
        schedule: Callable[[float, float], float] | None = None, progress: bool = True,
        checkpoint_every: int | None = None, meta: dict[str, Any] | None = None,
        verbose: bool = True) -> dict[str, Any]:
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

    History: lists ``epoch`` (1-based), ``train_loss``, ``train_accuracy`` (running, in training mode, with
    dropout), ``val_loss``, ``val_accuracy`` (None without ``val_data``), ``lr`` and ``time`` (seconds) per epoch;
    ``batch_loss`` per batch; ``elapsed``; ``interrupted``/``stopped`` (why it stopped early, else None).
    Raises :class:`TrainingDivergedError` on a NaN/inf loss.
    """
    from . import checkpoint as ckpt
    from .optim import Adam

    if not isinstance(model, Sequential):
        raise TypeError(f"fit: expected a vgglib model (Sequential/VGG16), got {type(model).__name__}")
    if not (isinstance(train_data, (tuple, list)) and len(train_data) == 2):
        raise TypeError("fit: train_data must be a pair (X, y) of images and class ids")
    X, y = train_data
    y = _check_labels(X, y, "fit")
    if val_data is not None:
        if not (isinstance(val_data, (tuple, list)) and len(val_data) == 2):
            raise TypeError("fit: val_data must be a pair (X_val, y_val) or None")
        _check_labels(val_data[0], val_data[1], "fit (val_data)")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be an integer >= 0, got {epochs!r}")
    batch_size = _check_batch_size(batch_size, "fit")
    if checkpoint_every is not None:
        checkpoint_every = _check_batch_size(checkpoint_every, "fit (checkpoint_every)")
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint= (the file to resume from)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"fit: seed must be a non-negative integer, got {seed!r}")
    optimizer = Adam(1e-3) if optimizer is None else optimizer
    cbs = _as_callbacks(callbacks)
    out = sys.stderr

    def say(msg: str) -> None:
        if verbose:
            from tqdm.auto import tqdm
            tqdm.write(msg, file=out)

    n = len(y)
    nb = math.ceil(n / batch_size)
    rng = _reseed(model, int(seed))
    gens = _generators(rng, model)
    run = _Run(new_history())
    fit_info = {"n_train": n, "batch_size": batch_size, "seed": int(seed), "batches_per_epoch": nb}
    run.history.update(fit_info, epochs=int(epochs))

    path = Path(checkpoint) if checkpoint is not None else None
    if resume and path is not None:
        if path.exists():
            loaded = ckpt.load(path, model, optimizer)
            state = loaded.meta.get("trainer")
            if state is None or loaded.optimizer_state is None:
                raise ValueError(f"fit: {path} has no training state (it was not written by fit); load its weights "
                                 "with vgglib.checkpoint.load and train without resume")
            if state["fit"]["n_train"] != n:
                raise ValueError(f"fit: cannot resume: {path} was trained on {state['fit']['n_train']} images, "
                                 f"this run has {n}")
            if state["batch"] > 0 and state["fit"]["batch_size"] != batch_size:
                raise ValueError(f"fit: cannot resume mid-epoch with batch_size={batch_size}: {path} used "
                                 f"{state['fit']['batch_size']}")
            _restore(gens, state["rng"])
            run.history = state["history"]
            run.history.update(fit_info, epochs=int(epochs), interrupted=False, stopped=None)
            run.epoch, run.batch, run.running = state["epoch"], state["batch"], state["running"]
            run.perm = loaded.arrays.get("perm") if run.batch > 0 else None
            if run.batch > 0 and (run.perm is None or len(run.perm) != n):
                raise ValueError(f"fit: {path} is mid-epoch but has no valid shuffling order")
            run.last_saved = f"epoch {run.epoch + 1}, batch {run.batch}" if run.batch else f"epoch {run.epoch}"
            say(f"Resuming from {path}: {run.epoch} epochs and {run.batch} batches done of {epochs} epochs.")
        else:
            say(f"No checkpoint at {path} yet: starting from scratch.")
    run.rng_states = _capture(gens)

    def save() -> None:
        """Checkpoint the consistent state held in ``run`` (weights + optimizer as they are now)."""
        if path is None:
            return
        bad = _finite_params(model)
        if bad is not None:
            raise TrainingDivergedError(
                f"training diverged: parameter {bad} is not finite at epoch {run.epoch + 1}; not saving it over "
                f"the last good checkpoint {path} ({run.last_saved or 'none yet'}). Try a lower learning rate.",
                run.history)
        state = {"epoch": run.epoch, "batch": run.batch, "rng": run.rng_states, "running": run.running,
                 "fit": fit_info, "history": run.history}
        ckpt.save(path, model, optimizer, meta={**(meta or {}), "trainer": state},
                  arrays={"perm": run.perm} if run.perm is not None and run.batch > 0 else None)
        run.last_saved = f"epoch {run.epoch + 1}, batch {run.batch}" if run.batch else f"epoch {run.epoch}"

    flag = _StopFlag()
    t_start = time.perf_counter()
    elapsed0 = float(run.history.get("elapsed", 0.0))
    in_step = False
    bar = None
    for cb in cbs:
        cb.on_train_begin(run.history)
    try:
        with _sigint_sets(flag):
            while run.epoch < epochs:
                e = run.epoch
                if run.batch == 0:
                    run.perm = rng.permutation(n)
                    run.running = {"loss": 0.0, "correct": 0, "seen": 0, "time": 0.0}
                    run.rng_states = _capture(gens)
                from tqdm.auto import tqdm
                bar = tqdm(total=nb, initial=run.batch, desc=f"epoch {e + 1}/{epochs}", unit="batch",
                           disable=not progress, leave=True, file=out, dynamic_ncols=True)
                t_epoch = time.perf_counter() - run.running["time"]
                while run.batch < nb:
                    if flag.requested:
                        raise _Stop
                    b = run.batch
                    idx = run.perm[b * batch_size:(b + 1) * batch_size]
                    xb = model.prepare(X[idx], augment, rng)
                    yb = y[idx]
                    if schedule is not None:
                        optimizer.lr = float(schedule(e + b / nb, epochs))
                    logits = model.forward(xb, training=True)
                    loss, dlogits = softmax_cross_entropy(logits, yb)
                    if not math.isfinite(loss):
                        raise TrainingDivergedError(
                            f"training diverged: the loss is {loss} at epoch {e + 1}, batch {b + 1} of {nb}; "
                            "stopped without applying this batch's update. "
                            + (f"The last good checkpoint is {path} ({run.last_saved})." if run.last_saved
                               else "No checkpoint was saved." if path is None
                               else f"No checkpoint was written to {path} yet.")
                            + f" Try a lower learning rate (it was {optimizer.lr:g}).", run.history)
                    model.backward(dlogits, input_grad=False)   # the images need no gradient
                    in_step = True
                    optimizer.step(model)
                    run.running["loss"] += loss * len(yb)
                    run.running["correct"] += int(np.sum(logits.argmax(axis=1) == yb))
                    run.running["seen"] += len(yb)
                    run.running["time"] = time.perf_counter() - t_epoch
                    run.history["batch_loss"].append(float(loss))
                    run.batch = b + 1
                    run.rng_states = _capture(gens)
                    in_step = False
                    run.history["position"] = {"epoch": e + 1, "batch": b + 1, "batches": nb}
                    bar.update(1)
                    if progress:
                        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{run.running['correct'] / run.running['seen']:.3f}",
                                        refresh=False)
                    for cb in cbs:
                        if cb.on_batch_end(run.history) is True:
                            flag.requested, flag.reason = True, "stopped by a callback"
                    if checkpoint_every and run.batch % checkpoint_every == 0 and run.batch < nb:
                        save()
                # the epoch's metrics; then, in one step, the history and the position move on
                val = evaluate(model, *val_data, batch_size=batch_size) if val_data is not None else None
                r = run.running
                in_step = True          # the history and the position change together
                run.history["epoch"].append(e + 1)
                run.history["train_loss"].append(r["loss"] / max(r["seen"], 1))
                run.history["train_accuracy"].append(r["correct"] / max(r["seen"], 1))
                run.history["val_loss"].append(None if val is None else val["loss"])
                run.history["val_accuracy"].append(None if val is None else val["accuracy"])
                run.history["lr"].append(float(optimizer.lr))
                run.history["time"].append(time.perf_counter() - t_epoch)
                run.history["elapsed"] = elapsed0 + time.perf_counter() - t_start
                run.epoch, run.batch, run.perm = e + 1, 0, None
                run.rng_states = _capture(gens)
                in_step = False
                bar.set_postfix(loss=f"{run.history['train_loss'][-1]:.4f}",
                                acc=f"{run.history['train_accuracy'][-1]:.3f}",
                                **({} if val is None else {"val_acc": f"{val['accuracy']:.4f}"}))
                bar.close()
                bar = None
                save()
                for cb in cbs:
                    if cb.on_epoch_end(run.history) is True:
                        flag.requested, flag.reason = True, "stopped by a callback"
                if flag.requested and run.epoch < epochs:
                    raise _Stop
    except _Stop:
        if bar is not None:
            bar.close()
            bar = None
        run.history["interrupted"] = flag.reason.startswith("interrupted")
        run.history["stopped"] = f"{flag.reason} at epoch {run.epoch + 1}, batch {run.batch}"
        save()
        say(f"Training {flag.reason}: stopped at epoch {run.epoch + 1}, batch {run.batch} of {nb}"
            + (f"; checkpoint saved to {path} (resume with resume=True / --resume)." if path else
               "; no checkpoint path was given, so nothing was saved."))
    except KeyboardInterrupt:
        # a second Ctrl-C (or a KeyboardInterrupt raised outside the signal handler): the state in `run` is
        # consistent unless the optimizer was half-way through its update
        if bar is not None:
            bar.close()
            bar = None
        run.history["interrupted"] = True
        run.history["stopped"] = f"interrupted (Ctrl-C) at epoch {run.epoch + 1}, batch {run.batch}"
        if in_step:
            say("Training interrupted during an update of the weights or the history, so no checkpoint was "
                f"saved; {path or 'no checkpoint'} holds {run.last_saved or 'nothing yet'}.")
        else:
            _restore(gens, run.rng_states)
            save()
            say(f"Training interrupted at epoch {run.epoch + 1}, batch {run.batch} of {nb}"
                + (f"; checkpoint saved to {path}." if path else "."))
    finally:
        if bar is not None:
            bar.close()
    run.history["elapsed"] = elapsed0 + time.perf_counter() - t_start
    for cb in cbs:
        cb.on_train_end(run.history)
    return run.history


class _Stop(Exception):
    """Internal: leave the training loop at a batch boundary (Ctrl-C or a callback)."""
