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
# # Solutions · 04 Pooling
#
# Worked solutions to the exercises of `../04_pooling.ipynb`. Each cell computes the answer, runs the same
# self-check, and asserts that it passes.

# %%
import numpy as np

import vgglib
from vgglib import Maxpooling2D
from vgglib.exercises import check_maxpool_backward, check_maxpool_dx_by_hand, check_pool_by_hand, check_three_way_tie
from vgglib.gradcheck import numerical_gradient

print("vgglib", vgglib.__version__)
x_ex = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)

# %% [markdown]
# **Exercise 1.** The four windows are the four 2×2 quadrants: top-left $\{1,1,5,6\}$, top-right
# $\{2,4,7,8\}$, bottom-left $\{3,2,1,2\}$, bottom-right $\{1,0,3,4\}$. Their minima are 1, 2, 1, 0 and their
# means $13/4, 21/4, 8/4, 8/4$.

# %% tags=["solution-1"]
quadrants = x_ex.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)   # (Ho, Wo, window)
answer = {"min": quadrants.min(axis=-1), "avg": quadrants.mean(axis=-1)}
print(answer)
result = check_pool_by_hand(answer)
print(result)
assert result.correct

# %% [markdown]
# **Exercise 2.** The four 3×3 windows start at $(0,0), (0,1), (1,0), (1,1)$. Their maxima: 7 at $(1,2)$,
# 8 at $(1,3)$, 7 at $(1,2)$ again, 8 at $(1,3)$ again. So the 7 collects $dy[0,0] + dy[1,0] = 1 + 3 = 4$ and
# the 8 collects $dy[0,1] + dy[1,1] = 2 + 4 = 6$; everything else is 0. The entries of $dx$ add up to the sum
# of $dy$, 10, as they must.

# %% tags=["solution-2"]
answer = np.zeros((4, 4))
answer[1, 2] = 1 + 3
answer[1, 3] = 2 + 4
print(answer)
result = check_maxpool_dx_by_hand(answer)
print(result)
assert result.correct

# %% [markdown]
# **Exercise 3.** *The layer* keeps the first maximum in row-major order — reading the window row by row,
# the first 4 is the top-right entry — and sends it all of $dy$: $dx = \begin{bmatrix}0&1\\0&0\end{bmatrix}$.
#
# *The numerical check* nudges one entry at a time. Nudging a tied entry up by $\varepsilon$ makes it the sole
# maximum, $y = 4 + \varepsilon$; nudging it down leaves the other two 4s, $y = 4$. So each tied entry gets
# $(4 + \varepsilon - 4)/2\varepsilon = \tfrac12$, however many entries tie; the 1 gets 0. The numerical
# "gradient" $\begin{bmatrix}0&\frac12\\\frac12&\frac12\end{bmatrix}$ sums to $\tfrac32$: more than the
# $dy = 1$ that a true gradient of this window would pass down. At a kink the central difference measures
# the average of the two one-sided slopes, not a gradient — which is why gradient checks avoid ties.

# %% tags=["solution-3"]
x = np.array([[[[1.0, 4.0], [4.0, 4.0]]]])                          # (1, 1, 2, 2)
pool = Maxpooling2D()
pool.forward(x)
layer = pool.backward(np.ones((1, 1, 1, 1)))[0, 0]
numerical = numerical_gradient(lambda: float(Maxpooling2D().forward(x).sum()), x)[0, 0]
print("layer:\n", layer, "\nnumerical:\n", numerical.round(6))
answer = {"layer": layer, "numerical": numerical}
result = check_three_way_tie(answer)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 4.** A fully vectorised version: gather the windows (as `im2col` does, one strided slice per
# offset), find every window's winner with one `argmax`, then put $dy$ back offset by offset. For each offset
# $(i, j)$, the windows whose winner is at that offset add their $dy$ into the strided slice of $dx$ that
# the offset reads — `+=` on a strided slice, so overlapping windows accumulate.

# %% tags=["solution-4"]
def maxpool_backward(dy, x, pool_size, stride):
    k, s = pool_size, stride
    n, c, ho, wo = dy.shape
    windows = np.stack([x[:, :, i:i + s * ho:s, j:j + s * wo:s] for i in range(k) for j in range(k)], axis=2)
    winners = windows.argmax(axis=2)                                     # (N, C, Ho, Wo): flat i*k + j
    dx = np.zeros_like(x)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + s * ho:s, j:j + s * wo:s] += np.where(winners == i * k + j, dy, 0.0)
    return dx


result = check_maxpool_backward(maxpool_backward)
print(result)
assert result.correct
