"""Hidden tests for notebooks/04_pooling.ipynb: exercise 4, ``maxpool_backward(dy, x, pool_size, stride)``.

The self-check (public) tries seven shapes; these use other shapes, strides, seeds and float32, and compare with
vgglib's max-pooling layer, the naive loops of ``vgglib.reference`` and a numerical gradient. Inputs have no ties
(distinct values), so the winner of every window is unambiguous.
"""

import numpy as np

from vgglib import Maxpooling2D
from vgglib.coursework import assert_close, call, hidden_test
from vgglib.gradcheck import numerical_gradient
from vgglib.reference import pool2d_backward_naive, pool2d_forward_naive

CHECK = "check_maxpool_backward"


def _case(shape, seed, dtype=np.float64):
    """x without ties (a permutation, scaled) and a random dy for it."""
    rng = np.random.default_rng(seed)
    x = (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.25 - 3.0).astype(dtype)
    return x, rng


def _layer_dx(x, dy, k, s):
    layer = Maxpooling2D(pool_size=k, stride=s)
    layer.forward(x)
    return layer.backward(dy)


@hidden_test(CHECK)
def float32_overlapping_windows_against_the_layer(maxpool_backward):
    """float32, batch 3, 4 channels, 9x11 maps, 3x3 windows moved by 2 (they overlap): vgglib's Maxpooling2D."""
    x, rng = _case((3, 4, 9, 11), seed=404, dtype=np.float32)
    dy = rng.standard_normal((3, 4, 4, 5)).astype(np.float32)
    where = "x (3, 4, 9, 11) float32, pool_size 3, stride 2"
    got = call(maxpool_backward, dy, x, 3, 2, where=where)
    assert_close(got, _layer_dx(x, dy, 3, 2), where, what="dx", rtol=1e-5, atol=1e-6)


@hidden_test(CHECK)
def stride_larger_than_the_window(maxpool_backward):
    """Stride 4 with 2x2 windows (pixels between windows get no gradient), odd non-square maps."""
    x, rng = _case((2, 3, 11, 9), seed=4041)
    k, s = 2, 4
    y, _ = pool2d_forward_naive(x, k, s, "max")
    dy = rng.standard_normal(y.shape)
    where = "x (2, 3, 11, 9), pool_size 2, stride 4"
    got = call(maxpool_backward, dy, x, k, s, where=where)
    assert_close(got, pool2d_backward_naive(dy, x, k, s, "max"), where, what="dx")


@hidden_test(CHECK)
def one_window_over_the_whole_map(maxpool_backward):
    """The window is the whole 5x5 map (one output per channel), and 1x1 windows (every pixel its own winner)."""
    x, rng = _case((2, 3, 5, 5), seed=4042)
    for k, s in ((5, 1), (5, 5), (1, 1), (1, 2)):
        y, _ = pool2d_forward_naive(x, k, s, "max")
        dy = rng.standard_normal(y.shape)
        where = f"x (2, 3, 5, 5), pool_size {k}, stride {s}"
        got = call(maxpool_backward, dy, x, k, s, where=where)
        assert_close(got, pool2d_backward_naive(dy, x, k, s, "max"), where, what="dx")


@hidden_test(CHECK)
def random_shapes_and_strides(maxpool_backward):
    """Twelve random cases: batch 1-3, 1-4 channels, pool sizes 1-4, strides 1-4, maps up to 12x12."""
    rng = np.random.default_rng(4043)
    for _ in range(12):
        k, s = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(k, 13)), int(rng.integers(k, 13)))
        x, _ = _case(shape, seed=int(rng.integers(1 << 30)))
        y, _ = pool2d_forward_naive(x, k, s, "max")
        dy = rng.standard_normal(y.shape)
        where = f"x {shape}, pool_size {k}, stride {s}"
        got = call(maxpool_backward, dy, x, k, s, where=where)
        assert_close(got, _layer_dx(x, dy, k, s), where, what="dx")


@hidden_test(CHECK)
def numerical_gradient_of_the_pooled_sum(maxpool_backward):
    """dx equals the numerical gradient of L = sum(maxpool(x) * dy), overlapping windows, stride 2."""
    x, rng = _case((2, 2, 7, 6), seed=4044)
    k, s = 3, 2
    y, _ = pool2d_forward_naive(x, k, s, "max")
    dy = rng.standard_normal(y.shape)
    xv = x.copy()
    numeric = numerical_gradient(lambda: float((pool2d_forward_naive(xv, k, s, "max")[0] * dy).sum()), xv, eps=1e-3)
    where = "x (2, 2, 7, 6), pool_size 3, stride 2, compared with a numerical gradient"
    got = call(maxpool_backward, dy, x, k, s, where=where)
    assert_close(got, numeric, where, what="dx", rtol=1e-6, atol=1e-6)
