"""Self-checks for the exercises of ``notebooks/01_convolution.ipynb``.

Worked solutions: ``notebooks/solutions/01_convolution_solutions.ipynb``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..im2col import output_size
from ..reference import conv2d_forward_naive
from ._common import ExerciseResult, _as_array, _call, verdict

__all__ = ["check_output_size", "check_convolution_by_hand", "check_horizontal_edge_kernel", "check_conv2d"]

#: The 5×5 binary image and the 3×3 "X" kernel of the worked example.
IMAGE = np.array(
    [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], dtype=np.float64
)
X_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)


def _raised(name: str, error: str, where: str) -> ExerciseResult:
    """The verdict when the student's function raised: the stub not written yet, or an error in it."""
    if error.startswith("NotImplementedError"):
        hint = "no answer yet: your function still raises NotImplementedError; replace that line with your code"
        return verdict(name, False, "", hint)
    return verdict(name, False, "", f"your function raised {error} for {where}")


def _correlate(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Single-channel cross-correlation of 2-D ``x`` with 2-D ``w``."""
    return conv2d_forward_naive(x[None, None], w[None, None], np.zeros(1), stride, padding)[0, 0]


def check_output_size(fn: Any) -> ExerciseResult:
    """Exercise 1: ``fn(size, kernel_size, padding, stride)`` returns the output size of a convolution."""
    name = "output_size"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself, e.g. check_output_size(conv_output_size)")
    cases = [
        (5, 3, 0, 1),
        (28, 3, 1, 1),
        (224, 3, 1, 1),
        (64, 2, 0, 2),
        (7, 3, 1, 2),
        (8, 3, 0, 2),
        (10, 5, 2, 3),
        (5, 5, 0, 3),
        (11, 1, 0, 2),
        (32, 4, 1, 3),
    ]
    for h, k, p, s in cases:
        got, error = _call(fn, h, k, p, s)
        where = f"size={h}, kernel_size={k}, padding={p}, stride={s}"
        if error is not None:
            return _raised(name, error, where)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer, float, np.floating)):
            return verdict(
                name, False, "", f"for {where} it returned {type(got).__name__} {got!r}; return a whole number"
            )
        expected = output_size(h, k, p, s)
        if got != expected:
            if got == (h + 2 * p - k) / s + 1:
                hint = "round down: a window that would stick out of the padded input is not used."
            elif got == (h + p - k) // s + 1:
                hint = "padding is added on both sides (top and bottom, left and right)."
            elif got == (h + 2 * p - k) // s:
                hint = "you forgot to count the first window (the one at position 0)."
            elif got == (h + 2 * p - k + 1) // s:
                hint = "count the window starts 0, s, 2s, …: the last start is at most size + 2·padding − k."
            else:
                hint = (
                    "list the positions where a window can start (0, s, 2s, …) so that it still fits in "
                    "the padded input, and count them."
                )
            return verdict(name, False, "", f"for {where} you returned {got!r}, which is not right: {hint}")
    return verdict(name, True, f"all {len(cases)} cases agree, including strides that do not divide evenly.", "")


def check_convolution_by_hand(answer: Any) -> ExerciseResult:
    """Exercise 2: the worked example's image ⋆ "X" kernel again, now with padding 1 and stride 2."""
    name = "convolution_by_hand"
    arr = _as_array(answer)
    if arr is None:
        return verdict(name, False, "", "no answer yet: replace None with a 2-D array (a nested list works)")
    expected = _correlate(IMAGE, X_KERNEL, stride=2, padding=1)
    if arr.shape != expected.shape:
        hint = (
            f"your answer has shape {arr.shape}; with padding 1 and stride 2 a 5×5 input gives a "
            f"{expected.shape[0]}×{expected.shape[1]} output (use the output-size formula)."
        )
        if arr.shape == (5, 5) and np.array_equal(arr, _correlate(IMAGE, X_KERNEL, 1, 1)):
            hint = "that is padding 1 with stride 1; now move the window 2 pixels at a time."
        elif arr.shape == (2, 2) and np.array_equal(arr, _correlate(IMAGE, X_KERNEL, 2, 0)):
            hint = "that is stride 2 without padding; first surround the image with a ring of zeros."
        return verdict(name, False, "", hint)
    if np.array_equal(arr, expected):
        return verdict(
            name,
            True,
            "padding lets the window start outside the image (on zeros); stride 2 skips every other position.",
            "",
        )
    if np.array_equal(arr, _correlate(IMAGE, X_KERNEL)):
        hint = "that is the worked example (no padding, stride 1); now pad with zeros and move by 2."
    else:
        wrong = int((arr != expected).sum())
        hint = (
            f"{wrong} of 9 entries differ. Pad the image with a ring of zeros (7×7), put the kernel on the "
            "top-left corner, then move it by 2."
        )
    return verdict(name, False, "", hint)


def check_horizontal_edge_kernel(kernel: Any) -> ExerciseResult:
    """Exercise 3: a 3×3 kernel that responds to horizontal edges (bright above, dark below) and nothing else."""
    name = "horizontal_edge_kernel"
    k = _as_array(kernel)
    if k is None:
        return verdict(name, False, "", "no answer yet: replace None with a 3×3 array")
    if k.shape != (3, 3):
        return verdict(name, False, "", f"expected a 3×3 kernel, got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        return verdict(name, False, "", "the kernel contains inf or nan")
    tol = 1e-9 * max(1.0, float(np.abs(k).max()))
    flat = np.ones((3, 3))
    edge = np.array([[1.0] * 3, [0.5] * 3, [0.0] * 3])  # bright above, dark below
    rng = np.random.default_rng(0)
    if abs((k * flat).sum()) > tol:
        return verdict(
            name,
            False,
            "",
            "on a constant patch (no edge at all) your kernel gives a non-zero response: make its entries sum to zero.",
        )
    for _ in range(5):  # any patch whose rows are all equal (brightness varies only left to right)
        patch = np.tile(rng.standard_normal(3), (3, 1))
        if abs((k * patch).sum()) > tol * 10:
            return verdict(
                name,
                False,
                "",
                "your kernel also responds to vertical edges (brightness changing "
                "from left to right); it should see only changes from top to bottom.",
            )
    response = (k * edge).sum()
    if abs(response) <= tol:
        return verdict(name, False, "", "your kernel gives 0 on a horizontal edge too: it detects nothing.")
    if response < 0:
        return verdict(
            name,
            False,
            "",
            "it detects horizontal edges, but with the opposite sign: it is "
            "positive where the bottom is brighter than the top.",
        )
    return verdict(
        name,
        True,
        "zero on flat patches and on left-right changes, positive where bright lies "
        "above dark. Apply it to the digit: the strokes are bright on dark, so their bottom edges "
        "light up (positive) and their top edges go negative.",
        "",
    )


def check_conv2d(fn: Any) -> ExerciseResult:
    """Exercise 4: ``fn(x, weights, bias, stride, padding)`` computes a multi-channel, multi-filter convolution."""
    name = "conv2d"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself, e.g. check_conv2d(conv2d)")
    rng = np.random.default_rng(1)
    cases = [
        ((1, 1, 5, 5), (1, 1, 3, 3), 1, 0),
        ((2, 3, 7, 7), (4, 3, 3, 3), 1, 1),
        ((2, 3, 7, 7), (4, 3, 3, 3), 2, 1),
        ((1, 2, 8, 6), (3, 2, 3, 3), 2, 0),
        ((3, 2, 6, 6), (2, 2, 2, 2), 2, 0),
        ((1, 3, 9, 9), (2, 3, 5, 5), 3, 2),
    ]
    for xs, ws, s, p in cases:
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        b = rng.standard_normal(ws[0])
        where = f"x {xs}, weights {ws}, stride {s}, padding {p}"
        got, error = _call(fn, x, w, b, s, p)
        if error is not None:
            return _raised(name, error, where)
        got = _as_array(got)
        expected = conv2d_forward_naive(x, w, b, s, p)
        if got is None or got.shape != expected.shape:
            shape = None if got is None else got.shape
            return verdict(
                name, False, "", f"for {where} your output has shape {shape}, expected {expected.shape} (N, F, Ho, Wo)"
            )
        if np.allclose(got, expected, atol=1e-9):
            continue
        if np.allclose(got, expected - b[None, :, None, None], atol=1e-9):
            hint = "you forgot the bias (one per filter, added to every output position)."
        elif np.allclose(got, conv2d_forward_naive(x, w[:, :, ::-1, ::-1], b, s, p), atol=1e-9):
            hint = "you flipped the kernel (true convolution); CNNs use cross-correlation: no flip."
        elif s > 1 and np.allclose(
            got, conv2d_forward_naive(x, w, b, 1, p)[:, :, : got.shape[2], : got.shape[3]], atol=1e-9
        ):
            hint = "the windows must move by the stride: window (oy, ox) starts at (oy·stride, ox·stride)."
        else:
            err = float(np.abs(got - expected).max())
            hint = f"the values differ (by up to {err:.2g}); each filter sums over all input channels."
        return verdict(name, False, "", f"for {where}: {hint}")
    return verdict(name, True, f"all {len(cases)} cases match the naive loops (strides, padding, channels).", "")
