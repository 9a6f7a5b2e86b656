"""The fast backend's layers: :mod:`vgglib.layers`' classes with their computation swapped for the fast one.

Each class here subclasses the readable layer of the same name and keeps its contract, constructor,
``config()`` and parameter names — so a checkpoint saved from either loads into either, and
``isinstance(fast_layer, vgglib.layers.Convolution2D)`` holds. Only ``_forward``/``_backward`` change: they
call :mod:`vgglib.fast.conv`, :mod:`vgglib.fast.winograd` and :mod:`vgglib.fast.elementwise` for float32 and
float64 input, and fall back to the readable code for any other float dtype (float16).

:func:`to_fast` and :func:`to_reference` turn a layer into its counterpart sharing the same parameter arrays
(``Sequential.to_fast()`` / ``to_reference()`` do it for a whole model). Explained in
``notebooks/14_making_it_fast.ipynb``; tested against the readable layers in ``tests/test_fast.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import layers as reference
from .conv import ConvCache, conv2d_backward, conv2d_forward
from .elementwise import linear_backward, linear_forward, pool2x2_backward, pool2x2_forward, relu_backward, relu_forward
from .scratch import is_channels_last
from .winograd import WeightCache

__all__ = [
    "Convolution2D",
    "ReLU",
    "Pooling2D",
    "Maxpooling2D",
    "Minpooling2D",
    "Avgpooling2D",
    "FullyConnected",
    "FAST_DTYPES",
    "to_fast",
    "to_reference",
    "is_fast",
    "has_fast_version",
]

#: dtypes the fast backend computes in; other float dtypes run the readable code
FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class Convolution2D(reference.Convolution2D):
    """:class:`vgglib.layers.Convolution2D`, computed by gathers + GEMMs or Winograd in channels-last memory.

    ``forward(x, training=False)`` keeps Winograd's transformed weights (:class:`WeightCache`) and reuses them
    while the weights are unchanged (inference over many batches).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_fast_state()

    def _init_fast_state(self) -> None:
        self._fast_cache: ConvCache | None = None
        self._weight_cache = WeightCache()  # transformed weights, reused across inference batches

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if x.dtype not in FAST_DTYPES:
            self._fast_cache = None
            return super()._forward(x, training)
        self._cols = None
        if training:
            self._weight_cache.clear()  # the weights change every step: nothing to reuse
        cache = None if training else self._weight_cache
        y, self._fast_cache = conv2d_forward(
            x, self._param("weights", x.dtype), self._param("bias", x.dtype), self.stride, self.padding, cache
        )
        return y

    def _fast_backward(self, dy: np.ndarray, need_dx: bool) -> np.ndarray | None:
        assert self._fast_cache is not None
        dx, dw, db = conv2d_backward(dy, self._fast_cache, self._param("weights", dy.dtype), need_dx)
        self._store_grad("bias", db)
        self._store_grad("weights", dw)
        return dx

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        if self._fast_cache is None:
            return super()._backward(dy)
        dx = self._fast_backward(dy, need_dx=True)
        assert dx is not None
        return dx

    def _backward_params(self, dy: np.ndarray) -> None:
        if self._fast_cache is None:
            super()._backward(dy)
        else:
            self._fast_backward(dy, need_dx=False)


class ReLU(reference.ReLU):
    """:class:`vgglib.layers.ReLU` that keeps its output instead of a mask (``dx = dy·[y > 0]``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_fast_state()

    def _init_fast_state(self) -> None:
        self._y: np.ndarray | None = None

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if x.dtype not in FAST_DTYPES:
            self._y = None
            return super()._forward(x, training)
        self._mask = None
        self._y = relu_forward(x)
        return self._y

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        if self._y is None:
            return super()._backward(dy)
        return relu_backward(dy, self._y)


class _FastPooling:
    """2×2 / stride-2 pooling by strided views (other sizes run the readable code).

    An inference forward finds no winners; they are computed when ``backward`` or ``winners`` asks for them.
    """

    mode: str
    pool_size: int
    stride: int
    _input_shape: tuple[int, ...] | None

    def _init_fast_state(self) -> None:
        self._fast_winners: np.ndarray | None = None
        self._fast_x: np.ndarray | None = None  # inference input whose winners are not computed yet
        self._channels_last: bool | None = None  # set when the fast path ran the last forward

    @property
    def winners(self) -> np.ndarray | None:
        """(N, C, Ho, Wo) int64 flat index i·k + j of each window's winner (None for "avg" or before forward)."""
        if self._channels_last is None:
            return self._winners
        winners = self._fast_pool_winners()
        return None if winners is None else winners.astype(np.int64)

    @winners.setter
    def winners(self, value: np.ndarray | None) -> None:
        self._winners = value

    def _fast_pool_winners(self) -> np.ndarray | None:
        if self._fast_x is not None:
            _, self._fast_winners = pool2x2_forward(self._fast_x, self.mode)
            self._fast_x = None
        return self._fast_winners

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if not (self.pool_size == 2 and self.stride == 2 and x.dtype in FAST_DTYPES):
            self._channels_last = self._fast_x = self._fast_winners = None
            return super()._forward(x, training)  # type: ignore[misc]
        y, self._fast_winners = pool2x2_forward(x, self.mode, winners=training)
        self._winners = None
        self._fast_x = None if training or self.mode == "avg" else x
        self._channels_last = is_channels_last(x)
        return y

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        if self._channels_last is None:
            return super()._backward(dy)  # type: ignore[misc]
        assert self._input_shape is not None
        shape = (
            int(self._input_shape[0]),
            int(self._input_shape[1]),
            int(self._input_shape[2]),
            int(self._input_shape[3]),
        )
        return pool2x2_backward(dy, self._fast_pool_winners(), shape, self._channels_last, mode=self.mode)


class Pooling2D(_FastPooling, reference.Pooling2D):
    """:class:`vgglib.layers.Pooling2D` with the fast 2×2 / stride-2 path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._init_fast_state()
        super().__init__(*args, **kwargs)


class Maxpooling2D(_FastPooling, reference.Maxpooling2D):
    """:class:`vgglib.layers.Maxpooling2D` with the fast 2×2 / stride-2 path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._init_fast_state()
        super().__init__(*args, **kwargs)


class Minpooling2D(_FastPooling, reference.Minpooling2D):
    """:class:`vgglib.layers.Minpooling2D` with the fast 2×2 / stride-2 path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._init_fast_state()
        super().__init__(*args, **kwargs)


class Avgpooling2D(_FastPooling, reference.Avgpooling2D):
    """:class:`vgglib.layers.Avgpooling2D` with the fast 2×2 / stride-2 path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._init_fast_state()
        super().__init__(*args, **kwargs)


class FullyConnected(reference.FullyConnected):
    """:class:`vgglib.layers.FullyConnected` with its products split over the workers (``db`` by BLAS)."""

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if x.dtype not in FAST_DTYPES:
            return super()._forward(x, training)
        self._x = x
        return linear_forward(x, self._param("weights", x.dtype), self._param("bias", x.dtype))

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._x
        assert x is not None
        if x.dtype not in FAST_DTYPES:
            return super()._backward(dy)
        dx, dw, db = linear_backward(dy, x, self._param("weights", x.dtype))
        self._store_grad("weights", dw)
        self._store_grad("bias", db)
        return dx


_FAST: dict[type[reference.Layer], type[reference.Layer]] = {
    reference.Convolution2D: Convolution2D,
    reference.ReLU: ReLU,
    reference.Pooling2D: Pooling2D,
    reference.Maxpooling2D: Maxpooling2D,
    reference.Minpooling2D: Minpooling2D,
    reference.Avgpooling2D: Avgpooling2D,
    reference.FullyConnected: FullyConnected,
}
_REFERENCE: dict[type[reference.Layer], type[reference.Layer]] = {fast: ref for ref, fast in _FAST.items()}
#: what a forward leaves in a layer (dropped when converting), the fast classes' own state included
_FORWARD_STATE = (
    "_cols",
    "_mask",
    "_x",
    "winners",
    "_winners",
    "_fast_cache",
    "_weight_cache",
    "_y",
    "_fast_winners",
    "_fast_x",
    "_channels_last",
)


def _convert(layer: reference.Layer, cls: type[reference.Layer]) -> reference.Layer:
    """A ``cls`` layer with ``layer``'s name, hyperparameters and the *same* parameter arrays (no copy).

    What the last forward left behind (caches, winners, masks) is not carried over: the new layer needs a
    forward of its own before ``backward``.
    """
    new = cls.__new__(cls)
    new.__dict__.update({k: v for k, v in vars(layer).items() if k not in _FORWARD_STATE})
    if hasattr(new, "_init_fast_state"):
        new._init_fast_state()
    for key in ("_cols", "_mask", "_x", "winners"):
        if key in vars(layer) or (key == "winners" and "_winners" in vars(layer)):
            setattr(new, key, None)
    new._input_shape = new._output_shape = None
    return new


def is_fast(layer: reference.Layer) -> bool:
    """True for a layer of the fast backend."""
    return type(layer) in _REFERENCE


def has_fast_version(layer: reference.Layer) -> bool:
    """True for a readable layer that :func:`to_fast` would replace (Flatten and Dropout have no fast version)."""
    return type(layer) in _FAST


def to_fast(layer: reference.Layer) -> reference.Layer:
    """The fast counterpart of a readable layer, sharing its parameters (layers without one are returned as is)."""
    cls = _FAST.get(type(layer))
    return layer if cls is None else _convert(layer, cls)


def to_reference(layer: reference.Layer) -> reference.Layer:
    """The readable counterpart of a fast layer, sharing its parameters (others are returned as is)."""
    cls = _REFERENCE.get(type(layer))
    return layer if cls is None else _convert(layer, cls)
