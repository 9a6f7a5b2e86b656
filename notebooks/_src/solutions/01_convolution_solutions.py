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
# # Solutions · 01 Convolution
#
# Worked solutions to the exercises of `../01_convolution.ipynb`. Each cell computes the answer, runs the same
# self-check, and asserts that it passes.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib.mnist import load_mnist
from vgglib.preprocess import to_float
from vgglib.viz import SIGNED_CMAP
from vgglib.exercises import (check_conv2d, check_convolution_by_hand, check_horizontal_edge_kernel,
                              check_output_size)

print("vgglib", vgglib.__version__)


# %% [markdown]
# **Exercise 1.** Windows start at $0, s, 2s, \dots$ and the last must fit inside the padded input:
# $(H_o-1)s + k \le H + 2p$. Integer division `//` is the floor.

# %% tags=["solution-1"]
def conv_output_size(size, kernel_size, padding, stride):
    return (size + 2 * padding - kernel_size) // stride + 1


result = check_output_size(conv_output_size)
print(result)
assert result.correct

# %% [markdown]
# **Exercise 2.** The padded image is 7×7; windows start at padded rows and columns 0, 2, 4, so the output is
# 3×3 ($\lfloor(5 + 2 - 3)/2\rfloor + 1 = 3$). The top-left window covers the corner: the row and the
# column of padding zeros, $x[0,0] = 1$ at the centre of the X, and $x[1,1] = 1$ at its bottom-right corner,
# so $y[0,0] = 2$. The
# loops below do the same bookkeeping for all nine entries.

# %% tags=["solution-2"]
image = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float)
kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)
xp = np.pad(image, 1)
answer = np.array([[np.sum(kernel * xp[2 * oy:2 * oy + 3, 2 * ox:2 * ox + 3]) for ox in range(3)]
                   for oy in range(3)])
print(answer)
result = check_convolution_by_hand(answer)
print(result)
assert result.correct

# %% [markdown]
# **Exercise 3.** Top row minus bottom row: every column sums to zero (so left-right changes and flat patches
# give 0), and bright-above-dark gives a positive sum. The Sobel weights $1, 2, 1$ add a little smoothing
# along the edge. It is the vertical-edge Sobel kernel turned by 90°.

# %% tags=["solution-3"]
my_kernel = np.array([[1, 2, 1],
                      [0, 0, 0],
                      [-1, -2, -1]], dtype=float)
result = check_horizontal_edge_kernel(my_kernel)
print(result)
assert result.correct

images, labels = load_mnist("test")
digit = to_float(images[4]).astype(float)
xp = np.pad(digit, 1)
m = sum(my_kernel[i, j] * xp[i:i + 28, j:j + 28] for i in range(3) for j in range(3))
plt.figure(figsize=(3, 3))
plt.imshow(m, cmap=SIGNED_CMAP, vmin=-np.abs(m).max(), vmax=np.abs(m).max())
plt.title("horizontal edges: red = bottom edge of a stroke", fontsize=9)
plt.axis("off")
plt.show()

# %% [markdown]
# The strokes are bright on a dark background, so "bright above dark" happens at the **bottom** edge of a
# stroke: that edge is red, the top edge blue. Column 12 crosses the 4's horizontal bar; read it from top to
# bottom:

# %%
rows = slice(15, 20)
print("rows        ", np.arange(28)[rows])
print("pixels      ", np.round(digit[rows, 12], 2))
print("response    ", np.round(m[rows, 12], 2))
assert m[16, 12] < -3 and m[18, 12] > 3          # above the bar: negative; below it: positive


# %% [markdown]
# **Exercise 4.** For each kernel offset $(i, j)$ the strided slice of the padded input holds, for every
# window at once, the pixel the window reads at that offset: shape $(N, C, H_o, W_o)$. `np.einsum` multiplies
# it by the weights $W[:, :, i, j]$ of shape $(F, C)$ and sums over the channels $c$. Nine slices, nine
# einsums, and no loop over pixels.

# %% tags=["solution-4"]
def conv2d(x, weights, bias, stride=1, padding=0):
    '''x (N, C, H, W), weights (F, C, k, k), bias (F,) -> (N, F, Ho, Wo).'''
    n, c, h, w = x.shape
    f, _, k, _ = weights.shape
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = np.zeros((n, f, ho, wo))
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]   # (N, C, Ho, Wo)
            y += np.einsum("nchw,fc->nfhw", patch, weights[:, :, i, j])
    return y + bias[None, :, None, None]


result = check_conv2d(conv2d)
print(result)
assert result.correct
