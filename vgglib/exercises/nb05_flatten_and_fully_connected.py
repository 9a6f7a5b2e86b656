"""Self-checks for the exercises of ``notebooks/05_flatten_and_fully_connected.ipynb``.

Worked solutions: ``notebooks/solutions/05_flatten_and_fully_connected_solutions.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_int, _not_a_number, verdict

__all__ = ["check_flatten_index", "check_fc_parameters_stl10", "check_linear_backward"]


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


#: Exercise 2: VGG16 (three FC layers of 4096, 4096 and 10 outputs) on 96×96×3 photos with 10 classes (STL-10)
STL10_SIZE, STL10_CLASSES = 96, 10


def _fc_params(flat: int, classes: int, hidden: int = 4096, biases: bool = True) -> int:
    sizes = [(flat, hidden), (hidden, hidden), (hidden, classes)]
    return sum(d * m + (m if biases else 0) for d, m in sizes)


def check_fc_parameters_stl10(answer: Any) -> ExerciseResult:
    """Exercise 2: the parameters (weights and biases) of VGG16's three FC layers for 96×96×3 input, 10 classes."""
    name = "fc_parameters_stl10"
    value = _as_int(answer)
    if value is None:
        return _not_a_number(name, answer, "a whole number of parameters")
    side = STL10_SIZE // 2**5  # five 2×2 poolings with stride 2; the 3×3 convolutions (padding 1) keep the size
    flat = 512 * side * side
    expected = _fc_params(flat, STL10_CLASSES)
    if value == expected:
        return verdict(
            name,
            True,
            "fc1 still dominates: the size of the last feature map decides most of the FC layers' parameters.",
            "",
        )
    conv_224 = 14_714_688  # the 13 convolutions' parameters for 3 input channels (notebook 08)
    known = {
        _fc_params(flat, STL10_CLASSES, biases=False): "those are the weights only: every output unit also has a bias.",
        _fc_params(512 * 7 * 7, STL10_CLASSES): "fc1 reads 512×7×7 values only for a 224×224 input; here it is 96×96.",
        _fc_params(512 * 2 * 2, STL10_CLASSES): "fc1 reads 512×2×2 values for the seed's 64×64 input, not 96×96.",
        _fc_params(512, STL10_CLASSES): "Flatten keeps every position of the last map, not one value per channel.",
        _fc_params(flat, 1000): "STL-10 has 10 classes: fc3 has 10 outputs here, not ImageNet's 1000.",
        _fc_params(3 * flat, STL10_CLASSES): (
            "the three colour channels only matter for conv1_1; the last feature map has 512 channels, whatever the "
            "input's."
        ),
        _fc_params(512 * 6 * 6, STL10_CLASSES): "count the poolings again: VGG16 has five, one after each block.",
        expected + conv_224: "that counts the convolutions too; the question asks for fc1, fc2 and fc3 only.",
    }
    hint = known.get(value) or (
        "each layer with D inputs and M outputs has D·M weights and M biases; fc1's D is the size of the "
        "flattened last feature map: 512 channels of a map that five 2×2 poolings made from 96×96."
    )
    return verdict(name, False, "", hint)


def _shape(a: Any) -> tuple[int, ...] | None:
    return tuple(np.shape(a)) if a is not None else None


def check_linear_backward(linear_backward: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``linear_backward(x, W, dy) -> (dx, dW, db)`` for ``y = x @ W.T + b`` with W of shape (M, D)
    (PyTorch's ``nn.Linear`` layout, the transpose of vgglib's).

    Tried on a non-square and a square weight matrix, a batch of one and float32; compared with the layer
    contract (gradients have the shapes of what they differentiate) and with the gradients' values.
    """
    name = "linear_backward"
    if not callable(linear_backward):
        return verdict(name, False, "", f"pass your function itself, got {type(linear_backward).__name__}")
    rng = np.random.default_rng(5)
    for n, d, m, dtype in ((4, 5, 3, np.float64), (3, 6, 6, np.float64), (1, 4, 2, np.float64), (5, 3, 7, np.float32)):
        x = rng.standard_normal((n, d)).astype(dtype)
        w = rng.standard_normal((m, d)).astype(dtype)  # (outputs, inputs)
        dy = rng.standard_normal((n, m)).astype(dtype)
        copies = (x.copy(), w.copy(), dy.copy())
        where = f"for x {x.shape}, W {w.shape}, dy {dy.shape}"
        try:
            out = linear_backward(*copies)
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            why = ""
            if "matmul" in str(err) or "align" in str(err) or "broadcast" in str(err):
                why = " — write down each factor's shape: here W is (outputs, inputs), the transpose of vgglib's"
            return verdict(name, False, "", f"your function raised {type(err).__name__}: {err} ({where}){why}")
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            return verdict(name, False, "", "return the three gradients as a tuple (dx, dW, db)")
        if not all(np.array_equal(a, b) for a, b in zip(copies, (x, w, dy))):
            return verdict(
                name, False, "", "your function changed its inputs in place; backward must only read x, W and dy"
            )
        try:
            dx, dw, db = (np.asarray(a, dtype=np.float64) if a is not None else None for a in out)
        except (TypeError, ValueError):
            return verdict(name, False, "", "return three arrays (dx, dW, db)")
        want = {"dx": x.shape, "dW": w.shape, "db": (m,)}
        got = {"dx": _shape(dx), "dW": _shape(dw), "db": _shape(db)}
        for key in ("dW", "db", "dx"):
            if got[key] != want[key]:
                if key == "dW" and got[key] == want[key][::-1]:
                    why = (
                        "that is the shape of vgglib's (inputs, outputs) weights; this layer stores W as "
                        "(outputs, inputs), and dW must have the same shape"
                    )
                elif key == "db" and got[key] in ((m, 1), (1, m)):
                    why = "a 2-D bias gradient broadcasts silently; the bias is a flat (M,) vector"
                elif key == "db" and got[key] == (n, m):
                    why = "the bias is shared by every sample of the batch, so its gradient adds up their dy"
                else:
                    why = "a gradient always has the shape of the array it differentiates"
                return verdict(name, False, "", f"{key} has shape {got[key]}, expected {want[key]} ({where}): {why}.")
        x64, w64, dy64 = (a.astype(np.float64) for a in (x, w, dy))
        ref = {"dx": dy64 @ w64, "dW": dy64.T @ x64, "db": dy64.sum(axis=0)}
        rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (1e-4, 1e-5)

        def close(a: np.ndarray, b: np.ndarray, rtol: float = rtol, atol: float = atol) -> bool:
            return bool(np.allclose(a, b, rtol=rtol, atol=atol))

        for key, value in (("dW", dw), ("db", db), ("dx", dx)):
            assert value is not None  # a None gradient failed the shape check above
            if not close(value, ref[key]):
                if n > 1 and close(value, ref[key] / n):
                    why = (
                        "it is 1/N of the right value: the layer must not average — the loss already "
                        "divided by N, and dy carries that"
                    )
                elif key == "dW" and d == m and close(value, ref[key].T):
                    why = (
                        "it is transposed: with a square W the shape looks right and only the values tell; "
                        "dW[j, i] belongs to the weight from input i to output j"
                    )
                elif key == "dx" and d == m and close(value, dy64 @ w64.T):
                    why = (
                        "it uses W the wrong way round: with a square W the shapes fit either way; here "
                        "W[j, i] connects input i to output j"
                    )
                else:
                    why = "compare with a numerical gradient (vgglib.numerical_gradient) on a tiny example"
                return verdict(name, False, "", f"{key} has the right shape but wrong values ({where}): {why}.")
    return verdict(
        name, True, "all three gradients match, for square and non-square W, a batch of one and float32.", ""
    )
