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
# # 12 · Data augmentation — solutions
#
# Worked solutions to the exercises of `../12_data_augmentation.ipynb`. Each cell computes the answer, runs the
# same self-check, and asserts that it passes.

# %%
import numpy as np

import vgglib
from vgglib.exercises import TRANSFORMS, check_label_preserving, check_shift, check_zca_matrix

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** Small shifts, small rotations and mild zooms mimic how people write. Both mirrors turn most
# digits into non-digits, and a rotation by 180° turns a 6 into a 9.

# %% tags=["solution-1"]
answer = {"shift by 2 pixels", "rotate by 10 degrees", "zoom in by 10%"}
assert answer <= set(TRANSFORMS)
result = check_label_preserving(answer)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 2.** Copy the part of the image that stays inside the frame into a zero array: the source rows
# start at $\max(0, -d_y)$ and the destination rows at $\max(0, d_y)$ (columns likewise).

# %% tags=["solution-2"]
def my_shift(image, dy, dx):
    '''image (H, W); dy, dx integers -> shifted image (H, W), zero border'''
    h, w = image.shape
    out = np.zeros_like(image)
    src = image[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


print(my_shift(np.arange(1, 10).reshape(3, 3), 1, -1))
result = check_shift(my_shift)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 3.** Centre, covariance, eigendecomposition, then $U\,\mathrm{diag}(1/\sqrt{\lambda + \epsilon})\,U^\top$
# (dividing the columns of $U$ by the square roots does the diagonal product).

# %% tags=["solution-3"]
def my_zca_matrix(X, eps):
    '''X (N, D) -> W (D, D) with W = U (Λ + eps)^(-1/2) Uᵀ for the covariance of the centred X'''
    centred = X - X.mean(axis=0)
    cov = centred.T @ centred / len(X)
    lam, U = np.linalg.eigh(cov)
    return (U / np.sqrt(np.clip(lam, 0, None) + eps)) @ U.T


X = np.random.default_rng(0).standard_normal((500, 4)) @ np.array([[2, 1, 0, 0], [0, 1, 0, 0], [0, 0, 3, 1], [0, 0, 0, 0.5]])
W = my_zca_matrix(X, 1e-6)
print("covariance after whitening:\n", np.cov((X - X.mean(0)) @ W.T, rowvar=False, bias=True).round(3))
result = check_zca_matrix(my_zca_matrix)
print(result)
assert result.correct
