"""The layers of VGG16, written to be read: each forward and backward is the formula the notebooks derive.

The layer contract, which optimizers, checkpoints and models rely on:

* arrays are NCHW: (batch, channels, height, width);
* ``params`` and ``grads`` are dicts with the same keys (``"weights"``, ``"bias"``) and shapes; both are empty
  for parameter-free layers;
* ``forward(x, training=True)`` returns ``y`` and caches what ``backward`` needs;
* ``backward(dy)`` returns ``dx`` (shape of ``x``) and fills ``grads``;
* a float array in gives the same float dtype out (float32 for speed, float64 for gradient checks);
  ``layer.astype(dtype)`` converts the parameters.

Where each layer is derived:

* ``Convolution2D`` — ``notebooks/01_convolution.ipynb`` and ``notebooks/02_convolution_backprop.ipynb``
* ``ReLU`` — ``notebooks/03_relu_and_initialization.ipynb``
* ``Pooling2D`` (``Maxpooling2D``, ``Minpooling2D``, ``Avgpooling2D``) — ``notebooks/04_pooling.ipynb``
* ``Flatten``, ``FullyConnected`` — ``notebooks/05_flatten_and_fully_connected.ipynb``
* ``Dropout`` — ``notebooks/10_dropout.ipynb``

They are tested on their own against numerical gradients and the plain loops of :mod:`vgglib.reference`
(``tests/test_layers.py``). :mod:`vgglib.fast` holds layers with the same contract written for speed
(``notebooks/14_making_it_fast.ipynb``), tested against these.

Why one module: the seven layers share one base class and one contract, and a student reads them top to bottom
like deep-learning-from-scratch's ``common/layers.py``; each class fits on a screen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import check_float_array, check_positive_int
from .im2col import col2im, im2col, output_size

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
    "he_normal",
]


def he_normal(shape: tuple[int, ...], fan_in: int, rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """Initial weights drawn from N(0, 2 / fan_in) (He et al., 2015; ``notebooks/03_relu_and_initialization``).

    ``dtype=None`` draws nothing: read-only zeros of that shape that take no memory — for counting the
    parameters of an architecture without allocating it (:func:`vgglib.summary.summary`).
    """
    if dtype is None:
        return np.broadcast_to(np.float32(0), shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def _zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.broadcast_to(np.float32(0), shape) if dtype is None else np.zeros(shape, dtype=dtype)


class Layer:
    """Base class: holds ``params``/``grads`` and checks the forward/backward handshake.

    Subclasses implement ``_forward(x, training)`` and ``_backward(dy)``; this class validates ``x`` and
    ``dy`` so every layer reports bad input the same way.
    """

    #: number of axes the input must have (None: any >= 2)
    input_ndim: int | None = None

    def __init__(self, name: str) -> None:
        self.name = name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._input_shape: tuple[int, ...] | None = None
        self._output_shape: tuple[int, ...] | None = None
        self._dtype: np.dtype | None = None  # compute dtype: the last forward input's

    # -- the contract -------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Compute the layer's output for ``x`` and cache what ``backward`` needs."""
        x = check_float_array(x, f"{self.name}.forward", self.input_ndim)
        if self.input_ndim is None and x.ndim < 2:
            raise ValueError(f"{self.name}.forward: expected a batch (N, ...), got shape {x.shape}")
        if x.shape[0] == 0:
            raise ValueError(f"{self.name}.forward: empty batch (shape {x.shape}): expected at least one sample")
        self._check_input(x)
        y = self._forward(x, training)
        self._input_shape, self._output_shape, self._dtype = x.shape, y.shape, x.dtype
        return y

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Return dL/dx for the last ``forward`` and fill ``grads`` (same keys and shapes as ``params``).

        ``input_grad=False``: only fill ``grads`` and return None — for the network's first layer, whose input
        (the images) needs no gradient; a layer may then skip computing dx.
        """
        if self._output_shape is None:
            raise RuntimeError(f"{self.name}.backward called before forward: run forward(x) first")
        dy = check_float_array(dy, f"{self.name}.backward")
        if dy.shape != self._output_shape:
            raise ValueError(
                f"{self.name}.backward: dy has shape {dy.shape}, expected the forward output's "
                f"shape {self._output_shape}"
            )
        if not isinstance(input_grad, (bool, np.bool_)):
            raise TypeError(f"{self.name}.backward: input_grad must be True or False, got {input_grad!r}")
        dy = dy.astype(self._dtype, copy=False)
        if input_grad:
            return self._backward(dy)
        self._backward_params(dy)
        return None

    __call__ = forward

    # -- to be implemented ----------------------------------------------------------------------------
    def _check_input(self, x: np.ndarray) -> None:
        """Layer-specific checks of the input (channels, sizes)."""

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward_params(self, dy: np.ndarray) -> None:
        """Fill ``grads`` without needing dx; layers that can skip dx override this."""
        self._backward(dy)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one sample's output for one sample's input shape (no batch axis)."""
        return tuple(input_shape)

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer (stored in checkpoints)."""
        return {"type": type(self).__name__, "name": self.name}

    # -- helpers shared by all layers -----------------------------------------------------------------
    def astype(self, dtype: Any) -> Layer:
        """Convert parameters (and gradients) to ``dtype`` in place; returns ``self``."""
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"{self.name}.astype: expected a float dtype, got {dtype}")
        for key in self.params:
            self.params[key] = self.params[key].astype(dtype)
            self.grads[key] = self.grads[key].astype(dtype)
        return self

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        for g in self.grads.values():
            g.fill(0)

    def _param(self, key: str, dtype: np.dtype) -> np.ndarray:
        """Parameter ``key`` in the compute dtype (no copy when it already matches)."""
        return self.params[key].astype(dtype, copy=False)

    def _store_grad(self, key: str, value: np.ndarray) -> None:
        self.grads[key] = value.astype(self.params[key].dtype, copy=False)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class _TrainableLayer(Layer):
    """A layer with weights and bias, plus the seed's per-layer ``learning_rate`` and ``update()``."""

    def __init__(self, name: str, learning_rate: float) -> None:
        super().__init__(name)
        self.learning_rate = float(learning_rate)

    def update(self, learning_rate: float | None = None) -> None:
        """Plain SGD step ``p -= lr * grad`` (the seed's update; :mod:`vgglib.optim` does better)."""
        lr = self.learning_rate if learning_rate is None else learning_rate
        for key, p in self.params.items():
            p -= lr * self.grads[key]


class Convolution2D(_TrainableLayer):
    """2-D convolution (cross-correlation, as in every CNN library) with square kernels.

    ``y[n, f, oy, ox] = b[f] + Σ_{c,i,j} W[f, c, i, j] · xpad[n, c, oy*s + i, ox*s + j]``

    Shapes: x (N, C, H, W) -> y (N, F, Ho, Wo) with Ho = floor((H + 2p - k)/s) + 1;
    weights (F, C, k, k), bias (F,). Backward (derived in ``notebooks/02_convolution_backprop.ipynb``):
    db = Σ dy,  dW = x ⋆ dy,  dx = pad(dy) ⋆ rot180(W) — computed here through im2col/col2im.
    Initialisation: He normal, std = sqrt(2 / (C·k·k)), bias 0 (``notebooks/03_relu_and_initialization.ipynb``).
    """

    input_ndim = 4

    def __init__(
        self,
        inputs_channel: int,
        num_filters: int,
        kernel_size: int,
        padding: int = 0,
        stride: int = 1,
        learning_rate: float = 0.01,
        name: str = "conv",
        rng: np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__(name, learning_rate)
        self.inputs_channel = check_positive_int(inputs_channel, "inputs_channel", name)
        self.num_filters = check_positive_int(num_filters, "num_filters", name)
        self.kernel_size = check_positive_int(kernel_size, "kernel_size", name)
        self.padding = check_positive_int(padding, "padding", name, minimum=0)
        self.stride = check_positive_int(stride, "stride", name)
        rng = np.random.default_rng(0) if rng is None else rng
        c, f, k = self.inputs_channel, self.num_filters, self.kernel_size
        self.params = {"weights": he_normal((f, c, k, k), c * k * k, rng, dtype), "bias": _zeros((f,), dtype)}
        self.grads = {key: np.zeros(v.shape, dtype=v.dtype) for key, v in self.params.items()}
        self._cols: np.ndarray | None = None

    def _check_input(self, x: np.ndarray) -> None:
        if x.shape[1] != self.inputs_channel:
            raise ValueError(
                f"{self.name}.forward: input has {x.shape[1]} channels (shape {x.shape}), "
                f"expected inputs_channel={self.inputs_channel}"
            )
        self.output_shape(x.shape[1:])

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 3 or input_shape[0] != self.inputs_channel:
            raise ValueError(f"{self.name}: expected input (C={self.inputs_channel}, H, W), got {tuple(input_shape)}")
        c, h, w = input_shape
        k, p = self.kernel_size, self.padding
        if k > h + 2 * p or k > w + 2 * p:
            raise ValueError(
                f"{self.name}: kernel_size={k} is larger than the padded input "
                f"({h + 2 * p}x{w + 2 * p} from {h}x{w} with padding={p})"
            )
        return (self.num_filters, output_size(h, k, p, self.stride), output_size(w, k, p, self.stride))

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        n = x.shape[0]
        f, ho, wo = self.output_shape(x.shape[1:])
        cols = im2col(x, self.kernel_size, self.stride, self.padding)  # (N, C, k, k, Ho, Wo)
        w = self._param("weights", x.dtype).reshape(f, -1)  # (F, C*k*k)
        y = np.matmul(w, cols.reshape(n, w.shape[1], ho * wo))  # (N, F, Ho*Wo)
        y += self._param("bias", x.dtype)[:, None]
        self._cols = cols
        return y.reshape(n, f, ho, wo)

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        cols = self._cols
        assert cols is not None and self._input_shape is not None
        n, f = dy.shape[:2]
        ckk = self.inputs_channel * self.kernel_size**2
        dy2 = dy.reshape(n, f, -1)  # (N, F, L)
        self._store_grad("bias", dy2.sum(axis=(0, 2)))  # db = Σ dy
        dw = np.tensordot(dy2, cols.reshape(n, ckk, -1), axes=([0, 2], [0, 2]))  # dW = x ⋆ dy: (F, CKK)
        self._store_grad("weights", dw.reshape(self.params["weights"].shape))
        w = self._param("weights", cols.dtype).reshape(f, ckk)
        dcols = np.matmul(w.T, dy2).reshape(cols.shape)  # (N, C, k, k, Ho, Wo)
        return col2im(dcols, self._input_shape, self.kernel_size, self.stride, self.padding)

    def config(self) -> dict[str, Any]:
        return {
            "type": "Convolution2D",
            "name": self.name,
            "inputs_channel": self.inputs_channel,
            "num_filters": self.num_filters,
            "kernel_size": self.kernel_size,
            "padding": self.padding,
            "stride": self.stride,
            "learning_rate": self.learning_rate,
        }


class ReLU(Layer):
    """``y = max(x, 0)``; ``dx = dy · [x > 0]`` (the gradient at exactly 0 is taken as 0, like PyTorch).

    Derived in ``notebooks/03_relu_and_initialization.ipynb``.
    """

    def __init__(self, name: str = "relu") -> None:
        super().__init__(name)
        self._mask: np.ndarray | None = None

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self._mask = x > 0
        return np.maximum(x, 0)

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self._mask


class Pooling2D(Layer):
    """Max, min or average pooling over ``pool_size``×``pool_size`` windows moved by ``stride``.

    Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = floor((H - pool_size)/stride) + 1.
    Backward (``notebooks/04_pooling.ipynb``): max/min send each dy to the window's winner — the first
    maximum (minimum) in row-major order, the index kept in ``winners``; avg spreads dy/(k·k) over the
    window. Overlapping windows (stride < pool_size) accumulate, so a pixel that wins twice gets both.
    """

    input_ndim = 4
    modes = ("max", "min", "avg")
    #: set by the subclasses with one mode (``Maxpooling2D`` ...): their config has no "mode"
    fixed_mode: str | None = None

    def __init__(self, pool_size: int = 2, stride: int = 2, mode: str = "max", name: str = "pool") -> None:
        super().__init__(name)
        self.pool_size = check_positive_int(pool_size, "pool_size", name)
        self.stride = check_positive_int(stride, "stride", name)
        if mode not in self.modes:
            raise ValueError(f"{name}: mode must be one of {self.modes}, got {mode!r}")
        self.mode = mode
        #: (N, C, Ho, Wo) flat index i·k + j of each window's winner (None for "avg" or before forward)
        self.winners: np.ndarray | None = None

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        c, h, w = input_shape
        k = self.pool_size
        if k > h or k > w:
            raise ValueError(f"{self.name}: pool_size={k} is larger than the input ({h}x{w})")
        return (c, output_size(h, k, 0, self.stride), output_size(w, k, 0, self.stride))

    def _check_input(self, x: np.ndarray) -> None:
        self.output_shape(x.shape[1:])

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        n, c = x.shape[:2]
        k = self.pool_size
        cols = im2col(x, k, self.stride)  # (N, C, k, k, Ho, Wo)
        windows = cols.reshape(n, c, k * k, *cols.shape[-2:])
        if self.mode == "avg":
            self.winners = None
            return windows.mean(axis=2)
        self.winners = (windows.argmax if self.mode == "max" else windows.argmin)(axis=2)
        return np.take_along_axis(windows, self.winners[:, :, None], axis=2)[:, :, 0]

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        assert self._input_shape is not None
        n, c, ho, wo = dy.shape
        k = self.pool_size
        if self.mode == "avg":
            dwin = np.broadcast_to((dy / (k * k))[:, :, None], (n, c, k * k, ho, wo))
        else:
            assert self.winners is not None
            dwin = np.zeros((n, c, k * k, ho, wo), dtype=dy.dtype)
            np.put_along_axis(dwin, self.winners[:, :, None], dy[:, :, None], axis=2)
        return col2im(dwin.reshape(n, c, k, k, ho, wo), self._input_shape, k, self.stride)

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "type": type(self).__name__,
            "name": self.name,
            "pool_size": self.pool_size,
            "stride": self.stride,
        }
        if self.fixed_mode is None:
            cfg["mode"] = self.mode
        return cfg


class Maxpooling2D(Pooling2D):
    """Max pooling (the seed's name); see :class:`Pooling2D`."""

    fixed_mode = "max"

    def __init__(self, pool_size: int = 2, stride: int = 2, name: str = "pool") -> None:
        super().__init__(pool_size, stride, "max", name)


class Minpooling2D(Pooling2D):
    """Min pooling; see :class:`Pooling2D`."""

    fixed_mode = "min"

    def __init__(self, pool_size: int = 2, stride: int = 2, name: str = "pool") -> None:
        super().__init__(pool_size, stride, "min", name)


class Avgpooling2D(Pooling2D):
    """Average pooling; see :class:`Pooling2D`."""

    fixed_mode = "avg"

    def __init__(self, pool_size: int = 2, stride: int = 2, name: str = "pool") -> None:
        super().__init__(pool_size, stride, "avg", name)


class Flatten(Layer):
    """(N, C, H, W) -> (N, C·H·W), row-major like ``x.reshape(N, -1)``; backward reshapes back.

    Derived in ``notebooks/05_flatten_and_fully_connected.ipynb``.
    """

    def __init__(self, name: str = "flatten") -> None:
        super().__init__(name)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (int(np.prod(input_shape)),)

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        return x.reshape(x.shape[0], -1)

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        assert self._input_shape is not None
        return dy.reshape(self._input_shape)


class FullyConnected(_TrainableLayer):
    """``y = x @ W + b`` with x (N, num_inputs), W (num_inputs, num_outputs), b (num_outputs,).

    Backward (``notebooks/05_flatten_and_fully_connected.ipynb``): dW = xᵀ·dy, db = Σ_n dy, dx = dy·Wᵀ.
    Initialisation: He normal, std = sqrt(2 / num_inputs), bias 0.
    """

    input_ndim = 2

    def __init__(
        self,
        num_inputs: int,
        num_outputs: int,
        learning_rate: float = 0.01,
        name: str = "fc",
        rng: np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__(name, learning_rate)
        self.num_inputs = check_positive_int(num_inputs, "num_inputs", name)
        self.num_outputs = check_positive_int(num_outputs, "num_outputs", name)
        rng = np.random.default_rng(0) if rng is None else rng
        shape = (self.num_inputs, self.num_outputs)
        self.params = {
            "weights": he_normal(shape, self.num_inputs, rng, dtype),
            "bias": _zeros((self.num_outputs,), dtype),
        }
        self.grads = {key: np.zeros(v.shape, dtype=v.dtype) for key, v in self.params.items()}
        self._x: np.ndarray | None = None

    def _check_input(self, x: np.ndarray) -> None:
        if x.shape[1] != self.num_inputs:
            raise ValueError(
                f"{self.name}.forward: input has {x.shape[1]} features (shape {x.shape}), "
                f"expected num_inputs={self.num_inputs}"
            )

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if tuple(input_shape) != (self.num_inputs,):
            raise ValueError(
                f"{self.name}: expected input shape ({self.num_inputs},), got {tuple(input_shape)}"
                " (put a Flatten before a FullyConnected layer)"
            )
        return (self.num_outputs,)

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self._x = x
        return x @ self._param("weights", x.dtype) + self._param("bias", x.dtype)

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._x
        assert x is not None
        self._store_grad("weights", x.T @ dy)  # dW = xᵀ·dy
        self._store_grad("bias", dy.sum(axis=0))  # db = Σ_n dy
        return dy @ self._param("weights", x.dtype).T  # dx = dy·Wᵀ

    def config(self) -> dict[str, Any]:
        return {
            "type": "FullyConnected",
            "name": self.name,
            "num_inputs": self.num_inputs,
            "num_outputs": self.num_outputs,
            "learning_rate": self.learning_rate,
        }


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``p`` and scale survivors by 1/(1-p).

    ``y = x · m / (1 - p)`` with m ~ Bernoulli(1 - p), so E[y] = x and nothing changes at test time
    (``training=False`` is the identity). ``dx = dy · m / (1 - p)``. The mask comes from ``rng``
    (seeded by default) and is kept in ``mask``. Derived in ``notebooks/10_dropout.ipynb``; it goes
    after the hidden FC layers, never after the softmax (the seed's bug).
    """

    def __init__(self, p: float = 0.5, name: str = "dropout", rng: np.random.Generator | None = None) -> None:
        super().__init__(name)
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
            raise ValueError(f"{name}: dropout probability p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = np.random.default_rng(0) if rng is None else rng
        self.mask: np.ndarray | None = None  # the scaled mask m / (1 - p) of the last training forward

    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if not training or self.p == 0:
            self.mask = None
            return x.copy()
        keep = self.rng.random(x.shape) >= self.p
        self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self.mask

    def _backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.copy() if self.mask is None else dy * self.mask

    def config(self) -> dict[str, Any]:
        return {"type": "Dropout", "name": self.name, "p": self.p}
