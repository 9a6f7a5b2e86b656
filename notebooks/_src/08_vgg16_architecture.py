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
# # 08 · The VGG16 architecture
#
# In 2014 Karen Simonyan and Andrew Zisserman (Visual Geometry Group, Oxford — hence *VGG*) asked a simple
# question: what happens if a convolutional network uses only the smallest useful filter, 3×3, and simply
# gets **deeper**? Their networks of this kind took second place in the ImageNet classification challenge of
# 2014 (and first in localisation), and their configuration "D" — 13 convolutions and 3 fully connected
# layers, 16 layers with weights — became the textbook CNN: uniform, easy to read, and very large.
#
# Every piece of it is now in your hands: convolution (01–02), ReLU and He initialisation (03), max-pooling
# (04), flatten and FC layers (05), softmax and cross-entropy (06), and the data (07). This notebook puts them
# together, follows an image through the whole network, and counts what it costs — parameters, memory and
# multiply-adds — both for the original 224×224 colour photos and for the seed project's 64×64 MNIST digits.
# Along the way we check a number the seed quoted, "24M activations ≈ 93 MB", and find it does not add up.
#
# **Learning goals** — after this notebook you can
#
# - explain VGG16's design (stacks of 3×3 convolutions, halving by max-pooling) and why two 3×3 layers beat
#   one 5×5;
# - build VGG16 from vgglib's layers and trace the shape of an image through all 16 weight layers;
# - compute any layer's parameters, activations and multiply-adds by hand, and read `vgglib.summarize.summary`;
# - say where VGG16 spends its parameters (FC layers), its compute and its memory (early convolutions);
# - run the seed's 64×64×1 variant on real digits and judge its untrained output with the $\ln 10$ check.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import Convolution2D, Dropout, Flatten, FullyConnected, Maxpooling2D, ReLU, viz
from vgglib.mnist import load_mnist
from vgglib.exercises import check_activation_count, check_conv_macs, check_fc1_inputs, reveal
from vgglib.losses import softmax, softmax_cross_entropy
from vgglib.model import VGG16, Sequential, vgg16_layer_configs
from vgglib.summarize import summary

print("vgglib", vgglib.__version__)

# %% [markdown]
# ## 1 · The design: 3×3 convolutions, five blocks, three FC layers
#
# VGG16 is five **blocks** of convolutions followed by three FC layers:
#
# | block | layers | channels | side after the block (224 input) | side (the seed's 64 input) |
# |---|---|---|---|---|
# | 1 | 2 × conv 3×3, max-pool | 64 | 112 | 32 |
# | 2 | 2 × conv 3×3, max-pool | 128 | 56 | 16 |
# | 3 | 3 × conv 3×3, max-pool | 256 | 28 | 8 |
# | 4 | 3 × conv 3×3, max-pool | 512 | 14 | 4 |
# | 5 | 3 × conv 3×3, max-pool | 512 | 7 | 2 |
# | head | flatten, fc1 4096, fc2 4096, fc3 classes | | $512\cdot7\cdot7 = 25{,}088$ inputs | $512\cdot2\cdot2 = 2{,}048$ inputs |
#
# Every convolution has a 3×3 kernel, stride 1 and padding 1, so it **keeps the side**:
# $H_{out} = (H + 2\cdot1 - 3)/1 + 1 = H$. Every max-pool is 2×2 with stride 2 and **halves** it. Each ReLU
# follows its conv or FC layer; dropout follows `fc1` and `fc2`; the softmax lives in the loss. So the only
# things that change the shape are the pools (side ÷ 2) and the first conv of each block 1–4 (channels: the
# input's 1 or 3 → 64, then × 2 up to 512): the network trades resolution for features, step by step. Five
# halvings need an input side divisible by $2^5 = 32$.
#
# **Why only 3×3?** Two stacked 3×3 convolutions see a 5×5 patch of the input (each output of the second
# looks at 3×3 outputs of the first, each of which looks at 3×3 inputs), three see 7×7. With $C$ channels in
# and out, the stack needs fewer weights than one big filter with the same view, and it has a ReLU between
# the layers, so it can compute more complicated functions:
#
# $$ 2\cdot(3\cdot3\cdot C^2) = 18\,C^2 < 25\,C^2 \quad(5\times5), \qquad 3\cdot(3\cdot3\cdot C^2) = 27\,C^2 < 49\,C^2 \quad(7\times7). $$

# %% [markdown]
# ## 2 · Building it from vgglib layers
#
# With the layers of the previous notebooks, the whole network is a short loop. A `Sequential` model runs the
# layers in order in `forward` and in reverse in `backward` (notebook 09 trains it). We build the seed's
# variant: one input channel, 64×64, ten classes. All weights are He-initialised from one seeded generator,
# so the model is the same on every run.

# %%
BLOCKS = [(64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)]


def build_vgg16(in_channels=1, num_classes=10, input_size=64, dropout=0.5, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    layers, channels = [], in_channels
    for b, block in enumerate(BLOCKS, start=1):
        for i, filters in enumerate(block, start=1):
            layers += [Convolution2D(channels, filters, kernel_size=3, padding=1, name=f"conv{b}_{i}", rng=rng),
                       ReLU(name=f"relu{b}_{i}")]
            channels = filters
        layers.append(Maxpooling2D(pool_size=2, stride=2, name=f"pool{b}"))
    features = channels * (input_size // 2 ** 5) ** 2            # 512 · 2 · 2 = 2048 for 64×64
    layers += [Flatten(name="flatten"),
               FullyConnected(features, 4096, name="fc1", rng=rng), ReLU(name="relu_fc1"),
               Dropout(dropout, name="dropout_fc1", rng=rng),
               FullyConnected(4096, 4096, name="fc2", rng=rng), ReLU(name="relu_fc2"),
               Dropout(dropout, name="dropout_fc2", rng=rng),
               FullyConnected(4096, num_classes, name="fc3", rng=rng)]
    return Sequential(layers, input_shape=(in_channels, input_size, input_size), resize="zoom")


model = build_vgg16()
weight_layers = [name for name, layer in model if layer.params]
print(f"{len(model)} layers, {len(weight_layers)} with weights: {', '.join(weight_layers)}")
print(f"{model.num_params():,} parameters")

# the same architecture as vgglib.model.VGG16 (the library's version, used from notebook 09 on)
assert [layer.config() for layer in model.layers] == vgg16_layer_configs(in_channels=1, num_classes=10, input_size=64)
assert len(weight_layers) == 16

# %% [markdown]
# Follow one batch of real digits through it. `model.prepare` does what notebook 07 did — uint8 → float,
# zoom 28 → 64, standardise — and then we call every layer ourselves and print the shape after each block:

# %%
test_images, test_labels = load_mnist("test")
digits, digit_labels = test_images[:16], test_labels[:16]
x = model.prepare(digits)                                   # (16, 1, 64, 64) float32
def rms(a):
    return float(np.sqrt(np.mean(np.square(a, dtype=np.float64))))


print(f"{'input':<8} {str(x.shape):<20} {x[0].size:>9,} values per image,  rms {rms(x):.2f}")
outputs = {}
h = x
for name, layer in model:
    h = layer.forward(h, training=False)
    outputs[name] = h
    if name.startswith(("pool", "fc")):
        print(f"{name:<8} {str(h.shape):<20} {h[0].size:>9,} values per image,  rms {rms(h):.2f}")
logits = h

# %% [markdown]
# The image shrinks 64 → 32 → 16 → 8 → 4 → 2 while its channels grow 1 → 64 → … → 512; the 2,048 numbers
# left after `pool5` are all that the FC layers see. (The *rms* column, the root mean square of the values,
# comes back in section 4.) Here is the first digit at each stage (one channel out
# of many, from an *untrained* network — notebook 13 looks at trained feature maps):

# %%
stages = ["input", "pool1", "pool2", "pool3", "pool4", "pool5"]
fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
for ax, stage in zip(axes, stages):
    fmap = x[0, 0] if stage == "input" else outputs[stage][0, 0]
    ax.imshow(fmap, cmap=viz.IMAGE_CMAP)
    channels = 1 if stage == "input" else outputs[stage].shape[1]
    ax.set_title(f"{stage}: {fmap.shape[0]}×{fmap.shape[1]}\nchannel 0 of {channels}", fontsize=9)
    ax.set_xticks([]); ax.set_yticks([])
plt.show()

# %% [markdown]
# An input whose side is not divisible by 32 cannot pass five halvings. The library says so up front instead
# of failing deep inside the network:

# %%
try:
    VGG16(input_size=28)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# ## 3 · Counting: parameters, activations, multiply-adds
#
# Three numbers describe a layer's cost for one image. With input $(C, H, W)$, output $(F, H_o, W_o)$ and
# kernel $k$:
#
# | | parameters | activations (new values) | multiply-adds (MACs) |
# |---|---|---|---|
# | conv | $F\cdot C\cdot k^2 + F$ | $F\cdot H_o\cdot W_o$ | $H_o W_o\cdot F\cdot C k^2$ (each output sums $Ck^2$ products) |
# | max-pool | 0 | $C\cdot H_o\cdot W_o$ | 0 (comparisons only) |
# | FC $D\to M$ | $D\cdot M + M$ | $M$ | $D\cdot M$ |
# | ReLU, dropout, flatten | 0 | 0 (in place, or a view) | 0 |
#
# Example, `conv1_2` at 224×224: $64\cdot64\cdot9 + 64 = 36{,}928$ parameters, $64\cdot224^2 = 3{,}211{,}264$
# activations, $224^2\cdot64\cdot64\cdot9 = 1{,}849{,}688{,}064$ MACs. The activation count includes the input
# image, counts every conv, pool and FC output once, and assumes ReLU and dropout overwrite their input (as
# every framework can do in inference) — the standard way of counting, which lets us compare with published
# numbers.
#
# `vgglib.summarize.summary` does this for every layer. Given the architecture **spec** instead of a built
# model, it needs no memory for the weights — handy for the original ImageNet VGG16, whose 138 million
# float32 weights would take 528 MiB:

# %%
s224 = summary(VGG16.spec(in_channels=3, num_classes=1000, input_size=224))
assert s224.total_params == 138_357_544
assert s224.total_macs == 15_470_264_320
assert s224.total_activations == 15_237_608


# %% [markdown]
# The three famous totals — **138,357,544 parameters, 15.47 billion multiply-adds, 15,237,608 activation
# values (58 MiB) per image** — are asserted above. Where they come from is clearer in a picture: the same
# network, layer by layer, three times.

# %%
def plot_costs(s, title):
    rows = [r for r in s.rows if r.type in ("Convolution2D", "Maxpooling2D", "FullyConnected")]
    names = ["input"] + [r.name for r in rows]
    params = [0] + [r.params / 1e6 for r in rows]
    memory = [s.input_values * 4 / 2**20] + [r.activations * 4 / 2**20 for r in rows]
    macs = [0] + [r.macs / 1e9 for r in rows]
    colors = ["tab:gray"] + ["tab:blue" if r.type == "Convolution2D" else "tab:green" if r.type == "Maxpooling2D"
                             else "tab:orange" for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 6), sharey=True)
    for ax, values, label in zip(axes, (params, memory, macs),
                                 ("parameters (millions)", "activation memory (MiB, float32)",
                                  "multiply-adds (billions)")):
        ax.barh(range(len(names)), values, color=colors)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(names)), names, fontsize=8)
    axes[0].set_ylabel("layer")
    axes[0].invert_yaxis()
    fig.suptitle(title + "   (blue: conv, green: max-pool, orange: FC)")
    plt.tight_layout()
    plt.show()


plot_costs(s224, "VGG16, 224×224×3, per image")

# %%
conv = [r for r in s224.rows if r.type == "Convolution2D"]
fc = [r for r in s224.rows if r.type == "FullyConnected"]
block1 = [r for r in s224.rows if r.name in ("conv1_1", "conv1_2", "pool1")]
print(f"parameters:  conv {sum(r.params for r in conv) / s224.total_params:.1%}, "
      f"FC {sum(r.params for r in fc) / s224.total_params:.1%}  (fc1 alone {fc[0].params / s224.total_params:.1%})")
print(f"compute:     conv {sum(r.macs for r in conv) / s224.total_macs:.1%}, "
      f"FC {sum(r.macs for r in fc) / s224.total_macs:.1%}")
print(f"memory:      block 1 (input excluded) holds "
      f"{sum(r.activations for r in block1) / s224.total_activations:.1%} of all activations")
block_gmac = [sum(r.macs for r in conv if r.name.startswith(f"conv{b}_")) / 1e9 for b in range(1, 6)]
print("GMAC per block:", "  ".join(f"{b}: {g:.2f}" for b, g in enumerate(block_gmac, start=1)),
      f";  conv1_2 = conv4_3: {conv[1].macs / 1e9:.2f}")
assert conv[1].macs == conv[9].macs and block_gmac[2] == block_gmac[3] == max(block_gmac)

# %% [markdown]
# The costs live in different places:
#
# - **Parameters** sit in the FC layers (89%; `fc1` alone holds 74% of all of them): they are what makes
#   VGG16's weight file half a gigabyte.
# - **Compute** sits in the convolutions (99%), in every block: each block halves the side (÷4 pixels) and
#   doubles the channels (×4 for $F\cdot C$), so every convolution of blocks 1–4 except the first of a block
#   costs the same 1.85 GMAC; blocks 3 and 4, with three convolutions each, cost the most (4.62 GMAC each),
#   and block 5, which no longer doubles the channels, only 1.39.
# - **Memory** for activations sits in the first block, where the maps are largest: 47% of the total
#   in just three arrays.
#
# That is why "make it fast" (notebook 14) is about convolutions, and "make it small" is about the FC layers.

# %% [markdown]
# ### The seed's variant: 64×64×1 for MNIST
#
# The seed kept the architecture and changed only the input (one grey channel, zoomed to 64×64) and the
# output (10 classes). The summary of the model we built in section 2:

# %%
s64 = summary(model)
assert s64.total_params == model.num_params() == 39_928_522
plot_costs(s64, "the seed's VGG16, 64×64×1, per image")

# %%
s32 = summary(VGG16.spec(in_channels=1, num_classes=10, input_size=32), print_table=False)
print(f"{'':<26}{'parameters':>14}{'GMAC':>8}{'activations':>14}{'MiB':>8}")
for label, s in (("ImageNet 224×224×3", s224), ("seed, MNIST 64×64×1", s64), ("MNIST padded 32×32×1", s32)):
    print(f"{label:<26}{s.total_params:>14,}{s.total_macs / 1e9:>8.2f}{s.total_activations:>14,}"
          f"{s.activation_bytes / 2**20:>8.1f}")
conv64 = sum(r.params for r in s64.rows if r.type == "Convolution2D")
fc2_64 = next(r.params for r in s64.rows if r.name == "fc2")
print(f"compute: 224×224×3 / 64×64×1 = {s224.total_macs / s64.total_macs:.1f}×,  "
      f"64×64 / 32×32 = {s64.total_macs / s32.total_macs:.2f}×")
print(f"64×64×1 parameters: fc2 {fc2_64 / 1e6:.1f}M, all 13 convolutions {conv64 / 1e6:.1f}M")
assert fc2_64 > conv64

# %% [markdown]
# The 64×64 digits cost 12 times less compute than ImageNet photos, but the FC head keeps the model at
# 40 million parameters: `fc2` alone (16.8M) is bigger than all 13 convolutions (14.7M). Going down to
# 32×32 divides the compute by almost 4 once more (the convolutions' by exactly 4; the FC layers barely
# change). For ten classes of 28×28 digits, this network is enormous — which is the point of the exercise:
# if it works here, on a laptop, you understand how it works everywhere.

# %% [markdown]
# ## 🐞 Spot the bug: "24M activations ≈ 93 MB per image"
#
# > The seed's write-up says VGG16 needs *"24M × 4 bytes ≈ 93 MB per image"* for its activations (only the
# > forward pass, about twice that with the backward pass). It is quoted from the VGGNet case study of
# > Stanford's cs231n notes, which lists the memory of every layer (`INPUT: 224*224*3=150K`,
# > `CONV3-64: 224*224*64=3.2M`, …) and ends with `TOTAL memory: 24M * 4 bytes ~= 93MB / image`.
# > Is that right?
#
# Add up the slide's own per-layer numbers:

# %%
slide = {"input": 150e3, "conv1_1": 3.2e6, "conv1_2": 3.2e6, "pool1": 800e3,
         "conv2_1": 1.6e6, "conv2_2": 1.6e6, "pool2": 400e3,
         "conv3_1": 800e3, "conv3_2": 800e3, "conv3_3": 800e3, "pool3": 200e3,
         "conv4_1": 400e3, "conv4_2": 400e3, "conv4_3": 400e3, "pool4": 100e3,
         "conv5_1": 100e3, "conv5_2": 100e3, "conv5_3": 100e3, "pool5": 25e3,
         "fc1": 4096, "fc2": 4096, "fc3": 1000}
exact = {"input": s224.input_values, **{r.name: r.activations for r in s224.rows if r.activations}}
assert list(slide) == list(exact)
print(f"the slide's lines add up to   {sum(slide.values()) / 1e6:.2f}M values")
print(f"the exact per-layer sum is    {s224.total_activations:,} values = {s224.activation_bytes:,} bytes "
      f"= {s224.activation_bytes / 2**20:.1f} MiB")
print(f"the slide's total: 24M × 4 bytes = {24e6 * 4:,.0f} bytes = {24e6 * 4 / 2**20:.1f} MiB (not 93)")
print(f"the exact count is {1 - s224.total_activations / 24e6:.1%} below the quoted 24M values")

# %% [markdown]
# The per-layer lines are right (rounded); the total is not their sum. **The true forward activation count
# of VGG16 is 15,237,608 values, 58 MiB per image in float32** — 36.5% fewer values than the quoted 24M, and
# even "24M × 4 bytes" is 96 MB (91.6 MiB), not 93.
#
# Where could 24M come from? The slide does not say, so we can only test the natural ways of counting
# differently. Each one is a real question about an implementation — *what does it keep in memory?* — and
# can be computed from the summary rows:

# %%
conv_rows = [r for r in s224.rows if r.type == "Convolution2D"]
shape_in = {}                                                                # each layer's input shape
cur = s224.input_shape
for r in s224.rows:
    shape_in[r.name] = cur
    cur = r.output_shape

relu_outputs = sum(r.activations for r in conv_rows) + 4096 + 4096           # ReLU kept as separate arrays
padded_inputs = sum(c * (h + 2) * (w + 2) for c, h, w in (shape_in[r.name] for r in conv_rows))
im2col = sum(c * 9 * h * w for c, h, w in (shape_in[r.name] for r in conv_rows))      # 3×3 columns, pad 1

countings = {
    "the slide's lines, summed": sum(slide.values()),
    "exact standard count (summary)": s224.total_activations,
    "+ ReLU outputs as separate arrays": s224.total_activations + relu_outputs,
    "+ a zero-padded copy of each conv input": s224.total_activations + padded_inputs,
    "forward + backward (a gradient per value)": 2 * s224.total_activations,
    "+ im2col buffers of every conv (training)": s224.total_activations + im2col,
}
for label, n in countings.items():
    print(f"{label:<44} {n / 1e6:>6.1f}M values = {n * 4 / 2**20:>6.1f} MiB")

fig, ax = plt.subplots(figsize=(8, 3))
ax.barh(range(len(countings)), [n / 1e6 for n in countings.values()],
        color=["tab:gray", "tab:blue"] + ["tab:orange"] * 4)
ax.axvline(24, color=viz.WRONG_COLOR, ls="--", label="the quoted 24M")
ax.set_yticks(range(len(countings)), list(countings), fontsize=9)
ax.invert_yaxis()
ax.set_xlabel("million values per image (VGG16, 224×224×3)"); ax.set_ylabel("what is counted")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# None of them gives 24M exactly. The closest, 24.9M, would be an implementation that also keeps a
# zero-padded copy of every convolution's input — plausible, but nothing on the slide says so; most likely
# the total is simply a slip that has been copied ever since. The lesson is not about one slide:
#
# - a memory figure means nothing until it says **what is counted** — forward values only, or also what
#   the backward pass needs (ReLU masks, pooling winners, im2col columns, gradients);
# - **check quoted numbers by summing them yourself**: it takes one cell;
# - for training, the real cost is several times the forward count: a straightforward im2col
#   implementation keeps about $9\times$ every conv input in its column buffers, which is one of the things
#   notebook 14 does better.
#
# `vgglib.summarize.summary` prints the standard count and states in its docstring what it includes, so its
# 15,237,608 can be checked line by line.

# %% [markdown]
# ## 4 · A forward pass on real digits
#
# Section 2 already pushed 16 test digits through the untrained network. Notebook 06 taught us what to
# expect from a network that knows nothing: probabilities near $1/10$ and a loss near $\ln 10 \approx 2.303$
# — if its logits start out small. Does it hold?
#
# **Predict, then run.** This network is He-initialised everywhere, `fc3` included (notebook 06 showed what
# He initialisation did to a single 784 → 10 layer), and the rms column of section 2 shows how large the
# values are by the time they reach `fc3`. What cross-entropy do you expect on these 16 digits?

# %%
guess = None   # your prediction: the untrained network's loss on the 16 digits (a number; ln 10 ≈ 2.303)

# %%
probs = softmax(logits)
loss, _ = softmax_cross_entropy(logits, digit_labels)
reveal(guess, round(loss, 2), what="the untrained VGG16")
print(f"logits {logits.shape}: std {logits.std():.2f}")
print(f"loss {loss:.2f}   (ln 10 = {np.log(10):.2f});  largest probability per digit: mean {probs.max(axis=1).mean():.2f}")
print("predicted classes:", probs.argmax(axis=1))


# %%
def show_probabilities(probs, title):
    fig, axes = plt.subplots(2, 6, figsize=(12, 3.7), gridspec_kw={"height_ratios": [1.3, 1]})
    for i in range(6):
        axes[0, i].imshow(digits[i], cmap=viz.IMAGE_CMAP); axes[0, i].axis("off")
        axes[0, i].set_title(f"label {digit_labels[i]}")
        bars = axes[1, i].bar(range(10), probs[i], color=[viz.digit_color(k) for k in range(10)])
        for k, bar in enumerate(bars):
            bar.set_alpha(1.0 if k == digit_labels[i] else 0.3)
        axes[1, i].axhline(0.1, color="black", lw=0.8, ls=":")
        axes[1, i].set_ylim(0, 1); axes[1, i].set_xticks(range(10)); axes[1, i].tick_params(labelsize=7)
        axes[1, i].set_xlabel("class", fontsize=8)
    axes[1, 0].set_ylabel("probability")
    fig.suptitle(title + "  (solid bar: the true class)")
    plt.tight_layout()
    plt.show()


show_probabilities(probs, "untrained VGG16 (He initialisation everywhere); dotted line = 1/10")

# %% [markdown]
# Not uniform: the untrained network is fairly sure of itself, and the loss is well above $\ln 10$ — the
# first-loss check of notebook 06 flags it. Two things inflate the logits. He initialisation keeps the
# signal's second moment constant through *ReLU* layers, but `fc3` has no ReLU after it, so its outputs have
# a spread of about $\sqrt{2}$ times the typical size of its inputs (as for the single layer in notebook
# 06); and each max-pool passes on the largest of four values, which is larger than a typical one, so the
# signal grows block by block — the rms column of section 2 roughly doubles from the input to `pool5`. The
# network also predicts nearly the same class for every digit: at
# initialisation the output depends much more on the weights than on the image.
#
# The cure is the one from notebook 06: make the **output layer's** initial weights small. The bias is 0 at
# initialisation, so scaling `fc3`'s weights by 0.01 scales the logits by 0.01 — we can rerun just that layer
# on the 4096 features it received:

# %%
fc3 = model["fc3"]
features = outputs["dropout_fc2"]                      # the input fc3 saw (dropout is off: training=False)
fc3.params["weights"] *= 0.01
logits_small = fc3.forward(features, training=False)
assert np.allclose(logits_small, 0.01 * logits, rtol=1e-4, atol=1e-6)

probs_small = softmax(logits_small)
loss_small, _ = softmax_cross_entropy(logits_small, digit_labels)
print(f"loss {loss_small:.3f}   (ln 10 = {np.log(10):.3f});  probabilities between "
      f"{probs_small.min():.3f} and {probs_small.max():.3f}")
assert abs(loss_small - np.log(10)) < 0.01
show_probabilities(probs_small, "the same network with fc3's initial weights × 0.01: uniform, loss ≈ ln 10")

# %% [markdown]
# Now the untrained network is honest about knowing nothing. `vgglib.model.VGG16` — the model notebooks 09–14
# train — builds in the same cure: right after He initialisation it multiplies `fc3`'s weights by
# `CLASSIFIER_INIT_SCALE` (0.1, enough at every input size and width we use). Check it on the same digits:

# %%
from vgglib.model import CLASSIFIER_INIT_SCALE, VGG16

library_model = VGG16(in_channels=1, num_classes=10, input_size=64)
library_loss, _ = softmax_cross_entropy(library_model.forward(x, training=False), digit_labels)
print(f"CLASSIFIER_INIT_SCALE = {CLASSIFIER_INIT_SCALE};  vgglib's VGG16 at initialisation: loss {library_loss:.2f}")
assert abs(library_loss - np.log(10)) < 0.1

# %% [markdown]
# Whether larger starting logits would hurt training is an empirical question (Adam often recovers);
# what matters is that you check the first loss and can explain it.
#
# Finally, how long does one forward pass take with these readable layers (notebook 14 makes them fast)? This
# is the seed's "very slow to train" in numbers — the backward pass costs about twice as much again. The
# timing is on this machine, at the moment the notebook ran; yours will differ:

# %% tags=["nbval-ignore-output"]
x4 = x[:4]                                             # four images are enough for a rate
t0 = time.perf_counter()
model.forward(x4, training=False)
seconds = time.perf_counter() - t0
rate = len(x4) / seconds
print(f"forward: {len(x4)} images in {seconds:.2f} s = {rate:.1f} images/s "
      f"({s64.total_macs * len(x4) / seconds / 1e9:.1f} GMAC/s)")
print(f"one epoch of 60,000 images, forward + backward (≈3× forward): about {3 * 60_000 / rate / 60:.0f} minutes")

# %% [markdown]
# ## Summary
#
# | | VGG16, 224×224×3 | the seed's 64×64×1 | formula |
# |---|---|---|---|
# | layers with weights | 13 conv + 3 FC | same | conv 3×3 / pad 1 keeps the side, pool 2×2 halves it |
# | flattened features | $512\cdot7\cdot7 = 25{,}088$ | $512\cdot2\cdot2 = 2{,}048$ | $512\cdot(S/32)^2$ |
# | parameters | 138,357,544 (89% FC) | 39,928,522 | conv $FCk^2 + F$, FC $DM + M$ |
# | multiply-adds | 15.47 G (99% conv) | 1.27 G | conv $H_oW_o\,F\,Ck^2$, FC $DM$ |
# | activations (forward, input included) | 15,237,608 ≈ 58 MiB | 1,243,146 ≈ 4.7 MiB | each conv, pool, FC output once |
# | untrained loss | — | well above $\ln 10$ with plain He init; $\ln 10$ after shrinking `fc3` (as `VGG16` does) | $\ln C$ for uniform outputs |
#
# **Remember:** parameters live in the FC head, compute in the convolutions, memory in the first block; and a
# memory figure is only meaningful together with what it counts.
#
# Next: **09 · Training VGG16 on MNIST** — the seed's whole pipeline, done right.

# %% [markdown]
# ## Exercises
#
# Worked solutions are in `solutions/08_vgg16_architecture_solutions.ipynb`. Work them out by hand (or with a
# few lines of arithmetic) — `summary` gives the answers away.
#
# **Exercise 1 (easy).** MNIST digits padded to 32×32×1 (`VGG16(input_size=32)`, the choice of the later
# notebooks): how many inputs does `fc1` have?

# %% tags=["exercise-1"]
answer = None   # your answer: a whole number
check_fc1_inputs(answer)

# %% [markdown]
# **Exercise 2 (medium).** Notebooks 09, 11 and 13 train a slimmer VGG16 on padded digits,
# `VGG16(input_size=32, width=0.125)`: 32×32×1 inputs, and every channel count times 0.125 — blocks 1–5 have
# 8, 16, 32, 64 and 64 channels. How many multiply-adds does its `conv3_1` perform for one image?

# %% tags=["exercise-2"]
answer = None   # your answer: a whole number
check_conv_macs(answer)

# %% [markdown]
# **Exercise 3 (harder).** The STL-10 benchmark has 96×96 colour photos in 10 classes. How many activation
# values does one forward pass of a full-width VGG16 for it,
# `VGG16(in_channels=3, num_classes=10, input_size=96)`, produce for one image, counted the standard way
# (the input, plus every conv, pool and FC output once)?

# %% tags=["exercise-3"]
answer = None   # your answer: a whole number
check_activation_count(answer)
