"""The exercise self-checks of notebooks 09–13 accept right answers, reject typical wrong ones with a helpful
hint, and never print the solution."""

import math

import numpy as np
import pytest
from exercise_support import accepted, rejected

from vgglib import exercises as ex


def not_implemented(*args):
    raise NotImplementedError


def test_check_names_are_unique_in_the_package():
    # vgglib.exercises re-exports every module's checks under one namespace: a repeated name would silently
    # replace another notebook's check
    import importlib
    import pkgutil

    modules = (
        "nb09_training_vgg16_on_mnist",
        "nb10_dropout",
        "nb11_optimizers_sgd_momentum_adam",
        "nb12_data_augmentation",
        "nb13_feature_maps",
    )
    for mine in modules:
        names = set(importlib.import_module(f"vgglib.exercises.{mine}").__all__)
        for info in pkgutil.iter_modules(ex.__path__):
            if info.name.startswith("_") or info.name == mine:
                continue
            others = set(getattr(importlib.import_module(f"vgglib.exercises.{info.name}"), "__all__", []))
            assert not names & others, (mine, info.name, names & others)
        for name in names:
            obj = getattr(ex, name)
            assert obj is getattr(importlib.import_module(f"vgglib.exercises.{mine}"), name)
            if callable(obj):
                assert obj.__module__ == f"vgglib.exercises.{mine}"


def test_every_check_is_exported():
    for name in (
        "check_batches_per_epoch",
        "check_early_stopping",
        "check_confusion_matrix",
        "check_dropout_scale",
        "check_dropout_variance",
        "check_channel_dropout",
        "check_largest_stable_lr",
        "check_momentum_speedup",
        "check_adamw_step",
        "check_label_preserving",
        "check_shift",
        "check_zca_matrix",
        "TRANSFORMS",
        "check_pool4_shape",
        "check_vgg11_receptive_field",
        "check_top_activating",
    ):
        assert name in ex.__all__ and hasattr(ex, name)


# ------------------------------------------------------------------------------------------------ 09


def test_batches_per_epoch():
    accepted(ex.check_batches_per_epoch(860))
    rejected(ex.check_batches_per_epoch(859), "last, smaller batch", secret="860")
    rejected(ex.check_batches_per_epoch(859.375), "whole number", secret="860")
    rejected(ex.check_batches_per_epoch(938), "60,000")
    rejected(ex.check_batches_per_epoch(None), "no answer")
    rejected(ex.check_batches_per_epoch("860"), "expected a number")


def test_early_stopping():
    def right(patience):
        def callback(history):
            acc = history["val_accuracy"]
            return len(acc) - 1 - int(np.argmax(acc)) >= patience

        return callback

    def equal_counts_as_better(patience):
        def callback(history):
            acc = np.array(history["val_accuracy"])
            return len(acc) - 1 - int(np.flatnonzero(acc == acc.max())[-1]) >= patience

        return callback

    def off_by_one(patience):
        return right(patience - 1)

    def compares_with_last(patience):
        def callback(history):
            acc = history["val_accuracy"]
            return len(acc) > patience and all(acc[-k] <= acc[-k - 1] for k in range(1, patience + 1))

        return callback

    accepted(ex.check_early_stopping(right))
    rejected(ex.check_early_stopping(equal_counts_as_better), "equal to the best so far")
    rejected(ex.check_early_stopping(off_by_one), "too early")
    rejected(ex.check_early_stopping(lambda p: lambda h: False), "never stopped")
    rejected(ex.check_early_stopping(lambda p: lambda h: True), "kept improving")
    rejected(ex.check_early_stopping(lambda p: 3), "return a function")
    rejected(ex.check_early_stopping(not_implemented), "not implemented")
    rejected(ex.check_early_stopping(compares_with_last))


def test_confusion_matrix():
    def right(t, p, c):
        cm = np.zeros((c, c), int)
        np.add.at(cm, (t, p), 1)
        return np.trace(cm) / len(t), cm

    accepted(ex.check_confusion_matrix(right))
    rejected(ex.check_confusion_matrix(lambda t, p, c: (right(t, p, c)[0], right(t, p, c)[1].T)), "swapped")
    rejected(ex.check_confusion_matrix(lambda t, p, c: (100 * right(t, p, c)[0], right(t, p, c)[1])), "percentage")
    rejected(ex.check_confusion_matrix(lambda t, p, c: (0.5, right(t, p, c)[1])), "fraction of correct")
    rejected(ex.check_confusion_matrix(lambda t, p, c: (right(t, p, c)[0], np.eye(c))), "wrong counts")
    rejected(ex.check_confusion_matrix(lambda t, p, c: (1.0, np.zeros((c + 1, c + 1)))), "(4, 4)")


# ------------------------------------------------------------------------------------------------ 10


def test_dropout_scale():
    # exercises 2 (the variance, x = 3, p = 0.25) and 3 (channel dropout): tests/test_exercises_nb10.py
    accepted(ex.check_dropout_scale(1.25))
    accepted(ex.check_dropout_scale(np.float32(1.25)))
    rejected(ex.check_dropout_scale(5.0), "drop probability", secret="1.25")
    rejected(ex.check_dropout_scale(0.8), "keep probability")
    rejected(ex.check_dropout_scale(2.0), "p = 0.5")
    rejected(ex.check_dropout_scale(True), "expected a number")


# ------------------------------------------------------------------------------------------------ 11


def test_largest_stable_lr_and_momentum():
    accepted(ex.check_largest_stable_lr(0.2))
    rejected(ex.check_largest_stable_lr(0.1), "one step", secret="0.2")
    rejected(ex.check_largest_stable_lr(0.4), "second derivative")
    rejected(ex.check_largest_stable_lr(None), "no answer")
    accepted(ex.check_momentum_speedup(20))
    rejected(ex.check_momentum_speedup(1 / 1.95), "flips sign")
    rejected(ex.check_momentum_speedup(10), "0.9")
    rejected(ex.check_momentum_speedup(0.95), "geometric")


# the transfer exercise (one AdamW step) is tested in tests/test_exercises_nb11.py


# ------------------------------------------------------------------------------------------------ 12


def test_label_preserving():
    safe = {"shift by 2 pixels", "rotate by 10 degrees", "zoom in by 10%"}
    accepted(ex.check_label_preserving(safe))
    accepted(ex.check_label_preserving(sorted(safe)))
    rejected(ex.check_label_preserving(safe | {"mirror left-right"}), "no digit")
    rejected(ex.check_label_preserving(safe | {"rotate by 180 degrees"}), "6 into a 9")
    rejected(ex.check_label_preserving({"shift by 2 pixels"}), "2 more")
    rejected(ex.check_label_preserving({"shift by two pixels"}), "not in TRANSFORMS")
    rejected(ex.check_label_preserving("shift by 2 pixels"), "set of names")
    assert set(ex.TRANSFORMS) >= safe


def test_shift():
    def right(img, dy, dx):
        h, w = img.shape
        out = np.zeros_like(img)
        src = img[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
        out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
        return out

    accepted(ex.check_shift(right))
    rejected(ex.check_shift(lambda img, dy, dx: np.roll(img, (dy, dx), axis=(0, 1))), "np.roll")
    rejected(ex.check_shift(lambda img, dy, dx: right(img, -dy, -dx)), "wrong way")
    rejected(ex.check_shift(lambda img, dy, dx: right(img, dx, dy)), "swapped")
    rejected(ex.check_shift(lambda img, dy, dx: img[1:]), "keep the shape")
    rejected(ex.check_shift(not_implemented), "not implemented")


def zca(X, eps, center=True, rotate_back=True, ddof=0):
    Xc = X - X.mean(axis=0) if center else X
    lam, U = np.linalg.eigh(Xc.T @ Xc / (len(X) - ddof))
    if not rotate_back:
        return (U / np.sqrt(lam + eps)).T
    return (U / np.sqrt(np.clip(lam, 0, None) + eps)) @ U.T


def test_zca_matrix():
    accepted(ex.check_zca_matrix(zca))
    accepted(ex.check_zca_matrix(lambda X, eps: zca(X, eps, ddof=1)))
    rejected(ex.check_zca_matrix(lambda X, eps: zca(X, eps, rotate_back=False)), "PCA whitening")
    rejected(ex.check_zca_matrix(lambda X, eps: zca(X, 0.0)), "eps is missing")
    rejected(ex.check_zca_matrix(lambda X, eps: zca(X, eps, center=False)), "mean first")
    rejected(ex.check_zca_matrix(lambda X, eps: np.eye(5)), "(6, 6)")
    rejected(ex.check_zca_matrix(not_implemented), "not implemented")


# ------------------------------------------------------------------------------------------------ 13


def test_pool4_shape_and_vgg11_receptive_field():
    # (tests/test_exercises_nb13.py tests these two transfer exercises in full)
    accepted(ex.check_pool4_shape((128, 6, 6)))
    rejected(ex.check_pool4_shape((512, 6, 6)), "scales every channel count", secret="128")
    rejected(ex.check_pool4_shape((6, 6, 128)), "channels-first")
    rejected(ex.check_pool4_shape(None), "no answer")
    accepted(ex.check_vgg11_receptive_field(46))
    rejected(ex.check_vgg11_receptive_field(60), "VGG16's conv4_1", secret="46")
    rejected(ex.check_vgg11_receptive_field(None), "no answer")


def test_top_activating():
    def right(maps, c, k):
        return np.argsort(-maps[:, c].mean(axis=(1, 2)), kind="stable")[:k]

    accepted(ex.check_top_activating(right))
    rejected(ex.check_top_activating(lambda m, c, k: right(m, c, k)[::-1]), "reverse")
    rejected(
        ex.check_top_activating(lambda m, c, k: np.argsort(-m[:, c].max(axis=(1, 2)), kind="stable")[:k]),
        "largest pixel",
    )
    rejected(ex.check_top_activating(lambda m, c, k: right(m, 0, k)), "requested channel")
    rejected(ex.check_top_activating(lambda m, c, k: right(m, c, k)[:3]), "k = 5")
    rejected(ex.check_top_activating(not_implemented), "not implemented")


@pytest.mark.parametrize(
    "check",
    [
        ex.check_channel_dropout,
        ex.check_adamw_step,
        ex.check_shift,
        ex.check_zca_matrix,
        ex.check_top_activating,
        ex.check_early_stopping,
        ex.check_confusion_matrix,
    ],
)
def test_code_checks_report_exceptions(check):
    def boom(*args):
        raise ZeroDivisionError("oops")

    result = check(boom)
    rejected(result, "ZeroDivisionError")
    assert math.isfinite(len(result.message))
