"""Data parallelism over threads: the convolutional trunk of a training step on shards of the batch, one per worker.

Inside a layer, the fast backend splits each operation over the workers (:mod:`vgglib.fast.workers`). For a
narrow network that is many small hand-offs — ~70 per training step of the recipe's model, each waking a
helper thread (~115 µs for one that slept; item 6 of ``benchmarks/README.md``) — and the numpy passes between
the GEMMs (padding, transforms, ReLU, pooling) are too short to split well. :class:`BatchSplit` cuts the batch
instead: every worker runs the model's *trunk* — its leading convolution, ReLU and pooling layers — on its shard of the
images, forward and then backward, with the same weights; the trunk's gradients of the shards are summed. The
*head* (Flatten, the fully connected layers, dropout) runs on the whole batch as usual: its big weight
matrices would cost more to sum than splitting saves, and its dropout masks stay exactly the unsplit model's.
``fit`` trains through it; ``benchmarks/README.md`` has the timings.

Same results as ``model.forward`` / ``model.backward`` to rounding (``tests/test_batch_split.py``): each image's
trunk is computed alone either way, but a BLAS may sum a product in another order when its matrices have fewer
rows (bit-identical logits with OpenBLAS's SkylakeX kernels here, not with its Haswell ones), and the gradients
add the shards' sums. The loss is computed on the whole batch's logits, so every shard's gradient is already scaled by
1/N and the sum over the shards is the batch's gradient.

Each shard runs a *replica* of the trunk: layers of the same classes sharing the model's parameter arrays
(the same ``params`` dicts, so optimizer updates and loaded weights are seen at once) with forward state and
``grads`` of their own. After a split forward the model's own trunk layers hold no forward state — so
``model.backward`` refuses ("called before forward") rather than mix in an earlier batch: call
:meth:`BatchSplit.backward` after :meth:`BatchSplit.forward`. Explained in ``notebooks/14_making_it_fast.ipynb``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import Layer
from .layers import Convolution2D, ReLU, _convert, _FastPooling
from .workers import parallel_map, threaded, worker_count

__all__ = ["BatchSplit", "MIN_SHARD", "MAX_CHANNELS", "TRUNK_LAYERS"]

#: the batch is split only when every shard gets at least this many images (below, one shard's GEMMs are too
#: small to run well on one core and the per-operation split is faster)
MIN_SHARD: int = 8
#: ... and only for narrow trunks, whose convolutions have at most this many channels: wider layers make GEMMs big
#: enough for the per-operation split, which was as fast there (``benchmarks/bench_batch_split.py``; item 6b of
#: ``benchmarks/README.md``), and their replicas' gradients would cost a second copy of the trunk's
MAX_CHANNELS: int = 128
#: the layer classes a trunk is made of: the fast convolution, ReLU and pooling layers (no random state)
TRUNK_LAYERS: tuple[type, ...] = (Convolution2D, ReLU, _FastPooling)


def _replica(layer: Layer) -> Layer:
    """A layer of the same class sharing ``layer``'s parameter arrays, with its own forward state and grads."""
    new = _convert(layer, type(layer))
    new.grads = {}
    return new


class BatchSplit:
    """Run a fast model's forward and backward with its trunk split over the worker threads, a shard each.

    ``forward(x, training)`` -> logits (N, classes), like ``model.forward``; ``backward(dlogits, input_grad)``
    fills the model's ``grads`` (the trunk's summed over the shards), like ``model.backward``. With one worker,
    a batch of fewer than ``2·MIN_SHARD`` images, a trunk wider than :data:`MAX_CHANNELS` or a model whose
    first layer is not a fast convolution, ReLU or pooling layer (:data:`TRUNK_LAYERS`), both simply call the
    model's own methods.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._replicas: list[list[Layer]] = []
        self._built_for: list[tuple[Layer, dict[str, np.ndarray]]] = []  # the trunk layers the replicas copy
        self._bounds: list[tuple[int, int]] | None = None  # the last forward's shards (None: not split)
        self._trunk_length = 0  # the last forward's trunk (self.trunk then)

    @property
    def trunk(self) -> int:
        """How many leading layers of the model the shards run (0: nothing to split)."""
        count = 0
        for layer in self.model.layers:
            if not isinstance(layer, TRUNK_LAYERS):
                break
            count += 1
        return count

    @property
    def replicas(self) -> list[list[Layer]]:
        """The shards' copies of the trunk (built by the first split forward; for profiling)."""
        return list(self._replicas)

    def shards(self, n: int) -> list[tuple[int, int]] | None:
        """The image ranges a batch of ``n`` is cut into, or None when it runs unsplit."""
        return self._cut(n, self.trunk)

    def _cut(self, n: int, trunk_length: int) -> list[tuple[int, int]] | None:
        workers = worker_count()
        trunk = self.model.layers[:trunk_length]
        widest = max(
            (max(layer.inputs_channel, layer.num_filters) for layer in trunk if isinstance(layer, Convolution2D)),
            default=0,
        )
        if workers < 2 or n < 2 * MIN_SHARD or not trunk or widest > MAX_CHANNELS:
            return None
        parts = min(workers, n // MIN_SHARD)
        cuts = [round(i * n / parts) for i in range(parts + 1)]
        return list(zip(cuts[:-1], cuts[1:]))

    def _replica_sets(self, count: int, trunk_length: int) -> list[list[Layer]]:
        trunk = self.model.layers[:trunk_length]
        built = [(layer, layer.params) for layer in trunk]
        stale = len(self._built_for) != len(built) or any(
            a is not b or pa is not pb for (a, pa), (b, pb) in zip(self._built_for, built)
        )
        if stale or len(self._replicas) < count:  # first use, or the model's layers or parameters were replaced
            self._replicas = [[_replica(layer) for layer in trunk] for _ in range(count)]
            self._built_for = built
        return self._replicas[:count]

    # -- the two passes ------------------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Logits (N, classes) of the prepared batch ``x``: the trunk shard by shard, the head on the whole batch."""
        k = self._trunk_length = self.trunk
        bounds = self._cut(len(x), k) if isinstance(x, np.ndarray) and x.ndim >= 2 else None
        self._bounds = bounds
        if bounds is None:
            return self.model.forward(x, training)
        replicas = self._replica_sets(len(bounds), k)
        for layer in self.model.layers[:k]:  # no stale state: model.backward now refuses, not mixes
            layer._output_shape = None
        out = np.concatenate(self._run_trunk(replicas, bounds, x, training))
        for layer in self.model.layers[k:]:
            out = layer.forward(out, training)
        return out

    @threaded
    def _run_trunk(
        self, replicas: list[list[Layer]], bounds: list[tuple[int, int]], x: np.ndarray, training: bool
    ) -> list[np.ndarray]:
        def shard(i: int) -> np.ndarray:
            out = x[bounds[i][0] : bounds[i][1]]
            for layer in replicas[i]:
                out = layer.forward(out, training)
            return out

        return parallel_map(shard, range(len(bounds)))

    def backward(self, dlogits: np.ndarray, input_grad: bool = False) -> np.ndarray | None:
        """Fill the model's ``grads`` from dL/dlogits (N, classes); dL/dx (N, ...) when ``input_grad``."""
        bounds = self._bounds
        if bounds is None:
            return self.model.backward(dlogits, input_grad)
        if not isinstance(input_grad, (bool, np.bool_)):
            raise TypeError(f"backward: input_grad must be True or False, got {input_grad!r}")
        dy = dlogits
        for layer in reversed(self.model.layers[self._trunk_length :]):  # the head, on the whole batch
            dx = layer.backward(dy)
            assert dx is not None
            dy = dx
        n = bounds[-1][1]
        if not isinstance(dy, np.ndarray) or dy.ndim < 1 or dy.shape[0] != n:  # (a model that is all trunk)
            raise ValueError(
                f"backward: dy has shape {getattr(dy, 'shape', None)}, expected {n} rows (the last forward's batch)"
            )
        replicas = self._replicas[: len(bounds)]
        dxs = self._run_trunk_backward(replicas, bounds, dy, input_grad)
        self._sum_grads(replicas)
        return np.concatenate([dx for dx in dxs if dx is not None]) if input_grad else None

    @threaded
    def _run_trunk_backward(
        self, replicas: list[list[Layer]], bounds: list[tuple[int, int]], dy: np.ndarray, input_grad: bool
    ) -> list[np.ndarray | None]:
        def shard(i: int) -> np.ndarray | None:
            layers, d = replicas[i], dy[bounds[i][0] : bounds[i][1]]
            for layer in reversed(layers[1:]):
                dx = layer.backward(d)
                assert dx is not None
                d = dx
            return layers[0].backward(d, input_grad=input_grad)

        return parallel_map(shard, range(len(bounds)))

    def _sum_grads(self, replicas: list[list[Layer]]) -> None:
        """Each trunk parameter's gradient: the sum over the shards, added into the first shard's new array (the
        workers take parameters in turn); the replicas then let go of theirs."""
        jobs = [(j, key) for j, layer in enumerate(self.model.layers[: len(replicas[0])]) for key in layer.params]

        def total(job: tuple[int, str]) -> None:
            j, key = job
            out = replicas[0][j].grads[key]  # a new array of this step's, owned by no one else
            for replica in replicas[1:]:
                out += replica[j].grads[key]
            self.model.layers[j].grads[key] = out

        parallel_map(total, jobs)
        for replica in replicas:
            for layer in replica:
                layer.grads = {}
