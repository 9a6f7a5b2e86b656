"""Models: ``Sequential`` (a stack of layers), ``VGG16``, and the seed's ``train``/``run`` API.

Built and explained in ``notebooks/08_vgg16_architecture.ipynb``; trained in
``notebooks/09_training_vgg16_on_mnist.ipynb``.

A model is a list of layers with unique names. ``forward`` runs them in order, ``backward`` in reverse;
``parameters()`` yields every ``(layer_name, key, value, grad)`` for the optimizers in :mod:`vgglib.optim`;
:mod:`vgglib.checkpoint` stores ``value`` arrays under ``"<layer_name>.<key>"`` next to ``config()``, from which
:func:`build_model` rebuilds the architecture.

The seed project's API is kept on every model::

    model = VGG16()                                          # 64x64x1 input, like the seed
    model.train(train_images, train_labels, batch_size=32, epochs=1, weights_file="weights.npz")
    predictions, accuracy = model.run(test_images, test_labels, weights_file="weights.npz")

``train`` is :func:`vgglib.train.fit` with Adam plus a checkpoint written to ``weights_file`` after every epoch;
``run`` is :func:`vgglib.checkpoint.load` followed by :func:`vgglib.train.evaluate`. Both accept the raw uint8
MNIST images (N, 28, 28) and prepare them the way :meth:`Sequential.prepare` documents.

Why one module: ``VGG16`` is a ``Sequential`` built from its layer configs; the container, the architecture as
data (:func:`vgg16_layer_configs`) and the rebuilding from configs (:func:`build_model`) are read together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal, NamedTuple, cast

import numpy as np

from .fast.layers import has_fast_version, to_fast, to_reference
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
from .preprocess import MNIST_MEAN, MNIST_STD, prepare_batch

__all__ = ["Param", "Sequential", "VGG16", "vgg16_layer_configs", "layer_from_config", "build_model"]


#: VGG16's 13 convolutions ("M" = 2x2 max-pool) — configuration "D" of Simonyan & Zisserman (2015)
VGG16_BLOCKS: tuple[tuple[int, ...], ...] = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
VGG16_FC = 4096

_LAYER_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Convolution2D,
        ReLU,
        Pooling2D,
        Maxpooling2D,
        Minpooling2D,
        Avgpooling2D,
        Flatten,
        FullyConnected,
        Dropout,
    )
}


class Param(NamedTuple):
    """One trainable array: ``value`` is updated in place by optimizers, ``grad`` is filled by ``backward``."""

    layer: str
    key: str
    value: np.ndarray
    grad: np.ndarray

    @property
    def name(self) -> str:
        """``"<layer>.<key>"``, the name used by optimizers and checkpoints."""
        return f"{self.layer}.{self.key}"


def layer_from_config(
    config: dict[str, Any], rng: np.random.Generator | None = None, dtype: Any = np.float32, fast: bool = False
) -> Layer:
    """Rebuild a layer from its ``config()`` dict (new random weights from ``rng``; load a checkpoint for trained ones).

    ``fast=True`` builds the :mod:`vgglib.fast` class of the same name (same contract and config); ``dtype=None``
    gives placeholder weights that take no memory (for :func:`vgglib.summarize.summary`).
    """
    if not isinstance(config, dict) or "type" not in config:
        raise ValueError(f"layer config must be a dict with a 'type' key, got {config!r}")
    kwargs = dict(config)
    kind = kwargs.pop("type")
    if kind not in _LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r}; expected one of {sorted(_LAYER_TYPES)}")
    cls = _LAYER_TYPES[kind]
    if cls in (Convolution2D, FullyConnected):
        kwargs.update(rng=rng, dtype=dtype)
    elif cls is Dropout:
        kwargs.update(rng=rng)
    try:
        layer = cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"bad config for a {kind} layer: {err}") from None
    return to_fast(layer) if fast else layer


class Sequential:
    """Layers applied in order: ``forward`` runs them first to last, ``backward`` last to first.

    Shapes: x (N, *input_shape) -> logits (N, num_classes). Layer names must be unique (they key the
    parameters in optimizers and checkpoints); a repeated name gets a numeric suffix (``relu``, ``relu_2``...)
    and the layer's ``name`` is updated to match.

    ``input_shape`` (C, H, W) is optional; when given, :meth:`prepare` resizes raw images to it with
    ``resize`` ("pad" to centre them on a zero border, "zoom" to interpolate, like the seed's 28->64).
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        input_shape: Sequence[int] | None = None,
        resize: str = "zoom",
        mean: float = MNIST_MEAN,
        std: float = MNIST_STD,
    ) -> None:
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential: expected at least one layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, expected a vgglib Layer")
        if resize not in ("pad", "zoom"):
            raise ValueError(f"Sequential: resize must be 'pad' or 'zoom', got {resize!r}")
        if not (isinstance(std, (int, float)) and std > 0):
            raise ValueError(f"Sequential: std must be a positive number, got {std!r}")
        self.layers: list[Layer] = layers
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)
        self.resize = cast(Literal["pad", "zoom"], resize)  # checked above
        self.mean, self.std = float(mean), float(std)
        self._make_names_unique()
        self._check_shapes()

    # -- structure -------------------------------------------------------------------------------------
    def _make_names_unique(self) -> None:
        seen: dict[str, int] = {}
        for layer in self.layers:
            seen[layer.name] = seen.get(layer.name, 0) + 1
        taken = set(seen)
        counter: dict[str, int] = {}
        for layer in self.layers:
            if seen[layer.name] == 1:
                continue
            base = layer.name
            counter[base] = counter.get(base, 0) + 1
            if counter[base] == 1:
                continue  # the first one keeps its name
            k = counter[base]
            while f"{base}_{k}" in taken:
                k += 1
            layer.name = f"{base}_{k}"
            taken.add(layer.name)

    def _check_shapes(self) -> None:
        if self.input_shape is None:
            return
        shape = self.input_shape
        for layer in self.layers:
            try:
                shape = layer.output_shape(shape)
            except ValueError as err:
                raise ValueError(
                    f"Sequential: layer {layer.name!r} cannot take input of shape {shape}: {err}"
                ) from None

    def __iter__(self) -> Iterator[tuple[str, Layer]]:
        """Iterate over ``(name, layer)`` pairs in forward order."""
        return ((layer.name, layer) for layer in self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, key: int | str) -> Layer:
        """A layer by position or by name."""
        if isinstance(key, str):
            for layer in self.layers:
                if layer.name == key:
                    return layer
            raise KeyError(f"no layer named {key!r}; layers: {[layer.name for layer in self.layers]}")
        return self.layers[key]

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    # -- implementation: the readable layers or the fast backend --------------------------------------
    @property
    def fast(self) -> bool:
        """True when every layer that has a :mod:`vgglib.fast` counterpart uses it."""
        return not any(has_fast_version(layer) for layer in self.layers)

    def to_fast(self) -> Sequential:
        """Use the fast backend's layers (:mod:`vgglib.fast`), keeping the same weight arrays; returns ``self``."""
        self.layers = [to_fast(layer) for layer in self.layers]
        return self

    def to_reference(self) -> Sequential:
        """Use the readable layers of :mod:`vgglib.layers`, keeping the same weight arrays; returns ``self``."""
        self.layers = [to_reference(layer) for layer in self.layers]
        return self

    # -- computation -----------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Logits (N, num_classes) for a prepared float batch x (N, *input_shape); caches for ``backward``."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    __call__ = forward

    def backward(self, dlogits: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate dL/dlogits through every layer (filling their ``grads``); returns dL/dx.

        ``input_grad=False`` returns None instead and lets the first layer skip dL/dx — training needs only the
        parameters' gradients (saliency maps need dL/dx).
        """
        if not isinstance(input_grad, (bool, np.bool_)):
            raise TypeError(f"backward: input_grad must be True or False, got {input_grad!r}")
        dy = dlogits
        for layer in reversed(self.layers[1:]):
            dx = layer.backward(dy)
            assert dx is not None  # input_grad=True always returns dL/dx
            dy = dx
        return self.layers[0].backward(dy, input_grad=input_grad)

    def predict_logits(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Logits (N, num_classes) in inference mode (dropout off), ``batch_size`` images at a time."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"predict: batch_size must be an integer >= 1, got {batch_size!r}")
        n = len(x)
        if n == 0:
            raise ValueError("predict: got an empty array of images")
        out = [self.forward(self.prepare(x[i : i + batch_size]), training=False) for i in range(0, n, batch_size)]
        return np.concatenate(out)

    def predict_proba(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Class probabilities (N, num_classes): softmax of :meth:`predict_logits`."""
        from .losses import softmax

        return softmax(self.predict_logits(x, batch_size))

    def predict(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Predicted class ids (N,) int64; ``x`` raw uint8 images or prepared float inputs (see :meth:`prepare`)."""
        return self.predict_logits(x, batch_size).argmax(axis=1)

    # -- input preparation -----------------------------------------------------------------------------
    def prepare(self, images: np.ndarray, augment: Any = None, rng: np.random.Generator | None = None) -> np.ndarray:
        """Turn a batch into the model's input: float (N, C, H, W) in the model's dtype.

        :func:`vgglib.preprocess.prepare_batch` with this model's ``input_shape``, ``resize`` method,
        ``mean``/``std`` and dtype — the one pipeline ``vgglib.preprocess.prepare``, ``BatchLoader`` and ``fit``
        also use:

        * uint8 images 0..255, (N, H, W) or (N, C, H, W) — the raw MNIST arrays: ``to_float`` ([0, 1], a new
          array: never the seed's in-place uint8 wrap-around), a channel axis, then ``augment(x, rng)`` if given
          (on [0, 1] images, background 0, as :mod:`vgglib.augment` expects), then ``resize`` to ``input_shape``
          with ``self.resize`` ("pad": 28 -> 32 on a zero border; "zoom": the seed's 28 -> 64), then
          ``standardize`` with ``self.mean``/``self.std`` (MNIST's 0.1307/0.3081). Without augmentation this
          equals ``vgglib.preprocess.prepare(images, size, method)``.
        * float arrays are taken as already prepared: they must have the input shape (N, *input_shape);
          ``augment`` is applied to them as they are.
        """
        return prepare_batch(
            images,
            input_shape=self.input_shape,
            method=self.resize,
            mean=self.mean,
            std=self.std,
            dtype=self.dtype,
            augment=augment,
            rng=rng,
        )

    # -- parameters ------------------------------------------------------------------------------------
    def parameters(self) -> Iterator[Param]:
        """Yield every trainable array as ``Param(layer, key, value, grad)``, in forward order."""
        for layer in self.layers:
            for key, value in layer.params.items():
                yield Param(layer.name, key, value, layer.grads[key])

    def named_parameters(self) -> dict[str, np.ndarray]:
        """``{"<layer>.<key>": value}`` for every parameter."""
        return {p.name: p.value for p in self.parameters()}

    def num_params(self) -> int:
        """Total number of trainable values."""
        return int(sum(p.value.size for p in self.parameters()))

    @property
    def dtype(self) -> np.dtype:
        """The parameters' float dtype (float32 unless converted with :meth:`astype`)."""
        for p in self.parameters():
            return p.value.dtype
        return np.dtype(np.float32)

    def astype(self, dtype: Any) -> Sequential:
        """Convert every layer's parameters to ``dtype`` (float64 for gradient checks); returns ``self``."""
        for layer in self.layers:
            layer.astype(dtype)
        return self

    @property
    def rngs(self) -> dict[str, np.random.Generator]:
        """The random generators the layers draw from during training (the Dropout masks), by layer name."""
        return {
            layer.name: rng
            for layer in self.layers
            if isinstance(rng := getattr(layer, "rng", None), np.random.Generator)
        }

    # -- persistence -----------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """JSON-able description that :func:`build_model` turns back into this architecture."""
        return {
            "type": "Sequential",
            "layers": [layer.config() for layer in self.layers],
            "input_shape": None if self.input_shape is None else list(self.input_shape),
            "resize": self.resize,
            "mean": self.mean,
            "std": self.std,
        }

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"{type(self).__name__}([\n{inner}\n])"

    # -- the seed's API ----------------------------------------------------------------------------------
    def train(
        self,
        X: np.ndarray,
        y: np.ndarray,
        batch_size: int = 32,
        epochs: int = 1,
        weights_file: str | None = None,
        **fit_kwargs: Any,
    ) -> dict[str, Any]:
        """The seed's ``model.train``: :func:`vgglib.train.fit` with Adam (lr 1e-3 unless ``optimizer=`` is given).

        ``X`` raw uint8 images (N, 28, 28) or prepared float inputs; ``y`` class ids (N,). When ``weights_file``
        is given a checkpoint is written there after every epoch (and on Ctrl-C). Other keyword arguments go to
        ``fit`` (``val_data``, ``augment``, ``seed``, ``progress``...). Returns the training history.
        """
        from .optim import Adam
        from .train import fit

        fit_kwargs.setdefault("optimizer", Adam(1e-3))
        return fit(self, (X, y), epochs=epochs, batch_size=batch_size, checkpoint=weights_file, **fit_kwargs)

    def run(
        self, X: np.ndarray, y: np.ndarray | None = None, weights_file: str | None = None, batch_size: int = 64
    ) -> tuple[np.ndarray, float | None]:
        """The seed's ``model.run``: load ``weights_file`` (if given), predict ``X``; returns (predictions, accuracy).

        ``predictions`` are class ids (N,); ``accuracy`` is the fraction correct in [0, 1], or None without ``y``.
        Equivalent to :func:`vgglib.checkpoint.load` then :func:`vgglib.train.evaluate`.
        """
        if weights_file is not None:
            from .checkpoint import load

            load(weights_file, self)
        if y is None:
            return self.predict(X, batch_size), None
        from .train import evaluate

        result = evaluate(self, X, y, batch_size=batch_size)
        return result["predictions"], result["accuracy"]


# ---------------------------------------------------------------------------------------------------------
#: VGG16 multiplies its freshly He-initialised classifier (fc3) weights by this: logits start small, loss ≈ ln 10
CLASSIFIER_INIT_SCALE = 0.1


def _scaled(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


def _check_vgg16_args(in_channels: Any, num_classes: Any, input_size: Any, width: Any, dropout: Any) -> None:
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes), ("input_size", input_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"VGG16: {name} must be a positive integer, got {value!r}")
    if input_size % 32:
        raise ValueError(
            f"VGG16: input_size={input_size} cannot pass the five 2x2 max-pools (each halves the size): it must be "
            "a multiple of 32, e.g. 32, 64 or 224. Pad MNIST's 28x28 to 32 or zoom it to 64 first."
        )
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= 16:
        raise ValueError(f"VGG16: width must be a number in (0, 16] scaling every channel count, got {width!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"VGG16: dropout must be a probability in [0, 1), got {dropout!r}")


def vgg16_layer_configs(
    in_channels: int = 1, num_classes: int = 10, input_size: int = 64, width: float = 1.0, dropout: float = 0.5
) -> list[dict[str, Any]]:
    """The layer configs of VGG16: the architecture as data, without allocating any weight.

    13 conv 3x3/pad 1 + ReLU in five blocks, each block ending in a 2x2/stride 2 max-pool, then
    flatten -> fc1 -> ReLU -> dropout -> fc2 -> ReLU -> dropout -> fc3 (logits; the softmax lives in the loss).
    ``width`` scales every channel count and the two hidden FC sizes (4096); ``input_size`` must be a multiple
    of 32 (32 -> 512·1·1 features, the seed's 64 -> 512·2·2 = 2048, 224 -> 512·7·7 = 25088).
    """
    _check_vgg16_args(in_channels, num_classes, input_size, width, dropout)
    cfgs: list[dict[str, Any]] = []
    channels = int(in_channels)
    for b, block in enumerate(VGG16_BLOCKS, start=1):
        for i, filters in enumerate(block, start=1):
            f = _scaled(filters, width)
            cfgs.append(
                {
                    "type": "Convolution2D",
                    "name": f"conv{b}_{i}",
                    "inputs_channel": channels,
                    "num_filters": f,
                    "kernel_size": 3,
                    "padding": 1,
                    "stride": 1,
                    "learning_rate": 0.01,
                }
            )
            cfgs.append({"type": "ReLU", "name": f"relu{b}_{i}"})
            channels = f
        cfgs.append({"type": "Maxpooling2D", "name": f"pool{b}", "pool_size": 2, "stride": 2})
    cfgs.append({"type": "Flatten", "name": "flatten"})
    features = channels * (input_size // 32) ** 2
    hidden = _scaled(VGG16_FC, width)
    for j, (n_in, n_out) in enumerate(((features, hidden), (hidden, hidden)), start=1):
        cfgs.append(
            {
                "type": "FullyConnected",
                "name": f"fc{j}",
                "num_inputs": n_in,
                "num_outputs": n_out,
                "learning_rate": 0.01,
            }
        )
        cfgs.append({"type": "ReLU", "name": f"relu_fc{j}"})
        cfgs.append({"type": "Dropout", "name": f"dropout_fc{j}", "p": float(dropout)})
    cfgs.append(
        {
            "type": "FullyConnected",
            "name": "fc3",
            "num_inputs": hidden,
            "num_outputs": int(num_classes),
            "learning_rate": 0.01,
        }
    )
    return cfgs


class VGG16(Sequential):
    """VGG16 (Simonyan & Zisserman, 2015, configuration D) for NCHW images of ``input_size``² pixels.

    Shapes: x (N, in_channels, input_size, input_size) -> logits (N, num_classes).
    ``VGG16()`` is the seed's MNIST model: 64x64x1 input, 512·2·2 = 2048 -> 4096 -> 4096 -> 10, ≈39.9M parameters.
    ``VGG16(3, 1000, 224)`` is the ImageNet original: 138,357,544 parameters. ``width`` scales every channel count
    and the hidden FC sizes (``width=0.25``: 16 filters in the first layer, 1024 hidden units) for fast lessons.

    Weights are He-initialised from ``rng`` (default: ``np.random.default_rng(0)``, so two ``VGG16()`` are equal),
    except that the classifier ``fc3`` is scaled down by :data:`CLASSIFIER_INIT_SCALE`: He keeps the signal's size
    through ReLUs but not through five max-pools (each keeps the largest of four values), so plain He logits have a
    std of 1.4–3.8 and an initial loss of 2.7–6.3 instead of ln 10 ≈ 2.303. Scaled, every size starts within 0.1 of
    ln 10 — the sanity check of ``notebooks/09_training_vgg16_on_mnist.ipynb``;
    the Dropout layers draw their masks from the same generator (:func:`vgglib.train.fit` reseeds them from its
    ``seed``). ``resize`` says how :meth:`prepare` brings raw 28x28 digits to ``input_size``: "auto" pads
    28 -> 32 and zooms otherwise. Derived in ``notebooks/08_vgg16_architecture.ipynb``.

    ``fast=True`` (the default) builds the layers of :mod:`vgglib.fast` (same contract, same weights, same
    checkpoints; ``notebooks/14_making_it_fast.ipynb``); ``fast=False`` the readable layers of
    :mod:`vgglib.layers`. ``model.to_reference()`` / ``model.to_fast()`` switch later, keeping the weights.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 64,
        width: float = 1.0,
        dropout: float = 0.5,
        rng: np.random.Generator | None = None,
        *,
        resize: str = "auto",
        mean: float = MNIST_MEAN,
        std: float = MNIST_STD,
        dtype: Any = np.float32,
        fast: bool = True,
    ) -> None:
        cfgs = vgg16_layer_configs(in_channels, num_classes, input_size, width, dropout)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"VGG16: rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        rng = np.random.default_rng(0) if rng is None else rng
        if resize == "auto":
            resize = "pad" if input_size == 32 else "zoom"
        self.in_channels, self.num_classes, self.input_size = int(in_channels), int(num_classes), int(input_size)
        self.width, self.dropout = float(width), float(dropout)
        layers = [layer_from_config(cfg, rng=rng, dtype=dtype, fast=fast) for cfg in cfgs]
        layers[-1].params["weights"] *= CLASSIFIER_INIT_SCALE
        super().__init__(layers, (self.in_channels, self.input_size, self.input_size), resize, mean, std)

    @staticmethod
    def spec(
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 64,
        width: float = 1.0,
        dropout: float = 0.5,
        resize: str = "auto",
    ) -> dict[str, Any]:
        """The architecture config of ``VGG16(...)`` without building it: pass it to :func:`summary` or
        :func:`build_model`. ``summary(VGG16.spec(3, 1000, 224))`` needs no 0.55 GB of weights."""
        _check_vgg16_args(in_channels, num_classes, input_size, width, dropout)
        if resize == "auto":
            resize = "pad" if input_size == 32 else "zoom"
        return {
            "type": "VGG16",
            "in_channels": int(in_channels),
            "num_classes": int(num_classes),
            "input_size": int(input_size),
            "width": float(width),
            "dropout": float(dropout),
            "resize": resize,
            "mean": MNIST_MEAN,
            "std": MNIST_STD,
        }

    def config(self) -> dict[str, Any]:
        return {
            "type": "VGG16",
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "input_size": self.input_size,
            "width": self.width,
            "dropout": self.dropout,
            "resize": self.resize,
            "mean": self.mean,
            "std": self.std,
        }

    def __repr__(self) -> str:
        return (
            f"VGG16(in_channels={self.in_channels}, num_classes={self.num_classes}, "
            f"input_size={self.input_size}, width={self.width}, dropout={self.dropout}) "
            f"with {self.num_params():,} parameters"
        )


def build_model(
    config: dict[str, Any], rng: np.random.Generator | None = None, dtype: Any = np.float32, fast: bool = True
) -> Sequential:
    """Build the model a ``config()`` dict describes (fresh weights; :mod:`vgglib.checkpoint` loads trained ones).

    ``fast``: the layers of :mod:`vgglib.fast` (default) or the readable ones of :mod:`vgglib.layers`.
    """
    if not isinstance(config, dict) or "type" not in config:
        raise ValueError(f"model config must be a dict with a 'type' key, got {type(config).__name__}")
    kwargs = {k: v for k, v in config.items() if k != "type"}
    try:
        if config["type"] == "VGG16":
            return VGG16(rng=rng, dtype=dtype, fast=fast, **kwargs)
        if config["type"] == "Sequential":
            layer_cfgs = kwargs.pop("layers")
            rng = np.random.default_rng(0) if rng is None else rng
            layers = [layer_from_config(c, rng=rng, dtype=dtype, fast=fast) for c in layer_cfgs]
            return Sequential(layers, **kwargs)
    except (TypeError, KeyError) as err:
        raise ValueError(f"bad {config['type']} config: {err}") from None
    raise ValueError(f"unknown model type {config['type']!r}; expected 'VGG16' or 'Sequential'")
