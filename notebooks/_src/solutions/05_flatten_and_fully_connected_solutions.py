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
# # Solutions · 05 Flatten and fully connected layers
#
# Worked solutions to the exercises of `../05_flatten_and_fully_connected.ipynb`. Each cell computes the
# answer, runs the same self-check, and asserts that it passes.

# %%
import numpy as np

import vgglib
from vgglib.exercises import check_fc_backward, check_fc_parameter_count, check_flatten_index

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** Row-major order: 3 whole channels of $2\times2 = 4$ values come first, then 1 whole row of
# 2 values of channel 3, then column 0: $i = 3\cdot4 + 1\cdot2 + 0 = 14$. `np.ravel_multi_index` does the same
# computation.

# %% tags=["solution-1"]
C, H, W = 512, 2, 2
answer = 3 * H * W + 1 * W + 0
assert answer == np.ravel_multi_index((3, 1, 0), (C, H, W))
result = check_flatten_index(answer)
print(answer, result)
assert result.correct

# %% [markdown]
# **Exercise 2.** Five poolings halve 224 five times: $224 / 2^5 = 7$, so `fc1` reads
# $512\cdot7\cdot7 = 25{,}088$ values. Each layer has $D\cdot M$ weights and $M$ biases.

# %% tags=["solution-2"]
layers = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
answer = sum(d * m + m for d, m in layers)
result = check_fc_parameter_count(answer)
print(f"{answer:,}", result)
assert result.correct


# %% [markdown]
# **Exercise 3.** The three formulas of section 3, each one matrix product or sum. The shapes confirm them:
# $X^\top dY$ is $(D, M)$, $dY\,W^\top$ is $(N, D)$, and summing $dY$ over the batch axis gives $(M,)$.

# %% tags=["solution-3"]
def fc_backward(x, W, dy):
    '''x (N, D), W (D, M), dy (N, M) -> dx (N, D), dW (D, M), db (M,).'''
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    return dx, dW, db


result = check_fc_backward(fc_backward)
print(result)
assert result.correct
