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
from vgglib.exercises import check_he_std, check_init_scale, check_relu_backward

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
# **Exercise 2.** The fan-in of one output of `conv4_2` is every weight of one filter:
# $512 \cdot 3 \cdot 3 = 4608$ (the number of filters does not matter). $\sigma = \sqrt{2/4608} \approx 0.0208$.

# %% tags=["solution-2"]
answer = np.sqrt(2 / (512 * 3 * 3))
result = check_he_std(answer)
print(f"{answer:.5f}", result)
assert result.correct


# %% [markdown]
# **Exercise 3.** He's rule uses each layer's own fan-in, so it adapts when the widths change; a fixed
# number like 0.01 cannot be right for fan-ins of 784 and 64 at once.

# %% tags=["solution-3"]
def init_std(fan_in):
    return np.sqrt(2.0 / fan_in)


result = check_init_scale(init_std)
print(result)
assert result.correct
