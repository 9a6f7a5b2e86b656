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
# # Solutions · 03 ReLU and initialisation
#
# Worked solutions to the exercises of `../03_relu_and_initialization.ipynb`. Each cell computes the answer,
# runs the same self-check, and asserts that it passes.

# %%
import numpy as np

import vgglib
from vgglib import Convolution2D
from vgglib.exercises import check_init_scale, check_leaky_relu_std, check_relu_backward

print("vgglib", vgglib.__version__)


# %% [markdown]
# **Exercise 1.** The chain rule with the gate $\mathbb{1}[x > 0]$: strictly greater, so inputs at exactly
# 0 pass no gradient.

# %% tags=["solution-1"]
def my_relu_backward(dy, x):
    return dy * (x > 0)


result = check_relu_backward(my_relu_backward)
print(result)
assert result.correct

# %% [markdown]
# **Exercise 2.** Only one step of section 4 changes: $\mathbb{E}[a^2]$. Half of the time $z' > 0$ and
# $a = z'$; the other half $a = \alpha z'$, so $a^2 = \alpha^2 z'^2$ (a factor inside a square comes out
# squared):
#
# $$
# \mathbb{E}[a^2] = \tfrac12 \operatorname{Var}(z') + \tfrac12 \alpha^2 \operatorname{Var}(z')
# = \tfrac12 (1 + \alpha^2) \operatorname{Var}(z')
# \quad\Longrightarrow\quad
# \operatorname{Var}(z) = \tfrac12 (1 + \alpha^2)\, n\, \sigma^2 \operatorname{Var}(z'),
# \qquad \sigma = \sqrt{\frac{2}{(1 + \alpha^2)\, n}} .
# $$
#
# The fan-in counts the weights of one filter, $n = 64 \cdot 3 \cdot 3 = 576$ (the 128 filters do not enter).
# With $\alpha = 0$ this is He's rule; with $\alpha = 1$ the unit is linear and it becomes $1/n$. He et al.
# derived exactly this for their PReLU. The cell computes $\sigma$ and then measures it: a convolution
# with these weights (no padding, so no border effects) on leaky-ReLU outputs keeps the variance.

# %% tags=["solution-2"]
slope, fan_in = 0.5, 64 * 3 * 3
answer = float(np.sqrt(2 / ((1 + slope**2) * fan_in)))
result = check_leaky_relu_std(answer)
print(f"σ = {answer:.5f}", result)
assert result.correct

rng = np.random.default_rng(0)
z_prev = rng.standard_normal((8, 64, 16, 16))                             # symmetric around 0, Var 1
conv = Convolution2D(64, 128, 3, rng=rng).astype(np.float64)              # drawn with σ² = 2/n; rescale
conv.params["weights"] *= answer / np.sqrt(2 / fan_in)
z = conv.forward(np.where(z_prev > 0, z_prev, slope * z_prev))
print(f"Var(z) / Var(z') = {z.var() / z_prev.var():.2f}")
assert abs(z.var() / z_prev.var() - 1) < 0.05


# %% [markdown]
# **Exercise 3.** He's rule uses each layer's own fan-in, so it adapts when the widths change; a fixed
# number like 0.01 cannot be right for fan-ins of 784 and 64 at once.

# %% tags=["solution-3"]
def init_std(fan_in):
    return np.sqrt(2.0 / fan_in)


result = check_init_scale(init_std)
print(result)
assert result.correct
