"""vgglib.fast.batch_split: the trunk on shards of the batch gives the unsplit model's results.

Logits and gradients must equal the model's to rounding: each image's trunk is computed alone either way, only the
order of some sums differs (a BLAS may block a smaller product differently). In float32 a rounding-sized change can
flip a near-tie of a max pooling window, which moves one contribution of a gradient: float32 gradients are compared
in norm, float64 ones element by element. The split must follow the model's weights as they change, fall back to
the model's own forward/backward wherever it does not apply, and ``fit`` must train through it.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from vgglib import fast
from vgglib.fast import BatchSplit
from vgglib.fast import batch_split as split_module
from vgglib.fast import workers as fast_workers
from vgglib.layers import Flatten
from vgglib.losses import softmax_cross_entropy
from vgglib.model import VGG16, Sequential
from vgglib.optim import SGD
from vgglib.train import fit


@contextmanager
def threads(count):
    saved = fast_workers.threads
    fast_workers.threads = count
    try:
        yield
    finally:
        fast_workers.threads = saved


def recipe_like(seed=0, dtype=np.float32):
    """The recipe's architecture (quarter-width VGG16, dropout in the head) at 32×32."""
    return VGG16(1, 10, 32, width=0.25, dropout=0.5, rng=np.random.default_rng(seed), dtype=dtype)


def batch(n, seed=1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 32, 32)).astype(dtype), rng.integers(0, 10, n)


def step(net, x, y, input_grad=False):
    """(logits, dL/dx or None) of one forward + backward through ``net`` (a model or a BatchSplit)."""
    logits = net.forward(x, training=True)
    _, dlogits = softmax_cross_entropy(logits, y)
    return logits, net.backward(dlogits, input_grad=input_grad)


def assert_same_grads(a, b, rtol, norm=False):
    """Every gradient of model ``a`` within ``rtol`` of ``b``'s: element by element relative to its largest value,
    or (``norm``) the norm of the difference relative to the gradient's norm."""
    for la, lb in zip(a.layers, b.layers):
        assert la.grads.keys() == lb.grads.keys()
        for key in la.grads:
            ga, gb = la.grads[key], lb.grads[key]
            assert ga.shape == gb.shape and ga.dtype == gb.dtype, (la.name, key)
            if norm:
                error = np.linalg.norm(ga - gb) / (np.linalg.norm(gb) + 1e-30)
            else:
                error = np.abs(ga - gb).max() / (np.abs(gb).max() + 1e-30)
            assert error <= rtol, f"{la.name}.{key}: {error:.2e}"


@pytest.mark.parametrize("n", [16, 21, 40])
def test_split_step_matches_the_model_to_rounding(n):
    x, y = batch(n)
    plain, split = recipe_like(), recipe_like()
    net = BatchSplit(split)
    with threads(2):
        assert net.shards(n) is not None and len(net.shards(n)) == 2
        assert net.trunk == next(i for i, layer in enumerate(split.layers) if isinstance(layer, Flatten))
        logits_plain, _ = step(plain, x, y)
        logits_split, _ = step(net, x, y)
    # (bit-identical with OpenBLAS's SkylakeX kernels, not with its Haswell ones); dropout masks in the head alike
    np.testing.assert_allclose(logits_split, logits_plain, rtol=1e-5, atol=1e-6)
    # float32: gradients that sum many terms of both signs (conv1_1's dW) turn the logits' 1e-6 into up to ~4e-3 of
    # their norm with OpenBLAS's Haswell kernels; the float64 test below checks them to 1e-10
    assert_same_grads(split, plain, rtol=2e-2, norm=True)
    assert all(layer.grads == {} for replica in net.replicas for layer in replica), "replicas kept their grads"


def test_float64_gradients_agree_to_float64_rounding_and_dx_is_returned():
    x, y = batch(16, dtype=np.float64)
    plain, split = recipe_like(dtype=np.float64), recipe_like(dtype=np.float64)
    net = BatchSplit(split)
    with threads(2):
        _, dx_plain = step(plain, x, y, input_grad=True)
        _, dx_split = step(net, x, y, input_grad=True)
    assert net.replicas, "the batch was not split"
    assert dx_split.shape == x.shape
    np.testing.assert_allclose(dx_split, dx_plain, rtol=1e-10, atol=1e-14)
    assert_same_grads(split, plain, rtol=1e-10)


def test_the_shards_follow_weight_updates_and_replaced_layers():
    x, y = batch(16, dtype=np.float64)  # float64: two SGD steps must not amplify rounding into a visible change
    plain, split = recipe_like(dtype=np.float64), recipe_like(dtype=np.float64)
    net, opt_plain, opt_split = BatchSplit(split), SGD(0.1), SGD(0.1)
    with threads(2):
        for _ in range(2):  # in-place updates of the shared parameter arrays
            step(plain, x, y)
            opt_plain.step(plain)
            step(net, x, y)
            opt_split.step(split)
        np.testing.assert_allclose(net.forward(x, False), plain.forward(x, False), rtol=1e-9, atol=1e-12)
        old = net.replicas
        split.to_reference().to_fast()  # new layer objects: the replicas must be rebuilt, not reused
        np.testing.assert_allclose(net.forward(x, False), plain.forward(x, False), rtol=1e-9, atol=1e-12)
        assert net.replicas[0][0] is not old[0][0]
        conv = split.layers[0]
        conv.params["weights"] = conv.params["weights"] * 2  # a new array in the same dict is seen at once
        plain.layers[0].params["weights"] = plain.layers[0].params["weights"] * 2
        np.testing.assert_allclose(net.forward(x, False), plain.forward(x, False), rtol=1e-9, atol=1e-12)


def test_it_runs_the_model_unsplit_where_splitting_does_not_apply():
    x, y = batch(16)
    model = recipe_like()
    net = BatchSplit(model)
    with threads(1):
        assert net.shards(64) is None  # one worker
    with threads(2):
        assert net.shards(2 * split_module.MIN_SHARD - 1) is None  # shards would be too small
        wide = VGG16(1, 10, 32, width=1.0, rng=np.random.default_rng(0))
        assert BatchSplit(wide).shards(64) is None  # 512 channels: the per-operation split is faster
        head_first = Sequential([Flatten(), *model.layers[model.layers.index(model["flatten"]) + 1 :]])
        assert BatchSplit(head_first).trunk == 0 and BatchSplit(head_first).shards(64) is None
        readable = recipe_like().to_reference()
        assert BatchSplit(readable).trunk == 0  # only the fast layers make a trunk
        logits, _ = step(BatchSplit(readable), x, y)  # ... and the readable model runs as it is
        assert logits.shape == (16, 10) and not BatchSplit(readable).replicas


def test_the_models_own_backward_after_a_split_forward_refuses_instead_of_mixing_batches():
    model = recipe_like()
    x1, y1 = batch(16, seed=1)
    x2, _ = batch(16, seed=2)
    net = BatchSplit(model)
    with threads(2):
        model.forward(x1)  # an unsplit forward leaves the trunk layers' caches of x1 ...
        net.forward(x2)  # ... which a split forward of x2 must clear
        with pytest.raises(RuntimeError, match="before forward"):
            model.backward(np.zeros((16, 10), np.float32))


def test_backward_before_forward_and_bad_input_grad_are_refused():
    model = recipe_like()
    with pytest.raises(RuntimeError, match="before forward"):
        BatchSplit(model).backward(np.zeros((16, 10), np.float32))
    x, _ = batch(16)
    net = BatchSplit(model)
    with threads(2):
        net.forward(x)
        with pytest.raises(TypeError, match="input_grad"):
            net.backward(np.zeros((16, 10), np.float32), input_grad="yes")
        with pytest.raises(ValueError, match="dy has shape"):
            net.backward(np.zeros((15, 10), np.float32))


def test_fit_trains_through_the_split_to_the_unsplit_result(monkeypatch):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (48, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 48)
    split_forwards = []
    run_trunk = BatchSplit._run_trunk
    monkeypatch.setattr(BatchSplit, "_run_trunk", lambda self, *a: split_forwards.append(1) or run_trunk(self, *a))
    models = []  # (plain SGD: Adam's g/√v would turn rounding-sized gradients into visible steps)
    for widest in (split_module.MAX_CHANNELS, 0):  # 0: no trunk is narrow enough, fit runs the model unsplit
        monkeypatch.setattr(split_module, "MAX_CHANNELS", widest)
        model = recipe_like(seed=5)
        with threads(2):
            history = fit(model, (images, labels), 1, 16, optimizer=SGD(0.05), seed=0, progress=False, verbose=False)
        models.append((model, history))
    (split_model, split_history), (plain_model, plain_history) = models
    np.testing.assert_allclose(split_history["batch_loss"], plain_history["batch_loss"], rtol=1e-4)
    for name, value in split_model.named_parameters().items():
        np.testing.assert_allclose(value, plain_model.named_parameters()[name], rtol=1e-3, atol=1e-5)


def test_the_package_exports_it():
    assert fast.BatchSplit is BatchSplit and fast.MIN_SHARD == split_module.MIN_SHARD


def test_a_model_that_is_all_trunk_splits_and_checks_the_rows_of_dy():
    rng = np.random.default_rng(4)
    model = Sequential([fast.Convolution2D(1, 4, 3, padding=1, rng=rng, dtype=np.float64), fast.ReLU()])
    plain = Sequential(
        [fast.Convolution2D(1, 4, 3, padding=1, rng=np.random.default_rng(4), dtype=np.float64), fast.ReLU()]
    )
    x = rng.standard_normal((16, 1, 8, 8))
    dy = rng.standard_normal((16, 4, 8, 8))
    net = BatchSplit(model)
    with threads(2):
        np.testing.assert_allclose(net.forward(x), plain.forward(x), rtol=1e-12)
        assert net.replicas and net.trunk == 2
        np.testing.assert_allclose(net.backward(dy, input_grad=True), plain.backward(dy), rtol=1e-10, atol=1e-14)
        assert_same_grads(model, plain, rtol=1e-10)
        with pytest.raises(ValueError, match="expected 16 rows"):
            net.backward(np.concatenate([dy, dy[:4]]))
