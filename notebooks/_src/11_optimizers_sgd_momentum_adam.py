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
# **Adam**. This notebook derives all three, watches them on a 2-D loss surface where every step can be seen,
# and then lets them train the same small VGG.
#
# **Learning goals** — after this notebook you can
#
# - derive when gradient descent on a quadratic converges ($0 < \eta < 2/a$) and why an elongated valley makes
#   it slow;
# - write momentum as an exponential average of gradients and compute its effective step size $\eta/(1-\mu)$;
# - derive Adam's bias correction and explain why its first step is $\eta\cdot\operatorname{sign}(g)$;
# - use `vgglib.optim` (`SGD`, `Adam`, schedules) and check it against your own implementation;
# - compare the three on a real network and read the curves.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import FullyConnected
from vgglib.mnist import load_mnist
from vgglib.exercises import check_adam_step, check_largest_stable_lr, check_momentum_speedup
from vgglib.losses import softmax_cross_entropy
from vgglib.model import VGG16
from vgglib.optim import SGD, Adam, ConstantLR, CosineLR, StepLR
from vgglib.train import evaluate, fit
from vgglib.widgets import optimizer_explorer, optimizer_trajectories

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)

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
# Deep networks have badly conditioned losses — that is what momentum and Adam are for.
#
# ### Momentum
# Keep a **velocity** $v$ (one per parameter, initially 0) that accumulates gradients, and step along it
# (the form PyTorch and `vgglib.optim.SGD` use; $\mu \in [0, 1)$):
#
# $$ v_t = \mu\, v_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, v_t . $$
#
# Unrolling the recursion, $v_t = g_t + \mu g_{t-1} + \mu^2 g_{t-2} + \dots = \sum_{k=0}^{t-1} \mu^k g_{t-k}$:
# an exponentially weighted sum of past gradients. Two cases explain everything:
#
# - a **steady** gradient $g$ (a long gentle slope): $v \to g\,(1 + \mu + \mu^2 + \dots) = g/(1 - \mu)$, so the
#   step grows to $\eta/(1-\mu)$ — ten times larger for $\mu = 0.9$;
# - an **alternating** gradient $+g, -g, +g, \dots$ (zigzag across a narrow valley): $v \to g\,(1 - \mu + \mu^2
#   - \dots) = g/(1 + \mu)$ — the oscillation is damped.
#
# ### Adam
# Adam keeps two exponential averages per parameter, of the gradient and of its element-wise square
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
# ($1 - 0.999^t$ is still only 0.63 after 1000 steps).
#
# **What the step looks like.** $\hat m/\sqrt{\hat v}$ is a signal-to-noise ratio per parameter: close to
# $\pm 1$ when a parameter's gradient keeps its sign, small when it flips around. So every parameter moves
# about $\eta$ per step when its gradient is consistent — whatever the gradient's size. That is why one
# learning rate (1e-3) works for layers whose gradients differ by orders of magnitude. At $t = 1$:
# $\hat m_1 = g_1$, $\hat v_1 = g_1^2$, and the step is exactly $\eta\, g_1/(|g_1| + \epsilon) \approx
# \eta\,\operatorname{sign}(g_1)$.

# %% [markdown]
# ## 3 · Naive code: the three update rules
#
# Each function takes a parameter array, its gradient and a state dict, and returns the new parameter — the
# formulas above, line by line.

# %%
def sgd_step(p, g, state, lr):
    return p - lr * g


def momentum_step(p, g, state, lr, mu=0.9):
    state["v"] = mu * state.get("v", 0.0) + g
    return p - lr * state["v"]


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
# 2. **Adam's first step** is $\eta\,\operatorname{sign}(g)$, for gradients of any size — this is what catches a
#    missing bias correction (section 8).
# 3. **The stability limit** $2/a$: just below it gradient descent converges, just above it diverges.

# %%
rng = np.random.default_rng(0)
grads = rng.standard_normal((50, 3, 4))
start = rng.standard_normal((3, 4))

cases = {"SGD": (SGD(0.1), lambda p, g, s: sgd_step(p, g, s, 0.1)),
         "momentum": (SGD(0.1, momentum=0.9), lambda p, g, s: momentum_step(p, g, s, 0.1, 0.9)),
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
# `SGD(lr, momentum=0, weight_decay=0, nesterov=False)` and `Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
# weight_decay=0)` update **in place**, so the arrays a layer holds stay the same objects (float32 stays
# float32). `optimizer.step(model)` walks `model.parameters()`; the per-parameter state (velocity, moments,
# step count) is keyed by the parameter's name and saved in checkpoints with `state_dict()`. Learning-rate
# **schedules** change `optimizer.lr` during training: `fit(..., schedule=CosineLR(1e-3))` sets it before every
# batch from the (fractional) epoch.

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
# that suits it:

# %%
optimizers = {"SGD, lr 0.038": SGD(0.038), "momentum 0.9, lr 0.01": SGD(0.01, momentum=0.9),
              "Adam, lr 0.2": Adam(0.2)}
paths = optimizer_trajectories(optimizers, "ravine", steps=50)

f = lambda p: 0.5 * (p[..., 0] ** 2 + 50 * p[..., 1] ** 2)  # noqa: E731
gx, gy = np.meshgrid(np.linspace(-6, 2, 200), np.linspace(-1.5, 1.5, 200))
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.contour(gx, gy, np.log1p(f(np.stack([gx, gy], axis=-1))), levels=20, cmap="Greys", linewidths=0.6)
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1.2, label=f"{name}: loss {f(path[-1]):.2f} after 50 steps")
ax.plot(0, 0, "r*", ms=10)
ax.legend(fontsize=8, loc="lower right")
plt.tight_layout()
plt.show()
for name, path in paths.items():
    print(f"{name:22} ends at ({path[-1, 0]:+.3f}, {path[-1, 1]:+.3f}), loss {f(path[-1]):.3f}")


# %% [markdown]
# Read the picture with the math of section 2: SGD zigzags across the valley (the factor $1 - 0.038\cdot 50 =
# -0.9$ along $y$) while crawling along it; momentum builds up speed along the valley floor — it overshoots
# and has to swing back, but gets much further; Adam first moves diagonally (both coordinates by about $\eta$
# per step: the *sign* of the gradient), then follows the valley. None of them is best everywhere: on a real
# network the question is which makes progress on the directions that matter. Try it yourself — the sliders
# set one learning rate for all three and the betas ($\beta_1$ is also the momentum $\mu$); the *rosenbrock*
# surface is a curved valley, harder still:

# %%
def make_optimizers(lr, beta1, beta2):
    return {"SGD": SGD(lr), "momentum": SGD(lr, momentum=beta1), "Adam": Adam(lr, betas=(beta1, beta2))}


optimizer_explorer(make_optimizers, lr=0.02, steps=50)

# %% [markdown]
# ## 7 · On a real network: three optimizers, one small VGG
#
# The same VGG16 at 1/8 width (8 filters in the first layer, 32×32 inputs, dropout off), from the same initial
# weights, trained for one epoch over 2,000 sample digits with each optimizer at its customary learning rate:
# SGD 0.01, momentum 0.9 with 0.01, Adam 1e-3. The loss of every batch is recorded (a few seconds per run).

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
X_train, y_train = load_mnist("train")
X_test, y_test = load_mnist("test")
runs = {"SGD, lr 0.01": SGD(0.01), "momentum 0.9, lr 0.01": SGD(0.01, momentum=0.9), "Adam, lr 1e-3": Adam(1e-3)}
results = {}
for name, optimizer in runs.items():
    model = VGG16(input_size=32, width=0.125, dropout=0.0, rng=np.random.default_rng(0))
    history = fit(model, (X_train[:2000], y_train[:2000]), epochs=1, batch_size=32, optimizer=optimizer, seed=0,
                  progress=False, verbose=False)
    results[name] = (history["batch_loss"], evaluate(model, X_test[:500], y_test[:500])["accuracy"])
    print(f"{name:22}: last 10 batches' mean loss {np.mean(history['batch_loss'][-10:]):.2f}, "
          f"test accuracy {100 * results[name][1]:.1f}% (500 test digits)")
assert np.mean(results["Adam, lr 1e-3"][0][-10:]) < np.mean(results["SGD, lr 0.01"][0][-10:])

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
for name, (losses, acc) in results.items():
    smooth = np.convolve(losses, np.ones(5) / 5, mode="valid")
    ax.plot(np.arange(len(losses)) + 1, losses, alpha=0.25)
    ax.plot(np.arange(len(smooth)) + 3, smooth, color=ax.get_lines()[-1].get_color(),
            label=f"{name} (test {100 * acc:.0f}%)")
ax.axhline(np.log(10), color="0.5", ls=":", lw=1)
ax.set(xlabel="batch (32 images)", ylabel="training loss", title="one epoch of 2,000 digits, same start")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# All three start at the loss of a guess, about $\ln 10$ (dotted). Plain SGD barely moves in 63 steps. Why?
# Not because the early layers' gradients are tiny: measure them at the initial weights, on one batch of 32
# digits. For every weight layer of this 16-weight-layer network (13 convolutions, 3 fully connected) the cell
# prints the rms of the weights $W$ and of their gradient $\partial L/\partial W$, and the size of one step
# relative to the weights: $\eta\,\mathrm{rms}(\partial L/\partial W)/\mathrm{rms}(W)$ for SGD, and about
# $\eta/\mathrm{rms}(W)$ for Adam (whose first step moves every weight by $\eta$, section 4):

# %% tags=["nbval-ignore-output"]
# (float32 sums differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
model = VGG16(input_size=32, width=0.125, dropout=0.0, rng=np.random.default_rng(0))
logits = model.forward(model.prepare(X_train[:32]), training=True)
loss, dlogits = softmax_cross_entropy(logits, y_train[:32])
model.backward(dlogits, input_grad=False)


def rms(a):
    return float(np.sqrt(np.mean(np.square(a, dtype=np.float64))))


stats = {}
print(f"{'layer':8} {'rms W':>7} {'rms dL/dW':>10} {'SGD 0.01 step/W':>16} {'Adam 1e-3 step/W':>17}")
for layer in model.layers:
    if "weights" in getattr(layer, "params", {}):
        w, g = layer.params["weights"], layer.grads["weights"]
        stats[layer.name] = (rms(w), rms(g), 0.01 * rms(g) / rms(w), 1e-3 / rms(w))
        print(f"{layer.name:8} {rms(w):7.3f} {rms(g):10.1e} {stats[layer.name][2]:16.0e} {stats[layer.name][3]:17.0e}")
sgd_ratio = {name: v[2] for name, v in stats.items()}
hidden = [v for name, v in sgd_ratio.items() if name != "fc3"]
print(f"{len(stats)} weight layers; conv1_1's gradient is {stats['conv1_1'][1] / stats['fc1'][1]:.0f}x fc1's; "
      f"SGD moves every layer but fc3 by {min(hidden):.0e} to {max(hidden):.0e} of its size per step, "
      f"at most {100 * 63 * max(hidden):.1f}% in 63 steps")
adam_vs_sgd = [v[3] / v[2] for name, v in stats.items() if name != "fc3"]
print(f"Adam's first step relative to SGD's, hidden layers: {min(adam_vs_sgd):.0f}x to {max(adam_vs_sgd):.0f}x")
assert len(stats) == 16 and stats["conv1_1"][1] > stats["fc1"][1] and max(hidden) < 1e-3
assert min(adam_vs_sgd) > 10


# %% [markdown]
# The weight gradients are *largest* in the first two convolutions and smallest in the hidden fully connected
# layers (`fc1`, `fc2`) — the opposite of "tiny gradients in the early layers". What is small everywhere is the
# **step relative to the weights**: with SGD at $\eta = 0.01$ one step changes each convolution by one to three
# parts in $10^4$, and `fc1` and `fc2` by less than one, so in 63 steps no hidden layer moves by more than the
# percent or two printed above — the features stay the random ones of the
# initialisation, and only `fc3` (whose weights VGG16 scales down ten-fold at initialisation, so that the loss
# starts at $\ln 10$) changes noticeably. A larger $\eta$ would help the hidden layers, but the same $\eta$ also
# multiplies the classifier's much larger relative step. Momentum's ten-fold effective step helps. Adam's step
# does not depend on the gradient's size at all: about $\eta = 10^{-3}$ per weight, tens to hundreds of times
# SGD's relative step in every hidden layer (the last two columns, and the ratio printed below them). That is
# why it is the clear winner this early — and why notebook 09 uses it. (With many epochs and a tuned schedule, SGD with momentum often catches up and
# generalises as well or better; the VGG paper trained 74 epochs that way.)

# %% [markdown]
# ## 8 · Spot the bug: Adam without the bias correction
#
# A common slip is to leave out the two divisions by $1 - \beta^t$. The first step then is
# $\eta\,(1 - \beta_1) g / \sqrt{(1 - \beta_2) g^2} = \eta \cdot 0.1/0.0316 \approx 3.16\,\eta$ — three times the
# step that Adam promises, at the very moment the weights are random and the gradients largest — and the next
# steps grow further, because $v$'s bias ($1 - 0.999^t$) fades much more slowly than $m$'s ($1 - 0.9^t$): with
# a steady gradient the step is $\eta\,(1 - 0.9^t)/\sqrt{1 - 0.999^t}$, over $6\eta$ around $t = 20$, and
# back to $\eta$ only after thousands of steps. (Had only $m$ been corrected, the first step would be 30 times
# too large.) The check of section 4, "the first step is $\eta\,\operatorname{sign}(g)$", fails at once:

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

# %% [markdown]
# The seed's own optimizer had a quieter problem: plain SGD with a fixed per-layer rate, which section 7 shows
# to be the slowest way to train a deep network from scratch — part of why the seed found its VGG16 "very slow
# to train".
#
# ## Summary
#
# | optimizer | update | state per parameter | remarks |
# |---|---|---|---|
# | SGD | $\theta \leftarrow \theta - \eta g$ | none | stable iff $\eta < 2/a_{\max}$; slow when $\kappa = a_{\max}/a_{\min}$ is large |
# | momentum | $v \leftarrow \mu v + g,\ \theta \leftarrow \theta - \eta v$ | $v$ | steady slope: step $\eta/(1-\mu)$; zigzag damped to $1/(1+\mu)$ |
# | Adam | $m, v$ averages of $g, g^2$; $\theta \leftarrow \theta - \eta\,\hat m/(\sqrt{\hat v} + \epsilon)$ | $m, v, t$ | bias correction $1/(1-\beta^t)$; first step $\eta\,\operatorname{sign}(g)$; ~$\eta$ per step per parameter |
# | schedules | $\eta(\text{epoch})$: constant, step, cosine | — | `fit(..., schedule=CosineLR(1e-3))` |
# | in vgglib | `SGD(lr, momentum)`, `Adam(lr, betas)`; `opt.step(model)` | `opt.state_dict()` | in place; saved in checkpoints |
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
# **Exercise 3 (harder).** Write one Adam step as a pure function: it receives the parameter `p`, gradient `g`,
# moments `m` and `v` (arrays of `p`'s shape), the step number `t` (1 for the first step) and the
# hyperparameters, and returns the new `(p, m, v)`. Do not use `vgglib.optim`.

# %% tags=["exercise-3"]
def my_adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
    '''One Adam step; t counts from 1. Returns (p, m, v).'''
    raise NotImplementedError


check_adam_step(my_adam_step)
