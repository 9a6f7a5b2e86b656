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
# # 03 · ReLU and initialisation: keeping the signal alive through sixteen layers
#
# Between any two weight layers of VGG16 sits a **ReLU**, $\max(0, x)$ — fifteen of them in all. It is the
# simplest non-linearity there is, and without it the thirteen convolutions would collapse into a single
# linear filter. But depth brings a second problem: every layer rescales its input, and thirteen rescalings
# in a row either shrink the signal to nothing or blow it up — unless the random starting weights have
# exactly the right spread.
#
# The VGG authors met this problem head-on: they trained their shallowest network first and copied its
# weights into the first four convolutions and the three FC layers of the deeper ones, and noted after
# publication that a careful random initialisation (Glorot & Bengio's) also works. A year later He et al. derived the spread that is right *for ReLU
# networks*, which vgglib's `Convolution2D` and `FullyConnected` use. This notebook derives it and shows
# the alternative as histograms.
#
# **Learning goals** — after this notebook you can
#
# - explain why a network needs a non-linearity between its linear layers;
# - write ReLU's forward and backward pass, and say what happens at exactly 0;
# - recognise dead units and why they never recover;
# - derive He initialisation, $\sigma = \sqrt{2/\text{fan-in}}$, from the variance of one layer;
# - read activation statistics through a deep stack and spot an initialisation that is too small or too large.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from scipy import signal

import vgglib
from vgglib import Convolution2D, FullyConnected, ReLU, check_layer, numerical_gradient, relative_error
from vgglib.gradcheck import below
from vgglib.exercises import check_init_scale, check_leaky_relu_std, check_relu_backward, reveal
from vgglib.mnist import load_mnist
from vgglib.model import vgg16_layer_configs
from vgglib.preprocess import standardize, to_float
from vgglib.viz import IMAGE_CMAP, SIGNED_CMAP

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)


images, labels = load_mnist("test")                               # the embedded sample, uint8
kinds = [cfg["type"] for cfg in vgg16_layer_configs()]
print(f"VGG16: {kinds.count('Convolution2D')} convolutions + {kinds.count('FullyConnected')} FC layers, "
      f"{kinds.count('ReLU')} ReLUs")

# %% [markdown]
# ## 1 · Why a non-linearity at all?
#
# A convolution is linear: doubling the input doubles the output, and the output of a sum is the sum of
# outputs. Two linear maps in a row are again one linear map. For two stacked 3×3 convolutions (one channel,
# no bias) we can even write down the single kernel they amount to: substituting the first into the second,
#
# $$
# y_2[o] = \sum_j w_2[j] \sum_i w_1[i]\, x[o + i + j] = \sum_m \Big(\underbrace{\textstyle\sum_{i+j=m} w_1[i]\,
# w_2[j]}_{K[m]}\Big)\, x[o + m],
# $$
#
# a single 5×5 kernel $K$ — the full convolution of $w_1$ and $w_2$. Depth without non-linearity buys
# nothing a bigger kernel could not do:

# %%
rng = np.random.default_rng(0)
w1, w2 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
digit = to_float(images[4]).astype(np.float64)

two_layers = signal.correlate2d(signal.correlate2d(digit, w1, mode="valid"), w2, mode="valid")
K = signal.convolve2d(w1, w2, mode="full")                          # 5×5
one_layer = signal.correlate2d(digit, K, mode="valid")
err = np.abs(two_layers - one_layer).max()
print("K:", K.shape, "| two 3×3 layers vs one 5×5 layer, max difference:", below(err, 1e-12))


# %% [markdown]
# Put a ReLU between them and no single kernel can reproduce the result: the ReLU cuts off the negative
# responses of the first layer, and *which* responses are cut depends on the input. That input-dependent
# switching is what lets a deep stack of simple layers represent complicated functions.

# %% [markdown]
# ## 2 · ReLU and its gradient
#
# Element by element, for an input of any shape (in VGG16: $(N, C, H, W)$ after a convolution, $(N, D)$ after
# a fully connected layer):
#
# $$
# y = \max(0, x), \qquad
# \frac{\partial y}{\partial x} = \begin{cases} 1 & x > 0 \\ 0 & x < 0 \end{cases}, \qquad
# dx = dy \odot \mathbb{1}[x > 0] \quad(\text{shape of } x).
# $$
#
# The gradient is a **gate**: where the unit was active it passes $dy$ through unchanged, where it was not it
# passes nothing. It never shrinks a gradient by a factor like $0.25$ (the most a sigmoid passes), which is a
# large part of why ReLU networks train well.
#
# At exactly $x = 0$ ReLU has a kink and no derivative; any value in $[0, 1]$ is a valid *subgradient*.
# vgglib (like PyTorch) uses **0**, so "active" means strictly positive.

# %%
def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(dy, x):
    return dy * (x > 0)


t = np.linspace(-3, 3, 601)
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
axes[0].plot(t, relu_forward(t))
axes[0].set_title("ReLU: y = max(0, x)")
axes[0].set_ylabel("y")
axes[1].plot(t[t < 0], np.zeros((t < 0).sum()), color="C1")
axes[1].plot(t[t > 0], np.ones((t > 0).sum()), color="C1")
axes[1].plot([0], [0], "o", color="C1")
axes[1].plot([0], [1], "o", color="C1", fillstyle="none")
axes[1].set_title("dy/dx: a gate (0 at x = 0 by convention)")
axes[1].set_ylabel("dy/dx")
for ax in axes:
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.axvline(0, color="gray", linewidth=0.5)
    ax.set_xlabel("x")
plt.tight_layout()
plt.show()
sigmoid = 1 / (1 + np.exp(-t))
print(f"largest slope of a sigmoid, for comparison: {np.max(sigmoid * (1 - sigmoid)):.2f}")

# %% [markdown]
# **The check.** Against vgglib's `ReLU` layer, and against numerical gradients — on inputs kept away from 0,
# because at the kink a central difference measures something else:

# %%
rng = np.random.default_rng(1)
x = rng.standard_normal((2, 3, 4, 4))
x[np.abs(x) < 0.01] = 0.5                                           # stay away from the kink
dy = rng.standard_normal(x.shape)

layer = ReLU()
assert np.array_equal(layer.forward(x), relu_forward(x))
assert np.array_equal(layer.backward(dy), relu_backward(dy, x))
err = relative_error(relu_backward(dy, x), numerical_gradient(lambda: float(np.sum(relu_forward(x) * dy)), x))
print("ours == vgglib.ReLU; relative error to the numerical gradient:", below(err, 1e-9))
print("check_layer(ReLU):", {k: below(v, 1e-9) for k, v in check_layer(ReLU(), x).items()})

z = np.zeros(1)                                                      # exactly at the kink
numeric = numerical_gradient(lambda: float(relu_forward(z).sum()), z)
print(f"at x = 0: the layer's gradient is {relu_backward(np.ones(1), z)[0]:g}, "
      f"the central difference gives {numeric[0]:g}")

# %% [markdown]
# At 0 the central difference $(\max(0,\varepsilon) - \max(0,-\varepsilon))/2\varepsilon = \tfrac12$ averages the
# two one-sided slopes; neither answer is wrong, they are different conventions. That is why gradient checks
# use inputs away from kinks.
#
# **Do exact zeros happen?** More often than you might think. MNIST pixels scaled to $[0, 1]$ are exactly 0 on
# the background, and a first-layer filter over an all-background window, with bias 0, outputs exactly 0. On
# real digits, here is what a few He-initialised 3×3 filters produce, and what ReLU keeps:

# %%
conv = Convolution2D(1, 4, 3, padding=1, rng=np.random.default_rng(2))
x = to_float(images[:8])[:, None]                                   # (8, 1, 28, 28) in [0, 1]
z = conv.forward(x)
a = ReLU().forward(z)
print(f"pre-activations exactly 0: {np.mean(z == 0):.0%}   after ReLU, zero: {np.mean(a == 0):.0%}")

fig, axes = plt.subplots(3, 5, figsize=(11, 6.6))
axes[0, 0].imshow(x[0, 0], cmap=IMAGE_CMAP)
axes[0, 0].set_title("input digit")
w_lim = np.abs(conv.params["weights"]).max()                        # one symmetric scale for the four filters
for f in range(4):
    lim = np.abs(z[0, f]).max()
    axes[1, f + 1].imshow(z[0, f], cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
    axes[1, f + 1].set_title(f"filter {f}: z", fontsize=9)
    axes[2, f + 1].imshow(a[0, f], cmap=IMAGE_CMAP)
    axes[2, f + 1].set_title(f"filter {f}: ReLU(z)", fontsize=9)
    axes[0, f + 1].imshow(conv.params["weights"][f, 0], cmap=SIGNED_CMAP, vmin=-w_lim, vmax=w_lim)
    axes[0, f + 1].set_title(f"3×3 filter {f}", fontsize=9)
axes[1, 0].text(0.5, 0.5, "pre-activation\n(red > 0, blue < 0)", ha="center", va="center")
axes[2, 0].text(0.5, 0.5, "after ReLU\n(negatives cut)", ha="center", va="center")
for ax in axes.ravel():
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# Every negative response is gone, and on the background — most of the image — the unit is off, so no
# gradient flows there. Standardising the input (subtracting the mean pixel, notebook 07) moves the background
# away from exactly 0, and a learned bias does the same inside the network.

# %% [markdown]
# ## 3 · Dead units
#
# A unit (one output of a fully connected layer, or one channel of a convolution) whose pre-activation is
# $\le 0$ for **every** input is **dead**: its output is always 0, so by the gate above its gradient is always
# 0 — and so are the gradients of the weights and bias feeding it ($dW = x^\top dy$ with a zero column of
# $dy$). Gradient descent never touches it again. Units die when their bias is pushed far negative, typically
# by one too-large learning-rate step.
#
# Here is a fully connected layer $784 \to 256$ (He-initialised) on 1,000 real, standardised digits. Shift
# all its biases down by $\delta$ (in units of the pre-activations' standard deviation) and count the units
# that are off for every one of the 1,000 digits:

# %%
x = standardize(to_float(images)).reshape(len(images), -1).astype(np.float64)   # (1000, 784)
fc = FullyConnected(784, 256, rng=np.random.default_rng(3)).astype(np.float64)
z = fc.forward(x)
shifts = np.linspace(0, 4, 17)
dead = [np.mean(np.all(z - d * z.std() <= 0, axis=0)) for d in shifts]

fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot(shifts, np.array(dead) * 100, "o-")
ax.set_xlabel("bias shifted down by δ · std(z)")
ax.set_ylabel("dead units (%)")
ax.set_title(f"FC 784→256 on {len(x):,} MNIST digits")
plt.tight_layout()
plt.show()

fc.params["bias"][:] = -2.0 * z.std()                              # kill some units, then check their gradients
relu = ReLU()
a = relu.forward(fc.forward(x))
fc.backward(relu.backward(np.random.default_rng(4).standard_normal(a.shape)))
is_dead = np.all(a == 0, axis=0)
print(f"{is_dead.sum()} of 256 units dead on all {len(x):,} digits; their weight gradients are all exactly 0:",
      bool(np.all(fc.grads["weights"][:, is_dead] == 0) and np.all(fc.grads["bias"][is_dead] == 0)))
assert np.all(fc.grads["weights"][:, is_dead] == 0)

# %% [markdown]
# A dead unit wastes its share of the network. Remedies: a sensible learning rate (notebook 11), a bias
# initialised at 0 (vgglib's default), and the initialisation of the next section, which keeps
# pre-activations centred with a sensible spread so that roughly half of the inputs activate each unit.

# %% [markdown]
# ## 4 · How large should the random weights be? (He initialisation)
#
# Follow one pre-activation through one layer:
# $z_j = \sum_{i=1}^{n} W_{ji}\, a_i$, where $n$ is the **fan-in** — the number of inputs one output sums over:
# $n = C\cdot k\cdot k$ for a convolution with $C$ input channels, $n = D$ for a fully connected layer with $D$
# inputs. Draw the weights independently with mean 0 and variance $\sigma^2$, independent of the inputs $a$.
# Then each term has mean 0 and variance $\sigma^2\,\mathbb{E}[a_i^2]$, and the $n$ terms are uncorrelated:
#
# $$
# \operatorname{Var}(z_j) = n\, \sigma^2\, \mathbb{E}[a^2] .
# $$
#
# The inputs are the outputs of the previous ReLU, $a = \max(0, z')$, with $z'$ symmetric around 0. Half of the
# time $a = z'$, the other half $a = 0$, so
#
# $$
# \mathbb{E}[a^2] = \tfrac12\, \mathbb{E}[z'^2] = \tfrac12 \operatorname{Var}(z')
# \quad\Longrightarrow\quad
# \operatorname{Var}(z) = \tfrac12\, n\, \sigma^2 \operatorname{Var}(z') .
# $$
#
# Each layer multiplies the variance by $\tfrac12 n \sigma^2$; after $L$ layers by $(\tfrac12 n\sigma^2)^L$. To
# keep it at 1:
#
# $$
# \boxed{\;\sigma^2 = \frac{2}{n}, \qquad \sigma = \sqrt{\frac{2}{\text{fan-in}}}\;}
# \qquad\text{(He et al., 2015)}
# $$
#
# Glorot & Bengio's initialisation, designed for symmetric activations like tanh, uses
# $\sigma^2 = 2/(\text{fan-in} + \text{fan-out})$, which is $1/n$ when both are equal: under ReLU it *halves*
# the variance at every layer. The factor 2 is exactly the half of the inputs that ReLU switches off.
#
# First a check of the one step the derivation rests on, $\mathbb{E}[\max(0,z)^2] = \tfrac12\operatorname{Var}(z)$:

# %%
z = np.random.default_rng(5).standard_normal(1_000_000) * 3.0
print(f"E[relu(z)²] = {np.mean(relu_forward(z) ** 2):.2f}   ½ Var(z) = {0.5 * z.var():.2f}")
assert abs(np.mean(relu_forward(z) ** 2) / (0.5 * z.var()) - 1) < 0.01

# %% [markdown]
# **The experiment.** Thirteen 3×3 convolutions with padding 1 and a ReLU after each — VGG16's depth, with 32
# channels to keep it quick — on 8 real, standardised digits. We try three spreads, $\sigma^2 = 1/n$ (too
# small: Glorot's for equal fan-in and fan-out), $2/n$ (He) and $4/n$ (too large), record the pre-activations
# $z$ of every layer, then send a random gradient back down and record $\partial L/\partial z$ at every layer.
# Each spread gets three random draws of the weights — the *same* three draws, only scaled — because one
# draw of a 32-channel layer is itself a little random.
#
# **Predict, then run.** $\sigma^2 = 1/n$ multiplies every weight by $c = 1/\sqrt2$ compared with He's $2/n$.
# The biases are 0, and ReLU passes a positive factor straight through: $\max(0, cz) = c\max(0, z)$. By what
# factor is the spread of layer 13's pre-activations then multiplied, compared with He's? Write a number
# before you run the experiment.

# %%
guess = None   # your prediction: a number (std of z at layer 13 with σ² = 1/n, divided by He's)

# %%
x0 = standardize(to_float(images[:8]))[:, None]                    # (8, 1, 28, 28) float32
inits = {"too small: σ² = 1/n": 1.0, "He: σ² = 2/n": 2.0, "too large: σ² = 4/n": 4.0}
depth, width, draws = 13, 32, 3
stats = {name: {"std": [], "grad": []} for name in inits}
for name, gain in inits.items():
    for draw in range(draws):
        rng = np.random.default_rng(10 + draw)
        convs = [Convolution2D(1 if i == 0 else width, width, 3, padding=1, rng=rng) for i in range(depth)]
        relus = [ReLU() for _ in range(depth)]
        for conv in convs:
            conv.params["weights"] *= np.sqrt(gain / 2)             # vgglib draws with σ² = 2/n; rescale
        a, pre = x0, []
        for conv, relu in zip(convs, relus):                        # forward
            z = conv.forward(a)
            pre.append(z)
            a = relu.forward(z)
        g, dz = rng.standard_normal(a.shape).astype(np.float32), []
        for conv, relu in zip(convs[::-1], relus[::-1]):            # backward
            g = relu.backward(g)
            dz.append(g)                                            # dL/dz of this layer
            g = conv.backward(g)
        stats[name]["std"].append([float(z.std()) for z in pre])
        stats[name]["grad"].append([float(d.std()) for d in dz[::-1]])
        if draw == 0:
            stats[name]["pre"] = pre
    ends = ", ".join(f"{s[-1]:.2g}" for s in stats[name]["std"])
    print(f"{name:>22}: std of z at layer 1 ≈ {stats[name]['std'][0][0]:.2g}, at layer 13: {ends}")

# %%
small, he = np.array(stats["too small: σ² = 1/n"]["std"]), np.array(stats["He: σ² = 2/n"]["std"])  # (draws, depth)
_ = reveal(guess, round(float(np.mean(small[:, -1] / he[:, -1])), 4), what="the experiment (mean of 3 draws)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
layers_axis = np.arange(1, depth + 1)
for color, name in enumerate(inits):
    for draw in range(draws):
        label = name if draw == 0 else None
        axes[0].semilogy(layers_axis, stats[name]["std"][draw], "o-", color=f"C{color}", label=label, ms=3)
        axes[1].semilogy(layers_axis, stats[name]["grad"][draw], "o-", color=f"C{color}", label=label, ms=3)
axes[0].set_title("forward: std of the pre-activations z")
axes[0].set_ylabel("std of z (log scale)")
axes[1].set_title("backward: std of dL/dz at each layer")
axes[1].set_ylabel("std of dL/dz (log scale)")
for ax in axes:
    ax.set_xlabel("layer")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %%
show, lim = [0, 4, 8, 12], 4.0
fig, axes = plt.subplots(3, len(show), figsize=(12, 6.5), sharex=True)
for row, name in enumerate(inits):
    for col, layer_idx in enumerate(show):
        values = stats[name]["pre"][layer_idx].ravel()
        ax = axes[row, col]
        ax.hist(np.clip(values, -lim, lim), bins=81, range=(-lim, lim), color=f"C{row}")
        ax.set_yticks([])
        ax.set_title(f"layer {layer_idx + 1}: std {values.std():.2g}", fontsize=9)
    axes[row, 0].set_ylabel(f"{name}\n(count)", fontsize=9)
for ax in axes[-1]:
    ax.set_xlabel("pre-activation z")
fig.suptitle("pre-activations z through 13 conv + ReLU layers (values beyond ±4 piled up at the edges)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Because ReLU is positively homogeneous ($\max(0, cz) = c\max(0, z)$ for $c > 0$) and the biases are 0,
# scaling every weight by $c$ scales layer $l$'s output by exactly $c^{\,l}$: the three curves of one draw are
# the same curve tilted by $2^{\pm l/2}$. With $\sigma^2 = 1/n$ the spread at layer 13 is $2^{-13/2} \approx 1\%$
# of He's — the histograms collapse into a spike at 0; with $4/n$ it is $2^{13/2} \approx 90\times$ He's and
# smears out of the picture. And He's own curves? They are not flat either: each draw ends at a different
# fraction of its layer-1 scale. The cell measures it, per draw, as the ratio (std at layer 13) / (std at
# layer 1), and as the average factor per layer, the 12th root of that ratio:

# %%
for name in inits:
    s = np.array(stats[name]["std"])
    ratio = s[:, -1] / s[:, 0]
    print(f"{name:>22}: layer 13 / layer 1 = {', '.join(f'{r:.2g}' for r in ratio)};  per layer "
          f"{', '.join(f'{r:.2f}' for r in ratio ** (1 / 12))};  layer 13 / He's layer 13 = "
          f"{np.mean(s[:, -1] / he[:, -1]):.3g}")
ratio = he[:, -1] / he[:, 0]
print(f"He: the final/first scale ratio spreads from {ratio.min():.2f} to {ratio.max():.2f} over the {draws} draws")
large = np.array(stats["too large: σ² = 4/n"]["std"])
print(f"per layer, compared with He's: σ² = 1/n × {np.mean(small[:, -1] / he[:, -1]) ** (1 / depth):.3f}, "
      f"σ² = 4/n × {np.mean(large[:, -1] / he[:, -1]) ** (1 / depth):.3f}")
assert np.allclose(small[:, -1] / he[:, -1], 2 ** -6.5, rtol=1e-3)  # ReLU is homogeneous: exactly c^13
assert np.all(np.abs(np.log(ratio ** (1 / 12))) < 0.15) and ratio.max() / ratio.min() > 2
grad = np.array(stats["He: σ² = 2/n"]["grad"])
print(f"He, backward: std of dL/dz at layer 1 / at layer 13 = {', '.join(f'{r:.2f}' for r in grad[:, 0] / grad[:, -1])}")

# %% [markdown]
# He's $2/n$ removes the **exponential** drift: its average factor per layer is close to 1 (0.88 to 1.01
# over the three draws), while $1/n$ multiplies every layer by a further $1/\sqrt2 \approx 0.707$ and $4/n$ by
# $\sqrt2 \approx 1.414$ (the cell's last line but one). What remains is a **random factor** that the
# derivation's averages do not see: one draw of a 32-channel layer multiplies the variance by
# $\tfrac12 n\sigma^2$ only on average, and thirteen such random factors in a row leave each draw at a
# different fraction of its starting scale — here from 0.22 to 1.10. The same holds in the backward direction
# (with as many input as output channels the fan-in and the fan-out are equal, so the same argument holds for
# gradients): $\partial L/\partial z$ keeps its order of magnitude from layer 13 down to layer 1.
#
# Is that random factor a property of narrow layers? Wider layers average over more terms, so each layer's
# factor should sit closer to its mean. A quick test with fully connected ReLU stacks (no convolution, so no
# border effects), 13 He-initialised layers of 8, 32, 128 and 512 units, 20 random draws of the weights each:

# %%
def scale_ratios(width, draws=20, depth=13, batch=16):
    '''std of z at the last layer / at the first, for `draws` He-initialised FC ReLU stacks of one width.'''
    ratios = []
    for draw in range(draws):
        rng = np.random.default_rng(100 + draw)
        a, first = rng.standard_normal((batch, width), dtype=np.float32), None
        for _ in range(depth):
            w = rng.standard_normal((width, width), dtype=np.float32) * np.float32(np.sqrt(2 / width))
            z = a @ w
            first = z.std() if first is None else first
            a = np.maximum(z, 0)
        ratios.append(z.std() / first)
    return np.array(ratios)


spread = {}
for width in (8, 32, 128, 512):
    r = scale_ratios(width)
    lo, hi = np.percentile(r, [10, 90])
    spread[width] = hi / lo
    print(f"width {width:>3}: layer 13 / layer 1, middle 80% of draws {lo:.2g} to {hi:.2g} (a factor "
          f"{hi / lo:.2g} apart); typical draw (geometric mean) {np.exp(np.log(r).mean()):.2f}; "
          f"variance ratio averaged over the draws {np.mean(r ** 2):.2f}")
assert all(spread[a] > spread[b] for a, b in [(8, 32), (32, 128), (128, 512)])

# %% [markdown]
# The random factor shrinks steadily with the width, and so does a second finite-width effect the cell
# shows: at width 8 the *typical* draw ends far below 1 (0.13), although the variance ratio averaged over the
# draws stays near 1 (0.87) — a product of random factors whose mean is 1 is usually below 1, and now and then
# far above. Neither compounds by
# a fixed factor per layer the way $1/n$ and $4/n$ do. VGG16's convolutions have 64 to 512 channels.
#
# Shrinking or exploding gradients mean that the layers far from the loss learn at a very different speed
# from the layers near it, or not at all. He et al. showed that a 30-layer ReLU network with Glorot's
# initialisation does not learn, while with $2/n$ it does.
#
# **vgglib's layers** draw their weights from $\mathcal N(0, 2/\text{fan-in})$ and set biases to 0:

# %%
conv = Convolution2D(512, 512, 3, padding=1, rng=np.random.default_rng(8))     # VGG16's conv4_2
fan_in = 512 * 3 * 3
measured = conv.params["weights"].std()
print(f"conv4_2: fan_in {fan_in}, weight std {measured:.5f}, sqrt(2/fan_in) = {np.sqrt(2 / fan_in):.5f}")
assert abs(measured / np.sqrt(2 / fan_in) - 1) < 0.01 and not conv.params["bias"].any()


# %% [markdown]
# ## 🐞 Spot the bug: a gate that looks at the wrong array
#
# > ReLU is not among the seed's known bugs, so here is the ReLU bug written most often from scratch. The
# > forward pass is right; the backward pass "applies ReLU to the gradient":
# >
# > ```python
# > def backward(self, dy):
# >     return np.maximum(dy, 0)      # looks like ReLU's derivative... is it?
# > ```
#
# It blocks the negative gradients and passes the positive ones — *regardless of whether the unit was active*.
# Whether a gradient passes must be decided by the forward input $x$, not by the sign of $dy$. A training
# run with this bug does not crash; it just learns badly. The numerical check catches it at once:

# %%
class BuggyReLU(ReLU):
    def _backward(self, dy):
        return np.maximum(dy, 0)


x = np.random.default_rng(9).standard_normal((2, 3, 4, 4))
print("correct ReLU:", {k: below(v, 1e-9) for k, v in check_layer(ReLU(), x).items()})
buggy = check_layer(BuggyReLU(), x)
print("buggy ReLU:  ", {k: f"{v:.2f}" for k, v in buggy.items()})
assert 0.1 < buggy["dx"] < 1


# %% [markdown]
# A correct backward pass agrees with the numerical gradient to better than the $10^{-9}$ we check; an
# error of order $0.1$–$1$ (here $0.51$) means a wrong formula, not rounding.
# The same goes for the classic initialisation bug, `np.random.randn(...) * 0.01`: nothing crashes, but the
# activations of the top layers are tiny — the "too small" curve above, only worse. A look at the activation
# statistics, as in section 4, catches it.

# %% [markdown]
# ## Summary
#
# | | formula | note |
# |---|---|---|
# | ReLU | $y = \max(0, x)$ | any shape; no parameters |
# | gradient | $dx = dy \odot \mathbb{1}[x > 0]$ | a gate; 0 at $x = 0$ (vgglib, PyTorch) |
# | dead unit | $z \le 0$ for every input | zero gradient forever |
# | one layer | $\operatorname{Var}(z) = \tfrac12\, n\, \sigma^2 \operatorname{Var}(z')$ | $n$ = fan-in = $C k^2$ (conv), $D$ (FC) |
# | He init | $\sigma = \sqrt{2 / \text{fan-in}}$, bias 0 | keeps the variance through ReLU layers |
# | Glorot | $\sigma^2 = 2/(\text{fan-in}+\text{fan-out})$ | halves the variance per ReLU layer |
#
# **Remember:** check activation and gradient statistics layer by layer before you train a deep network —
# a flat line on a log scale is what you want.
#
# Next: **04 · Pooling** — the five layers that halve VGG16's feature maps, and how their gradient finds the
# winner.

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a self-check that says whether your answer is right and, if not, gives a hint —
# never the answer. Worked solutions are in `solutions/03_relu_and_initialization_solutions.ipynb`.
#
# **Exercise 1 (easy).** Write `my_relu_backward(dy, x)` — without looking at section 2. The check includes
# inputs that are exactly 0.

# %% tags=["exercise-1"]
def my_relu_backward(dy, x):
    raise NotImplementedError   # your code here


check_relu_backward(my_relu_backward)

# %% [markdown]
# **Exercise 2 (medium).** He's factor 2 comes from ReLU switching off half of its inputs. A **leaky ReLU**
# switches off nothing: it passes positive inputs unchanged and multiplies negative ones by a slope $\alpha$,
#
# $$ a = \begin{cases} z' & z' > 0 \\ \alpha\, z' & z' \le 0 \end{cases}, \qquad \alpha = 0.5 . $$
#
# A 3×3 convolution with 64 input channels and 128 filters reads the output of such a leaky ReLU, whose
# input $z'$ is symmetric around 0. Redo section 4's derivation for this unit: which standard deviation
# $\sigma$ of the convolution's weights keeps $\operatorname{Var}(z) = \operatorname{Var}(z')$? Give a number.

# %% tags=["exercise-2"]
answer = None   # your answer: a number (the weights' standard deviation)
check_leaky_relu_std(answer)


# %% [markdown]
# **Exercise 3 (medium).** Write `init_std(fan_in)` returning the standard deviation of the weights of a
# layer with that fan-in. The check builds a 20-layer fully connected ReLU network whose widths change from
# layer to layer (784 → 400 → 100 → 256 → 64 → …), initialises it with your function, and passes 256 random
# inputs through it: the activations must keep their scale within a factor 4.

# %% tags=["exercise-3"]
def init_std(fan_in):
    return 0.01   # the classic guess; improve it


check_init_scale(init_std)
