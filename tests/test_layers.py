"""Every layer's backward pass against numerical gradients and against the naive loops (float64)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgglib import reference
from vgglib.gradcheck import check_layer
from vgglib.layers import (
    Avgpooling2D,
    Convolution2D,
    Dropout,
    Flatten,
    FullyConnected,
    Layer,
    Maxpooling2D,
    Minpooling2D,
    Pooling2D,
    ReLU,
)

GRAD_TOL = 1e-7
LOOP_TOL = 1e-10
FAST = settings(max_examples=25, deadline=None)


@st.composite
def conv_cases(draw):
    """Random conv geometry whose output is at least 1x1."""
    k = draw(st.integers(1, 5))
    p = draw(st.integers(0, 2))
    s = draw(st.integers(1, 3))
    h = draw(st.integers(max(1, k - 2 * p), max(1, k - 2 * p) + 5))
    w = draw(st.integers(max(1, k - 2 * p), max(1, k - 2 * p) + 5))
    return dict(
        n=draw(st.integers(1, 3)),
        c=draw(st.integers(1, 3)),
        f=draw(st.integers(1, 3)),
        h=h,
        w=w,
        k=k,
        p=p,
        s=s,
        seed=draw(st.integers(0, 2**16)),
    )


def make_conv(case):
    rng = np.random.default_rng(case["seed"])
    layer = Convolution2D(case["c"], case["f"], case["k"], padding=case["p"], stride=case["s"], rng=rng).astype(
        np.float64
    )
    layer.params["bias"][:] = rng.standard_normal(case["f"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    return layer, x, rng


def tie_free(rng, shape, spacing=0.01):
    """Distinct values at least `spacing` apart (no ties for max/min pooling, no values near 0)."""
    n = int(np.prod(shape))
    values = (rng.permutation(n) - n // 2 + 0.5) * spacing  # half-integers: never 0
    return values.reshape(shape)


# ---------------------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------------------
@FAST
@given(conv_cases())
def test_conv_gradients_match_numerical(case):
    layer, x, _ = make_conv(case)
    errors = check_layer(layer, x)
    assert max(errors.values()) < GRAD_TOL, errors


@FAST
@given(conv_cases())
def test_conv_matches_naive_loops(case):
    layer, x, rng = make_conv(case)
    w, b = layer.params["weights"], layer.params["bias"]
    y = layer.forward(x)
    np.testing.assert_allclose(y, reference.conv2d_forward_naive(x, w, b, case["s"], case["p"]), atol=LOOP_TOL)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    dx_ref, dw_ref, db_ref = reference.conv2d_backward_naive(dy, x, w, case["s"], case["p"])
    np.testing.assert_allclose(dx, dx_ref, atol=LOOP_TOL)
    np.testing.assert_allclose(layer.grads["weights"], dw_ref, atol=LOOP_TOL)
    np.testing.assert_allclose(layer.grads["bias"], db_ref, atol=LOOP_TOL)


def test_conv_output_size_formula():
    layer = Convolution2D(2, 3, kernel_size=3, padding=1, stride=2)
    y = layer.forward(np.zeros((4, 2, 9, 8), np.float32))
    assert y.shape == (4, 3, (9 + 2 - 3) // 2 + 1, (8 + 2 - 3) // 2 + 1) == (4, 3, 5, 4)


def test_conv_he_initialisation_and_shapes():
    layer = Convolution2D(64, 128, 3, rng=np.random.default_rng(0))
    w = layer.params["weights"]
    assert w.shape == (128, 64, 3, 3) and layer.params["bias"].shape == (128,)
    he_std = np.sqrt(2 / (64 * 9))
    assert abs(w.std() / he_std - 1) < 0.02
    assert np.all(layer.params["bias"] == 0)
    again = Convolution2D(64, 128, 3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(w, again.params["weights"])


def test_conv_grads_have_param_shapes_and_dtypes():
    layer = Convolution2D(3, 5, 3, padding=1)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    y = layer.forward(x)
    layer.backward(np.ones_like(y))
    for key, p in layer.params.items():
        assert layer.grads[key].shape == p.shape and layer.grads[key].dtype == p.dtype


# ---------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------
@st.composite
def pool_cases(draw):
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    return dict(
        n=draw(st.integers(1, 3)),
        c=draw(st.integers(1, 3)),
        h=draw(st.integers(k, k + 6)),
        w=draw(st.integers(k, k + 6)),
        k=k,
        s=s,
        mode=draw(st.sampled_from(Pooling2D.modes)),
        seed=draw(st.integers(0, 2**16)),
    )


@FAST
@given(pool_cases())
def test_pool_gradients_match_numerical(case):
    rng = np.random.default_rng(case["seed"])
    x = tie_free(rng, (case["n"], case["c"], case["h"], case["w"]))
    errors = check_layer(Pooling2D(case["k"], case["s"], case["mode"]), x)
    assert errors["dx"] < GRAD_TOL, errors


@FAST
@given(pool_cases())
def test_pool_matches_naive_loops(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    layer = Pooling2D(case["k"], case["s"], case["mode"])
    y = layer.forward(x)
    y_ref, winners = reference.pool2d_forward_naive(x, case["k"], case["s"], case["mode"])
    np.testing.assert_allclose(y, y_ref, atol=LOOP_TOL)
    if case["mode"] != "avg":
        np.testing.assert_array_equal(layer.winners, winners)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(
        layer.backward(dy), reference.pool2d_backward_naive(dy, x, case["k"], case["s"], case["mode"]), atol=LOOP_TOL
    )


def test_overlapping_max_pool_accumulates_gradient():
    # The 9 in the middle wins all four overlapping 2x2 windows (stride 1): it must get all four dy.
    x = np.array([[[[1.0, 2, 3], [4, 9, 5], [6, 7, 8]]]])
    layer = Maxpooling2D(pool_size=2, stride=1)
    assert np.all(layer.forward(x) == 9)
    dx = layer.backward(np.array([[[[1.0, 2], [3, 4]]]]))
    assert dx[0, 0, 1, 1] == 10 and dx.sum() == 10


def test_pool_ties_route_to_first_winner():
    x = np.ones((1, 1, 2, 2))
    layer = Maxpooling2D()
    layer.forward(x)
    dx = layer.backward(np.array([[[[5.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[5, 0], [0, 0]])


def test_named_pooling_classes():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    assert Maxpooling2D().forward(x)[0, 0].tolist() == [[5, 7], [13, 15]]
    assert Minpooling2D().forward(x)[0, 0].tolist() == [[0, 2], [8, 10]]
    assert Avgpooling2D().forward(x)[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert Maxpooling2D(3, 1).forward(x).shape == (1, 1, 2, 2)


# ---------------------------------------------------------------------------------------------------------
# ReLU, Flatten, FullyConnected, Dropout
# ---------------------------------------------------------------------------------------------------------
@FAST
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**16))
def test_relu_gradient(n, c, h, seed):
    x = tie_free(np.random.default_rng(seed), (n, c, h, 3))  # |x| >= 0.005: away from the kink
    layer = ReLU()
    assert check_layer(layer, x)["dx"] < GRAD_TOL
    np.testing.assert_array_equal(layer.forward(x), np.where(x > 0, x, 0))


def test_relu_gradient_at_zero_is_zero():
    layer = ReLU()
    layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), [[0, 0, 1]])


@FAST
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**16))
def test_fully_connected_gradient(n, num_in, num_out, seed):
    rng = np.random.default_rng(seed)
    layer = FullyConnected(num_in, num_out, rng=rng).astype(np.float64)
    layer.params["bias"][:] = rng.standard_normal(num_out)
    x = rng.standard_normal((n, num_in))
    errors = check_layer(layer, x)
    assert max(errors.values()) < GRAD_TOL, errors
    w, b = layer.params["weights"], layer.params["bias"]
    assert w.shape == (num_in, num_out)
    # against the loops of y = x W + b
    y_loop = np.array(
        [[b[o] + sum(x[i, k] * w[k, o] for k in range(num_in)) for o in range(num_out)] for i in range(n)]
    )
    np.testing.assert_allclose(layer.forward(x), y_loop, atol=LOOP_TOL)


def test_flatten_roundtrip_and_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5))
    layer = Flatten()
    y = layer.forward(x)
    np.testing.assert_array_equal(y, x.reshape(2, 60))
    np.testing.assert_array_equal(layer.backward(y), x)
    assert check_layer(layer, x)["dx"] < GRAD_TOL


class FixedRng:
    """Stands in for a Generator so a Dropout mask stays fixed across the numerical gradient's forwards."""

    def __init__(self, values):
        self.values = values

    def random(self, shape):
        return self.values


def test_dropout_gradient_with_fixed_mask():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7))
    layer = Dropout(0.3, rng=FixedRng(rng.random(x.shape)))
    assert check_layer(layer, x)["dx"] < GRAD_TOL


def test_dropout_is_inverted_and_seeded():
    x = np.ones((200, 500), np.float32)
    layer = Dropout(0.5, rng=np.random.default_rng(1))
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1) < 0.01  # E[y] = x
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    y2 = Dropout(0.5, rng=np.random.default_rng(1)).forward(x)
    np.testing.assert_array_equal(y, y2)
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), layer.mask)
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)


# ---------------------------------------------------------------------------------------------------------
# Dtypes and the contract
# ---------------------------------------------------------------------------------------------------------
def all_layers():
    return [
        Convolution2D(2, 3, 3, padding=1),
        ReLU(),
        Maxpooling2D(),
        Minpooling2D(),
        Avgpooling2D(),
        Flatten(),
        Dropout(0.5),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", all_layers(), ids=lambda layer: type(layer).__name__)
def test_dtype_in_equals_dtype_out(layer, dtype):
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6)).astype(dtype)
    y = layer.forward(x)
    assert y.dtype == dtype
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == dtype and dx.shape == x.shape
    assert set(layer.grads) == set(layer.params)
    for key in layer.params:
        assert layer.grads[key].shape == layer.params[key].shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fully_connected_dtype(dtype):
    layer = FullyConnected(4, 3)
    x = np.ones((2, 4), dtype)
    assert layer.forward(x).dtype == dtype and layer.backward(np.ones((2, 3), dtype)).dtype == dtype


def test_astype_converts_params_and_grads():
    layer = Convolution2D(1, 2, 3).astype(np.float64)
    assert all(p.dtype == np.float64 for p in layer.params.values())
    assert all(g.dtype == np.float64 for g in layer.grads.values())
    with pytest.raises(TypeError, match="float dtype"):
        layer.astype(np.int32)


def test_seed_style_update_uses_learning_rate():
    layer = FullyConnected(2, 1, learning_rate=0.5)
    w0 = layer.params["weights"].copy()
    layer.forward(np.ones((1, 2), np.float32))
    layer.backward(np.ones((1, 1), np.float32))
    layer.update()
    np.testing.assert_allclose(layer.params["weights"], w0 - 0.5)


def test_base_layer_is_abstract():
    with pytest.raises(NotImplementedError):
        Layer("plain").forward(np.zeros((1, 2)))


def test_dropout_p_is_the_drop_probability():
    # p is the probability of DROPPING a unit (PyTorch's convention, not TF1's keep_prob): with p = 0.2 about a
    # fifth of the units are zeroed and the survivors scaled by 1/0.8. (p = 0.5 cannot tell the two apart.)
    y = Dropout(0.2, rng=np.random.default_rng(0)).forward(np.ones((200, 500)))
    assert abs((y == 0).mean() - 0.2) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1.25])
    assert abs(y.mean() - 1) < 0.01


def test_avg_pool_spreads_dy_evenly_over_the_window():
    # Every cell of a k×k window gets dy / k² (k = 3: dividing by k would give a third, not a ninth).
    layer = Avgpooling2D(pool_size=3, stride=3)
    layer.forward(np.arange(36.0).reshape(1, 1, 6, 6))
    dx = layer.backward(np.array([[[[9.0, 18], [27, 36]]]]))
    np.testing.assert_allclose(dx[0, 0], np.kron([[1, 2], [3, 4]], np.ones((3, 3))))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Convolution2D(2, 3, 3, padding=1),
        lambda: ReLU(),
        lambda: Maxpooling2D(),
        lambda: Avgpooling2D(),
        lambda: Flatten(),
        lambda: FullyConnected(32, 4),
        lambda: Dropout(0.3),
    ],
    ids=lambda f: "",
)
def test_backward_keeps_the_forward_dtype_whatever_the_dtype_of_dy(make):
    # the contract: float32 in, float32 out — also when the gradient arrives as float64 (e.g. from a float64 loss)
    layer = make()
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 4)).astype(np.float32)
    if isinstance(layer, FullyConnected):
        x = x.reshape(2, 32)
    y = layer.forward(x)
    dx = layer.backward(np.ones(y.shape, dtype=np.float64))
    assert y.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())
