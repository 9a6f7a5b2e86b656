"""The exercise self-checks of notebooks 00–04 accept right answers, reject typical wrong ones, and never
print the solution."""

import math

import numpy as np
import pytest
from exercise_support import accepted, rejected
from numpy.lib.stride_tricks import sliding_window_view

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult

IMAGE = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float)
X_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)
POOL_EXAMPLE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], float)


# ----------------------------------------------------------------------------------- independent solutions


def conv2d(x, w, b, stride=1, padding=0):
    """Vectorised convolution written independently of vgglib (sliding windows + einsum)."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k = w.shape[-1]
    win = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,fcij->nfhw", win, w) + b[None, :, None, None]


def dilate(dy, s):
    n, f, ho, wo = dy.shape
    out = np.zeros((n, f, (ho - 1) * s + 1, (wo - 1) * s + 1), dtype=dy.dtype)
    out[:, :, ::s, ::s] = dy
    return out


def conv_backward(dy, x, w, stride, padding, crop=True):
    k = w.shape[-1]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dyd = dilate(dy, stride)
    db = dy.sum(axis=(0, 2, 3))
    win = sliding_window_view(xp, dyd.shape[-2:], axis=(2, 3))
    dw = np.einsum("ncijyx,nfyx->fcij", win, dyd)[:, :, :k, :k]
    full = np.pad(dyd, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
    dxp_part = np.einsum("nfhwij,fcij->nchw", sliding_window_view(full, (k, k), axis=(2, 3)), w[:, :, ::-1, ::-1])
    dxp = np.zeros_like(xp)
    dxp[:, :, : dxp_part.shape[2], : dxp_part.shape[3]] = dxp_part
    h, wd = x.shape[2:]
    if not crop:
        return dxp, dw, db
    return dxp[:, :, padding : padding + h, padding : padding + wd], dw, db


def maxpool_backward(dy, x, k, s):
    dx = np.zeros_like(x)
    n, c, ho, wo = dy.shape
    for oy in range(ho):
        for ox in range(wo):
            win = x[:, :, oy * s : oy * s + k, ox * s : ox * s + k].reshape(n, c, -1)
            i, j = np.divmod(win.argmax(axis=2), k)
            for b in range(n):
                for ch in range(c):
                    dx[b, ch, oy * s + i[b, ch], ox * s + j[b, ch]] += dy[b, ch, oy, ox]
    return dx


# ----------------------------------------------------------------------------------------------- notebook 00


def test_receptive_field():
    accepted(ex.check_receptive_field(7))
    accepted(ex.check_receptive_field(np.int64(7)))
    rejected(ex.check_receptive_field(9), "overlap", secret="7")
    rejected(ex.check_receptive_field(5), "two", secret="7")
    rejected(ex.check_receptive_field(None), "replace None")
    rejected(ex.check_receptive_field("7"), "whole number")
    rejected(ex.check_receptive_field(True), "whole number")


def test_conv_parameter_count():
    accepted(ex.check_conv_parameter_count(256 * 96 * 25 + 256))
    rejected(ex.check_conv_parameter_count(256 * 96 * 25), "bias", secret="614")
    rejected(ex.check_conv_parameter_count(256 * 25 + 256), "all 96 input channels")
    rejected(ex.check_conv_parameter_count(256 * 96 * 9 + 256), "5×5")
    rejected(ex.check_conv_parameter_count(12345), "(F, C, k, k)")


def test_flatten_size():
    accepted(ex.check_flatten_size(512 * 3 * 3))
    accepted(ex.check_flatten_size(4608.0))
    rejected(ex.check_flatten_size(9), "512 channels", secret="4608")
    rejected(ex.check_flatten_size(512 * 6 * 6), "five")
    rejected(ex.check_flatten_size(2048), "64×64")
    rejected(ex.check_flatten_size(512 * 3), "square")


# ----------------------------------------------------------------------------------------------- notebook 01


def test_output_size():
    accepted(ex.check_output_size(lambda h, k, p, s: (h + 2 * p - k) // s + 1))
    rejected(ex.check_output_size(lambda h, k, p, s: (h + 2 * p - k) / s + 1), "round down")
    rejected(ex.check_output_size(lambda h, k, p, s: (h + p - k) // s + 1), "both sides")
    rejected(ex.check_output_size(lambda h, k, p, s: (h + 2 * p - k) // s), "first window")
    rejected(ex.check_output_size(lambda h, k, p, s: h), "not right")

    def broken(h, k, p, s):
        raise NotImplementedError

    rejected(ex.check_output_size(broken), "NotImplementedError")
    rejected(ex.check_output_size(42), "function itself")


def test_convolution_by_hand():
    y = conv2d(IMAGE[None, None], X_KERNEL[None, None], np.zeros(1), stride=2, padding=1)[0, 0]
    accepted(ex.check_convolution_by_hand(y))
    accepted(ex.check_convolution_by_hand(y.astype(int).tolist()))
    no_stride = conv2d(IMAGE[None, None], X_KERNEL[None, None], np.zeros(1), 1, 1)[0, 0]
    rejected(ex.check_convolution_by_hand(no_stride), "2 pixels at a time")
    rejected(ex.check_convolution_by_hand([[4, 4], [2, 4]]), "without padding")
    rejected(ex.check_convolution_by_hand([[4, 3, 4], [2, 4, 3], [2, 3, 4]]), "worked example")
    rejected(ex.check_convolution_by_hand(y + np.eye(3)), "3 of 9 entries differ")
    rejected(ex.check_convolution_by_hand(None), "replace None")
    rejected(ex.check_convolution_by_hand([[1, 2], [3]]), "replace None")


def test_horizontal_edge_kernel():
    sobel = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
    accepted(ex.check_horizontal_edge_kernel(sobel))
    accepted(ex.check_horizontal_edge_kernel([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]))
    rejected(ex.check_horizontal_edge_kernel(-sobel), "opposite sign")
    rejected(ex.check_horizontal_edge_kernel(sobel.T), "vertical edges")
    rejected(ex.check_horizontal_edge_kernel(np.ones((3, 3)) / 9), "constant patch")
    rejected(ex.check_horizontal_edge_kernel(np.zeros((3, 3))), "detects nothing")
    rejected(ex.check_horizontal_edge_kernel(np.ones((2, 2))), "3×3")


def test_conv2d():
    accepted(ex.check_conv2d(conv2d))
    rejected(ex.check_conv2d(lambda x, w, b, s, p: conv2d(x, w, 0 * b, s, p)), "bias")
    rejected(ex.check_conv2d(lambda x, w, b, s, p: conv2d(x, w[:, :, ::-1, ::-1], b, s, p)), "flipped")

    def ignores_stride(x, w, b, s, p):
        y = conv2d(x, w, b, 1, p)
        ho = (x.shape[2] + 2 * p - w.shape[2]) // s + 1
        wo = (x.shape[3] + 2 * p - w.shape[3]) // s + 1
        return y[:, :, :ho, :wo]

    rejected(ex.check_conv2d(ignores_stride), "stride")
    rejected(ex.check_conv2d(lambda x, w, b, s, p: conv2d(x, w, b, 1, p)), "shape")
    rejected(ex.check_conv2d(lambda x, w, b, s, p: conv2d(x[:, :1], w[:, :1], b, s, p)), "all input channels")


# ----------------------------------------------------------------------------------------------- notebook 02


def test_backward_shapes():
    right = {"dy": (8, 16, 16, 16), "dx": (8, 3, 32, 32), "dW": (16, 3, 3, 3), "db": (16,)}
    accepted(ex.check_backward_shapes(right))
    accepted(ex.check_backward_shapes({k: list(v) for k, v in right.items()}))
    rejected(ex.check_backward_shapes({**right, "db": (16, 1)}), "db", "column")
    rejected(ex.check_backward_shapes({**right, "dx": (8, 3, 34, 34)}), "cropped")
    rejected(ex.check_backward_shapes({**right, "dy": (8, 16, 32, 32)}), "dy")
    rejected(ex.check_backward_shapes({"dx": (8, 3, 32, 32)}), "missing")
    rejected(ex.check_backward_shapes(None), "dict")


def test_dx_by_hand():
    w = np.array([[1, 2, 0], [0, 1, 0], [3, 0, 1]], float)
    dy = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 2]], float)
    right = np.zeros((5, 5))
    right[0:3, 0:3] += dy[0, 0] * w
    right[2:5, 2:5] += dy[2, 2] * w
    accepted(ex.check_dx_by_hand(right))
    flipped = np.zeros((5, 5))
    flipped[0:3, 0:3] += w[::-1, ::-1]
    flipped[2:5, 2:5] += 2 * w[::-1, ::-1]
    rejected(ex.check_dx_by_hand(flipped), "180°")
    overwritten = np.zeros((5, 5))
    overwritten[0:3, 0:3] = w
    overwritten[2:5, 2:5] = 2 * w
    rejected(ex.check_dx_by_hand(overwritten), "add up")
    rejected(ex.check_dx_by_hand(np.zeros((3, 3))), "5×5")
    rejected(ex.check_dx_by_hand(np.zeros((5, 5))), "entries differ")


def test_dilate():
    accepted(ex.check_dilate(dilate))

    def too_long(dy, s):
        n, f, ho, wo = dy.shape
        out = np.zeros((n, f, ho * s, wo * s))
        out[:, :, ::s, ::s] = dy
        return out

    rejected(ex.check_dilate(too_long), "no zeros go after the last row")

    def misplaced(dy, s):
        out = dilate(dy, s)
        return np.roll(out, 1, axis=-1)

    rejected(ex.check_dilate(misplaced), "entries are not")
    rejected(ex.check_dilate(lambda dy, s: dy), "shape")


def test_conv_backward():
    accepted(ex.check_conv_backward(conv_backward))
    rejected(
        ex.check_conv_backward(
            lambda dy, x, w, s, p: (*conv_backward(dy, x, w, s, p)[:2], dy.sum(axis=(0, 2, 3))[:, None])
        ),
        "db has shape",
    )

    def uncropped(dy, x, w, s, p):
        return conv_backward(dy, x, w, s, p, crop=False)

    rejected(ex.check_conv_backward(uncropped), "dx has shape")

    def no_rotation(dy, x, w, s, p):
        dx, dw, db = conv_backward(dy, x, w[:, :, ::-1, ::-1], s, p)
        return dx, conv_backward(dy, x, w, s, p)[1], db

    rejected(ex.check_conv_backward(no_rotation), "dx is wrong", "without stride and padding")

    def no_dilation(dy, x, w, s, p):
        dx, dw, db = conv_backward(dy, x, w, s, p)
        if s > 1:
            dw = dw * 0 + 1
        return dx, dw, db

    rejected(ex.check_conv_backward(no_dilation), "dW is wrong", "stride > 1")
    rejected(ex.check_conv_backward(lambda dy, x, w, s, p: None), "tuple")


# ----------------------------------------------------------------------------------------------- notebook 03


def test_relu_backward():
    accepted(ex.check_relu_backward(lambda dy, x: dy * (x > 0)))
    accepted(ex.check_relu_backward(lambda dy, x: np.where(x > 0, dy, 0.0)))
    rejected(ex.check_relu_backward(lambda dy, x: dy * (x >= 0)), "x == 0")
    rejected(ex.check_relu_backward(lambda dy, x: np.maximum(dy, 0)), "ReLU to dy")
    rejected(ex.check_relu_backward(lambda dy, x: (x > 0) * 1.0), "chain rule")
    rejected(ex.check_relu_backward(lambda dy, x: dy), "every gradient")
    rejected(ex.check_relu_backward(lambda dy, x: dy[0]), "shape")


def test_init_scale():
    accepted(ex.check_init_scale(lambda fan_in: math.sqrt(2 / fan_in)))
    rejected(ex.check_init_scale(lambda fan_in: math.sqrt(1 / fan_in)), "shrink")
    rejected(ex.check_init_scale(lambda fan_in: math.sqrt(4 / fan_in)), "blow up")
    rejected(ex.check_init_scale(lambda fan_in: 0.01), "shrink")
    rejected(ex.check_init_scale(lambda fan_in: math.sqrt(2 / 256)), "widths")
    rejected(ex.check_init_scale(lambda fan_in: -1.0), "positive")


# ----------------------------------------------------------------------------------------------- notebook 04


def test_pool_by_hand():
    right = {"min": [[1, 2], [1, 0]], "avg": [[3.25, 5.25], [2, 2]]}
    accepted(ex.check_pool_by_hand(right))
    rejected(ex.check_pool_by_hand({**right, "min": [[6, 8], [3, 4]]}), "max pooling")
    rejected(ex.check_pool_by_hand({**right, "avg": [[13, 21], [8, 8]]}), "window sums")
    rejected(ex.check_pool_by_hand({**right, "avg": [[3, 5], [2, 2]]}), "2 of 4 entries differ", secret="3.25")
    rejected(ex.check_pool_by_hand([[1, 2], [1, 0]]), "dict")


def test_maxpool_dx_by_hand():
    x = POOL_EXAMPLE[None, None]
    dy = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    right = maxpool_backward(dy, x, 3, 1)[0, 0]
    assert right[1, 2] == 4 and right[1, 3] == 6 and right.sum() == 10
    accepted(ex.check_maxpool_dx_by_hand(right))
    overwritten = right.copy()
    overwritten[1, 2], overwritten[1, 3] = 3, 4
    rejected(ex.check_maxpool_dx_by_hand(overwritten), "+=")
    rejected(ex.check_maxpool_dx_by_hand(np.zeros((4, 4))), "add up")
    moved = right.copy()
    moved[1, 2], moved[0, 0] = 0, 4
    rejected(ex.check_maxpool_dx_by_hand(moved), "wrong pixel")
    rejected(ex.check_maxpool_dx_by_hand(np.zeros((2, 2))), "4×4")


# exercises 2 and 3 of notebook 03, 3 and 4 of notebook 04: tests/test_exercises_nb03.py, _nb04.py


@pytest.mark.parametrize(
    "check",
    [
        getattr(ex, n)
        for n in ex.__all__
        if n.startswith("check_")
        and getattr(ex, n).__module__.split(".")[-1][:4] in {"nb00", "nb01", "nb02", "nb03", "nb04"}
    ],
    ids=lambda f: f.__name__,
)
def test_every_check_handles_a_missing_answer(check):
    result = check(None)
    assert isinstance(result, ExerciseResult) and not result.correct and result.message
