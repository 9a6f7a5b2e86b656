"""Self-checks for the exercises of ``notebooks/08_vgg16_architecture.ipynb``.

Worked solutions: ``notebooks/solutions/08_vgg16_architecture_solutions.ipynb``.
The expected values are computed here from the architecture's definition, independently of
:mod:`vgglib.model`, so the checks also guard the library's ``summary``.
"""

from __future__ import annotations

from typing import Any

from ._common import ExerciseResult, _as_int, verdict

__all__ = ["check_fc1_inputs", "check_conv_macs", "check_activation_count"]

_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _need_int(name: str, answer: Any) -> ExerciseResult | None:
    if _as_int(answer) is not None:
        return None
    if answer is None:
        return verdict(name, False, "", "no answer yet: replace None with a whole number")
    return verdict(name, False, "", f"expected a whole number, got {type(answer).__name__} {answer!r}")


def check_fc1_inputs(answer: Any) -> ExerciseResult:
    """Exercise 1: the number of inputs of ``fc1`` for 32×32×1 digits (28×28 padded to 32)."""
    name = "fc1_inputs"
    if (bad := _need_int(name, answer)) is not None:
        return bad
    value = _as_int(answer)
    assert value is not None  # _need_int checked it
    expected = 512 * (32 // 2**5) ** 2
    if value == expected:
        return verdict(name, True, "five poolings take 32 down to 1: a 1×1 map of 512 channels, a 512-vector.", "")
    hints = {
        512 * 2 * 2: "that is the seed's 64×64 input; here it is 32×32.",
        512 * 7 * 7: "that is the 224×224 ImageNet input; here it is 32×32.",
        512 * 32 * 32: "the feature maps are pooled five times before the Flatten.",
        32 * 32: "that is the input's pixel count; the convolutions change the channels to 512 first.",
        1: "Flatten keeps every channel: count the values, not the pixels.",
    }
    hint = hints.get(value) or (
        "VGG16 has five 2×2 poolings with stride 2; find the side of the last feature map, "
        "then multiply by its number of channels."
    )
    return verdict(name, False, "", hint)


#: exercise 2's model: ``VGG16(input_size=32, width=0.125)``, the one notebooks 09, 11 and 13 train
_SLIM_WIDTH, _SLIM_SIZE = 0.125, 32
#: exercise 3's model: full-width VGG16 for 96×96 colour photos in 10 classes (STL-10's format)
_STL_SIZE, _STL_CHANNELS, _STL_CLASSES = 96, 3, 10


def _conv_macs(side: int, c_in: int, c_out: int, k: int = 3) -> int:
    """Multiply-adds of a 3×3, stride-1, padding-1 convolution at ``side``×``side``: each output sums C·k·k."""
    return side * side * c_out * c_in * k * k


def check_conv_macs(answer: Any) -> ExerciseResult:
    """Exercise 2: multiply-adds of ``conv3_1`` for one image in ``VGG16(input_size=32, width=0.125)``.

    The channel counts are the original ones times 0.125 (8, 16, 32, 64, 64); ``conv3_1`` reads block 2's
    16 channels after two poolings (32 -> 8) and makes 32.
    """
    name = "conv_macs"
    if (bad := _need_int(name, answer)) is not None:
        return bad
    value = _as_int(answer)
    assert value is not None  # _need_int checked it
    chans = [int(block[0] * _SLIM_WIDTH) for block in _BLOCKS]  # 8, 16, 32, 64, 64
    side, c_in, c_out = _SLIM_SIZE // 2**2, chans[1], chans[2]
    expected = _conv_macs(side, c_in, c_out)
    if value == expected:
        return verdict(
            name,
            True,
            "side·side·F output values, each a sum of C·3·3 products; width=0.125 divides both channel counts "
            "by 8, so this layer does 1/64 of its full-width work.",
            "",
        )
    hints: dict[int, str] = {}
    for wrong, why in (
        (2 * expected, "you counted multiplications and additions separately (FLOPs); a multiply-add is one MAC"),
        (
            _conv_macs(side, c_out, c_out),
            "you used block 3's channels for the input too; conv3_1 is the first convolution of block 3, so "
            "it reads the channels block 2 made",
        ),
        (_conv_macs(side, c_in, c_in), "conv3_1 makes block 3's channels (twice block 2's), not its input's"),
        (
            _conv_macs(side, _BLOCKS[1][0], _BLOCKS[2][0]),
            "that is the full-width network; width=0.125 divides every channel count by 8",
        ),
        (expected + side * side * c_out, "the bias additions are not counted as multiply-adds (no multiplication)"),
        (_conv_macs(side - 2, c_in, c_out), "with padding 1 the output keeps the size of the input it receives"),
        (c_out * c_in * 9, "that is the number of weights; each is used once per output pixel"),
        (c_out * c_in * 9 + c_out, "that is the number of parameters; each weight is used once per output pixel"),
        *(
            (
                _conv_macs(wrong_side, c_in, c_out),
                "conv3_1 does not work at that size: the 32×32 input passes one 2×2 pooling per block before "
                "it (pool1, pool2), and its padding keeps the size it receives",
            )
            for wrong_side in (32, 16, 4, 2)
        ),
    ):
        # two mistakes can give the same number: name both
        hints[wrong] = f"{hints[wrong]}; or {why}" if wrong in hints else why
    generic = (
        "find conv3_1's input channels, output channels and output size, then count the products summed into "
        "each output value"
    )
    hint = hints.get(value, generic) + "."
    return verdict(name, False, "", hint)


def _activation_parts(size: int, channels: int, classes: int) -> dict[str, int]:
    convs = pools = 0
    side = size
    for block in _BLOCKS:
        convs += len(block) * block[-1] * side * side
        side //= 2
        pools += block[-1] * side * side
    return {"input": channels * size * size, "conv": convs, "pool": pools, "fc": 4096 + 4096 + classes}


def check_activation_count(answer: Any) -> ExerciseResult:
    """Exercise 3: activation values of one forward pass of a full-width VGG16 for 96×96×3 images in 10
    classes, input included, counting each conv, pool and FC output once (ReLU and Dropout in place,
    Flatten a view)."""
    name = "activation_count"
    if (bad := _need_int(name, answer)) is not None:
        return bad
    value = _as_int(answer)
    assert value is not None  # _need_int checked it
    parts = _activation_parts(_STL_SIZE, _STL_CHANNELS, _STL_CLASSES)
    expected = sum(parts.values())
    if value == expected:
        return verdict(
            name,
            True,
            f"about {expected * 4 / 2**20:.1f} MiB per image in float32; as for 224×224, block 1 holds the most.",
            "",
        )
    last_side = _STL_SIZE // 2**5
    hints = {
        expected - parts["input"]: "include the input image itself.",
        expected - parts["input"] // _STL_CHANNELS * (_STL_CHANNELS - 1): "the input has 3 colour channels.",
        expected + parts["conv"] + 8192: "ReLU and Dropout overwrite their input (in place): don't count their "
        "outputs again.",
        expected - parts["pool"]: "the pooling layers make new (smaller) arrays too.",
        expected + 3 * parts["pool"]: "each pooling output has half the side of its input (a quarter of the values).",
        expected - parts["fc"]: "don't forget the three FC outputs.",
        expected + 1000 - _STL_CLASSES: "this model has 10 classes, so fc3 makes 10 values.",
        expected + 512 * last_side * last_side: "Flatten is a view of pool5's output: no new values.",
        expected * 4: "that is bytes; count values.",
        sum(_activation_parts(224, 3, 1000).values()): "that is the 224×224×3 ImageNet model printed above.",
        sum(_activation_parts(64, 1, 10).values()): "that is the seed's 64×64×1 model printed above.",
    }
    hint = hints.get(value) or (
        "go block by block: each conv output is channels × side², each pool halves the side (96 is divisible "
        "by 32, so all five halvings come out whole)."
    )
    return verdict(name, False, "", hint)
