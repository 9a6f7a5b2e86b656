"""Notebook 14's new and changed self-checks: right answers pass, typical mistakes fail with their hint, and no
message gives the answer away."""

import numpy as np
from exercise_support import accepted, rejected
from numpy.lib.stride_tricks import as_strided

from vgglib import exercises as ex
from vgglib.exercises.nb14_making_it_fast import IM2COL_CASES, WINOGRAD_AT, WINOGRAD_BT, WINOGRAD_G


# ------------------------------------------------------------------------------------------- exercise 1
def test_conv2_1_macs():
    right = 32 * 32 * 128 * 64 * 9
    accepted(ex.check_conv2_1_macs(right))
    accepted(ex.check_conv2_1_macs(float(right)))
    accepted(ex.check_conv2_1_macs(np.int64(right)))
    rejected(ex.check_conv2_1_macs(2 * right), "FLOPs")
    rejected(ex.check_conv2_1_macs(32 * 32 * 128 * 9), "both channel counts")
    rejected(ex.check_conv2_1_macs(64 * 64 * 128 * 64 * 9), "padding 1 keeps 32×32")
    rejected(ex.check_conv2_1_macs(None), "no answer yet")
    rejected(ex.check_conv2_1_macs("75 million"), "expected one number", "str")
    rejected(ex.check_conv2_1_macs(True), "expected one number")
    wrong = rejected(ex.check_conv2_1_macs(12345), "count")
    assert str(right) not in wrong.message and f"{right:,}" not in wrong.message


# ------------------------------------------------------------------------------------------- exercise 2
def im2col_strided(x, k, stride, padding):
    """The worked solution: pad H and W, then a view whose output axes step `stride` rows/pixels."""
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    n, h, w, c = xp.shape
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    s0, s1, s2, s3 = xp.strides
    view = as_strided(xp, (n, ho, wo, k, k, c), (s0, stride * s1, stride * s2, s1, s2, s3))
    return view.reshape(n * ho * wo, k * k * c)


def im2col_loops(x, k, stride, padding):
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    n, h, w, _ = xp.shape
    rows = [
        xp[b, i : i + k, j : j + k].reshape(-1)
        for b in range(n)
        for i in range(0, h - k + 1, stride)
        for j in range(0, w - k + 1, stride)
    ]
    return np.array(rows, dtype=x.dtype)


def test_im2col_nhwc_strided_accepts_right_answers():
    accepted(ex.check_im2col_nhwc_strided(im2col_strided))
    accepted(ex.check_im2col_nhwc_strided(im2col_loops))
    assert any(case[2] > 1 for case in IM2COL_CASES) and any(case[3] > 0 for case in IM2COL_CASES)
    assert any(case[0][0] == 1 for case in IM2COL_CASES)  # a batch of one
    assert {case[4] for case in IM2COL_CASES} == {np.float32, np.float64}


def test_im2col_nhwc_strided_diagnoses_typical_mistakes():
    def spread_windows(x, k, stride, padding):  # the stride applied to the window axes too
        xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        n, h, w, c = xp.shape
        ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
        s0, s1, s2, s3 = xp.strides
        if (ho + k - 2) * stride >= h or (wo + k - 2) * stride >= w:
            return im2col_strided(x, k, stride, padding)  # would read outside the array: stay right here
        view = as_strided(xp, (n, ho, wo, k, k, c), (s0, stride * s1, stride * s2, stride * s1, stride * s2, s3))
        return view.reshape(n * ho * wo, k * k * c)

    rejected(ex.check_im2col_nhwc_strided(spread_windows), "spread out", "one row and one pixel")
    rejected(ex.check_im2col_nhwc_strided(lambda x, k, s, p: im2col_strided(x, k, 1, p)), "stride 1")
    rejected(ex.check_im2col_nhwc_strided(lambda x, k, s, p: im2col_strided(x, k, s, 0)), "without padding")

    def pads_every_axis(x, k, stride, padding):
        xp = np.pad(x, padding)
        n, h, w, c = xp.shape
        ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
        s0, s1, s2, s3 = xp.strides
        return as_strided(xp, (n, ho, wo, k, k, c), (s0, stride * s1, stride * s2, s1, s2, s3)).reshape(n * ho * wo, -1)

    rejected(ex.check_im2col_nhwc_strided(pads_every_axis), "pad only H and W")

    def channel_first_columns(x, k, stride, padding):  # columns ordered (c, i, j)
        out = im2col_strided(x, k, stride, padding)
        c = x.shape[3]
        return out.reshape(len(out), k, k, c).transpose(0, 3, 1, 2).reshape(len(out), -1)

    rejected(ex.check_im2col_nhwc_strided(channel_first_columns), "(i, j, c)")
    rejected(ex.check_im2col_nhwc_strided(lambda x, k, s, p: im2col_strided(x, k, s, p)[::-1]), "(n, oy, ox)")

    def edge_padding(x, k, stride, padding):
        xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)), mode="edge")
        return im2col_strided(xp, k, stride, 0)

    rejected(ex.check_im2col_nhwc_strided(edge_padding), "border", "zeros")
    rejected(ex.check_im2col_nhwc_strided(lambda x, k, s, p: im2col_strided(x, k, s, p).astype(np.float64)), "dtype")

    def wrong_count(x, k, stride, padding):  # ceil instead of floor for Ho
        return im2col_strided(x, k, stride, padding)[:-1]

    rejected(ex.check_im2col_nhwc_strided(wrong_count), "expected shape", "Ho = ")


def test_im2col_nhwc_strided_unfinished_and_wrong_types():
    def unfinished(x, k, stride, padding):
        raise NotImplementedError

    rejected(ex.check_im2col_nhwc_strided(unfinished), "no answer yet", "NotImplementedError")

    def unfinished_with_message(x, k, stride, padding):
        raise NotImplementedError("stride")

    rejected(ex.check_im2col_nhwc_strided(unfinished_with_message), "raised NotImplementedError: stride")
    rejected(ex.check_im2col_nhwc_strided(lambda x, k, s, p: None), "returned None")
    rejected(ex.check_im2col_nhwc_strided(lambda x, k: x), "raised TypeError")
    rejected(ex.check_im2col_nhwc_strided(None), "pass your function")
    rejected(ex.check_im2col_nhwc_strided(np.zeros(3)), "pass your function")


# ------------------------------------------------------------------------------------------- exercise 4
BT, G, AT = WINOGRAD_BT, WINOGRAD_G, WINOGRAD_AT


def winograd_backward(d, g, dy):
    """The worked solution: the forward's steps in reverse, each transposed."""
    u, v = G @ g @ G.T, BT @ d @ BT.T
    dm = AT.T @ dy @ AT
    return BT.T @ (dm * u) @ BT, G.T @ (dm * v) @ G


def direct_gradients(d, g, dy):
    dd, dg = 0 * np.ones((4, 4)) * d[0, 0], 0 * g * d[0, 0]  # object arrays when the inputs are (counting numbers)
    for a in range(2):
        for b in range(2):
            dd[a : a + 3, b : b + 3] += dy[a, b] * g
            dg += dy[a, b] * d[a : a + 3, b : b + 3]
    return dd, dg


def test_winograd_backward_matches_the_direct_gradients():
    rng = np.random.default_rng(0)
    d, g, dy = rng.standard_normal((4, 4)), rng.standard_normal((3, 3)), rng.standard_normal((2, 2))
    for got, want in zip(winograd_backward(d, g, dy), direct_gradients(d, g, dy)):
        np.testing.assert_allclose(got, want, atol=1e-12)
    # and the forward it differentiates is section 4's: Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A
    y = AT @ ((G @ g @ G.T) * (BT @ d @ BT.T)) @ AT.T
    np.testing.assert_allclose(y, [[(d[i : i + 3, j : j + 3] * g).sum() for j in range(2)] for i in range(2)])


def test_winograd_backward_check_accepts_the_transposed_transforms():
    result = ex.check_winograd_backward(winograd_backward)
    accepted(result)
    assert "32" in result.message

    def as_list(d, g, dy):
        dd, dg = winograd_backward(d, g, dy)
        return [dd.tolist(), dg.tolist()]

    accepted(ex.check_winograd_backward(as_list))


def test_winograd_backward_check_diagnoses_typical_mistakes():
    rejected(ex.check_winograd_backward(direct_gradients), "72", "16 per gradient")
    rejected(ex.check_winograd_backward(lambda d, g, dy: winograd_backward(d, g, dy)[::-1]), "in that order")

    def dg_transposed(d, g, dy):
        dd, dg = winograd_backward(d, g, dy)
        return dd, dg.T

    rejected(ex.check_winograd_backward(dg_transposed), "dg has rows and columns swapped")

    def dg_with_raw_tile(d, g, dy):
        dm = AT.T @ dy @ AT
        return winograd_backward(d, g, dy)[0], G.T @ (dm * d) @ G

    rejected(ex.check_winograd_backward(dg_with_raw_tile), "tile itself")

    def dg_with_u(d, g, dy):
        dm = AT.T @ dy @ AT
        return winograd_backward(d, g, dy)[0], G.T @ (dm * (G @ g @ G.T)) @ G

    rejected(ex.check_winograd_backward(dg_with_u), "dg pairs dM with U")

    def dd_forward_transform(d, g, dy):
        dm = AT.T @ dy @ AT
        return BT @ (dm * (G @ g @ G.T)) @ BT.T, winograd_backward(d, g, dy)[1]

    rejected(ex.check_winograd_backward(dd_forward_transform), "forward's transform again")

    def dd_with_v(d, g, dy):
        dm = AT.T @ dy @ AT
        return BT.T @ (dm * (BT @ d @ BT.T)) @ BT, winograd_backward(d, g, dy)[1]

    rejected(ex.check_winograd_backward(dd_with_v), "dd pairs dM with V")

    def dy_untransposed(d, g, dy):  # the forward's Aᵀ·dY·A: shapes do not fit
        dm = AT @ dy @ AT.T
        return BT.T @ (dm * (G @ g @ G.T)) @ BT, G.T @ (dm * (BT @ d @ BT.T)) @ G

    rejected(ex.check_winograd_backward(dy_untransposed), "raised ValueError", "Pᵀ·dZ·Qᵀ")

    def floats_inside(d, g, dy):  # right on floats, but the conversion hides the products from the count
        d, g, dy = (np.asarray(a, dtype=np.float64) for a in (d, g, dy))
        return winograd_backward(d, g, dy)

    rejected(ex.check_winograd_backward(floats_inside), "right gradients", "counting numbers")

    def fills_a_float_array(d, g, dy):  # the counting numbers cannot go into a float array
        dd = np.zeros((4, 4))
        dd[:] = winograd_backward(d, g, dy)[0]
        return dd, winograd_backward(d, g, dy)[1]

    rejected(ex.check_winograd_backward(fills_a_float_array), "right gradients", "np.zeros")

    def wrong_shapes(d, g, dy):
        return np.zeros((4, 4)), np.zeros((4, 4))

    rejected(ex.check_winograd_backward(wrong_shapes), "(3, 3)")
    rejected(ex.check_winograd_backward(lambda d, g, dy: winograd_backward(d, g, dy)[0]), "pair")


def test_winograd_backward_unfinished_and_wrong_types():
    def unfinished(d, g, dy):
        raise NotImplementedError

    result = rejected(ex.check_winograd_backward(unfinished), "no answer yet", "NotImplementedError")
    assert "Pᵀ" not in result.message  # no rule for an empty function
    rejected(ex.check_winograd_backward("winograd"), "pass your function")
    rejected(ex.check_winograd_backward(lambda d, g, dy: ("a", "b")), "arrays of numbers")


def test_messages_never_contain_the_solution():
    # the hints name the rule (transposes, zero padding, the output axes' step), never the code or the numbers
    mistakes = [ex.check_winograd_backward(direct_gradients), ex.check_im2col_nhwc_strided(lambda x, k, s, p: x)]
    for result in mistakes:
        assert "BT.T @" not in result.message and "as_strided(" not in result.message
        assert "stride * s1" not in result.message
