"""A training run's state outside the weights: its random generators and its stop request (Ctrl-C).

Used by :func:`vgglib.train.fit` (``notebooks/09_training_vgg16_on_mnist.ipynb`` shows resuming and Ctrl-C):
the generators' states go into every checkpoint, so a resumed run draws the same orders, augmentations and
Dropout masks as an uninterrupted one, bit for bit; the first Ctrl-C only asks training to stop at the next
batch boundary, so the checkpoint it saves is consistent.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["reseed", "generators", "capture", "restore", "StopFlag", "sigint_sets"]


def reseed(model: Any, seed: int) -> np.random.Generator:
    """The trainer's generator for ``seed``; every layer generator (Dropout masks) gets its own child stream."""
    seq = np.random.SeedSequence(seed)
    layers = [layer for layer in model.layers if isinstance(getattr(layer, "rng", None), np.random.Generator)]
    children = seq.spawn(len(layers) + 1)
    for layer, child in zip(layers, children[1:]):
        layer.rng = np.random.default_rng(child)
    return np.random.default_rng(children[0])


def generators(rng: np.random.Generator, model: Any) -> dict[str, np.random.Generator]:
    """Every generator a run draws from, by name: ``"trainer"`` and ``"layer:<name>"`` for each layer's."""
    return {"trainer": rng, **{f"layer:{name}": gen for name, gen in model.rngs.items()}}


def capture(gens: dict[str, np.random.Generator]) -> dict[str, Any]:
    """The generators' states (JSON-able dicts), to store in a checkpoint."""
    return {key: gen.bit_generator.state for key, gen in gens.items()}


def restore(gens: dict[str, np.random.Generator], states: dict[str, Any]) -> None:
    """Put ``states`` (from :func:`capture`) back into ``gens``; checks all of them before changing any."""
    missing = set(gens) - set(states)
    if missing:
        raise ValueError(f"the checkpoint has no random state for {sorted(missing)}")
    for key, gen in gens.items():
        if states[key]["bit_generator"] != type(gen.bit_generator).__name__:
            raise ValueError(
                f"random state of {key} is for {states[key]['bit_generator']}, the generator is "
                f"{type(gen.bit_generator).__name__}"
            )
    for key, gen in gens.items():
        gen.bit_generator.state = states[key]


class StopFlag:
    """A request to stop at the next batch boundary, and why (``"interrupted (Ctrl-C)"``, ``"stopped by a
    callback"``)."""

    def __init__(self) -> None:
        self.requested = False
        self.reason = ""


@contextmanager
def sigint_sets(flag: StopFlag) -> Iterator[None]:
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
