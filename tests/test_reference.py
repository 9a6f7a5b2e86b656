"""Known answers for the naive loops (the worked examples of notebooks 01 and 04) and for im2col."""

import numpy as np
import pytest

from vgglib import reference
from vgglib.im2col import col2im, im2col, output_size

IMAGE = np.array(
    [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], dtype=np.float64
)
X_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)


def test_worked_convolution_example():
    y = reference.conv2d_forward_naive(IMAGE[None, None], X_KERNEL[None, None], np.zeros(1))
    np.testing.assert_array_equal(y[0, 0], [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_worked_pooling_example():
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)[None, None]
    y, winners = reference.pool2d_forward_naive(x, 2, 2, "max")
    np.testing.assert_array_equal(y[0, 0], [[6, 8], [3, 4]])
    np.testing.assert_array_equal(winners[0, 0], [[3, 3], [0, 3]])
    dx = reference.pool2d_backward_naive(np.ones((1, 1, 2, 2)), x, 2, 2, "max")
    assert dx.sum() == 4 and dx[0, 0, 1, 1] == 1 and dx[0, 0, 2, 0] == 1


@pytest.mark.parametrize(
    "size,k,p,s,expected", [(28, 3, 1, 1, 28), (64, 2, 0, 2, 32), (7, 3, 0, 2, 3), (224, 3, 1, 1, 224), (5, 5, 0, 3, 1)]
)
def test_output_size(size, k, p, s, expected):
    assert output_size(size, k, p, s) == expected


def test_im2col_and_col2im_are_adjoint():
    # <im2col(x), c> == <x, col2im(c)> for all x, c: the defining property of the backward scatter.
    rng = np.random.default_rng(0)
    for k, s, p in [(3, 1, 1), (2, 2, 0), (3, 2, 2), (1, 3, 0)]:
        x = rng.standard_normal((2, 3, 7, 6))
        cols = im2col(x, k, s, p)
        c = rng.standard_normal(cols.shape)
        assert abs((cols * c).sum() - (x * col2im(c, x.shape, k, s, p)).sum()) < 1e-10


def test_im2col_entries():
    x = np.arange(2 * 1 * 4 * 5, dtype=np.float64).reshape(2, 1, 4, 5)
    cols = im2col(x, 2, stride=2, padding=1)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    n, c, i, j, oy, ox = 1, 0, 1, 0, 2, 1
    assert cols[n, c, i, j, oy, ox] == xp[n, c, oy * 2 + i, ox * 2 + j]
