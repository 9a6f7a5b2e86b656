"""Self-checks for the exercises of ``notebooks/05_flatten_and_fully_connected.ipynb``.

Worked solutions: ``notebooks/solutions/05_flatten_and_fully_connected_solutions.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_int, _not_a_number, verdict

__all__ = ["check_flatten_index", "check_fc_parameter_count", "check_fc_backward"]


def check_flatten_index(answer: Any) -> ExerciseResult:
    """Exercise 1: the position of element (c=3, h=1, w=0) of a (512, 2, 2) feature map after ``Flatten``."""
    name = "flatten_index"
    value = _as_int(answer)
    if value is None:
        return _not_a_number(name, answer, "a whole number (a position in the flattened vector)")
    shape, index = (512, 2, 2), (3, 1, 0)
    expected = int(np.ravel_multi_index(index, shape))
    if value == expected:
        return verdict(name, True, "row-major order: the last axis (w) moves fastest, the channel slowest.", "")
    if value == int(np.ravel_multi_index(index[::-1], shape[::-1])):
        hint = (
            "that is the position in column-major (Fortran) order; numpy's reshape — and Flatten — "
            "are row-major: the last axis moves fastest."
        )
    elif value == int(np.ravel_multi_index((index[1], index[2], index[0]), (2, 2, 512))):
        hint = (
            "that is the position for a channels-last (H, W, C) map, as TensorFlow stores it; vgglib is "
            "NCHW, so the channel is the slowest axis."
        )
    elif value == expected + 1:
        hint = "off by one: Python positions start at 0 (the first element is at position 0)."
    elif not 0 <= value < int(np.prod(shape)):
        hint = f"the flattened vector has {int(np.prod(shape)):,} entries, so a position is in 0..{np.prod(shape) - 1}."
    else:
        hint = "count how many whole channels come before channel 3, then how many rows of channel 3 come before row 1."
    return verdict(name, False, "", hint)


def check_fc_parameter_count(answer: Any) -> ExerciseResult:
    """Exercise 2: the parameters of VGG16's three FC layers for 224×224×3 ImageNet (1000 classes)."""
    name = "fc_parameter_count"
    value = _as_int(answer)
    if value is None:
        return _not_a_number(name, answer, "a whole number of parameters")
    sizes = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
    weights = sum(i * o for i, o in sizes)
    biases = sum(o for _, o in sizes)
    if value == weights + biases:
        return verdict(
            name, True, f"the three FC layers hold {value / 138_357_544:.0%} of VGG16's 138,357,544 parameters.", ""
        )
    if value == weights:
        hint = "those are the weights only: every output unit also has a bias."
    elif value == 138_357_544:
        hint = "that is all of VGG16, convolutions included; count only fc1, fc2 and fc3."
    elif value == (512 * 2 * 2) * 4096 + 4096 * 4096 + 4096 * 10 + 4096 + 4096 + 10:
        hint = (
            "that is the seed's 64×64 MNIST variant (2048 inputs, 10 classes); the question is about 224×224 ImageNet."
        )
    elif value == weights + biases - sizes[0][0] * sizes[0][1] + 512 * 4096:
        hint = "fc1 takes the flattened 512×7×7 map, not just 512 values."
    else:
        hint = (
            "a layer with D inputs and M outputs has a (D, M) weight matrix and M biases; fc1's D is the size "
            "of the flattened last feature map at 224×224."
        )
    return verdict(name, False, "", hint)


def _shape(a: Any) -> tuple[int, ...] | None:
    return tuple(np.shape(a)) if a is not None else None


def check_fc_backward(fc_backward: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``fc_backward(x, W, dy) -> (dx, dW, db)`` for ``y = x @ W + b``.

    Tried on a non-square and a square weight matrix, and on a batch of one; compared with the layer contract
    (gradients have the shapes of what they differentiate) and with vgglib's ``FullyConnected``.
    """
    name = "fc_backward"
    if not callable(fc_backward):
        return verdict(name, False, "", f"pass your function itself, got {type(fc_backward).__name__}")
    rng = np.random.default_rng(5)
    for n, d, m in ((4, 5, 3), (3, 6, 6), (1, 4, 2)):
        x = rng.standard_normal((n, d))
        w = rng.standard_normal((d, m))
        dy = rng.standard_normal((n, m))
        copies = (x.copy(), w.copy(), dy.copy())
        try:
            out = fc_backward(*copies)
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            return verdict(
                name,
                False,
                "",
                f"your function raised {type(err).__name__}: {err} (for x {x.shape}, W {w.shape}, dy {dy.shape})",
            )
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            return verdict(name, False, "", "return the three gradients as a tuple (dx, dW, db)")
        if not all(np.array_equal(a, b) for a, b in zip(copies, (x, w, dy))):
            return verdict(
                name, False, "", "your function changed its inputs in place; backward must only read x, W and dy"
            )
        dx, dw, db = (np.asarray(a, dtype=float) if a is not None else None for a in out)
        want = {"dx": x.shape, "dW": w.shape, "db": (m,)}
        got = {"dx": _shape(dx), "dW": _shape(dw), "db": _shape(db)}
        for key in ("dW", "db", "dx"):
            if got[key] != want[key]:
                if key == "dW" and got[key] == want[key][::-1]:
                    why = "that is the transpose of W's shape — the seed's mistake; swap the factors' roles"
                elif key == "db" and got[key] in ((m, 1), (1, m)):
                    why = "a 2-D bias gradient broadcasts silently; vgglib's bias is a flat (M,) vector"
                elif key == "db" and got[key] == (n, m):
                    why = "the bias is shared by every sample of the batch, so its gradient adds up their dy"
                else:
                    why = "a gradient always has the shape of the array it differentiates"
                return verdict(
                    name,
                    False,
                    "",
                    f"{key} has shape {got[key]}, expected {want[key]} (for x {x.shape}, W {w.shape}): {why}.",
                )
        ref = {"dx": dy @ w.T, "dW": x.T @ dy, "db": dy.sum(axis=0)}
        for key, value in (("dW", dw), ("db", db), ("dx", dx)):
            assert value is not None  # a None gradient failed the shape check above
            if not np.allclose(value, ref[key], rtol=1e-9, atol=1e-12):
                if np.allclose(value, ref[key] / n, rtol=1e-9, atol=1e-12) and n > 1:
                    why = (
                        "it is 1/N of the right value: the layer must not average — the loss already "
                        "divided by N, and dy carries that"
                    )
                elif key == "dW" and d == m and np.allclose(value, ref[key].T, rtol=1e-9, atol=1e-12):
                    why = (
                        "it is transposed: with a square W (like VGG16's 4096×4096 fc2) the shape looks "
                        "right, only a gradient check notices"
                    )
                else:
                    why = "compare with a numerical gradient (vgglib.numerical_gradient) on a tiny example"
                return verdict(
                    name,
                    False,
                    "",
                    f"{key} has the right shape but wrong values (for x {x.shape}, W {w.shape}): {why}.",
                )
    return verdict(name, True, "all three gradients match, for square and non-square W and a batch of one.", "")
