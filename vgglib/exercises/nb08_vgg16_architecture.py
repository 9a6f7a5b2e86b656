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


def check_conv_macs(answer: Any) -> ExerciseResult:
    """Exercise 2: multiply-adds of ``conv1_2`` for one 64×64×1 image (64 → 64 channels, 3×3, padding 1)."""
    name = "conv_macs"
    if (bad := _need_int(name, answer)) is not None:
        return bad
    value = _as_int(answer)
    out_pixels, c_in, c_out, k = 64 * 64, 64, 64, 3
    expected = out_pixels * c_out * c_in * k * k
    if value == expected:
        return verdict(name, True, "every output value (Ho·Wo·F of them) is a sum of C·k·k products.", "")
    if value == 2 * expected:
        hint = "that counts multiplications and additions separately (FLOPs); a multiply-add is one MAC."
    elif value == out_pixels * c_out * 1 * k * k:
        hint = "conv1_2 reads the 64 channels made by conv1_1, not the 1-channel input."
    elif value == expected + out_pixels * c_out:
        hint = "the bias additions are not counted as multiply-adds (there is no multiplication)."
    elif value == 62 * 62 * c_out * c_in * k * k:
        hint = "with padding 1 the output keeps the input's 64×64 size."
    elif value == c_out * c_in * k * k:
        hint = "that is the number of weights; each is used once per output pixel."
    else:
        hint = "count the output values, then the products summed into each one."
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
    """Exercise 3: activation values of one forward pass of the seed's 64×64×1 VGG16, input included,
    counting each conv, pool and FC output once (ReLU and Dropout in place, Flatten a view)."""
    name = "activation_count"
    if (bad := _need_int(name, answer)) is not None:
        return bad
    value = _as_int(answer)
    parts = _activation_parts(64, 1, 10)
    expected = sum(parts.values())
    if value == expected:
        return verdict(
            name,
            True,
            f"about {expected * 4 / 2**20:.1f} MiB per image in float32 — 12 times less than at 224×224×3.",
            "",
        )
    if value == expected - parts["input"]:
        hint = "include the input image itself."
    elif value == expected + parts["conv"] + 8192:
        hint = "ReLU and Dropout overwrite their input (in place): don't count their outputs again."
    elif value == expected - parts["pool"]:
        hint = "the pooling layers make new (smaller) arrays too."
    elif value == expected - parts["fc"]:
        hint = "don't forget the three FC outputs (4096 + 4096 + 10)."
    elif value == expected + 2048:
        hint = "Flatten is a view of pool5's output: no new values."
    elif value == sum(_activation_parts(224, 3, 1000).values()):
        hint = "that is the 224×224×3 ImageNet model; the question is about the seed's 64×64×1 one."
    elif value == expected * 4:
        hint = "that is bytes; count values."
    else:
        hint = "go block by block: each conv output is channels × side², each pool halves the side."
    return verdict(name, False, "", hint)
