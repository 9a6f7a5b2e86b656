"""Bad input gets a clear exception naming what was wrong and what was expected."""

import re

import numpy as np
import pytest

from vgglib.layers import Avgpooling2D, Convolution2D, Dropout, Flatten, FullyConnected, Maxpooling2D, Pooling2D, ReLU
from vgglib.losses import cross_entropy, softmax_cross_entropy


def x4(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


@pytest.mark.parametrize(
    "layer", [Convolution2D(1, 2, 3), Maxpooling2D(), Avgpooling2D()], ids=lambda layer: type(layer).__name__
)
@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 8), (1, 1, 1, 8, 8)])
def test_wrong_ndim(layer, shape):
    with pytest.raises(ValueError, match=r"expected a 4-D array \(N, C, H, W\)"):
        layer.forward(np.zeros(shape, np.float32))


def test_fully_connected_wrong_ndim_and_features():
    layer = FullyConnected(6, 2)
    with pytest.raises(ValueError, match=r"expected a 2-D array"):
        layer.forward(x4(1, 1, 2, 3))
    with pytest.raises(ValueError, match="input has 5 features.*expected num_inputs=6"):
        layer.forward(x4(3, 5))


def test_channel_mismatch():
    with pytest.raises(ValueError, match="input has 3 channels.*expected inputs_channel=1"):
        Convolution2D(1, 4, 3).forward(x4(2, 3, 8, 8))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel_size=5 is larger than the padded input \(4x4"):
        Convolution2D(1, 1, 5).forward(x4(1, 1, 4, 4))
    Convolution2D(1, 1, 5, padding=1).forward(x4(1, 1, 4, 4))  # 6x6 padded: fine
    with pytest.raises(ValueError, match="pool_size=3 is larger than the input"):
        Maxpooling2D(3).forward(x4(1, 1, 2, 8))


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(kernel_size=0), "kernel_size"),
        (dict(kernel_size=-1), "kernel_size"),
        (dict(stride=0), "stride"),
        (dict(padding=-1), "padding"),
        (dict(num_filters=0), "num_filters"),
        (dict(inputs_channel=0), "inputs_channel"),
        (dict(kernel_size=2.5), "kernel_size"),
        (dict(stride=True), "stride"),
    ],
)
def test_non_positive_conv_sizes(kwargs, name):
    args = dict(inputs_channel=1, num_filters=2, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"{name} must be an integer"):
        Convolution2D(**args)


@pytest.mark.parametrize("kwargs,name", [(dict(pool_size=0), "pool_size"), (dict(stride=-2), "stride")])
def test_non_positive_pool_sizes(kwargs, name):
    with pytest.raises(ValueError, match=f"{name} must be an integer"):
        Maxpooling2D(**kwargs)
    with pytest.raises(ValueError, match="mode must be one of"):
        Pooling2D(mode="median")
    with pytest.raises(ValueError, match="num_inputs must be an integer"):
        FullyConnected(0, 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.int32, bool])
@pytest.mark.parametrize(
    "layer", [Convolution2D(1, 2, 3), ReLU(), Maxpooling2D(), Flatten()], ids=lambda layer: type(layer).__name__
)
def test_integer_input_tells_to_normalise(layer, dtype):
    with pytest.raises(TypeError, match=r"expected a float array.*Normalise images first"):
        layer.forward(np.zeros((1, 1, 8, 8), dtype))


def test_non_array_input():
    with pytest.raises(TypeError, match="expected a numpy array, got str"):
        ReLU().forward("image")


@pytest.mark.parametrize(
    "layer",
    [Convolution2D(1, 2, 3), ReLU(), Maxpooling2D(), Flatten(), FullyConnected(2, 2), Dropout(0.5)],
    ids=lambda layer: type(layer).__name__,
)
def test_backward_before_forward(layer):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros((1, 2), np.float32))


@pytest.mark.parametrize(
    "layer,x",
    [
        (Convolution2D(1, 2, 3), x4(2, 1, 6, 6)),
        (ReLU(), x4(2, 1, 6, 6)),
        (Maxpooling2D(), x4(2, 1, 6, 6)),
        (Flatten(), x4(2, 1, 6, 6)),
        (FullyConnected(4, 3), x4(2, 4)),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, np.ndarray) else "",
)
def test_dy_of_wrong_shape(layer, x):
    y = layer.forward(x)
    bad = np.zeros((y.shape[0] + 1,) + y.shape[1:], np.float32)
    with pytest.raises(
        ValueError, match="dy has shape .*expected the forward output's shape " + re.escape(str(y.shape))
    ):
        layer.backward(bad)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5", None])
def test_dropout_probability_out_of_range(p):
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        Dropout(p)


@pytest.mark.parametrize(
    "labels,match",
    [
        ([0, 1, 10], r"class ids must be in 0\.\.9, got \[10\]"),
        ([0, -1, 2], r"class ids must be in 0\.\.9, got \[-1\]"),
        ([0, 1], "got 2 labels for a batch of 3 rows"),
        (np.eye(10)[:2], r"one-hot labels have shape \(2, 10\), expected \(3, 10\)"),
        (np.zeros((3, 10)), "sum to 1"),
        ([0.5, 1, 2], "class ids must be integers"),
        (np.zeros((3, 10, 1)), r"expected class ids \(N,\) or one-hot \(N, C\)"),
    ],
)
def test_bad_labels(labels, match):
    logits = np.zeros((3, 10))
    with pytest.raises((ValueError, TypeError), match=match):
        softmax_cross_entropy(logits, labels)
    with pytest.raises((ValueError, TypeError), match=match):
        cross_entropy(np.full((3, 10), 0.1), labels)


def test_loss_needs_2d_float_logits():
    with pytest.raises(ValueError, match="expected a 2-D array"):
        softmax_cross_entropy(np.zeros(10), [1])
    with pytest.raises(TypeError, match="float array"):
        softmax_cross_entropy(np.zeros((1, 10), np.int64), [1])


@pytest.mark.parametrize(
    "layer",
    [Convolution2D(1, 2, 3), ReLU(), Maxpooling2D(), Flatten(), Dropout(0.5)],
    ids=lambda layer: type(layer).__name__,
)
def test_empty_batch(layer):
    with pytest.raises(ValueError, match="empty batch"):
        layer.forward(x4(0, 1, 4, 4))
