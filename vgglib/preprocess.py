"""Preprocessing: from uint8 MNIST digits to the network's input, and shuffling and batching them.

Derived in ``notebooks/07_mnist_data.ipynb`` (every function here is shown there); ``prepare_batch`` is what
``Sequential.prepare`` and :func:`vgglib.train.fit` run on every batch (``notebooks/08_vgg16_architecture.ipynb``,
``notebooks/09_training_vgg16_on_mnist.ipynb``). Reading the files is :mod:`vgglib.mnist`.

One pipeline, ``prepare_batch``: uint8 (N, 28, 28) -> ``to_float`` ([0, 1], a new array) -> channel axis
(N, 1, 28, 28) -> ``augment(x, rng)`` -> ``resize`` to the input size ("pad" or "zoom") -> ``standardize`` (or
another ``normalize``) -> float32 (N, 1, S, S). ``prepare`` (a whole array), ``BatchLoader`` (lazily, one batch at
a time) and ``Sequential.prepare`` (the model's input shape and dtype) all call it, so they give identical arrays.

The steps one by one: ``to_float`` (never in place: the seed divided uint8 in place, which wraps around),
``standardize`` with the MNIST constants ``MNIST_MEAN``/``MNIST_STD``, ``resize`` (zoom or pad, vectorised over
the batch), ``one_hot``, ``shuffle`` (ONE permutation for images and labels), ``train_val_split``, ``batches``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import numpy as np
from scipy import ndimage

from .checks import as_rng, check_batch_size

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "to_float",
    "standardize",
    "resize",
    "prepare_batch",
    "prepare",
    "one_hot",
    "shuffle",
    "train_val_split",
    "batches",
    "BatchLoader",
]

#: Mean and standard deviation of the 47,040,000 training pixels after scaling to [0, 1]
#: (sum of pixels 1,567,298,545 / 255 / 47,040,000 = 0.1307; std 0.3081).
MNIST_MEAN: float = 0.1307
MNIST_STD: float = 0.3081

#: a pipeline step ``(x, rng) -> x``; ``prepare_batch`` passes its ``rng`` as given, so it may be None
Augment = Callable[[np.ndarray, np.random.Generator | None], np.ndarray]
Normalize = Callable[[np.ndarray], np.ndarray]

# --------------------------------------------------------------------------------------------- the steps


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 -> a new float32 array in [0, 1], same shape.

    Never in place: the seed divided a uint8 array in place, which wraps around instead of scaling."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(
            f"to_float expects uint8 pixels 0..255, got dtype {images.dtype}"
            + (" (already converted?)" if images.dtype.kind == "f" else "")
        )
    return np.divide(images, np.float32(255), dtype=np.float32)


def standardize(x: np.ndarray, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> np.ndarray:
    """(x - mean) / std as a new float array (float32 stays float32). Defaults: the MNIST training-set pixel
    mean 0.1307 and std 0.3081 of images scaled to [0, 1], so call ``to_float`` first."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"standardize expects float images in [0, 1] (use to_float first), got dtype {x.dtype}")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    return (x - x.dtype.type(mean)) / x.dtype.type(std)


def resize(
    images: np.ndarray, size: int, method: Literal["zoom", "pad"] = "zoom", *, order: int = 1, pad_value: float = 0.0
) -> np.ndarray:
    """Resize a batch of square images (N, H, W) or (N, C, H, W) to size x size, same layout and dtype.

    ``method="zoom"``: one ``scipy.ndimage.zoom`` call over the whole (N*C, H, W) stack (zoom factor 1 on the
    stack axis, so images never mix), spline ``order`` 0 or 1 (corner pixels aligned, scipy's default; the seed
    zoomed 28 -> 64).
    Integer images are interpolated in float32 and rounded back. ``method="pad"``: add ``pad_value``
    (background) borders, (size - H) // 2 before and the rest after: 28 -> 32 pads 2 on each side and keeps
    every pixel exact.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or images.shape[-1] != images.shape[-2]:
        raise ValueError(f"resize expects square images (N, H, W) or (N, C, H, W), got shape {images.shape}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    h = images.shape[-1]
    lead = images.ndim - 2
    if size == h:
        return images.copy()
    if method == "pad":
        if size < h:
            raise ValueError(f"method='pad' can only grow images: {h} -> {size}; use method='zoom'")
        before = (size - h) // 2
        widths = [(0, 0)] * lead + [(before, size - h - before)] * 2
        return np.pad(images, widths, constant_values=pad_value)
    if method != "zoom":
        raise ValueError(f"method must be 'zoom' or 'pad', got {method!r}")
    if order not in (0, 1):
        # Higher orders prefilter along the batch axis too, which would blend neighbouring images.
        raise ValueError(f"order must be 0 or 1 for a batch-vectorised zoom, got {order}")
    # One 3-D zoom over the (N*C, H, W) stack (a 4-D zoom would be ~3x slower: 16 taps per pixel instead of 8).
    stack = images.reshape(-1, h, h)
    if images.dtype.kind != "f":
        stack = stack.astype(np.float32)
    out = ndimage.zoom(stack, (1, size / h, size / h), order=order)
    if out.shape[-2:] != (size, size):  # zoom rounds the output size; never expected for integral sizes
        raise AssertionError(f"zoom produced {out.shape}, expected size {size}")
    if images.dtype.kind != "f":
        info = np.iinfo(images.dtype)
        out = np.clip(np.rint(out), info.min, info.max).astype(images.dtype)
    return out.reshape(images.shape[:-2] + (size, size))


# --------------------------------------------------------------------------------------------- the pipeline


def prepare_batch(
    images: np.ndarray,
    *,
    input_shape: Sequence[int] | None = None,
    method: Literal["zoom", "pad"] = "pad",
    mean: float = MNIST_MEAN,
    std: float = MNIST_STD,
    normalize: Normalize | None = standardize,
    dtype: Any = np.float32,
    augment: Augment | None = None,
    rng: np.random.Generator | None = None,
    where: str = "prepare",
) -> np.ndarray:
    """THE preparation pipeline: a batch of images -> the network's input, C-contiguous ``dtype`` (N, C, H, W).

    * uint8 images 0..255, (N, H, W) or (N, C, H, W) (other integer arrays must hold 0..255):
      ``to_float`` ([0, 1], a new array) -> channel axis (N, 1, H, W) -> ``augment(x, rng)`` if given (on [0, 1]
      images with background 0, as :mod:`vgglib.augment` expects) -> ``resize`` to ``input_shape`` (C, S, S) with
      ``method`` ("pad": 28 -> 32 on a zero border; "zoom": the seed's 28 -> 64) -> ``normalize``:
      ``standardize(x, mean, std)`` by default, any other callable ``x -> x`` (e.g. a fitted
      ``vgglib.augment.ZCAWhitening``) as it is, ``None`` keeps [0, 1].
    * float arrays are taken as already prepared: they must be (N, *input_shape); only ``augment`` is applied.

    ``input_shape=None`` keeps the images' size. ``where`` starts the error messages.
    """
    x = images if isinstance(images, np.ndarray) else np.asarray(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{where}: expected images (N, H, W) or (N, C, H, W), got shape {x.shape}")
    shape = None if input_shape is None else tuple(int(s) for s in input_shape)
    if np.issubdtype(x.dtype, np.floating):
        _check_prepared(x, shape, where)
        if augment is not None:
            x = augment(x, rng)
        return x.astype(dtype, copy=False)
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"{where}: expected uint8 images or float inputs, got dtype {x.dtype}")
    if x.dtype != np.uint8:
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ValueError(f"{where}: integer images must be pixels in 0..255, got values in {x.min()}..{x.max()}")
        x = x.astype(np.uint8)
    x = to_float(x)  # [0, 1], a new array
    if x.ndim == 3:
        x = x[:, None]  # (N, 1, H, W)
    if augment is not None:
        x = augment(x, rng)
    if shape is not None:
        x = _resize_to(x, shape, method, where)
    if normalize is standardize:
        x = standardize(x, mean, std)
    elif normalize is not None:
        x = normalize(x)
    return np.ascontiguousarray(x, dtype=dtype)


def _check_prepared(x: np.ndarray, shape: tuple[int, ...] | None, where: str) -> None:
    if x.ndim != 4 or (shape is not None and x.shape[1:] != shape):
        expected = "(N, C, H, W)" if shape is None else f"(N, {', '.join(map(str, shape))})"
        raise ValueError(
            f"{where}: float arrays are used as prepared model inputs and must have shape {expected}, got "
            f"{x.shape}; pass the raw uint8 images to have them prepared, or prepare them yourself "
            "(vgglib.preprocess.prepare)"
        )


def _resize_to(x: np.ndarray, shape: tuple[int, ...], method: Literal["zoom", "pad"], where: str) -> np.ndarray:
    """(N, C, h, w) -> (N, *shape) by ``resize``, after checking the channels."""
    c, h, w = shape
    if x.shape[1] != c:
        raise ValueError(f"{where}: images have {x.shape[1]} channels, the model expects {c}")
    if x.shape[2:] == (h, w):
        return x
    if h != w:
        raise ValueError(f"{where}: can only resize to square inputs, the model expects {h}x{w}")
    return resize(x, h, method)


def prepare(
    images: np.ndarray,
    size: int = 32,
    method: Literal["zoom", "pad"] = "pad",
    normalize: Normalize | None = standardize,
) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 (N, 1, size, size), the network's input, in one call.

    ``prepare_batch`` with ``input_shape=(1, size, size)``: ``to_float`` ([0, 1]), add the channel axis,
    ``resize(size, method)``, then ``normalize`` (default ``standardize`` with the MNIST constants; ``None`` keeps
    [0, 1]; any callable, e.g. a fitted ``vgglib.augment.ZCAWhitening``). ``size=32, method="pad"`` suits
    VGG16's five 2x2 poolings; ``size=64, method="zoom"`` is the seed's input.
    """
    return prepare_batch(images, input_shape=(1, size, size), method=method, normalize=normalize)


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Integer labels (N,) -> float32 (N, num_classes) with a single 1 per row."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"one_hot expects integer labels (N,), got dtype {labels.dtype} shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in 0..{num_classes - 1}, found {labels.min()}..{labels.max()}")
    out = np.zeros((labels.size, num_classes), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


# --------------------------------------------------------------------------------------------- shuffling, batches


def _check_xy(X: np.ndarray, y: np.ndarray) -> None:
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}; expected equal lengths")


def shuffle(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle images and labels with ONE permutation, so every image keeps its label (new arrays).

    The seed shuffled the images and the labels with two separate shuffles: afterwards the labels were
    random with respect to the images."""
    _check_xy(X, y)
    perm = as_rng(rng).permutation(len(X))
    return X[perm], y[perm]


def train_val_split(
    X: np.ndarray, y: np.ndarray, val_size: float | int = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split into ``((X_train, y_train), (X_val, y_val))``.

    ``val_size``: a fraction in (0, 1) or a count. Without ``rng`` the last samples become the validation set
    (deterministic, original order); with ``rng`` the samples are shuffled first (one permutation)."""
    _check_xy(X, y)
    n = len(X)
    if isinstance(val_size, float) and not 0 < val_size < 1:
        raise ValueError(f"val_size as a fraction must be in (0, 1), got {val_size}")
    n_val = round(n * val_size) if isinstance(val_size, float) else int(val_size)
    if not 0 < n_val < n:
        raise ValueError(f"val_size {val_size!r} gives {n_val} of {n} samples; need between 1 and {n - 1}")
    idx = as_rng(rng).permutation(n) if rng is not None else np.arange(n)
    tr, va = idx[: n - n_val], idx[n - n_val :]
    return (X[tr], y[tr]), (X[va], y[va])


def batches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    drop_last: bool = False,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs of ``batch_size`` samples (the last one smaller unless ``drop_last``).

    With ``rng`` the order is one permutation drawn up front (images and labels stay together); without it the
    original order. ``transform`` is applied to each image batch only (labels untouched), lazily, so e.g. the
    resized full training set is never materialised."""
    _check_xy(X, y)
    batch_size = check_batch_size(batch_size, "batches")
    return _batches(X, y, batch_size, rng, drop_last, transform)


def _batches(X, y, batch_size, rng, drop_last, transform):
    n = len(X)
    order = as_rng(rng).permutation(n) if rng is not None else None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            xb, yb = X[idx], y[idx]
        yield (transform(xb) if transform is not None else xb), yb


class BatchLoader:
    """Lazily preprocessed mini-batches of MNIST for training and evaluation.

    Holds the uint8 images (N, 28, 28) (47 MB for the full training set) and runs ``prepare_batch`` on one batch
    at a time: ``to_float`` -> ``augment(x, rng)`` on float32 (B, 1, 28, 28) in [0, 1] (background 0) ->
    ``resize(size, method)`` -> ``normalize`` (default ``standardize``). So 60,000 images at 64x64 float32
    (~1 GB) are never held at once.

    Contract: ``loader.epoch(rng)`` yields ``(x, y)`` with ``x`` a C-contiguous float32 array
    (B, 1, size, size) (NCHW) and ``y`` the labels (B,) in the dtype given (uint8 for MNIST, not one-hot),
    B = ``batch_size`` except a smaller last batch unless ``drop_last``. With ``rng`` (a Generator or int seed)
    the order is one permutation drawn at the start of the epoch, then the same ``rng`` drives ``augment``; so
    the same seed gives the same batches, and the labels sequence does not depend on ``augment``. ``epoch()``
    without ``rng`` (and ``iter(loader)``) go in the original order; that needs ``augment=None``.
    ``len(loader)`` is the number of batches per epoch. ``augment`` is any callable ``(x, rng) -> x`` that keeps
    shape and dtype, e.g. ``vgglib.augment.Compose([...])``.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int = 64,
        *,
        size: int = 32,
        method: Literal["zoom", "pad"] = "pad",
        augment: Augment | None = None,
        normalize: Normalize | None = standardize,
        drop_last: bool = False,
    ):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(f"BatchLoader expects uint8 images (N, H, W), got {images.dtype} {images.shape}")
        _check_xy(images, labels)
        if method not in ("zoom", "pad"):
            raise ValueError(f"method must be 'zoom' or 'pad', got {method!r}")
        self.images, self.labels = images, labels
        self.batch_size = check_batch_size(batch_size, "BatchLoader")
        self.size, self.method = int(size), method
        self.augment, self.normalize, self.drop_last = augment, normalize, drop_last

    def __len__(self) -> int:
        n = len(self.images)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _transform(self, xb: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        return prepare_batch(
            xb,
            input_shape=(1, self.size, self.size),
            method=self.method,
            normalize=self.normalize,
            augment=self.augment,
            rng=rng,
            where="BatchLoader",
        )

    def epoch(
        self, rng: np.random.Generator | int | None = None, *, shuffle: bool = True
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One pass over the data (see the class docstring); ``shuffle=False`` keeps the order but still
        augments with ``rng``."""
        if rng is None and self.augment is not None:
            raise ValueError("this loader augments: pass a seeded rng, loader.epoch(rng), so runs are repeatable")
        gen = as_rng(rng) if rng is not None else None
        return batches(
            self.images,
            self.labels,
            self.batch_size,
            gen if shuffle else None,
            self.drop_last,
            transform=lambda xb: self._transform(xb, gen),
        )

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return self.epoch()

    def __repr__(self) -> str:
        return (
            f"BatchLoader({len(self.images)} images, batch_size={self.batch_size}, size={self.size}, "
            f"method={self.method!r}, augment={self.augment!r}, drop_last={self.drop_last})"
        )
