"""Tests for vgglib.preprocess: to_float, standardize, resize, the one pipeline (prepare_batch) and everything
that goes through it (prepare, BatchLoader, Sequential.prepare, fit), shuffling and batching."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from vgglib.augment import Compose, RandomRotation, RandomShift
from vgglib.fast import BatchSplit
from vgglib.mnist import load_mnist
from vgglib.model import VGG16
from vgglib.optim import SGD
from vgglib.preprocess import (
    MNIST_MEAN,
    MNIST_STD,
    BatchLoader,
    batches,
    one_hot,
    prepare,
    prepare_batch,
    resize,
    shuffle,
    standardize,
    to_float,
    train_val_split,
)


@pytest.fixture(scope="module")
def sample():
    return load_mnist("train")


def test_to_float_scales_into_a_new_array():
    images = np.array([[0, 1, 128, 255]], np.uint8)
    x = to_float(images)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, np.array([[0, 1, 128, 255]], np.float32) / np.float32(255))
    assert images.tolist() == [[0, 1, 128, 255]]  # input untouched (the seed's in-place uint8 division wrapped)
    with pytest.raises(TypeError, match="expects uint8 .* got dtype float32 \\(already converted\\?\\)"):
        to_float(x)


def test_standardize(sample):
    x = to_float(sample[0])
    z = standardize(x)
    assert z.dtype == np.float32 and z.shape == x.shape
    np.testing.assert_allclose(z, (x - 0.1307) / 0.3081, rtol=1e-6, atol=1e-6)
    assert abs(float(z.mean())) < 0.02 and abs(float(z.std()) - 1) < 0.02  # the sample is close to the full set
    np.testing.assert_allclose(standardize(x, mean=0.5, std=2.0), (x - 0.5) / 2, atol=1e-7)
    with pytest.raises(TypeError, match="use to_float first"):
        standardize(sample[0])
    with pytest.raises(ValueError, match="std must be positive"):
        standardize(x, std=0.0)


def test_resize_pad_keeps_every_pixel(sample):
    x = to_float(sample[0][:5])
    for batch in (x, x[:, None]):
        out = resize(batch, 32, "pad")
        assert out.shape == batch.shape[:-2] + (32, 32) and out.dtype == np.float32
        np.testing.assert_array_equal(out[..., 2:30, 2:30], batch)
        assert out.sum() == pytest.approx(float(batch.sum()))
    assert resize(x, 31, "pad")[..., 1:29, 1:29].tolist() == x.tolist()  # odd: 1 before, 2 after
    np.testing.assert_array_equal(resize(sample[0][:2], 32, "pad")[:, 2:30, 2:30], sample[0][:2])


def test_resize_zoom_matches_per_image_scipy_and_never_mixes_images(sample):
    x = to_float(sample[0][:6])
    x[3] = 0  # a blank image between digits must stay blank
    out = resize(x[:, None], 64)
    assert out.shape == (6, 1, 64, 64) and out.dtype == np.float32
    for i in range(6):
        np.testing.assert_allclose(out[i, 0], ndimage.zoom(x[i], 64 / 28, order=1), atol=1e-6)
    assert not out[3].any()
    down = resize(x, 14, "zoom", order=0)
    assert down.shape == (6, 14, 14)
    as_uint8 = resize(sample[0][:2], 64)
    assert as_uint8.dtype == np.uint8
    np.testing.assert_array_equal(as_uint8, np.rint(resize(sample[0][:2].astype(np.float32), 64)).astype(np.uint8))


def test_resize_rejects_bad_requests(sample):
    x = to_float(sample[0][:2])
    with pytest.raises(ValueError, match="method='pad' can only grow images: 28 -> 20"):
        resize(x, 20, "pad")
    with pytest.raises(ValueError, match="method must be 'zoom' or 'pad', got 'crop'"):
        resize(x, 32, "crop")
    with pytest.raises(ValueError, match="order must be 0 or 1"):
        resize(x, 64, order=3)
    with pytest.raises(ValueError, match="square images"):
        resize(x[0], 32)
    same = resize(x, 28)
    assert same is not x and np.array_equal(same, x)


def test_prepare(sample):
    images = sample[0][:4]
    x = prepare(images)
    assert x.shape == (4, 1, 32, 32) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_allclose(x, standardize(resize(to_float(images)[:, None], 32, "pad")), atol=1e-6)
    assert x[0, 0, 0, 0] == pytest.approx(-0.1307 / 0.3081)  # background after standardization
    seed_like = prepare(images, size=64, method="zoom", normalize=None)
    assert seed_like.shape == (4, 1, 64, 64) and 0 <= seed_like.min() and seed_like.max() <= 1


def test_one_hot():
    y = one_hot(np.array([3, 0, 9], np.uint8))
    assert y.shape == (3, 10) and y.dtype == np.float32
    assert y.argmax(1).tolist() == [3, 0, 9] and y.sum(1).tolist() == [1, 1, 1]
    assert one_hot(np.array([1, 2]), 3).tolist() == [[0, 1, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match=r"labels must be in 0..9, found 0..10"):
        one_hot(np.array([0, 10]))
    with pytest.raises(ValueError, match="integer labels"):
        one_hot(np.array([0.0, 1.0]))


def labelled_images(n: int = 200):
    """Images whose first pixel is their own label, so pairing can be checked after any reordering."""
    y = np.arange(n, dtype=np.int64) % 10
    X = np.zeros((n, 28, 28), np.uint8)
    X[:, 0, 0] = y
    X[:, 1, 1] = np.arange(n) % 256  # and a serial number
    X[:, 1, 2] = np.arange(n) // 256
    return X, y


def paired(X, y) -> bool:
    return bool(np.array_equal(X[:, 0, 0], y))


def serials(X) -> np.ndarray:
    return X[:, 1, 1].astype(int) + 256 * X[:, 1, 2].astype(int)


def test_shuffle_keeps_images_with_their_labels():
    X, y = labelled_images()
    Xs, ys = shuffle(X, y, np.random.default_rng(0))
    assert paired(Xs, ys)
    assert not np.array_equal(serials(Xs), np.arange(200))  # it did reorder
    assert sorted(serials(Xs)) == list(range(200))  # a permutation
    Xs2, _ = shuffle(X, y, 0)
    np.testing.assert_array_equal(Xs, Xs2)  # int seeds work and are deterministic
    assert paired(X, y) and np.array_equal(serials(X), np.arange(200))  # inputs untouched

    # The seed's bug: two independent shuffles. The pairing check above catches it.
    def seed_style_shuffle(X, y, rng):
        X, y = X.copy(), y.copy()
        rng.shuffle(X)
        rng.shuffle(y)
        return X, y

    assert not paired(*seed_style_shuffle(X, y, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="X has 200 samples but y has 199"):
        shuffle(X, y[:-1], 0)


def test_train_val_split():
    X, y = labelled_images(100)
    (Xt, yt), (Xv, yv) = train_val_split(X, y, 0.2)
    assert len(Xt) == 80 and len(Xv) == 20
    assert serials(Xv).tolist() == list(range(80, 100))  # without rng: the last samples
    (Xt, yt), (Xv, yv) = train_val_split(X, y, 15, rng=1)
    assert len(Xv) == 15 and paired(Xt, yt) and paired(Xv, yv)
    assert sorted(np.concatenate([serials(Xt), serials(Xv)])) == list(range(100))
    assert serials(Xv).tolist() != list(range(85, 100))
    for bad in (0, 100, 1.0, 0.0):
        with pytest.raises(ValueError, match="val_size"):
            train_val_split(X, y, bad)


@pytest.mark.parametrize("drop_last", [False, True])
def test_batches(drop_last):
    X, y = labelled_images(103)
    out = list(batches(X, y, 10, rng=np.random.default_rng(3), drop_last=drop_last))
    assert [len(b[0]) for b in out] == [10] * 10 + ([] if drop_last else [3])
    assert all(paired(xb, yb) for xb, yb in out)
    seen = np.concatenate([serials(xb) for xb, _ in out])
    assert len(set(seen)) == len(seen) == (100 if drop_last else 103)
    assert not np.array_equal(seen, np.arange(len(seen)))
    again = np.concatenate([serials(xb) for xb, _ in batches(X, y, 10, 3, drop_last)])
    np.testing.assert_array_equal(seen, again)
    in_order = np.concatenate([serials(xb) for xb, _ in batches(X, y, 10)])
    np.testing.assert_array_equal(in_order, np.arange(103))


def test_batches_transform_touches_images_only_and_errors_are_eager():
    X, y = labelled_images(30)
    out = list(batches(X, y, 8, transform=lambda xb: to_float(xb) * 2))
    assert out[0][0].dtype == np.float32 and out[0][1].dtype == np.int64
    np.testing.assert_array_equal(out[0][1], y[:8])
    with pytest.raises(ValueError, match="batches: batch_size must be an integer >= 1, got 0"):
        batches(X, y, 0)
    with pytest.raises(ValueError, match="X has 30 samples but y has 29"):
        batches(X, y[:29], 4)


def test_batch_loader_contract(sample):
    images, labels = sample[0][:300], sample[1][:300]
    loader = BatchLoader(images, labels, batch_size=64)
    assert len(loader) == 5 and len(BatchLoader(images, labels, 64, drop_last=True)) == 4
    out = list(loader.epoch(np.random.default_rng(0)))
    assert [len(y) for _, y in out] == [64, 64, 64, 64, 44]
    for x, y in out:
        assert x.dtype == np.float32 and x.flags.c_contiguous and x.shape == (len(y), 1, 32, 32)
        assert y.dtype == np.uint8
    # Same seed, same batches; and each batch is exactly prepare() of the permuted images.
    perm = np.random.default_rng(0).permutation(300)
    again = list(loader.epoch(0))
    for b, ((x, y), (x2, _y2)) in enumerate(zip(out, again)):
        idx = perm[64 * b : 64 * (b + 1)]
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, labels[idx])
        np.testing.assert_array_equal(x, prepare(images[idx]))
    # Without rng: original order; iter(loader) is the same.
    x0, y0 = next(iter(loader))
    np.testing.assert_array_equal(y0, labels[:64])
    np.testing.assert_array_equal(x0, prepare(images[:64]))


def test_batch_loader_transforms_lazily_per_batch(sample):
    images, labels = sample[0][:130], sample[1][:130]
    seen = []

    def augment(x, rng):
        assert isinstance(rng, np.random.Generator)
        seen.append((x.shape, x.dtype, float(x.min()), float(x.max())))
        return x

    loader = BatchLoader(images, labels, 50, size=64, method="zoom", augment=augment, normalize=None)
    it = loader.epoch(7)
    assert seen == []  # nothing is computed before it is asked for
    x, _ = next(it)
    assert x.shape == (50, 1, 64, 64) and 0 <= x.min() and x.max() <= 1
    assert seen == [((50, 1, 28, 28), np.float32, 0.0, 1.0)]
    rest = list(it)
    assert [s[0][0] for s in seen] == [50, 50, 30] and len(rest) == 2
    with pytest.raises(ValueError, match="pass a seeded rng"):
        loader.epoch()
    unshuffled = [y for _, y in loader.epoch(7, shuffle=False)]
    np.testing.assert_array_equal(np.concatenate(unshuffled), labels)


def test_batch_loader_rejects_bad_input(sample):
    with pytest.raises(ValueError, match="expects uint8 images"):
        BatchLoader(to_float(sample[0][:5]), sample[1][:5])
    with pytest.raises(ValueError, match="X has 5 samples but y has 4"):
        BatchLoader(sample[0][:5], sample[1][:4])
    with pytest.raises(ValueError, match="method must be"):
        BatchLoader(sample[0][:5], sample[1][:5], method="crop")


# ------------------------------------------------------------------------------------------------ one pipeline


def test_prepare_batch_steps(sample):
    images = sample[0][:6]
    x = prepare_batch(images, input_shape=(1, 32, 32), method="pad")
    expected = standardize(resize(to_float(images)[:, None], 32, "pad"), MNIST_MEAN, MNIST_STD)
    assert x.dtype == np.float32 and x.flags.c_contiguous and x.shape == (6, 1, 32, 32)
    np.testing.assert_array_equal(x, expected)
    # other integer dtypes holding pixels are the same images; (N, C, H, W) input keeps its channel axis
    np.testing.assert_array_equal(prepare_batch(images.astype(np.int32), input_shape=(1, 32, 32)), x)
    np.testing.assert_array_equal(prepare_batch(images[:, None], input_shape=(1, 32, 32)), x)
    # normalize: None keeps [0, 1], a callable replaces standardize; dtype; no input_shape keeps the size
    raw = prepare_batch(images, input_shape=(1, 64, 64), method="zoom", normalize=None, dtype=np.float64)
    assert raw.dtype == np.float64 and raw.shape == (6, 1, 64, 64) and 0 <= raw.min() and raw.max() <= 1
    doubled = prepare_batch(images, normalize=lambda z: 2 * z)
    np.testing.assert_array_equal(doubled, 2 * to_float(images)[:, None])
    # floats are prepared inputs: checked, augmented if asked, never re-standardized
    assert prepare_batch(x, input_shape=(1, 32, 32)) is x
    np.testing.assert_array_equal(prepare_batch(x, augment=lambda z, rng: z + 1), x + 1)


def test_prepare_batch_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match=r"float arrays .* must have shape \(N, 1, 32, 32\)"):
        prepare_batch(np.zeros((2, 28, 28), np.float32), input_shape=(1, 32, 32))
    with pytest.raises(ValueError, match="0..255"):
        prepare_batch(np.full((2, 28, 28), 300, np.int16))
    with pytest.raises(ValueError, match="BatchLoader: images have 3 channels, the model expects 1"):
        prepare_batch(np.zeros((2, 3, 28, 28), np.uint8), input_shape=(1, 32, 32), where="BatchLoader")
    with pytest.raises(ValueError, match="square"):
        prepare_batch(np.zeros((2, 28, 28), np.uint8), input_shape=(1, 32, 40))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        prepare_batch(np.zeros((28, 28), np.uint8))
    with pytest.raises(TypeError, match="dtype bool"):
        prepare_batch(np.zeros((2, 28, 28), bool))


@pytest.mark.parametrize("size, method", [(32, "pad"), (64, "zoom")])
def test_one_pipeline_prepare_loader_model_and_fit_agree(sample, size, method, monkeypatch):
    """``prepare``, ``BatchLoader``, ``Sequential.prepare`` and the batches ``fit`` trains on are the same arrays."""
    images, labels = sample[0][:40], sample[1][:40]
    model = VGG16(input_size=size, width=1 / 16, rng=np.random.default_rng(0))
    assert model.resize == method
    by_prepare = prepare(images, size, method)
    np.testing.assert_array_equal(model.prepare(images), by_prepare)
    in_order = np.concatenate([x for x, _ in BatchLoader(images, labels, 16, size=size, method=method)])
    np.testing.assert_array_equal(in_order, by_prepare)

    # with augmentation: fit draws the order, then the augmentation of each batch, from its trainer generator;
    # a BatchLoader given a generator in the same state yields exactly the batches fit trains on
    aug = Compose([RandomShift(2), RandomRotation(10)])
    trained_on = []
    split_forward = BatchSplit.forward  # fit's forward (the batch split over the workers, or the model's own)

    def recording_forward(self, x, training=True):
        if training:
            trained_on.append(x.copy())
        return split_forward(self, x, training)

    monkeypatch.setattr(BatchSplit, "forward", recording_forward)
    from vgglib.runstate import reseed
    from vgglib.train import fit

    fit(
        model,
        (images, labels),
        epochs=1,
        batch_size=16,
        optimizer=SGD(1e-9),
        augment=aug,
        seed=3,
        progress=False,
        verbose=False,
    )
    rng = reseed(VGG16(input_size=size, width=1 / 16), 3)  # the trainer generator of seed 3
    loader = BatchLoader(images, labels, 16, size=size, method=method, augment=aug)
    from_loader = [x for x, _ in loader.epoch(rng)]
    assert [len(x) for x in trained_on] == [16, 16, 8]
    for got, want in zip(trained_on, from_loader):
        np.testing.assert_array_equal(got, want)
    # and the model's own prepare with the same generator state gives the same first batch
    rng = reseed(VGG16(input_size=size, width=1 / 16), 3)
    perm = rng.permutation(len(images))
    np.testing.assert_array_equal(model.prepare(images[perm[:16]], aug, rng), trained_on[0])
