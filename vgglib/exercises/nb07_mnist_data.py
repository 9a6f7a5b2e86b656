"""Self-checks for the exercises of ``notebooks/07_mnist_data.ipynb``.

Worked solutions: ``notebooks/solutions/07_mnist_data_solutions.ipynb``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import ExerciseResult, _as_int, verdict

__all__ = ["check_parse_idx_header", "check_uint8_wraparound", "check_shuffle_together"]


def _header(type_code: int, shape: tuple[int, ...]) -> bytes:
    return struct.pack(">HBB", 0, type_code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def check_parse_idx_header(parse_idx_header: Callable[[bytes], Any]) -> ExerciseResult:
    """Exercise 1: ``parse_idx_header(data) -> (type_code, shape)`` from the first bytes of an IDX file.

    Tried on an MNIST image header, a label header and headers of other types and sizes (some sizes larger
    than 65,535, so that byte order matters), each followed by a few data bytes that must be ignored.
    """
    name = "parse_idx_header"
    if not callable(parse_idx_header):
        return verdict(name, False, "", f"pass your function itself, got {type(parse_idx_header).__name__}")
    cases = [(0x08, (60000, 28, 28)), (0x08, (10000,)), (0x0D, (3, 4)), (0x0B, (70000, 2, 5, 1)), (0x0C, (1, 300))]
    for type_code, shape in cases:
        data = _header(type_code, shape) + bytes(range(16))
        try:
            out = parse_idx_header(data)
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            return verdict(
                name,
                False,
                "",
                f"your function raised {type(err).__name__}: {err} (header {data[: 4 + 4 * len(shape)].hex(' ')})",
            )
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return verdict(name, False, "", "return a pair (type_code, shape)")
        code, got = out
        sizes = [_as_int(s) for s in got] if isinstance(got, (tuple, list, np.ndarray)) else [None]
        if any(s is None for s in sizes):
            return verdict(name, False, "", f"shape must be a tuple of ints, got {got!r}")
        got = tuple(int(s) for s in sizes if s is not None)
        where = f"for the header {data[: 4 + 4 * len(shape)].hex(' ')}"
        if _as_int(code) != type_code:
            return verdict(name, False, "", f"wrong type code {code!r} {where}: it is the third byte, as a number")
        if len(got) != len(shape):
            return verdict(
                name, False, "", f"got {len(got)} dimensions {where}; the fourth byte says how many 32-bit sizes follow"
            )
        if got != shape:
            swapped = tuple(struct.unpack(f"<{len(shape)}I", struct.pack(f">{len(shape)}I", *shape)))
            if got == swapped:
                return verdict(
                    name,
                    False,
                    "",
                    f"the sizes come out byte-swapped {where}: IDX stores numbers "
                    "big-endian (most significant byte first), your machine is little-endian",
                )
            return verdict(
                name, False, "", f"wrong sizes {got} {where}: each size is 4 bytes, right after the 4-byte magic number"
            )
    return verdict(name, True, "type code and shape are right for five headers, big-endian sizes included.", "")


def check_uint8_wraparound(answer: Any) -> ExerciseResult:
    """Exercise 2: a uint8 pixel of value 20 after ``x -= 33`` in place."""
    name = "uint8_wraparound"
    if answer is None:
        return verdict(name, False, "", "no answer yet: replace None with a whole number")
    if (
        isinstance(answer, bool)
        or not isinstance(answer, (int, np.integer, float, np.floating))
        or not float(answer).is_integer()
    ):
        return verdict(name, False, "", f"expected a whole number, got {answer!r}")
    value = int(answer)
    expected = int((np.array([20], dtype=np.uint8) - np.uint8(33))[0])
    if value == expected:
        return verdict(
            name,
            True,
            "uint8 arithmetic is modulo 256: 20 - 33 wraps around to a bright pixel, and "
            "no warning is raised for arrays.",
            "",
        )
    if value == 20 - 33:
        hint = "a uint8 cannot hold a negative number; it has 256 values, 0..255 — where does -13 land?"
    elif value == 0:
        hint = "numpy does not clip (saturate) integer arithmetic."
    elif value == 13:
        hint = "numpy does not take the absolute value."
    elif value == 20:
        hint = "the array is changed in place; what does it hold afterwards?"
    elif not 0 <= value <= 255:
        hint = "a uint8 always holds a value in 0..255."
    else:
        hint = "compute 20 - 33 modulo 256."
    return verdict(name, False, "", hint)


def check_shuffle_together(shuffle_together: Callable[..., Any]) -> ExerciseResult:
    """Exercise 3: ``shuffle_together(X, y, rng) -> (X_shuffled, y_shuffled)`` with one permutation for both."""
    name = "shuffle_together"
    if not callable(shuffle_together):
        return verdict(name, False, "", f"pass your function itself, got {type(shuffle_together).__name__}")
    n = 50
    ids = np.arange(n)
    X = np.repeat(ids.astype(np.uint8)[:, None, None], 4, axis=1).repeat(3, axis=2)  # image i is filled with i
    y = (ids * 7 + 3) % 10  # its label
    results = []
    for seed in (0, 0, 1):
        try:
            out = shuffle_together(X.copy(), y.copy(), np.random.default_rng(seed))
        except NotImplementedError:
            return verdict(name, False, "", "not implemented yet: replace the `raise NotImplementedError` line.")
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            return verdict(name, False, "", f"your function raised {type(err).__name__}: {err}")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return verdict(name, False, "", "return a pair (X_shuffled, y_shuffled)")
        Xs, ys = (np.asarray(a) for a in out)
        if Xs.shape != X.shape or ys.shape != y.shape:
            return verdict(name, False, "", f"shapes changed: X {X.shape} -> {Xs.shape}, y {y.shape} -> {ys.shape}")
        which = Xs[:, 0, 0].astype(int)
        if sorted(which) != list(ids) or not np.all(Xs == Xs[:, :1, :1]):
            return verdict(
                name,
                False,
                "",
                "X_shuffled is not a reordering of the images of X (whole images must move, along the first axis)",
            )
        if sorted(ys) != sorted(y):
            return verdict(name, False, "", "y_shuffled does not contain the same labels as y")
        if np.array_equal(which, ids):
            return verdict(name, False, "", "nothing was shuffled: the images are still in their original order")
        if not np.array_equal(ys, y[which]):
            kept = np.mean(ys == y[which])
            return verdict(
                name,
                False,
                "",
                f"only {kept:.0%} of the images still have their own label: images and "
                "labels were reordered by different permutations (the seed's bug)",
            )
        results.append(which)
    if not np.array_equal(results[0], results[1]):
        return verdict(
            name,
            False,
            "",
            "the same seed gave different orders: draw the permutation from the rng you are given, not from np.random",
        )
    if np.array_equal(results[0], results[2]):
        return verdict(name, False, "", "different seeds gave the same order: use the rng you are given")
    return verdict(name, True, "every image keeps its label, and the order is reproducible from the seed.", "")
