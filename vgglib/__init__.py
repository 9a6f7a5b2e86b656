"""vgglib — VGG16 from scratch in numpy, the library behind the teaching notebooks in ``notebooks/``.

Start with ``notebooks/00_overview.ipynb``. The layers (``vgglib.layers``) follow one contract: NCHW arrays,
``forward(x, training)`` / ``backward(dy)``, and ``params``/``grads`` dicts. The model (``vgglib.model``),
optimizers (``vgglib.optim``), trainer (``vgglib.train``), checkpoints (``vgglib.checkpoint``) and data
(``vgglib.mnist``, ``vgglib.preprocess``, ``vgglib.augment``) build on it; ``python -m vgglib --help`` is the
command line.
"""

from . import checkpoint
from .gradcheck import check_layer, numerical_gradient, relative_error
from .layers import (
    Avgpooling2D,
    Convolution2D,
    Dropout,
    Flatten,
    FullyConnected,
    Layer,
    Maxpooling2D,
    Minpooling2D,
    Pooling2D,
    ReLU,
)
from .losses import cross_entropy, softmax, softmax_cross_entropy
from .mnist import load_mnist
from .model import VGG16, Sequential, build_model
from .optim import SGD, Adam, ConstantLR, CosineLR, StepLR
from .preprocess import BatchLoader, prepare
from .recipes import RECIPES, Recipe, get_recipe
from .summarize import summary
from .train import Callback, JSONLogger, TrainingDivergedError, evaluate, fit, predict

__version__ = "0.1.0"

__all__ = [
    "Layer",
    "Convolution2D",
    "ReLU",
    "Pooling2D",
    "Maxpooling2D",
    "Minpooling2D",
    "Avgpooling2D",
    "Flatten",
    "FullyConnected",
    "Dropout",
    "softmax",
    "cross_entropy",
    "softmax_cross_entropy",
    "check_layer",
    "numerical_gradient",
    "relative_error",
    "Sequential",
    "VGG16",
    "summary",
    "build_model",
    "SGD",
    "Adam",
    "ConstantLR",
    "StepLR",
    "CosineLR",
    "fit",
    "evaluate",
    "predict",
    "Callback",
    "JSONLogger",
    "TrainingDivergedError",
    "Recipe",
    "RECIPES",
    "get_recipe",
    "checkpoint",
    "load_mnist",
    "prepare",
    "BatchLoader",
]
