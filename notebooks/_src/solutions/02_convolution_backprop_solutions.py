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
# # Solutions · 02 Convolution backprop
#
# Worked solutions to the exercises of `../02_convolution_backprop.ipynb`. Each cell computes the answer, runs
# the same self-check, and asserts that it passes.

# %%
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import vgglib
from vgglib.exercises import check_backward_shapes, check_conv_backward, check_dilate, check_dx_by_hand

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** $y$ has $\lfloor(32 + 2 - 3)/2\rfloor + 1 = 16$ rows and columns and one channel per
# filter, so $dy$ is $(8, 16, 16, 16)$. Every other gradient has the shape of what it differentiates: $dx$
# that of $x$ (padding cropped), $dW$ that of the weights $(F, C, k, k)$, $db$ that of the bias $(F,)$.

# %% tags=["solution-1"]
ho = (32 + 2 * 1 - 3) // 2 + 1
answer = {"dy": (8, 16, ho, ho), "dx": (8, 3, 32, 32), "dW": (16, 3, 3, 3), "db": (16,)}
result = check_backward_shapes(answer)
print(answer, result, sep="\n")
assert result.correct

# %% [markdown]
# **Exercise 2.** Only two outputs have a gradient. Output $(0,0)$ read the window at rows 0–2, columns 0–2:
# it stamps $1\cdot w$ there. Output $(2,2)$ read rows 2–4, columns 2–4: it stamps $2\cdot w$ there. The stamps
# overlap at pixel $(2,2)$, which gets $w[2,2]\cdot1 + w[0,0]\cdot2 = 1 + 2 = 3$.

# %% tags=["solution-2"]
w = np.array([[1, 2, 0], [0, 1, 0], [3, 0, 1]], dtype=float)
answer = np.zeros((5, 5))
answer[0:3, 0:3] += 1 * w
answer[2:5, 2:5] += 2 * w
print(answer)
result = check_dx_by_hand(answer)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 3.** Allocate the zeros, then write $dy$ into every $s$-th row and column with one strided
# assignment.

# %% tags=["solution-3"]
def dilate(dy, stride):
    n, f, ho, wo = dy.shape
    out = np.zeros((n, f, (ho - 1) * stride + 1, (wo - 1) * stride + 1), dtype=dy.dtype)
    out[:, :, ::stride, ::stride] = dy
    return out


result = check_dilate(dilate)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 4.** The section-6 recipe with batch and channel axes. `sliding_window_view` over the two
# spatial axes gives every window at once; `einsum` multiplies and sums the right axes:
#
# - $dW[f,c,i,j] = \sum_{n,u,v} \tilde{dy}[n,f,u,v]\,x_{\text{pad}}[n,c,u+i,v+j]$: windows of $x_{\text{pad}}$
#   the size of $\tilde{dy}$, then keep the first $k\times k$;
# - $dx_{\text{pad}}[n,c] = \sum_f \text{pad}_{k-1}(\tilde{dy}[n,f]) \star \text{rot180}(W[f,c])$: windows of
#   the padded $\tilde{dy}$ of size $k\times k$; fill up rows no window read with zeros; crop $p$.

# %% tags=["solution-4"]
def conv_backward_conv_form(dy, x, weights, stride, padding):
    k, p = weights.shape[-1], padding
    h, wd = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    d = dilate(dy, stride)                                                     # (N, F, Hd, Wd)
    db = dy.sum(axis=(0, 2, 3))
    dw = np.einsum("ncijuv,nfuv->fcij", sliding_window_view(xp, d.shape[2:], axis=(2, 3)), d)[:, :, :k, :k]
    full = np.pad(d, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
    part = np.einsum("nfhwij,fcij->nchw", sliding_window_view(full, (k, k), axis=(2, 3)),
                     weights[:, :, ::-1, ::-1])
    dxp = np.zeros_like(xp)
    dxp[:, :, :part.shape[2], :part.shape[3]] = part
    return dxp[:, :, p:p + h, p:p + wd], dw, db


result = check_conv_backward(conv_backward_conv_form)
print(result)
assert result.correct
