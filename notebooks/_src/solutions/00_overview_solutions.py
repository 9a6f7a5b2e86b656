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
from vgglib.exercises import check_chain_rule, check_conv_parameter_count, check_flatten_size, check_receptive_field

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

# %% [markdown]
# **Exercise 4.** Forward: $y = 2\cdot3 - 4 = 2$, $L = (2 - 1)^2 = 1$. Backward: the upstream gradient is
# $\partial L/\partial y = 2(y - t) = 2$ (no ½ to cancel the 2); the local gradients of $y = wx + b$ are
# $\partial y/\partial w = x = 3$, $\partial y/\partial b = 1$, $\partial y/\partial x = w = 2$. So
# $dw = 2\cdot3 = 6$, $db = 2$, $dx = 2\cdot2 = 4$. Central differences agree:

# %% tags=["solution-4"]
x, w, b, t = 3.0, 2.0, -4.0, 1.0
y = w * x + b
dL_dy = 2 * (y - t)
answer = {"dw": dL_dy * x, "db": dL_dy * 1.0, "dx": dL_dy * w}


def loss(x, w, b):
    return (w * x + b - t) ** 2


eps = 1e-6
numeric = {"dw": (loss(x, w + eps, b) - loss(x, w - eps, b)) / (2 * eps),
           "db": (loss(x, w, b + eps) - loss(x, w, b - eps)) / (2 * eps),
           "dx": (loss(x + eps, w, b) - loss(x - eps, w, b)) / (2 * eps)}
assert all(abs(numeric[k] - answer[k]) < 1e-6 for k in answer)
result = check_chain_rule(answer)
print(answer, result, sep="\n")
assert result.correct
