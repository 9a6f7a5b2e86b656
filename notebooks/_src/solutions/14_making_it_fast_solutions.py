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
from vgglib.exercises import check_conv2_1_macs, check_im2col_nhwc, check_pool2x2_corners, check_winograd_1d

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
# **Exercise 2.** The view's window axes step one row (`s1`) and one pixel (`s2`) of the input, exactly like
# the output axes; `reshape` of that overlapping view cannot be a view, so numpy copies.

# %% tags=["solution-2"]
def im2col_nhwc(x, k):
    n, h, w, c = x.shape
    ho, wo = h - k + 1, w - k + 1
    s0, s1, s2, s3 = x.strides
    windows = as_strided(x, (n, ho, wo, k, k, c), (s0, s1, s2, s1, s2, s3))
    return windows.reshape(n * ho * wo, k * k * c)          # overlapping view -> reshape copies


result = check_im2col_nhwc(im2col_nhwc)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 3.** Section 4's formulas. The weight sums $(g_0 + g_1 + g_2)/2$ and $(g_0 - g_1 + g_2)/2$
# involve no data, so they are not counted.

# %% tags=["solution-3"]
def winograd_1d(d, g):
    m1 = (d[0] - d[2]) * g[0]
    m2 = (d[1] + d[2]) * ((g[0] + g[1] + g[2]) / 2)
    m3 = (d[2] - d[1]) * ((g[0] - g[1] + g[2]) / 2)
    m4 = (d[1] - d[3]) * g[2]
    return [m1 + m2 + m3, m2 - m3 - m4]


result = check_winograd_1d(winograd_1d)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 4.** Compare within each row first (`b > a`: the right one wins only if strictly larger), then
# the bottom row's maximum against the top row's (strictly larger again), so ties go to the earlier element.

# %% tags=["solution-4"]
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
