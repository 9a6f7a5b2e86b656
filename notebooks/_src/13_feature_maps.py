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
# # 13 · Feature maps: looking inside VGG16
#
# Every convolution of VGG16 turns a stack of images into another stack of images — its **feature maps**, one
# per filter. For a digit, the first layer's maps are the digit seen through 3×3 edge and blob detectors; deeper
# maps get smaller and more abstract, until after `pool5` a single number per channel is left for the
# classifier. The seed project never looked at them. This notebook does: it computes what each layer "sees",
# how much of the input each unit can see at all (its **receptive field**), and ends with an interactive
# explorer — pick a digit, a layer and a range of channels, and watch.
#
# **Learning goals** — after this notebook you can
#
# - compute the shape of every layer's feature maps and explain why they shrink and multiply;
# - derive the receptive field of a unit, $r_l = r_{l-1} + (k_l - 1)\,J_{l-1}$, and check it with backprop;
# - read first-layer filters and feature maps of a trained network, and tell them from an untrained one's;
# - avoid the classic visualisation mistake (one colour scale for all channels);
# - use the feature-map explorer on the model of notebook 09, or one trained here.

# %%
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import checkpoint
from vgglib.mnist import load_mnist
from vgglib.exercises import check_pool3_shape, check_conv3_1_receptive_field, check_top_activating
from vgglib.model import VGG16, vgg16_layer_configs
from vgglib.optim import Adam
from vgglib.train import evaluate, fit
from vgglib.viz import show_feature_maps, show_filters, tile
from vgglib.widgets import feature_map_explorer

np.set_printoptions(precision=3, suppress=True)
print("vgglib", vgglib.__version__)

X_train, y_train = load_mnist("train")
X_test, y_test = load_mnist("test")

# %% [markdown]
# ## 1 · By hand: one filter, one feature map
#
# A 3×3 filter that responds to vertical edges (dark on the left, bright on the right), slid over a 5×5 image
# whose two right-hand columns are bright. Each output value is the sum of the filter times the 3×3 patch under it; the ReLU
# then keeps only the positive responses. The map lights up exactly where the edge is — that is all a feature
# map is: *where* in the image the filter's pattern occurs, and how strongly.

# %%
image = np.zeros((5, 5))
image[:, 3:] = 1.0                                      # bright right part
edge = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=float)
fmap = np.array([[np.sum(edge * image[i:i + 3, j:j + 3]) for j in range(3)] for i in range(3)])
print("image:\n", image)
print("feature map (valid 3x3 positions):\n", fmap)
print("after ReLU:\n", np.maximum(fmap, 0))


# %% [markdown]
# ## 2 · The math: shapes and receptive fields
#
# **Feature maps.** Layer $l$ of VGG16 maps the stack $A^{(l-1)}$ of shape $(C_{l-1}, H, W)$ to
#
# $$ A^{(l)}_c = \operatorname{ReLU}\Big(b_c + \sum_{c'=1}^{C_{l-1}} W_{c,c'} \star A^{(l-1)}_{c'}\Big), \qquad
#    c = 1, \dots, C_l, \qquad A^{(l)} \text{ of shape } (C_l, H, W), $$
#
# with 3×3 kernels and padding 1 (the size stays), and every 2×2 max-pool halves $H$ and $W$. At 64×64 (the
# seed's input) the blocks give $64 \to 32 \to 16 \to 8 \to 4 \to 2$ pixels, while the channels grow
# $64 \to 128 \to 256 \to 512 \to 512$: fewer positions, more kinds of pattern per position.
#
# **Receptive field.** Which input pixels can influence one unit of layer $l$? Track two numbers through the
# layers: the field's side $r$ and the **jump** $J$ — how many input pixels apart two neighbouring units of the
# layer are. The input has $r_0 = 1$, $J_0 = 1$. A layer with kernel (or pooling window) $k$ and stride $s$ sees
# $k$ neighbouring units of the layer below, each $J_{l-1}$ input pixels apart:
#
# $$ r_l = r_{l-1} + (k_l - 1)\, J_{l-1}, \qquad J_l = J_{l-1}\, s_l . $$
#
# 3×3 convolutions (stride 1) add $2J$; 2×2 pools add $J$ and double $J$. So two stacked 3×3 convolutions see 5×5
# — the VGG paper's argument for small kernels: the field of a 5×5 kernel with fewer parameters ($2\cdot 9 < 25$)
# and an extra ReLU in between.

# %% [markdown]
# ## 3 · Naive code: shapes and receptive fields of all 18 conv and pool layers

# %%
def receptive_fields(configs, size):
    '''For layer configs (vgg16_layer_configs) and an input of size x size: name -> (C, H, r, J).'''
    r, jump, channels, out = 1, 1, 1, {}
    for cfg in configs:
        if cfg["type"] == "Convolution2D":
            k, s = cfg["kernel_size"], cfg["stride"]
            channels = cfg["num_filters"]
            size = (size + 2 * cfg["padding"] - k) // s + 1
        elif cfg["type"].endswith("pooling2D"):
            k, s = cfg["pool_size"], cfg["stride"]
            size = (size - k) // s + 1
        else:
            continue
        r, jump = r + (k - 1) * jump, jump * s
        out[cfg["name"]] = (channels, size, r, jump)
    return out


table = receptive_fields(vgg16_layer_configs(input_size=64), 64)
print(f"{'layer':8} {'maps (C, H, W)':>16} {'receptive field':>16} {'jump':>5}")
for name, (c, h, r, j) in table.items():
    print(f"{name:8} {f'({c}, {h}, {h})':>16} {f'{r} x {r}':>16} {j:>5}")

# %% [markdown]
# By `conv4_1` a unit sees 60×60 pixels — nearly the whole 64×64 input; the last layers' fields (196, 212) are
# larger than the image, so each of their units can combine evidence from the entire digit.

# %% [markdown]
# ## 4 · The check: measure the receptive field with backprop
#
# The receptive field is exactly the set of input pixels with a nonzero path to the unit — the pixels where
# $\partial(\text{unit})/\partial x$ *can* be nonzero. So: run a batch of digits forward to a layer, set
# $dy = 1$ at the centre unit of every channel (0 elsewhere), run `backward` down to the input, and measure the
# bounding box of the nonzero gradient. ReLUs and max-pools switch some paths off for any single image, so
# the box is taken over 16 digits together. It must match the formula — as long as the field fits inside the
# image.

# %%
probe = VGG16(input_size=64, width=1 / 16, dropout=0.0, rng=np.random.default_rng(0))
x = probe.prepare(X_test[:16])
for name in ("conv1_2", "pool1", "conv2_2", "conv3_1", "pool3"):
    layers = probe.layers[:probe.names.index(name) + 1]
    h = x
    for layer in layers:
        h = layer.forward(h, training=False)
    dy = np.zeros_like(h)
    dy[:, :, h.shape[2] // 2, h.shape[3] // 2] = 1.0         # the centre unit of every channel
    for layer in reversed(layers):
        dy = layer.backward(dy)
    support = np.abs(dy).sum(axis=(0, 1)) > 0
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    measured = (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    print(f"{name:8}: formula {table[name][2]:3} x {table[name][2]:<3} measured {measured[0]:3} x {measured[1]}")
    assert measured == (table[name][2], table[name][2])

# %% [markdown]
# ## 5 · The model to look into
#
# Feature maps are only interesting in a network that has learnt something. `MODEL` chooses which:
#
# - `"09"` — the model trained in notebook 09, from its checkpoint `checkpoints/09_vgg16_sample.npz` (run
#   notebook 09 first; the checkpoint is not part of the repository);
# - `"quick"` (the default) — the same architecture (VGG16 at 1/8 width, 32×32), trained here for two epochs on
#   2,000 sample digits (a few seconds);
# - `"fresh"` — the same architecture, untrained: He-initialised random weights.
#
# If `"09"` is chosen but the checkpoint is missing, the notebook says so and trains the quick model instead.

# %%
MODEL = "quick"            # "09" (notebook 09's checkpoint), "quick" (trained here) or "fresh" (untrained)
CHECKPOINT = Path("checkpoints") / "09_vgg16_sample.npz"


def architecture(seed=0):
    return VGG16(input_size=32, width=0.125, dropout=0.3, rng=np.random.default_rng(seed))


fresh = architecture()
if MODEL == "09" and CHECKPOINT.exists():
    model = checkpoint.load(CHECKPOINT).model
    source = f"the model trained in notebook 09 ({CHECKPOINT})"
elif MODEL == "fresh":
    model = fresh
    source = "an untrained VGG16 (random He-initialised weights)"
else:
    if MODEL == "09":
        print(f"{CHECKPOINT} not found (run notebook 09 first): training the quick model instead.")
    model = architecture()
    fit(model, (X_train[:2000], y_train[:2000]), epochs=2, batch_size=32, optimizer=Adam(1e-3), seed=0,
        progress=False, verbose=False)
    source = "a VGG16 (1/8 width) trained here for two epochs on 2,000 digits"
print("exploring:", source)

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts; the assert holds everywhere)
accuracy = evaluate(model, X_test, y_test)["accuracy"]
print(f"test accuracy of the model explored: {100 * accuracy:.1f}%")
assert MODEL == "fresh" or accuracy > 0.5

# %% [markdown]
# ## 6 · On real data: filters and feature maps
#
# **The first layer's filters** are the only ones that can be read directly: 3×3 weights applied to the pixels
# (red positive, blue negative, one colour scale per panel). After a short training they have hardly moved from
# their random start: Adam moves each weight by at most about its learning rate per step — $10^{-3}$ × 126
# steps ($\lceil 2000/32 \rceil = 63$ per epoch) $\approx 0.13$ in all — while He initialisation made them
# about $\sqrt{2/9} \approx 0.47$ large (the cell under the figure prints both). The **change** (right, on its
# own scale) shows what training did do: it made the filters a little more like oriented edge and stroke detectors.
# (Large networks trained for many epochs on photos end up with clean edge and colour detectors in their first
# layer; 3×3 filters on digits stay less legible.)

# %%
before = fresh["conv1_1"].params["weights"]
after = model["conv1_1"].params["weights"]
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
show_filters(before, ax=axes[0], title="conv1_1 at initialisation")
show_filters(after, ax=axes[1], title="conv1_1, the model explored")
show_filters(after - before, ax=axes[2], title="the change (own scale)")
plt.tight_layout()
plt.show()

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts)
print(f"conv1_1 weights at initialisation: standard deviation {before.std():.2f} "
      f"(He: sqrt(2/9) = {np.sqrt(2 / 9):.2f})")
print(f"the largest change training made to one of them: {np.abs(after - before).max():.3f}, "
      f"the typical change: {np.abs(after - before).mean():.3f}")

# %% [markdown]
# **One digit through the network.** Below, the first eight channels at four depths (after the ReLU of the last
# convolution of blocks 1, 2, 3 and 5). Block 1 still shows the digit — edges and strokes highlighted
# differently by each filter. Block 2 (16×16) and block 3 (8×8) show blurrier parts of the digit; in block 5
# (2×2) nothing is recognisable any more: each number now says *how much of some pattern* the image contains,
# not where.

# %%
digit = X_test[:1]
h = model.prepare(digit)
outputs = {}
for layer in model.layers:
    h = layer.forward(h, training=False)
    outputs[layer.name] = h[0]
fig, axes = plt.subplots(1, 5, figsize=(14, 3.2), gridspec_kw={"width_ratios": [0.6, 1, 1, 1, 1]})
axes[0].imshow(model.prepare(digit)[0, 0], cmap="gray")
axes[0].set_title(f"input, label {y_test[0]}", fontsize=10)
axes[0].axis("off")
for ax, name in zip(axes[1:], ("relu1_2", "relu2_2", "relu3_3", "relu5_3")):
    maps = outputs[name]
    show_feature_maps(maps[:8], ncols=4, ax=ax, title=f"{name}: 8 of {maps.shape[0]}, {maps.shape[1]}x{maps.shape[2]}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 7 · Spot the bug: one colour scale for all channels
#
# A tempting way to show a layer's maps is one `imshow` of the whole stack with a common colour scale. The
# channels' ranges differ by large factors, so the strongest channel sets the scale and the weaker ones come
# out dark — it looks as if they detected little or nothing. Scaling each map to its own range (what
# `vgglib.viz.tile` does by default, `normalize="each"`) shows every channel's pattern — but it has a blind spot
# of its own: a *constant* map has no range, so it is drawn in the lowest colour whatever its value, a dead
# channel (all zero) and a channel that is 1.2 everywhere alike. Every 1×1 map of `pool5` at 32×32 input is
# constant. And per-map scaling cannot compare two digits: each is stretched to fill the colours. The cure is
# **one scale per channel**, fixed over many images — what the explorer of section 8 does.

# %%
maps = outputs["relu2_2"]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
axes[0].imshow(tile(maps, ncols=8, normalize="all"), cmap="viridis", interpolation="nearest")
axes[0].set_title("one scale for all 16 channels", fontsize=10)
axes[1].imshow(tile(maps, ncols=8, normalize="each"), cmap="viridis", interpolation="nearest")
axes[1].set_title("each channel scaled to its own range", fontsize=10)
for ax in axes:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 8 · Interactive: the feature-map explorer
#
# Choose a test digit, a layer (the slider runs through every convolution, ReLU and pooling layer, from
# `conv1_1` to `pool5`) and a range of channels (at most 16 are shown at once). The explorer shows the input,
# the first layer's filters, the selected feature maps and the model's top predictions, and it names the
# model it explores. Each channel has one colour scale for all the explorer's digits (the first 100 test
# digits) — from 0 (or the channel's lowest value, if negative) to its highest value over them, written under
# each map — so the same channel of two digits can be compared by colour, and a 1×1 map is drawn at its value
# (also printed in it). Things to try: follow one digit from `conv1_1` to `pool5`; compare the same channel
# for a 1 and for an 8; find channels that stay at the bottom colour (zero) for most digits; set
# `MODEL = "fresh"` above and look again.

# %%
explorer = feature_map_explorer(model, X_test[:100], y_test[:100], max_channels=16, title=f"Exploring {source}")
explorer

# %% [markdown]
# The explorer keeps the numbers behind its pictures in `explorer.state`, and its controls can be set from code
# — this is also how the library's tests drive it:

# %%
explorer.controls["layer"].value = "pool3"
explorer.controls["digit"].value = 3
print("layer", explorer.state["layer"], "output shape", explorer.state["layer_shape"],
      "| channels shown", explorer.state["channel_range"], "| digit", explorer.state["index"],
      "label", y_test[3])
explorer.controls["layer"].value = "conv1_1"
explorer.controls["digit"].value = 0

# %% [markdown]
# The question "the same channel for a 1 and for an 8", answered from `explorer.state`: at `pool5` every map is a
# single number; `scale` holds each shown channel's (lowest, highest) over the 100 digits, and `drawn` where
# on that scale the number falls (0 = bottom colour, 1 = top):

# %% tags=["nbval-ignore-output"]
# (trained numbers differ in the last digits between BLAS builds and thread counts)
one, eight = int(np.flatnonzero(y_test[:100] == 1)[0]), int(np.flatnonzero(y_test[:100] == 8)[0])
explorer.controls["layer"].value = "pool5"
seen = {}
for i in (one, eight):
    explorer.controls["digit"].value = i
    seen[y_test[i]] = (explorer.state["maps"][:6, 0, 0].copy(), explorer.state["drawn"][:6, 0, 0].copy())
scale = explorer.state["scale"][:6]
print(f"channel   scale (over 100 digits)   value for the 1 (#{one})   value for the 8 (#{eight})")
for c in range(6):
    print(f"{c:7d}   {scale[c, 0]:6.2f} ... {scale[c, 1]:5.2f}        "
          f"{seen[1][0][c]:5.2f} ({seen[1][1][c]:4.0%})           {seen[8][0][c]:5.2f} ({seen[8][1][c]:4.0%})")
explorer.controls["layer"].value = "conv1_1"
explorer.controls["digit"].value = 0

# %% [markdown]
# ## Summary
#
# | | formula / rule | VGG16 at 64×64 |
# |---|---|---|
# | feature maps | $A^{(l)}_c = \operatorname{ReLU}(b_c + \sum_{c'} W_{c,c'} \star A^{(l-1)}_{c'})$ | $(C_l, H_l, W_l)$ per image |
# | sizes | 3×3 conv, padding 1: size kept; 2×2 pool: halved | $64 \to 32 \to 16 \to 8 \to 4 \to 2$ |
# | channels | one per filter | $64, 128, 256, 512, 512$ |
# | receptive field | $r_l = r_{l-1} + (k_l - 1)J_{l-1}$, $J_l = J_{l-1}s_l$ | conv1_2: 5, conv3_1: 24, conv4_1: 60, pool5: 212 |
# | check | bounding box of $\partial(\text{unit})/\partial x \ne 0$ | equals the formula inside the image |
# | showing maps | one colour scale per channel, fixed over many digits | a constant map then shows its value |
# | in vgglib | `feature_map_explorer(model, images, labels)`, `viz.show_feature_maps`, `viz.show_filters` | |
#
# Next: **14 · Making it fast** — why these notebooks run in seconds, not hours.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/13_feature_maps_solutions.ipynb`.
#
# **Exercise 1 (easy).** The seed's VGG16 has full width (64 filters in block 1) and 64×64 inputs. What is the
# shape $(C, H, W)$ of `pool3`'s output for one image?

# %% tags=["exercise-1"]
answer = None   # your answer: a tuple (C, H, W)
check_pool3_shape(answer)

# %% [markdown]
# **Exercise 2 (medium).** Without running code: how many input pixels wide is the receptive field of one unit of
# `conv3_1`? Apply the recursion of section 2 layer by layer.

# %% tags=["exercise-2"]
answer = None   # your answer: a whole number
check_conv3_1_receptive_field(answer)


# %% [markdown]
# **Exercise 3 (harder).** Which digits does a channel respond to most? Write `top_activating(maps, channel, k)`
# that takes a batch of feature maps $(N, C, H, W)$ and returns the indices of the `k` images whose map in
# `channel` has the largest mean, largest first. Then use it on the model above (in the solutions it shows the
# digits one `relu3_3` channel likes best).

# %% tags=["exercise-3"]
def top_activating(maps, channel, k):
    '''maps (N, C, H, W) -> indices (k,) of the images with the largest mean activation in `channel`'''
    raise NotImplementedError


check_top_activating(top_activating)
