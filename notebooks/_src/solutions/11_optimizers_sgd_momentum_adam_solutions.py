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
# # 11 · Optimizers — solutions
#
# Worked solutions to the exercises of `../11_optimizers_sgd_momentum_adam.ipynb`. Each cell computes the
# answer, runs the same self-check, and asserts that it passes.

# %%
import numpy as np

import vgglib
from vgglib.exercises import check_adam_step, check_largest_stable_lr, check_momentum_speedup

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** $f(w) = 5w^2 = \tfrac12 \cdot 10\, w^2$ has curvature $a = f''(w) = 10$. A step multiplies $w$ by
# $1 - 10\eta$, which has magnitude below 1 exactly for $0 < \eta < 2/10 = 0.2$.

# %% tags=["solution-1"]
a = 10.0
answer = 2 / a
for lr in (answer - 1e-3, answer + 1e-3):
    print(f"lr = {lr:.3f}: |w| after 1000 steps = {abs((1 - lr * a) ** 1000):.1e}")
result = check_largest_stable_lr(answer)
print(answer, result)
assert result.correct

# %% [markdown]
# **Exercise 2.** The velocity settles where $v = \mu v + g$, i.e. $v = g/(1 - \mu) = 20 g$. The step is
# $\eta v = 20\,\eta g$: twenty times plain SGD's $\eta g$.

# %% tags=["solution-2"]
mu, v = 0.95, 0.0
for _ in range(1000):
    v = mu * v + 1.0
answer = 1 / (1 - mu)
print(f"velocity after 1000 steps of g = 1: {v:.4f}; 1/(1 - mu) = {answer:.4f}")
result = check_momentum_speedup(answer)
print(result)
assert result.correct


# %% [markdown]
# **Exercise 3.** The formulas of section 2, with the bias correction using this step's $t$.

# %% tags=["solution-3"]
def my_adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
    '''One Adam step; t counts from 1. Returns (p, m, v).'''
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


result = check_adam_step(my_adam_step)
print(result)
assert result.correct
