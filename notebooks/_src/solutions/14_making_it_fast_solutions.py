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
# # Solutions · 14 Making it fast
#
# Worked solutions to the exercises of `../14_making_it_fast.ipynb`. Each cell computes the answer, runs the
# same self-check, and asserts that it passes.

# %%
import numpy as np
from numpy.lib.stride_tricks import as_strided

import vgglib
from vgglib.exercises import (check_conv2_1_macs, check_im2col_nhwc_strided, check_pool2x2_corners,
                              check_winograd_backward)

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** Padding 1 keeps the 32×32 map: $32\cdot 32$ pixels × 128 filters = 131,072 outputs, each a
# sum of $C k^2 = 64\cdot 9 = 576$ products.

# %% tags=["solution-1"]
answer = 32 * 32 * 128 * 64 * 3 * 3
print(f"{answer:,} multiply-adds")
result = check_conv2_1_macs(answer)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 2.** Pad H and W only. The view has six axes: the output axes $(o_y, o_x)$ move the window's
# corner by `stride` rows and pixels, so their strides are `stride · s1` and `stride · s2`; inside a window
# the axes $(i, j)$ still step one row and one pixel (`s1`, `s2`), whatever the stride. The size of each output
# axis follows from the padded size. `reshape` of the overlapping view cannot be a view, so numpy copies.

# %% tags=["solution-2"]
def im2col_nhwc(x, k, stride, padding):
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    n, h, w, c = xp.shape
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    s0, s1, s2, s3 = xp.strides
    windows = as_strided(xp, (n, ho, wo, k, k, c), (s0, stride * s1, stride * s2, s1, s2, s3))
    return windows.reshape(n * ho * wo, k * k * c)          # overlapping view -> reshape copies


result = check_im2col_nhwc_strided(im2col_nhwc)
print(result)
x = np.arange(2 * 5 * 5 * 3, dtype=np.float32).reshape(2, 5, 5, 3)
print("x (2, 5, 5, 3), k=3, stride 2, padding 1 ->", im2col_nhwc(x, 3, 2, 1).shape)
assert result.correct


# %% [markdown]
# **Exercise 3.** Compare within each row first (`b > a`: the right one wins only if strictly larger), then
# the bottom row's maximum against the top row's (strictly larger again), so ties go to the earlier element.

# %% tags=["solution-3"]
def pool2x2(x):
    h2, w2 = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
    a, b = x[:, :, 0:h2:2, 0:w2:2], x[:, :, 0:h2:2, 1:w2:2]
    c, d = x[:, :, 1:h2:2, 0:w2:2], x[:, :, 1:h2:2, 1:w2:2]
    top, bottom = np.maximum(a, b), np.maximum(c, d)
    lower = bottom > top
    winners = np.where(lower, 2 + (d > c), 1 * (b > a))
    return np.maximum(top, bottom), winners


result = check_pool2x2_corners(pool2x2)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 4.** Backwards through the four steps, each with the rule for its kind:
#
# $$dM = A\,dY A^\top,\qquad dU = dM \odot V,\quad dV = dM \odot U,\qquad
#   dg = G^\top dU\, G,\qquad dd = B\, dV B^\top$$
#
# ($Y = A^\top M A$ has $P = A^\top$, $Q = A$, so $dM = A\,dY\,A^\top$; likewise for $U$ and $V$.) The
# element-wise products $dM \odot V$ and $dM \odot U$ are the only products of $dY$ with the data or the
# weights: 16 each. This is what `vgglib.fast` does for $dW$, with the element-wise product summed over the
# tiles and images (a GEMM per tap) before the one transform back.

# %% tags=["solution-4"]
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)


def winograd_backward(d, g, dY):
    U, V = G @ g @ G.T, BT @ d @ BT.T                          # the forward's transforms
    dM = AT.T @ dY @ AT                                        # Y = Aᵀ M A  ->  dM = A dY Aᵀ
    dU, dV = dM * V, dM * U                                    # M = U ⊙ V
    return BT.T @ dV @ BT, G.T @ dU @ G                        # dd = B dV Bᵀ, dg = Gᵀ dU G


result = check_winograd_backward(winograd_backward)
print(result)

# the same gradients from the direct sums, for one random tile
rng = np.random.default_rng(0)
d, g, dY = rng.standard_normal((4, 4)), rng.standard_normal((3, 3)), rng.standard_normal((2, 2))
dd_direct, dg_direct = np.zeros((4, 4)), np.zeros((3, 3))
for a in range(2):
    for b in range(2):
        dd_direct[a:a + 3, b:b + 3] += dY[a, b] * g
        dg_direct += dY[a, b] * d[a:a + 3, b:b + 3]
dd, dg = winograd_backward(d, g, dY)
print("equal to the direct sums:", np.allclose(dd, dd_direct) and np.allclose(dg, dg_direct))
assert result.correct
