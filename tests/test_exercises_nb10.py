"""The self-checks of notebook 10's exercises that changed in issue 14: the variance of one dropout output
(x = 3, p = 0.25) and channel dropout of feature maps (N, C, H, W), the transfer exercise. Right answers pass;
each typical mistake fails with its own hint; no message gives the answer away."""

import math

import numpy as np
import pytest
from exercise_support import accepted, rejected

from vgglib import exercises as ex

SECRETS = ("(N, C, 1, 1)", "[:, :, None, None]", "rng.random((", "x.shape[:2]")


# ------------------------------------------------------------------------------------------- exercise 2


def test_dropout_variance_accepts_the_value_from_the_two_outcomes():
    x, p = 3.0, 0.25
    values, probs = np.array([x / (1 - p), 0.0]), np.array([1 - p, p])
    mean = probs @ values
    accepted(ex.check_dropout_variance(probs @ values**2 - mean**2))
    accepted(ex.check_dropout_variance(3))
    accepted(ex.check_dropout_variance(np.float32(3.0)))
    accepted(ex.check_dropout_variance(np.array([3.0])))


@pytest.mark.parametrize(
    "answer, hint",
    [
        (9 * 0.25 * 0.75, "without the 1/(1-p)"),
        (math.sqrt(3), "standard deviation"),
        (12.0, "subtract"),
        (27.0, "swapped"),
        (1 / 3, "proportional to x²"),
        (4.0, "two values"),  # the old exercise's answer (x = 2, p = 0.5)
    ],
)
def test_dropout_variance_diagnoses_typical_mistakes(answer, hint):
    rejected(ex.check_dropout_variance(answer), hint, secrets=("Var[y] = 3", "3.0", "is 3"))


def test_dropout_variance_without_an_answer():
    rejected(ex.check_dropout_variance(None), "no answer yet")
    rejected(ex.check_dropout_variance("3"), "expected a number")
    rejected(ex.check_dropout_variance(True), "expected a number")


# ------------------------------------------------------------------------------------------- exercise 3


def right(x, p, rng):
    keep = rng.random(x.shape[:2]) >= p
    return x * (keep[:, :, None, None].astype(x.dtype) / x.dtype.type(1 - p))


def right_with_binomial(x, p, rng):  # another generator call, another order of draws: still right
    keep = rng.binomial(1, 1 - p, size=(x.shape[0], x.shape[1], 1, 1))
    return (x * keep / (1 - p)).astype(x.dtype)


def per_element(x, p, rng):  # the ordinary dropout of section 5
    return x * ((rng.random(x.shape) >= p).astype(x.dtype) / x.dtype.type(1 - p))


def per_row(x, p, rng):  # one coin per row of each map
    keep = rng.random(x.shape[:3] + (1,)) >= p
    return x * (keep.astype(x.dtype) / x.dtype.type(1 - p))


def same_channels_for_every_image(x, p, rng):
    keep = rng.random((1, x.shape[1], 1, 1)) >= p
    return x * (keep.astype(x.dtype) / x.dtype.type(1 - p))


def whole_images(x, p, rng):
    keep = rng.random((x.shape[0], 1, 1, 1)) >= p
    return x * (keep.astype(x.dtype) / x.dtype.type(1 - p))


def mask_n_c_without_new_axes(x, p, rng):  # (N, C) lined up with (H, W): a broadcasting error
    keep = rng.random(x.shape[:2]) >= p
    return x * (keep.astype(x.dtype) / x.dtype.type(1 - p))


def keep_prob_swapped(x, p, rng):
    keep = rng.random(x.shape[:2]) < p
    return x * (keep[:, :, None, None].astype(x.dtype) / x.dtype.type(1 - p))


def unscaled(x, p, rng):
    keep = rng.random(x.shape[:2]) >= p
    return x * keep[:, :, None, None].astype(x.dtype)


def divided_by_p(x, p, rng):
    keep = rng.random(x.shape[:2]) >= p
    return x * (keep[:, :, None, None].astype(x.dtype) / x.dtype.type(p)) if p else x.copy()


def times_keep_prob(x, p, rng):
    keep = rng.random(x.shape[:2]) >= p
    return x * (keep[:, :, None, None].astype(x.dtype) * x.dtype.type(1 - p))


def float64_out(x, p, rng):
    return right(x, p, rng).astype(np.float64)


def returns_the_mask_too(x, p, rng):
    keep = rng.random(x.shape[:2]) >= p
    mask = keep[:, :, None, None].astype(x.dtype) / x.dtype.type(1 - p)
    return x * mask, mask


def nan_for_p_zero(x, p, rng):
    keep = rng.random(x.shape[:2]) >= p
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.float64(p) / np.float64(p) / (1 - p)  # NaN for p = 0
    return x * (keep[:, :, None, None] * scale).astype(x.dtype)


def test_channel_dropout_accepts_right_answers():
    accepted(ex.check_channel_dropout(right))
    accepted(ex.check_channel_dropout(right_with_binomial))


@pytest.mark.parametrize(
    "func, hint",
    [
        (per_element, "ordinary dropout of section 5"),
        (per_row, "partly dropped"),
        (same_channels_for_every_image, "every image drops the same channels"),
        (whole_images, "drops whole images"),
        (mask_n_c_without_new_axes, "broadcasting lines up"),
        (keep_prob_swapped, "probability to DROP"),
        (unscaled, "not scaled"),
        (divided_by_p, "divides by p"),
        (times_keep_prob, "multiplies by the keep probability"),
        (float64_out, "float32 in should give float32 out"),
        (returns_the_mask_too, "expected an array of x's shape"),
        (nan_for_p_zero, "NaN or infinite"),
        (lambda x, p, rng: x.copy(), "should be zero"),
        (lambda x, p, rng: x * x.dtype.type(1 / (1 - p)), "should be zero"),
    ],
)
def test_channel_dropout_diagnoses_typical_mistakes(func, hint):
    rejected(ex.check_channel_dropout(func), hint, secrets=SECRETS)


def test_channel_dropout_tests_a_batch_of_one_and_float64():
    def breaks_on_a_batch_of_one(x, p, rng):
        assert len(x) > 1, "needs two images"
        return right(x, p, rng)

    def float32_only(x, p, rng):
        return right(x.astype(np.float32), p, rng)

    rejected(ex.check_channel_dropout(breaks_on_a_batch_of_one), "AssertionError", "(1, 300, 2, 3)")
    rejected(ex.check_channel_dropout(float32_only), "float64 in should give float64 out")


def test_channel_dropout_without_an_answer():
    def not_implemented(x, p, rng):
        raise NotImplementedError

    def boom(x, p, rng):
        raise ZeroDivisionError("oops")

    rejected(ex.check_channel_dropout(not_implemented), "not implemented yet")
    rejected(ex.check_channel_dropout(boom), "ZeroDivisionError: oops")
    rejected(ex.check_channel_dropout(None), "pass your function itself")


def test_channel_dropout_works_on_a_copy_of_x():
    def in_place(x, p, rng):  # harmless here: the check passes a copy, so x itself is never changed
        keep = rng.random(x.shape[:2]) >= p
        x *= keep[:, :, None, None].astype(x.dtype) / x.dtype.type(1 - p)
        return x

    accepted(ex.check_channel_dropout(in_place))


def test_channel_dropout_leaves_the_global_random_state_alone():
    state = np.random.get_state()[1].copy()
    ex.check_channel_dropout(right)
    assert np.array_equal(np.random.get_state()[1], state)
