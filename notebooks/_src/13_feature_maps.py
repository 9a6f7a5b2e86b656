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
# per filter. For a digit, the first layer's maps are the digit seen through 3×3 filters, each highlighting some
# of its strokes and edges; deeper
# maps get smaller and more abstract, until after `pool5` a single number per channel is left for the
# classifier. The seed project never looked at them. This notebook does, inside a small VGG16 that has really
# learnt MNIST (its trained weights ship with vgglib): it computes what each layer "sees", how much of the
# input each unit can see at all (its **receptive field**), and ends with two interactive tools — an explorer
# (pick a test digit, a layer and a range of channels) and a drawing pad (draw your own digit with the mouse
# and watch the network read it).
#
# **Learning goals** — after this notebook you can
#
# - compute the shape of every layer's feature maps and explain why they shrink and multiply;
# - derive the receptive field of a unit, $r_l = r_{l-1} + (k_l - 1)\,J_{l-1}$, and check it with backprop;
# - read first-layer filters and feature maps of a trained network, and tell them from an untrained one's;
# - avoid the classic visualisation mistake (one colour scale for all channels);
# - turn a drawing into an MNIST-like digit (crop, scale, centre of mass) and test the network on your own digits.

# %%
# %matplotlib inline
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import checkpoint, viz
from vgglib.mnist import load_mnist
from vgglib.exercises import check_pool4_shape, check_vgg11_receptive_field, check_top_activating, reveal
from vgglib.model import VGG16, build_model, vgg16_layer_configs
from vgglib.train import evaluate
from vgglib.viz import show_feature_maps, show_filters, tile
from vgglib.widgets import canvas_to_mnist, drawing_pad, feature_map_explorer, strokes_to_image

np.set_printoptions(precision=3, suppress=True)
print("vgglib", vgglib.__version__)

X_test, y_test = load_mnist("test")      # the embedded sample: the first 1,000 MNIST test digits

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
# - `"shipped"` (the default) — a VGG16 at 1/8 width and 32×32 input (8 filters in block 1 up to 64 in blocks 4–5,
#   512 hidden units), trained on the full MNIST training set. Its weights ship with vgglib in
#   `data/weights/` (float16, about 1 MB), with a README saying how they were made: the script
#   `tools/train_small_weights.py`, a recipe, seed 0, and the accuracy on the full 10,000-image test set, which
#   `results/small-weights.json` records. Training it again takes many minutes; loading it, a fraction of a second;
# - `"09"` — the model trained in notebook 09, from its checkpoint `checkpoints/09_vgg16_sample.npz` (run
#   notebook 09 first; the checkpoint is not part of the repository);
# - `"fresh"` — the shipped architecture, untrained: He-initialised random weights (the very weights the shipped
#   run started from: same architecture, seed 0).
#
# Loading goes through `vgglib.checkpoint.load`, the safe loader (no pickle: it checks every array's header,
# shape, dtype and checksum before copying anything). The file holds float16 numbers to stay small; loading them
# into a float32 model converts them.

# %%
MODEL = "shipped"          # "shipped" (trained weights in data/weights/), "09" (notebook 09's checkpoint) or "fresh"
REPO = Path(vgglib.__file__).resolve().parents[1]          # the vgglib folder (a clone or an editable install)
WEIGHTS = REPO / "data" / "weights" / "vgg16_small_mnist_fp16.npz"
RESULTS = REPO / "results" / "small-weights.json"
CHECKPOINT = Path("checkpoints") / "09_vgg16_sample.npz"

if MODEL == "09" and CHECKPOINT.exists():
    model = checkpoint.load(CHECKPOINT).model
    source = f"the model trained in notebook 09 ({CHECKPOINT})"
else:
    if MODEL == "09":
        print(f"{CHECKPOINT} not found (run notebook 09 first): exploring the shipped model instead.")
    model = VGG16(input_size=32, width=0.125, dropout=0.5)                 # float32
    checkpoint.load(WEIGHTS, model=model)                                   # float16 in the file -> float32
    source = "the shipped VGG16 (1/8 width, trained on full MNIST)"
fresh = build_model(model.config(), rng=np.random.default_rng(0))          # same architecture, untrained
if MODEL == "fresh":
    model, source = fresh, "an untrained VGG16 (random He-initialised weights)"
print("exploring:", source)
print(f"{model.num_params():,} parameters, {model.dtype}")
print(f"the shipped weights: {WEIGHTS.relative_to(REPO)}, {WEIGHTS.stat().st_size / 1e6:.1f} MB")

# %% [markdown]
# Its accuracy, measured here on the 1,000 test digits of the embedded sample, next to what
# `results/small-weights.json` records for the full test set:

# %%
result = evaluate(model, X_test, y_test)
correct = int(np.sum(result["predictions"] == y_test))
print(f"accuracy on the {len(y_test):,} sample test digits: {correct}/{len(y_test)} = {correct / len(y_test):.1%}")
recorded = json.loads(RESULTS.read_text())
print(f"results/small-weights.json, full test set: {recorded['test']['correct']:,}/{recorded['test']['n']:,} "
      f"= {recorded['test']['accuracy']:.2%} (the shipped weights, float16, loaded like here)")
assert MODEL != "shipped" or result["accuracy"] > 0.97

# %% [markdown]
# ## 6 · On real data: filters and feature maps
#
# **The first layer's filters** are the only ones that can be read directly: 3×3 weights applied to the pixels
# (red positive, blue negative, one colour scale per panel). Left, the random start of the shipped model's
# training (the `fresh` model above: the same seed); middle, the filters after training; right, the **change**
# training made, on its own scale. Even after a full training they are still recognisably their random start:
# the cell under the figure measures the change against their size. A 3×3 filter on one grey channel has only
# nine weights, and the network did not need them to become clean edge detectors — the twelve convolutions
# above turn whatever these nine-pixel patterns are into digit evidence. (Networks trained on photos, with three
# colour channels and far more images, do end up with visible edge and colour detectors in their first layer —
# most clearly AlexNet's large 11×11 first-layer filters.)

# %%
before = fresh["conv1_1"].params["weights"]
after = model["conv1_1"].params["weights"]
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
show_filters(before, ax=axes[0], title="conv1_1 at initialisation")
show_filters(after, ax=axes[1], title="conv1_1, the model explored")
show_filters(after - before, ax=axes[2], title="the change (own scale)")
plt.tight_layout()
plt.show()

# %%
print(f"conv1_1 weights at initialisation: standard deviation {before.std():.2f} "
      f"(He: sqrt(2/9) = {np.sqrt(2 / 9):.2f})")
change = np.abs(after - before)
print(f"after training: standard deviation {after.std():.2f}; the typical change of one weight {change.mean():.2f} "
      f"({change.mean() / before.std():.0%} of the initial standard deviation), the largest {change.max():.2f}")
assert MODEL != "shipped" or change.mean() < 0.5 * before.std()     # "still recognisably their random start"

# %% [markdown]
# **Predict, then run.** Every ReLU sets the negative values of a convolution's output to zero. Take the first
# test digit (a 7) and the output of `relu1_2`, block 1's last ReLU: 8 channels of 32×32 values. Most of the
# image is flat background, and a filter sees there the same patch almost everywhere. What fraction of those
# 8 × 32 × 32 values do you expect to be exactly zero? Write your guess (a number between 0 and 1) first.

# %%
guess = None   # your prediction: a fraction between 0 and 1

# %%
digit = X_test[:1]
h = model.prepare(digit)
outputs = {}
for layer in model.layers:
    h = layer.forward(h, training=False)
    outputs[layer.name] = h[0]
zero_fraction = float(np.mean(outputs["relu1_2"] == 0))
reveal(guess, round(zero_fraction, 2), what="counting the zeros of relu1_2")
zeros, dead = {}, {}
for name in ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"):
    maps = outputs[name]
    zeros[name], dead[name] = float(np.mean(maps == 0)), int(np.sum(maps.max(axis=(1, 2)) == 0))
    print(f"{name}: {zeros[name]:.0%} of its {maps.size:,} values are 0; "
          f"{dead[name]} of its {maps.shape[0]} channels are 0 everywhere")
assert MODEL == "fresh" or (zeros["relu1_2"] > 0.3 and zeros["relu5_3"] > zeros["relu1_2"] and dead["relu5_3"] > 0)

# %% [markdown]
# On the background (away from the digit and the border) every position sees the same patch, so each channel
# has one background value there: a channel whose value there is negative is 0 over the whole background after
# the ReLU, one whose value is positive is positive there. So the fraction is not small: what the network passes
# on is mostly zeros, and the nonzero values sit where the channel found its pattern. Deeper layers are sparser still, and some channels are
# silent for this digit altogether.
#
# **One digit through the network.** Below, the first eight channels at four depths (after the ReLU of the last
# convolution of blocks 1, 2, 3 and 5), each map on its own colour scale (section 7 says what that hides).
# Block 1 still shows the digit — edges and strokes highlighted differently by each filter. Block 2 (16×16) and
# block 3 (8×8) show coarser parts of the digit; in block 5 (2×2) nothing is recognisable any more: each number
# now says *how much of some pattern* the image contains, not where.

# %%
fig, axes = plt.subplots(1, 5, figsize=(14, 3.2), gridspec_kw={"width_ratios": [0.6, 1, 1, 1, 1]})
axes[0].imshow(model.prepare(digit)[0, 0], cmap=viz.IMAGE_CMAP)
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
# channels' ranges differ (the cell below prints by how much for this digit), so the strongest channel sets the
# scale and the weaker ones come out dark — it looks as if they detected little or nothing. Scaling each map to
# its own range (what `vgglib.viz.tile` does by default, `normalize="each"`) shows every channel's pattern — but
# it has a blind spot of its own: a *constant* map has no range, so it is drawn in the lowest colour whatever its
# value, a dead channel (all zero) and a channel that is 1.2 everywhere alike. Every 1×1 map of `pool5` at 32×32
# input is constant. And per-map scaling cannot compare two digits: each is stretched to fill the colours. The
# cure is **one scale per channel**, fixed over many images — what the explorer of section 8 and the drawing pad
# of section 9 do.

# %%
maps = outputs["relu2_2"]
peaks = maps.max(axis=(1, 2))
print(f"relu2_2, digit #0: the largest value of each of the {len(peaks)} channels lies between "
      f"{peaks.min():.2f} and {peaks.max():.2f}")
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
axes[0].imshow(tile(maps, ncols=8, normalize="all"), cmap=viz.IMAGE_CMAP, interpolation="nearest")
axes[0].set_title(f"one scale for all {maps.shape[0]} channels", fontsize=10)
axes[1].imshow(tile(maps, ncols=8, normalize="each"), cmap=viz.IMAGE_CMAP, interpolation="nearest")
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

# %%
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
# ## 9 · Your own digit: the drawing pad
#
# The test digits are someone else's handwriting. Draw your own in the black square below: press the mouse
# button, drag, release. When you release it the pad turns your drawing into an MNIST digit and runs it through
# the model: the prediction, the class probabilities (one colour per digit, as in every figure of the series)
# and the feature maps of your digit at the chosen layer — each channel on its colour scale over the 100 test
# digits of the explorer, so you can see whether your digit excites a channel more or less than real ones
# (values above that range are drawn at the top colour). **clear** wipes the canvas.
#
# MNIST's digits were not just shrunk: each was scaled so that its larger side is 20 pixels (keeping its
# aspect ratio; the anti-aliasing made the grey edges), and then placed in a 28×28 frame with its **centre of
# mass** at the frame's centre. `vgglib.widgets.canvas_to_mnist` does the same to your drawing, which is why
# it does not matter where on the canvas or how large you draw (the stroke width does matter: draw large).
# Things to try: a 7 with and without a crossbar; a 1 with and without a base; a 4 open or closed at the top; a
# digit drawn small in a corner; a 6 and a 0 that differ by one stroke; something that is not a digit at all —
# the softmax must still spread 100% over the ten digits.

# %%
pad = drawing_pad(model, X_test[:100], layer="relu2_2")
pad

# %% [markdown]
# The pad can be drawn on from code as well: `pad.draw(strokes)`, each stroke a list of (x, y) points on the
# 280×280 canvas — the same path the mouse takes. A 7, drawn by a program (it shows in the pad above; press
# **clear** there to draw your own):

# %%
pad.draw([[(70, 50), (210, 50), (130, 240)]])
probs = pad.state["probs"]
print(f"prediction: {pad.state['prediction']} | probabilities: "
      + ", ".join(f"{d}: {p:.0%}" for d, p in enumerate(probs) if p >= 0.005))

# %% [markdown]
# What the conversion did, step by step: the 280×280 drawing (as the pad rasterises the strokes: an 18-pixel
# round pen), the 28×28 digit the network sees, and for comparison a 7 written for MNIST. The cell first
# measures the two rules on the 1,000 sample test digits, then checks them on the converted drawing.

# %%
grid = np.arange(28)


def box_and_centre(img):
    '''(height, width) of the bounding box of the ink, and its centre of mass (row, column), in pixels'''
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    mass = img.astype(float)
    centre = np.array([mass.sum(axis=1) @ grid, mass.sum(axis=0) @ grid]) / mass.sum()
    return (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)), centre


boxes, centres = zip(*(box_and_centre(x) for x in X_test))
centres = np.array(centres)
print(f"the {len(X_test):,} sample test digits: larger side of the box {sorted({max(b) for b in boxes})} pixels; "
      f"centres of mass in rows {centres[:, 0].min():.2f}..{centres[:, 0].max():.2f}, "
      f"columns {centres[:, 1].min():.2f}..{centres[:, 1].max():.2f}")
assert {max(b) for b in boxes} == {20} and np.all(np.abs(centres - 14) <= 0.5)      # MNIST's two rules

drawing = strokes_to_image(pad.state["strokes"], (280, 280), line_width=18)
mine = canvas_to_mnist(drawing)
assert np.array_equal(mine, pad.state["digit"])
box, centre = box_and_centre(mine)
print(f"the drawn 7: box {box[0]} x {box[1]} pixels, centre of mass at ({centre[0]:.2f}, {centre[1]:.2f})")
assert max(box) == 20 and np.all(np.abs(centre - 14) <= 0.5)
seven = int(np.flatnonzero(y_test == 7)[0])
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, img, title in zip(axes, (drawing, mine, X_test[seven]),
                          ("the drawing, 280×280", "what the network sees, 28×28", f"an MNIST 7 (test #{seven})")):
    ax.imshow(img, cmap=viz.IMAGE_CMAP)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("column (pixels)")
    ax.set_ylabel("row (pixels)")
plt.tight_layout()
plt.show()

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
# | a drawing → MNIST | crop, larger side to 20 px (area averaging), centre of mass to pixel (14, 14) | `canvas_to_mnist` |
# | in vgglib | `feature_map_explorer(model, images, labels)`, `drawing_pad(model, reference)`, `viz.show_feature_maps` | |
#
# Next: **14 · Making it fast** — why these notebooks run in seconds, not hours.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/13_feature_maps_solutions.ipynb`.
#
# **Exercise 1 (easy).** A wider input and a narrower network: `VGG16(input_size=96, width=0.25)` — a quarter
# of the filters in every block, 96×96 images. What is the shape $(C, H, W)$ of `pool4`'s output for one image?
# Work it out from section 2 without building the model (the check tells you which part is off).

# %% tags=["exercise-1"]
answer = None   # your answer: a tuple (C, H, W)
check_pool4_shape(answer)

# %% [markdown]
# **Exercise 2 (medium).** VGG16 is configuration D of the VGG paper. Configuration A, **VGG11**, has fewer
# convolutions: one in block 1, one in block 2, two in each of blocks 3–5 (all 3×3, padding 1, each block ending
# in a 2×2 max-pool of stride 2). So its first layers are `conv1_1, pool1, conv2_1, pool2, conv3_1, conv3_2,
# pool3, conv4_1`. How many input pixels wide is the receptive field of one unit of VGG11's `conv4_1`? Apply the
# recursion of section 2 layer by layer (the table of section 3 is VGG16's; it does not answer this).

# %% tags=["exercise-2"]
answer = None   # your answer: a whole number
check_vgg11_receptive_field(answer)


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
