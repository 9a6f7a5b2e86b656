"""Self-checks for the exercises of ``notebooks/10_dropout.ipynb``.

Worked solutions: ``notebooks/solutions/10_dropout_solutions.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_float, _call, verdict

__all__ = ["check_dropout_scale", "check_dropout_variance", "check_channel_dropout"]


def check_dropout_scale(answer: Any) -> ExerciseResult:
    """Exercise 1: with p = 0.2, by what factor does inverted dropout multiply the surviving activations?"""
    name = "dropout_scale"
    value = _as_float(answer)
    if value is None:
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a number")
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__} {answer!r}")
    if math.isclose(value, 1.25, rel_tol=1e-6):
        return verdict(
            name,
            True,
            "survivors are divided by the keep probability 1 - p, so the expected activation is unchanged.",
            "",
        )
    if math.isclose(value, 5.0, rel_tol=1e-6):
        hint = "that divides by p, the drop probability; the survivors were kept with probability 1 - p."
    elif math.isclose(value, 0.8, rel_tol=1e-6):
        hint = "0.8 is the keep probability; the scale makes up for the units that were dropped, so it is > 1."
    elif math.isclose(value, 2.0, rel_tol=1e-6):
        hint = "that is the factor for p = 0.5; here p = 0.2."
    else:
        hint = "write E[y] for y = m·x·s with m ~ Bernoulli(1 - p) and choose s so that E[y] = x."
    return verdict(name, False, "", hint)


def check_dropout_variance(answer: Any) -> ExerciseResult:
    """Exercise 2: the variance of one inverted-dropout output for the input x = 3 and p = 0.25."""
    name = "dropout_variance"
    value = _as_float(answer)
    if value is None:
        if answer is None:
            return verdict(name, False, "", "no answer yet: replace None with a number")
        return verdict(name, False, "", f"expected a number, got {type(answer).__name__} {answer!r}")
    x, p = 3.0, 0.25
    expected = x * x * p / (1 - p)

    def near(v: float) -> bool:
        return math.isclose(value, v, rel_tol=1e-4)

    if near(expected):
        return verdict(name, True, "Var[y] = x²·p/(1-p): zero without dropout, growing without bound as p -> 1.", "")
    if near(x * x * p * (1 - p)):
        hint = "that is the variance of x·m without the 1/(1-p) scale; the survivors are scaled."
    elif near(math.sqrt(expected)):
        hint = "that is the standard deviation; the exercise asks for the variance."
    elif near(x * x / (1 - p)):
        hint = "that is E[y²]; subtract E[y]² = x²."
    elif near(x * x * (1 - p) / p):
        hint = "p and 1 - p are swapped: a unit is DROPPED with probability p = 0.25 and kept with 0.75."
    elif near(p / (1 - p)):
        hint = "the output's spread grows with the activation: the variance is proportional to x², and x = 3."
    else:
        hint = "y takes two values, 0 and x/(1-p); compute E[y²] - E[y]² from their probabilities."
    return verdict(name, False, "", hint)


_BROADCAST_HINT = (
    "numpy's broadcasting lines up a smaller mask's axes with the LAST axes of x (H and W), not the first "
    "ones; give the mask as many axes as x has, of length 1 where one coin covers the whole axis"
)


def check_channel_dropout(func: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``func(x, p, rng) -> y`` — channel ("spatial") dropout of feature maps x (N, C, H, W): every
    (image, channel) map is dropped as a whole with probability p, the kept maps are scaled by 1/(1-p)."""
    name = "channel_dropout"
    if not callable(func):
        return verdict(name, False, "", f"pass your function itself, got {type(func).__name__}")
    gen = np.random.default_rng(10)
    cases = [  # (shape (N, C, H, W), p, dtype): H != W and N != C everywhere, so swapped axes cannot pass
        ((40, 24, 5, 7), 0.5, np.float32),
        ((60, 16, 3, 4), 0.2, np.float64),
        ((1, 300, 2, 3), 0.25, np.float32),  # a batch of one
        ((3, 5, 6, 2), 0.0, np.float64),  # p = 0: nothing dropped, nothing scaled
    ]
    for shape, p, dtype in cases:
        x = gen.uniform(0.5, 2.0, size=shape).astype(dtype)  # no zeros: a zero in y means "dropped"
        where = f"(x of shape {shape}, {np.dtype(dtype).name}, p = {p})"
        y, err = _call(func, x, p, np.random.default_rng(1))  # on a copy of x
        if err is not None and err.startswith("NotImplementedError"):
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        if err is not None:
            hint = f" — {_BROADCAST_HINT}" if "broadcast" in err else ""
            return verdict(name, False, "", f"your function raised {err} {where}{hint}")
        if not isinstance(y, np.ndarray) or y.shape != x.shape:
            got = getattr(y, "shape", type(y).__name__)
            hint = f"; {_BROADCAST_HINT}" if isinstance(y, np.ndarray) and y.ndim > x.ndim else ""
            return verdict(name, False, "", f"expected an array of x's shape {x.shape}, got {got}{hint} {where}")
        if y.dtype != x.dtype:
            return verdict(name, False, "", f"{x.dtype} in should give {x.dtype} out, got {y.dtype} {where}")
        if not np.all(np.isfinite(y)):
            return verdict(name, False, "", f"the output has NaN or infinite values {where}")
        if p == 0:
            if not np.allclose(y, x):
                return verdict(
                    name, False, "", f"with p = 0 nothing is dropped and nothing scaled: y must equal x {where}"
                )
            continue
        ratio = y.astype(np.float64) / x  # the scaled mask, element by element
        per_map = ratio.reshape(shape[0], shape[1], -1)
        if np.any(np.ptp(per_map, axis=2) > 1e-5 * np.max(np.abs(per_map))):
            return verdict(
                name,
                False,
                "",
                "the H×W map of a channel is partly dropped: the coins were tossed for smaller pieces than whole "
                "maps (one per element is the ordinary dropout of section 5); here one coin decides for a whole "
                f"(image, channel) map {where}",
            )
        coins = per_map[:, :, 0]  # (N, C): 0 for a dropped map, the scale for a kept one
        n, c = coins.shape
        some_dropped = bool(np.any(coins == 0))  # else the fraction below says so
        if some_dropped and n > 1 and np.all(coins == coins[:1]):
            return verdict(
                name, False, "", f"every image drops the same channels: toss a coin per image AND per channel {where}"
            )
        if some_dropped and c > 1 and np.all(coins == coins[:, :1]):
            return verdict(
                name,
                False,
                "",
                f"all channels of an image are kept or dropped together, which drops whole images: toss a coin per "
                f"channel of every image {where}",
            )
        dropped = float(np.mean(coins == 0))
        tol = max(0.06, 4 * math.sqrt(p * (1 - p) / coins.size))
        if abs(dropped - p) > tol:
            swapped = abs(dropped - (1 - p)) <= tol
            hint = "; p is the probability to DROP a map, 1 - p to keep it" if swapped else ""
            return verdict(
                name,
                False,
                "",
                f"about {100 * p:.0f}% of the (image, channel) maps should be zero, got {100 * dropped:.1f}%"
                f"{hint} {where}",
            )
        kept = coins[coins != 0]
        if np.allclose(kept, 1.0 / (1 - p), rtol=1e-4):
            continue
        if np.allclose(kept, 1.0, rtol=1e-4):
            hint = (
                "the kept maps are not scaled: without it the next layer would see smaller inputs in training "
                "than at test time"
            )
        elif np.allclose(kept, 1.0 / p, rtol=1e-4):
            hint = "that divides by p, the drop probability; the kept maps survived with probability 1 - p"
        elif np.allclose(kept, 1.0 - p, rtol=1e-4):
            hint = "that multiplies by the keep probability; the scale makes up for the dropped maps, so it is > 1"
        else:
            hint = "a kept map must be scaled so that E[y] = x, the same factor for every kept map"
        return verdict(name, False, "", f"{hint} {where}")
    return verdict(
        name,
        True,
        "whole (image, channel) maps dropped with probability p, the rest scaled by 1/(1-p); right for float32 "
        "and float64, a batch of one and p = 0.",
        "",
    )
