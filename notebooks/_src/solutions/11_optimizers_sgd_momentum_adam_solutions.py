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
from vgglib.exercises import check_adamw_step, check_largest_stable_lr, check_momentum_speedup

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
# **Exercise 3.** Section 11's formula, $\theta_t = \theta_{t-1} - \eta\lambda\,\theta_{t-1} - \eta\,\hat m_t/
# (\sqrt{\hat v_t} + \epsilon)$: the decay uses the weights the step starts from, the moments see the gradient
# alone, and the bias correction uses this step's $t$. (Decaying first, `p = p * (1 - lr * weight_decay)`, and
# then taking the Adam step is the same thing, because the Adam step does not depend on `p`; it is what
# `torch.optim.AdamW` does.)

# %% tags=["solution-3"]
def my_adamw_step(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    '''One AdamW step; t counts from 1. Returns (p, m, v).'''
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return p - lr * weight_decay * p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


result = check_adamw_step(my_adamw_step)
print(result)
assert result.correct

# %% [markdown]
# The same step as `vgglib.optim.AdamW` — and, for contrast, Adam with `weight_decay` (L2), which adds the decay
# to the gradient before the moments:

# %%
from vgglib.optim import Adam, AdamW

rng = np.random.default_rng(0)
p0, grads = rng.standard_normal(4), rng.standard_normal((3, 4))
mine, m, v = p0.copy(), np.zeros(4), np.zeros(4)
lib_w, lib_l2 = p0.copy(), p0.copy()
adamw, adam_l2 = AdamW(0.01, weight_decay=0.1), Adam(0.01, weight_decay=0.1)
for t, g in enumerate(grads, start=1):
    mine, m, v = my_adamw_step(mine, g, m, v, t, 0.01, 0.9, 0.999, 1e-8, 0.1)
    adamw.step([("w", "w", lib_w, g)])
    adam_l2.step([("w", "w", lib_l2, g)])
print("my AdamW = vgglib's AdamW after 3 steps (to 1e-12):", np.allclose(mine, lib_w, rtol=0, atol=1e-12))
print(f"AdamW vs Adam with L2 decay: largest difference {np.abs(lib_w - lib_l2).max():.1e}")
assert np.allclose(mine, lib_w, rtol=0, atol=1e-12) and np.abs(lib_w - lib_l2).max() > 1e-4
