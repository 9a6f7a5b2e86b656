"""Self-checks for the exercises of ``notebooks/12_data_augmentation.ipynb``.

Worked solutions: ``notebooks/solutions/12_data_augmentation_solutions.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, verdict

__all__ = ["TRANSFORMS", "check_label_preserving", "check_shift", "check_zca_matrix"]

#: the candidate transforms of exercise 1
TRANSFORMS = (
    "shift by 2 pixels",
    "rotate by 10 degrees",
    "mirror left-right",
    "rotate by 180 degrees",
    "zoom in by 10%",
    "mirror top-bottom",
)
_SAFE = {"shift by 2 pixels", "rotate by 10 degrees", "zoom in by 10%"}


def check_label_preserving(answer: Any) -> ExerciseResult:
    """Exercise 1: the set of transforms in ``TRANSFORMS`` that keep every MNIST digit's label."""
    name = "label_preserving"
    if answer is None:
        return verdict(name, False, "", "no answer yet: replace None with a set of names from TRANSFORMS")
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        return verdict(name, False, "", "expected a set of names, e.g. {'shift by 2 pixels', ...}")
    chosen = set(answer)
    unknown = chosen - set(TRANSFORMS)
    if unknown:
        return verdict(name, False, "", f"not in TRANSFORMS: {sorted(unknown)}; copy the names exactly")
    if chosen == _SAFE:
        return verdict(
            name,
            True,
            "small shifts, rotations and zooms mimic handwriting; mirrors and large "
            "rotations make non-digits or other digits (6 <-> 9).",
            "",
        )
    wrong = chosen - _SAFE
    if wrong:
        which = sorted(wrong)[0]
        if "mirror" in which:
            return verdict(name, False, "", f"'{which}' turns a 2, 3, 4, 5, 7 or 9 into a shape that is no digit")
        return verdict(name, False, "", f"'{which}' turns a 6 into a 9 (and a 9 into a 6)")
    return verdict(name, False, "", f"{len(_SAFE - chosen)} more of the transforms keep the label")


def _reference_shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(image)
    h, w = image.shape
    if abs(dy) >= h or abs(dx) >= w:  # the whole image leaves the frame
        return out
    src = image[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def check_shift(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 2: ``func(image (H, W), dy, dx)`` -> the image moved dy rows down and dx columns right, the
    uncovered border filled with 0 (background), nothing wrapped around."""
    name = "shift"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    wide = np.arange(1.0, 36.0).reshape(5, 7)
    cases = [(wide, dy, dx) for dy, dx in ((1, 2), (-2, 1), (0, -3), (0, 0), (3, -1))]
    tall = np.arange(1, 13, dtype=np.uint8).reshape(4, 3)  # raw uint8 pixels, more rows than columns
    cases += [(tall, 2, 1), (tall, -1, -2), (tall, 4, 0)]  # the last moves the whole image out: all background
    row = np.arange(1.0, 7.0).reshape(1, 6)  # a single row
    cases += [(row, 0, 2), (row, 1, 0)]
    for image, dy, dx in cases:
        img = image.copy()
        try:
            out = func(img, dy, dx)
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            where = f"dy={dy}, dx={dx}, image shape {image.shape}"
            return verdict(name, False, "", f"your function raised {type(err).__name__}: {err} ({where})")
        if not np.array_equal(img, image):
            return verdict(name, False, "", "your function changed the image in place; return a new array")
        out = np.asarray(out)
        if out.shape != image.shape:
            return verdict(name, False, "", f"the shifted image must keep the shape {image.shape}, got {out.shape}")
        expected = _reference_shift(image, dy, dx)
        if np.array_equal(out, expected):
            continue
        if np.array_equal(out, np.roll(image, (dy, dx), axis=(0, 1))):
            return verdict(
                name,
                False,
                "",
                "pixels that leave on one side come back on the other (np.roll): the "
                "uncovered border must be background, 0",
            )
        if np.array_equal(out, _reference_shift(image, -dy, -dx)):
            return verdict(name, False, "", "the image moved the wrong way: dy > 0 moves it down, dx > 0 right")
        if np.array_equal(out, _reference_shift(image, dx, dy)):
            return verdict(name, False, "", "rows and columns are swapped: dy moves along axis 0, dx along axis 1")
        return verdict(
            name,
            False,
            "",
            f"wrong result for dy={dy}, dx={dx} on a {image.shape} image; try it on a small array by hand",
        )
    return verdict(name, True, "shifted with a zero border, in every direction, for every image shape.", "")


def _zca_reference(X: np.ndarray, eps: float, ddof: int = 0) -> np.ndarray:
    centred = X - X.mean(axis=0)
    cov = centred.T @ centred / (len(X) - ddof)
    lam, U = np.linalg.eigh(cov)
    return (U / np.sqrt(np.clip(lam, 0, None) + eps)) @ U.T


def check_zca_matrix(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``func(X (N, D), eps)`` -> the ZCA whitening matrix W (D, D), W = U (Λ + eps)^(-1/2) Uᵀ of the
    covariance of the centred data."""
    name = "zca_matrix"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    rng = np.random.default_rng(12)
    datasets = [
        (rng.standard_normal((300, 6)) @ rng.standard_normal((6, 6)) + 3.0, 0.1),
        (rng.standard_normal((40, 3)) * np.array([5.0, 1.0, 0.2]) - 1.0, 1e-3),  # few samples, another eps
    ]
    for X, eps in datasets:
        result = _check_zca_case(name, func, X, eps)
        if result is not None:
            return result
    return verdict(
        name,
        True,
        "W is symmetric, whitens the data (W C Wᵀ ≈ I up to eps) and, of all "
        "whitening matrices, changes the images least.",
        "",
    )


def _check_zca_case(name: str, func: Callable[..., Any], X: np.ndarray, eps: float) -> ExerciseResult | None:
    """None when ``func`` gives the ZCA matrix of ``X``, else the verdict that says what is wrong."""
    d = X.shape[1]
    Xin = X.copy()
    try:
        W = func(Xin, eps)
    except NotImplementedError:
        return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
    except Exception as err:  # noqa: BLE001 — the student's code may raise anything
        return verdict(name, False, "", f"your function raised {type(err).__name__}: {err}")
    if not np.array_equal(Xin, X):
        return verdict(name, False, "", "your function changed X in place")
    try:
        W = np.asarray(W, dtype=np.float64)
    except (TypeError, ValueError):
        return verdict(name, False, "", f"expected W as a (D, D) array, got {type(W).__name__}")
    if W.shape != (d, d):
        return verdict(name, False, "", f"W must be (D, D) = ({d}, {d}) for X of shape {X.shape}, got {W.shape}")
    if any(np.allclose(W, _zca_reference(X, eps, ddof), rtol=1e-6, atol=1e-9) for ddof in (0, 1)):
        return None
    centred = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(centred.T @ centred / len(X))
    if np.allclose(np.abs(W), np.abs((U / np.sqrt(lam + eps)).T), rtol=1e-6):
        return verdict(
            name,
            False,
            "",
            "that is PCA whitening, Λ^(-1/2) Uᵀ: it rotates the data into the eigenbasis; ZCA rotates back with U",
        )
    if np.allclose(W, _zca_reference(X, 0.0), rtol=1e-6) or np.allclose(W, _zca_reference(X, 0.0, 1), rtol=1e-6):
        return verdict(name, False, "", "eps is missing: add it to the eigenvalues before the square root")
    raw_cov = X.T @ X / len(X)
    lam2, U2 = np.linalg.eigh(raw_cov)
    if np.allclose(W, (U2 / np.sqrt(lam2 + eps)) @ U2.T, rtol=1e-6):
        return verdict(name, False, "", "subtract the mean first: the covariance is of the centred data")
    if not np.allclose(W, W.T, atol=1e-8):
        return verdict(name, False, "", "a ZCA matrix is symmetric (U D Uᵀ); check the order of the factors")
    return verdict(name, False, "", "compute C = Xcᵀ Xc / N, its eigh, then U diag(1/sqrt(λ + eps)) Uᵀ")
