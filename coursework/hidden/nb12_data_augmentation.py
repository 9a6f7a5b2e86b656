"""Hidden tests for notebooks/12_data_augmentation.ipynb: exercises 2 (``my_shift``) and 3 (``my_zca_matrix``).

The self-checks (public) use a 5x7 image and one 300x6 data set; these use an MNIST digit (uint8), non-square
float32 images, shifts as large as the image, other data sizes, a feature with no variance, fewer samples than
features, and compare with ``vgglib.augment.ZCAWhitening``.
"""

import numpy as np

from vgglib.augment import ZCAWhitening
from vgglib.coursework import assert_close, call, hidden_test
from vgglib.mnist import load_mnist


def _shifted(image, dy, dx):
    h, w = image.shape
    padded = np.pad(image, ((h, h), (w, w)))
    return padded[h - dy : 2 * h - dy, w - dx : 2 * w - dx]


@hidden_test("check_shift")
def an_mnist_digit(my_shift):
    """A 28x28 uint8 digit of the sample, shifted by up to 4 pixels in every direction."""
    images, _ = load_mnist("test")
    digit = images[7]
    for dy, dx in ((4, 0), (-3, 2), (1, -4), (-2, -2)):
        where = f"an MNIST digit (28, 28) uint8, dy={dy}, dx={dx}"
        assert_close(call(my_shift, digit, dy, dx, where=where), _shifted(digit, dy, dx), where, what="the image")


@hidden_test("check_shift")
def non_square_and_as_far_as_the_edge(my_shift):
    """A 4x9 float32 image shifted by up to its full height or width (then nothing is left)."""
    image = np.arange(1, 37, dtype=np.float32).reshape(4, 9)
    for dy, dx in ((0, 9), (-4, 0), (3, -8), (-1, 5), (4, -9)):
        where = f"an image (4, 9) float32, dy={dy}, dx={dx}"
        assert_close(call(my_shift, image, dy, dx, where=where), _shifted(image, dy, dx), where, what="the image")


def _check_zca(fn, X, eps, where):
    W = call(fn, X, eps, where=where)
    try:
        W = np.asarray(W, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"W must be a (D, D) array ({where})") from None
    d = X.shape[1]
    if W.shape != (d, d):
        raise AssertionError(f"W has shape {W.shape}, expected (D, D) = {(d, d)} ({where})")
    centred = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(centred.T @ centred / (len(X) - 1))
    unbiased = (U / np.sqrt(np.clip(lam, 0, None) + eps)) @ U.T  # the covariance divided by N - 1 is accepted too
    if not np.allclose(W, unbiased, rtol=1e-6, atol=1e-9):
        assert_close(W, ZCAWhitening(eps).fit(X).components_, where, what="W", rtol=1e-6, atol=1e-9)


@hidden_test("check_zca_matrix")
def other_sizes_and_a_constant_feature(my_zca_matrix):
    """500 samples of 10 features, one of them constant (zero variance), eps 0.01."""
    rng = np.random.default_rng(1212)
    X = rng.standard_normal((500, 10)) @ rng.standard_normal((10, 10))
    X[:, 3] = 2.5
    _check_zca(my_zca_matrix, X, 0.01, "X (500, 10) with a constant feature, eps 0.01")


@hidden_test("check_zca_matrix")
def fewer_samples_than_features(my_zca_matrix):
    """20 samples of 30 features (the covariance is singular), eps 0.1."""
    rng = np.random.default_rng(1213)
    _check_zca(my_zca_matrix, rng.uniform(0, 1, (20, 30)), 0.1, "X (20, 30), eps 0.1")
