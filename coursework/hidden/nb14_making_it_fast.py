"""Hidden tests for notebooks/14_making_it_fast.ipynb: exercises 2 (``im2col_nhwc(x, k, stride, padding)``),
3 (``pool2x2(x)`` from the four corner views) and 4 (``winograd_backward(d, g, dY)`` for one tile).

The self-checks (public) try six window cases, two pooling shapes and four random Winograd tiles; these try other
strides, paddings and kernel sizes against vgglib's ``im2col`` (NCHW, transposed to NHWC), integer pixels and an
NHWC view of an NCHW array; every tie pattern of a 2×2 window and odd sizes against vgglib's readable ``Pooling2D``;
and the tile's gradients against the convolution loops of ``vgglib.reference`` and numerical gradients.
"""

import itertools

import numpy as np

from vgglib.coursework import assert_close, call, hidden_test
from vgglib.gradcheck import numerical_gradient
from vgglib.im2col import im2col
from vgglib.layers import Pooling2D
from vgglib.reference import conv2d_backward_naive, conv2d_forward_naive


# ------------------------------------------------------------------------------------------- exercise 2
def _windows(x, k, stride, padding):
    """vgglib's im2col of the NCHW transpose, laid out as the exercise asks: (N·Ho·Wo, k·k·C), rows (n, oy, ox),
    columns (i, j, c)."""
    cols = im2col(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), k, stride, padding)  # (N, C, k, k, Ho, Wo)
    n, c, _, _, ho, wo = cols.shape
    return cols.transpose(0, 4, 5, 2, 3, 1).reshape(n * ho * wo, k * k * c)


def _im2col_case(im2col_nhwc, x, k, stride, padding, label=None):
    where = f"x {label or x.shape} {x.dtype.name}, k={k}, stride={stride}, padding={padding}"
    if not callable(im2col_nhwc):
        raise AssertionError(f"expected your function, got {type(im2col_nhwc).__name__}")
    got = call(lambda: im2col_nhwc(x, k, stride, padding), where=where)  # x passed as is (it may be a view)
    expected = _windows(x, k, stride, padding)
    if getattr(got, "shape", None) == expected.shape and got.dtype != x.dtype:
        raise AssertionError(f"the window matrix is {got.dtype}, x is {x.dtype}: keep x's dtype ({where})")
    assert_close(got, expected, where, what="the window matrix", rtol=0, atol=0)


@hidden_test("check_im2col_nhwc_strided")
def float32_leftover_rows_and_four_pixel_windows(im2col_nhwc):
    """float32: stride 3 with padding 2 on 10×11 maps (rows no window reads), 4×4 windows moved by 2 on 9×8 maps."""
    rng = np.random.default_rng(1402)
    _im2col_case(im2col_nhwc, rng.standard_normal((2, 10, 11, 3)).astype(np.float32), 3, 3, 2)
    _im2col_case(im2col_nhwc, rng.standard_normal((3, 9, 8, 5)).astype(np.float32), 4, 2, 1)


@hidden_test("check_im2col_nhwc_strided")
def padding_only_windows_and_one_window_per_image(im2col_nhwc):
    """2×2 windows moved by 4 with padding 3 (some windows hold only padding); 1×1 windows with padding 1 and
    stride 2 (the corner windows are padding); a window as large as the padded image (one row per image, strides 1
    and 5); 5×5 windows on a batch of one with one channel."""
    rng = np.random.default_rng(1403)
    _im2col_case(im2col_nhwc, rng.standard_normal((2, 7, 9, 2)), 2, 4, 3)
    _im2col_case(im2col_nhwc, rng.standard_normal((2, 5, 6, 3)), 1, 2, 1)
    x = rng.standard_normal((3, 4, 4, 2))
    _im2col_case(im2col_nhwc, x, 6, 1, 1)
    _im2col_case(im2col_nhwc, x, 6, 5, 1)
    _im2col_case(im2col_nhwc, rng.standard_normal((1, 9, 7, 1)), 5, 2, 2)


@hidden_test("check_im2col_nhwc_strided")
def integer_pixels_keep_their_dtype(im2col_nhwc):
    """A uint8 image of 28×28 pixels, 5×5 windows moved by 2 with padding 2, and int32 values: x's dtype kept."""
    rng = np.random.default_rng(1405)
    _im2col_case(im2col_nhwc, rng.integers(0, 256, (1, 28, 28, 1)).astype(np.uint8), 5, 2, 2)
    _im2col_case(im2col_nhwc, rng.integers(-1000, 1000, (2, 6, 7, 3)).astype(np.int32), 3, 2, 1)


@hidden_test("check_im2col_nhwc_strided")
def an_nhwc_view_of_an_nchw_array(im2col_nhwc):
    """x = nchw.transpose(0, 2, 3, 1), NHWC in shape but not in memory (strides are not those of a fresh array),
    with padding 0 and 1."""
    rng = np.random.default_rng(1406)
    nchw = rng.standard_normal((2, 3, 8, 7))
    view = nchw.transpose(0, 2, 3, 1)
    for k, stride, padding in ((3, 2, 0), (2, 1, 1)):
        try:
            _im2col_case(im2col_nhwc, view, k, stride, padding, label="(2, 8, 7, 3) transposed view")
        except AssertionError as err:
            try:  # the same values in a fresh C-ordered array: right there means strides taken from the shape
                _im2col_case(im2col_nhwc, np.ascontiguousarray(view), k, stride, padding)
            except AssertionError:
                raise err from None
            raise AssertionError(
                f"{err}. It is right for a C-ordered copy of the same x: take the strides from the array the view "
                "is made of (its .strides), not from its shape"
            ) from None


# ------------------------------------------------------------------------------------------- exercise 3
def _pool_case(pool2x2, x, where):
    out = call(pool2x2, x, where=where)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return the pair (y, winners) ({where})")
    layer = Pooling2D(2, 2, "max")  # the readable layer: the first maximum in row-major order wins
    y_ref = layer.forward(x)
    assert_close(out[0], y_ref, where, what="y", rtol=0, atol=0)
    assert_close(out[1], layer.winners, where, what="winners", rtol=0, atol=0)


@hidden_test("check_pool2x2_corners")
def every_tie_pattern_of_a_window(pool2x2):
    """All 81 windows with values in {0, 1, 2} (every way two, three or four corners can tie), as 81 channels of
    one 2×2 image, and the same with negative values."""
    patterns = np.array(list(itertools.product((0.0, 1.0, 2.0), repeat=4))).reshape(1, 81, 2, 2)
    _pool_case(pool2x2, patterns, "x (1, 81, 2, 2): every 2×2 window of values 0, 1, 2 (ties included)")
    _pool_case(pool2x2, -patterns - 1, "x (1, 81, 2, 2): every 2×2 window of values -1, -2, -3 (ties included)")


@hidden_test("check_pool2x2_corners")
def odd_sizes_and_a_single_window(pool2x2):
    """One 2×2 window, 3×3 maps, 7×5 and 9×2 and 2×9 maps; the largest values placed in the rows and columns that odd
    sizes drop."""
    rng = np.random.default_rng(1407)
    for shape in ((1, 1, 2, 2), (1, 1, 3, 3), (2, 3, 7, 5), (1, 4, 9, 2), (3, 2, 2, 9)):
        x = rng.standard_normal(shape)
        if shape[2] % 2:
            x[:, :, -1, :] += 10.0  # the dropped last row holds the largest values
        if shape[3] % 2:
            x[:, :, :, -1] += 10.0
        _pool_case(pool2x2, x, f"x {shape}")


@hidden_test("check_pool2x2_corners")
def float32_with_many_ties(pool2x2):
    """float32, batch 4, 8 channels, 10×12 maps of the values 0, 1, 2 (many ties), and a map that is constant."""
    rng = np.random.default_rng(1408)
    _pool_case(pool2x2, rng.integers(0, 3, (4, 8, 10, 12)).astype(np.float32), "x (4, 8, 10, 12) float32, values 0-2")
    _pool_case(pool2x2, np.full((2, 1, 6, 4), 0.5, np.float32), "x (2, 1, 6, 4) float32, every value 0.5")


# ------------------------------------------------------------------------------------------- exercise 4
def _pair(winograd_backward, d, g, dy, where):
    out = call(winograd_backward, d, g, dy, where=where)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return the pair (dd, dg) ({where})")
    return out


def _loops(d, g, dy):
    """The tile's gradients from vgglib's convolution loops: a 4×4 input, one 3×3 filter, stride 1, no padding."""
    dx, dw, _ = conv2d_backward_naive(dy[None, None], d[None, None], g[None, None], 1, 0)
    return dx[0, 0], dw[0, 0]


@hidden_test("check_winograd_backward")
def tiles_of_every_scale_against_the_convolution_loops(winograd_backward):
    """Ten random tiles with values from 1e-3 to 1e3, compared with vgglib's naive convolution backward."""
    rng = np.random.default_rng(1409)
    for scale in (1e-3, 1e-2, 0.1, 1.0, 1.0, 3.0, 10.0, 100.0, 1000.0, 1.0):
        d = rng.standard_normal((4, 4)) * scale
        g, dy = rng.standard_normal((3, 3)), rng.standard_normal((2, 2)) * scale
        where = f"a random tile of scale {scale:g}"
        dd, dg = _pair(winograd_backward, d, g, dy, where)
        dd_ref, dg_ref = _loops(d, g, dy)
        assert_close(dd, dd_ref, where, what="dd", rtol=1e-9, atol=1e-12 * scale)
        assert_close(dg, dg_ref, where, what="dg", rtol=1e-9, atol=1e-12 * scale * scale)


@hidden_test("check_winograd_backward")
def one_output_pixel_at_a_time(winograd_backward):
    """dY with a single 1 at each of the four output pixels (dd is the kernel at that offset), and dY = 0."""
    rng = np.random.default_rng(1410)
    d, g = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
    for a, b in itertools.product(range(2), range(2)):
        dy = np.zeros((2, 2))
        dy[a, b] = 1.0
        where = f"dY is 1 at output pixel ({a}, {b}) and 0 elsewhere"
        dd, dg = _pair(winograd_backward, d, g, dy, where)
        dd_ref, dg_ref = _loops(d, g, dy)
        assert_close(dd, dd_ref, where, what="dd", rtol=1e-9, atol=1e-12)
        assert_close(dg, dg_ref, where, what="dg", rtol=1e-9, atol=1e-12)
    where = "dY = 0"
    dd, dg = _pair(winograd_backward, d, g, np.zeros((2, 2)), where)
    assert_close(dd, np.zeros((4, 4)), where, what="dd", atol=1e-12)
    assert_close(dg, np.zeros((3, 3)), where, what="dg", atol=1e-12)


@hidden_test("check_winograd_backward")
def numerical_gradients(winograd_backward):
    """dd and dg equal numerical gradients of L = sum(dY * conv(d, g)) (the 2×2 output of a 3×3 kernel on the tile)."""
    rng = np.random.default_rng(1411)
    d, g, dy = rng.standard_normal((4, 4)), rng.standard_normal((3, 3)), rng.standard_normal((2, 2))
    zero = np.zeros(1)

    def loss():
        return float((conv2d_forward_naive(d[None, None], g[None, None], zero, 1, 0)[0, 0] * dy).sum())

    numeric = [numerical_gradient(loss, a, eps=1e-5) for a in (d, g)]
    where = "a random tile, compared with numerical gradients"
    out = _pair(winograd_backward, d, g, dy, where)
    for what, got, want in zip(("dd", "dg"), out, numeric):
        assert_close(got, want, where, what=what, rtol=1e-6, atol=1e-8)


@hidden_test("check_winograd_backward")
def float32_tile(winograd_backward):
    """A float32 tile, kernel and dY (the transforms may compute in float64; float32 accuracy is asked)."""
    rng = np.random.default_rng(1412)
    d, g, dy = (rng.standard_normal(s).astype(np.float32) for s in ((4, 4), (3, 3), (2, 2)))
    where = "a float32 tile"
    dd, dg = _pair(winograd_backward, d, g, dy, where)
    dd_ref, dg_ref = _loops(d.astype(np.float64), g.astype(np.float64), dy.astype(np.float64))
    assert_close(dd, dd_ref, where, what="dd", rtol=1e-5, atol=1e-5)
    assert_close(dg, dg_ref, where, what="dg", rtol=1e-5, atol=1e-5)
