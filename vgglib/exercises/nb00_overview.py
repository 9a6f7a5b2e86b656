"""Self-checks for the exercises of ``notebooks/00_overview.ipynb``.

Worked solutions: ``notebooks/solutions/00_overview_solutions.ipynb``.
"""

from __future__ import annotations

from typing import Any

from ._common import ExerciseResult, _as_float, _as_int, _not_a_number, verdict

__all__ = ["check_receptive_field", "check_conv_parameter_count", "check_flatten_size", "check_chain_rule"]

#: Exercise 4: y = w·x + b, L = (y − t)² (no ½, no ReLU), at these values.
CHAIN_X, CHAIN_W, CHAIN_B, CHAIN_T = 3.0, 2.0, -4.0, 1.0


def check_receptive_field(answer: Any) -> ExerciseResult:
    """Exercise 1: the side of the receptive field of three stacked 3×3 convolutions (stride 1)."""
    name = "receptive_field"
    value = _as_int(answer)
    if value is None:
        return _not_a_number(name, answer, "a whole number of pixels (the side of the square)")
    if value == 7:
        return verdict(
            name,
            True,
            "three stacked 3×3 layers see as far as one 7×7 layer, with 27·C² instead "
            "of 49·C² weights and three ReLUs instead of one.",
            "",
        )
    if value == 9:
        hint = (
            "9 = 3 + 3 + 3 puts the windows side by side; stacked windows overlap. Ask how far one more "
            "3×3 layer reaches beyond what the layer below already sees."
        )
    elif value == 27:
        hint = "27 counts weights per input channel (3 layers × 9), not pixels; the question is about pixels."
    elif value == 3:
        hint = "3 is what one layer sees; each layer on top sees a 3×3 patch of the layer below."
    elif value == 5:
        hint = "5 is the receptive field of two stacked 3×3 layers; add the third."
    else:
        hint = (
            "draw a row of pixels: one 3-wide window covers 3 of them; a window of the next layer covers "
            "3 neighbouring windows of the first. Count the pixels under three layers."
        )
    return verdict(name, False, "", hint)


def check_conv_parameter_count(answer: Any) -> ExerciseResult:
    """Exercise 2: the parameters (weights and biases) of a 5×5 convolution from 96 to 256 channels."""
    name = "conv_parameter_count"
    value = _as_int(answer)
    if value is None:
        return _not_a_number(name, answer, "a whole number of parameters")
    c, f, k = 96, 256, 5
    if value == f * c * k * k + f:
        return verdict(
            name,
            True,
            "each filter has one weight per input channel and kernel position, plus one bias: F·C·k² + F.",
            "",
        )
    if value == f * c * k * k:
        hint = "those are the weights; every filter also has a bias."
    elif value in (f * k * k + f, f * k * k):
        hint = "each filter spans all 96 input channels, not just one."
    elif value in (c * k * k + c, c * k * k + f):
        hint = "there is one filter per output channel (256 of them), each spanning all input channels."
    elif value in (f * c * 9 + f, f * c * 9):
        hint = "the kernel is 5×5 here, not 3×3."
    else:
        hint = (
            "a layer with C input channels and F filters of size k×k has weights of shape (F, C, k, k) and "
            "a bias of shape (F,). Count both."
        )
    return verdict(name, False, "", hint)


def check_flatten_size(answer: Any) -> ExerciseResult:
    """Exercise 3: the length of VGG16's flattened feature vector for a 96×96 input image."""
    name = "flatten_size"
    value = _as_int(answer)
    if value is None:
        return _not_a_number(name, answer, "a whole number (the length of the vector that enters fc1)")
    side = 96 // 2**5
    if value == 512 * side * side:
        return verdict(
            name,
            True,
            "the 3×3 convolutions with padding 1 keep the size; only the five pools "
            "halve it, so the side is divided by 32.",
            "",
        )
    if value == side * side:
        hint = "that is the number of positions in the last feature map; each position has 512 channels."
    elif value in (512 * 6 * 6, 512 * 12 * 12):
        hint = "count the pooling layers again: VGG16 has five, one after each block."
    elif value == 512 * side:
        hint = "the last feature map is square: multiply by its height and by its width."
    elif value == 2048:
        hint = "2048 is the seed's 64×64 input; redo it for 96×96."
    elif value == 25088:
        hint = "25088 = 512·7·7 is the 224×224 ImageNet input; redo it for 96×96."
    else:
        hint = (
            "follow the height through the network: which layers change it? The 3×3 convolutions have "
            "padding 1 and stride 1; the 2×2 pools have stride 2. Then multiply by the channels."
        )
    return verdict(name, False, "", hint)


def check_chain_rule(answer: Any) -> ExerciseResult:
    """Exercise 4: ``{"dw": …, "db": …, "dx": …}`` for y = w·x + b, L = (y − t)² at x = 3, w = 2, b = −4, t = 1."""
    name = "chain_rule"
    what = 'a dict {"dw": number, "db": number, "dx": number}'
    if not isinstance(answer, dict):
        return _not_a_number(name, answer, what)
    given = {str(k).lower(): v for k, v in answer.items()}
    missing = [k for k in ("dw", "db", "dx") if k not in given]
    if missing:
        return verdict(name, False, "", f"missing keys: {missing} (expected {what})")
    values = {k: _as_float(given[k]) for k in ("dw", "db", "dx")}
    not_numbers = [k for k, v in values.items() if v is None]
    if not_numbers:
        return verdict(name, False, "", f"{not_numbers} are not numbers (expected {what})")
    x, w, b, t = CHAIN_X, CHAIN_W, CHAIN_B, CHAIN_T
    upstream = 2 * (w * x + b - t)  # dL/dy
    right = {"dw": upstream * x, "db": upstream, "dx": upstream * w}

    def same(got: dict[str, float | None], expected: dict[str, float]) -> bool:
        return all(abs((got[k] or 0.0) - expected[k]) < 1e-9 for k in expected)

    if same(values, right):
        return verdict(
            name,
            True,
            "each gradient is the upstream gradient dL/dy times the local gradient of y with respect to that input "
            "(x for w, 1 for b, w for x).",
            "",
        )
    if same(values, {k: v / 2 for k, v in right.items()}):
        hint = (
            "each of your values is half the right one: either a ½ crept in (this loss has none, so "
            "dL/dy = 2(y − t)), or these are the local gradients alone, not yet multiplied by dL/dy."
        )
    elif same(values, {"dw": upstream * w, "db": upstream, "dx": upstream * x}):
        hint = "dw and dx are swapped: the local gradient ∂y/∂w is what w multiplied (x), and ∂y/∂x is w."
    elif same(values, {k: -v for k, v in right.items()}):
        hint = "the signs are flipped: dL/dy = 2(y − t), positive when y lies above the target t."
    else:
        wrong = [k for k in ("dw", "db", "dx") if abs((values[k] or 0.0) - right[k]) >= 1e-9]
        hint = (
            f"not yet right: {', '.join(wrong)}. Compute forward first (y, then L), then dL/dy = 2(y − t), then "
            "multiply it by each local gradient: ∂y/∂w = x, ∂y/∂b = 1, ∂y/∂x = w."
        )
    return verdict(name, False, "", hint)
