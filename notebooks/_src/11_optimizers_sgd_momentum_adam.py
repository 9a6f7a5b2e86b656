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
# # 11 · Optimizers: SGD, momentum and Adam
#
# Backpropagation gives the gradient of the loss with respect to every one of VGG16's parameters. What to *do*
# with it is the optimizer's job. The seed project did the simplest thing: every layer kept its own
# `learning_rate` and, after each batch, stepped its weights against the gradient, `W -= lr * dW` — plain
# **stochastic gradient descent**. The VGG paper itself used SGD with **momentum** 0.9; notebook 09 trains with
# **Adam**. This notebook derives all three — and AdaGrad and RMSProp, the two steps from momentum to Adam —,
# watches them on a 2-D loss surface where every step can be seen, and then lets them train the same small
# VGG, after a learning-rate sweep for each and with a per-layer diagnostic that explains the result.
#
# **Learning goals** — after this notebook you can
#
# - derive when gradient descent on a quadratic converges ($0 < \eta < 2/a$) and why an elongated valley makes
#   it slow; derive the same bound for momentum, $0 < \eta a < 2(1 + \mu)$;
# - write momentum as an exponential average of gradients and compute its effective step size $\eta/(1-\mu)$;
# - go from momentum via AdaGrad and RMSProp to Adam, derive Adam's bias correction and explain why its first
#   step is $\eta\cdot\operatorname{sign}(g)$;
# - sweep the learning rate before comparing optimizers, and read per-layer update/weight ratios;
# - tell L2 regularisation from decoupled weight decay (AdamW), and say what batch normalisation changes;
# - use `vgglib.optim` (`SGD`, `Adagrad`, `RMSprop`, `Adam`, `AdamW`, schedules) and check it against your own
#   implementation.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import FullyConnected, ReLU
from vgglib.mnist import load_mnist
from vgglib.exercises import check_adamw_step, check_largest_stable_lr, check_momentum_speedup, reveal
from vgglib.losses import softmax_cross_entropy
from vgglib.model import VGG16, Sequential
from vgglib.optim import SGD, Adagrad, Adam, AdamW, ConstantLR, CosineLR, RMSprop, StepLR
from vgglib.preprocess import to_float
from vgglib.train import evaluate, fit
from vgglib.widgets import optimizer_explorer, optimizer_trajectories

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)

#: one colour per optimizer in every figure of this notebook
COLORS = {"SGD": "tab:blue", "momentum": "tab:orange", "AdaGrad": "tab:green", "RMSProp": "tab:purple",
          "Adam": "tab:red"}

# %% [markdown]
# ## 1 · By hand: one weight, one valley
#
# The simplest loss with a minimum is a parabola, $f(w) = \tfrac12 a w^2$, with curvature $a = f''(w)$ and
# gradient $f'(w) = a w$. One gradient-descent step with learning rate $\eta$ is
#
# $$ w \leftarrow w - \eta\, a w = (1 - \eta a)\, w , $$
#
# so after $t$ steps $w_t = (1 - \eta a)^t w_0$. With $a = 4$ and $w_0 = 1$: $\eta = 0.1$ multiplies by 0.6 each
# step (smooth approach); $\eta = 0.4$ by $-0.6$ (it jumps over the minimum every step, but the jumps shrink);
# $\eta = 0.6$ by $-1.4$ (every jump is larger than the last: divergence).

# %%
a, w0 = 4.0, 1.0
for lr in (0.1, 0.25, 0.4, 0.49, 0.51, 0.6):
    w = w0 * (1 - lr * a) ** np.arange(6)
    print(f"lr = {lr:4}: factor {1 - lr * a:+.2f}   w = {np.array2string(w, precision=3, floatmode='fixed')}")


# %% [markdown]
# ## 2 · The math
#
# ### Gradient descent and the largest stable learning rate
# The factor $(1 - \eta a)$ shrinks $|w|$ exactly when $|1 - \eta a| < 1$, i.e.
#
# $$ 0 < \eta < \frac{2}{a}. $$
#
# Near a minimum any smooth loss looks like a quadratic $\tfrac12 (\theta - \theta^*)^\top H (\theta - \theta^*)$;
# along each eigenvector of the Hessian $H$ the same analysis holds with $a$ = its eigenvalue. The **steepest**
# direction ($a_{\max}$) limits $\eta < 2/a_{\max}$; the **flattest** direction ($a_{\min}$) then shrinks by only
# $1 - \eta a_{\min} > 1 - 2 a_{\min}/a_{\max}$ per step. The ratio $\kappa = a_{\max}/a_{\min}$, the
# *condition number*, therefore says how many steps plain gradient descent needs: about $\kappa$ of them.
# Deep networks have badly conditioned losses — that is what momentum and the adaptive methods below are for.
#
# ### Momentum
# Keep a **velocity** $v$ (one per parameter, initially 0) that accumulates gradients, and step along it
# (the form PyTorch and `vgglib.optim.SGD` use; $\mu \in [0, 1)$):
#
# $$ v_t = \mu\, v_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, v_t . $$
#
# Unrolling the recursion, $v_t = g_t + \mu g_{t-1} + \mu^2 g_{t-2} + \dots = \sum_{k=0}^{t-1} \mu^k g_{t-k}$:
# an exponentially weighted sum of past gradients. Two cases explain most of it:
#
# - a **steady** gradient $g$ (a long gentle slope): $v \to g\,(1 + \mu + \mu^2 + \dots) = g/(1 - \mu)$, so the
#   step grows to $\eta/(1-\mu)$ — ten times larger for $\mu = 0.9$;
# - an **alternating** gradient $+g, -g, +g, \dots$ (zigzag across a narrow valley): $v \to g\,(1 - \mu + \mu^2
#   - \dots) = g/(1 + \mu)$ — the oscillation is damped.
#
# Where momentum stops being stable is a question of its own: section 7 predicts, measures and derives it.
#
# ### From momentum to Adam: AdaGrad and RMSProp
# Momentum gives every parameter the same learning rate. But a network's parameters see gradients of very
# different sizes (section 10 measures them), and one $\eta$ cannot suit them all. The **adaptive** methods give
# each parameter its own step by dividing by the size of *its* gradients (all operations element-wise,
# $s_0 = 0$, a small $\epsilon$ against division by zero):
#
# - **AdaGrad** (Duchi et al., 2011) divides by the root of the *sum* of all squared gradients so far:
#   $$ s_t = s_{t-1} + g_t^2, \qquad \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{s_t} + \epsilon} . $$
#   Every parameter's gradient is divided by that parameter's own typical gradient size, so large and small
#   gradients give steps of similar size. But the sum only grows: with a steady gradient, $s_t = t\,g^2$ and the
#   step is $\eta/\sqrt t$ — AdaGrad slows down for ever.
# - **RMSProp** (Hinton, 2012) forgets: it divides by the root of a leaky *average* of squared gradients
#   ($\alpha = 0.99$ by default),
#   $$ s_t = \alpha\, s_{t-1} + (1 - \alpha)\, g_t^2, \qquad \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{s_t} + \epsilon} . $$
#   With a steady gradient, $s_t = (1 - \alpha^t)\, g^2 \to g^2$: the step settles at $\eta$ per parameter.
#   Started at 0, $s$ is too small at first, so the first steps are too large: $s_1 = (1 - \alpha) g^2$ makes
#   the first step $\eta/\sqrt{1 - \alpha}$ — ten times $\eta$ for $\alpha = 0.99$.
#
# ### Adam
# Adam = RMSProp's average of $g^2$ + momentum's average of $g$ + a correction for starting both at zero
# ($\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$ by default; $m_0 = v_0 = 0$):
#
# $$ m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 , $$
# $$ \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
#    \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} . $$
#
# **Why the bias correction.** Unrolled, $m_t = (1 - \beta_1) \sum_{k=1}^{t} \beta_1^{t-k} g_k$. If the
# gradients have a steady mean, $\mathbb{E}[g_k] = \bar g$,
#
# $$ \mathbb{E}[m_t] = (1 - \beta_1)\,\bar g \sum_{k=1}^{t} \beta_1^{t-k} = (1 - \beta_1)\,\bar g\,
#    \frac{1 - \beta_1^t}{1 - \beta_1} = (1 - \beta_1^t)\, \bar g . $$
#
# Started at zero, the average is biased towards zero by the factor $1 - \beta_1^t$ (0.1 at $t = 1$); dividing
# by it removes the bias. The same holds for $v_t$ with $\beta_2$, whose bias lasts much longer
# ($1 - 0.999^t$ is still only 0.63 after 1000 steps). RMSProp's too-large first steps are exactly this bias.
#
# **What the step looks like.** $\hat m/\sqrt{\hat v}$ is a signal-to-noise ratio per parameter: close to
# $\pm 1$ when a parameter's gradient keeps its sign, small when it flips around. So every parameter moves
# about $\eta$ per step when its gradient is consistent — whatever the gradient's size. That is why one
# learning rate (1e-3) works for layers whose gradients differ by orders of magnitude. At $t = 1$:
# $\hat m_1 = g_1$, $\hat v_1 = g_1^2$, and the step is exactly $\eta\, g_1/(|g_1| + \epsilon) \approx
# \eta\,\operatorname{sign}(g_1)$.

# %% [markdown]
# ## 3 · Naive code: the five update rules
#
# Each function takes a parameter array, its gradient and a state dict, and returns the new parameter — the
# formulas above, line by line.

# %%
def sgd_step(p, g, state, lr):
    return p - lr * g


def momentum_step(p, g, state, lr, mu=0.9):
    state["v"] = mu * state.get("v", 0.0) + g
    return p - lr * state["v"]


def adagrad_step(p, g, state, lr, eps=1e-10):
    state["s"] = state.get("s", 0.0) + g ** 2
    return p - lr * g / (np.sqrt(state["s"]) + eps)


def rmsprop_step(p, g, state, lr, alpha=0.99, eps=1e-8):
    state["s"] = alpha * state.get("s", 0.0) + (1 - alpha) * g ** 2
    return p - lr * g / (np.sqrt(state["s"]) + eps)


def adam_step(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] = state.get("t", 0) + 1
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat = state["m"] / (1 - beta1 ** t)
    v_hat = state["v"] / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


# %% [markdown]
# ## 4 · The checks
#
# 1. **Same trajectory as `vgglib.optim`.** Feed 50 random gradients to both implementations and compare every
#    parameter value along the way. (`vgglib.optim` updates `model.parameters()` in place; any list of
#    `(layer, key, value, grad)` works too.)
# 2. **The step sizes for a steady gradient** are those of section 2: AdaGrad $\eta/\sqrt t$, RMSProp
#    $\eta/\sqrt{1 - 0.99^t}$ (ten times $\eta$ at first), Adam exactly $\eta$ from the first step on — the
#    bias correction at work. Adam's first step is $\eta\,\operatorname{sign}(g)$ for gradients of any size:
#    this is what catches a missing bias correction (section 13).
# 3. **The stability limit** $2/a$: just below it gradient descent converges, just above it diverges.

# %%
rng = np.random.default_rng(0)
grads = rng.standard_normal((50, 3, 4))
start = rng.standard_normal((3, 4))

cases = {"SGD": (SGD(0.1), lambda p, g, s: sgd_step(p, g, s, 0.1)),
         "momentum": (SGD(0.1, momentum=0.9), lambda p, g, s: momentum_step(p, g, s, 0.1, 0.9)),
         "AdaGrad": (Adagrad(0.1), lambda p, g, s: adagrad_step(p, g, s, 0.1)),
         "RMSProp": (RMSprop(0.01), lambda p, g, s: rmsprop_step(p, g, s, 0.01)),
         "Adam": (Adam(0.01), lambda p, g, s: adam_step(p, g, s, 0.01))}
for name, (optimizer, mine) in cases.items():
    p_lib, p_mine, state, worst = start.copy(), start.copy(), {}, 0.0
    for g in grads:
        optimizer.step([("layer", "weights", p_lib, g)])          # updates p_lib in place
        p_mine = mine(p_mine, g, state)
        worst = max(worst, np.abs(p_lib - p_mine).max())
    print(f"{name:8}: same parameters at all 50 steps (largest difference below 1e-12): {worst < 1e-12}")
    assert worst < 1e-12

# %%
steady = {"AdaGrad": adagrad_step, "RMSProp": rmsprop_step, "Adam": adam_step}
ts = np.arange(1, 101)
sizes = {}
for name, step_fn in steady.items():
    state, p, sizes[name] = {}, np.zeros(1), []
    for t in ts:
        new = step_fn(p, np.array([0.3]), state, lr=0.01)          # the same gradient at every step
        sizes[name].append(abs(new - p).item() / 0.01)             # the step, in units of lr
        p = new
    sizes[name] = np.array(sizes[name])
    print(f"{name:8} step / lr at t = 1, 2, 3, 4, 10, 100: {np.round(sizes[name][[0, 1, 2, 3, 9, 99]], 3)}")
assert np.allclose(sizes["AdaGrad"], 1 / np.sqrt(ts), rtol=1e-6)
assert np.allclose(sizes["RMSProp"], 1 / np.sqrt(1 - 0.99 ** ts), rtol=1e-6)
assert np.allclose(sizes["Adam"], 1.0, rtol=1e-6)

g = np.array([1e-3, -3.0, 250.0])                           # gradients of very different sizes
step = np.zeros(3) - adam_step(np.zeros(3), g, {}, lr=0.01)
same = np.allclose(step, 0.01 * np.sign(g), rtol=1e-4)
print("first Adam step:", step, "  = lr * sign(g):", same)
assert same

a = 4.0
for lr in (0.499, 0.501):
    w = 1.0
    for _ in range(2000):
        w -= lr * a * w
    print(f"a = {a}, lr = {lr}: |w| after 2000 steps = {abs(w):.1e}", "(converges)" if abs(w) < 1 else "(diverges)")

# %% [markdown]
# ## 5 · The real thing: `vgglib.optim`
#
# `SGD(lr, momentum=0, weight_decay=0, nesterov=False)`, `Adagrad(lr=0.01, eps=1e-10)`,
# `RMSprop(lr=0.01, alpha=0.99, eps=1e-8, momentum=0)`, `Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0)` and `AdamW` (section 11) have `torch.optim`'s names, defaults and update rules, and update
# **in place**, so the arrays a layer holds stay the same objects (float32 stays float32).
# `optimizer.step(model)` walks `model.parameters()`; the per-parameter state (velocity, moments, step count)
# is keyed by the parameter's name and saved in checkpoints with `state_dict()`. Learning-rate **schedules**
# change `optimizer.lr` during training: `fit(..., schedule=CosineLR(1e-3))` sets it before every batch from the
# (fractional) epoch.

# %%
layer = FullyConnected(3, 2, rng=np.random.default_rng(0))
opt = Adam(1e-3)
before = layer.params["weights"]
layer.forward(np.ones((4, 3), dtype=np.float32))
layer.backward(np.ones((4, 2), dtype=np.float32))
opt.step([(layer.name, k, layer.params[k], layer.grads[k]) for k in layer.params])
print("same array object after the step:", layer.params["weights"] is before, "| dtype", before.dtype)
print("state kept per parameter:", {name: sorted(s) for name, s in opt.state_dict()["state"].items()})

epochs = np.linspace(0, 10, 201)
fig, ax = plt.subplots(figsize=(6, 2.6))
for schedule in (ConstantLR(1e-3), StepLR(1e-3, step_size=4), CosineLR(1e-3, warmup_epochs=1)):
    ax.plot(epochs, [schedule(e, 10) for e in epochs], label=repr(schedule))
ax.set(xlabel="epoch", ylabel="learning rate", title="schedules over a 10-epoch run")
ax.legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 6 · On a loss surface you can see
#
# A 2-D "ravine", $f(x, y) = \tfrac12 (x^2 + 50\, y^2)$: curvature 1 along $x$, 50 along $y$ (condition number
# 50), minimum at the origin, start at $(-5, 1)$. Plain SGD must keep $\eta < 2/50 = 0.04$ for the steep $y$
# direction, and then crawls along $x$ at $1 - \eta \approx 0.96$ per step. Each optimizer gets a learning rate
# that suits it; left the three of the title, right the adaptive ones:

# %%
panels = [{"SGD, lr 0.038": SGD(0.038), "momentum 0.9, lr 0.01": SGD(0.01, momentum=0.9), "Adam, lr 0.2": Adam(0.2)},
          {"AdaGrad, lr 1": Adagrad(1.0), "RMSProp, lr 0.1": RMSprop(0.1), "Adam, lr 0.2": Adam(0.2)}]
f = lambda p: 0.5 * (p[..., 0] ** 2 + 50 * p[..., 1] ** 2)  # noqa: E731
gx, gy = np.meshgrid(np.linspace(-6, 2, 200), np.linspace(-1.5, 1.5, 200))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
paths = {}
for ax, optimizers in zip(axes, panels):
    ax.contour(gx, gy, np.log1p(f(np.stack([gx, gy], axis=-1))), levels=20, cmap="Greys", linewidths=0.6)
    for name, path in optimizer_trajectories(optimizers, "ravine", steps=50).items():
        paths[name] = path
        color = next(c for k, c in COLORS.items() if name.lower().startswith(k.lower()))
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1.2, color=color, label=f"{name}: loss {f(path[-1]):.2g}")
    ax.plot(0, 0, "k*", ms=10)
    ax.set(xlabel="x (curvature 1)", title="50 steps from (-5, 1)")
    ax.legend(fontsize=7, loc="lower right")
axes[0].set_ylabel("y (curvature 50)")
plt.tight_layout()
plt.show()
for name, path in paths.items():
    print(f"{name:22} ends at ({path[-1, 0]:+.3f}, {path[-1, 1]:+.3f}), loss {f(path[-1]):.4f}")
assert max(f(paths["AdaGrad, lr 1"][-1]), f(paths["RMSProp, lr 0.1"][-1])) < 1e-3 < f(paths["Adam, lr 0.2"][-1])


# %% [markdown]
# Read the picture with the math of section 2: SGD zigzags across the valley (the factor $1 - 0.038\cdot 50 =
# -0.9$ along $y$) while crawling along it; momentum builds up speed along the valley floor — it overshoots
# and has to swing back, but gets much further; Adam first moves diagonally (both coordinates by about $\eta$
# per step: the *sign* of the gradient), then follows the valley. On the right, AdaGrad and RMSProp (their paths
# lie on top of each other) end almost at the minimum: dividing each coordinate's gradient by its own size
# undoes the 1 : 50 scaling of *this* ravine, whose steep and flat directions are the coordinate axes.
#
# That is luck, not a law. Turn the same ravine by 45° and each coordinate mixes the steep and the flat
# direction; the per-coordinate division can no longer undo the scaling. The cell below gives each optimizer
# the best of nine learning rates ($10^{-2}$ to 2) on the turned ravine, 50 steps from the turned start:

# %%
turn = np.array([[np.cos(np.pi / 4), -np.sin(np.pi / 4)], [np.sin(np.pi / 4), np.cos(np.pi / 4)]])
H = turn @ np.diag([1.0, 50.0]) @ turn.T                 # the Hessian of the turned ravine
grid = (0.01, 0.02, 0.038, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
makers_2d = {"SGD": SGD, "AdaGrad": Adagrad, "RMSProp": RMSprop}
turned = {}
for name, make in makers_2d.items():
    finals = []
    for lr in grid:
        p, opt2d = turn @ np.array([-5.0, 1.0]), make(lr)
        for _ in range(50):
            opt2d.step([("surface", "xy", p, H @ p)])
        finals.append(0.5 * p @ H @ p)
    turned[name] = (min(finals), grid[int(np.argmin(finals))])
    print(f"{name:8} turned ravine: best loss after 50 steps {turned[name][0]:.2f} (lr {turned[name][1]:g})")
assert turned["SGD"][0] < min(turned["AdaGrad"][0], turned["RMSProp"][0])

# %% [markdown]
# Now plain SGD is ahead of both adaptive methods. None of the optimizers is best everywhere: on a real network
# the question is which makes progress on the directions that matter. Try it yourself — the sliders set one
# learning rate for SGD, momentum and Adam, and the betas ($\beta_1$ is also the momentum $\mu$); the
# *rosenbrock* surface is a curved valley, harder still:

# %%
def make_optimizers(lr, beta1, beta2):
    return {"SGD": SGD(lr), "momentum": SGD(lr, momentum=beta1), "Adam": Adam(lr, betas=(beta1, beta2))}


optimizer_explorer(make_optimizers, lr=0.02, steps=50)

# %% [markdown]
# ## 7 · How large may momentum's learning rate be?
#
# Plain SGD diverges on the ravine as soon as $\eta > 2/50 = 0.04$: the steep direction ($a = 50$) sets the
# limit. Momentum makes the steps larger — up to ten times, by section 2 — so perhaps it needs a *smaller*
# learning rate to stay stable? Or does the damping of zigzags let it get away with a larger one?
#
# **Predict, then run.** With momentum $\mu = 0.9$ on the steep direction of the ravine ($a = 50$), what is the
# largest learning rate at which momentum still converges?

# %%
guess = None   # your prediction: a learning rate, e.g. 0.004

# %%
def momentum_diverges(lr, a=50.0, mu=0.9, steps=3000):
    '''Heavy-ball momentum on f(w) = a/2 w², from w = 1: does |w| end up larger than it started?'''
    w, v = 1.0, 0.0
    for _ in range(steps):
        v = mu * v + a * w
        w -= lr * v
        if abs(w) > 1e6:
            return True
    return abs(w) > 1


lo, hi = 0.0, 1.0                                  # bisection: lo converges, hi diverges
for _ in range(40):
    mid = (lo + hi) / 2
    lo, hi = (lo, mid) if momentum_diverges(mid) else (mid, hi)
largest = (lo + hi) / 2
reveal(guess, round(largest, 4), what="the bisection")
print(f"largest stable lr with momentum 0.9: {largest:.4f}, {largest / (2 / 50):.2f} times plain SGD's 2/a = 0.04")

# %% [markdown]
# **Derivation.** On $f(w) = \tfrac a2 w^2$ the gradient is $a w$, and one momentum step maps the pair
# $(w, v)$ linearly: $v' = \mu v + a w$, $w' = w - \eta v' = (1 - \eta a)\, w - \eta\mu\, v$, i.e.
#
# $$ \begin{pmatrix} w' \\ v' \end{pmatrix} = M \begin{pmatrix} w \\ v \end{pmatrix}, \qquad
#    M = \begin{pmatrix} 1 - \eta a & -\eta \mu \\ a & \mu \end{pmatrix}, \qquad
#    \det M = \mu, \quad \operatorname{tr} M = 1 + \mu - \eta a . $$
#
# The iteration converges iff both eigenvalues of $M$ lie inside the unit circle; they solve
# $\lambda^2 - (1 + \mu - \eta a)\lambda + \mu = 0$. For a real $2\times2$ matrix that holds iff
# $|\det M| < 1$ and $|\operatorname{tr} M| < 1 + \det M$ (the Jury conditions): $\mu < 1$, and
# $|1 + \mu - \eta a| < 1 + \mu$, that is
#
# $$ 0 < \eta\, a < 2\,(1 + \mu) . $$
#
# For $\mu = 0$ this is plain SGD's $\eta < 2/a$; for $\mu = 0.9$ the limit is $2 \cdot 1.9/50 = 0.076$ — the
# bisection's number. Momentum tolerates a learning rate $1 + \mu$ times larger than SGD, and on a flat
# direction multiplies it by another $1/(1 - \mu)$. The check: the spectral radius $\rho(M)$ (the largest
# $|\lambda|$, by how much $|w|$ shrinks per step in the long run) on a grid of $\eta a$, for several $\mu$:

# %%
def spectral_radius(eta_a, mu, a=1.0):
    M = np.array([[1 - eta_a, -eta_a / a * mu], [a, mu]])
    return np.abs(np.linalg.eigvals(M)).max()


eta_a = np.linspace(0.01, 4.5, 450)
fig, ax = plt.subplots(figsize=(7, 3))
for mu, color in ((0.0, COLORS["SGD"]), (0.5, "tab:cyan"), (0.9, COLORS["momentum"])):
    bound = 2 * (1 + mu)
    rho = np.array([spectral_radius(x, mu) for x in eta_a])
    away = np.abs(eta_a - bound) > 1e-6
    agree = np.array_equal((rho < 1)[away], (eta_a < bound)[away])
    print(f"mu = {mu}: rho(M) < 1 exactly where eta·a < 2(1 + mu) = {bound:.1f}: {agree}")
    assert agree
    ax.plot(eta_a, rho, color=color, label=f"μ = {mu}")
    assert rho.min() >= np.sqrt(mu) - 1e-9                     # |λ|² = det M = μ: never faster than √μ
    ax.axvline(bound, color=color, ls="--", lw=1)
ax.axhline(1, color="0.5", ls=":", lw=1)
ax.set(xlabel="η·a (learning rate × curvature)", ylabel="spectral radius ρ(M)", ylim=(0, 2),
       title="one momentum step on a/2·w²: stable where ρ < 1 (dashed: 2(1+μ))")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
bound = 2 * 1.9 / 50
print(f"bisection {largest:.6f} vs 2(1 + mu)/a = {bound:.6f}; for mu = 0.9 rho(M) >= sqrt(mu) = {np.sqrt(0.9):.3f}")
assert abs(largest - bound) < 1e-4

# %% [markdown]
# The curves also show the *speed*: for $\mu = 0.9$, $\rho$ never drops below $\sqrt{\mu} \approx 0.95$ — where
# the eigenvalues are complex, $|\lambda|^2 = \det M = \mu$ — so momentum trades the best-case speed on one
# direction for a much better worst case over all of them.
#
# **The same bound in the explorer.** The cell below builds a second copy of the explorer above (not shown),
# sets its sliders to 5% below and 5% above the bound with $\beta_1 = \mu = 0.9$ and 200 steps, and reads what
# it computed. Move the sliders above to these values and watch the orange path: just below, it spirals into
# the minimum; just above, it leaves the picture. SGD's limit, 0.04, is far below both.

# %%
probe = optimizer_explorer(make_optimizers, lr=0.02, beta1=0.9, steps=200)
start_loss = f(np.array([-5.0, 1.0]))
for factor in (0.95, 1.05):
    probe.controls["lr"].value = factor * bound
    final = probe.state["final_loss"]
    outcome = {name: "converges" if final[name] < 1e-3 * start_loss else "diverges" for name in ("SGD", "momentum")}
    print(f"lr = {probe.controls['lr'].value:.4f} ({factor:.2f} x bound): momentum {outcome['momentum']} "
          f"(loss {final['momentum']:.1e}), SGD {outcome['SGD']}")
    assert outcome["momentum"] == ("converges" if factor < 1 else "diverges") and outcome["SGD"] == "diverges"

# %% [markdown]
# ## 8 · Before comparing optimizers: a learning-rate sweep
#
# "Adam beats SGD" means nothing unless each had a learning rate that suits it. So first a **sweep**: every
# optimizer with nine learning rates from $10^{-4}$ to 1 (half a decade apart), on a small problem that takes
# seconds — a two-layer network (784 → 64 → 10) on 2,000 digits, 62 batches of 32, the same batches and the
# same initial weights in every run. The score is the mean loss of the last 10 batches.

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
X_train, y_train = load_mnist("train")
X_test, y_test = load_mnist("test")
X_small = to_float(X_train[:2000]).reshape(2000, -1)            # (2000, 784) float32 in [0, 1]
order = np.random.default_rng(0).permutation(2000)


def train_small(optimizer, steps=62, batch=32):
    r = np.random.default_rng(0)
    net = Sequential([FullyConnected(784, 64, rng=r, name="fc1"), ReLU(name="relu1"),
                      FullyConnected(64, 10, rng=r, name="fc2")])
    losses = []
    for k in range(steps):
        idx = order[k * batch:(k + 1) * batch]
        loss, dlogits = softmax_cross_entropy(net.forward(X_small[idx], training=True), y_train[idx])
        net.backward(dlogits)
        optimizer.step(net)
        losses.append(loss)
    return float(np.mean(losses[-10:]))


lrs = 10.0 ** np.arange(-4, 0.01, 0.5)
makers = {"SGD": lambda lr: SGD(lr), "momentum": lambda lr: SGD(lr, momentum=0.9), "Adam": lambda lr: Adam(lr)}
sweep = {name: np.array([train_small(make(lr)) for lr in lrs]) for name, make in makers.items()}
best = {name: lrs[np.nanargmin(s)] for name, s in sweep.items()}
for name, s in sweep.items():
    print(f"{name:8} loss at lr " + " ".join(f"{x:5.2f}" for x in s) + f"   best lr {best[name]:.2g}")
spread = max(s.min() for s in sweep.values()) - min(s.min() for s in sweep.values())
print(f"best losses {', '.join(f'{name} {s.min():.3f}' for name, s in sweep.items())}: spread {spread:.3f}")
assert best["Adam"] < best["momentum"] < best["SGD"] and spread < 0.05

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
for name, s in sweep.items():
    ax.semilogx(lrs, s, "o-", color=COLORS[name], label=f"{name} (best lr {best[name]:.2g})")
    ax.semilogx(best[name], np.nanmin(s), "*", color=COLORS[name], ms=12)
ax.axhline(np.log(10), color="0.5", ls=":", lw=1)
ax.set(xlabel="learning rate (log scale)", ylabel="loss, last 10 of 62 batches", ylim=(0, 3),
       title="a sweep per optimizer: 784-64-10 network, 2,000 digits")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Every curve is a valley: too small a learning rate barely leaves the starting loss ($\ln 10$, dotted), too
# large a one makes the loss climb back. The best learning rates differ by more than an order of magnitude —
# Adam's is the smallest, SGD's the largest, and momentum's lies between because it multiplies its steps by up
# to $1/(1 - \mu) = 10$ — but **at their best the three end within a few hundredths of each other** on this
# small, shallow problem (the spread printed above). At one shared learning rate, any of the three could be
# made to "win". So: never compare optimizers at one learning rate; compare each at its own best, or at least
# at a rate known to suit it — and on the problem itself, because the best rate depends on the network.

# %% [markdown]
# ## 9 · On a real network: the optimizers on one small VGG
#
# The same VGG16 at 1/8 width (8 filters in the first layer, 32×32 inputs, dropout off) — all 16 weight
# layers —, from the same initial weights, trained for one epoch over 2,000 sample digits. A full sweep on this
# network takes a while, so each optimizer runs at the rate customary for VGG-like networks — SGD 0.01,
# momentum 0.9 with 0.01, Adam 1e-3 — and SGD, the one that struggles, also at ten times its rate, in the
# direction section 8's sweep points. (`VGG_SWEEP = True` adds a rate three times lower and three times
# higher for every optimizer: seven more runs.) The loss of every batch is recorded.

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
VGG_SWEEP = False                        # True: every optimizer at three or more rates (seven more runs)
runs = {"SGD, lr 0.01": SGD(0.01), "SGD, lr 0.1": SGD(0.1), "momentum 0.9, lr 0.01": SGD(0.01, momentum=0.9),
        "Adam, lr 1e-3": Adam(1e-3)}
if VGG_SWEEP:
    for lr in (0.003, 0.03):
        runs[f"SGD, lr {lr:g}"] = SGD(lr)
        runs[f"momentum 0.9, lr {lr:g}"] = SGD(lr, momentum=0.9)
    runs["SGD, lr 0.3"] = SGD(0.3)
    for lr in (3e-4, 3e-3):
        runs[f"Adam, lr {lr:g}"] = Adam(lr)
results = {}
for name, optimizer in runs.items():
    model = VGG16(input_size=32, width=0.125, dropout=0.0, rng=np.random.default_rng(0))
    history = fit(model, (X_train[:2000], y_train[:2000]), epochs=1, batch_size=32, optimizer=optimizer, seed=0,
                  progress=False, verbose=False)
    results[name] = (history["batch_loss"], evaluate(model, X_test[:500], y_test[:500])["accuracy"])
    print(f"{name:22}: last 10 batches' mean loss {np.mean(history['batch_loss'][-10:]):.2f}, "
          f"test accuracy {100 * results[name][1]:.1f}% (500 test digits)")
last10 = {name: np.mean(losses[-10:]) for name, (losses, _) in results.items()}
assert last10["Adam, lr 1e-3"] + 0.5 < min(last10["SGD, lr 0.01"], last10["SGD, lr 0.1"])
assert last10["momentum 0.9, lr 0.01"] < last10["SGD, lr 0.01"]

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
customary = {"SGD": 0.01, "momentum": 0.01, "Adam": 1e-3}        # solid; dashed: a higher rate, dotted: lower
for name, (losses, acc) in results.items():
    kind, lr = name.split(" ")[0].rstrip(","), float(name.split("lr ")[1])
    color, ls = COLORS[kind], "-" if lr == customary[kind] else ("--" if lr > customary[kind] else ":")
    smooth = np.convolve(losses, np.ones(5) / 5, mode="valid")
    ax.plot(np.arange(len(losses)) + 1, losses, color=color, alpha=0.2)
    ax.plot(np.arange(len(smooth)) + 3, smooth, color=color, ls=ls, label=f"{name} (test {100 * acc:.0f}%)")
ax.axhline(np.log(10), color="0.5", ls=":", lw=1)
ax.set(xlabel="batch (32 images)", ylabel="training loss", title="one epoch of 2,000 digits, same start")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
print(f"{len(results['SGD, lr 0.01'][0])} batches per run")

# %% [markdown]
# All four start at the loss of a guess, about $\ln 10$ (dotted). Plain SGD barely moves in one epoch — and,
# unlike on the small network of section 8, ten times its learning rate does not rescue it. Momentum does a
# little better; Adam is far ahead. Why? The next section looks inside.

# %% [markdown]
# ## 10 · A diagnostic: per-layer gradients and update/weight ratios
#
# Is SGD slow because the early layers' gradients are tiny — the textbook story for deep networks? Measure them
# at the initial weights, on one batch of 32 digits. For every one of the 16 weight layers (13 convolutions, 3 fully connected) the cell prints the
# weights' and the gradient's rms (root mean square: the typical size of one entry) and norm
# $\lVert\cdot\rVert$ (the whole layer's), and the **update/weight ratio** $\lVert\Delta W\rVert/\lVert W\rVert$
# of one step: $\eta\,\lVert\partial L/\partial W\rVert/\lVert W\rVert$ for SGD, and for Adam's first step,
# which moves every weight by $\eta$ (section 4), about $\eta\sqrt{n}/\lVert W\rVert = \eta/\mathrm{rms}(W)$.
# A common rule of thumb (Karpathy's, in cs231n) wants this ratio near $10^{-3}$: much smaller and the layer
# learns nothing, much larger and it forgets what it had.

# %% tags=["nbval-ignore-output"]
# (float32 sums differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
model = VGG16(input_size=32, width=0.125, dropout=0.0, rng=np.random.default_rng(0))
logits = model.forward(model.prepare(X_train[:32]), training=True)
loss, dlogits = softmax_cross_entropy(logits, y_train[:32])
model.backward(dlogits, input_grad=False)


def rms(a):
    return float(np.sqrt(np.mean(np.square(a, dtype=np.float64))))


def norm(a):
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


rows = []
for layer in model.layers:
    if "weights" in getattr(layer, "params", {}):
        w, g = layer.params["weights"], layer.grads["weights"].astype(np.float64)
        adam_first = 1e-3 * g / (np.abs(g) + 1e-8)            # Adam's first step, exactly (section 2)
        rows.append((layer.name, w.size, rms(w), rms(g), norm(g), 0.01 * norm(g) / norm(w), 0.1 * norm(g) / norm(w),
                     norm(adam_first) / norm(w)))
names = [r[0] for r in rows]
stats = {r[0]: r[1:] for r in rows}
print(f"{'layer':8} {'weights':>8} {'rms W':>7} {'rms dW':>8} {'‖dW‖':>8} {'SGD 0.01':>9} {'SGD 0.1':>8} {'Adam':>8}")
for name, n, rw, rg, ng, r1, r2, ra in rows:
    print(f"{name:8} {n:8d} {rw:7.3f} {rg:8.1e} {ng:8.1e} {r1:9.0e} {r2:8.0e} {ra:8.0e}")
sgd_ratio = np.array([r[5] for r in rows])
hidden = [r[5] for r in rows if r[0] != "fc3"]
hidden_rows = [r for r in rows if r[0] != "fc3"]
print(f"{len(rows)} weight layers. rms gradient of the 15 hidden layers: largest in "
      f"{max(hidden_rows, key=lambda r: r[3])[0]}, smallest in {min(hidden_rows, key=lambda r: r[3])[0]}; "
      f"conv1_1's is {stats['conv1_1'][2] / stats['fc1'][2]:.0f}x fc1's; the output layer fc3's is "
      f"{stats['fc3'][2] / max(r[3] for r in hidden_rows):.0f}x the largest of them")
print(f"SGD at lr 0.01, update/weight ratio per step: median over the 16 layers {np.median(sgd_ratio):.1e}; "
      f"hidden layers {min(hidden):.0e} to {max(hidden):.0e}, fc3 {stats['fc3'][4]:.0e}")
n_steps = len(results["SGD, lr 0.01"][0])
span = max(r[5] for r in rows) / min(r[5] for r in rows)
print(f"the rule of thumb 1e-3 is {1e-3 / np.median(sgd_ratio):.0f}x the median; the layers' ratios span a factor "
      f"{span:.0f} (10^{np.log10(span):.1f}); in {n_steps} steps a hidden layer moves at most "
      f"{100 * n_steps * max(hidden):.1f}% of its size")
conv_01 = [r[6] for r in rows if r[0].startswith("conv")]
print(f"at lr 0.1: fc3 {stats['fc3'][5]:.0e} per step, the convolutions {min(conv_01):.0e} to {max(conv_01):.0e}")
adam_vs_sgd = [r[7] / r[5] for r in rows if r[0] != "fc3"]
print(f"Adam's first step relative to SGD's (lr 0.01), hidden layers: {min(adam_vs_sgd):.0f}x to {max(adam_vs_sgd):.0f}x")
assert len(rows) == 16 and stats["conv1_1"][2] > stats["fc1"][2] and max(hidden) < 1e-3
assert max(hidden_rows, key=lambda r: r[3])[0].startswith("conv1_")
assert {min(hidden_rows, key=lambda r: r[3])[0]} <= {"fc1", "fc2"}
assert 1e-4 < np.median(sgd_ratio) < 4e-4 and stats["fc3"][4] > 0.01 and span > 1000
assert max(conv_01) < 5e-3 and stats["fc3"][5] > 0.1
assert min(adam_vs_sgd) > 10

# %%
x = np.arange(len(rows))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
ax1.bar(x - 0.2, [r[3] for r in rows], 0.4, color="0.4", label="rms of ∂L/∂W (one entry)")
ax1.bar(x + 0.2, [r[4] for r in rows], 0.4, color="0.75", label="‖∂L/∂W‖ (the whole layer)")
ax1.set(yscale="log", ylabel="gradient size", title="gradients at initialisation, one batch of 32")
ax1.legend(fontsize=7)
for col, label, color, ls in ((5, "SGD, lr 0.01", COLORS["SGD"], "-"), (6, "SGD, lr 0.1", COLORS["SGD"], "--"),
                              (7, "Adam, lr 1e-3 (first step)", COLORS["Adam"], "-")):
    ax2.plot(x, [r[col] for r in rows], "o", ls=ls, color=color, ms=4, label=label)
ax2.axhline(1e-3, color="0.5", ls=":", lw=1, label="rule of thumb 1e-3")
ax2.set(yscale="log", ylabel="‖ΔW‖ / ‖W‖ per step", title="update/weight ratio of one step")
ax2.legend(fontsize=7)
for ax in (ax1, ax2):
    ax.set_xticks(x, names, rotation=90, fontsize=8)
    ax.set_xlabel("weight layer (input → output)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the table and the picture together.
#
# - **Gradients are not tiny in the early layers.** Per entry (rms), the weight gradients of the 15 hidden
#   layers are *largest* in the first convolutions and smallest in the hidden fully connected layers `fc1`,
#   `fc2`; only the output layer `fc3`, right at the loss, has larger ones. Per layer (norm), the big layers
#   have the big gradients simply because they have more entries. Neither says "vanishing".
# - **What is small is the step relative to the weights.** With SGD at $\eta = 0.01$ the update/weight ratio is
#   a few $10^{-4}$ per step for a typical layer (the median printed above), several times *below* the rule of
#   thumb, and `fc1`/`fc2` are lower still. In one epoch no hidden layer moves by more than the percent or two
#   printed above: the features stay the random ones of the initialisation.
# - **Why a larger $\eta$ does not help.** The ratios span more than three orders of magnitude across layers
#   (the factor printed above), and one $\eta$ scales them all: `fc3` (whose weights VGG16 scales down ten-fold
#   at initialisation, so that the loss starts at $\ln 10$) already moves by several percent per step at
#   $\eta = 0.01$; at $\eta = 0.1$ the classifier is thrown around — tens of percent per step — while the
#   convolutions still move by only a few thousandths: section 9's dashed curve. No single SGD learning rate
#   suits all 16 layers.
# - **Adam moves every weight by about $\eta$**, whatever its gradient: its ratio is $\eta/\mathrm{rms}(W)$,
#   tens to hundreds of times SGD's in every hidden layer. That is why it is the clear winner this early — and
#   why notebook 09 uses it. (With many epochs and a tuned schedule, SGD with momentum often catches up and
#   generalises as well or better; the VGG paper trained 74 epochs that way.)
#
# The ratio is a cheap diagnostic for any training run: print it per layer for the first few steps.

# %% [markdown]
# ## 11 · Weight decay: L2 regularisation is not decoupled decay
#
# **Weight decay** pulls the weights towards zero a little at every step — a regulariser, like dropout
# (notebook 10). There are two ways to write it:
#
# - **L2 regularisation** adds $\tfrac\lambda2\lVert\theta\rVert^2$ to the loss, so the gradient becomes
#   $g + \lambda\theta$ and the optimizer does the rest (`SGD(weight_decay=λ)`, `Adam(weight_decay=λ)`, as in
#   `torch.optim`);
# - **decoupled weight decay** (Loshchilov & Hutter, 2019) shrinks the weights directly,
#   $\theta \leftarrow \theta - \eta\lambda\theta$, and gives the optimizer the loss gradient $g$ alone.
#   For Adam this is **AdamW**: $\theta_t = \theta_{t-1} - \eta\lambda\,\theta_{t-1} - \eta\,\hat m_t/(\sqrt{\hat v_t}
#   + \epsilon)$, with $m$ and $v$ averaging the plain gradient (`vgglib.optim.AdamW`, `torch.optim.AdamW`).
#
# For SGD the two are the same: $\theta - \eta(g + \lambda\theta) = \theta - \eta\lambda\theta - \eta g$.
# For Adam they are not: the decay term $\lambda\theta$ inside $g$ is divided by $\sqrt{\hat v}$ like the rest.
# A weight with large, noisy gradients ($\sqrt{\hat v} \gg \lambda|\theta|$) is then hardly decayed at all; a
# weight whose loss gradient is tiny has $\hat m/\sqrt{\hat v} \approx \operatorname{sign}(\theta)$ and is pulled
# to zero by a full $\eta$ per step, however small $\lambda$ is. The experiment: three groups of 1,000 weights,
# all starting at 1, whose loss gradients are pure noise (the loss does not care about their values) of standard
# deviation 0.01, 1 and 100. Both optimizers run 500 steps with $\eta = 0.01$, $\lambda = 0.1$; decay alone
# would leave every weight at $(1 - \eta\lambda)^{500}$.

# %%
sigma = np.array([0.01, 1.0, 100.0])
lr, lam, T = 0.01, 0.1, 500
mean_after = {}
for name, optimizer in (("Adam, L2 (weight_decay)", Adam(lr, weight_decay=lam)),
                        ("AdamW (decoupled)", AdamW(lr, weight_decay=lam))):
    noise = np.random.default_rng(0)
    p = np.ones((3, 1000))
    for _ in range(T):
        optimizer.step([("w", "w", p, sigma[:, None] * noise.standard_normal(p.shape))])
    mean_after[name] = p.mean(axis=1)
decay_only = (1 - lr * lam) ** T
print(f"mean weight after {T} steps; decay alone: (1 - lr·λ)^{T} = {decay_only:.3f}")
print(f"{'gradient noise std':>26}" + "".join(f"{s:>9g}" for s in sigma))
for name, m in mean_after.items():
    print(f"{name:>26}" + "".join(f"{v:9.3f}" for v in m))
assert np.allclose(mean_after["AdamW (decoupled)"], decay_only, atol=0.02)
l2 = mean_after["Adam, L2 (weight_decay)"]
assert l2[0] < 0.05 and abs(l2[1] - decay_only) < 0.02 and l2[2] > 0.95

p_l2, p_dec, noise = np.ones(5), np.ones(5), np.random.default_rng(1)
sgd_l2 = SGD(0.1, weight_decay=0.5)
for _ in range(20):
    g = noise.standard_normal(5)
    sgd_l2.step([("w", "w", p_l2, g)])
    p_dec = p_dec - 0.1 * 0.5 * p_dec - 0.1 * g                # decoupled decay, then the plain SGD step
print("SGD: L2 and decoupled decay give the same weights after 20 steps (to 1e-12):",
      np.allclose(p_l2, p_dec, rtol=0, atol=1e-12))
assert np.allclose(p_l2, p_dec, rtol=0, atol=1e-12)

# %% [markdown]
# With L2, how much a weight decays depends on the size of its gradient — by orders of magnitude: the quiet
# weights are wiped out, the noisy ones barely touched. With AdamW every group decays by the same factor, the
# one $\lambda$ asks for. This is why AdamW, not Adam with `weight_decay`, is the usual choice when Adam is
# combined with weight decay.

# %% [markdown]
# ## 12 · A note on batch normalisation
#
# VGG16 (2014) was trained without **batch normalisation** (Ioffe & Szegedy, 2015) — it did not exist yet. Deep
# plain networks were then hard to start: the VGG authors first trained their shallowest configuration and
# initialised the deeper ones partly from it (noting after submission that Glorot's random initialisation
# works without this pre-training). Notebook 03 is exactly this problem: keep the signal's size the same
# through 16 weight layers by the choice of the initial weights alone (He's initialisation, there).
#
# Batch normalisation solves it inside the network. After a convolution it normalises every channel over the
# batch and the spatial positions, then rescales with two learned parameters per channel:
#
# $$ \hat x = \frac{x - \mu_{\text{batch}}}{\sqrt{\sigma^2_{\text{batch}} + \epsilon}}, \qquad y = \gamma\,\hat x + \beta . $$
#
# What it changes: every layer's output is normalised whatever the scale of the weights before it, so the
# signal keeps its size through all 16 layers without a careful initialisation; the loss becomes better
# conditioned, so larger learning rates are stable and training is much faster. The price: a network that
# behaves differently in training (batch statistics) and at test time (running averages, like dropout's two
# modes), results that depend on the batch size, and an interplay with weight decay (with scale-invariant
# weights, decay mainly raises the effective learning rate). `torchvision`'s `vgg16_bn` is VGG16 with a batch
# norm after every convolution. `vgglib` does not implement it: this series follows the original network.

# %% [markdown]
# ## 13 · Spot the bug: Adam without the bias correction
#
# A common slip is to leave out the two divisions by $1 - \beta^t$. The first step then is
# $\eta\,(1 - \beta_1) g / \sqrt{(1 - \beta_2) g^2} = \eta \cdot 0.1/0.0316 \approx 3.16\,\eta$ — three times the
# step that Adam promises, at the very moment the weights are random and the gradients largest — and the next
# steps grow further, because $v$'s bias ($1 - 0.999^t$) fades much more slowly than $m$'s ($1 - 0.9^t$): with
# a steady gradient the step is $\eta\,(1 - 0.9^t)/\sqrt{1 - 0.999^t}$, more than $6\eta$ after a dozen steps,
# and back to $\eta$ only after thousands of steps (the cell prints where). Had only $m$ been corrected, the
# first step would be $\eta/\sqrt{1 - \beta_2} \approx 32\,\eta$. The check of section 4, "the first step is
# $\eta\,\operatorname{sign}(g)$", fails at once:

# %%
def adam_step_no_correction(p, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    return p - lr * state["m"] / (np.sqrt(state["v"]) + eps)


g = np.array([0.5, -2.0])
for name, step_fn in (("with correction", adam_step), ("without", adam_step_no_correction)):
    state, p, sizes = {}, np.zeros(2), []
    for t in range(5):
        new = step_fn(p, g, state, lr=0.01)
        sizes.append(np.abs(new - p).max() / 0.01)
        p = new
    print(f"{name:16} step sizes in units of lr, steps 1-5: {np.round(sizes, 2)}")
steady_t = np.arange(1, 5001)
uncorrected = (1 - 0.9 ** steady_t) / np.sqrt(1 - 0.999 ** steady_t)
print(f"steady gradient, no correction: largest step {uncorrected.max():.2f} lr at t = {uncorrected.argmax() + 1}; "
      f"back below 1.01 lr from t = {np.argmax((uncorrected < 1.01) & (steady_t > 100)) + 1}")
m1, v1 = (1 - 0.9) * 0.5, (1 - 0.999) * 0.5 ** 2                  # after one gradient g = 0.5
print(f"first step with only m corrected: {(m1 / (1 - 0.9)) / np.sqrt(v1):.1f} lr "
      f"(= 1/sqrt(1 - beta2) = {1 / np.sqrt(1 - 0.999):.1f})")

# %% [markdown]
# The seed's own optimizer had a quieter problem: plain SGD with a fixed per-layer rate, which sections 9 and 10
# show to be the slowest way to train a deep network from scratch — part of why the seed found its VGG16 "very
# slow to train".
#
# ## Summary
#
# | optimizer | update | state per parameter | remarks |
# |---|---|---|---|
# | SGD | $\theta \leftarrow \theta - \eta g$ | none | stable iff $\eta < 2/a_{\max}$; slow when $\kappa = a_{\max}/a_{\min}$ is large |
# | momentum | $v \leftarrow \mu v + g,\ \theta \leftarrow \theta - \eta v$ | $v$ | stable iff $\eta a_{\max} < 2(1+\mu)$; steady slope: step $\eta/(1-\mu)$; zigzag damped to $1/(1+\mu)$ |
# | AdaGrad | $s \leftarrow s + g^2,\ \theta \leftarrow \theta - \eta g/(\sqrt s + \epsilon)$ | $s$ | per-parameter step; steady gradient: $\eta/\sqrt t$, slows for ever |
# | RMSProp | $s \leftarrow \alpha s + (1-\alpha) g^2$, same step | $s$ | forgets old gradients; first steps $1/\sqrt{1-\alpha}$ too large |
# | Adam | $m, v$ averages of $g, g^2$; $\theta \leftarrow \theta - \eta\,\hat m/(\sqrt{\hat v} + \epsilon)$ | $m, v, t$ | bias correction $1/(1-\beta^t)$; first step $\eta\,\operatorname{sign}(g)$; ~$\eta$ per step per parameter |
# | AdamW | $\theta \leftarrow \theta - \eta\lambda\theta$, then Adam's step on $g$ alone | $m, v, t$ | decoupled weight decay; L2 (`weight_decay` in Adam) is rescaled by $\sqrt{\hat v}$ |
# | diagnostics | lr sweep per optimizer; update/weight ratio $\lVert\Delta W\rVert/\lVert W\rVert$ per layer | — | compare optimizers each at its best lr; ratio ~$10^{-3}$ is healthy |
# | schedules | $\eta(\text{epoch})$: constant, step, cosine | — | `fit(..., schedule=CosineLR(1e-3))` |
# | in vgglib | `SGD`, `Adagrad`, `RMSprop`, `Adam`, `AdamW`; `opt.step(model)` | `opt.state_dict()` | torch.optim's semantics; in place; saved in checkpoints |
#
# Next: **12 · Data augmentation** — more training data for free, and which kinds are wrong for digits.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/11_optimizers_sgd_momentum_adam_solutions.ipynb`.
#
# **Exercise 1 (easy).** Gradient descent on $f(w) = 5w^2$. Above which learning rate does it stop converging?

# %% tags=["exercise-1"]
answer = None   # your answer: a number
check_largest_stable_lr(answer)

# %% [markdown]
# **Exercise 2 (medium).** SGD with momentum $\mu = 0.95$ walks down a long slope where the gradient is the same
# at every step. In the long run, how many times larger is its step than plain SGD's with the same learning
# rate?

# %% tags=["exercise-2"]
answer = None   # your answer: a number
check_momentum_speedup(answer)


# %% [markdown]
# **Exercise 3 (harder).** Write one step of **AdamW** (section 11) as a pure function: it receives the parameter
# `p`, gradient `g`, moments `m` and `v` (arrays of `p`'s shape), the step number `t` (1 for the first step),
# the hyperparameters and the decay strength `weight_decay`, and returns the new `(p, m, v)`. Decoupled decay:
# the weights shrink by $\eta\lambda\theta$ (with $\theta$ the weights *before* this step), and the moments
# average the gradient `g` alone. Do not use `vgglib.optim`.

# %% tags=["exercise-3"]
def my_adamw_step(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    '''One AdamW step; t counts from 1. Returns (p, m, v).'''
    raise NotImplementedError


check_adamw_step(my_adamw_step)
