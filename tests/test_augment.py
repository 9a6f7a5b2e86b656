"""Tests for vgglib.augment: shapes/dtypes kept, identity at zero strength, determinism, scipy references,
ZCA whitening, Compose, and labels untouched when augmenting through the BatchLoader."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from vgglib import augment as A
from vgglib.mnist import load_mnist
from vgglib.preprocess import BatchLoader, to_float


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    images, _ = load_mnist("test")
    return to_float(images[:16])[:, None]  # (16, 1, 28, 28) float32 in [0, 1]


RANDOM = {
    "shift": lambda x, rng: A.random_shift(x, 3, rng),
    "flip": lambda x, rng: A.random_flip(x, rng),
    "rotation": lambda x, rng: A.random_rotation(x, 20, rng),
    "zoom": lambda x, rng: A.random_zoom(x, 0.2, rng),
    "compose": A.Compose([A.RandomShift(2), A.RandomRotation(10), A.RandomZoom(0.1)]),
}
ZERO = {
    "shift": lambda x, rng: A.random_shift(x, 0, rng),
    "flip": lambda x, rng: A.random_flip(x, rng, p=0.0),
    "rotation": lambda x, rng: A.random_rotation(x, 0, rng),
    "zoom": lambda x, rng: A.random_zoom(x, 0.0, rng),
    "compose": A.Compose([A.RandomShift(0), A.RandomFlip(0.0), A.RandomRotation(0.0), A.RandomZoom(0.0)]),
}


@pytest.mark.parametrize("name", RANDOM)
def test_shape_and_dtype_kept(digits, name):
    f = RANDOM[name]
    for x in (digits, digits[:, 0], digits.astype(np.float64)):
        out = f(x, np.random.default_rng(0))
        assert out.shape == x.shape and out.dtype == x.dtype
        assert np.isfinite(out).all()
    with pytest.raises(TypeError, match="expects float images"):
        f((digits * 255).astype(np.uint8), np.random.default_rng(0))


@pytest.mark.parametrize("name", ZERO)
def test_identity_at_zero_strength(digits, name):
    out = ZERO[name](digits, np.random.default_rng(0))
    np.testing.assert_array_equal(out, digits)
    assert out is not digits and not np.shares_memory(out, digits)


@pytest.mark.parametrize("name", RANDOM)
def test_deterministic_under_a_seed_and_random_across_seeds(digits, name):
    f = RANDOM[name]
    before = digits.copy()
    a = f(digits, np.random.default_rng(42))
    b = f(digits, np.random.default_rng(42))
    c = f(digits, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, digits)
    np.testing.assert_array_equal(digits, before)  # input untouched


def test_random_shift_moves_whole_pixels_within_range(digits):
    out = A.random_shift(digits, 2, np.random.default_rng(1))
    shifts = []
    for x, y in zip(digits[:, 0], out[:, 0]):
        # Reference: scipy's integer shift with zero fill (some ink near the border may leave the image).
        match = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(ndimage.shift(x, (dy, dx), order=0, mode="constant", cval=0.0), y)
        ]
        assert len(match) == 1
        shifts.append(match[0])
    assert len(set(shifts)) > 5  # per-image shifts, not one for the batch
    edge = A.random_shift(np.ones((4, 1, 6, 6), np.float32), 2, np.random.default_rng(0), fill=0.0)
    assert (edge == 0).any() and set(np.unique(edge)) <= {0.0, 1.0}


def test_random_flip_mirrors_some_images_left_right(digits):
    out = A.random_flip(digits, np.random.default_rng(0))
    flipped = [np.array_equal(o, d[..., ::-1]) for o, d in zip(out, digits)]
    kept = [np.array_equal(o, d) for o, d in zip(out, digits)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    np.testing.assert_array_equal(A.random_flip(digits, 0, p=1.0), digits[..., ::-1])
    with pytest.raises(ValueError, match="probability"):
        A.random_flip(digits, 0, p=1.5)


def test_random_rotation_matches_scipy_rotate_per_image(digits):
    out = A.random_rotation(digits, 30, np.random.default_rng(5))
    angles = np.random.default_rng(5).uniform(-30, 30, size=len(digits))
    for o, d, angle in zip(out[:, 0], digits[:, 0], angles):
        np.testing.assert_allclose(o, ndimage.rotate(d, angle, reshape=False, order=1), atol=1e-5)


def test_random_zoom_matches_scipy_affine_transform_per_image(digits):
    out = A.random_zoom(digits, 0.3, np.random.default_rng(6))
    scales = np.random.default_rng(6).uniform(0.7, 1.3, size=len(digits))
    centre = np.array([13.5, 13.5])
    for o, d, s in zip(out[:, 0], digits[:, 0], scales):
        ref = ndimage.affine_transform(d, np.eye(2) / s, offset=centre - centre / s, order=1)
        np.testing.assert_allclose(o, ref, atol=1e-5)
    big = A.random_zoom(digits, 0.3, np.random.default_rng(6))[scales > 1.15]
    assert ((big > 0.5).sum((1, 2, 3)) > (digits[scales > 1.15] > 0.5).sum((1, 2, 3))).all()  # more ink


@pytest.mark.parametrize("f", [lambda x: A.random_rotation(x, 45, 0), lambda x: A.random_zoom(x, 0.5, 0)])
def test_batched_resampling_never_mixes_images(digits, f):
    x = digits.copy()
    x[1::2] = 0  # blank images between digits stay exactly blank
    out = f(x)
    assert not out[1::2].any() and out[0::2].any()


def test_parameter_validation(digits):
    with pytest.raises(ValueError, match="max_shift must be a non-negative int"):
        A.random_shift(digits, 1.5)
    with pytest.raises(ValueError, match="max_degrees must be >= 0"):
        A.random_rotation(digits, -1)
    with pytest.raises(ValueError, match=r"max_zoom must be in \[0, 1\)"):
        A.random_zoom(digits, 1.0)
    with pytest.raises(ValueError, match="order must be 0"):
        A.random_rotation(digits, 5, order=3)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\) or \(N, H, W\)"):
        A.random_shift(digits[0, 0], 1)


def correlated_gaussian(n=5000, d=12, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((d, d)) * np.linspace(0.1, 2, d)
    return (rng.standard_normal((n, d)) @ mixing + 3.0).astype(np.float32)


def test_zca_whitened_training_data_has_identity_covariance():
    X = correlated_gaussian()
    zca = A.ZCAWhitening(epsilon=1e-9).fit(X)
    Z = zca.transform(X)
    assert Z.dtype == np.float32 and Z.shape == X.shape
    cov = np.cov(Z.astype(np.float64), rowvar=False, bias=True)
    assert abs(np.cov(X, rowvar=False)).max() > 1  # it was far from white
    np.testing.assert_allclose(cov, np.eye(X.shape[1]), atol=1e-3)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(zca.components_, zca.components_.T, atol=1e-12)  # ZCA: the symmetric whitener


def test_zca_epsilon_shrinks_low_variance_directions():
    X = correlated_gaussian()
    lam = np.linalg.eigvalsh(np.cov(X.astype(np.float64), rowvar=False, bias=True))
    Z = A.ZCAWhitening(epsilon=1.0).fit(X).transform(X)
    got = np.linalg.eigvalsh(np.cov(Z.astype(np.float64), rowvar=False, bias=True))
    np.testing.assert_allclose(got, lam / (lam + 1.0), atol=1e-4)  # the documented lambda / (lambda + epsilon)


def test_zca_on_images_fits_train_applies_to_any_data(digits):
    digits = np.ascontiguousarray(digits[:, :, 4:24, 4:24])  # the 20x20 centre keeps the eigh small (D = 400)
    train = to_float(load_mnist("train")[0][:2000, 4:24, 4:24])[:, None]
    zca = A.ZCAWhitening(epsilon=0.1).fit(train)
    out = zca(digits, np.random.default_rng(0))  # usable as a pipeline step; rng ignored
    assert out.shape == digits.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, zca.transform(digits))
    # Whitening keeps the image's look: each output correlates with its input (ZCA, not PCA rotation).
    corr = [np.corrcoef(o.ravel(), d.ravel())[0, 1] for o, d in zip(out, digits)]
    assert min(corr) > 0.5
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(1, 20, 20\)"):
        zca.transform(digits[:, :, :14])
    with pytest.raises(RuntimeError, match="before fit"):
        A.ZCAWhitening().transform(digits)
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        A.ZCAWhitening(epsilon=0)
    assert "fitted" in repr(zca)


def test_compose_applies_steps_in_order_with_one_generator(digits):
    steps = [A.RandomShift(2), A.RandomRotation(10)]
    rng = np.random.default_rng(9)
    expected = A.random_rotation(A.random_shift(digits, 2, rng), 10, rng)
    np.testing.assert_array_equal(A.Compose(steps)(digits, np.random.default_rng(9)), expected)
    assert repr(A.Compose(steps)) == "Compose([RandomShift(max_shift=2), RandomRotation(max_degrees=10)])"
    np.testing.assert_array_equal(A.Compose([])(digits, 0), digits)
    with pytest.raises(TypeError, match="callables"):
        A.Compose([3])


def test_labels_untouched_when_the_loader_augments():
    images, labels = load_mnist("test")
    images, labels = images[:200], labels[:200]
    plain = BatchLoader(images, labels, 32)
    augmented = BatchLoader(
        images, labels, 32, augment=A.Compose([A.RandomShift(2), A.RandomRotation(15), A.RandomZoom(0.1)])
    )
    got = list(augmented.epoch(11))
    ref = list(plain.epoch(11))
    assert len(got) == len(ref) == 7
    for (xa, ya), (xp, yp) in zip(got, ref):
        np.testing.assert_array_equal(ya, yp)  # same labels, same order
        assert xa.shape == xp.shape and xa.dtype == np.float32 and not np.array_equal(xa, xp)
    perm = np.random.default_rng(11).permutation(200)
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), labels[perm])
    again = list(augmented.epoch(11))
    for (x1, _), (x2, _) in zip(got, again):
        np.testing.assert_array_equal(x1, x2)
