"""Training recipes: named presets of data, input size, width, optimizer, schedule, augmentation and epochs.

Used by the CLI (``python -m vgglib train --recipe NAME``; explicit flags override a recipe's fields) and by
``notebooks/09_training_vgg16_on_mnist.ipynb``. Add a recipe with :func:`register`::

    register(Recipe("my-run", "what it is for", data="full", input_size=32, width=0.5, epochs=20))

A recipe builds everything a run needs: :meth:`Recipe.build_model`, :meth:`~Recipe.build_optimizer`,
:meth:`~Recipe.build_schedule` and :meth:`~Recipe.build_augment`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Recipe", "RECIPES", "DEFAULT_RECIPE", "OPTIMIZERS", "register", "get_recipe", "parse_augment"]

#: the optimizers a recipe (and ``python -m vgglib train --optimizer``) can name: ``vgglib.optim`` classes, by the
#: names of :func:`vgglib.optim.make_optimizer`, and how a run describes each
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad"}

#: MNIST's images are 28x28: a shift moves a digit by at most 27 pixels and still leaves a pixel of it
_IMAGE_SIZE = 28

#: augmentation names accepted in a spec: their class in vgglib.augment, the meaning of the number, its type,
#: the allowed range (low, high, high included?) and an example value
_AUGMENTS: dict[str, tuple[str, str, type, float, float, bool, str]] = {
    "shift": ("RandomShift", "max pixels", int, 0, _IMAGE_SIZE - 1, True, "2"),
    "rotate": ("RandomRotation", "max degrees", float, 0.0, 180.0, True, "10"),
    "zoom": ("RandomZoom", "max relative zoom", float, 0.0, 1.0, False, "0.1"),
    "flip": ("RandomFlip", "probability", float, 0.0, 1.0, True, "0.5"),
}


def _augment_value(name: str, value: str) -> float:
    """The number of ``name:value``, checked to be of the right type and in its range (a clear ValueError)."""
    cls_name, meaning, kind, low, high, high_closed, example = _AUGMENTS[name]
    allowed = (
        f"{name} takes the {meaning}, {'an integer' if kind is int else 'a number'} in "
        f"[{low:g}, {high:g}{']' if high_closed else ')'}, e.g. {name}:{example}"
    )
    if not value:
        raise ValueError(f"augmentation {name!r} needs a value: {allowed}")
    try:
        number = kind(value)
    except ValueError:
        raise ValueError(f"augmentation {name}:{value} is not allowed: {allowed}") from None
    if not math.isfinite(number):
        raise ValueError(f"augmentation {name}:{value} is not a finite number: {allowed}")
    if not (low <= number and (number <= high if high_closed else number < high)):
        raise ValueError(f"augmentation {name}:{value} is out of range: {allowed}")
    return number


def parse_augment(spec: str | None) -> Any:
    """``"shift:2,rotate:10"`` -> ``Compose([RandomShift(2), RandomRotation(10)])``; ``""``/``"none"`` -> None.

    Names: ``shift:PIXELS`` (an integer 0..27), ``rotate:DEGREES`` (0..180), ``zoom:FRACTION`` (0 <= z < 1),
    ``flip:PROBABILITY`` (0..1; flip is wrong for digits; it is accepted for experiments). Applied per batch to
    [0, 1] images (28x28) before resizing. A value of the wrong type or out of its range is a ValueError that says
    what is allowed.
    """
    if spec is None or spec.strip().lower() in ("", "none", "off"):
        return None
    from . import augment

    steps = []
    for part in spec.split(","):
        name, _, value = part.strip().partition(":")
        if name not in _AUGMENTS:
            raise ValueError(
                f"unknown augmentation {name!r} in {spec!r}; expected NAME:VALUE with NAME one of "
                f"{', '.join(_AUGMENTS)} (e.g. shift:2,rotate:10)"
            )
        number = _augment_value(name, value.strip())
        steps.append(getattr(augment, _AUGMENTS[name][0])(number))
    return augment.Compose(steps)


@dataclass(frozen=True)
class Recipe:
    """One training configuration. ``val_size`` images are held out of the training set (its last ones) to
    choose settings; ``limit`` keeps only the first N training images (smoke tests)."""

    name: str
    description: str = ""
    data: str = "sample"  # "sample" (embedded 6,000/1,000) or "full" (60,000/10,000)
    input_size: int = 32  # multiple of 32; MNIST's 28x28 is padded (32) or zoomed (otherwise)
    resize: str = "auto"  # "pad", "zoom", or "auto" (pad to 32, zoom to anything else)
    width: float = 0.25  # channel multiplier of VGG16
    dropout: float = 0.5
    optimizer: str = "adam"  # a key of OPTIMIZERS: adam, adamw, sgd, rmsprop or adagrad
    lr: float = 1e-3
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    schedule: str = "cosine"  # "constant", "step" or "cosine"
    warmup_epochs: float = 0.0  # cosine only
    step_size: float = 5.0  # step only: epochs between decays by 10x
    augment: str = ""  # parse_augment spec, e.g. "shift:2,rotate:10"
    epochs: int = 10
    batch_size: int = 64
    val_size: int = 0
    limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.data not in ("sample", "full"):
            raise ValueError(f"recipe {self.name}: data must be 'sample' or 'full', got {self.data!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"recipe {self.name}: optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.schedule not in ("constant", "step", "cosine"):
            raise ValueError(f"recipe {self.name}: schedule must be constant, step or cosine, got {self.schedule!r}")
        if self.resize not in ("auto", "pad", "zoom"):
            raise ValueError(f"recipe {self.name}: resize must be auto, pad or zoom, got {self.resize!r}")
        for field_name in ("epochs", "batch_size", "val_size", "seed", "input_size"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"recipe {self.name}: {field_name} must be a non-negative integer, got {value!r}")
        if self.batch_size < 1:
            raise ValueError(f"recipe {self.name}: batch_size must be >= 1, got {self.batch_size}")
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1
        ):
            raise ValueError(f"recipe {self.name}: limit must be a positive integer or None, got {self.limit!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"recipe {self.name}: lr must be a finite number > 0, got {self.lr!r}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(
                f"recipe {self.name}: weight_decay must be a finite number >= 0, got {self.weight_decay!r}"
            )
        parse_augment(self.augment)  # validate the spec early

    def replace(self, **changes: Any) -> Recipe:
        """A copy with some fields changed (``None`` values are ignored, so CLI defaults don't override)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"Recipe has no field(s) {sorted(unknown)}")
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # -- builders ----------------------------------------------------------------------------------------
    @property
    def resize_method(self) -> str:
        if self.resize != "auto":
            return self.resize
        return "pad" if self.input_size == 32 else "zoom"

    def build_model(self) -> Any:
        """``VGG16(1, 10, input_size, width, dropout)`` with weights from ``np.random.default_rng(seed)``."""
        from .model import VGG16

        return VGG16(
            1,
            10,
            self.input_size,
            self.width,
            self.dropout,
            rng=np.random.default_rng(self.seed),
            resize=self.resize_method,
        )

    def build_optimizer(self) -> Any:
        """The optimizer at ``lr`` with ``weight_decay`` (L2, or decoupled for AdamW); ``momentum`` for SGD only."""
        from .optim import make_optimizer

        extra = {"momentum": self.momentum} if self.optimizer == "sgd" else {}
        return make_optimizer(self.optimizer, self.lr, weight_decay=self.weight_decay, **extra)

    def build_schedule(self) -> Any:
        from .optim import ConstantLR, CosineLR, StepLR

        if self.schedule == "cosine":
            return CosineLR(self.lr, warmup_epochs=self.warmup_epochs)
        if self.schedule == "step":
            return StepLR(self.lr, self.step_size)
        return ConstantLR(self.lr)

    def build_augment(self) -> Any:
        return parse_augment(self.augment)

    def describe(self) -> str:
        """One line: the model, data, optimizer, schedule, augmentation, epochs and batch size."""
        opt = f"SGD (momentum {self.momentum})" if self.optimizer == "sgd" else OPTIMIZERS[self.optimizer]
        return (
            f"VGG16 {self.input_size}x{self.input_size} ({self.resize_method}), width {self.width:g}, "
            f"dropout {self.dropout:g}; {opt} lr {self.lr:g} {self.schedule}"
            f"{f', weight decay {self.weight_decay:g}' if self.weight_decay else ''}; "
            f"augment {self.augment or 'none'}; {self.epochs} epochs of batch {self.batch_size}; "
            f"{self.data} MNIST{f' (first {self.limit})' if self.limit else ''}"
            f"{f', {self.val_size} held out for validation' if self.val_size else ''}; seed {self.seed}"
        )


RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe, overwrite: bool = False) -> Recipe:
    """Add ``recipe`` to :data:`RECIPES` under its name (``overwrite=True`` to replace one)."""
    if not isinstance(recipe, Recipe):
        raise TypeError(f"register expects a Recipe, got {type(recipe).__name__}")
    if recipe.name in RECIPES and not overwrite:
        raise ValueError(f"a recipe named {recipe.name!r} exists already (pass overwrite=True to replace it)")
    RECIPES[recipe.name] = recipe
    return recipe


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name``; a clear error lists the known ones."""
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; known recipes: {', '.join(sorted(RECIPES))}") from None


#: what ``python -m vgglib train`` runs without flags
DEFAULT_RECIPE = "sample"

register(
    Recipe(
        "sample",
        "The default: the embedded sample (6,000 training / 1,000 test digits), a quarter-width VGG16 at "
        "32x32, a few minutes on a laptop.",
        data="sample",
        input_size=32,
        width=0.25,
        optimizer="adam",
        lr=1e-3,
        schedule="cosine",
        augment="",
        epochs=6,
        batch_size=64,
        val_size=0,
    )
)
# The full-scale run behind the README's result (results/mnist-vgg16/history.json holds its history).
register(
    Recipe(
        "mnist-vgg16",
        "Full MNIST, VGG16 at 32x32 (28x28 padded), quarter width, Adam with cosine decay, small "
        "shifts and rotations; 5,000 training images held out for validation.",
        data="full",
        input_size=32,
        width=0.25,
        optimizer="adam",
        lr=1e-3,
        schedule="cosine",
        augment="shift:2,rotate:10",
        epochs=15,
        batch_size=64,
        val_size=5000,
    )
)
register(
    Recipe(
        "mnist-vgg16-64",
        "As mnist-vgg16 at the seed's 64x64 input (28x28 zoomed), about 4x the compute per image.",
        data="full",
        input_size=64,
        width=0.25,
        optimizer="adam",
        lr=1e-3,
        schedule="cosine",
        augment="shift:2,rotate:10",
        epochs=15,
        batch_size=64,
        val_size=5000,
    )
)
