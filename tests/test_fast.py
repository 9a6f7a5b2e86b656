"""The fast backend (vgglib.fast) against the readable layers and the naive loops, and its memory reuse.

The readable layers (vgglib.layers) are tested on their own in test_layers.py; here every fast layer is compared
with its readable counterpart sharing the same weights (``fast.to_reference``), over shapes, strides, padding,
dtypes, memory layouts and thread splits.
"""

import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgglib import fast, reference
from vgglib.fast import Convolution2D, FullyConnected, Maxpooling2D, Pooling2D, ReLU, elementwise
from vgglib.fast import conv as fast_conv
from vgglib.fast import winograd as fast_winograd
from vgglib.fast import workers as fast_workers
from vgglib.gradcheck import check_layer

FAST = settings(max_examples=30, deadline=None)
GRAD_TOL = 1e-7


def close32(actual, expected, what=""):
    """float32 agreement: relative to the size of the values summed into each entry."""
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=2e-4, atol=2e-5 * scale, err_msg=what)


def as_layout(x, layout):
    """The same values in another memory layout: NCHW, channels-last (NHWC) view, or a strided view."""
    if layout == "nchw":
        return np.ascontiguousarray(x)
    if layout == "nhwc":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)  # every other column of a wider array
    big[..., ::2] = x
    return big[..., ::2]


@contextmanager
def prefer(method):
    """``vgglib.fast.prefer(method)`` (the convolution method wherever it can: "winograd", "im2col", "mixed",
    "shifted", "shifted-mixed", "dense" or "auto"), with Winograd's chunks split however few tiles they hold."""
    saved = fast_winograd.WINOGRAD_MIN_TILES
    if method != "auto":
        fast_winograd.WINOGRAD_MIN_TILES = 1
    try:
        with fast.prefer(method):
            yield
    finally:
        fast_winograd.WINOGRAD_MIN_TILES = saved


def winograd(on):
    return prefer("winograd" if on else "im2col")


@contextmanager
def workers(split):
    """split=True: spread every batch over 2 worker threads, however small; False: everything on this thread."""
    names = ("threads", "MIN_PARALLEL_ROWS", "MIN_PARALLEL_VALUES", "MIN_PARALLEL_FLOPS", "MIN_ROWS")
    saved = [getattr(fast_workers, name) for name in names]
    fast_workers.threads = 2 if split else 1
    if split:
        fast_workers.MIN_PARALLEL_ROWS = fast_workers.MIN_PARALLEL_VALUES = 1
        fast_workers.MIN_PARALLEL_FLOPS = fast_workers.MIN_ROWS = 1
    try:
        yield
    finally:
        for name, value in zip(names, saved):
            setattr(fast_workers, name, value)


def run_layer(layer, x, dy, use_fast):
    """forward + backward by the fast layer (``layer`` itself when it is one) or by its readable counterpart
    (sharing the same weights): returns (y, dx, grads)."""
    layer = fast.to_fast(layer) if use_fast else fast.to_reference(layer)
    y = layer.forward(x)
    dx = layer.backward(dy)
    return y, dx, {k: v.copy() for k, v in layer.grads.items()}


def readable(layer):
    """The readable layer sharing ``layer``'s weights."""
    return fast.to_reference(layer)


@st.composite
def conv_cases(draw):
    vgg = draw(st.booleans())  # half the cases: VGG's 3x3 / stride 1 / pad 1 on even sizes
    k = 3 if vgg else draw(st.integers(1, 4))
    p = 1 if vgg else draw(st.integers(0, 2))
    s = 1 if vgg else draw(st.integers(1, 3))
    lo = max(1, k - 2 * p)
    h, w = (
        (2 * draw(st.integers(1, 4)), 2 * draw(st.integers(1, 4)))
        if vgg
        else (draw(st.integers(lo, lo + 7)), draw(st.integers(lo, lo + 7)))
    )
    return dict(
        n=draw(st.integers(1, 3)),
        c=draw(st.sampled_from([1, 2, 3, 7, 8, 9, 16])),
        f=draw(st.sampled_from([1, 3, 8, 17, 32])),
        h=h,
        w=w,
        k=k,
        p=p,
        s=s,
        method=draw(st.sampled_from(["auto", "winograd", "mixed", "im2col", "shifted", "shifted-mixed"])),
        layout=draw(st.sampled_from(["nchw", "nhwc", "strided"])),
        split=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


def make_conv(case, dtype):
    rng = np.random.default_rng(case["seed"])
    layer = Convolution2D(case["c"], case["f"], case["k"], padding=case["p"], stride=case["s"], rng=rng).astype(dtype)
    layer.params["bias"][:] = rng.standard_normal(case["f"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dtype)
    dy = rng.standard_normal((case["n"], *layer.output_shape(x.shape[1:]))).astype(dtype)
    return layer, as_layout(x, case["layout"]), dy


# ---------------------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------------------
@FAST
@given(conv_cases())
def test_conv_fast_equals_readable_float32(case):
    layer, x, dy = make_conv(case, np.float32)
    y_ref, dx_ref, g_ref = run_layer(layer, x, dy, use_fast=False)
    with workers(case["split"]), prefer(case["method"]):
        y, dx, g = run_layer(layer, x, dy, use_fast=True)
    assert y.dtype == dx.dtype == np.float32 and y.shape == y_ref.shape and dx.shape == x.shape
    close32(y, y_ref, "y")
    close32(dx, dx_ref, "dx")
    for key in g_ref:
        assert g[key].dtype == np.float32 and g[key].shape == layer.params[key].shape
        close32(g[key], g_ref[key], key)


@FAST
@given(conv_cases())
def test_conv_fast_equals_naive_loops_float64(case):
    layer, x, dy = make_conv(case, np.float64)
    w, b = layer.params["weights"], layer.params["bias"]
    with workers(case["split"]), prefer(case["method"]):
        y = layer.forward(x)
        dx = layer.backward(dy)
    assert layer._fast_cache is not None and layer._cols is None  # the fast path really ran
    np.testing.assert_allclose(y, reference.conv2d_forward_naive(x, w, b, case["s"], case["p"]), atol=1e-10)
    dx_ref, dw_ref, db_ref = reference.conv2d_backward_naive(dy, x, w, case["s"], case["p"])
    np.testing.assert_allclose(dx, dx_ref, atol=1e-10)
    np.testing.assert_allclose(layer.grads["weights"], dw_ref, atol=1e-10)
    np.testing.assert_allclose(layer.grads["bias"], db_ref, atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(conv_cases())
def test_conv_fast_gradcheck_float64(case):
    layer, x, _ = make_conv(case, np.float64)
    with workers(case["split"]), prefer(case["method"]):
        errors = check_layer(layer, x)
    assert max(errors.values()) < GRAD_TOL, errors


@pytest.mark.parametrize("split", [False, True], ids=["one-thread", "split"])
@pytest.mark.parametrize(
    "c,f,method",
    [
        (1, 4, "planes"),
        (4, 16, "planes"),
        (16, 16, "nhwc"),
        (16, 64, "nhwc"),
        (64, 16, "nhwc"),
        (16, 16, "winograd"),
        (16, 64, "winograd"),
        (64, 16, "winograd"),
        (8, 32, "mixed"),
        (32, 8, "mixed"),
        (16, 16, "shifted"),
        (4, 24, "shifted"),
        (16, 64, "shifted-mixed"),
    ],
)
def test_conv_every_method_matches_readable(c, f, method, split, monkeypatch):
    # planes: channel planes + col2im; nhwc: NHWC windows, dx by the rotated-kernel convolution (F < 3C) or
    # col2im (F >= 3C); winograd: F(2x2, 3x3) for y, dW and dx; mixed: im2col forward + dW with a Winograd dx
    # (C=8, F=32), and the other way round (C=32, F=8); shifted: shifted products for y, dW and dx; shifted-mixed:
    # shifted y + dW with dx by im2col/col2im (F=64).  VGG16's own 3x3/pad-1 geometry, five images.
    rng = np.random.default_rng(c * 100 + f)
    layer = Convolution2D(c, f, 3, padding=1, rng=rng)
    x = rng.standard_normal((5, c, 10, 12)).astype(np.float32)
    dy = rng.standard_normal((5, f, 10, 12)).astype(np.float32)
    ref = run_layer(layer, x, dy, use_fast=False)
    rotated = []  # True once dx went through Winograd
    winograd_conv = fast_conv._winograd_conv

    def spy(*args, **kwargs):
        rotated.append(kwargs.get("rotated", False))
        return winograd_conv(*args, **kwargs)

    monkeypatch.setattr(fast_conv, "_winograd_conv", spy)
    with workers(split), prefer({"nhwc": "im2col", "planes": "im2col"}.get(method, method)):
        got = run_layer(layer, x, dy, use_fast=True)
    expected = {"mixed": "nhwc" if c < 16 else "winograd", "shifted-mixed": "shifted"}.get(method, method)
    assert layer._fast_cache.method == expected
    assert any(rotated) == (method == "winograd" or (method == "mixed" and f >= 16))
    for a, b, name in zip(got[:2], ref[:2], ("y", "dx")):
        close32(a, b, name)
    for key in ref[2]:
        close32(got[2][key], ref[2][key], key)


def test_conv_output_is_nchw_shaped_and_channels_last_in_memory():
    layer = Convolution2D(8, 16, 3, padding=1)
    x = np.random.default_rng(0).standard_normal((2, 8, 5, 6)).astype(np.float32)
    y = layer.forward(x)
    assert y.shape == (2, 16, 5, 6) and fast.is_channels_last(y)
    nxt = Convolution2D(16, 4, 3, padding=1)
    ref = readable(nxt).forward(np.ascontiguousarray(y))
    close32(nxt.forward(y), ref)  # consumers see plain NCHW values


def test_conv_half_precision_takes_the_readable_path():
    layer = Convolution2D(2, 3, 3, padding=1)
    y = layer.forward(np.ones((1, 2, 4, 4), np.float16))
    assert y.dtype == np.float16 and layer._cols is not None and layer._fast_cache is None


def test_a_converted_layer_shares_the_weights_and_needs_its_own_forward():
    layer = Convolution2D(9, 5, 3, padding=1, rng=np.random.default_rng(1))
    x = np.random.default_rng(2).standard_normal((2, 9, 6, 6)).astype(np.float32)
    dy = np.random.default_rng(3).standard_normal((2, 5, 6, 6)).astype(np.float32)
    layer.forward(x)
    ref = readable(layer)
    assert type(ref).__name__ == "Convolution2D" and not fast.is_fast(ref) and fast.is_fast(layer)
    assert ref.params["weights"] is layer.params["weights"] and ref.config() == layer.config()
    with pytest.raises(RuntimeError, match="before forward"):  # no cache is carried across implementations
        ref.backward(dy)
    ref.forward(x)
    close32(ref.backward(dy), layer.backward(dy))


# ---------------------------------------------------------------------------------------------------------
# Inference: transformed weights reused while the weights are unchanged
# ---------------------------------------------------------------------------------------------------------
def readable_forward(layer, x):
    return readable(layer).forward(x, training=False)


@pytest.mark.parametrize("split", [False, True], ids=["one-thread", "split"])
def test_inference_reuses_the_transformed_weights_until_they_change(split):
    rng = np.random.default_rng(21)
    layer = Convolution2D(64, 16, 3, padding=1, rng=rng)
    layer.params["bias"][:] = rng.standard_normal(16)
    x = rng.standard_normal((3, 64, 8, 8)).astype(np.float32)
    cache = layer._weight_cache
    with workers(split):
        y1 = layer.forward(x, training=False)
        assert layer._fast_cache.method == "winograd"
        first = cache._ut
        y2 = layer.forward(x, training=False)  # reused (and made contiguous) ...
        assert cache._ut.base is None and cache._ut.flags.c_contiguous
        np.testing.assert_allclose(first, cache._ut)
        kept = cache._ut
        y3 = layer.forward(x, training=False)
        assert cache._ut is kept  # ... and reused as it is from then on
        close32(y1, readable_forward(layer, x))
        np.testing.assert_array_equal(y2, y3)
        close32(y2, y1)

        layer.params["weights"][3, 5, 1, 2] += 1.0  # changed in place: recomputed
        y4 = layer.forward(x, training=False)
        assert cache._ut is not kept
        close32(y4, readable_forward(layer, x))
        assert np.abs(y4 - y3).max() > 0.1

        layer.params["weights"] = layer.params["weights"] * 0.5  # a new array: recomputed
        close32(layer.forward(x, training=False), readable_forward(layer, x))

        layer.astype(np.float64)  # another dtype: recomputed, float64 exact
        x64 = x.astype(np.float64)
        y64 = layer.forward(x64, training=False)
        assert y64.dtype == np.float64 and cache._ut.dtype == np.float64
        np.testing.assert_allclose(y64, readable_forward(layer, x64), rtol=1e-10, atol=1e-10)


def test_training_forward_frees_the_weight_cache_and_backward_still_works_after_inference():
    rng = np.random.default_rng(22)
    layer = Convolution2D(64, 8, 3, padding=1, rng=rng)
    x = rng.standard_normal((2, 64, 8, 8)).astype(np.float32)
    dy = rng.standard_normal((2, 8, 8, 8)).astype(np.float32)
    ref = readable(layer)
    ref.forward(x, training=False)
    dx_ref = ref.backward(dy)
    grads_ref = {k: v.copy() for k, v in ref.grads.items()}
    layer.forward(x, training=False)
    assert layer._weight_cache._source is not None
    close32(layer.backward(dy), dx_ref)  # U recomputed for dx from the weights
    for key in grads_ref:
        close32(layer.grads[key], grads_ref[key], key)
    layer.forward(x, training=True)
    assert layer._weight_cache._source is None and layer._weight_cache._ut is None


def test_weight_cache_keeps_its_own_copy_of_the_weights():
    rng = np.random.default_rng(23)
    w = rng.standard_normal((8, 64, 3, 3)).astype(np.float32)
    cache = fast_winograd.WeightCache()
    u1 = np.array(cache.winograd_weights_t(w, np.dtype(np.float32)))
    assert not np.shares_memory(cache._source, w)
    w[:] = rng.standard_normal(w.shape)  # the caller's array changed in place
    u2 = cache.winograd_weights_t(w, np.dtype(np.float32))
    np.testing.assert_allclose(u2, fast_winograd._winograd_weights(w, np.float32).transpose(0, 2, 1))
    assert not np.allclose(u1, u2)
    w[0, 0, 0, 0] = np.nan  # NaN never compares equal: always recomputed
    u3 = cache.winograd_weights_t(w, np.dtype(np.float32))
    assert np.isnan(u3[:, 0, 0]).any()


# ---------------------------------------------------------------------------------------------------------
# Memory reuse
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("split", [False, True], ids=["one-thread", "split"])
def test_consecutive_batches_are_independent_and_not_aliased(split):
    rng = np.random.default_rng(5)
    layer = Convolution2D(16, 16, 3, padding=1, rng=rng)
    other = Convolution2D(32, 8, 3, padding=2, stride=2, rng=rng)  # different shapes share the scratch
    xa, xb = (rng.standard_normal((3, 16, 9, 9)).astype(np.float32) for _ in range(2))
    dya, dyb = (rng.standard_normal((3, 16, 9, 9)).astype(np.float32) for _ in range(2))
    ref_a, ref_b = run_layer(layer, xa, dya, False), run_layer(layer, xb, dyb, False)
    with workers(split), winograd(split):
        check_batches(layer, other, rng, xa, xb, dya, dyb, ref_a, ref_b)


def check_batches(layer, other, rng, xa, xb, dya, dyb, ref_a, ref_b):
    ya = layer.forward(xa)
    dxa = layer.backward(dya)
    ga = dict(layer.grads)
    kept = [ya.copy(), dxa.copy()] + [g.copy() for g in ga.values()]
    other.backward(other.forward(rng.standard_normal((4, 32, 11, 7)).astype(np.float32)))
    yb = layer.forward(xb)
    dxb = layer.backward(dyb)
    # batch A's results were not overwritten by batch B (or by another layer using the scratch memory)
    for before, after in zip(kept, [ya, dxa, *ga.values()]):
        np.testing.assert_array_equal(before, after)
    close32(ya, ref_a[0])
    close32(dxa, ref_a[1])
    close32(yb, ref_b[0])
    close32(dxb, ref_b[1])
    for key in ref_b[2]:
        close32(layer.grads[key], ref_b[2][key], key)
    handed_out = [ya, dxa, yb, dxb, *ga.values(), *layer.grads.values()]
    scratch = fast.scratch_buffers()
    assert scratch, "the fast path should keep scratch memory between calls"
    for arr in handed_out:
        assert not any(np.shares_memory(arr, buf) for buf in scratch)
    assert not np.shares_memory(ya, yb) and not np.shares_memory(dxa, dxb)


def test_fast_path_does_not_modify_its_inputs():
    rng = np.random.default_rng(6)
    layers = [Convolution2D(8, 8, 3, padding=1, rng=rng), ReLU(), Maxpooling2D()]
    h = rng.standard_normal((2, 8, 6, 6)).astype(np.float32)
    seen = []  # (array given to a layer, a copy taken before the call)
    for layer in layers:
        seen.append((h, h.copy()))
        h = layer.forward(h)
    dy = rng.standard_normal(h.shape).astype(np.float32)
    for layer in reversed(layers):
        seen.append((dy, dy.copy()))
        dy = layer.backward(dy)
    for given_array, before in seen:
        np.testing.assert_array_equal(given_array, before)


def test_scratch_is_per_thread():
    rng = np.random.default_rng(7)
    cases = []
    for t in range(4):
        layer = Convolution2D(12, 12, 3, padding=1, rng=rng)
        x = rng.standard_normal((2, 12, 8 + t, 8)).astype(np.float32)
        cases.append((layer, x, readable(layer).forward(x)))
    results = {}

    def work(i):
        layer, x, _ = cases[i]
        for _ in range(20):
            results[i] = layer.forward(x)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (_, _, ref) in enumerate(cases):
        close32(results[i], ref)


def test_free_scratch():
    Convolution2D(8, 8, 3, padding=1).forward(np.ones((1, 8, 4, 4), np.float32))
    assert fast.scratch_buffers()
    fast.free_scratch()
    assert fast.scratch_buffers() == []


# ---------------------------------------------------------------------------------------------------------
# Fully connected, and the blocked matrix product behind it
# ---------------------------------------------------------------------------------------------------------
@FAST
@given(
    st.integers(1, 9),
    st.integers(1, 40),
    st.integers(1, 40),
    st.booleans(),
    st.sampled_from([np.float32, np.float64]),
    st.integers(0, 2**16),
)
def test_fully_connected_fast_equals_readable(n, n_in, n_out, split, dtype, seed):
    rng = np.random.default_rng(seed)
    layer = FullyConnected(n_in, n_out, rng=rng).astype(dtype)
    layer.params["bias"][:] = rng.standard_normal(n_out)
    x = rng.standard_normal((n, n_in)).astype(dtype)
    dy = rng.standard_normal((n, n_out)).astype(dtype)
    ref = run_layer(layer, x, dy, use_fast=False)
    with workers(split):
        got = run_layer(layer, x, dy, use_fast=True)
    check = close32 if dtype == np.float32 else (lambda a, b, what="": np.testing.assert_allclose(a, b, atol=1e-12))
    for a, b in zip(got[:2], ref[:2]):
        assert a.dtype == dtype
        check(a, b)
    for key in ref[2]:
        check(got[2][key], ref[2][key], key)


def test_fully_connected_fast_gradcheck():
    rng = np.random.default_rng(13)
    layer = FullyConnected(7, 5, rng=rng).astype(np.float64)
    layer.params["bias"][:] = rng.standard_normal(5)
    with workers(True):
        errors = check_layer(layer, rng.standard_normal((4, 7)))
    assert max(errors.values()) < GRAD_TOL, errors


@pytest.mark.parametrize("shape", [(37, 5, 3), (3, 5, 37), (4, 6, 5, 3)], ids=["rows", "columns", "stack"])
def test_blocked_matmul_equals_matmul(shape):
    rng = np.random.default_rng(14)
    if len(shape) == 3:
        m, k, n = shape
        a, b = rng.standard_normal((k, m)).T, rng.standard_normal((k, n))  # a transposed view, as used
    else:
        s, m, k, n = shape
        a, b = rng.standard_normal((s, m, k)), rng.standard_normal((s, n, k)).transpose(0, 2, 1)
    out = np.full(np.matmul(a, b).shape, np.nan)
    with workers(True):
        fast_workers.matmul(a, b, out)
    np.testing.assert_allclose(out, np.matmul(a, b), atol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------------------------------------
@contextmanager
def relu_rows(length):
    """ReLU's row length for the comparison with a row of zeros (small: rows plus a remainder in tiny arrays)."""
    saved, elementwise.RELU_ROW = elementwise.RELU_ROW, length
    try:
        yield
    finally:
        elementwise.RELU_ROW = saved


@FAST
@given(
    st.integers(1, 3),
    st.integers(1, 9),
    st.integers(1, 7),
    st.sampled_from(["nchw", "nhwc", "strided"]),
    st.sampled_from([np.float32, np.float64]),
    st.booleans(),
    st.sampled_from([1, 7, 16, elementwise.RELU_ROW]),
    st.integers(0, 2**16),
)
def test_relu_fast_equals_readable(n, c, h, layout, dtype, split, row, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (n, c, h, 5)).astype(dtype)  # many exact zeros
    x[x == 0] = rng.choice([0.0, -0.0], size=int((x == 0).sum()))
    x[rng.random(x.shape) < 0.05] = np.nan
    x = as_layout(x, layout)
    dy = rng.standard_normal(x.shape).astype(dtype)
    ref = run_layer(ReLU(), x, dy, use_fast=False)
    with workers(split), relu_rows(row):
        got = run_layer(ReLU(), x, dy, use_fast=True)
    assert fast.is_channels_last(got[0]) == fast.is_channels_last(x)  # the memory order is kept
    assert got[0].dtype == got[1].dtype == dtype
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])


def test_relu_fast_gradcheck_and_nan():
    x = np.random.default_rng(8).permutation(60).reshape(2, 3, 2, 5) - 29.5
    assert check_layer(ReLU(), x / 10)["dx"] < GRAD_TOL
    layer = ReLU()
    y = layer.forward(np.array([[np.nan, -1.0, 2.0]]))
    dx = layer.backward(np.ones((1, 3)))
    assert np.isnan(y[0, 0]) and y[0, 1] == 0 and y[0, 2] == 2
    np.testing.assert_array_equal(dx, [[0, 0, 1]])


# ---------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------
@FAST
@given(
    st.integers(1, 3),
    st.integers(1, 9),
    st.integers(2, 9),
    st.integers(2, 9),
    st.sampled_from(Pooling2D.modes),
    st.sampled_from(["nchw", "nhwc", "strided"]),
    st.sampled_from([np.float32, np.float64]),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_pool2x2_fast_equals_readable(n, c, h, w, mode, layout, dtype, ties, split, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (n, c, h, w)) if ties else rng.standard_normal((n, c, h, w))  # ties: first wins
    x = as_layout(x.astype(dtype), layout)
    dy = rng.standard_normal((n, c, h // 2, w // 2)).astype(dtype)
    layer = Pooling2D(2, 2, mode)
    ref = readable(layer)
    y_ref, dx_ref, _ = run_layer(ref, x, dy, use_fast=False)
    winners_ref = ref.winners
    with workers(split):
        y, dx, _ = run_layer(layer, x, dy, use_fast=True)
    assert layer._channels_last is not None
    assert y.dtype == dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_allclose(y, y_ref, rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-6 if dtype == np.float32 else 1e-14)
    if mode == "avg":
        assert layer.winners is None
    else:
        assert layer.winners.dtype == np.int64
        np.testing.assert_array_equal(layer.winners, winners_ref)
    # inference skips the winners; backward and `winners` find them when asked, the same ones
    with workers(split):
        y_inf = layer.forward(x, training=False)
        assert (layer._fast_x is None) == (mode == "avg")
        np.testing.assert_array_equal(y_inf, y)
        if mode != "avg" and rng.random() < 0.5:
            np.testing.assert_array_equal(layer.winners, winners_ref)
        np.testing.assert_array_equal(layer.backward(dy), dx)
        assert layer._fast_x is None
        if mode != "avg":
            np.testing.assert_array_equal(layer.winners, winners_ref)


@pytest.mark.parametrize("mode", Pooling2D.modes)
def test_pool2x2_fast_matches_naive_and_gradcheck(mode):
    rng = np.random.default_rng(9)
    x = (rng.permutation(2 * 3 * 7 * 6) - 100.5).reshape(2, 3, 7, 6) / 10  # tie-free, odd height
    layer = Pooling2D(2, 2, mode)
    y = layer.forward(x)
    y_ref, winners = reference.pool2d_forward_naive(x, 2, 2, mode)
    np.testing.assert_allclose(y, y_ref, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(dy), reference.pool2d_backward_naive(dy, x, 2, 2, mode), atol=1e-12)
    if mode != "avg":
        np.testing.assert_array_equal(layer.winners, winners)
    assert check_layer(layer, x)["dx"] < GRAD_TOL


def test_pool_nan_goes_to_the_first_nan_like_the_readable_code():
    x = np.zeros((1, 2, 2, 2), np.float32)
    x[0, 0, 1, 0] = np.nan
    x[0, 1] = [[1, np.nan], [np.nan, 5]]
    layer = Maxpooling2D()
    ref = readable(layer)
    y_ref = ref.forward(x)
    w_ref = ref.winners
    y = layer.forward(x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y_ref))
    np.testing.assert_array_equal(layer.winners, w_ref)
    np.testing.assert_array_equal(layer.winners.ravel(), [2, 1])
    y_inf = layer.forward(x, training=False)  # values alone, winners found when asked
    np.testing.assert_array_equal(np.isnan(y_inf), np.isnan(y_ref))
    np.testing.assert_array_equal(layer.winners, w_ref)


def test_other_pool_geometries_use_the_readable_code():
    layer = Maxpooling2D(3, 1)
    layer.forward(np.ones((1, 1, 4, 4)))
    assert layer._channels_last is None and layer.winners.shape == (1, 1, 2, 2)


# ---------------------------------------------------------------------------------------------------------
# Choosing the implementation: per layer and per model, never process-wide
# ---------------------------------------------------------------------------------------------------------
def test_half_precision_falls_back_to_the_readable_code():
    x = np.ones((1, 2), np.float16)
    layer = ReLU()
    y = layer.forward(x)
    assert y.dtype == np.float16 and layer._mask is not None and layer._y is None
    layer.forward(x.astype(np.float32))
    assert layer._y is not None
    fc = FullyConnected(2, 3)
    assert fc.forward(x).dtype == np.float16 and fc.backward(np.ones((1, 3), np.float16)).dtype == np.float16


@pytest.mark.parametrize(
    "cls_name", ["Convolution2D", "ReLU", "Pooling2D", "Maxpooling2D", "Minpooling2D", "Avgpooling2D", "FullyConnected"]
)
def test_every_fast_layer_is_its_readable_layer_with_the_same_config(cls_name):
    from vgglib import layers

    ref_cls, fast_cls = getattr(layers, cls_name), getattr(fast, cls_name)
    args = {"Convolution2D": (3, 4, 3), "FullyConnected": (5, 6)}.get(cls_name, ())
    ref, quick = ref_cls(*args), fast_cls(*args)
    assert isinstance(quick, ref_cls) and fast.is_fast(quick) and not fast.is_fast(ref)
    assert quick.config() == ref.config()
    for key in ref.params:
        np.testing.assert_array_equal(quick.params[key], ref.params[key])
    there = fast.to_fast(ref)
    back = fast.to_reference(there)
    assert type(there) is fast_cls and type(back) is ref_cls
    assert all(there.params[k] is ref.params[k] is back.params[k] for k in ref.params)
    assert fast.to_fast(there) is there and fast.to_reference(ref) is ref


def test_models_choose_their_implementation_and_threads_do_not_interfere():
    from vgglib.model import VGG16

    rng = np.random.default_rng(20)
    x = rng.standard_normal((2, 1, 32, 32)).astype(np.float32)
    quick = VGG16(1, 10, 32, width=1 / 16)
    slow = VGG16(1, 10, 32, width=1 / 16, fast=False)
    assert quick.fast and not slow.fast and not fast.is_fast(slow.layers[0])
    expected = {"fast": quick.forward(x, training=False), "slow": slow.forward(x, training=False)}
    close32(expected["fast"], expected["slow"])
    assert slow.to_fast() is slow and slow.fast
    slow.to_reference()
    results, errors = {}, []

    def run(name, model):
        try:
            for _ in range(5):
                y = model.forward(x, training=False)
                kinds = {fast.is_fast(layer) for layer in model.layers if layer.params}
                results.setdefault(name, []).append((y, kinds))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=("fast", quick)), threading.Thread(target=run, args=("slow", slow))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for name, want_fast in (("fast", True), ("slow", False)):
        for y, kinds in results[name]:
            assert kinds == {want_fast}
            np.testing.assert_array_equal(y, expected[name])


# ---------------------------------------------------------------------------------------------------------
# A whole (narrow) VGG16: both paths give the same logits and gradients
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("split", [False, True], ids=["one-thread", "split"])
def test_vgg16_fast_equals_readable(split):
    from vgglib.losses import softmax_cross_entropy
    from vgglib.model import VGG16

    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 1, 32, 32)).astype(np.float32)
    labels = rng.integers(0, 10, 3)
    results = []
    for use_fast in (False, True):
        model = VGG16(1, 10, 32, width=1 / 16, dropout=0.5, rng=np.random.default_rng(0), fast=use_fast)
        with workers(split), winograd(split):
            logits = model.forward(x, training=True)
            _, dlogits = softmax_cross_entropy(logits, labels)
            dx = model.backward(dlogits)
        results.append((logits, dx, {p.name: p.grad.copy() for p in model.parameters()}))
    (l0, dx0, g0), (l1, dx1, g1) = results
    close32(l1, l0, "logits")
    close32(dx1, dx0, "dx")
    assert g0.keys() == g1.keys()
    for name in g0:
        close32(g1[name], g0[name], name)


def test_worker_settings():
    assert fast.worker_count() >= 1
    with workers(True):
        assert fast.worker_count() == 2
        chunks, parallel = fast_workers.plan(5, 100, 10)
        assert parallel and len(chunks) % 2 == 0
        assert [i for a, b in chunks for i in range(a, b)] == list(range(5))  # every image once
    saved = fast_workers.threads
    try:
        fast_workers.threads = 0
        with pytest.raises(ValueError, match="threads"):
            fast.worker_count()
    finally:
        fast_workers.threads = saved


def test_blas_threads_restored_after_a_split():
    from threadpoolctl import threadpool_info

    before = [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]
    with workers(True):
        Convolution2D(16, 16, 3, padding=1).forward(np.ones((4, 16, 8, 8), np.float32))
    assert [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"] == before


def test_split_really_runs_on_the_worker_threads(monkeypatch):
    names = set()
    original = fast_conv._gather_nhwc

    def spy(*args):
        names.add(threading.current_thread().name)
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.05)  # on a busy machine the caller could otherwise take every chunk before the helper wakes
        return original(*args)

    monkeypatch.setattr(fast_conv, "_gather_nhwc", spy)
    layer = Convolution2D(16, 16, 3, padding=1)
    x = np.random.default_rng(11).standard_normal((4, 16, 8, 8)).astype(np.float32)
    with workers(True):
        y = layer.forward(x)
    # the calling thread takes its share, the helper thread the rest
    helpers = {name for name in names if name.startswith("vgglib-fast")}
    assert helpers and names - helpers <= {threading.current_thread().name}
    names.clear()
    with workers(False):
        close32(layer.forward(x), y)
    assert names == {threading.current_thread().name}


@pytest.mark.parametrize("method", ["auto", "winograd", "im2col"])
@pytest.mark.parametrize("c,k,s,p", [(1, 3, 1, 1), (16, 3, 1, 1), (16, 2, 2, 0), (8, 3, 1, 3)])
def test_conv_backward_without_dx_gives_the_same_weight_gradients(c, k, s, p, method):
    # need_dx=False (the network's first layer) skips dx and must leave dW and db exactly as they were;
    # (8, 3, 1, 3): padding beyond the kernel, where dx is not a convolution (col2im)
    rng = np.random.default_rng(c + k + s + p)
    x = rng.standard_normal((3, c, 8, 10)).astype(np.float32)
    w = rng.standard_normal((12, c, k, k)).astype(np.float32)
    b = rng.standard_normal(12).astype(np.float32)
    with prefer(method):
        y, cache = fast.conv2d_forward(x, w, b, s, p)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        dx, dw, db = fast.conv2d_backward(dy, cache, w)
        none, dw2, db2 = fast.conv2d_backward(dy, cache, w, need_dx=False)
    assert dx.shape == x.shape and none is None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("method", ["im2col", "winograd"])
def test_padding_beyond_the_kernel_takes_dx_by_col2im(method):
    rng = np.random.default_rng(17)
    layer = Convolution2D(8, 4, 3, padding=3, rng=rng)  # k - 1 - p < 0: dx is not a convolution
    x = rng.standard_normal((2, 8, 5, 6)).astype(np.float32)
    dy = rng.standard_normal((2, 4, 9, 10)).astype(np.float32)
    ref = run_layer(layer, x, dy, use_fast=False)
    with prefer(method):
        got = run_layer(layer, x, dy, use_fast=True)
    assert layer._fast_cache.method == "nhwc"  # padding 3: never Winograd
    for a, b in zip(got[:2], ref[:2]):
        close32(a, b)
    for key in ref[2]:
        close32(got[2][key], ref[2][key], key)


@pytest.mark.parametrize("split", [False, True], ids=["one-thread", "split"])
@pytest.mark.parametrize("f", [16, 64], ids=["dx-shifted", "dx-other"])
def test_shifted_products_pick_dx_by_the_inner_dimension(f, split, monkeypatch):
    # dx's products run over F: within the shifted range they are shifted too, otherwise dx takes im2col/col2im
    rng = np.random.default_rng(f)
    layer = Convolution2D(16, f, 3, padding=1, rng=rng)
    x = rng.standard_normal((3, 16, 9, 7)).astype(np.float32)
    dy = rng.standard_normal((3, f, 9, 7)).astype(np.float32)
    ref = run_layer(layer, x, dy, use_fast=False)
    other = []
    input_grad = fast_conv._input_grad
    monkeypatch.setattr(fast_conv, "_input_grad", lambda *a: other.append(1) or input_grad(*a))
    with workers(split), prefer("shifted-mixed"):
        got = run_layer(layer, x, dy, use_fast=True)
    assert layer._fast_cache.method == "shifted" and bool(other) == (f > 16)
    for a, b, name in zip(got[:2], ref[:2], ("y", "dx")):
        close32(a, b, name)
    for key in ref[2]:
        close32(got[2][key], ref[2][key], key)


def test_shifted_products_are_chosen_for_narrow_layers_on_large_maps():
    # the quarter-width VGG16 of the mnist-vgg16 recipe (benchmarks/bench_layers.py measures every method)
    def method(c, f, size, **kw):
        layer = Convolution2D(c, f, 3, padding=1, **kw)
        layer.forward(np.zeros((1, c, size, size), np.float32))
        return layer._fast_cache.method

    assert method(16, 16, 32) == "shifted"  # conv1_2
    # 16x16 (27% of the work thrown away) and 8x8 (56%): im2col is as fast or faster (single-thread shards)
    assert method(16, 32, 16) == method(32, 32, 16) == method(32, 64, 8) == "nhwc"
    assert method(64, 128, 4) == method(128, 128, 4) == "winograd"  # 4x4 maps: Winograd from 64 channels
    assert method(128, 128, 2) == "dense"  # 2x2 maps, one tile an image: Winograd only from 256 channels
    assert method(16, 16, 3) == "nhwc"  # 3x3 maps: as many pixels as taps, one dense product would save nothing
    assert method(64, 64, 32) == "winograd"  # wide: Winograd
    assert method(1, 16, 32) == "planes"  # the first layer
    assert method(16, 16, 32, stride=2) == "nhwc"  # stride 2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_shifted_products_keep_non_finite_inputs_to_their_windows(bad):
    # the thrown-away border rows multiply zeros in dy by input values: 0 * inf must not reach dW
    rng = np.random.default_rng(33)
    layer = Convolution2D(16, 8, 3, padding=1, rng=rng)
    x = rng.standard_normal((2, 16, 16, 16)).astype(np.float32)
    x[1, 3, 7, 0] = bad  # left edge: outside some taps' windows
    dy = rng.standard_normal((2, 8, 16, 16)).astype(np.float32)
    assert_non_finite_as_readable(layer, x, dy, "shifted")


def assert_non_finite_as_readable(layer, x, dy, method):
    """y, dx and dW of the fast ``layer`` computed by ``method`` (forced): non-finite exactly where the readable
    layer's are, the same values elsewhere."""
    ref = readable(layer)  # (shares the parameters and their gradients: keep a copy)
    y_ref, dx_ref = ref.forward(x), ref.backward(dy)
    dw_ref = ref.grads["weights"].copy()
    with prefer(method):
        y = layer.forward(x)
        dx = layer.backward(dy)
    assert layer._fast_cache.method == method
    for got, want in ((y, y_ref), (dx, dx_ref), (layer.grads["weights"], dw_ref)):
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
        close32(got[np.isfinite(want)], want[np.isfinite(want)])


def test_winograd_is_chosen_for_wide_layers_only():
    x = np.zeros((1, 128, 8, 8), np.float32)
    big = Convolution2D(128, 8, 3, padding=1)
    big.forward(x)
    assert big._fast_cache.method == "winograd"
    odd = Convolution2D(128, 8, 3, padding=1)
    odd.forward(np.zeros((1, 128, 8, 7), np.float32))
    assert odd._fast_cache.method == "nhwc"  # odd width: im2col
    strided = Convolution2D(128, 8, 3, padding=1, stride=2)
    strided.forward(x)
    assert strided._fast_cache.method == "nhwc"
    narrow = Convolution2D(16, 8, 3, padding=1)
    narrow.forward(np.zeros((1, 16, 8, 8), np.float32))
    assert narrow._fast_cache.method == "nhwc"
    tiny = Convolution2D(256, 8, 3, padding=1)  # VGG16's 2x2 maps at 32x32 input: one tile, wide enough
    tiny.forward(np.zeros((1, 256, 2, 2), np.float32))
    assert tiny._fast_cache.method == "winograd"
    small = Convolution2D(128, 8, 3, padding=1)  # quarter width on 4x4 maps: Winograd pays from 64 channels
    small.forward(np.zeros((1, 128, 4, 4), np.float32))
    assert small._fast_cache.method == "winograd"
    few = Convolution2D(128, 8, 3, padding=1)  # ... but not on 2x2 maps (one tile an image) below 256
    few.forward(np.zeros((1, 128, 2, 2), np.float32))
    assert few._fast_cache.method == "dense"


@pytest.mark.parametrize("split", [False, True], ids=["one-thread", "split"])
@pytest.mark.parametrize(
    "c,f,k,p,h,w",
    [
        (12, 10, 3, 1, 2, 2),  # VGG16's conv5 at 32x32 input
        (3, 5, 3, 1, 1, 2),
        (4, 6, 3, 1, 1, 1),
        (6, 7, 3, 1, 2, 3),
        (5, 4, 3, 2, 2, 2),  # padding 2: a 4x4 output from a 2x2 map, the corner outputs see one pixel
        (3, 4, 5, 2, 2, 2),  # 5x5 kernel
        (4, 3, 2, 1, 1, 3),  # 2x2 kernel: a 2x4 output from a 1x3 map
    ],
)
def test_dense_product_matches_readable_in_float64(c, f, k, p, h, w, split):
    """Maps with fewer pixels than taps: the convolution as one dense product (a fully connected layer with tied
    weights), against the readable layer — y, dx and every gradient, float64, with and without dx."""
    rng = np.random.default_rng(c * 31 + f * 7 + p)
    layer = Convolution2D(c, f, k, padding=p, rng=rng, dtype=np.float64)
    layer.params["bias"][:] = rng.standard_normal(f)
    x = rng.standard_normal((6, c, h, w))
    ho, wo = h + 2 * p - k + 1, w + 2 * p - k + 1
    dy = rng.standard_normal((6, f, ho, wo))
    ref = run_layer(layer, x, dy, use_fast=False)
    with workers(split):
        got = run_layer(layer, x, dy, use_fast=True)
        assert layer._fast_cache.method == "dense"
        assert layer._fast_cache.dense_weights.shape == (h * w * c, ho * wo * f)
    for a, b in zip(got[:2], ref[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for key in ref[2]:
        np.testing.assert_allclose(got[2][key], ref[2][key], rtol=1e-12, atol=1e-12)
    layer.forward(x)  # the first layer's backward: no dx, the same gradients
    assert layer.backward(dy, input_grad=False) is None
    for key in ref[2]:
        np.testing.assert_allclose(layer.grads[key], ref[2][key], rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_dense_product_keeps_non_finite_inputs_where_the_readable_layer_has_them(bad):
    rng = np.random.default_rng(34)
    layer = Convolution2D(16, 8, 3, padding=1, rng=rng)
    x = rng.standard_normal((3, 16, 2, 2)).astype(np.float32)
    x[1, 3, 0, 1] = bad
    dy = rng.standard_normal((3, 8, 2, 2)).astype(np.float32)
    assert_non_finite_as_readable(layer, x, dy, "dense")


def test_dense_product_is_chosen_on_maps_smaller_than_the_kernel_and_can_be_turned_off():
    def method(h, w, k=3, **kw):
        layer = Convolution2D(8, 8, k, padding=1, **kw)
        layer.forward(np.zeros((1, 8, h, w), np.float32))
        return layer._fast_cache.method

    assert method(2, 2) == method(1, 8) == method(2, 4) == "dense"
    assert method(3, 3) == method(1, 9) == "nhwc"  # as many pixels as taps: nothing saved
    assert method(4, 4, k=5) == "nhwc"  # fewer than 25 taps, but more than DENSE_MAX_PIXELS pixels
    assert method(2, 2, stride=2) == "nhwc"  # stride 2
    with fast.prefer("im2col"):
        assert method(2, 2) == "nhwc"
    with fast.prefer("dense"):
        assert method(2, 2) == "dense" and method(32, 32) == "nhwc"


def test_dense_weights_hold_each_tap_where_it_links_two_pixels():
    """Wd's block (input pixel, output pixel) is the tap between them: on a 2x2 map with pad 1, input (0, 0) and
    output (1, 1) are linked by tap (0, 0); (1, 1) and (0, 0) by tap (2, 2); every pixel by the centre to itself."""
    from vgglib.fast.dense import dense_weights

    weights = np.arange(2 * 3 * 9, dtype=np.float64).reshape(2, 3, 3, 3)  # (F, C, k, k)
    wd = dense_weights(weights, 2, 2, 1, np.float64).reshape(4, 3, 4, 2)  # (in pixel, c, out pixel, f)
    np.testing.assert_array_equal(wd[0, :, 3], weights[:, :, 0, 0].T)
    np.testing.assert_array_equal(wd[3, :, 0], weights[:, :, 2, 2].T)
    for pixel in range(4):
        np.testing.assert_array_equal(wd[pixel, :, pixel], weights[:, :, 1, 1].T)
    # 16 linked pixel pairs (4 x 4, all within reach), a (C, F) block each; weights[0, 0, 0, 0] is the one zero
    assert np.count_nonzero(wd) == 16 * 3 * 2 - 1


def test_winograd_float32_error_is_small_on_vgg_sized_layers():
    rng = np.random.default_rng(12)
    layer = Convolution2D(128, 32, 3, padding=1, rng=rng)
    x = np.maximum(rng.standard_normal((2, 128, 16, 16)), 0).astype(np.float32)
    y = layer.forward(x)
    assert layer._fast_cache.method == "winograd"
    exact = reference_conv64(x, layer)
    assert np.abs(y - exact).max() / np.abs(exact).max() < 1e-5


def reference_conv64(x, layer):
    """The readable layer in float64: the exact answer for float32 comparisons."""
    from vgglib.layers import Convolution2D as Conv

    ref = Conv(layer.inputs_channel, layer.num_filters, 3, padding=1).astype(np.float64)
    ref.params["weights"][:] = layer.params["weights"]
    ref.params["bias"][:] = layer.params["bias"]
    return ref.forward(x.astype(np.float64))


def test_an_error_on_any_worker_reaches_the_caller_and_stops_the_split():
    done = []

    def fn(i):
        if i == 3:
            raise ValueError("item 3 failed")
        time.sleep(0.001)  # lets the failing worker run (the GIL is released)
        done.append(i)
        return i * i

    with workers(True):
        assert fast.parallel_map(lambda i: i * i, list(range(40))) == [i * i for i in range(40)]
        with pytest.raises(ValueError, match="item 3 failed"):
            fast.parallel_map(fn, list(range(1000)))
        assert len(done) < 100  # the others stopped taking items (1000 ms if not)
        assert not fast_workers.on_worker()  # the caller is no longer inside a split
        assert fast.parallel_map(lambda i: fast_workers.on_worker(), [0, 1]) == [True, True]


def test_a_second_thread_runs_its_split_itself_while_the_helpers_are_busy():
    # one split at a time has the helper threads; another thread's split takes all its items on its own thread
    entered, release = threading.Event(), threading.Event()
    seen: dict[str, set[str]] = {"first": set(), "second": set()}

    def first(i):
        seen["first"].add(threading.current_thread().name)
        entered.set()
        release.wait(10)  # holds the split (and its helper) until the second split is done
        return i

    def second(i):
        seen["second"].add(threading.current_thread().name)
        return i * i

    with workers(True):
        outer = threading.Thread(target=lambda: fast.parallel_map(first, [0, 1]), name="outer")
        outer.start()
        assert entered.wait(10)
        assert fast.parallel_map(second, list(range(8))) == [i * i for i in range(8)]
        release.set()
        outer.join(10)
        assert seen["second"] == {threading.current_thread().name}
        # the helpers are free again: the next split uses them
        names = fast.parallel_map(lambda i: (time.sleep(0.02), threading.current_thread().name)[1], [0, 1, 2, 3])
    assert any(name.startswith("vgglib-fast") for name in names)


def test_an_interrupt_on_the_caller_waits_for_the_helpers_before_it_is_raised(monkeypatch):
    # a KeyboardInterrupt on the caller while a helper still works: the caller waits for it, then raises; the
    # next split gets fresh results, not the late helper's
    calls = []

    def slow_then_interrupt(i):
        if threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt
        time.sleep(0.05)
        calls.append(i)
        return i

    with workers(True):
        with pytest.raises(KeyboardInterrupt):
            fast.parallel_map(slow_then_interrupt, [0, 1, 2, 3])
        assert not fast_workers.on_worker()
        done_before = len(calls)
        assert fast.parallel_map(lambda i: i + 100, list(range(6))) == list(range(100, 106))
        assert len(calls) == done_before  # nothing of the interrupted split ran after it returned


def test_a_new_worker_count_gets_new_helpers():
    with workers(True):
        fast.parallel_map(lambda i: i, [0, 1])
        old = fast_workers._helpers
        fast_workers.threads = 3
        names = fast.parallel_map(lambda i: (time.sleep(0.02), threading.current_thread().name)[1], list(range(9)))
        assert fast_workers._helpers is not old and fast_workers._helpers.count == 2
    assert len({n for n in names if n.startswith("vgglib-fast")}) >= 1


def test_helpers_replaced_during_a_split_end_when_the_split_does():
    # the worker count changes while another thread's split holds the helpers: that split closes them when it
    # ends (before, their threads stayed asleep forever), and the new helpers serve the next splits
    entered, release = threading.Event(), threading.Event()

    def hold(i):
        entered.set()
        release.wait(10)
        return i

    with workers(True):
        fast_workers.threads = 2
        outer = threading.Thread(target=lambda: fast.parallel_map(hold, [0, 1]), name="outer")
        outer.start()
        assert entered.wait(10)
        old = fast_workers._helpers
        fast_workers.threads = 3
        assert fast.parallel_map(lambda i: i * i, list(range(6))) == [i * i for i in range(6)]
        assert fast_workers._helpers is not old and old.busy.locked()
        assert all(t.is_alive() for t in old.threads)  # still serving the held split
        release.set()
        outer.join(10)
        for thread in old.threads:
            thread.join(5)
        assert not any(t.is_alive() for t in old.threads), "the replaced helpers were left asleep"
        assert old.busy.locked()  # closed for good: a stale caller runs its split itself
        assert fast.parallel_map(lambda i: i + 1, list(range(6))) == list(range(1, 7))
        assert all(t.is_alive() for t in fast_workers._helpers.threads)


def test_prefer_sets_the_method_and_restores_the_choice_even_after_an_error():
    x = np.random.default_rng(5).standard_normal((2, 16, 32, 32)).astype(np.float32)
    layer = Convolution2D(16, 16, 3, padding=1, rng=np.random.default_rng(6))
    layer.forward(x, training=True)
    chosen = layer._fast_cache.method
    for method, cache_name in (("im2col", "nhwc"), ("winograd", "winograd"), ("shifted", "shifted")):
        with fast.prefer(method):
            layer.forward(x, training=True)
            assert layer._fast_cache.method == cache_name, method
    with pytest.raises(RuntimeError, match="inside"):
        with fast.prefer("winograd"):
            raise RuntimeError("inside")
    layer.forward(x, training=True)
    assert layer._fast_cache.method == chosen  # the library's own choice again
    with pytest.raises(ValueError, match=r"unknown convolution method 'fft'.*'auto' or one of im2col, winograd"):
        with fast.prefer("fft"):
            pass


def test_split_works_in_a_forked_child():
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        # no fork on this platform: the same code path runs in-process instead (still a real check)
        with workers(True):
            assert Convolution2D(8, 8, 3, padding=1).forward(np.ones((4, 8, 6, 6), np.float32)).shape == (4, 8, 6, 6)
        return
    with workers(True):
        Convolution2D(8, 8, 3, padding=1).forward(np.ones((4, 8, 6, 6), np.float32))  # the pool exists now
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as pool:
            shape = pool.apply_async(_forward_in_child).get(timeout=60)
    assert shape == (4, 8, 6, 6)


def _forward_in_child():
    with workers(True):
        return Convolution2D(8, 8, 3, padding=1).forward(np.ones((4, 8, 6, 6), np.float32)).shape


# ---------------------------------------------------------------------------------------------------------
# Extreme and non-finite inputs: the fast result is the readable one, not Winograd's overflow
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_huge_inputs_give_the_readable_result_not_nan(training):
    # ±3e38 is near float32's limit (3.4e38): Winograd's input transform (sums of four inputs) overflows, the
    # direct sum with small weights does not. The fast layer must notice and give the readable layer's result.
    rng = np.random.default_rng(30)
    layer = Convolution2D(64, 16, 3, padding=1, rng=rng)
    layer.params["weights"] *= 1e-4
    x = (np.sign(rng.standard_normal((2, 64, 8, 8))) * 3e38).astype(np.float32)
    ref = readable(layer)
    y_ref = ref.forward(x, training=training)
    assert np.isfinite(y_ref).all()
    y = layer.forward(x, training=training)
    assert np.isfinite(y).all() and layer._fast_cache.method == "nhwc"
    close32(y, y_ref)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dy)
    dw = layer.grads["weights"].copy()  # (the readable layer shares the gradients)
    dx_ref = ref.backward(dy)
    close32(dx, dx_ref, "dx")
    assert np.isfinite(dw).all() == np.isfinite(ref.grads["weights"]).all()
    # ordinary inputs still take Winograd
    layer.forward(x / 1e37, training=training)
    assert layer._fast_cache.method == "winograd"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_spread_exactly_as_in_the_readable_layer(bad):
    # Winograd would spread one NaN over whole 2x2 output tiles; the readable layer only over the outputs whose
    # window holds it. Same NaN/inf pattern required.
    rng = np.random.default_rng(31)
    layer = Convolution2D(64, 8, 3, padding=1, rng=rng)
    x = rng.standard_normal((2, 64, 8, 8)).astype(np.float32)
    x[0, 5, 3, 4] = bad
    y, y_ref = layer.forward(x), readable(layer).forward(x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y_ref))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(y_ref))
    finite = np.isfinite(y_ref)
    close32(y[finite], y_ref[finite])
    relu, pool = ReLU(), Maxpooling2D()
    np.testing.assert_array_equal(
        np.isnan(pool.forward(relu.forward(y))), np.isnan(readable(pool).forward(readable(relu).forward(y_ref)))
    )


@pytest.mark.parametrize("to", ["reference", "fast"])
def test_conversion_leaves_no_forward_state_behind(to):
    x = np.random.default_rng(40).standard_normal((2, 3, 4, 4)).astype(np.float32)
    layers = [Maxpooling2D(), ReLU(), Convolution2D(3, 2, 3)]
    if to == "fast":
        layers = [fast.to_reference(layer) for layer in layers]
    for layer in layers:
        layer.forward(x if layer.params else np.abs(x))
        other = fast.to_reference(layer) if to == "reference" else fast.to_fast(layer)
        assert getattr(other, "winners", None) is None
        assert all(getattr(other, key, None) is None for key in ("_cols", "_mask", "_y", "_fast_cache", "_x"))
        with pytest.raises(RuntimeError, match="before forward"):
            other.backward(np.ones(layer._output_shape, np.float32))


def test_model_fast_flag_follows_its_layers():
    from vgglib import layers
    from vgglib.model import Sequential

    head_only = Sequential([layers.Flatten(), layers.Dropout(0.5)])  # nothing that has a fast version
    assert head_only.fast and not fast.has_fast_version(head_only.layers[0])
    mixed = Sequential([layers.Flatten(), layers.FullyConnected(4, 2), fast.ReLU()])
    assert fast.has_fast_version(mixed.layers[1]) and not fast.has_fast_version(mixed.layers[2])
    assert not mixed.fast and mixed.to_fast().fast and not mixed.to_reference().fast
