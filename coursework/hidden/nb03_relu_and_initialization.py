"""Hidden tests for notebooks/03_relu_and_initialization.ipynb: exercises 1 (``my_relu_backward(dy, x)``) and 3
(``init_std(fan_in)``).

The self-checks (public) try one (2, 3, 4, 4) float64 batch with two exact zeros, and one 20-layer fully connected
stack with widths 784 → 400 → 100 → 256 → 64 → …; these try other shapes, float32, zeros of both signs and tiny
values against vgglib's ``ReLU`` layer, and other fan-ins: stacks of one width from 1 to 10⁶ (section 4's variance
formula), a stack of real ``Convolution2D`` layers with 1×1, 3×3 and 5×5 kernels, and fully connected layers as
narrow as 32 and as wide as 3072.
"""

import math

import numpy as np

from vgglib import Convolution2D, ReLU
from vgglib.coursework import assert_close, call, hidden_test


# ------------------------------------------------------------------------------------------- exercise 1
def _relu_case(relu_backward, x, dy, where):
    layer = ReLU()
    layer.forward(x)
    got = call(relu_backward, dy, x, where=where)
    assert_close(got, layer.backward(dy), where, what="dx", rtol=0, atol=0)


@hidden_test("check_relu_backward")
def fully_connected_activations_float32(my_relu_backward):
    """(N, D) activations as after a fully connected layer, float32: a batch of one and a batch of 32."""
    rng = np.random.default_rng(303)
    for shape in ((1, 10), (32, 300)):
        x = rng.standard_normal(shape).astype(np.float32)
        dy = rng.standard_normal(shape).astype(np.float32)
        _relu_case(my_relu_backward, x, dy, f"x and dy {shape} float32")


@hidden_test("check_relu_backward")
def zeros_of_both_signs_and_tiny_values(my_relu_backward):
    """x holds +0.0, -0.0 (both: no gradient), ±1e-30, the smallest positive float64 and ±1e30, next to random dy."""
    special = np.array([0.0, -0.0, 1e-30, -1e-30, 5e-324, -5e-324, 1e30, -1e30, 1.0, -1.0])
    rng = np.random.default_rng(3031)
    x = np.tile(special, (3, 2))  # (3, 20)
    dy = rng.standard_normal(x.shape) * 10
    _relu_case(my_relu_backward, x, dy, "x (3, 20) with exact zeros of both signs, tiny and huge values")


@hidden_test("check_relu_backward")
def other_ranks_all_active_and_all_dead(my_relu_backward):
    """A 3-D and a 5-D array; a batch where every unit is active (dx = dy) and one where none is (dx = 0)."""
    rng = np.random.default_rng(3032)
    for shape in ((2, 5, 3), (1, 2, 3, 2, 4)):
        x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
        _relu_case(my_relu_backward, x, dy, f"x and dy {shape}")
    x = np.abs(rng.standard_normal((4, 6))) + 0.1
    dy = rng.standard_normal((4, 6))
    _relu_case(my_relu_backward, x, dy, "x (4, 6), every entry positive")
    _relu_case(my_relu_backward, -x, dy, "x (4, 6), every entry negative")


# ------------------------------------------------------------------------------------------- exercise 3
#: the exercise's criterion: the last layer's RMS within a factor 4 of the first layer's
FACTOR = 4.0


def _std(init_std, fan_in):
    """The student's std for ``fan_in``, checked to be a positive finite number."""
    where = f"fan_in={fan_in}"
    value = call(init_std, fan_in, where=where)
    try:
        std = float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise AssertionError(f"for {where} it returned {type(value).__name__}; return one number (a std)") from None
    if not (math.isfinite(std) and std > 0):
        raise AssertionError(f"for {where} it returned {std!r}; return a positive number (a standard deviation)")
    return std


def _within(ratio, what):
    if not 1 / FACTOR <= ratio <= FACTOR:
        trend = "shrink" if ratio < 1 else "blow up"
        raise AssertionError(
            f"the activations {trend} ({what}): the last layer's RMS is {ratio:.1e} times the first layer's, "
            f"more than a factor {FACTOR:.0f}. Make each layer's output variance equal its input's, for the fan-in "
            "it is given."
        )


@hidden_test("check_init_scale")
def stacks_of_one_width_from_fan_in_one_to_a_million(init_std):
    """For fan-ins 1, 2, 3, 9, 27, 576, 4608, 25088 (VGG16's fc1 at 224×224) and 10⁶: a 20-layer ReLU stack whose
    layers all have that fan-in keeps its scale (by section 4's Var(z) = ½·fan_in·σ²·Var(z'), exact in expectation)."""
    for fan_in in (1, 2, 3, 9, 27, 576, 4608, 25088, 10**6):
        gain = 0.5 * fan_in * _std(init_std, fan_in) ** 2  # Var(z) / Var(z') of one layer after a ReLU
        _within(math.sqrt(gain**19), f"20 layers of fan-in {fan_in}, computed with section 4's variance formula")


@hidden_test("check_init_scale")
def a_stack_of_convolutions_with_mixed_kernels(init_std):
    """Eight vgglib Convolution2D layers (1, 3 and 5 pixel kernels, 1 to 128 channels: fan-ins 25 to 1152) with
    ReLUs, on a batch of 4 random 24×24 single-channel images, weights drawn with your std of C·k·k."""
    rng = np.random.default_rng(33)
    x = rng.standard_normal((4, 1, 24, 24))
    channels, rms = 1, []
    for k, filters in ((5, 32), (1, 64), (3, 64), (3, 96), (1, 48), (3, 128), (5, 64), (3, 128)):
        conv = Convolution2D(channels, filters, k, rng=rng, dtype=np.float64)
        weights = conv.params["weights"]
        weights[...] = rng.standard_normal(weights.shape) * _std(init_std, channels * k * k)
        z = conv.forward(x)
        rms.append(float(np.sqrt(np.mean(z**2))))
        x, channels = np.maximum(z, 0), filters
    _within(rms[-1] / rms[0], "8 convolutions with fan-in C·k·k from 25 to 1152")


@hidden_test("check_init_scale")
def fully_connected_layers_narrow_and_wide(init_std):
    """20 fully connected ReLU layers alternating narrow and wide: 3072 → 1000 → 32 → 500 → 48 → 2048 → 40 → …,
    256 random inputs."""
    rng = np.random.default_rng(3032)
    widths = [3072] + [1000, 32, 500, 48, 2048, 40, 700, 128, 1500, 64] * 2
    x = rng.standard_normal((256, widths[0]))
    rms = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        z = x @ (rng.standard_normal((fan_in, fan_out)) * _std(init_std, fan_in))
        rms.append(float(np.sqrt(np.mean(z**2))))
        x = np.maximum(z, 0)
    _within(rms[-1] / rms[0], "20 fully connected layers with fan-ins from 32 to 3072")
