"""Notebook 08's transfer exercises (issue 14): exercise 2 counts the multiply-adds of ``conv3_1`` in the slim
``VGG16(input_size=32, width=0.125)`` of notebooks 09, 11 and 13, exercise 3 the activations of a full-width
VGG16 for 96×96×3 photos (STL-10) — neither printed in the notebook. Right answers pass (and agree with
``vgglib.summarize``), typical mistakes fail with their hint, and no message gives the answer away."""

import pytest

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult
from vgglib.model import VGG16
from vgglib.summarize import summary


def assert_wrong(result, *words):
    assert isinstance(result, ExerciseResult)
    assert not result.correct and result.message
    for word in words:
        assert word in result.message, (word, result.message)


def macs(side, c_in, c_out):
    return side * side * c_out * c_in * 9


CONV3_1 = macs(8, 16, 32)  # 32 -> 8 after two poolings; block 2 has 16 channels, block 3 has 32


def test_conv_macs_right_answer_agrees_with_the_summary():
    row = next(r for r in summary(VGG16.spec(1, 10, 32, width=0.125), print_table=False).rows if r.name == "conv3_1")
    assert row.macs == CONV3_1 == 294_912
    for answer in (CONV3_1, float(CONV3_1)):
        result = ex.check_conv_macs(answer)
        assert result.correct, result.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (2 * CONV3_1, ["FLOPs", "block 2 made"]),  # FLOPs and conv3_2's count coincide: both are named
        (macs(8, 16, 16), ["makes block 3's channels"]),
        (macs(8, 128, 256), ["full-width", "0.125"]),
        (CONV3_1 + 8 * 8 * 32, ["bias"]),
        (macs(6, 16, 32), ["padding"]),
        (32 * 16 * 9, ["number of weights"]),
        (32 * 16 * 9 + 32, ["number of parameters"]),
        (macs(32, 16, 32), ["pool1, pool2"]),
        (macs(16, 16, 32), ["pool1, pool2"]),  # one pooling too few (or the seed's 64×64 input)
        (macs(4, 16, 32), ["pool1, pool2"]),  # one pooling too many
        (12345, ["output size"]),
        (None, ["no answer yet"]),
        ("294912", ["whole number"]),
        (1.5, ["whole number"]),
    ],
)
def test_conv_macs_rejects_typical_mistakes(answer, words):
    assert_wrong(ex.check_conv_macs(answer), *words)


def parts_96():
    convs = pools = 0
    side = 96
    for channels, n in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        convs += n * channels * side * side
        side //= 2
        pools += channels * side * side
    return {"input": 3 * 96 * 96, "conv": convs, "pool": pools, "fc": 4096 + 4096 + 10}


ACTIVATIONS_96 = sum(parts_96().values())


def test_activation_count_right_answer_agrees_with_the_summary():
    assert ACTIVATIONS_96 == summary(VGG16.spec(3, 10, 96), print_table=False).total_activations == 2_805_258
    result = ex.check_activation_count(ACTIVATIONS_96)
    assert result.correct, result.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (ACTIVATIONS_96 - 3 * 96 * 96, ["include the input"]),
        (ACTIVATIONS_96 - 2 * 96 * 96, ["3 colour channels"]),
        (ACTIVATIONS_96 + parts_96()["conv"] + 8192, ["in place"]),
        (ACTIVATIONS_96 + 512 * 3 * 3, ["view"]),
        (ACTIVATIONS_96 - parts_96()["pool"], ["pooling layers"]),
        (ACTIVATIONS_96 + 3 * parts_96()["pool"], ["half the side"]),
        (ACTIVATIONS_96 - parts_96()["fc"], ["FC outputs"]),
        (ACTIVATIONS_96 + 990, ["10 classes"]),
        (4 * ACTIVATIONS_96, ["bytes"]),
        (15_237_608, ["224×224×3"]),
        (1_243_146, ["64×64×1"]),
        (2_000_000, ["block by block"]),
        (None, ["no answer yet"]),
        ([ACTIVATIONS_96], ["whole number"]),
    ],
)
def test_activation_count_rejects_typical_mistakes(answer, words):
    assert_wrong(ex.check_activation_count(answer), *words)


def test_no_message_gives_the_answer_away():
    wrong = [2 * CONV3_1, macs(8, 16, 16), macs(16, 16, 32), 12345, None]
    for answer in wrong:
        message = ex.check_conv_macs(answer).message
        assert str(CONV3_1) not in message.replace(",", "") and "8×8" not in message
    for answer in (ACTIVATIONS_96 - 3 * 96 * 96, 2_000_000, 15_237_608):
        assert str(ACTIVATIONS_96) not in ex.check_activation_count(answer).message.replace(",", "")
