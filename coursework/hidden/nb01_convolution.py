"""Hidden tests for notebooks/01_convolution.ipynb: exercises 1 (``conv_output_size``), 3 (the horizontal-edge
kernel) and 4 (``conv2d``).

The self-checks (public) use fixed cases; these use other sizes, strides, paddings, kernel sizes, seeds and float32,
and compare with ``vgglib.im2col.output_size``, vgglib's ``Convolution2D`` layer and the naive loops of
``vgglib.reference``.
"""

import numpy as np

from vgglib import Convolution2D
from vgglib.coursework import assert_close, call, hidden_test
from vgglib.im2col import output_size
from vgglib.reference import conv2d_forward_naive


@hidden_test("check_output_size")
def random_sizes_kernels_paddings_strides(conv_output_size):
    """Forty random cases: sizes up to 500, kernels up to 11, padding up to 5, strides up to 7."""
    rng = np.random.default_rng(101)
    for _ in range(40):
        k, p, s = int(rng.integers(1, 12)), int(rng.integers(0, 6)), int(rng.integers(1, 8))
        h = int(rng.integers(max(1, k - 2 * p), 501))
        where = f"size={h}, kernel_size={k}, padding={p}, stride={s}"
        got = call(conv_output_size, h, k, p, s, where=where)
        if (
            isinstance(got, bool)
            or not isinstance(got, (int, np.integer, float, np.floating))
            or got != output_size(h, k, p, s)
        ):
            raise AssertionError(f"wrong output size for {where}")


@hidden_test("check_output_size")
def agrees_with_a_real_convolution(conv_output_size):
    """The size it predicts is the size the naive convolution loops produce (non-square input, stride 3)."""
    x = np.zeros((1, 1, 10, 7))
    for k, p, s in ((3, 1, 3), (4, 2, 3), (1, 0, 2), (7, 0, 1)):
        y = conv2d_forward_naive(x, np.zeros((1, 1, k, k)), np.zeros(1), s, p)
        for axis, size in ((2, 10), (3, 7)):
            where = f"size={size}, kernel_size={k}, padding={p}, stride={s}"
            if call(conv_output_size, size, k, p, s, where=where) != y.shape[axis]:
                raise AssertionError(f"wrong output size for {where}")


@hidden_test("check_horizontal_edge_kernel")
def sharp_edges_at_every_row_and_in_both_directions(my_kernel):
    """A sharp bright-over-dark step between rows 0|1 and between rows 1|2 is positive, dark-over-bright negative."""
    k = np.asarray(my_kernel, dtype=np.float64)
    if k.shape != (3, 3):
        raise AssertionError(f"expected a 3×3 kernel, got shape {k.shape}")
    for name, rows in (("between rows 0 and 1", (1.0, 0.0, 0.0)), ("between rows 1 and 2", (1.0, 1.0, 0.0))):
        patch = np.repeat(np.array(rows)[:, None], 3, axis=1)
        if not (k * patch).sum() > 1e-9:
            raise AssertionError(f"a bright-above-dark edge {name} does not give a positive response")
        if not (k * patch[::-1]).sum() < -1e-9:
            raise AssertionError(f"a dark-above-bright edge {name} should give a negative response")


@hidden_test("check_horizontal_edge_kernel")
def blind_to_vertical_structure_at_any_brightness(my_kernel):
    """Zero on flat patches of any brightness and on 50 random patches whose rows are equal (left-right changes)."""
    k = np.asarray(my_kernel, dtype=np.float64)
    tol = 1e-9 * max(1.0, float(np.abs(k).max()))
    rng = np.random.default_rng(103)
    for level in (0.0, 0.3, 1.0, 255.0):
        if abs((k * np.full((3, 3), level)).sum()) > tol * max(1.0, level):
            raise AssertionError(f"a flat patch of brightness {level:g} gives a non-zero response")
    for _ in range(50):
        patch = np.tile(rng.uniform(0, 1, 3), (3, 1))
        if abs((k * patch).sum()) > tol * 10:
            raise AssertionError("a patch whose brightness changes only from left to right gives a non-zero response")


def _conv_case(xs, ws, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    return x, w, b


def _layer_forward(x, w, b, s, p):
    layer = Convolution2D(w.shape[1], w.shape[0], w.shape[2], padding=p, stride=s, dtype=x.dtype)
    layer.params["weights"][...] = w
    layer.params["bias"][...] = b
    return layer.forward(x)


@hidden_test("check_conv2d")
def float32_against_the_layer(conv2d):
    """float32, batch 3, 4 channels, 11x9 input, 6 filters of 3x3, stride 2, padding 1: vgglib's Convolution2D."""
    x, w, b = _conv_case((3, 4, 11, 9), (6, 4, 3, 3), seed=1041, dtype=np.float32)
    where = "x (3, 4, 11, 9) float32, weights (6, 4, 3, 3), stride 2, padding 1"
    got = call(conv2d, x, w, b, 2, 1, where=where)
    assert_close(got, _layer_forward(x, w, b, 2, 1), where, what="y", rtol=1e-4, atol=1e-4)


@hidden_test("check_conv2d")
def leftover_rows_and_unusual_kernels(conv2d):
    """Kernels 1x1, 4x4 and 6x6, strides 3 and 4 that leave rows and columns unread, padding 0 to 3."""
    cases = [
        ((2, 3, 10, 7), (5, 3, 1, 1), 3, 0),
        ((1, 2, 12, 13), (3, 2, 4, 4), 3, 2),
        ((2, 1, 9, 9), (2, 1, 6, 6), 4, 3),
    ]
    for i, (xs, ws, s, p) in enumerate(cases):
        x, w, b = _conv_case(xs, ws, seed=1042 + i)
        where = f"x {xs}, weights {ws}, stride {s}, padding {p}"
        got = call(conv2d, x, w, b, s, p, where=where)
        assert_close(got, conv2d_forward_naive(x, w, b, s, p), where, what="y")


@hidden_test("check_conv2d")
def default_stride_and_padding(conv2d):
    """Called as conv2d(x, weights, bias): stride 1 and padding 0 by default, a batch of one, 8 channels."""
    x, w, b = _conv_case((1, 8, 6, 5), (3, 8, 3, 3), seed=1045)
    where = "conv2d(x, weights, bias) with x (1, 8, 6, 5), weights (3, 8, 3, 3)"
    assert_close(call(conv2d, x, w, b, where=where), conv2d_forward_naive(x, w, b, 1, 0), where, what="y")
