"""What :func:`vgglib.train.fit` reports while it trains: callbacks, a JSON logger and the progress on stderr.

Used in ``notebooks/09_training_vgg16_on_mnist.ipynb`` (live curves: ``vgglib.widgets.LiveCurves`` is a
:class:`Callback`) and by the CLI (``--log`` is a :class:`JSONLogger`). ``vgglib.train`` re-exports
``Callback`` and ``JSONLogger``.

Progress goes to stderr: a ``tqdm.auto`` bar per epoch on a terminal or in Jupyter; plain lines anywhere else
(a log file, a pipe, a CI job): about ten per epoch and one at its end, never the carriage returns of a bar,
which would make a single huge line of a log file.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

__all__ = ["Callback", "JSONLogger", "as_callbacks", "Progress"]


class Callback:
    """Hooks called by :func:`vgglib.train.fit` with the history dict. Return True from ``on_batch_end`` or
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
    """Write the history (plus ``extra``) as JSON to ``path`` after every epoch and at the end, atomically.

    ``path`` is checked to be writable when training begins (its folders are made on the first write)."""

    def __init__(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.extra = dict(extra or {})

    def write(self, history: dict[str, Any]) -> None:
        from .atomicfile import atomic_write

        text = json.dumps({**self.extra, "history": history}, indent=1)
        atomic_write(self.path, lambda f: f.write(text.encode("utf-8")))

    def on_train_begin(self, history: dict[str, Any]) -> None:
        """Before the first batch: a path that cannot be written fails now, not after the first epoch."""
        from .checks import check_writable

        check_writable(self.path, "the log", "JSONLogger")

    def on_epoch_end(self, history: dict[str, Any]) -> None:
        self.write(history)

    def on_train_end(self, history: dict[str, Any]) -> None:
        self.write(history)


def as_callbacks(callbacks: Any, where: str = "fit") -> list[Callback]:
    """A list of :class:`Callback` from None, one callback, or a list of callbacks and functions(history)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or callable(callbacks) and not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    out: list[Callback] = []
    for cb in callbacks:
        if isinstance(cb, Callback):
            out.append(cb)
        elif callable(cb):
            out.append(_FunctionCallback(cb))
        else:
            raise TypeError(f"{where}: callbacks must be Callback objects or functions(history), got {cb!r}")
    return out


# ---------------------------------------------------------------------------------------------------------
# progress on stderr
# ---------------------------------------------------------------------------------------------------------
def _in_jupyter() -> bool:
    """True inside a Jupyter kernel, where ``tqdm.auto`` draws a widget (the same test tqdm makes)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _is_terminal(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """The progress of one ``fit`` call on ``out``: a bar or plain lines (``enabled=False``: neither), and the
    messages (``verbose=False``: none). A context manager: leaving it closes the bar of an unfinished epoch.

    Plain lines, about ten per epoch plus one at its end::

        epoch 1/3  batch 94/938  loss 0.4123  accuracy 0.871  12.3s
        epoch 1/3  batch 938/938  train loss 0.3012  accuracy 0.905  val loss 0.1000  val accuracy 0.970  61.2s
    """

    def __init__(self, out: TextIO, enabled: bool = True, verbose: bool = True, *, bar: bool | None = None) -> None:
        self.out, self.verbose = out, verbose
        if bar is None:
            bar = _is_terminal(out) or _in_jupyter()
        self.mode = None if not enabled else "bar" if bar else "lines"
        self.bar: Any = None
        self.every = 1
        self.epoch = self.epochs = self.nb = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def say(self, message: str) -> None:
        """A message line (resume, stop), printed above the bar if one is drawn."""
        if not self.verbose:
            return
        if self.mode == "bar":
            from tqdm.auto import tqdm

            tqdm.write(message, file=self.out)
        else:
            print(message, file=self.out, flush=True)

    def start_epoch(self, epoch: int, epochs: int, batch: int, nb: int) -> None:
        """Epoch ``epoch`` (0-based) of ``epochs`` begins, or resumes after ``batch`` of its ``nb`` batches."""
        self.epoch, self.epochs, self.nb = epoch, epochs, nb
        self.every = max(1, math.ceil(nb / 10))
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=nb,
                initial=batch,
                desc=f"epoch {epoch + 1}/{epochs}",
                unit="batch",
                leave=True,
                file=self.out,
                dynamic_ncols=True,
            )

    def batch(self, batch: int, loss: float, accuracy: float, seconds: float) -> None:
        """Batch ``batch`` (1-based) is done: its loss, the epoch's running accuracy and time so far."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{accuracy:.3f}", refresh=False)
        elif self.mode == "lines" and batch % self.every == 0 and batch < self.nb:
            self._line(
                f"epoch {self.epoch + 1}/{self.epochs}  batch {batch}/{self.nb}  loss {loss:.4f}  "
                f"accuracy {accuracy:.3f}  {seconds:.1f}s"
            )

    def end_epoch(self, history: dict[str, Any]) -> None:
        """The epoch's metrics are in ``history``: one line, or the bar's last postfix."""
        loss, acc, val = history["train_loss"][-1], history["train_accuracy"][-1], history["val_accuracy"][-1]
        if self.bar is not None:
            self.bar.set_postfix(
                loss=f"{loss:.4f}", acc=f"{acc:.3f}", **({} if val is None else {"val_acc": f"{val:.4f}"})
            )
            self.close()
        elif self.mode == "lines":
            val_part = "" if val is None else f"  val loss {history['val_loss'][-1]:.4f}  val accuracy {val:.3f}"
            self._line(
                f"epoch {history['epoch'][-1]}/{self.epochs}  batch {self.nb}/{self.nb}  train loss "
                f"{loss:.4f}  accuracy {acc:.3f}{val_part}  {history['time'][-1]:.1f}s"
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _line(self, text: str) -> None:
        print(text, file=self.out, flush=True)
