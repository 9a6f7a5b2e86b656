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
# # 10 · Dropout — solutions
#
# Worked solutions to the exercises of `../10_dropout.ipynb`. Each cell computes the answer, runs the same
# self-check, and asserts that it passes.

# %%
import numpy as np

import vgglib
from vgglib.exercises import check_channel_dropout, check_dropout_scale, check_dropout_variance

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** A unit is kept with probability $1 - p = 0.8$; to keep $\mathbb{E}[y] = x$ the survivors are
# divided by 0.8, i.e. multiplied by $1/0.8 = 1.25$.

# %% tags=["solution-1"]
p = 0.2
answer = 1 / (1 - p)
result = check_dropout_scale(answer)
print(answer, result)
assert result.correct

# %% [markdown]
# **Exercise 2.** $y = x/(1-p) = 3/0.75 = 4$ with probability $1 - p = 0.75$ and $y = 0$ with probability
# $p = 0.25$. So $\mathbb{E}[y] = 0.75 \cdot 4 = 3 = x$, $\mathbb{E}[y^2] = 0.75 \cdot 16 = 12$, and
# $\operatorname{Var}[y] = 12 - 3^2 = 3$ — the same as $x^2 p/(1-p) = 9 \cdot 0.25/0.75 = 3$.

# %% tags=["solution-2"]
x, p = 3.0, 0.25
values = np.array([x / (1 - p), 0.0])
probs = np.array([1 - p, p])
mean = (probs * values).sum()
answer = (probs * values ** 2).sum() - mean ** 2
result = check_dropout_variance(answer)
print(answer, result)
assert result.correct


# %% [markdown]
# **Exercise 3.** One coin per (image, channel): a uniform array of shape $(N, C, 1, 1)$ compared with $p$. The
# two axes of length 1 matter — numpy's broadcasting lines up axes from the right, so a mask of shape $(N, C)$
# would be matched with $(H, W)$ (an error, or worse, a wrong mask when the sizes happen to fit); with
# $(N, C, 1, 1)$ each coin is stretched over its whole $H \times W$ map. The scale $1/(1-p)$ is applied in `x`'s
# dtype, as in section 5.
#
# The backward pass: with the mask fixed, $y_{nchw} = x_{nchw}\, m_{nc}/(1-p)$ is again an element-wise linear
# function of $x$, so $\partial L/\partial x_{nchw} = \partial L/\partial y_{nchw} \cdot m_{nc}/(1-p)$ —
# $dx = dy \odot$ the same broadcast mask, exactly as for unit dropout; only the mask's shape changed.

# %% tags=["solution-3"]
def channel_dropout(x, p, rng):
    '''x: (N, C, H, W); p: drop probability in [0, 1); rng: np.random.Generator -> y of x's shape and dtype'''
    n, c = x.shape[:2]
    keep = rng.random((n, c, 1, 1)) >= p                      # one coin per (image, channel)
    return x * (keep.astype(x.dtype) / x.dtype.type(1 - p))   # broadcast over H and W


maps = np.ones((2, 4, 3, 3), dtype=np.float32)
y = channel_dropout(maps, 0.5, np.random.default_rng(0))
print("per (image, channel) map: the value of its 9 pixels (0 = dropped)")
print(y[:, :, 0, 0])
assert all(np.unique(y[n, c]).size == 1 for n in range(2) for c in range(4))   # whole maps only
result = check_channel_dropout(channel_dropout)
print(result)
assert result.correct
