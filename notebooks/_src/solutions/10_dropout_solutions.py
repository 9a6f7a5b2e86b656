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
from vgglib.exercises import check_dropout_scale, check_dropout_variance, check_inverted_dropout

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
# **Exercise 2.** $y = x/(1-p) = 4$ with probability $1 - p = 0.5$ and $y = 0$ otherwise. So
# $\mathbb{E}[y] = 0.5 \cdot 4 = 2 = x$, $\mathbb{E}[y^2] = 0.5 \cdot 16 = 8$, and
# $\operatorname{Var}[y] = 8 - 2^2 = 4$ — the same as $x^2 p/(1-p) = 4 \cdot 1 = 4$.

# %% tags=["solution-2"]
x, p = 2.0, 0.5
values = np.array([x / (1 - p), 0.0])
probs = np.array([1 - p, p])
mean = (probs * values).sum()
answer = (probs * values ** 2).sum() - mean ** 2
result = check_dropout_variance(answer)
print(answer, result)
assert result.correct


# %% [markdown]
# **Exercise 3.** One uniform number per element; a unit is kept when it is at least $p$ (probability $1-p$).
# The boolean mask becomes 0/1 in `x`'s dtype, and the scale is applied in the same dtype.

# %% tags=["solution-3"]
def my_dropout(x, p, rng):
    '''x: any shape; p: drop probability in [0, 1); rng: np.random.Generator -> y of x's shape and dtype'''
    keep = rng.random(x.shape) >= p
    return x * (keep.astype(x.dtype) / x.dtype.type(1 - p))


result = check_inverted_dropout(my_dropout)
print(result)
assert result.correct
