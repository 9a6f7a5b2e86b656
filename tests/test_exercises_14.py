"""The self-checks of notebook 14 accept right answers, reject typical wrong ones, and never print the solution."""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult


def accepted(result):
    assert isinstance(result, ExerciseResult)
    assert result.correct, repr(result)


def rejected(result, *fragments):
    assert isinstance(result, ExerciseResult)
    assert not result.correct, repr(result)
    for fragment in fragments:
        assert fragment in result.message, (fragment, result.message)


def test_conv_macs():
    right = 32 * 32 * 128 * 64 * 9
    accepted(ex.check_conv2_1_macs(right))
    rejected(ex.check_conv2_1_macs(2 * right), "FLOPs")
    rejected(ex.check_conv2_1_macs(32 * 32 * 128 * 9), "both channel counts")
    rejected(ex.check_conv2_1_macs(64 * 64 * 128 * 64 * 9), "padding 1 keeps 32×32")
    rejected(ex.check_conv2_1_macs(None), "one number")
    rejected(ex.check_conv2_1_macs(12345))
    assert str(right) not in ex.check_conv2_1_macs(12345).message


def im2col_loops(x, k):
    n, h, w, c = x.shape
    rows = [
        x[b, i : i + k, j : j + k].reshape(-1) for b in range(n) for i in range(h - k + 1) for j in range(w - k + 1)
    ]
    return np.array(rows)


def test_im2col_nhwc():
    def strided(x, k):
        n, h, w, c = x.shape
        s0, s1, s2, s3 = x.strides
        view = as_strided(x, (n, h - k + 1, w - k + 1, k, k, c), (s0, s1, s2, s1, s2, s3))
        return view.reshape(n * (h - k + 1) * (w - k + 1), -1)

    accepted(ex.check_im2col_nhwc(strided))
    accepted(ex.check_im2col_nhwc(im2col_loops))

    def channel_first_columns(x, k):  # columns ordered (c, i, j)
        out = im2col_loops(x, k)
        c = x.shape[3]
        return out.reshape(len(out), k, k, c).transpose(0, 3, 1, 2).reshape(len(out), -1)

    rejected(ex.check_im2col_nhwc(channel_first_columns), "(i, j, c)")
    rejected(ex.check_im2col_nhwc(lambda x, k: im2col_loops(x, k)[:-1]), "expected shape")
    rejected(ex.check_im2col_nhwc(lambda x, k: im2col_loops(x, k)[::-1]), "rows")

    def unfinished(x, k):
        raise NotImplementedError

    rejected(ex.check_im2col_nhwc(unfinished), "NotImplementedError")
    rejected(ex.check_im2col_nhwc(None), "pass your function")


def test_winograd_1d():
    def winograd(d, g):
        m1 = (d[0] - d[2]) * g[0]
        m2 = (d[1] + d[2]) * ((g[0] + g[1] + g[2]) / 2)
        m3 = (d[2] - d[1]) * ((g[0] - g[1] + g[2]) / 2)
        m4 = (d[1] - d[3]) * g[2]
        return [m1 + m2 + m3, m2 - m3 - m4]

    accepted(ex.check_winograd_1d(winograd))

    def direct(d, g):
        return [d[0] * g[0] + d[1] * g[1] + d[2] * g[2], d[1] * g[0] + d[2] * g[1] + d[3] * g[2]]

    rejected(ex.check_winograd_1d(direct), "6 data×weight products")

    def wrong_sign(d, g):
        y0, y1 = winograd(d, g)
        return [y0, -y1]

    rejected(ex.check_winograd_1d(wrong_sign), "differ from the direct formula")

    def numpy_inside(d, g):  # works on floats, fails on counting numbers
        return list(np.convolve(np.asarray(d, dtype=float), np.asarray(g, dtype=float)[::-1], "valid"))

    rejected(ex.check_winograd_1d(numpy_inside), "counting numbers")
    rejected(ex.check_winograd_1d("winograd"), "pass your function")


def test_pool2x2_corners():
    def pool(x):
        h2, w2 = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
        a, b = x[:, :, 0:h2:2, 0:w2:2], x[:, :, 0:h2:2, 1:w2:2]
        c, d = x[:, :, 1:h2:2, 0:w2:2], x[:, :, 1:h2:2, 1:w2:2]
        top, bottom = np.maximum(a, b), np.maximum(c, d)
        lower = bottom > top
        return np.maximum(top, bottom), np.where(lower, 2 + (d > c), 1 * (b > a))

    accepted(ex.check_pool2x2_corners(pool))

    def last_wins(x):  # >= instead of >: ties go to the later element
        h2, w2 = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
        a, b = x[:, :, 0:h2:2, 0:w2:2], x[:, :, 0:h2:2, 1:w2:2]
        c, d = x[:, :, 1:h2:2, 0:w2:2], x[:, :, 1:h2:2, 1:w2:2]
        top, bottom = np.maximum(a, b), np.maximum(c, d)
        lower = bottom >= top
        return np.maximum(top, bottom), np.where(lower, 2 + (d >= c), 1 * (b >= a))

    rejected(ex.check_pool2x2_corners(last_wins), "first maximum")
    rejected(ex.check_pool2x2_corners(lambda x: pool(x)[0]), "pair")
    rejected(ex.check_pool2x2_corners(lambda x: (pool(x)[0] + 1, pool(x)[1])), "y is wrong")


def test_notebook_14_check_names_are_unique_in_the_package():
    # vgglib.exercises re-exports every module's checks under one namespace: a repeated name would silently
    # replace another notebook's check
    import importlib
    import pkgutil

    mine = set(importlib.import_module("vgglib.exercises.nb14_making_it_fast").__all__)
    for info in pkgutil.iter_modules(ex.__path__):
        if info.name.startswith("_") or info.name == "nb14_making_it_fast":
            continue
        others = set(getattr(importlib.import_module(f"vgglib.exercises.{info.name}"), "__all__", []))
        assert not mine & others, (info.name, mine & others)
    for name in mine:
        assert getattr(ex, name).__module__ == "vgglib.exercises.nb14_making_it_fast"
