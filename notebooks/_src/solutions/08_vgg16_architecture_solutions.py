# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Solutions · 08 The VGG16 architecture
#
# Worked solutions to the exercises of `../08_vgg16_architecture.ipynb`. Each cell computes the answer,
# runs the same self-check, and asserts that it passes.

# %%
import vgglib
from vgglib.exercises import check_activation_count, check_conv_macs, check_fc1_inputs
from vgglib.model import VGG16
from vgglib.summarize import summary

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** Five halvings: $32 \to 16 \to 8 \to 4 \to 2 \to 1$. The last map is $512\times1\times1$, so
# `fc1` reads 512 values.

# %% tags=["solution-1"]
side = 32 // 2 ** 5
answer = 512 * side * side
result = check_fc1_inputs(answer)
print(answer, result)
assert result.correct

# %% [markdown]
# **Exercise 2.** Two poolings come before block 3, so `conv3_1` works at $32/2^2 = 8$, i.e. 8×8 (padding 1
# keeps the size). It is the first convolution of block 3: it reads block 2's 16 channels and makes 32. Each of
# its $8\cdot8\cdot32$ outputs sums $16\cdot3\cdot3$ products.

# %% tags=["solution-2"]
side = 32 // 2 ** 2
answer = (side * side * 32) * (16 * 3 * 3)
result = check_conv_macs(answer)
print(f"{answer:,}", result)
assert result.correct
row = next(r for r in summary(VGG16.spec(1, 10, 32, width=0.125), print_table=False).rows if r.name == "conv3_1")
assert answer == row.macs

# %% [markdown]
# **Exercise 3.** Block by block: the conv outputs have the block's channels at the block's input side, the
# pool output the same channels at half the side (96 → 48 → 24 → 12 → 6 → 3); then the three FC outputs and
# the input image with its three colour channels.

# %% tags=["solution-3"]
blocks = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
side, total = 96, 3 * 96 * 96                       # the input image
for channels, convs in blocks:
    total += convs * channels * side * side         # conv outputs (ReLU in place)
    side //= 2
    total += channels * side * side                 # pool output
total += 4096 + 4096 + 10                           # fc1, fc2, fc3
answer = total
result = check_activation_count(answer)
print(f"{answer:,}", result)
assert result.correct
assert answer == summary(VGG16.spec(3, 10, 96), print_table=False).total_activations
