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
# # 05 · Flatten and fully connected layers
#
# After thirteen convolutions and five poolings, VGG16 holds a small stack of feature maps: for the seed
# project's 64×64 MNIST digits it is 512 maps of 2×2 pixels, for the original 224×224 ImageNet photos
# 512 maps of 7×7. Three **fully connected** (FC) layers turn that stack into class scores (ten for MNIST,
# 1000 for ImageNet). They are the
# simplest layers of the network — a matrix product and a bias — and at the same time the biggest: the FC
# layers hold 89% of VGG16's 138 million parameters.
#
# Before an FC layer can read the feature maps, they have to become one long vector per image: that is
# **Flatten**, which moves no data at all. Then we derive the three gradients of the FC layer, check them
# numerically, and look at the seed's FC layer, whose gradients came out with the wrong shapes.
#
# **Learning goals** — after this notebook you can
#
# - explain Flatten as a reshape, and compute where any feature-map entry lands in the flat vector;
# - write an FC layer for a whole batch as one matrix product $Y = XW + b$, stating every shape;
# - derive $\frac{\partial L}{\partial W} = X^\top\,dY$, $\frac{\partial L}{\partial b} = \sum_n dY_{n,:}$
#   and $\frac{\partial L}{\partial X} = dY\,W^\top$, index by index;
# - check those gradients against numerical derivatives, and say why a gradient must have the shape of its
#   parameter (and why a shape check alone misses a transposed square matrix).

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import Flatten, FullyConnected, check_layer, numerical_gradient, relative_error
from vgglib.gradcheck import magnitude
from vgglib.exercises import check_fc_parameters_stl10, check_flatten_index, check_linear_backward, reveal
from vgglib.mnist import load_mnist
from vgglib.model import VGG16
from vgglib.preprocess import to_float
from vgglib.summarize import summary
from vgglib.viz import IMAGE_CMAP

np.set_printoptions(precision=4, suppress=True)
print("vgglib", vgglib.__version__)


# %% [markdown]
# ## 1 · Flatten: a reshape, nothing more
#
# A batch of feature maps has shape $(N, C, H, W)$. Flatten turns every image's $C\times H\times W$ block into
# one vector of $D = C\cdot H\cdot W$ numbers, giving shape $(N, D)$. numpy stores an array as one long run of
# numbers in **row-major** order (the last axis moves fastest), so the flat vector is exactly that run, and
# `x.reshape(N, -1)` only changes the bookkeeping — no number is copied or moved.
#
# Entry $(c, h, w)$ of an image lands at position
#
# $$ i = c\cdot H W + h\cdot W + w, $$
#
# because $c$ whole channels of $H W$ values come before it, then $h$ whole rows of $W$ values of its own
# channel, then $w$ values of its own row. A tiny example with $C = 2$, $H = 2$, $W = 3$:

# %%
x = np.arange(12, dtype=float).reshape(1, 2, 2, 3)      # (N, C, H, W) = (1, 2, 2, 3)
flat = Flatten().forward(x)
print("channel 0:\n", x[0, 0], "\nchannel 1:\n", x[0, 1])
print("flattened:", flat, "shape", flat.shape)

C, H, W = x.shape[1:]
for c in range(C):
    for h in range(H):
        for w in range(W):
            assert flat[0, c * H * W + h * W + w] == x[0, c, h, w]
print("every (c, h, w) sits at c*H*W + h*W + w  ✓")

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 2.4), gridspec_kw={"width_ratios": [3, 3, 12]})
shade = dict(cmap=IMAGE_CMAP, vmin=0, vmax=11)                     # the same grey for the same number
for c in range(2):
    ax = axes[c]
    ax.imshow(x[0, c], **shade)
    for (h, w), v in np.ndenumerate(x[0, c]):
        ax.text(w, h, f"{v:.0f}", ha="center", va="center", fontsize=12, color="white" if v < 6 else "black")
    ax.set_title(f"channel {c}")
    ax.set_xlabel("w")
    ax.set_ylabel("h")
    ax.set_xticks(range(W))
    ax.set_yticks(range(H))
axes[2].imshow(flat, **shade)
for i, v in enumerate(flat[0]):
    axes[2].text(i, 0, f"{v:.0f}", ha="center", va="center", fontsize=12, color="white" if v < 6 else "black")
axes[2].set_title("after Flatten: channel 0's rows, then channel 1's rows")
axes[2].set_xlabel("position i")
axes[2].set_xticks(range(12))
axes[2].set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# **Backward** is the same reshape in the other direction: Flatten only relabels entries, so the gradient of
# entry $i$ of the flat vector *is* the gradient of entry $(c, h, w)$, and
# `dx = dy.reshape(x.shape)`. A gradient check agrees; the analytic gradient is exact here, so the small error
# that remains is the rounding inside the numerical derivative itself (section 5 explains the check):

# %%
errors = check_layer(Flatten(), np.random.default_rng(0).standard_normal((3, 2, 4, 4)))
print("Flatten gradient check: relative error of dx ≈", magnitude(errors["dx"]))
assert errors["dx"] < 1e-7

# %% [markdown]
# ### On a real digit
#
# An MNIST digit is a single-channel 28×28 image, so flattening it lays its 28 rows end to end: 784 numbers.
# Below, the flat vector is plotted as a curve — each bump is a row crossing the stroke. Reshaping it back
# returns the digit, but only if we use the *same* order: reading the run column-major (`order="F"`) mirrors
# the digit across its diagonal. The same thing happens in a real network when weights saved for one layout
# (NCHW) are loaded into another (NHWC): no error, just a model that has forgotten everything.

# %%
images, labels = load_mnist("train")                 # the embedded sample: uint8 (6000, 28, 28)
digit = to_float(images[:1])[:, None]                # (1, 1, 28, 28), float32 in [0, 1]
v = Flatten().forward(digit)                         # (1, 784)
print("digit", digit.shape, "-> flat", v.shape, "; label", labels[0])

fig = plt.figure(figsize=(11, 3.2))
ax = fig.add_axes([0.03, 0.1, 0.17, 0.8])
ax.imshow(digit[0, 0], cmap=IMAGE_CMAP)
ax.set_title("digit (28×28)")
ax.axis("off")
ax = fig.add_axes([0.25, 0.18, 0.45, 0.7])
ax.plot(v[0], lw=0.8)
for r in range(1, 28):
    ax.axvline(28 * r, color="0.85", lw=0.5, zorder=0)
ax.set_title("the 784 values of the flat vector (grey lines: row boundaries)")
ax.set_xlabel("position i")
ax.set_ylabel("pixel value")
ax = fig.add_axes([0.78, 0.1, 0.2, 0.8])
ax.imshow(v[0].reshape(28, 28, order="F"), cmap=IMAGE_CMAP)
ax.set_title('reshaped back with order="F"')
ax.axis("off")
plt.show()
assert np.array_equal(v.reshape(digit.shape), digit)

# %% [markdown]
# ## 2 · The fully connected layer: one matrix product for the whole batch
#
# Each of the $M$ outputs of an FC layer is a weighted sum of *all* $D$ inputs plus a bias. Stacking the
# $N$ input vectors of a batch as the rows of $X$ and the $M$ weight vectors as the **columns** of $W$, all
# $N\cdot M$ sums are one matrix product:
#
# $$
# Y = X W + b, \qquad
# \underbrace{X}_{(N,\,D)}\;\underbrace{W}_{(D,\,M)}\;\underbrace{b}_{(M,)}\;\longrightarrow\;\underbrace{Y}_{(N,\,M)},
# \qquad
# Y_{nj} = \sum_{i=1}^{D} X_{ni}\,W_{ij} + b_j .
# $$
#
# The bias $b$ has one entry per output and is added to every row (numpy broadcasting). vgglib stores $W$ as
# $(D, M)$ — *inputs × outputs*, the seed's convention — so `x @ W` needs no transpose.
#
# By hand, with $D = 2$ inputs and $M = 3$ outputs: $x = (1, 2)$, columns of $W$ = $(1, 0.5)$, $(0, 1)$,
# $(-1, 2)$, $b = (0, 1, -1)$ give $y = (1 + 1 + 0,\; 0 + 2 + 1,\; -1 + 4 - 1) = (2, 3, 2)$:

# %%
fc = FullyConnected(2, 3).astype(np.float64)
fc.params["weights"][:] = [[1.0, 0.0, -1.0],
                           [0.5, 1.0, 2.0]]
fc.params["bias"][:] = [0.0, 1.0, -1.0]
y = fc.forward(np.array([[1.0, 2.0]]))
print("y =", y)
assert np.array_equal(y, [[2.0, 3.0, 2.0]])

# %% [markdown]
# ### What a column of $W$ means: a template
#
# Output $j$ is the dot product of the input with column $W_{:,j}$ — large when the input looks like that
# column. So a column is a **template**, and an FC layer compares its input with $M$ templates at once.
# We can see this on real digits without any training: make column $j$ the *average image of digit $j$*
# and pick $b_j = -\tfrac12\lVert W_{:,j}\rVert^2$. Then
# $Y_{nj} = x_n\cdot W_{:,j} - \tfrac12\lVert W_{:,j}\rVert^2 = -\tfrac12\lVert x_n - W_{:,j}\rVert^2 + \tfrac12\lVert x_n\rVert^2$,
# so the largest score belongs to the nearest class average — a 784 → 10 FC layer set by hand.
#
# **Predict, then run.** Ten averaged images and no training at all: what fraction of the 1,000 test digits
# will this layer classify correctly? (Guessing at random gets 10%.)

# %%
guess = None   # your prediction: a fraction between 0 and 1

# %%
X_train = to_float(images).reshape(len(images), -1)            # (6000, 784)
test_images, test_labels = load_mnist("test")
X_test = to_float(test_images).reshape(len(test_images), -1)    # (1000, 784)

templates = np.stack([X_train[labels == k].mean(axis=0) for k in range(10)], axis=1)   # (784, 10)
fc = FullyConnected(784, 10)
fc.params["weights"][:] = templates
fc.params["bias"][:] = -0.5 * (templates ** 2).sum(axis=0)

scores = fc.forward(X_test)                                       # (1000, 10)
accuracy = (scores.argmax(axis=1) == test_labels).mean()
print(f"W {fc.params['weights'].shape}, b {fc.params['bias'].shape}, scores {scores.shape}")
print(f"nearest-template accuracy on the {len(X_test):,} test digits: {accuracy:.1%}")
_ = reveal(guess, round(float(accuracy), 3), rel_tol=0.1, what="the layer")

fig, axes = plt.subplots(1, 10, figsize=(11, 1.6))
for j, ax in enumerate(axes):
    ax.imshow(templates[:, j].reshape(28, 28), cmap=IMAGE_CMAP)
    ax.set_title(f"W[:, {j}]", fontsize=9)
    ax.axis("off")
fig.suptitle("the ten columns of W, each reshaped to 28×28", y=1.05)
plt.show()


# %% [markdown]
# 77% from averaging — not bad for zero training, and far from what learning gets (notebook 06 trains this
# very layer, and VGG16 in notebook 09 does much better by learning good features first). In VGG16 the FC
# layers read feature maps instead of pixels, but the principle is the same: each column of `fc3`'s weights is
# a template over the 4096 features of `fc2`.

# %% [markdown]
# ## 3 · The backward pass, derived
#
# During backpropagation the layer receives $dY = \partial L/\partial Y$, shape $(N, M)$: how the loss changes
# with each output. It must return $dX = \partial L/\partial X$ (for the layer below) and fill the parameter
# gradients $dW$ and $db$. Every derivation uses the chain rule through all outputs that depend on the variable:
#
# $$ \frac{\partial L}{\partial \theta} = \sum_{n=1}^{N}\sum_{k=1}^{M} \frac{\partial L}{\partial Y_{nk}}\,
#    \frac{\partial Y_{nk}}{\partial \theta} = \sum_{n,k} dY_{nk}\,\frac{\partial Y_{nk}}{\partial \theta}. $$
#
# From $Y_{nk} = \sum_i X_{ni} W_{ik} + b_k$ we read off the three partial derivatives
# ($\delta_{ab}$ is 1 when $a = b$ and 0 otherwise):
#
# $$ \frac{\partial Y_{nk}}{\partial W_{ij}} = X_{ni}\,\delta_{kj}, \qquad
#    \frac{\partial Y_{nk}}{\partial b_j} = \delta_{kj}, \qquad
#    \frac{\partial Y_{nk}}{\partial X_{mi}} = \delta_{nm}\,W_{ik}. $$
#
# **Weights.** The $\delta_{kj}$ keeps only $k = j$:
#
# $$ dW_{ij} = \sum_{n,k} dY_{nk}\,X_{ni}\,\delta_{kj} = \sum_{n} X_{ni}\, dY_{nj} = (X^\top dY)_{ij},
#    \qquad \underbrace{X^\top}_{(D,\,N)}\,\underbrace{dY}_{(N,\,M)} \to (D, M) = \text{shape of } W \quad\text{✓} $$
#
# **Bias.**
#
# $$ db_j = \sum_{n,k} dY_{nk}\,\delta_{kj} = \sum_{n} dY_{nj},
#    \qquad \text{the column sums of } dY:\ (M,) = \text{shape of } b \quad\text{✓} $$
#
# The bias is shared by all $N$ samples, so its gradient adds up their contributions.
#
# **Inputs.** The $\delta_{nm}$ keeps only sample $n = m$ — samples do not mix:
#
# $$ dX_{mi} = \sum_{n,k} dY_{nk}\,\delta_{nm}\,W_{ik} = \sum_{k} dY_{mk}\,W_{ik} = (dY\,W^\top)_{mi},
#    \qquad \underbrace{dY}_{(N,\,M)}\,\underbrace{W^\top}_{(M,\,D)} \to (N, D) = \text{shape of } X \quad\text{✓} $$
#
# Notice the pattern: **a gradient always has the shape of the thing it differentiates**, and for these
# products there is only one way to combine $X$, $W$ and $dY$ into that shape. That makes a good memory aid —
# and a good first test — but not a proof: if $W$ is square, $dW$ and $dW^\top$ have the same shape.
# The sum over $n$ in $dW$ and $db$ is *not* divided by $N$: if the loss is a mean over the batch, its $1/N$
# is already inside $dY$.

# %% [markdown]
# ## 4 · Naive code: loops that mirror the formulas
#
# Before trusting a matrix product, write each sum as a loop. Slow, but every line is one symbol of the
# derivation.

# %%
def fc_forward_naive(x, W, b):
    N, D = x.shape
    M = W.shape[1]
    y = np.zeros((N, M))
    for n in range(N):
        for j in range(M):
            y[n, j] = b[j]
            for i in range(D):
                y[n, j] += x[n, i] * W[i, j]
    return y


def fc_backward_naive(x, W, dy):
    N, D = x.shape
    M = W.shape[1]
    dx, dW, db = np.zeros((N, D)), np.zeros((D, M)), np.zeros(M)
    for n in range(N):
        for j in range(M):
            db[j] += dy[n, j]                         # db_j  = sum_n dY_nj
            for i in range(D):
                dW[i, j] += x[n, i] * dy[n, j]        # dW_ij = sum_n X_ni dY_nj
                dx[n, i] += dy[n, j] * W[i, j]        # dX_ni = sum_j dY_nj W_ij
    return dx, dW, db


# %% [markdown]
# ## 5 · The check: numerical gradients
#
# A derivative is a limit, so we can measure it: nudge one number by $\pm\varepsilon$ and watch the loss,
# $\frac{\partial L}{\partial \theta} \approx \frac{L(\theta + \varepsilon) - L(\theta - \varepsilon)}{2\varepsilon}$
# (central differences, error $O(\varepsilon^2)$). As loss we take $L = \sum_{n,j} Y_{nj} R_{nj}$ with a fixed
# random $R$, so $dY = R$ — any $dY$ is equally good for checking the layer. `vgglib.numerical_gradient`
# does the nudging (in float64: float32 rounding would swamp the differences). We compare with the
# **relative error** $\lVert a - b\rVert / (\lVert a\rVert + \lVert b\rVert)$; in float64, around $10^{-10}$
# means correct, around $1$ means wrong.

# %%
rng = np.random.default_rng(0)
N, D, M = 4, 5, 3
x = rng.standard_normal((N, D))
W = rng.standard_normal((D, M))
b = rng.standard_normal(M)
R = rng.standard_normal((N, M))                       # dL/dY for L = sum(Y * R)

def loss():
    return float((fc_forward_naive(x, W, b) * R).sum())

dx, dW, db = fc_backward_naive(x, W, R)
numeric = {"dx": numerical_gradient(loss, x), "dW": numerical_gradient(loss, W),
           "db": numerical_gradient(loss, b)}
errors = {}
for key, analytic in (("dx", dx), ("dW", dW), ("db", db)):
    assert analytic.shape == numeric[key].shape, key
    errors[key] = relative_error(analytic, numeric[key])
    print(f"{key}: shape {analytic.shape}")
print(f"largest relative error ≈ {magnitude(max(errors.values()))}  (must be < 1e-8)")
assert max(errors.values()) < 1e-8, errors

# %% [markdown]
# ## 6 · The real thing: `vgglib.FullyConnected`
#
# The library layer is the three formulas as matrix products (read `FullyConnected._backward` in
# `vgglib/layers.py`: three lines). It must agree with the loops, and pass `check_layer`, the same numerical
# check packaged for any layer:

# %%
layer = FullyConnected(D, M).astype(np.float64)
layer.params["weights"][:] = W
layer.params["bias"][:] = b
y = layer.forward(x)
dx_lib = layer.backward(R)
assert np.allclose(y, fc_forward_naive(x, W, b), rtol=1e-12, atol=1e-12)
for key, ours, lib in (("dx", dx, dx_lib), ("dW", dW, layer.grads["weights"]), ("db", db, layer.grads["bias"])):
    assert np.allclose(ours, lib, rtol=1e-12, atol=1e-12), key
print("vgglib == naive loops for y, dx, dW, db  ✓")

errors = check_layer(FullyConnected(20, 7, rng=np.random.default_rng(5)).astype(np.float64),
                     np.random.default_rng(6).standard_normal((6, 20)))
print(f"check_layer checked {sorted(errors)}: largest relative error ≈ {magnitude(max(errors.values()))}")
assert max(errors.values()) < 1e-8

# %% [markdown]
# And the reason we write matrix products instead of loops — a quick timing (the numbers depend on your
# machine):

# %% tags=["nbval-ignore-output"]
rng = np.random.default_rng(3)
xb, Wb, bb, dyb = (rng.standard_normal(s) for s in ((8, 256), (256, 64), (64,), (8, 64)))
layer = FullyConnected(256, 64).astype(np.float64)
layer.params["weights"][:], layer.params["bias"][:] = Wb, bb

t0 = time.perf_counter(); fc_backward_naive(xb, Wb, dyb); t_naive = time.perf_counter() - t0
t0 = time.perf_counter()
for _ in range(100):
    layer.forward(xb); layer.backward(dyb)
t_lib = (time.perf_counter() - t0) / 100
print(f"naive backward: {t_naive * 1e3:.1f} ms, vgglib forward+backward: {t_lib * 1e3:.3f} ms "
      f"(about {t_naive / t_lib:,.0f}x faster)")


# %% [markdown]
# ### The FC layers of VGG16
#
# With the shapes in hand we can count. An FC layer with $D$ inputs and $M$ outputs has $D\cdot M$ weights
# and $M$ biases, and costs $D\cdot M$ multiply-adds per image. For the original VGG16 (224×224×3 input,
# 1000 classes) `fc1` reads the flattened $512\times7\times7 = 25{,}088$ values; for the seed's 64×64×1 MNIST
# variant it reads $512\times2\times2 = 2{,}048$.

# %%
def fc_table(flat_inputs, classes):
    return [("fc1", flat_inputs, 4096), ("fc2", 4096, 4096), ("fc3", 4096, classes)]

rows = summary(VGG16.spec(3, 1000, 224), print_table=False).rows   # notebook 08; no weights allocated
conv_params_224 = sum(r.params for r in rows if r.type == "Convolution2D")   # the 13 convolutions
for title, table in (("VGG16, 224×224×3, 1000 classes", fc_table(512 * 7 * 7, 1000)),
                     ("seed's VGG16, 64×64×1, 10 classes", fc_table(512 * 2 * 2, 10))):
    print(title)
    for name, d, m in table:
        print(f"  {name}: W ({d:>6,}, {m:>5,}) + b ({m:>5,},) = {d * m + m:>12,} parameters")
fc_224 = sum(d * m + m for _, d, m in fc_table(512 * 7 * 7, 1000))
total = conv_params_224 + fc_224
print(f"the 13 convolutions: {conv_params_224:,} parameters; "
      f"FC share of VGG16's {total:,} parameters: {fc_224 / total:.1%}")
fc1_params, fc1_macs = 25_088 * 4096 + 4096, 25_088 * 4096        # D·M + M parameters, D·M multiply-adds
macs = sum(r.macs for r in rows)
print(f"fc1 alone: {fc1_params / 1e6:.1f} million parameters ({fc1_params / total:.0%} of the network), "
      f"{fc1_macs / macs:.1%} of its {macs / 1e9:.2f} billion multiply-adds per image")
assert total == 138_357_544 == sum(r.params for r in rows)          # the published count

fig, ax = plt.subplots(figsize=(7, 1.8))
ax.barh([0], [conv_params_224 / 1e6], color="tab:blue", label="13 conv layers")
left = conv_params_224 / 1e6
for (name, d, m), color in zip(fc_table(512 * 7 * 7, 1000), ("tab:orange", "tab:red", "tab:purple")):
    ax.barh([0], [(d * m + m) / 1e6], left=left, color=color, label=name)
    left += (d * m + m) / 1e6
ax.set_yticks([0], ["VGG16"])
ax.set_xlabel("millions of parameters (VGG16, 224×224×3)")
ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, 1.45), frameon=False)
plt.show()


# %% [markdown]
# `fc1` alone is 102.8 million parameters — 74% of the network — for 0.7% of its multiply-adds (the cell's
# last line). This is why later networks (GoogLeNet, ResNet) replaced it with global average pooling.

# %% [markdown]
# ## 🐞 Spot the bug: the seed's gradient shapes
#
# > The seed's `FullyConnected` followed a pattern that is copied in many from-scratch numpy CNNs. Its bias is
# > a **column** `(M, 1)`, and its backward pass **guesses** the orientation of `dy` from the shapes:
# >
# > ```python
# > def backward(self, dy):
# >     if dy.shape[0] == self.inputs.shape[0]:   # (N, M)? then make it (M, N)
# >         dy = dy.T
# >     dw = dy.dot(self.inputs)                  # (M, N) @ (N, D) -> (M, D): the TRANSPOSE of W's shape
# >     db = np.sum(dy, axis=1, keepdims=True)    # (M, 1): a column, while forward adds bias.T (1, M)
# >     dx = np.dot(dy.T, self.weights.T)
# >     self.weights -= self.lr * dw.T            # ...transposed back, just in time
# >     self.bias -= self.lr * db
# >     return dx
# > ```
# >
# > What is wrong, if the values are right?
#
# The numbers in `dw` are correct, but they never exist in the shape of `W`: the layer only works because the
# update sits *inside* `backward` and transposes at the last moment. Everything a real training loop needs
# breaks the moment the gradient leaves the layer — an optimizer with momentum or Adam keeps state of `W`'s
# shape, a checkpoint stores it, a gradient check compares it. Let us hand the seed's gradients to the
# obvious optimizer step `p -= lr * grad`:

# %%
def seed_gradients(x, W, dy):
    '''The seed's backward pass, returning its gradients instead of applying them.'''
    if dy.shape[0] == x.shape[0]:
        dy = dy.T
    dw = dy.dot(x)
    db = np.sum(dy, axis=1, keepdims=True)
    dx = np.dot(dy.T, W.T)
    return dx, dw, db


rng = np.random.default_rng(4)
x, dy = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
W, b = rng.standard_normal((5, 3)), np.zeros(3)
dx_s, dw_s, db_s = seed_gradients(x, W, dy)
print(f"W {W.shape} but dw {dw_s.shape};  b {b.shape} but db {db_s.shape}")
try:
    W -= 0.1 * dw_s
except ValueError as err:
    print("W -= lr * dw  ->  ValueError:", err)

# %% [markdown]
# A loud error is the *good* case. Two silent ones hide behind it:
#
# 1. **A square weight matrix.** VGG16's `fc2` is $4096\times4096$, so `dw` and `dw.T` have the same
#    shape and nothing complains when the transpose is forgotten. The update then uses
#    $(X^\top dY)^\top$ — a different matrix — and training quietly goes wrong.
# 2. **The column bias.** `b - lr * db` with `b` of shape `(M,)` and `db` of shape `(M, 1)` broadcasts to an
#    `(M, M)` *matrix*; the next forward pass `x @ W + b` then returns `(N, M) + (M, M)`, an error — unless
#    $N = M$ (a batch of 10 with 10 classes!), when it silently returns garbage of the right shape.

# %%
rng = np.random.default_rng(6)
x, dy, W = rng.standard_normal((6, 6)), rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
_, dw_s, db_s = seed_gradients(x, W, dy)
print(f"square W: dw has shape {dw_s.shape} == W.shape, relative error vs the true gradient:",
      f"{relative_error(dw_s, x.T @ dy):.2f}")

b = np.zeros(6)
b = b - 0.1 * db_s
y = x @ W + b
print(f"bias after one step has shape {b.shape} instead of (6,); the next forward pass x @ W + b still "
      f"returns {y.shape}: no error, wrong numbers")

# %% [markdown]
# **How our checks catch it.** vgglib's layer contract says `grads[key]` has the shape of `params[key]` — the
# unit tests assert it for every layer — which catches the non-square case and the column bias immediately.
# The square case passes any shape test; only a comparison of *values*, the numerical gradient check of
# section 5, sees a relative error of order 1 instead of $10^{-10}$. That is why every layer in this series
# gets both checks.

# %% [markdown]
# ## Summary
#
# | | forward | backward | shapes |
# |---|---|---|---|
# | Flatten | `y = x.reshape(N, -1)` | `dx = dy.reshape(x.shape)` | $(N, C, H, W) \leftrightarrow (N, CHW)$ |
# | position of $(c, h, w)$ | $i = c\,HW + h\,W + w$ | same map | row-major (last axis fastest) |
# | FC | $Y = XW + b$ | $dX = dY\,W^\top$ | $X (N, D)$, $W (D, M)$, $b (M,)$, $Y (N, M)$ |
# | | | $dW = X^\top dY$ | $(D, M)$, like $W$ |
# | | | $db = \sum_n dY_{n,:}$ | $(M,)$, like $b$ |
# | parameters | $D\cdot M + M$ | multiply-adds $D\cdot M$ per image | VGG16's FC layers: 89% of its parameters |
#
# **Remember:** a gradient has the shape of what it differentiates; a shape check is necessary but not
# sufficient — a numerical gradient check is what proves a backward pass.
#
# Next: **06 · Softmax and cross-entropy** turns the ten scores of `fc3` into probabilities and a loss, and
# gives the $dY$ that starts the whole backward pass.

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a self-check that says whether your answer is right and, if not, gives a hint —
# never the answer. Worked solutions are in `solutions/05_flatten_and_fully_connected_solutions.ipynb`.
#
# **Exercise 1 (easy).** In the seed's VGG16 the last pooling leaves a $(512, 2, 2)$ feature map per image.
# After `Flatten`, at which position (counting from 0) is the entry of channel 3, row 1, column 0?

# %% tags=["exercise-1"]
answer = None   # your answer: a whole number
check_flatten_index(answer)

# %% [markdown]
# **Exercise 2 (medium).** STL-10 is a photo data set of 96×96 colour images in 10 classes. Build VGG16 for
# it — the same 13 convolutions (3×3, padding 1) and five 2×2 max-poolings, then `fc1` and `fc2` with 4096
# outputs and `fc3` with 10. How many parameters (weights *and* biases) do its three FC layers hold together?

# %% tags=["exercise-2"]
answer = None   # your answer: a whole number
check_fc_parameters_stl10(answer)


# %% [markdown]
# **Exercise 3 (harder).** PyTorch's `nn.Linear` stores its weights the other way round: $W$ has shape
# $(M, D)$ — *outputs × inputs*, one row per output — and the layer computes $Y = X W^\top + b$. Derive the
# three gradients for this layout, index by index as in section 3, and write `linear_backward(x, W, dy)`
# with matrix products only (no loops), returning `(dx, dW, db)`. The check tries a non-square $W$, a square
# one, a batch of one and float32.

# %% tags=["exercise-3"]
def linear_backward(x, W, dy):
    '''x (N, D), W (M, D), dy (N, M) -> dx (N, D), dW (M, D), db (M,).'''
    raise NotImplementedError


check_linear_backward(linear_backward)
