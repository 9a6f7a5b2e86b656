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
# # 13 · Feature maps — solutions
#
# Worked solutions to the exercises of `../13_feature_maps.ipynb`. Each cell computes the answer, runs the same
# self-check, and asserts that it passes.

# %%
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib import checkpoint
from vgglib.exercises import check_pool4_shape, check_vgg11_receptive_field, check_top_activating
from vgglib.layers import Convolution2D, Maxpooling2D, ReLU
from vgglib.mnist import load_mnist
from vgglib.model import VGG16
from vgglib.summarize import summary
from vgglib.viz import show_images

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** Channels: block 4 has 512 filters at full width, and `width=0.25` scales every count:
# $512 \cdot 0.25 = 128$. Size: padding 1 keeps it through every 3×3 convolution, and the four poolings up to
# `pool4` halve 96 four times: $96 / 2^4 = 6$. `summary` of the architecture's spec agrees (without allocating
# any weight):

# %% tags=["solution-1"]
answer = (int(512 * 0.25), 96 // 2**4, 96 // 2**4)
rows = {row.name: row for row in summary(VGG16.spec(input_size=96, width=0.25), print_table=False).rows}
print("pool4 output:", rows["pool4"].output_shape)
result = check_pool4_shape(answer)
print(result)
assert result.correct and tuple(rows["pool4"].output_shape) == answer

# %% [markdown]
# **Exercise 2.** Start with $r = 1$, $J = 1$. conv1_1: $r = 1 + 2 \cdot 1 = 3$; pool1: $3 + 1 = 4$, $J = 2$;
# conv2_1: $4 + 2 \cdot 2 = 8$; pool2: $8 + 2 = 10$, $J = 4$; conv3_1: $10 + 2 \cdot 4 = 18$; conv3_2: $26$;
# pool3: $26 + 4 = 30$, $J = 8$; conv4_1: $30 + 2 \cdot 8 = 46$. Fewer convolutions early mean a smaller field
# than VGG16's 60 at the same layer name. The same measurement as in section 4 of the lesson — backprop from
# the centre unit through VGG11's layers, built from vgglib's layers — agrees:

# %% tags=["solution-2"]
r, jump = 1, 1
for k, s in [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)]:   # conv1_1 ... conv4_1 of VGG11
    r, jump = r + (k - 1) * jump, jump * s
answer = r

rng = np.random.default_rng(0)
layers, channels = [], 1
for kind in ("conv", "pool", "conv", "pool", "conv", "conv", "pool", "conv"):
    if kind == "conv":
        layers += [Convolution2D(channels, 4, 3, padding=1, rng=rng, dtype=np.float64), ReLU()]
        channels = 4
    else:
        layers.append(Maxpooling2D(2, 2))
h = rng.standard_normal((16, 1, 96, 96))
for layer in layers:
    h = layer.forward(h, training=False)
dy = np.zeros_like(h)
dy[:, :, h.shape[2] // 2, h.shape[3] // 2] = 1.0                   # the centre unit of every channel
for layer in reversed(layers):
    dy = layer.backward(dy)
support = np.flatnonzero(np.abs(dy).sum(axis=(0, 1, 3)) > 0)
measured = int(support[-1] - support[0] + 1)
print(f"formula {answer}, measured {measured}")
result = check_vgg11_receptive_field(answer)
print(result)
assert result.correct and measured == answer


# %% [markdown]
# **Exercise 3.** Average over the two spatial axes, then sort descending (a stable `argsort` of the negated means).
# Applied to a `relu3_3` channel of the shipped trained model, over 500 test digits:

# %% tags=["solution-3"]
def top_activating(maps, channel, k):
    '''maps (N, C, H, W) -> indices (k,) of the images with the largest mean activation in `channel`'''
    means = maps[:, channel].mean(axis=(1, 2))
    return np.argsort(-means, kind="stable")[:k]


result = check_top_activating(top_activating)
print(result)
assert result.correct

X_test, y_test = load_mnist("test")
model = VGG16(input_size=32, width=0.125, dropout=0.5)
checkpoint.load(Path(vgglib.__file__).resolve().parents[1] / "data" / "weights" / "vgg16_small_mnist_fp16.npz",
                model=model)
h = model.prepare(X_test[:500])
for layer in model.layers[:model.names.index("relu3_3") + 1]:
    h = layer.forward(h, training=False)
channel = int(np.argmax(h.mean(axis=(0, 2, 3))))          # the most active channel on average
best = top_activating(h, channel, 10)
print(f"relu3_3, channel {channel}: labels of its 10 favourite digits {y_test[best].tolist()}")
fig = show_images(X_test[best], labels=y_test[best].tolist(), ncols=10, size=0.9,
                  title=f"relu3_3, channel {channel}: the 10 test digits it responds to most")
fig.subplots_adjust(top=0.62)
plt.show()
