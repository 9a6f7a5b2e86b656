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
# # Solutions · 06 Softmax and cross-entropy
#
# Worked solutions to the exercises of `../06_softmax_and_cross_entropy.ipynb`. Each cell computes the answer,
# runs the same self-check, and asserts that it passes.

# %%
import numpy as np

import vgglib
from vgglib.exercises import check_initial_loss, check_seed_gradient, check_softmax_cross_entropy
from vgglib.losses import softmax

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** Small logits give every class $p = 1/1000$, so $L = -\ln(1/1000) = \ln 1000 \approx 6.908$.

# %% tags=["solution-1"]
answer = np.log(1000)
result = check_initial_loss(answer)
print(f"{answer:.4f}", result)
assert result.correct

# %% [markdown]
# **Exercise 2.** $\partial\ell/\partial z = p - y$ with $y = (0, 0, 1)$: the first two entries are the
# probabilities themselves, the last is $p_2 - 1$.

# %% tags=["solution-2"]
z = np.array([2.33, -1.46, 0.56])
p = softmax(z[None])[0]
answer = p - np.array([0.0, 0.0, 1.0])
result = check_seed_gradient(answer)
print(answer.round(8), result)
assert result.correct


# %% [markdown]
# **Exercise 3.** Log-softmax with the maximum subtracted gives the loss without overflow or $\log 0$; the
# gradient is $(P - Y)/N$, with $P = e^{\log P}$.

# %% tags=["solution-3"]
def my_softmax_cross_entropy(logits, labels):
    '''logits (N, C), labels (N,) ints -> (mean loss: float, dlogits: (N, C))'''
    n = len(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), labels].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n


result = check_softmax_cross_entropy(my_softmax_cross_entropy)
print(result)
assert result.correct
