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
# # 10 · Dropout
#
# VGG16 has two **dropout** layers, one after each of its two big hidden fully connected layers (`fc1`, `fc2`,
# 4096 units each in the original). During training each of them switches off every unit at random with
# probability $p = 0.5$, a fresh choice for every image and every step; at test time they do nothing. A network
# that can never rely on one particular unit has to spread what it knows over many — and overfits less.
#
# The seed project had a dropout layer too — after the **softmax**, where it turns probabilities into numbers
# that no longer sum to one and sometimes zeroes the probability of the right answer. Section 6 shows what that
# does to the loss.
#
# **Learning goals** — after this notebook you can
#
# - write inverted dropout for a batch and derive why survivors are scaled by $1/(1-p)$;
# - derive its backward pass, $dx = dy \odot m/(1-p)$, and check it numerically with a frozen mask;
# - say what changes between training and test mode, and why the test mode needs no rescaling;
# - explain why dropout belongs after hidden layers and never after the softmax;
# - see dropout reduce overfitting in a small experiment, and explore masks interactively;
# - transfer the idea to whole feature maps (channel dropout, exercise 3).

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

import vgglib
from vgglib import Dropout, Flatten, FullyConnected, ReLU, numerical_gradient, relative_error
from vgglib.gradcheck import magnitude
from vgglib.mnist import load_mnist
from vgglib.preprocess import to_float
from vgglib.exercises import check_channel_dropout, check_dropout_scale, check_dropout_variance, reveal
from vgglib.losses import softmax, softmax_cross_entropy
from vgglib.model import Sequential, vgg16_layer_configs
from vgglib.optim import Adam
from vgglib.train import evaluate, fit
from vgglib.viz import IMAGE_CMAP, digit_color
from vgglib.widgets import dropout_explorer

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)


# %% [markdown]
# ## 1 · By hand: four units, one coin per unit
#
# Take the activations $x = (1, 2, 3, 4)$ of four hidden units and $p = 0.5$. Toss a coin for every unit: keep
# it with probability $1 - p$, drop it (set it to 0) with probability $p$. Say the coins give the **mask**
# $m = (1, 0, 1, 0)$. Plain masking gives $x \odot m = (1, 0, 3, 0)$ — on average half of every activation
# disappears, so the next layer would see inputs half as large as at test time, when all units are on.
# **Inverted dropout** repairs that during training by scaling the survivors by $1/(1-p) = 2$:
#
# $$ y = \frac{x \odot m}{1 - p} = (2, 0, 6, 0). $$
#
# Averaged over all 16 possible masks, unit 3 is kept in half of them, so $\mathbb{E}[y_3] = \tfrac12 \cdot 6 +
# \tfrac12 \cdot 0 = 3 = x_3$: the expected output equals the input, for every unit.

# %%
x = np.array([1.0, 2.0, 3.0, 4.0])
p = 0.5
m = np.array([1, 0, 1, 0])
print("x * m           =", x * m)
print("x * m / (1 - p) =", x * m / (1 - p))

# all 2^4 masks are equally likely for p = 0.5: their average output is exactly x
masks = np.array([[(k >> i) & 1 for i in range(4)] for k in range(16)])
mean_y = (x * masks / (1 - p)).mean(axis=0)
print("mean over all 16 masks:", mean_y)
assert np.array_equal(mean_y, x)


# %% [markdown]
# ## 2 · The math
#
# **Forward (training).** For an activation array $x$ of any shape — $(N, D)$ after a fully connected layer,
# $(N, C, H, W)$ for feature maps — draw one independent mask entry per element,
#
# $$ m_i \sim \text{Bernoulli}(1 - p), \qquad y_i = \frac{m_i\, x_i}{1 - p}, \qquad x, m, y \text{ all of } x\text{'s shape}. $$
#
# **Why $1/(1-p)$.** $m_i$ is 1 with probability $1-p$ and 0 otherwise, so
#
# $$ \mathbb{E}[y_i] = (1 - p)\cdot\frac{x_i}{1 - p} + p \cdot 0 = x_i . $$
#
# Any other scale $s$ gives $\mathbb{E}[y_i] = s(1-p)\,x_i \ne x_i$, and the layer after dropout would be
# trained on inputs of one size and tested on inputs of another. The original dropout paper (Srivastava et al.,
# 2014) scaled the *weights* by $1-p$ at test time instead; inverted dropout moves the scale into training,
# so that the test mode is simply the identity — nothing to remember when the network is used.
#
# **The price: noise.** The mean is right, but each output is noisy:
# $\mathbb{E}[y_i^2] = (1-p)\,x_i^2/(1-p)^2 = x_i^2/(1-p)$, so
#
# $$ \operatorname{Var}[y_i] = \mathbb{E}[y_i^2] - \mathbb{E}[y_i]^2 = x_i^2\,\frac{p}{1 - p}, $$
#
# zero for $p = 0$, $x_i^2$ for $p = 0.5$, unbounded as $p \to 1$ (which is why $p < 1$ is required).
#
# **Test mode.** $y = x$. No mask, no scale.
#
# **Backward.** With the mask fixed, $y_i$ is a linear function of $x_i$ alone:
# $\partial y_i/\partial x_j = \delta_{ij}\, m_i/(1-p)$. The chain rule sums over the outputs, and only $i = j$
# survives:
#
# $$ \frac{\partial L}{\partial x_j} = \sum_i \frac{\partial L}{\partial y_i}\frac{\partial y_i}{\partial x_j}
#    = \frac{\partial L}{\partial y_j}\,\frac{m_j}{1 - p}, \qquad dx = dy \odot \frac{m}{1 - p}
#    \quad (\text{shape of } x). $$
#
# A dropped unit passes no gradient back: for this step it is not part of the network. Dropout has no
# parameters, so there is nothing else to compute.

# %% [markdown]
# ## 3 · Naive code: one coin per element
#
# The formula as a loop over every element. The random numbers are drawn one at a time, in the same order as
# numpy fills an array (row-major), so a generator with the same seed gives the library's mask exactly.

# %%
def dropout_forward_naive(x, p, rng):
    '''Inverted dropout, training mode: x (any shape) -> (y, scaled mask), both of x's shape.'''
    y = np.zeros_like(x)
    mask = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        keep = rng.random() >= p          # a unit is kept with probability 1 - p
        mask[idx] = keep / (1 - p)
        y[idx] = x[idx] * mask[idx]
    return y, mask


def dropout_backward_naive(dy, mask):
    dx = np.zeros_like(dy)
    for idx in np.ndindex(dy.shape):
        dx[idx] = dy[idx] * mask[idx]
    return dx


x = np.arange(1.0, 13.0).reshape(3, 4)
y, mask = dropout_forward_naive(x, 0.5, np.random.default_rng(0))
print(y)

# %% [markdown]
# ## 4 · The checks
#
# Three checks, each of which would catch a different mistake:
#
# 1. **Same mask, same numbers** as `vgglib.layers.Dropout` with the same seed (a wrong comparison `<` vs `>=`
#    or a scale of $1/p$ would fail here);
# 2. **the gradient** against a numerical derivative. Dropout is random, so the check freezes the mask: the
#    function differentiated is $L(x) = \sum_i R_i\, y_i(x)$ for a fixed mask and a fixed random $R$, so that
#    $dy = R$;
# 3. **the expectation**: averaged over many masks, $y$ approaches $x$ (the whole point of the scale) — and its
#    variance approaches $x^2\,p/(1-p)$.

# %%
rng = np.random.default_rng(1)
x = rng.standard_normal((4, 6))

# 1. the same mask and output as the library
layer = Dropout(0.3, rng=np.random.default_rng(7))
y_lib = layer.forward(x, training=True)
y_naive, mask_naive = dropout_forward_naive(x, 0.3, np.random.default_rng(7))
assert np.array_equal(layer.mask, mask_naive) and np.allclose(y_lib, y_naive)
print("same mask and output as vgglib.Dropout:", np.array_equal(layer.mask, mask_naive))

# 2. the gradient, with the mask frozen
R = rng.standard_normal(x.shape)
dx_naive = dropout_backward_naive(R, mask_naive)
dx_lib = layer.backward(R)
dx_num = numerical_gradient(lambda: float(np.sum(R * x * mask_naive)), x)
err = relative_error(dx_lib, dx_num)
print("backward: naive == library:", np.allclose(dx_naive, dx_lib), " relative error vs numerical:",
      magnitude(err))
assert np.allclose(dx_naive, dx_lib) and err < 1e-7

# 3. the expectation (and the variance of section 2): 20,000 masks, one per row
big = Dropout(0.5, rng=np.random.default_rng(3))
xs = np.array([0.5, 1.0, 2.0, 4.0])
ys = big.forward(np.tile(xs, (20_000, 1)), training=True)        # (20000, 4)
print("x                      =", xs)
print("mean of y              =", ys.mean(axis=0).round(2))
print("variance of y          =", ys.var(axis=0).round(2))
print("x² p/(1-p) with p = 0.5 =", xs ** 2 * big.p / (1 - big.p))
assert np.allclose(ys.mean(axis=0), xs, rtol=0.05)
assert np.allclose(ys.var(axis=0), xs ** 2 * big.p / (1 - big.p), rtol=0.05)

# %% [markdown]
# ## 5 · The real thing: `vgglib.layers.Dropout`
#
# The library draws the whole mask at once — `rng.random(x.shape) >= p` — and keeps it in `layer.mask` for
# the backward pass. `forward(x, training=False)` is the identity (a copy); the trainer passes
# `training=True` while fitting and every evaluation passes `training=False`. The same mask code works for
# any shape: here it acts on a batch of feature maps.

# %%
drop = Dropout(0.5, rng=np.random.default_rng(0))
maps = np.ones((2, 3, 4, 4), dtype=np.float32)          # (N, C, H, W)
train_out = drop.forward(maps, training=True)
test_out = drop.forward(maps, training=False)
print("training: dtype", train_out.dtype, "| values", np.unique(train_out), "| kept",
      f"{(train_out > 0).mean():.2f} of the units")
print("test:     identity:", np.array_equal(test_out, maps), "| mask after a test pass:", drop.mask)

# %% tags=["nbval-ignore-output"]
# (timings differ from run to run)
x = np.random.default_rng(0).standard_normal((32, 256))


def best_time(f, repeats):
    '''the fastest of several warm calls, in seconds (one call before them warms up)'''
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


t_naive = best_time(lambda: dropout_forward_naive(x, 0.5, np.random.default_rng(0)), repeats=3)
vec_layer = Dropout(0.5, rng=np.random.default_rng(0))
t_vec = best_time(lambda: vec_layer.forward(x, training=True), repeats=50)
speedup = t_naive / t_vec
print(f"on this machine, x of shape {x.shape}: naive loops {1e3 * t_naive:.1f} ms, vectorised {1e3 * t_vec:.3f} ms "
      f"({speedup:.0f}x faster; the best of 3 and of 50 warm calls)")
assert speedup > 5

# %% [markdown]
# The vectorised layer is many times faster — the ratio printed above, measured on this machine when the
# notebook ran (the exact factor depends on the machine and on what else it is doing). How it is timed matters
# as much as what: the vectorised call takes tens of microseconds, so a single timing of it is at the mercy of
# a first call's one-off costs and of any interruption by the rest of the machine. `best_time` therefore makes
# one untimed warm-up call and keeps the *fastest* of many repeats — the run least disturbed by anything else.

# %% [markdown]
# **On real data.** What does a digit look like to a layer after dropout? Here dropout acts directly on the
# pixels of a few test digits (VGG16 drops hidden units, not pixels, but pixels are easier to see). At
# $p = 0.5$ a digit is still recognisable to us — and the scale $1/(1-p)$ makes the surviving strokes
# brighter so that the average brightness stays the same.

# %%
X_test, y_test = load_mnist("test")
digits = to_float(X_test[:4])                       # (4, 28, 28) in [0, 1]
rates = (0.0, 0.3, 0.5, 0.7)
fig, axes = plt.subplots(len(digits), len(rates), figsize=(6.4, 6.6))
for j, rate in enumerate(rates):
    out = Dropout(rate, rng=np.random.default_rng(j)).forward(digits[:, None], training=True)[:, 0]
    for i in range(len(digits)):
        axes[i, j].imshow(out[i], cmap=IMAGE_CMAP, vmin=0, vmax=2)
        axes[i, j].axis("off")
    axes[0, j].set_title(f"p = {rate}\nmean {out.mean():.3f}", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 6 · Spot the bug: dropout after the softmax
#
# The seed project's network ended in `... → FC → softmax → dropout`, and the loss was computed from the
# dropout's output. Notebook 06 trained a classifier with this bug and watched its reported loss mislead; here we
# look from dropout's side: what a mask does to a distribution, and where dropout belongs instead. Take the seed's
# logits $z = (2.33, -1.46, 0.56)$ with true class 0. The softmax gives proper probabilities; dropout then
# multiplies each by 0 or by 2:

# %%
z = np.array([[2.33, -1.46, 0.56]])
probs = softmax(z)
print("softmax:", probs[0].round(4), " sum", probs.sum().round(4))
for seed in range(4):
    q = Dropout(0.5, rng=np.random.default_rng(seed)).forward(probs, training=True)
    loss = -np.log(max(q[0, 0], 1e-12))                 # cross-entropy of the true class 0
    print(f"mask {seed}: after dropout {q[0].round(4)}  sum {q.sum():.3f}  "
          f"'probability' of the true class {q[0, 0]:.3f}  loss {loss:.2f}")

# %% [markdown]
# Three things go wrong:
#
# - the outputs are **no longer a distribution**: they sum to anything from 0 to 2, and a "probability" of
#   1.68 is possible;
# - when the mask hits the true class, its probability is **0** and the cross-entropy $-\log 0$ is infinite
#   (here clipped to $-\log 10^{-12} \approx 27.6$, with no gradient at all): one unlucky coin makes that
#   sample's loss huge and teaches nothing;
# - when the true class survives, the loss is $-\log(2p_y)$, i.e. $\log 2$ too *small* (negative once
#   $p_y > 1/2$), while its gradient is exactly the one without dropout (notebook 06): the reported loss
#   mixes two very different numbers, and nothing is regularised.
#
# There is nothing to learn from this noise: dropout is useful where the next layer can learn to cope with
# missing inputs, i.e. **between hidden layers**. In VGG16 that is after `fc1` and `fc2` — and never after
# `fc3`, whose outputs are the logits:

# %%
names = [cfg["name"] for cfg in vgg16_layer_configs()]
for i, name in enumerate(names):
    if name.startswith("dropout"):
        print(" → ".join(names[i - 2:i + 2]))
print("last layers:", " → ".join(names[-3:]), "(then the softmax, inside the loss)")

# %% [markdown]
# ## 7 · Interactive: watch a mask at work
#
# To see dropout inside a trained network, we train a small network with VGG16's classifier shape — flatten,
# FC → ReLU → dropout, FC → ReLU → dropout, FC — on 2,000 sample digits (a few seconds). The explorer then
# takes one test digit (one the network is unsure about), runs it up to the first dropout layer, applies a fresh mask with the $p$ of the slider
# (drawn by `vgglib.layers.Dropout`, exactly as in training) and runs the rest of the network in test mode.
# It shows
#
# - **the mask** over the 256 hidden units (white = kept),
# - **the activations** before (black, test mode) and after the mask (blue, the survivors scaled up),
# - **the probabilities**: test mode, with this mask, and the average over 200 masks.
#
# Things to try: raise $p$ and press *resample* a few times — how often does the prediction with one mask
# change? Compare the average over 200 masks with the test-mode probabilities: they nearly agree — the same
# digit on top, similar sizes — but not exactly, and the cells after the numbers below say why the agreement
# can only be approximate.

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
X_train, y_train = load_mnist("train")


def classifier(p, seed=0, hidden=256):
    '''VGG16's classifier shape on raw 28x28 pixels: flatten, two hidden FC layers with dropout, logits.'''
    rng = np.random.default_rng(seed)
    return Sequential([
        Flatten(),
        FullyConnected(784, hidden, rng=rng, name="fc1"), ReLU(name="relu1"), Dropout(p, rng=rng, name="dropout1"),
        FullyConnected(hidden, hidden, rng=rng, name="fc2"), ReLU(name="relu2"), Dropout(p, rng=rng, name="dropout2"),
        FullyConnected(hidden, 10, rng=rng, name="fc3"),
    ], input_shape=(1, 28, 28))


mlp = classifier(p=0.5)
history = fit(mlp, (X_train[:2000], y_train[:2000]), epochs=6, batch_size=50, optimizer=Adam(1e-3), seed=0,
              progress=False, verbose=False)
result = evaluate(mlp, X_test, y_test)
print(f"trained with dropout 0.5: training accuracy (with dropout) {100 * history['train_accuracy'][-1]:.1f}%, "
      f"test accuracy {100 * result['accuracy']:.1f}% on {result['n']} test digits")

# a digit the network is unsure about is the most interesting one to watch
top = mlp.predict_proba(X_test[:200]).max(axis=1)
index = int(np.argmin(np.abs(top - 0.7)))
print(f"test digit #{index}: label {y_test[index]}, top probability {top[index]:.2f}")
assert result["accuracy"] > 0.8

# %% [markdown]
# **Predict, then run.** Dropout is unbiased: averaged over masks, every unit's output equals its test-mode value
# (section 2). Before you look at the explorer: the probability of the digit the network picks (in test mode,
# about 0.7 here), averaged over 200 masks — will it come out *higher*, *the same*, or *lower* than in test mode?

# %%
guess = None   # your prediction: "higher", "the same" or "lower"

# %%
explorer = dropout_explorer(mlp, X_test[index], int(y_test[index]), layer="dropout1", p=0.5, seed=0)
explorer

# %% [markdown]
# The same numbers without the widget (the explorer keeps them in `explorer.state`):

# %% tags=["nbval-ignore-output"]
s = explorer.state
assert abs(s["kept"] - 0.5) < 0.15 and np.isclose(s["probs_mean"].sum(), 1.0)
print(f"p = {s['p']}: kept {100 * s['kept']:.1f}% of the units; mask values {np.unique(s['mask'])}")
print("test mode        ", s["probs_test"].round(3))
print("this mask        ", s["probs_mask"].round(3))
print("mean of 200 masks", s["probs_mean"].round(3))
assert s["probs_mean"].argmax() == s["probs_test"].argmax()          # the same digit on top

# %%
top = int(s["probs_test"].argmax())
change = s["probs_mean"][top] - s["probs_test"][top]
_ = reveal(guess, "the same" if abs(change) < 0.01 else "higher" if change > 0 else "lower",
           what="the mask average of the top probability")

# %% [markdown]
# Why only approximately? Dropout is unbiased, $\mathbb{E}[y] = x$ (section 2), and test mode feeds the network
# that expectation $x$. A **linear** layer passes expectations through unchanged: $\mathbb{E}[W y + b] = W x + b$,
# so averaging its outputs over masks gives its test-mode output, up to Monte-Carlo noise that shrinks like
# $1/\sqrt{\text{number of masks}}$. After `fc2` come a ReLU, `fc3` and the softmax, and for a nonlinear $f$,
# $\mathbb{E}[f(y)] \neq f(\mathbb{E}[y])$ in general:
#
# - the **ReLU** is convex, so $\mathbb{E}[\max(0, z)] \ge \max(0, \mathbb{E}[z])$: a unit whose input
#   fluctuates around a value near 0 has a positive average output even where test mode gives it 0, and `fc3`
#   then sees other inputs on average than in test mode;
# - the **softmax** saturates: once a digit's probability is above 1/2, a mask that raises its logit (relative to
#   the others) gains it less probability than a mask that lowers the logit by as much loses — so noise in the
#   logits lowers the *average* probability of a fairly sure answer and spreads it over the others.
#
# So the mask average of the probabilities differs from the test-mode probabilities by a systematic amount that
# more masks do not remove. (Test mode is a cheap approximation of the mask average — "weight scaling" — not the
# average itself.) Measured at the same digit, with 200 and 20,000 masks; each gap is also given in standard
# errors of the mask average:

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the asserts hold everywhere)
names = [lay.name for lay in mlp.layers]
k = names.index("dropout1")
h = mlp.prepare(X_test[index:index + 1])
for lay in mlp.layers[:k]:
    h = lay.forward(h, training=False)          # what dropout1 receives
fc2 = mlp.layers[k + 1]


def rest(z):
    '''everything after dropout1, in test mode: fc2, relu2, (dropout2 off), fc3, softmax'''
    for lay in mlp.layers[k + 1:]:
        z = lay.forward(z, training=False)
    return softmax(np.asarray(z, dtype=np.float64))


z_test, p_test = fc2.forward(h, training=False)[0], rest(h)[0]
drop = Dropout(0.5, rng=np.random.default_rng(1))
for n in (200, 20_000):
    masked = drop.forward(np.repeat(h, n, axis=0), training=True)
    z, probs = fc2.forward(masked, training=False).astype(np.float64), rest(masked)
    z_gap, z_se = np.abs(z.mean(axis=0) - z_test), z.std(axis=0) / np.sqrt(n)
    p_gap, p_se = np.abs(probs.mean(axis=0) - p_test), probs.std(axis=0) / np.sqrt(n)
    print(f"{n:6,} masks | fc2 alone (linear): largest gap {z_gap.max():.3f} = {(z_gap / z_se).max():.1f} "
          f"standard errors | probabilities: largest gap {p_gap.max():.3f} = {(p_gap / p_se).max():.0f} "
          "standard errors")
print("test mode           ", p_test.round(3))
print("mean of 20,000 masks", probs.mean(axis=0).round(3))
assert (z_gap / z_se).max() < 5          # linear: agreement to Monte-Carlo precision
assert (p_gap / p_se).max() > 5          # nonlinear: a real difference, not noise


# %% [markdown]
# For `fc2` alone the gap is a few standard errors at most and shrinks about tenfold from 200 to 20,000 masks
# ($\sqrt{100} = 10$): pure Monte-Carlo noise. The probabilities' gap hardly shrinks and is many standard
# errors wide: the ReLU and the softmax bend the average.

# %% [markdown]
# ## 8 · Experiment: overfitting with and without dropout
#
# Dropout is a **regulariser**: it does nothing for a network that cannot even fit its training data, and helps
# one that fits it *too* well. To see that clearly we need a problem where overfitting is visible at a glance:
# two interleaved half-moons in the plane, with so much noise that the classes overlap, and only 100 training
# points. A network with two hidden layers of 300 units — far more than 100 points need — is trained on it for
# 600 full-batch Adam steps, once without dropout and once with $p = 0.5$ after both hidden layers, from the
# same initial weights. The test set has 2,000 points from the same distribution. In the figure the two right
# panels shade the plane by the network's probability of class 1 (blue = class 0, white = undecided, orange =
# class 1; black line: the decision boundary) under the 100 training points.

# %% tags=["nbval-ignore-output"]
def moons(n, noise, rng):
    '''Two interleaved half-circles with Gaussian noise: points (n, 2) float32, labels (n,) in {0, 1}.'''
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    px = np.where(label == 0, np.cos(t), 1 - np.cos(t))
    py = np.where(label == 0, np.sin(t), 0.5 - np.sin(t))
    points = np.stack([px, py], axis=1) + noise * rng.standard_normal((n, 2))
    return points.astype(np.float32), label


rng = np.random.default_rng(0)
P_train, c_train = moons(100, 0.35, rng)
P_test, c_test = moons(2000, 0.35, rng)


def moons_net(p, seed=0, hidden=300):
    r = np.random.default_rng(seed)
    return Sequential([FullyConnected(2, hidden, rng=r, name="fc1"), ReLU(name="relu1"), Dropout(p, rng=r, name="dropout1"),
                       FullyConnected(hidden, hidden, rng=r, name="fc2"), ReLU(name="relu2"), Dropout(p, rng=r, name="dropout2"),
                       FullyConnected(hidden, 2, rng=r, name="fc3")])


def accuracy(net, points, labels):
    return float(np.mean(net.forward(points, training=False).argmax(axis=1) == labels))


def train_moons(p, steps=600, every=20):
    '''Full-batch Adam; the train and test loss/accuracy every `every` steps (test mode).'''
    net, opt = moons_net(p), Adam(0.005)
    curves = {"step": [], "train_loss": [], "test_loss": [], "train_acc": [], "test_acc": []}
    for step in range(1, steps + 1):
        loss, dlogits = softmax_cross_entropy(net.forward(P_train, training=True), c_train)
        net.backward(dlogits)
        opt.step(net)
        if step % every == 0:
            curves["step"].append(step)
            curves["train_loss"].append(softmax_cross_entropy(net.forward(P_train, training=False), c_train)[0])
            curves["test_loss"].append(softmax_cross_entropy(net.forward(P_test, training=False), c_test)[0])
            curves["train_acc"].append(accuracy(net, P_train, c_train))
            curves["test_acc"].append(accuracy(net, P_test, c_test))
    return net, curves


runs = {p: train_moons(p) for p in (0.0, 0.5)}
for p, (net, c) in runs.items():
    print(f"p = {p}: train loss {c['train_loss'][-1]:.2f}  train accuracy {100 * c['train_acc'][-1]:5.1f}%  "
          f"test accuracy {100 * c['test_acc'][-1]:5.1f}%  test loss {c['test_loss'][-1]:.2f} "
          f"(lowest {min(c['test_loss']):.2f})")
plain, dropped = runs[0.0][1], runs[0.5][1]
assert plain["train_loss"][-1] < dropped["train_loss"][-1]               # without dropout: fits the noise
assert plain["test_loss"][-1] > 2 * min(plain["test_loss"])             # ... and its test loss rises again
assert plain["test_loss"][-1] > 2 * dropped["test_loss"][-1]            # dropout: several times lower test loss

# %%
fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
class_colors = (digit_color(0), digit_color(1))                 # class c in the colour of digit c, as everywhere
class_cmap = LinearSegmentedColormap.from_list("class 0 to class 1", [class_colors[0], "white", class_colors[1]])
for p, (net, c) in runs.items():                                # curves in black (train) and grey (test): the
    style = "-" if p else "--"                                  # blue and orange of the classes stay theirs
    axes[0].plot(c["step"], c["train_loss"], style, color="black", label=f"train, p = {p}")
    axes[0].plot(c["step"], c["test_loss"], style, color="0.55", label=f"test, p = {p}")
    axes[1].plot(c["step"], 100 * np.array(c["test_acc"]), style, color="0.55", label=f"test, p = {p}")
axes[0].set(xlabel="step", ylabel="cross-entropy", title="loss", ylim=(0, 2))
axes[1].set(xlabel="step", ylabel="accuracy (%)", title="test accuracy")
axes[0].legend(fontsize=8)
axes[1].legend(fontsize=8)
gx, gy = np.meshgrid(np.linspace(-2, 3, 150), np.linspace(-1.5, 2, 150))
grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
for ax, (p, (net, c)) in zip(axes[2:], runs.items()):
    prob = softmax(net.forward(grid, training=False))[:, 1].reshape(gx.shape)
    ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap=class_cmap, alpha=0.6)
    ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1)
    for label in (0, 1):
        ax.scatter(*P_train[c_train == label].T, color=class_colors[label], edgecolors="k", linewidths=0.5, s=22,
                   label=f"class {label}")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=f"p = {p}: test accuracy {100 * c['test_acc'][-1]:.1f}%")
    ax.legend(fontsize=8, loc="lower left")
plt.tight_layout()
plt.show()

# %% [markdown]
# Without dropout the network drives its training loss towards zero: it bends its boundary around individual
# noisy points, and its test loss *rises* the longer it trains — it becomes confidently wrong wherever the
# noise put a point on the wrong side. With dropout the training loss stays clearly above zero (each step
# trains a different thinned network, and none of them can memorise every point), the boundary is smoother,
# and the test loss stays several times lower. The test *accuracy* gains less — a couple of points here, and
# with another random data set it can be less; what dropout buys most reliably is a model that is less
# overconfident on data it has not seen.
#
# The effect is small on MNIST-sized problems with enough data, and that is typical: dropout is one
# regulariser among several (weight decay, data augmentation — notebook 12 — and, simplest of all, more data).
# VGG16's huge FC layers (4096 × 4096 weights) are exactly where it pays off.

# %% [markdown]
# ## Summary
#
# | | formula | remarks |
# |---|---|---|
# | mask | $m_i \sim \text{Bernoulli}(1-p)$, one per element | drawn fresh every forward pass in training |
# | forward (training) | $y = x \odot m / (1-p)$ | any shape; $\mathbb{E}[y] = x$ |
# | forward (test) | $y = x$ | no mask, no scale: why the scale is in training ("inverted") |
# | backward | $dx = dy \odot m/(1-p)$ | dropped units pass no gradient; no parameters |
# | noise | $\operatorname{Var}[y_i] = x_i^2\, p/(1-p)$ | $p = 0.5$: as large as $x_i^2$ |
# | where | after `fc1` and `fc2` (VGG16), between hidden layers | never after the softmax (the seed's bug) |
# | in vgglib | `Dropout(p, rng)`; `layer.mask`; `forward(x, training)` | `fit` passes `training=True`, evaluation `False` |
#
# Next: **11 · Optimizers** — SGD, momentum and Adam, the update rules that use these gradients.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/10_dropout_solutions.ipynb`.
#
# **Exercise 1 (easy).** A dropout layer with $p = 0.2$ keeps a unit. By what factor does inverted dropout
# multiply its activation?

# %% tags=["exercise-1"]
answer = None   # your answer: a number
check_dropout_scale(answer)

# %% [markdown]
# **Exercise 2 (medium).** One unit has the activation $x = 3$ and goes through inverted dropout with
# $p = 0.25$. What is the variance of its output $y$ (over the random mask)? Derive it from the two values $y$
# can take and their probabilities, rather than from the formula in the summary.

# %% tags=["exercise-2"]
answer = None   # your answer: a number
check_dropout_variance(answer)


# %% [markdown]
# **Exercise 3 (harder, transfer).** Everything above drops single *units*. In the convolutional part of a
# network that does little: neighbouring pixels of a feature map are strongly correlated, so a dropped pixel is
# almost recovered from its neighbours by the next 3×3 convolution. **Channel dropout** ("spatial dropout",
# Tompson et al., 2015) drops whole feature maps instead: for feature maps $x$ of shape $(N, C, H, W)$, one coin
# per image $n$ and channel $c$ decides whether the entire $H \times W$ map $x_{n,c}$ is zeroed (probability $p$)
# or kept and scaled by $1/(1-p)$, so that $\mathbb{E}[y] = x$ again.
#
# Write `channel_dropout(x, p, rng)` for training mode, vectorised (no Python loops), without
# `vgglib.layers.Dropout`: it returns a new array of `x`'s shape and dtype. The check tries several shapes
# (a batch of one among them), float32 and float64, and $p = 0$. (Its backward pass is $dx = dy \odot$ the same
# scaled mask — why?)

# %% tags=["exercise-3"]
def channel_dropout(x, p, rng):
    '''x: (N, C, H, W); p: drop probability in [0, 1); rng: np.random.Generator -> y of x's shape and dtype'''
    raise NotImplementedError


check_channel_dropout(channel_dropout)
