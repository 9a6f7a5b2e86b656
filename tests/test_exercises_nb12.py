"""Notebook 12's changed checks: the shift and ZCA exercises now run several images / data sets (other shapes, raw
uint8 pixels, a single row, a shift that moves the whole image out, few samples and another eps), and still
diagnose the typical mistakes without printing the solution."""

import numpy as np
from exercise_support import accepted, rejected

from vgglib import exercises as ex


def shift(img, dy, dx):
    h, w = img.shape
    out = np.zeros_like(img)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src = img[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def test_shift_accepts_correct_forms_on_every_image():
    accepted(ex.check_shift(shift))

    def padded(img, dy, dx):  # another correct way: pad, then crop
        h, w = img.shape
        big = np.pad(img, ((h, h), (w, w)))
        return big[h - dy : 2 * h - dy, w - dx : 2 * w - dx]

    accepted(ex.check_shift(padded))
    accepted(ex.check_shift(lambda img, dy, dx: shift(img, dy, dx).astype(np.float64)))  # the values count


def test_shift_runs_several_shapes_and_dtypes():
    seen = []

    def recorder(img, dy, dx):
        seen.append((img.shape, img.dtype, dy, dx))
        return shift(img, dy, dx)

    accepted(ex.check_shift(recorder))
    assert {s for s, *_ in seen} == {(5, 7), (4, 3), (1, 6)}
    assert np.dtype(np.uint8) in {d for _, d, *_ in seen}
    assert any(abs(dy) >= s[0] for s, _, dy, _ in seen)  # a shift that empties the image


def test_shift_mistakes_found_on_the_new_cases():
    def breaks_on_full_shift(img, dy, dx):
        h, w = img.shape
        out = np.zeros_like(img)
        src = img[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
        out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
        return out if dy < h else img  # forgets that everything left the frame

    def square_only(img, dy, dx):
        if img.shape[0] != 5:
            return img.T
        return shift(img, dy, dx)

    rejected(ex.check_shift(breaks_on_full_shift), "background")  # all four rows came back
    rejected(ex.check_shift(square_only), "keep the shape (4, 3)")
    rejected(ex.check_shift(lambda img, dy, dx: np.roll(img, (dy, dx), axis=(0, 1))), "np.roll")


def zca(X, eps, ddof=0):
    Xc = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(Xc.T @ Xc / (len(X) - ddof))
    return (U / np.sqrt(np.clip(lam, 0, None) + eps)) @ U.T


def test_zca_runs_two_data_sets():
    seen = []

    def recorder(X, eps):
        seen.append((X.shape, eps))
        return zca(X, eps)

    accepted(ex.check_zca_matrix(recorder))
    assert seen == [((300, 6), 0.1), ((40, 3), 1e-3)]


def test_zca_mistakes_on_the_second_data_set():
    def fixed_eps(X, eps):  # ignores the eps it is given
        return zca(X, 0.1)

    def six_only(X, eps):
        return zca(X, eps) if X.shape[1] == 6 else np.eye(6)

    rejected(ex.check_zca_matrix(fixed_eps), "compute C")
    rejected(ex.check_zca_matrix(six_only), "(3, 3)", "(40, 3)")
    rejected(ex.check_zca_matrix(lambda X, eps: "W"), "(D, D)")
    rejected(ex.check_zca_matrix(lambda X, eps: zca(X, eps)[:, ::-1]), "symmetric")
