"""Data augmentation for image batches: random shift, horizontal flip, rotation, zoom, ZCA whitening, Compose.

Derived and shown in ``notebooks/12_data_augmentation.ipynb``; the trainer applies a ``Compose`` per batch through
``vgglib.preprocess.BatchLoader(augment=...)`` and ``fit(augment=...)``.

Conventions: every transform takes a float batch (N, 1, H, W) (or (N, C, H, W), or (N, H, W)) with background 0,
e.g. ``vgglib.preprocess.to_float`` output in [0, 1], and returns a new array of the same shape and dtype. Random
transforms draw their parameters from the ``np.random.Generator`` passed in (or an int seed), one set per image,
so the same seed gives the same batch; at zero strength they return an exact copy. Labels are never touched: an
augmentation must not change which digit an image shows.

Which augmentations make sense for digits? Small shifts (1-3 px), small rotations (up to ~15 degrees) and mild
zooms (+-10 %) mimic how people write and keep the digit's identity. Horizontal flips do not: a flipped 2, 3, 4, 5,
6, 7 or 9 is not a digit at all (and 0, 1, 8 barely change), so ``RandomFlip`` is here as the counter-example;
large rotations are harmful too (a 6 rotated by 180 degrees is a 9). ZCA whitening is not random: it is a
preprocessing step fitted on the training data, applied to all data.

Rotation and zoom resample the whole batch with one ``scipy.ndimage.map_coordinates`` call (bilinear; the batch
coordinate is an exact integer, so images never mix); shift and flip are pure indexing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage

from .checks import as_rng

__all__ = [
    "random_shift",
    "random_flip",
    "random_rotation",
    "random_zoom",
    "RandomShift",
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "ZCAWhitening",
    "Compose",
]

RngLike = np.random.Generator | int | None


def _as_nchw(x: np.ndarray, name: str) -> np.ndarray:
    """View of a float batch as (N, C, H, W); raises on anything else."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name} expects float images (e.g. vgglib.preprocess.to_float output), got dtype {x.dtype}")
    if x.ndim == 3:
        return x[:, None]
    if x.ndim == 4:
        return x
    raise ValueError(f"{name} expects a batch (N, 1, H, W) or (N, H, W), got shape {x.shape}")


def random_shift(x: np.ndarray, max_shift: int, rng: RngLike = None, fill: float = 0.0) -> np.ndarray:
    """Shift each image by whole pixels, dy and dx drawn uniformly from -max_shift..max_shift; the uncovered
    border is ``fill`` (background). Digits tolerate 1-3 px on 28x28 (they are centred by mass)."""
    x4 = _as_nchw(x, "random_shift")
    if max_shift < 0 or int(max_shift) != max_shift:
        raise ValueError(f"max_shift must be a non-negative int, got {max_shift!r}")
    m = int(max_shift)
    if m == 0:
        return np.array(x, copy=True)
    n, c, h, w = x4.shape
    shifts = as_rng(rng).integers(-m, m + 1, size=(n, 2))
    padded = np.pad(x4, ((0, 0), (0, 0), (m, m), (m, m)), constant_values=fill)
    # Output pixel (i, j) of image k reads padded pixel (i + m - dy_k, j + m - dx_k).
    rows = (np.arange(h)[None, :] + m - shifts[:, :1])[:, None, :, None]
    cols = (np.arange(w)[None, :] + m - shifts[:, 1:])[:, None, None, :]
    out = padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]
    return out.reshape(np.shape(x))


def random_flip(x: np.ndarray, rng: RngLike = None, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability ``p``. Wrong for digits (a mirrored 2 is no digit): shown
    in the augmentation notebook as the augmentation that hurts; fine for e.g. photos of objects."""
    x4 = _as_nchw(x, "random_flip")
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    out = np.array(x4, copy=True)
    if p > 0:
        flip = as_rng(rng).random(len(x4)) < p
        out[flip] = out[flip][..., ::-1]
    return out.reshape(np.shape(x))


def _resample(x4: np.ndarray, matrices: np.ndarray, order: int, fill: float, chunk: int = 512) -> np.ndarray:
    """Per-image affine resampling about the image centre: output pixel p reads input A_k (p - c) + c.

    One ``map_coordinates`` call per chunk of images over the (N*C, H, W) stack; the stack coordinate is an exact
    integer and order <= 1 needs no spline prefilter, so no value leaks between images."""
    n, c, h, w = x4.shape
    stack = np.ascontiguousarray(x4).reshape(n * c, h, w)
    out = np.empty_like(stack)
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    grid = np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij")).reshape(2, -1) - centre[:, None]
    mats = np.repeat(matrices, c, axis=0)  # one matrix per (image, channel) slice
    for s in range(0, n * c, chunk):
        e = min(s + chunk, n * c)
        src = np.einsum("kab,bp->akp", mats[s:e], grid) + centre[:, None, None]  # (2, k, H*W)
        coords = np.empty((3, e - s, h * w))
        coords[0] = np.arange(s, e)[:, None] - s
        coords[1:] = src
        out[s:e] = ndimage.map_coordinates(
            stack[s:e], coords.reshape(3, e - s, h, w), order=order, mode="constant", cval=fill, prefilter=False
        )
    return out.reshape(x4.shape)


def _check_order(order: int) -> None:
    if order not in (0, 1):
        raise ValueError(f"order must be 0 (nearest) or 1 (bilinear), got {order}")


def random_rotation(
    x: np.ndarray, max_degrees: float, rng: RngLike = None, order: int = 1, fill: float = 0.0
) -> np.ndarray:
    """Rotate each image about its centre by an angle drawn uniformly from [-max_degrees, max_degrees].
    Up to ~15 degrees suits digits; much more confuses 6 and 9 (and 2 and 5 at 180)."""
    x4 = _as_nchw(x, "random_rotation")
    _check_order(order)
    if max_degrees < 0:
        raise ValueError(f"max_degrees must be >= 0, got {max_degrees}")
    if max_degrees == 0:
        return np.array(x, copy=True)
    theta = np.deg2rad(as_rng(rng).uniform(-max_degrees, max_degrees, size=len(x4)))
    cos, sin = np.cos(theta), np.sin(theta)
    # Output -> input map in (row, col) coordinates (rows point down); positive angles turn the digit
    # counter-clockwise on screen, as scipy.ndimage.rotate and np.rot90 do.
    mats = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], 1)
    return _resample(x4, mats, order, fill).reshape(np.shape(x))


def random_zoom(x: np.ndarray, max_zoom: float, rng: RngLike = None, order: int = 1, fill: float = 0.0) -> np.ndarray:
    """Scale each image about its centre by a factor drawn uniformly from [1 - max_zoom, 1 + max_zoom] (> 1
    enlarges the digit, < 1 shrinks it, same output size). About 0.1 suits digits."""
    x4 = _as_nchw(x, "random_zoom")
    _check_order(order)
    if not 0 <= max_zoom < 1:
        raise ValueError(f"max_zoom must be in [0, 1), got {max_zoom}")
    if max_zoom == 0:
        return np.array(x, copy=True)
    s = as_rng(rng).uniform(1 - max_zoom, 1 + max_zoom, size=len(x4))
    mats = np.eye(2)[None] / s[:, None, None]
    return _resample(x4, mats, order, fill).reshape(np.shape(x))


class RandomShift:
    """``random_shift`` as a pipeline step: ``RandomShift(2)(x, rng)``."""

    def __init__(self, max_shift: int = 2, fill: float = 0.0):
        self.max_shift, self.fill = max_shift, fill

    def __call__(self, x: np.ndarray, rng: RngLike = None) -> np.ndarray:
        return random_shift(x, self.max_shift, rng, self.fill)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift})"


class RandomFlip:
    """``random_flip`` as a pipeline step (wrong for digits; see the module docstring)."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, x: np.ndarray, rng: RngLike = None) -> np.ndarray:
        return random_flip(x, rng, self.p)

    def __repr__(self) -> str:
        return f"RandomFlip(p={self.p})"


class RandomRotation:
    """``random_rotation`` as a pipeline step: ``RandomRotation(10)(x, rng)``."""

    def __init__(self, max_degrees: float = 10.0, order: int = 1, fill: float = 0.0):
        self.max_degrees, self.order, self.fill = max_degrees, order, fill

    def __call__(self, x: np.ndarray, rng: RngLike = None) -> np.ndarray:
        return random_rotation(x, self.max_degrees, rng, self.order, self.fill)

    def __repr__(self) -> str:
        return f"RandomRotation(max_degrees={self.max_degrees})"


class RandomZoom:
    """``random_zoom`` as a pipeline step: ``RandomZoom(0.1)(x, rng)``."""

    def __init__(self, max_zoom: float = 0.1, order: int = 1, fill: float = 0.0):
        self.max_zoom, self.order, self.fill = max_zoom, order, fill

    def __call__(self, x: np.ndarray, rng: RngLike = None) -> np.ndarray:
        return random_zoom(x, self.max_zoom, rng, self.order, self.fill)

    def __repr__(self) -> str:
        return f"RandomZoom(max_zoom={self.max_zoom})"


class ZCAWhitening:
    """ZCA whitening: decorrelate pixels while staying as close as possible to the original image.

    ``fit(X)`` on training images (N, ...) flattened to D = prod(...) features: mean mu and covariance
    C = U diag(lambda) U^T (divided by N), then W = U diag(1 / sqrt(lambda + epsilon)) U^T.
    ``transform(X)`` = (X - mu) W, reshaped back, same dtype (float32 in -> float32 out); also callable as a
    pipeline step ``zca(x, rng)`` (rng ignored). The whitened training data has covariance
    U diag(lambda / (lambda + epsilon)) U^T: the identity up to epsilon.

    ``epsilon`` (default 1e-2, in squared pixel units of images scaled to [0, 1]; the average MNIST pixel
    variance is ~0.095) regularises directions of tiny variance: with epsilon -> 0 they (mostly noise, and the
    constant-zero MNIST border) would be amplified without bound. Larger epsilon keeps more of the image's look
    (edges emphasised, strokes visible); 1e-3 .. 1e-1 is the useful range. Fitting costs O(N D^2 + D^3):
    fine at 28x28 or 32x32 (D = 784 or 1024), slow at 64x64 (D = 4096).
    """

    def __init__(self, epsilon: float = 1e-2):
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon}")
        self.epsilon = float(epsilon)
        self.mean_: np.ndarray | None = None
        self.components_: np.ndarray | None = None  # W, (D, D)
        self.shape_: tuple[int, ...] | None = None

    def fit(self, X: np.ndarray) -> ZCAWhitening:
        X = np.asarray(X)
        if X.dtype.kind != "f" or X.ndim < 2 or len(X) < 2:
            raise ValueError(f"ZCAWhitening.fit expects float samples (N >= 2, ...), got {X.dtype} {X.shape}")
        flat = X.reshape(len(X), -1).astype(np.float64)
        mean = flat.mean(axis=0)
        centred = flat - mean
        cov = centred.T @ centred / len(flat)
        lam, U = np.linalg.eigh(cov)
        lam = np.clip(lam, 0, None)  # tiny negative eigenvalues are rounding error
        self.mean_ = mean
        self.components_ = (U * (1 / np.sqrt(lam + self.epsilon))) @ U.T
        self.shape_ = X.shape[1:]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.components_ is None:
            raise RuntimeError("ZCAWhitening.transform before fit: call fit(training_images) first")
        assert self.mean_ is not None  # fit sets it with components_
        X = np.asarray(X)
        if X.dtype.kind != "f" or X.shape[1:] != self.shape_:
            raise ValueError(f"ZCAWhitening was fitted on samples of shape {self.shape_}; got {X.dtype} {X.shape}")
        flat = X.reshape(len(X), -1)
        w = self.components_.astype(X.dtype)
        return ((flat - self.mean_.astype(X.dtype)) @ w).reshape(X.shape)

    def __call__(self, x: np.ndarray, rng: RngLike = None) -> np.ndarray:
        return self.transform(x)

    def __repr__(self) -> str:
        return f"ZCAWhitening(epsilon={self.epsilon}{', fitted' if self.components_ is not None else ''})"


class Compose:
    """Apply transforms in order, all drawing from the same generator: ``Compose([RandomShift(2),
    RandomRotation(10)])(x, rng)``. Each transform is a callable ``(x, rng) -> x``."""

    def __init__(self, transforms: Sequence[Callable[[np.ndarray, np.random.Generator], np.ndarray]]):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose expects callables (x, rng) -> x, got {t!r}")

    def __call__(self, x: np.ndarray, rng: RngLike = None) -> np.ndarray:
        gen = as_rng(rng)
        out = np.array(x, copy=True)
        for t in self.transforms:
            out = t(out, gen)
        return out

    def __repr__(self) -> str:
        return f"Compose([{', '.join(map(repr, self.transforms))}])"
