"""The exercise self-checks of notebooks 05–08 accept right answers and reject typical wrong ones."""

import math

import numpy as np
import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult
from vgglib.losses import softmax


def assert_wrong(result, *words):
    """The check said "not yet", with a message that contains ``words`` (and is not the success message)."""
    assert isinstance(result, ExerciseResult)
    assert not result.correct and not bool(result)
    assert result.message
    for word in words:
        assert word in result.message, (word, result.message)


def assert_right(result):
    assert isinstance(result, ExerciseResult)
    assert result.correct and bool(result), result.message
    assert "✔" in repr(result)


MODULES = (
    "nb05_flatten_and_fully_connected",
    "nb06_softmax_and_cross_entropy",
    "nb07_mnist_data",
    "nb08_vgg16_architecture",
)


def test_checks_are_collected_by_the_package():
    names = [name for module in MODULES for name in getattr(ex, module).__all__]
    assert len(names) == 12
    for name in names:
        assert name.startswith("check_") and name in ex.__all__ and callable(getattr(ex, name))


# --------------------------------------------------------------------------------------------------- 05


def test_flatten_index():
    assert_right(ex.check_flatten_index(3 * 4 + 1 * 2 + 0))
    assert_right(ex.check_flatten_index(np.int64(14)))
    assert_right(ex.check_flatten_index(14.0))
    assert_wrong(ex.check_flatten_index(None), "no answer yet")
    assert_wrong(ex.check_flatten_index("14"), "str")
    assert_wrong(ex.check_flatten_index(True))
    assert_wrong(ex.check_flatten_index(1 * 2 * 512 + 0 * 512 + 3), "channels-last")  # (H, W, C) order
    assert_wrong(ex.check_flatten_index(3 + 1 * 512 + 0 * 1024), "column-major")  # Fortran order
    assert_wrong(ex.check_flatten_index(15), "off by one")
    assert_wrong(ex.check_flatten_index(5000), "2,048 entries")
    assert_wrong(ex.check_flatten_index(13))


@pytest.mark.parametrize("exercise", [2, 3])
def test_fc_parameters_stl10_and_linear_backward(exercise):
    """Exercises 2 and 3 (changed): their full tests are in tests/test_exercises_nb05.py."""
    if exercise == 2:
        assert_right(ex.check_fc_parameters_stl10(fc_params_stl10()))
        assert_wrong(ex.check_fc_parameters_stl10(None), "no answer yet")
    else:
        assert_right(ex.check_linear_backward(lambda x, W, dy: (dy @ W, dy.T @ x, dy.sum(axis=0))))
        assert_wrong(ex.check_linear_backward(lambda x, W, dy: (dy @ W, x.T @ dy, dy.sum(axis=0))), "dW has shape")


def fc_params_stl10():
    return sum(d * m + m for d, m in ((512 * 3 * 3, 4096), (4096, 4096), (4096, 10)))


# --------------------------------------------------------------------------------------------------- 06


def test_initial_loss():
    assert_right(ex.check_initial_loss(math.log(1000)))
    assert_right(ex.check_initial_loss(np.float32(6.9078)))
    assert_wrong(ex.check_initial_loss(math.log(10)), "10 classes")
    assert_wrong(ex.check_initial_loss(3.0), "natural logarithm")
    assert_wrong(ex.check_initial_loss(math.log2(1000)), "bits")
    assert_wrong(ex.check_initial_loss(0.001), "probability")
    assert_wrong(ex.check_initial_loss(-6.9), "never negative")
    assert_wrong(ex.check_initial_loss(5.0))
    assert_wrong(ex.check_initial_loss(None), "no answer yet")
    assert_wrong(ex.check_initial_loss("6.9"), "number")


def seed_probabilities():
    return softmax(np.array([[2.33, -1.46, 0.56]]))[0]


def test_seed_gradient():
    p = seed_probabilities()
    right = p - np.array([0, 0, 1.0])
    assert_right(ex.check_seed_gradient(right))
    assert_right(ex.check_seed_gradient(list(np.round(right, 8))))
    assert_right(ex.check_seed_gradient(right[None]))  # (1, 3) is fine
    assert_wrong(ex.check_seed_gradient(-right), "sign")
    assert_wrong(ex.check_seed_gradient(p), "probabilities")
    assert_wrong(ex.check_seed_gradient(p - np.array([1.0, 0, 0])), "class 0")
    assert_wrong(ex.check_seed_gradient(p - np.array([0, 1.0, 0])), "class 1")
    assert_wrong(ex.check_seed_gradient(np.round(right, 2)))  # too coarse
    assert_wrong(ex.check_seed_gradient([0.1, 0.2, 0.3]), "sum to 0")
    assert_wrong(ex.check_seed_gradient([1.0, 2.0]), "3")
    assert_wrong(ex.check_seed_gradient(None), "no answer yet")
    assert_wrong(ex.check_seed_gradient("abc"))


def sce_right(logits, labels):
    n = len(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    grad = np.exp(logp)
    grad[np.arange(n), labels] -= 1
    return float(-logp[np.arange(n), labels].mean()), grad / n


def sce_unstable(logits, labels):
    n = len(logits)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return float(-np.log(p[np.arange(n), labels]).mean()), grad / n


def test_softmax_cross_entropy():
    assert_right(ex.check_softmax_cross_entropy(sce_right))

    def summed(z, y):
        loss, g = sce_right(z, y)
        return loss * len(z), g * len(z)

    def no_mean_in_grad(z, y):
        loss, g = sce_right(z, y)
        return loss, g * len(z)

    def flipped_grad(z, y):
        loss, g = sce_right(z, y)
        return loss, -g

    def in_place(z, y):
        z -= z.max(axis=1, keepdims=True)
        return sce_right(z, y)

    def not_done(z, y):
        raise NotImplementedError

    assert_wrong(ex.check_softmax_cross_entropy(sce_unstable), "inf or nan", "±1000")
    assert_wrong(ex.check_softmax_cross_entropy(summed), "sum over the batch")
    assert_wrong(ex.check_softmax_cross_entropy(no_mean_in_grad), "N times")
    assert_wrong(ex.check_softmax_cross_entropy(flipped_grad), "sign")
    assert_wrong(ex.check_softmax_cross_entropy(in_place), "in place")
    assert_wrong(ex.check_softmax_cross_entropy(not_done), "not implemented")
    assert_wrong(ex.check_softmax_cross_entropy(lambda z, y: sce_right(z, y)[0]), "pair")
    assert_wrong(ex.check_softmax_cross_entropy(lambda z, y: (sce_right(z, y)[0], np.zeros(3))), "shape")
    assert_wrong(ex.check_softmax_cross_entropy(None), "function")


# --------------------------------------------------------------------------------------------------- 07


def parse_right(data):
    import struct

    ndim = data[3]
    return data[2], tuple(struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim]))


def test_parse_idx_header():
    import struct

    assert_right(ex.check_parse_idx_header(parse_right))

    def little_endian(data):
        ndim = data[3]
        return data[2], tuple(struct.unpack(f"<{ndim}I", data[4 : 4 + 4 * ndim]))

    def always_three(data):
        return data[2], tuple(struct.unpack(">3I", data[4:16]))

    def wrong_code(data):
        return data[3], parse_right(data)[1]

    def sixteen_bit(data):
        ndim = data[3]
        return data[2], tuple(struct.unpack(f">{ndim}H", data[4 : 4 + 2 * ndim]))

    def not_done(data):
        raise NotImplementedError

    assert_wrong(ex.check_parse_idx_header(little_endian), "big-endian")
    assert_wrong(ex.check_parse_idx_header(always_three), "dimensions")
    assert_wrong(ex.check_parse_idx_header(wrong_code), "type code")
    assert_wrong(ex.check_parse_idx_header(sixteen_bit), "4 bytes")
    assert_wrong(ex.check_parse_idx_header(not_done), "not implemented")
    assert_wrong(ex.check_parse_idx_header(lambda d: parse_right(d)[1]), "pair")
    assert_wrong(ex.check_parse_idx_header(lambda d: 1 / 0), "ZeroDivisionError")
    assert_wrong(ex.check_parse_idx_header("parse"), "function")


def test_uint8_wraparound():
    x = np.array([20], dtype=np.uint8)
    x -= 33
    assert_right(ex.check_uint8_wraparound(int(x[0])))
    assert_right(ex.check_uint8_wraparound(x[0]))  # a numpy uint8 scalar
    assert_wrong(ex.check_uint8_wraparound(-13), "negative")
    assert_wrong(ex.check_uint8_wraparound(0), "clip")
    assert_wrong(ex.check_uint8_wraparound(13), "absolute")
    assert_wrong(ex.check_uint8_wraparound(20), "in place")
    assert_wrong(ex.check_uint8_wraparound(300), "0..255")
    assert_wrong(ex.check_uint8_wraparound(244))
    assert_wrong(ex.check_uint8_wraparound(None), "no answer yet")
    assert_wrong(ex.check_uint8_wraparound("243"), "whole number")


def test_shuffle_together():
    def right(X, y, rng):
        perm = rng.permutation(len(X))
        return X[perm], y[perm]

    def in_place_same_state(X, y, rng):  # a correct in-place variant: replay the generator state
        state = rng.bit_generator.state
        rng.shuffle(X)
        rng.bit_generator.state = state
        rng.shuffle(y)
        return X, y

    def seed_bug(X, y, rng):  # the seed: two separate shuffles
        rng.shuffle(X)
        rng.shuffle(y)
        return X, y

    def global_rng(X, y, rng):
        perm = np.random.permutation(len(X))
        return X[perm], y[perm]

    def fixed_order(X, y, rng):
        perm = np.random.default_rng(123).permutation(len(X))
        return X[perm], y[perm]

    def pixels_shuffled(X, y, rng):  # shuffles inside the images instead of the images
        return rng.permutation(X.reshape(-1)).reshape(X.shape), y

    assert_right(ex.check_shuffle_together(right))
    assert_right(ex.check_shuffle_together(in_place_same_state))
    assert_wrong(ex.check_shuffle_together(seed_bug), "different permutations")
    assert_wrong(ex.check_shuffle_together(global_rng), "same seed")
    assert_wrong(ex.check_shuffle_together(fixed_order), "different seeds")
    assert_wrong(ex.check_shuffle_together(lambda X, y, rng: (X, y)), "nothing was shuffled")
    assert_wrong(ex.check_shuffle_together(pixels_shuffled), "whole images")
    assert_wrong(ex.check_shuffle_together(lambda X, y, rng: (X[:-1], y[:-1])), "shapes changed")
    assert_wrong(ex.check_shuffle_together(lambda X, y, rng: X), "pair")
    assert_wrong(ex.check_shuffle_together(None), "function")


# --------------------------------------------------------------------------------------------------- 08


def test_fc1_inputs():
    assert_right(ex.check_fc1_inputs(512))
    assert_right(ex.check_fc1_inputs(512.0))
    assert_wrong(ex.check_fc1_inputs(2048), "64×64")
    assert_wrong(ex.check_fc1_inputs(25088), "224×224")
    assert_wrong(ex.check_fc1_inputs(512 * 32 * 32), "pooled five times")
    assert_wrong(ex.check_fc1_inputs(1), "channel")
    assert_wrong(ex.check_fc1_inputs(1024))
    assert_wrong(ex.check_fc1_inputs(None), "no answer yet")
    assert_wrong(ex.check_fc1_inputs([512]), "whole number")


def test_conv_macs_and_activation_count():
    """Exercises 2 and 3 became transfer exercises in issue 14: tests/test_exercises_nb08.py tests them in full."""
    assert ex.check_conv_macs(294_912).correct  # conv3_1 of VGG16(input_size=32, width=0.125)
    assert ex.check_activation_count(2_805_258).correct  # VGG16(3, 10, 96)
    assert_wrong(ex.check_conv_macs(None), "no answer yet")
    assert_wrong(ex.check_activation_count(None), "no answer yet")


def test_all_checks_of_05_08_are_tested_here():
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    for module in MODULES:
        for name in getattr(ex, module).__all__:
            assert f"ex.{name}(" in source, f"{name} has no test"
