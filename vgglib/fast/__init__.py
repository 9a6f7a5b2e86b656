"""The fast backend: layers with the contract of :mod:`vgglib.layers`, written for speed (numpy only).

A model chooses its implementation explicitly — ``VGG16(..., fast=True)`` (the default), ``model.to_fast()``,
``model.to_reference()`` — there is no process-wide switch. The pieces, one concern per module:

* :mod:`vgglib.fast.layers` — the layer classes and the conversions :func:`to_fast` / :func:`to_reference`;
* :mod:`vgglib.fast.conv` — convolution by channels-last gathers and GEMMs;
* :mod:`vgglib.fast.winograd` — Winograd F(2×2, 3×3) for VGG's 3×3 layers, and the inference weight cache;
* :mod:`vgglib.fast.shifted` — convolution as shifted matrix products, for narrow layers on large maps;
* :mod:`vgglib.fast.dense` — convolution as one dense product, on maps smaller than the kernel (2×2);
* :mod:`vgglib.fast.elementwise` — fully connected, ReLU and 2×2 pooling;
* :mod:`vgglib.fast.scratch` — channels-last layout helpers and reusable scratch memory;
* :mod:`vgglib.fast.batch_split` — a training step's convolutional trunk on shards of the batch, one per worker;
* :mod:`vgglib.fast.workers` — worker threads (one-thread BLAS each), fork safety, :func:`parallel_map`.

Taught in ``notebooks/14_making_it_fast.ipynb``; measured against PyTorch by ``benchmarks/bench_vgg16.py`` (the
model) and ``benchmarks/bench_layers.py`` (each convolution, every method; design choices, timings and what did
not help: ``benchmarks/README.md``); tested against the readable layers in ``tests/test_fast.py``.

Arrays handed back to the caller (outputs, ``dx``, gradients) are always new arrays; only internal scratch
memory is reused. The fast ReLU and convolution keep a reference to their input/output for ``backward``
instead of a copy (and so does pooling after an inference forward): don't modify those arrays in place in
between.
"""

from __future__ import annotations

from ..layers import Dropout, Flatten
from .batch_split import MIN_SHARD, BatchSplit
from .conv import METHODS, ConvCache, conv2d_backward, conv2d_forward, prefer
from .elementwise import linear_backward, linear_forward, pool2x2_backward, pool2x2_forward, relu_backward, relu_forward
from .layers import (
    FAST_DTYPES,
    Avgpooling2D,
    Convolution2D,
    FullyConnected,
    Maxpooling2D,
    Minpooling2D,
    Pooling2D,
    ReLU,
    has_fast_version,
    is_fast,
    to_fast,
    to_reference,
)
from .scratch import free_scratch, is_channels_last, scratch_buffers, to_nhwc
from .winograd import WeightCache
from .workers import parallel_map, worker_count

__all__ = [
    "BatchSplit",
    "MIN_SHARD",
    "Convolution2D",
    "ReLU",
    "Pooling2D",
    "Maxpooling2D",
    "Minpooling2D",
    "Avgpooling2D",
    "FullyConnected",
    "Flatten",
    "Dropout",
    "FAST_DTYPES",
    "to_fast",
    "to_reference",
    "is_fast",
    "has_fast_version",
    "parallel_map",
    "worker_count",
    "free_scratch",
    "scratch_buffers",
    "is_channels_last",
    "to_nhwc",
    "WeightCache",
    "ConvCache",
    "conv2d_forward",
    "conv2d_backward",
    "prefer",
    "METHODS",
    "linear_forward",
    "linear_backward",
    "relu_forward",
    "relu_backward",
    "pool2x2_forward",
    "pool2x2_backward",
]
