"""Self-checks for the exercises of ``notebooks/02_convolution_backprop.ipynb``.

Worked solutions: ``notebooks/solutions/02_convolution_backprop_solutions.ipynb``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..reference import conv2d_backward_naive, conv2d_forward_naive
from ._common import ExerciseResult, _as_array, _call, verdict

__all__ = ["check_backward_shapes", "check_dx_by_hand", "check_dilate", "check_conv_backward"]

#: Exercise 2: a 3×3 kernel on a 5×5 input; only two outputs receive a gradient.
HAND_WEIGHTS = np.array([[1, 2, 0], [0, 1, 0], [3, 0, 1]], dtype=np.float64)
HAND_DY = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 2]], dtype=np.float64)


def _raised(name: str, error: str, where: str) -> ExerciseResult:
    """The verdict when the student's function raised: the stub not written yet, or an error in it."""
    if error.startswith("NotImplementedError"):
        hint = "no answer yet: your function still raises NotImplementedError; replace that line with your code"
        return verdict(name, False, "", hint)
    return verdict(name, False, "", f"your function raised {error} for {where}")


def _shape_of(value: Any) -> tuple[int, ...] | None:
    try:
        shape = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        return None
    return shape


def check_backward_shapes(answer: Any) -> ExerciseResult:
    """Exercise 1: the shapes of dy, dx, dW and db for x (8, 3, 32, 32), 16 filters 3×3, stride 2, padding 1.

    ``answer`` is a dict ``{"dy": (…), "dx": (…), "dW": (…), "db": (…)}``.
    """
    name = "backward_shapes"
    what = 'a dict {"dy": shape, "dx": shape, "dW": shape, "db": shape}'
    if answer is None:
        return verdict(name, False, "", f"no answer yet: replace None with {what}")
    if not isinstance(answer, dict):
        return verdict(name, False, "", f"expected {what}, got {type(answer).__name__}")
    keys = {"dy": (8, 16, 16, 16), "dx": (8, 3, 32, 32), "dW": (16, 3, 3, 3), "db": (16,)}
    given = {str(k).lower(): v for k, v in answer.items()}
    missing = [k for k in keys if k.lower() not in given]
    if missing:
        return verdict(name, False, "", f"missing keys: {missing}")
    wrong = []
    for key, expected in keys.items():
        shape = _shape_of(given[key.lower()])
        if shape != expected:
            wrong.append(key)
    if not wrong:
        return verdict(
            name, True, "every gradient has the shape of what it is the gradient of; dy has the output's shape.", ""
        )
    hints = {
        "dy": "dy is ∂L/∂y: the shape of the layer's output (use the output-size formula for 32, k 3, p 1, s 2).",
        "dx": "dx is ∂L/∂x: exactly the input's shape — padding is cropped away, stride changes nothing.",
        "dW": "dW has the weights' shape (F, C, k, k).",
        "db": "db has the bias's shape: one number per filter, (F,) — not a column (F, 1).",
    }
    return verdict(name, False, "", f"not yet right: {', '.join(wrong)}. " + " ".join(hints[k] for k in wrong))


def check_dx_by_hand(answer: Any) -> ExerciseResult:
    """Exercise 2: dx (5×5) for the kernel ``HAND_WEIGHTS`` and the output gradient ``HAND_DY`` (stride 1)."""
    name = "dx_by_hand"
    arr = _as_array(answer)
    if arr is None:
        return verdict(name, False, "", "no answer yet: replace None with a 5×5 array (a nested list works)")
    if arr.shape != (5, 5):
        return verdict(name, False, "", f"dx has the input's shape, 5×5; your answer has shape {arr.shape}")
    x = np.zeros((1, 1, 5, 5))
    dx = conv2d_backward_naive(HAND_DY[None, None], x, HAND_WEIGHTS[None, None])[0][0, 0]
    if np.array_equal(arr, dx):
        return verdict(
            name,
            True,
            "each output gradient stamps a copy of the kernel, scaled by dy, onto the "
            "window it came from; where two stamps overlap they add.",
            "",
        )
    flipped = conv2d_backward_naive(HAND_DY[None, None], x, HAND_WEIGHTS[None, None, ::-1, ::-1])[0][0, 0]
    overwritten = np.zeros((5, 5))
    overwritten[0:3, 0:3] = HAND_DY[0, 0] * HAND_WEIGHTS
    overwritten[2:5, 2:5] = HAND_DY[2, 2] * HAND_WEIGHTS
    if np.array_equal(arr, flipped):
        hint = (
            "you stamped the kernel rotated by 180°. In the forward pass W[i, j] multiplied "
            "x[oy + i, ox + j], so W[i, j]·dy goes back to exactly that pixel; the rotation appears only "
            "when you write dx as a correlation."
        )
    elif np.array_equal(arr, overwritten):
        hint = "the two stamps overlap at one pixel: there the contributions add up, neither replaces the other."
    else:
        wrong = int((arr != dx).sum())
        hint = (
            f"{wrong} of 25 entries differ. Only dy[0, 0] and dy[2, 2] are non-zero: which 3×3 windows "
            "did those two outputs read, and with which weights?"
        )
    return verdict(name, False, "", hint)


def check_dilate(fn: Any) -> ExerciseResult:
    """Exercise 3: ``fn(dy, stride)`` inserts ``stride - 1`` zeros between neighbouring entries of (N, F, Ho, Wo)."""
    name = "dilate"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself, e.g. check_dilate(dilate)")
    rng = np.random.default_rng(2)
    for shape, s in [((1, 1, 3, 3), 2), ((2, 3, 4, 2), 3), ((1, 2, 3, 5), 1), ((1, 1, 1, 4), 2)]:
        dy = rng.standard_normal(shape)
        n, f, ho, wo = shape
        expected = np.zeros((n, f, (ho - 1) * s + 1, (wo - 1) * s + 1))
        expected[:, :, ::s, ::s] = dy
        got, error = _call(fn, dy, s)
        where = f"dy of shape {shape} and stride {s}"
        if error is not None:
            return _raised(name, error, where)
        got = _as_array(got)
        if got is None or got.shape != expected.shape:
            shape_got = None if got is None else got.shape
            hint = (
                "no zeros go after the last row or column: the result has (Ho − 1)·stride + 1 rows."
                if shape_got == (n, f, ho * s, wo * s)
                else "it should have (Ho − 1)·stride + 1 rows and (Wo − 1)·stride + 1 columns."
            )
            return verdict(name, False, "", f"for {where} your result has shape {shape_got}: {hint}")
        if not np.array_equal(got, expected):
            return verdict(
                name,
                False,
                "",
                f"for {where} the shape is right but the entries are not: dy[oy, ox] "
                "belongs at row oy·stride, column ox·stride, and zeros everywhere else.",
            )
    return verdict(
        name, True, "dilating dy turns the strided convolution's gradient back into a stride-1 correlation.", ""
    )


def check_conv_backward(fn: Any) -> ExerciseResult:
    """Exercise 4: ``fn(dy, x, weights, stride, padding)`` returns ``(dx, dW, db)`` of a convolution."""
    name = "conv_backward"
    if not callable(fn):
        return verdict(name, False, "", "pass your function itself, e.g. check_conv_backward(conv_backward)")
    rng = np.random.default_rng(3)
    cases = [
        ((2, 1, 5, 5), (1, 1, 3, 3), 1, 0),
        ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1),
        ((2, 2, 7, 7), (3, 2, 3, 3), 2, 0),
        ((1, 3, 8, 7), (2, 3, 3, 3), 2, 1),
        ((2, 2, 9, 9), (2, 2, 2, 2), 3, 0),
        ((1, 2, 7, 8), (3, 2, 5, 5), 2, 2),
    ]
    for xs, ws, s, p in cases:
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        dy = rng.standard_normal(conv2d_forward_naive(x, w, np.zeros(ws[0]), s, p).shape)
        where = f"x {xs}, weights {ws}, stride {s}, padding {p}"
        got, error = _call(fn, dy, x, w, s, p)
        if error is not None:
            return _raised(name, error, where)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return verdict(name, False, "", "return a tuple (dx, dW, db)")
        for label, g, e in zip(("dx", "dW", "db"), got, conv2d_backward_naive(dy, x, w, s, p)):
            g = _as_array(g)
            if g is None or g.shape != e.shape:
                return verdict(
                    name,
                    False,
                    "",
                    f"for {where}: {label} has shape "
                    f"{None if g is None else g.shape}, expected {e.shape} (the shape of "
                    f"{ {'dx': 'x', 'dW': 'weights', 'db': 'the bias'}[label] })",
                )
            if not np.allclose(g, e, atol=1e-9):
                hint = {
                    "dx": "dx is wrong: think of the padded, dilated dy correlated with the rotated kernel, "
                    "then cropping the padding away",
                    "dW": "dW is wrong: correlate the padded input with the (dilated) dy",
                    "db": "db is wrong: sum dy over the batch and all positions",
                }[label]
                if s == 1 and p == 0:
                    hint += " (this already fails without stride and padding)"
                elif s > 1:
                    hint += " (it fails once stride > 1)"
                else:
                    hint += " (it fails once padding > 0)"
                return verdict(name, False, "", f"for {where}: {hint}.")
    return verdict(name, True, f"all {len(cases)} cases match the chain rule term by term (naive loops).", "")
