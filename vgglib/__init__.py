"""vgglib — VGG16 from scratch in numpy, the library behind the teaching notebooks in ``notebooks/``.

Start with ``notebooks/00_overview.ipynb``. The layers (``vgglib.layers``) follow one contract: NCHW arrays,
``forward(x, training)`` / ``backward(dy)``, and ``params``/``grads`` dicts.
"""
from .gradcheck import check_layer, numerical_gradient, relative_error
from .layers import (Avgpooling2D, Convolution2D, Dropout, Flatten, FullyConnected, Layer, Maxpooling2D,
                     Minpooling2D, Pooling2D, ReLU)
from .losses import cross_entropy, softmax, softmax_cross_entropy

__version__ = "0.1.0"

__all__ = [
    "Layer", "Convolution2D", "ReLU", "Pooling2D", "Maxpooling2D", "Minpooling2D", "Avgpooling2D", "Flatten",
    "FullyConnected", "Dropout", "softmax", "cross_entropy", "softmax_cross_entropy", "check_layer",
    "numerical_gradient", "relative_error",
]
