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
import matplotlib.pyplot as plt
import numpy as np

import vgglib
from vgglib.mnist import load_mnist
from vgglib.exercises import check_pool3_shape, check_conv3_1_receptive_field, check_top_activating
from vgglib.model import VGG16
from vgglib.summarize import summary
from vgglib.optim import Adam
from vgglib.train import fit
from vgglib.viz import show_images

print("vgglib", vgglib.__version__)

# %% [markdown]
# **Exercise 1.** Block 3 has 256 filters; padding 1 keeps the size through each 3×3 convolution and the three
# poolings up to `pool3` halve 64 three times: $64/8 = 8$. `summary` of the architecture's spec agrees (without
# allocating the 40 million weights):

# %% tags=["solution-1"]
answer = (256, 8, 8)
rows = {row.name: row for row in summary(VGG16.spec(input_size=64), print_table=False).rows}
print("pool3 output:", rows["pool3"].output_shape)
result = check_pool3_shape(answer)
print(result)
assert result.correct and rows["pool3"].output_shape == answer

# %% [markdown]
# **Exercise 2.** Start with $r = 1$, $J = 1$. conv1_1: $r = 3$; conv1_2: $5$; pool1: $6$, $J = 2$; conv2_1:
# $6 + 2\cdot 2 = 10$; conv2_2: $14$; pool2: $14 + 2 = 16$, $J = 4$; conv3_1: $16 + 2 \cdot 4 = 24$.

# %% tags=["solution-2"]
r, jump = 1, 1
for k, s in [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)]:   # conv1_1 ... conv3_1
    r, jump = r + (k - 1) * jump, jump * s
answer = r
result = check_conv3_1_receptive_field(answer)
print(answer, result)
assert result.correct


# %% [markdown]
# **Exercise 3.** Average over the two spatial axes, then sort descending (a stable `argsort` of the negated means).
# Applied to a `relu3_3` channel of a quickly trained model, over 500 test digits:

# %% tags=["solution-3"]
def top_activating(maps, channel, k):
    '''maps (N, C, H, W) -> indices (k,) of the images with the largest mean activation in `channel`'''
    means = maps[:, channel].mean(axis=(1, 2))
    return np.argsort(-means, kind="stable")[:k]


result = check_top_activating(top_activating)
print(result)
assert result.correct

X_train, y_train = load_mnist("train")
X_test, y_test = load_mnist("test")
model = VGG16(input_size=32, width=0.125, dropout=0.3, rng=np.random.default_rng(0))
fit(model, (X_train[:2000], y_train[:2000]), epochs=2, batch_size=32, optimizer=Adam(1e-3), seed=0,
    progress=False, verbose=False)
h = model.prepare(X_test[:500])
for layer in model.layers[:model.names.index("relu3_3") + 1]:
    h = layer.forward(h, training=False)
channel = int(np.argmax(h.mean(axis=(0, 2, 3))))          # the most active channel on average
best = top_activating(h, channel, 10)
show_images(X_test[best], labels=y_test[best].tolist(), ncols=10, size=0.9,
            title=f"relu3_3, channel {channel}: the 10 test digits it responds to most")
plt.show()
