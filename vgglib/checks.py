"""Argument checks shared by every module: one home, so every bad input is reported the same way.

Each check returns the cleaned value or raises ``TypeError``/``ValueError`` with a message that names where
the value was given (``where``), what was wrong and what was expected. Nothing here imports another vgglib
module: every other module may use it. Why the checks matter (the seed's uint8 wrap-around) is shown in
``notebooks/07_mnist_data.ipynb``.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "check_float_array",
    "check_positive_int",
    "check_number",
    "check_batch_size",
    "check_class_ids",
    "check_labels",
    "check_class_range",
    "check_images",
    "check_learning_rate",
    "check_writable",
    "as_rng",
]


def check_float_array(x: Any, where: str, ndim: int | None = None) -> np.ndarray:
    """Return ``x`` as an ndarray after checking it is a float array with ``ndim`` axes.

    Integer and uint8 images are refused on purpose: the seed normalised uint8 pixels in place, and
    ``uint8`` arithmetic wraps around (250 + 10 == 4). Convert first with ``x.astype(np.float32) / 255``.
    """
    if not isinstance(x, np.ndarray):
        if isinstance(x, (list, tuple)):
            x = np.asarray(x)
        else:
            raise TypeError(f"{where}: expected a numpy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{where}: expected a float array (float32 or float64), got dtype {x.dtype}. "
            "Normalise images first, e.g. x.astype(np.float32) / 255 (integer pixels wrap around)."
        )
    if ndim is not None and x.ndim != ndim:
        layout = {4: "(N, C, H, W)", 2: "(N, features)"}.get(ndim, f"{ndim} axes")
        raise ValueError(f"{where}: expected a {ndim}-D array {layout}, got shape {x.shape} ({x.ndim}-D)")
    return x


def check_positive_int(value: Any, name: str, where: str, minimum: int = 1) -> int:
    """``value`` as an int after checking it is an integer (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{where}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_number(
    value: Any,
    name: str,
    where: str,
    low: float = 0.0,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float after checking it is a real number (not a bool, not NaN) in the given range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    v = float(value)
    ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok or math.isnan(v):
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{where}: {name} must be in {lo}{low}, {high}{hi}, got {value!r}")
    return v


def check_batch_size(batch_size: Any, where: str) -> int:
    """``batch_size`` as an int after checking it is an integer (not a bool) >= 1."""
    return check_positive_int(batch_size, "batch_size", where)


def check_class_ids(y: Any, where: str) -> np.ndarray:
    """``y`` as an ndarray after checking it holds class ids: a 1-D integer array (N,) (not one-hot)."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{where}: labels must be class ids, an integer array (N,), got {y.dtype} {y.shape}")
    return y


def check_labels(X: Any, y: Any, where: str) -> np.ndarray:
    """Class ids ``y`` (N,) for the images ``X``: one per image, at least one (returned as an ndarray)."""
    y = check_class_ids(y, where)
    if len(X) != len(y):
        raise ValueError(f"{where}: {len(X)} images but {len(y)} labels; expected one label per image")
    if len(y) == 0:
        raise ValueError(f"{where}: no images")
    return y


def check_class_range(y: np.ndarray, num_classes: int, where: str) -> None:
    """Check that the class ids ``y`` (an integer array (N,)) are all in ``0..num_classes - 1``.

    The error names the first bad label's index and value, so a wrong label at the end of a data set is found
    before training starts, not at the batch that happens to hold it."""
    bad = np.flatnonzero((y < 0) | (y >= num_classes))
    if bad.size:
        i = int(bad[0])
        more = f" ({bad.size} bad labels in all)" if bad.size > 1 else ""
        raise ValueError(
            f"{where}: label {int(y[i])} at index {i} is not a class id in 0..{num_classes - 1} "
            f"(the model has {num_classes} outputs){more}"
        )


def check_images(X: Any, where: str, chunk: int = 4096) -> None:
    """Check every image of ``X`` before training on it: float inputs must be finite (NaN or inf would make the
    loss NaN and look like divergence); integer images other than uint8 must hold pixels 0..255. uint8 images
    cannot be wrong. The error names the first bad image's index. Checked ``chunk`` images at a time."""
    x = X if isinstance(X, np.ndarray) else np.asarray(X)
    if x.dtype == np.uint8 or x.ndim == 0 or not len(x):
        return
    floating = np.issubdtype(x.dtype, np.floating)
    if not floating and not np.issubdtype(x.dtype, np.integer):
        return  # the preparation step reports other dtypes
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk].reshape(min(chunk, len(x) - start), -1)
        bad_rows = ~np.isfinite(part) if floating else (part < 0) | (part > 255)
        rows = np.flatnonzero(bad_rows.any(axis=1))
        if rows.size:
            i = start + int(rows[0])
            value = part[rows[0]][bad_rows[rows[0]]][0]
            if floating:
                raise ValueError(
                    f"{where}: image {i} holds a non-finite value ({value}); prepared float inputs must be "
                    "finite numbers (fix or drop that image)"
                )
            raise ValueError(f"{where}: image {i} holds the pixel value {value}; integer images must be 0..255")


def check_learning_rate(lr: Any, where: str, source: str = "lr") -> float:
    """``lr`` as a float after checking it is a finite number > 0 (a negative one would climb the loss)."""
    try:
        v = float(lr)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {source} must be a number, got {lr!r}") from None
    if isinstance(lr, bool) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{where}: {source} must be a finite number > 0, got {lr!r}")
    return v


def check_writable(path: str | os.PathLike, name: str, where: str | None = None) -> Path:
    """Check that a file can be written at ``path`` (its folders may be missing: they will be made), by
    writing and removing a probe file in its nearest existing folder. Returns ``path`` as a Path.

    For the command line, before a long run starts: an output that cannot be written is found at once, not
    after the first epoch. ``name`` says what the path is (``"--out"``); ``where`` prefixes the message."""
    p = Path(path)
    start = f"{where}: " if where else ""
    if p.is_dir():
        raise ValueError(f"{start}cannot write {name} {p}: it is a folder (give a file name)")
    folder = p.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ValueError(f"{start}cannot write {name} {p}: {folder} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".vgglib-write-test-")
    except OSError as err:
        raise ValueError(f"{start}cannot write {name} {p}: {folder} is not writable ({err.strerror})") from None
    os.close(fd)
    os.unlink(probe)
    return p


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy Generator from a Generator, a seed, or None (fresh entropy)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
