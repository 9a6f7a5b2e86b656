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
from vgglib import FullyConnected, numerical_gradient, relative_error
from vgglib.exercises import check_fc_parameters_stl10, check_flatten_index, check_linear_backward
from vgglib.model import VGG16
from vgglib.summarize import summary

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
# **Exercise 2.** The convolutions (padding 1) keep the size and five poolings halve it: $96 / 2^5 = 3$, so
# `fc1` reads $512\cdot3\cdot3 = 4{,}608$ values — the input's three colour channels do not matter here, the
# last feature map has 512 channels. A layer with $D$ inputs and $M$ outputs has $D\cdot M$ weights and $M$
# biases. The cell counts it and cross-checks with vgglib's `summary` of `VGG16(3, 10, 96)`, FC rows only.

# %% tags=["solution-2"]
side = 96 // 2**5
layers = [(512 * side * side, 4096), (4096, 4096), (4096, 10)]
answer = sum(d * m + m for d, m in layers)
rows = summary(VGG16.spec(3, 10, 96), print_table=False).rows
assert answer == sum(r.params for r in rows if r.type == "FullyConnected")
result = check_fc_parameters_stl10(answer)
print(f"fc1 reads {layers[0][0]:,} values; FC parameters: {answer:,}", result)
assert result.correct


# %% [markdown]
# **Exercise 3.** Now $Y_{nk} = \sum_i X_{ni} W_{ki} + b_k$, so
# $\partial Y_{nk}/\partial W_{ji} = X_{ni}\,\delta_{kj}$ and $\partial Y_{nk}/\partial X_{mi} = \delta_{nm} W_{ki}$.
# The chain rule of section 3 gives
#
# $$ dW_{ji} = \sum_n dY_{nj}\, X_{ni} = (dY^\top X)_{ji}, \qquad
#    dX_{mi} = \sum_k dY_{mk}\, W_{ki} = (dY\, W)_{mi}, \qquad db_j = \sum_n dY_{nj} . $$
#
# The shapes confirm it: $dY^\top X$ is $(M, D)$ like $W$, $dY\,W$ is $(N, D)$ like $X$. It is vgglib's
# result with $W$ transposed — $dW$ is the transpose of $X^\top dY$ — which only the values, not the shapes,
# show for a square $W$. The cell also compares with numerical gradients and with vgglib's `FullyConnected`
# holding $W^\top$.

# %% tags=["solution-3"]
def linear_backward(x, W, dy):
    '''x (N, D), W (M, D), dy (N, M) -> dx (N, D), dW (M, D), db (M,).'''
    dx = dy @ W
    dW = dy.T @ x
    db = dy.sum(axis=0)
    return dx, dW, db


rng = np.random.default_rng(0)
x, W, b, R = (rng.standard_normal(shape) for shape in ((4, 5), (3, 5), (3,), (4, 3)))   # L = Σ Y·R


def loss():
    return float(((x @ W.T + b) * R).sum())


dx, dW, db = linear_backward(x, W, R)
errors = [relative_error(ours, numerical_gradient(loss, wrt)) for ours, wrt in ((dx, x), (dW, W), (db, b))]
assert max(errors) < 1e-8
layer = FullyConnected(5, 3).astype(np.float64)
layer.params["weights"][:], layer.params["bias"][:] = W.T, b               # vgglib stores (D, M)
layer.forward(x)
assert np.allclose(layer.backward(R), dx) and np.allclose(layer.grads["weights"].T, dW)
result = check_linear_backward(linear_backward)
print(result)
assert result.correct
