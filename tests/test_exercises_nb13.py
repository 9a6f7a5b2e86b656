"""The self-checks of notebook 13's exercises (transfer exercises 1 and 2, the code exercise 3): the right answer
passes, each typical mistake fails with its diagnosing hint, and no message gives the answer away."""

import numpy as np
import pytest
from exercise_support import accepted, rejected

from vgglib import exercises as ex
from vgglib.model import VGG16, vgg16_layer_configs
from vgglib.summarize import summary

# ------------------------------------------------------------------------------------------------ exercise 1


def test_pool4_shape_is_what_vgglib_builds():
    rows = {row.name: row for row in summary(VGG16.spec(input_size=96, width=0.25), print_table=False).rows}
    assert tuple(rows["pool4"].output_shape) == (128, 6, 6)
    accepted(ex.check_pool4_shape(tuple(rows["pool4"].output_shape)))
    accepted(ex.check_pool4_shape([128, 6, 6]))
    accepted(ex.check_pool4_shape(np.array([128, 6, 6])))
    accepted(ex.check_pool4_shape((128.0, 6, 6)))


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((512, 6, 6), "scales every channel count"),  # the width forgotten
        ((256, 6, 6), "block 3's channel count"),
        ((64, 6, 6), "pool4 ends block 4"),
        ((128, 3, 3), "one pooling too many"),
        ((128, 12, 12), "fourth pooling"),
        ((128, 4, 4), "64x64 input"),  # the input size of the notebook's table
        ((128, 96, 96), "only the poolings halve it"),
        ((6, 6, 128), "channels-first"),
        ((128, 6, 5), "H = W"),
        ((100, 7, 7), "halved once per pooling"),
        ((128, 6), "three numbers"),
        ((128, 6.5, 6), "whole numbers"),
        ("128, 6, 6", "tuple"),
        (128, "tuple"),
        (None, "no answer yet"),
    ],
)
def test_pool4_shape_diagnoses_typical_mistakes(answer, hint):
    rejected(ex.check_pool4_shape(answer), hint, secrets=("(128, 6, 6)", "128, 6, 6", "is 128", "6x6", "6 x 6"))


# ------------------------------------------------------------------------------------------------ exercise 2


def _measured_vgg11_conv4_1_field() -> int:
    """VGG11 (configuration A) up to conv4_1 built from vgglib layers; the field measured with backprop, as in
    section 4 of the notebook: the bounding box of the input gradient of the centre unit."""
    from vgglib.layers import Convolution2D, Maxpooling2D, ReLU

    rng = np.random.default_rng(0)
    layers, c = [], 1
    for kind in ("conv", "pool", "conv", "pool", "conv", "conv", "pool", "conv"):
        if kind == "conv":
            layers += [Convolution2D(c, 4, 3, padding=1, rng=rng, dtype=np.float64), ReLU()]
            c = 4
        else:
            layers.append(Maxpooling2D(2, 2))
    x = rng.standard_normal((16, 1, 96, 96))
    h = x
    for layer in layers:
        h = layer.forward(h, training=False)
    dy = np.zeros_like(h)
    dy[:, :, h.shape[2] // 2, h.shape[3] // 2] = 1.0
    for layer in reversed(layers):
        dy = layer.backward(dy)
    rows = np.flatnonzero(np.abs(dy).sum(axis=(0, 1, 3)) > 0)
    return int(rows[-1] - rows[0] + 1)


def test_vgg11_receptive_field_is_what_backprop_measures():
    field = _measured_vgg11_conv4_1_field()
    accepted(ex.check_vgg11_receptive_field(field))
    accepted(ex.check_vgg11_receptive_field(float(field)))
    accepted(ex.check_vgg11_receptive_field(np.int64(field)))


@pytest.mark.parametrize(
    "answer, hint",
    [
        (60, "VGG16's conv4_1"),  # copied from the notebook's table
        (14, "the jump doubles"),  # each layer adds 2 or 1, the jump never grows
        (39, "pooling also widens"),  # the poolings only double the jump
        (53, "the jump of the layer below"),  # the jump updated before it is used
        (45, "start from r = 1"),
        (47, "start from r = 1"),
        (100, "layer by layer"),
        (46.5, "whole number"),
        ("46", "expected a whole number"),
        (True, "expected a whole number"),
        (None, "no answer yet"),
    ],
)
def test_vgg11_receptive_field_diagnoses_typical_mistakes(answer, hint):
    rejected(ex.check_vgg11_receptive_field(answer), hint, secrets=("46",))


def test_the_notebooks_table_does_not_give_exercise_2_away():
    """Exercise 2 is a transfer exercise: the notebook prints VGG16's fields, and VGG16's conv4_1 is not VGG11's."""
    r, jump, fields = 1, 1, {}
    for cfg in vgg16_layer_configs(input_size=64):
        if cfg["type"] in ("Convolution2D", "Maxpooling2D"):
            k = cfg.get("kernel_size", cfg.get("pool_size"))
            r, jump = r + (k - 1) * jump, jump * cfg["stride"]
            fields[cfg["name"]] = r
    assert fields["conv4_1"] == 60 and _measured_vgg11_conv4_1_field() not in fields.values()


# ------------------------------------------------------------------------------------------------ exercise 3


def test_top_activating_still_checked():
    def right(maps, c, k):
        return np.argsort(-maps[:, c].mean(axis=(1, 2)), kind="stable")[:k]

    accepted(ex.check_top_activating(right))
    rejected(ex.check_top_activating(lambda m, c, k: right(m, c, k)[::-1]), "reverse")


def test_old_exercise_checks_are_gone():
    """Exercises 1 and 2 used to ask what the notebook had just printed (pool3 at 64x64, conv3_1's field)."""
    assert not hasattr(ex, "check_pool3_shape") and not hasattr(ex, "check_conv3_1_receptive_field")
