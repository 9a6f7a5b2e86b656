"""Hidden tests for notebooks/07_mnist_data.ipynb: exercises 1 (``parse_idx_header``) and 3 (``shuffle_together``).

The self-checks (public) use fixed headers and a 50-image array; these use other type codes, dimensions and sizes
(up to 2**32 - 1), an IDX file written and read back with ``vgglib.mnist.read_idx``, float images, a batch of one
and the rule that only the given generator is used.
"""

import struct
import tempfile
from pathlib import Path

import numpy as np

from vgglib.coursework import call, hidden_test
from vgglib.mnist import read_idx


def _header(type_code, shape):
    return struct.pack(">HBB", 0, type_code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def _parsed(out, where):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return a pair (type_code, shape) ({where})")
    code, shape = out
    try:
        return int(code), tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise AssertionError(f"type_code must be an int and shape a tuple of ints ({where})") from None


@hidden_test("check_parse_idx_header")
def other_types_dimensions_and_huge_sizes(parse_idx_header):
    """int8, float64, int32 headers; 1 to 5 dimensions; sizes of 2**24 + 1 and 2**32 - 1; no trailing bytes."""
    cases = [
        (0x09, (16777217,)),
        (0x0E, (2, 3, 4, 5, 6)),
        (0x0C, (4294967295, 1)),
        (0x08, (256, 1, 65536)),
        (0x0D, (7,)),
    ]
    for i, (code, shape) in enumerate(cases):
        data = _header(code, shape) + (b"" if i % 2 else bytes(range(255, 200, -1)))
        where = f"header {_header(code, shape).hex(' ')}"
        if _parsed(call(parse_idx_header, data, where=where), where) != (code, shape):
            raise AssertionError(f"wrong type code or shape for the {where}")


@hidden_test("check_parse_idx_header")
def agrees_with_read_idx(parse_idx_header):
    """The first bytes of an IDX file written to disk: the shape vgglib.mnist.read_idx finds when it reads it."""
    images = np.arange(3 * 5 * 4, dtype=np.uint8).reshape(3, 5, 4)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny-images-idx3-ubyte"
        path.write_bytes(_header(0x08, images.shape) + images.tobytes())
        expected = read_idx(path).shape
        data = path.read_bytes()
    where = "a 3x5x4 uint8 IDX file"
    if _parsed(call(parse_idx_header, data, where=where), where) != (0x08, tuple(expected)):
        raise AssertionError(f"wrong type code or shape for {where}")


def _check_shuffle(fn, X, y, seed, where):
    out = call(fn, X, y, np.random.default_rng(seed), where=where)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return a pair (X_shuffled, y_shuffled) ({where})")
    Xs, ys = (np.asarray(a) for a in out)
    if Xs.shape != X.shape or ys.shape != y.shape:
        raise AssertionError(f"shapes changed: X {X.shape} -> {Xs.shape}, y {y.shape} -> {ys.shape} ({where})")
    flat = Xs.reshape(len(Xs), -1)
    which = np.rint(flat[:, 0]).astype(int)
    if sorted(which) != list(range(len(X))) or not np.array_equal(Xs, X[which]):
        raise AssertionError(f"X_shuffled is not a reordering of the images of X ({where})")
    if not np.array_equal(ys, y[which]):
        raise AssertionError(f"some images no longer have their own label ({where})")
    return which


@hidden_test("check_shuffle_together")
def float_images_labels_and_a_batch_of_one(shuffle_together):
    """200 float32 images of 28x28 with int64 labels, 2-D data (N, D), and a single image."""
    n = 200
    X = np.repeat(np.arange(n, dtype=np.float32)[:, None], 28 * 28, axis=1).reshape(n, 28, 28)
    y = (np.arange(n) * 3 + 1) % 10
    which = _check_shuffle(shuffle_together, X, y, 7, "X (200, 28, 28) float32")
    if np.array_equal(which, np.arange(n)):
        raise AssertionError("nothing was shuffled (X (200, 28, 28) float32)")
    X2 = np.repeat(np.arange(30.0)[:, None], 5, axis=1)
    _check_shuffle(shuffle_together, X2, np.arange(30) % 4, 8, "X (30, 5)")
    _check_shuffle(shuffle_together, np.zeros((1, 4, 4)), np.array([3]), 9, "a batch of one")


@hidden_test("check_shuffle_together")
def only_the_given_generator(shuffle_together):
    """The same seed gives the same order on other data; numpy's global generator is left untouched."""
    n = 80
    X, y = np.repeat(np.arange(n)[:, None], 3, axis=1), np.arange(n) % 10
    np.random.seed(12345)
    state = np.random.get_state()[1].copy()
    first = _check_shuffle(shuffle_together, X, y, 2024, "seed 2024")
    if not np.array_equal(np.random.get_state()[1], state):
        raise AssertionError("it draws from numpy's global generator (np.random.…); draw from the rng you are given")
    if not np.array_equal(first, _check_shuffle(shuffle_together, X, y, 2024, "seed 2024 again")):
        raise AssertionError("the same seed gave different orders: use the rng you are given")
