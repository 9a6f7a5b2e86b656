"""Hidden tests for notebooks/02_convolution_backprop.ipynb: exercises 3 (``dilate``) and 4 (the convolution's
backward pass in convolution form, ``conv_backward_conv_form``).

The self-checks (public) use fixed cases; these use other shapes, strides, paddings, kernel sizes, seeds and
float32, and compare with vgglib's ``Convolution2D`` layer and a numerical gradient.
"""

import numpy as np

from vgglib import Convolution2D
from vgglib.coursework import assert_close, call, hidden_test
from vgglib.gradcheck import numerical_gradient
from vgglib.reference import conv2d_backward_naive, conv2d_forward_naive


def _dilated(dy, s):
    n, f, ho, wo = dy.shape
    out = np.zeros((n, f, (ho - 1) * s + 1, (wo - 1) * s + 1))
    out[:, :, ::s, ::s] = dy
    return out


@hidden_test("check_dilate")
def other_strides_and_shapes(dilate):
    """Strides 1 to 5 on batches of 3, 5 channels, maps of 1x6, 6x1 and 4x3; float32 too."""
    rng = np.random.default_rng(202)
    for shape, s, dtype in (
        ((3, 5, 1, 6), 4, np.float64),
        ((2, 5, 6, 1), 5, np.float64),
        ((3, 2, 4, 3), 1, np.float64),
        ((1, 5, 4, 3), 2, np.float32),
    ):
        dy = rng.standard_normal(shape).astype(dtype)
        where = f"dy {shape} {np.dtype(dtype).name}, stride {s}"
        assert_close(call(dilate, dy, s, where=where), _dilated(dy, s), where, what="the dilated dy", rtol=0, atol=0)


def _layer_backward(dy, x, w, s, p):
    layer = Convolution2D(w.shape[1], w.shape[0], w.shape[2], padding=p, stride=s, dtype=x.dtype)
    layer.params["weights"][...] = w
    layer.forward(x)
    dx = layer.backward(dy)
    return dx, layer.grads["weights"], layer.grads["bias"]


def _check(fn, xs, ws, s, p, seed, dtype=np.float64, rtol=1e-7, atol=1e-9):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    ho = (xs[2] + 2 * p - ws[2]) // s + 1
    wo = (xs[3] + 2 * p - ws[3]) // s + 1
    dy = rng.standard_normal((xs[0], ws[0], ho, wo)).astype(dtype)
    where = f"x {xs} {np.dtype(dtype).name}, weights {ws}, stride {s}, padding {p}"
    out = call(fn, dy, x, w, s, p, where=where)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise AssertionError(f"return the triple (dx, dW, db) ({where})")
    for what, got, want in zip(("dx", "dW", "db"), out, _layer_backward(dy, x, w, s, p)):
        assert_close(got, want, where, what=what, rtol=rtol, atol=atol)


@hidden_test("check_conv_backward")
def strides_that_leave_rows_unread(conv_backward_conv_form):
    """Stride 3 with padding 2 on 10x11 inputs, stride 4 with a 2x2 kernel: rows and columns no window reads."""
    _check(conv_backward_conv_form, (2, 3, 10, 11), (4, 3, 3, 3), 3, 2, seed=2021)
    _check(conv_backward_conv_form, (1, 2, 9, 10), (2, 2, 2, 2), 4, 0, seed=2022)


@hidden_test("check_conv_backward")
def one_by_one_and_five_by_five_kernels(conv_backward_conv_form):
    """A 1x1 kernel with stride 2, and a 5x5 kernel with 'same' padding 2, batch of 3."""
    _check(conv_backward_conv_form, (3, 4, 7, 6), (5, 4, 1, 1), 2, 0, seed=2023)
    _check(conv_backward_conv_form, (3, 2, 6, 6), (3, 2, 5, 5), 1, 2, seed=2024)


@hidden_test("check_conv_backward")
def float32_against_the_layer(conv_backward_conv_form):
    """float32, batch 2, 3 channels, 8 filters of 3x3, stride 2, padding 1 (VGG-like): vgglib's Convolution2D."""
    shapes = (2, 3, 12, 12), (8, 3, 3, 3)
    _check(conv_backward_conv_form, *shapes, 2, 1, seed=2025, dtype=np.float32, rtol=1e-4, atol=1e-4)


@hidden_test("check_conv_backward")
def numerical_gradients(conv_backward_conv_form):
    """dx, dW and db equal numerical gradients of L = sum(conv(x, W, b) * dy) (stride 2, padding 1)."""
    rng = np.random.default_rng(2026)
    x, w, b = rng.standard_normal((1, 2, 5, 6)), rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2)
    dy = rng.standard_normal(conv2d_forward_naive(x, w, b, 2, 1).shape)

    def loss():
        return float((conv2d_forward_naive(x, w, b, 2, 1) * dy).sum())

    numeric = [numerical_gradient(loss, a, eps=1e-5) for a in (x, w, b)]
    where = "x (1, 2, 5, 6), weights (2, 2, 3, 3), stride 2, padding 1, compared with numerical gradients"
    out = call(conv_backward_conv_form, dy, x, w, 2, 1, where=where)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise AssertionError(f"return the triple (dx, dW, db) ({where})")
    for what, got, want in zip(("dx", "dW", "db"), out, numeric):
        assert_close(got, want, where, what=what, rtol=1e-6, atol=1e-7)
    assert_close(out[0], conv2d_backward_naive(dy, x, w, 2, 1)[0], where, what="dx")
