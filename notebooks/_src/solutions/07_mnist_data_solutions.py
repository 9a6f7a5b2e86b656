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
# # Solutions · 07 MNIST, byte by byte
#
# Worked solutions to the exercises of `../07_mnist_data.ipynb`. Each cell computes the answer, runs the
# same self-check, and asserts that it passes.

# %%
import struct

import numpy as np

import vgglib
from vgglib.exercises import check_parse_idx_header, check_shuffle_together, check_uint8_wraparound

print("vgglib", vgglib.__version__)


# %% [markdown]
# **Exercise 1.** Byte 2 is the type code and byte 3 the number of dimensions; then each size is a
# big-endian unsigned 32-bit integer (`">I"`).

# %% tags=["solution-1"]
def parse_idx_header(data):
    '''bytes -> (type_code: int, shape: tuple of ints)'''
    type_code, ndim = data[2], data[3]
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return type_code, tuple(shape)


print(parse_idx_header(bytes.fromhex("00000803 00001770 0000001c 0000001c")))
result = check_parse_idx_header(parse_idx_header)
print(result)
assert result.correct

# %% [markdown]
# **Exercise 2.** $20 - 33 = -13$, and modulo 256 that is $-13 + 256 = 243$: a faint rim pixel becomes
# almost full ink.

# %% tags=["solution-2"]
x = np.array([20], dtype=np.uint8)
x -= 33
answer = int(x[0])
assert answer == (20 - 33) % 256
result = check_uint8_wraparound(answer)
print(answer, result)
assert result.correct


# %% [markdown]
# **Exercise 3.** Draw *one* permutation from `rng` and index both arrays with it.

# %% tags=["solution-3"]
def shuffle_together(X, y, rng):
    '''X (N, ...), y (N,), rng: np.random.Generator -> (X_shuffled, y_shuffled)'''
    perm = rng.permutation(len(X))
    return X[perm], y[perm]


result = check_shuffle_together(shuffle_together)
print(result)
assert result.correct
