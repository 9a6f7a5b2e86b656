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
# # Solutions · 00 Overview
#
# Worked solutions to the exercises of `../00_overview.ipynb`. Each cell computes the answer, runs the same
# self-check, and asserts that it passes.

# %%
import vgglib
from vgglib.exercises import check_conv_parameter_count, check_flatten_size, check_receptive_field

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** With stride 1 the jump stays 1 and each 3×3 layer adds $k - 1 = 2$ pixels:
# $r = 1 + 2 + 2 + 2 = 7$. One 7×7 layer would need $49C^2$ weights; the stack needs $3\cdot9C^2 = 27C^2$ —
# 45% fewer — and has three ReLUs.

# %% tags=["solution-1"]
r = 1
for k in (3, 3, 3):
    r += k - 1
result = check_receptive_field(r)
print(r, result)
assert result.correct

# %% [markdown]
# **Exercise 2.** Weights $(F, C, k, k) = (256, 96, 5, 5)$ plus one bias per filter.

# %% tags=["solution-2"]
answer = 256 * 96 * 5 * 5 + 256
result = check_conv_parameter_count(answer)
print(f"{answer:,}", result)
assert result.correct

# %% [markdown]
# **Exercise 3.** The convolutions keep the size; the five pools halve it: $96 / 2^5 = 3$. The last block has
# 512 channels, so `fc1` reads $512 \cdot 3 \cdot 3 = 4608$ values.

# %% tags=["solution-3"]
side = 96
for _ in range(5):
    side //= 2
answer = 512 * side * side
result = check_flatten_size(answer)
print(answer, result)
assert result.correct
