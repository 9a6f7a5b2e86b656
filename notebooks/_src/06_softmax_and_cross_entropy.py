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
# # 06 · Softmax and cross-entropy
#
# VGG16's last layer, `fc3`, produces ten numbers per image — **logits**, one score per digit, any real
# values. To learn, the network needs two more things: a way to read the scores as **probabilities**
# (softmax), and a single number that says how wrong those probabilities are (cross-entropy, the
# **loss**). Its gradient, $dz = p - y$, is where every backward pass of the series begins.
#
# The seed project computed a softmax — its example, the logits $[2.33, -1.46, 0.56]$, comes back below as a
# test — but then put a dropout layer *after* it, which quietly breaks the probabilities during training.
# We will see exactly how.
#
# **Learning goals** — after this notebook you can
#
# - compute a softmax by hand and explain why subtracting the maximum changes nothing mathematically and
#   everything numerically;
# - read cross-entropy as "minus the log-probability of the right answer", averaged over a batch;
# - derive the gradient of softmax + cross-entropy, $\partial L/\partial z = (p - y)/N$, in two ways;
# - predict the loss of an untrained network ($\ln C$ for $C$ classes) and use it as a sanity check;
# - explain why dropout must never come after the softmax.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import Dropout, FullyConnected, numerical_gradient, relative_error, viz
from vgglib.gradcheck import magnitude
from vgglib.mnist import load_mnist
from vgglib.preprocess import standardize, to_float
from vgglib.exercises import check_initial_loss, check_seed_gradient, check_softmax_cross_entropy, reveal
from vgglib.losses import cross_entropy, log_softmax, softmax, softmax_cross_entropy

np.set_printoptions(precision=8, suppress=True)
print("vgglib", vgglib.__version__)


# %% [markdown]
# ## 1 · Softmax: from scores to probabilities
#
# Probabilities must be positive and sum to 1. Softmax gets there in two steps: exponentiate every logit
# (now all positive, and a larger logit stays larger), then divide by the sum. For a vector $z$ of $C$ logits,
#
# $$ p_k = \operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_{j=1}^{C} e^{z_j}}, \qquad
#    z \in \mathbb{R}^{C} \to p \in (0, 1)^{C},\ \sum_k p_k = 1. $$
#
# For a batch, $Z$ is $(N, C)$ and softmax works on each row. The seed's example, by hand:
# $e^{2.33} \approx 10.28$, $e^{-1.46} \approx 0.232$, $e^{0.56} \approx 1.751$; the sum is $\approx 12.26$, so
# $p \approx (0.838,\ 0.019,\ 0.143)$. The library must reproduce the seed's eight decimals:

# %%
z = np.array([2.33, -1.46, 0.56])
e = np.exp(z)
print("exp(z) =", e.round(4), " sum =", e.sum().round(4))
print("by hand:", (e / e.sum()).round(8))

p = softmax(z[None])[0]                     # vgglib works on batches (N, C)
seed = np.array([0.83827314, 0.01894129, 0.14278557])
print("vgglib: ", p.round(8), "  max |difference| to the seed's values < 5e-9:", np.abs(p - seed).max() < 5e-9)
assert np.allclose(p, seed, rtol=0, atol=5e-9) and np.isclose(p.sum(), 1.0)
print(f"p[0] / p[1] = {p[0] / p[1]:.1f} = e^(z[0] - z[1]) = e^{z[0] - z[1]:.2f}")
assert np.isclose(p[0] / p[1], np.exp(z[0] - z[1]))

# %% [markdown]
# The exponential exaggerates differences: the ratio of two probabilities is $p_0/p_1 = e^{z_0 - z_1}$, so
# class 0's logit, $3.79$ above class 1's, gives it a probability $e^{3.79} \approx 44$ times higher (printed
# above). Scaling all logits by a factor shows the two extremes — small logits give nearly **uniform**
# probabilities (remember this for section 5), large ones nearly a one-hot vector:

# %%
fig, axes = plt.subplots(1, 4, figsize=(12, 2.6), sharey=True)
for ax, scale in zip(axes, (0.1, 0.5, 1.0, 3.0)):
    ax.bar(range(3), softmax((scale * z)[None])[0], color=[viz.digit_color(k) for k in range(3)])
    ax.set_title(f"softmax({scale} · z)")
    ax.set_xticks(range(3), ["0", "1", "2"])
    ax.set_xlabel("class")
    ax.axhline(1 / 3, color="0.6", ls=":", lw=1)
axes[0].set_ylabel("probability")
plt.tight_layout()
plt.show()


# %% [markdown]
# ## 2 · Stable softmax: subtract the maximum
#
# $e^{z}$ overflows quickly: float64 gives up above $z \approx 709$, float32 (what we train in) above
# $z \approx 88.7$. The formula as written then computes $\infty/\infty$ = `nan`. The fix costs one line,
# because softmax does not change when the same constant $m$ is subtracted from every logit:
#
# $$ \frac{e^{z_k - m}}{\sum_j e^{z_j - m}} = \frac{e^{z_k}\,e^{-m}}{e^{-m}\sum_j e^{z_j}} = \frac{e^{z_k}}{\sum_j e^{z_j}}. $$
#
# With $m = \max_j z_j$ the largest exponent is $e^0 = 1$: nothing overflows, and the sum is at least 1, so
# we never divide by zero either.

# %%
def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_stable(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


big = np.array([[1000.0, 1001.0, 1002.0]])
with np.errstate(over="ignore", invalid="ignore"):         # silence the warnings, keep the nan
    print("naive :", softmax_naive(big))
print("stable:", softmax_stable(big), "  vgglib:", softmax(big))
print(f"float32 overflows above z = {np.log(np.finfo(np.float32).max):.2f}, float64 above "
      f"{np.log(np.finfo(np.float64).max):.2f}")
assert np.allclose(softmax_stable(big), softmax_stable(big - 1000)) and np.allclose(softmax(big), softmax_stable(big))

# %% [markdown]
# The same trick protects the **logarithm** we will take next. Computing `np.log(softmax(z))` fails the other
# way: a tiny probability underflows to exactly 0, and $\log 0 = -\infty$. Taking the log of the formula
# first avoids it — this is **log-softmax**, with the "log-sum-exp" in the second term:
#
# $$ \log p_k = z_k - m - \log \sum_j e^{z_j - m}. $$

# %%
z2 = np.array([[0.0, -800.0]])
with np.errstate(divide="ignore"):
    print("log(softmax(z)):", np.log(softmax(z2)))
print("log_softmax(z): ", log_softmax(z2))
assert np.allclose(log_softmax(z2), [[0.0, -800.0]])

# %% [markdown]
# ## 3 · Cross-entropy: how surprised is the model by the truth?
#
# Write the true class as a one-hot vector $y$ ($y_k = 1$ for the true class, 0 elsewhere). The
# cross-entropy between $y$ and the prediction $p$ is
#
# $$ \ell = -\sum_{k=1}^{C} y_k \log p_k = -\log p_{\text{true}} ,
#    \qquad L = \frac{1}{N}\sum_{n=1}^{N} \ell_n \quad \text{for a batch } (N, C). $$
#
# Only the probability of the right answer counts. If the model gives it probability 1, the loss is 0; if it
# gives it 0.5, the loss is $\ln 2 \approx 0.69$; as it goes to 0, the loss grows without bound — confident
# mistakes are punished hardest. Minimising $L$ is maximising the likelihood of the training labels, which is
# why it is also called the *negative log-likelihood*. ($\log$ is the natural logarithm throughout.)

# %%
fig, ax = plt.subplots(figsize=(5.5, 3))
q = np.linspace(0.005, 1, 400)
ax.plot(q, -np.log(q), color="0.3")
for k, (pk, name) in enumerate(zip(p, ("class 0", "class 1", "class 2"))):
    ax.plot(pk, -np.log(pk), "o", color=viz.digit_color(k))
    offset = (-110, 22) if pk > 0.5 else (8, 4)
    ax.annotate(f"true = {name}: {-np.log(pk):.3f}", (pk, -np.log(pk)), xytext=offset, textcoords="offset points")
ax.set_xlabel("probability of the true class"); ax.set_ylabel("loss  -log p")
ax.set_title("cross-entropy for the seed's logits")
plt.show()

for true in range(3):
    lib = cross_entropy(p[None], [true])
    fused, _ = softmax_cross_entropy(z[None], [true])
    print(f"true class {true}: -log p = {-np.log(p[true]):.6f}, cross_entropy = {lib:.6f}, "
          f"softmax_cross_entropy(z) = {fused:.6f}")
    assert np.isclose(lib, -np.log(p[true])) and np.isclose(fused, lib)


# %% [markdown]
# ## 4 · The gradient: $p - y$, derived twice
#
# The backward pass starts here: we need $\partial L/\partial z$, shape $(N, C)$ like the logits. Take one
# sample first (drop the index $n$).
#
# **Route 1: through log-softmax.** Insert $\log p_k = z_k - \log\sum_j e^{z_j}$ into the loss (the shift
# $m$ cancels, as we showed):
#
# $$ \ell = -\sum_k y_k \Big(z_k - \log \sum_j e^{z_j}\Big) = -\sum_k y_k z_k + \log \sum_j e^{z_j}
#    \qquad\text{(using } \textstyle\sum_k y_k = 1\text{)}. $$
#
# $$ \frac{\partial \ell}{\partial z_i} = -y_i + \frac{e^{z_i}}{\sum_j e^{z_j}} = p_i - y_i . $$
#
# **Route 2: through the softmax Jacobian.** First the derivative of softmax itself,
# $\partial p_k/\partial z_i = p_k(\delta_{ki} - p_i)$ (quotient rule: the numerator contributes
# $\delta_{ki} p_k$, the denominator $-p_k p_i$). That is a $C\times C$ matrix $J$. Then the chain rule with
# $\partial \ell/\partial p_k = -y_k/p_k$:
#
# $$ \frac{\partial \ell}{\partial z_i} = \sum_k \frac{\partial \ell}{\partial p_k}\frac{\partial p_k}{\partial z_i}
#    = \sum_k \Big(-\frac{y_k}{p_k}\Big)\, p_k(\delta_{ki} - p_i) = -y_i + p_i \sum_k y_k = p_i - y_i . $$
#
# Same answer. **For a batch** the loss is the mean, so each sample's gradient is divided by $N$:
#
# $$ \frac{\partial L}{\partial Z} = \frac{1}{N}\,(P - Y), \qquad P, Y, Z: (N, C). $$
#
# The result is beautifully simple: the wrong classes are pushed down by exactly their probability, the true
# class is pulled up by $1 - p_{\text{true}}$, and the entries of each row sum to zero.

# %% [markdown]
# ### Naive code: route 2 with loops, then the check
#
# Route 2 written out literally — the Jacobian as a matrix, the chain rule as a matrix–vector product — must
# agree with $p - y$, and both must agree with numerical derivatives of the loss:

# %%
def softmax_jacobian(p):
    C = len(p)
    J = np.zeros((C, C))
    for k in range(C):
        for i in range(C):
            J[k, i] = p[k] * ((k == i) - p[i])          # dp_k / dz_i
    return J


def ce_gradient_via_jacobian(z, true):
    p = softmax_stable(z)
    y = np.eye(len(z))[true]
    dl_dp = -y / p                                     # dl/dp_k = -y_k / p_k
    return softmax_jacobian(p).T @ dl_dp               # sum_k dl/dp_k * dp_k/dz_i


rng = np.random.default_rng(0)
zs = rng.standard_normal(5)
true = 3
via_jacobian = ce_gradient_via_jacobian(zs, true)
fused = softmax_stable(zs) - np.eye(5)[true]
assert np.allclose(via_jacobian, fused, rtol=1e-12, atol=1e-15)
print("p - y             :", fused.round(6), " row sum:", round(abs(fused.sum()), 12))

# numerical check of vgglib's fused loss on a batch (N = 4, C = 10), float64
Z = rng.standard_normal((4, 10)) * 2
labels = np.array([3, 0, 9, 3])
loss, dZ = softmax_cross_entropy(Z, labels)
numeric = numerical_gradient(lambda: softmax_cross_entropy(Z, labels)[0], Z)
err = relative_error(dZ, numeric)
print(f"vgglib dlogits {dZ.shape} vs numerical: relative error ≈ {magnitude(err)}  (must be < 1e-7)")
assert err < 1e-7
assert np.allclose(dZ, (softmax(Z) - np.eye(10)[labels]) / len(Z))

# %% [markdown]
# Route 2 is fine for checking, but don't use it in a network: it divides by $p$. When a probability
# underflows to 0 (which happens — see section 2), `-y / p` becomes `-inf`, and `inf * 0` gives `nan`. The
# fused form $p - y$ never divides. That is why `vgglib.losses.softmax_cross_entropy` takes the **logits**,
# not the probabilities, and returns both the loss and $dZ$ in one call:

# %%
z3 = np.array([0.0, -800.0])
with np.errstate(divide="ignore", invalid="ignore"):
    print("via the Jacobian:", ce_gradient_via_jacobian(z3, true=1))
loss3, dz3 = softmax_cross_entropy(z3[None], [1])
print(f"fused:            {dz3[0]}   (loss {loss3:.1f})")
assert np.allclose(dz3, [[1.0, -1.0]])

# %% [markdown]
# ## 5 · Why the first loss should be $\ln 10 \approx 2.303$
#
# A freshly initialised network knows nothing, so it should not prefer any class. If its logits are all about
# equal, every class gets $p = 1/C$ and the loss is
#
# $$ L = -\log\frac{1}{C} = \ln C, \qquad \ln 10 \approx 2.302585 \text{ for MNIST}. $$
#
# This is the first sanity check of every training run (cs231n's advice): *before* the first update, print the
# loss. Much higher than $\ln C$ means the initial logits are too large — the network is confidently wrong at
# random; much lower means something leaks the labels. The plot shows how the expected loss grows with the
# spread of random logits:

# %%
rng = np.random.default_rng(1)
noise = rng.standard_normal((20_000, 10))
truth = rng.integers(0, 10, 20_000)
scales = np.linspace(0, 4, 17)
losses = [softmax_cross_entropy(s * noise, truth)[0] for s in scales]
print(f"all logits equal: loss = {losses[0]:.6f}, ln 10 = {np.log(10):.6f}")
assert np.isclose(losses[0], np.log(10))

fig, ax = plt.subplots(figsize=(5.5, 3))
ax.plot(scales, losses, "o-")
ax.axhline(np.log(10), color="0.5", ls="--", label="ln 10")
ax.set_xlabel("standard deviation of random logits"); ax.set_ylabel("mean loss")
ax.legend()
plt.show()

# %% [markdown]
# ### On real digits
#
# A single FC layer 784 → 10 on standardised MNIST pixels (a *softmax classifier*) makes this concrete.
# With vgglib's default He initialisation (std $\sqrt{2/784}$, designed for layers followed by a ReLU), the
# logits have a standard deviation above 1 and the first loss is well above $\ln 10$. Shrinking the last
# layer's initial weights — a common choice for the output layer — brings it to $\ln 10$:

# %%
images, labels = load_mnist("train")                  # embedded sample: 6000 digits
test_images, test_labels = load_mnist("test")         # 1000 digits
X = standardize(to_float(images)).reshape(len(images), -1)           # (6000, 784) float32
X_test = standardize(to_float(test_images)).reshape(len(test_images), -1)

fc = FullyConnected(784, 10, rng=np.random.default_rng(0))
logits = fc.forward(X)
print(f"He init:      logit std {logits.std():.2f}, first loss {softmax_cross_entropy(logits, labels)[0]:.3f}")
fc.params["weights"] *= 0.01
logits = fc.forward(X)
first_loss = softmax_cross_entropy(logits, labels)[0]
print(f"0.01 × He:    logit std {logits.std():.3f}, first loss {first_loss:.3f}   (ln 10 = {np.log(10):.3f})")
assert abs(first_loss - np.log(10)) < 0.01


# %% [markdown]
# Now train it: 100 steps of plain gradient descent on all 6,000 sample digits. Each step is the whole
# pipeline of this notebook and the last one — `forward`, `softmax_cross_entropy` for the loss and $dZ$,
# `backward` for $dW = X^\top dZ$ and $db$, and an update:

# %%
def train_softmax_classifier(X, labels, steps=100, lr=0.1, after_softmax=None):
    '''Full-batch gradient descent on a 784 -> 10 softmax classifier; returns the layer and the losses.

    after_softmax: an optional layer inserted between softmax and the loss (for the bug below).'''
    fc = FullyConnected(784, 10, rng=np.random.default_rng(0))
    fc.params["weights"] *= 0.01
    history = []
    for _ in range(steps):
        logits = fc.forward(X)
        if after_softmax is None:
            loss, dlogits = softmax_cross_entropy(logits, labels)
        else:
            loss, dlogits = loss_with_layer_after_softmax(logits, labels, after_softmax)
        fc.backward(dlogits)
        fc.update(lr)
        history.append(loss)
    return fc, history


fc, history = train_softmax_classifier(X, labels)
accuracy = (fc.forward(X_test).argmax(axis=1) == test_labels).mean()
print(f"loss: step 1 {history[0]:.3f} -> step 100 {history[-1]:.3f};  test accuracy {accuracy:.1%}")
assert history[-1] < 0.5 * history[0] and accuracy > 0.8

# %%
probs = softmax(fc.forward(X_test[:6]))
fig, axes = plt.subplots(2, 6, figsize=(12, 3.9), gridspec_kw={"height_ratios": [1.4, 1]})
for i in range(6):
    axes[0, i].imshow(test_images[i], cmap=viz.IMAGE_CMAP); axes[0, i].axis("off")
    axes[0, i].set_title(f"label {test_labels[i]}")
    bars = axes[1, i].bar(range(10), probs[i], color=[viz.digit_color(k) for k in range(10)])
    for k, bar in enumerate(bars):
        bar.set_alpha(1.0 if k == test_labels[i] else 0.3)
    axes[1, i].set_ylim(0, 1); axes[1, i].set_xticks(range(10))
    axes[1, i].tick_params(labelsize=7); axes[1, i].set_xlabel("class", fontsize=8)
axes[1, 0].set_ylabel("probability")
fig.suptitle("trained softmax classifier on test digits (solid bar: the true class)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 🐞 Spot the bug: dropout after the softmax
#
# > The seed's network ended with a dropout layer *after* its softmax, and computed the cross-entropy on
# > dropout's output. In effect (a reconstruction of its last layers, not its literal lines):
# >
# > ```python
# > FullyConnected(4096, 10), Softmax(), Dropout(0.5)     # ...then cross-entropy on the output
# > ```
# >
# > Dropout is a regulariser for *hidden* units (notebook 10): during training it zeroes each value with
# > probability 0.5 and doubles the survivors. What happens to the "probabilities" it receives?
#
# Apply it to the trained classifier's probabilities for eight test digits:

# %%
dropout = Dropout(0.5, rng=np.random.default_rng(0))
p8 = softmax(fc.forward(X_test[:8]))
q8 = dropout.forward(p8, training=True)
y8 = test_labels[:8]
print("row sums after dropout:          ", q8.sum(axis=1).round(2))
print("probability of the true class:   ", q8[np.arange(8), y8].round(3))
with np.errstate(divide="ignore"):
    print("loss -log q[true] for each digit:", (-np.log(q8[np.arange(8), y8])).round(2))


# %% [markdown]
# Three things went wrong at once:
#
# 1. **They are no longer probabilities.** Rows sum to anything between 0 and 2, a single value can exceed
#    1, and the "loss" of a sample can even be negative.
# 2. **Half the time the true class is dropped**, and $-\log 0 = \infty$. With the usual guard
#    ($\log$ of at least $10^{-12}$) the loss of that sample is a constant $-\ln 10^{-12} \approx 27.6$
#    (computed below) *with zero gradient*: the sample teaches nothing.
# 3. **When the true class survives**, its value is doubled, and $-\log 2p = -\log p - \ln 2$: the gradient
#    is exactly the one without dropout. So the bug does not regularise anything — it throws away a random
#    half of each batch, and the reported loss mixes two very different numbers.
#
# At test time dropout is switched off, so predictions look normal, which is why the bug survives. But the
# training curve lies. Below, the same classifier is trained with the loss computed after dropout
# (backpropagating through the dropout mask and the softmax Jacobian of section 4).
#
# **Predict, then run.** The correct classifier's first loss was 2.30 (above). What loss will the buggy run
# *report* at its first step? Use the three points above: half the samples lose their true class, the other
# half keep it, doubled.

# %%
guess = None   # your prediction: the buggy run's reported loss at step 1 (a number)

# %%
def loss_with_layer_after_softmax(logits, labels, layer, eps=1e-12):
    '''Cross-entropy of layer(softmax(logits)) and its gradient with respect to the logits.'''
    n = len(logits)
    p = softmax(logits)
    q = layer.forward(p, training=True)
    q_true = q[np.arange(n), labels]
    loss = float(-np.log(np.maximum(q_true, eps)).mean())
    dq = np.zeros_like(q)
    kept = q_true > eps                                  # the guard's gradient is 0 where it clips
    dq[np.arange(n)[kept], labels[kept]] = -1.0 / (n * q_true[kept])
    dp = layer.backward(dq)
    return loss, p * (dp - (dp * p).sum(axis=1, keepdims=True))     # softmax Jacobian-vector product


fc_bug, history_bug = train_softmax_classifier(X, labels, after_softmax=Dropout(0.5, rng=np.random.default_rng(1)))
reveal(guess, round(history_bug[0], 1), what="the buggy run at step 1")

guard = -np.log(1e-12)                                   # the loss of a sample whose true class was dropped
expected_first = 0.5 * guard + 0.5 * (history[0] - np.log(2))
print(f"-ln(1e-12) = {guard:.1f};  half of it + half of ({history[0]:.2f} - ln 2) = {expected_first:.2f}")
assert abs(history_bug[0] - expected_first) < 0.2

accuracy_bug = (fc_bug.forward(X_test).argmax(axis=1) == test_labels).mean()
print(f"dropout after softmax: loss step 1 {history_bug[0]:.2f} -> step 100 {history_bug[-1]:.2f}; "
      f"test accuracy {accuracy_bug:.1%}")
print(f"correct:               loss step 1 {history[0]:.2f} -> step 100 {history[-1]:.2f}; "
      f"test accuracy {accuracy:.1%}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(history, label="softmax → cross-entropy")
ax.plot(history_bug, color=viz.WRONG_COLOR, label="softmax → dropout → cross-entropy")
ax.axhline(np.log(10), color="0.6", ls=":", lw=1)
ax.set_xlabel("step"); ax.set_ylabel("reported training loss"); ax.set_yscale("log")
ax.legend()
plt.show()

# %% [markdown]
# The first reported loss is half of $27.6$ plus half of $(2.30 - \ln 2)$: about 14.6, as computed above.
# The buggy run still learns something — from the surviving half of each batch — but its reported loss is
# stuck near 14 and says nothing about progress, and a training run with such a curve cannot be monitored,
# tuned or stopped early. **The fix:** dropout belongs after the hidden FC layers (`fc1` and `fc2` in
# VGG16, after their ReLU), never after the output; the loss always reads the raw logits. `vgglib.model.VGG16`
# builds it that way, and notebook 10 derives dropout properly.
#
# **How a check catches it:** the loss at the first step. A correct network starts at $\ln 10 \approx 2.3$;
# this one starts near $14.6$ — section 5's sanity check fails on the first batch.

# %% [markdown]
# ## Summary
#
# | | formula | shapes / remarks |
# |---|---|---|
# | softmax | $p_k = e^{z_k - m} / \sum_j e^{z_j - m}$, $m = \max_j z_j$ | $(N, C) \to (N, C)$, rows sum to 1; the shift changes nothing but stability |
# | log-softmax | $\log p_k = z_k - m - \log\sum_j e^{z_j - m}$ | never takes $\log 0$ |
# | cross-entropy | $L = -\frac1N \sum_n \log p_{n,\,y_n}$ | a number; 0 when the true class gets probability 1 |
# | gradient | $\partial L/\partial Z = (P - Y)/N$ | $(N, C)$; rows sum to 0; no division by $p$ |
# | softmax Jacobian | $\partial p_k/\partial z_i = p_k(\delta_{ki} - p_i)$ | $(C, C)$ per sample; for checking, not for training |
# | loss at initialisation | $\ln C$ ($\ln 10 \approx 2.303$) | the first sanity check of any training run |
# | in vgglib | `softmax`, `log_softmax`, `cross_entropy`, `softmax_cross_entropy(logits, labels) -> (loss, dlogits)` | labels as ids $(N,)$ or one-hot $(N, C)$ |
#
# Next: **07 · MNIST data** — where the images and labels come from, and how not to separate them.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/06_softmax_and_cross_entropy_solutions.ipynb`.
#
# **Exercise 1 (easy).** VGG16 was designed for ImageNet, with 1000 classes. What loss should an untrained
# VGG16 report on its first ImageNet batch, if its logits start out small? (A number, to at least 3 decimals.)

# %% tags=["exercise-1"]
answer = None   # your answer: a number
check_initial_loss(answer)

# %% [markdown]
# **Exercise 2 (medium).** Take the seed's logits $z = [2.33, -1.46, 0.56]$ for a single image whose true class
# is **2** (counting from 0). What is $\partial \ell/\partial z$? Compute the three numbers (you may use
# `softmax`, but not `softmax_cross_entropy`).

# %% tags=["exercise-2"]
answer = None   # your answer: three numbers
check_seed_gradient(answer)


# %% [markdown]
# **Exercise 3 (harder).** Write your own `my_softmax_cross_entropy(logits, labels)` for logits $(N, C)$ and
# integer labels $(N,)$, returning `(loss, dlogits)`: the mean loss and its gradient. It must survive logits of
# $\pm 1000$ — and a true class 800 below the others, whose probability $e^{-800}$ is 0 in floating point —
# and must not use `vgglib.losses`.

# %% tags=["exercise-3"]
def my_softmax_cross_entropy(logits, labels):
    '''logits (N, C), labels (N,) ints -> (mean loss: float, dlogits: (N, C))'''
    raise NotImplementedError


check_softmax_cross_entropy(my_softmax_cross_entropy)
