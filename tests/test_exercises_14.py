"""The self-checks of notebook 14 accept right answers, reject typical wrong ones, and never print the solution.

The checks added or changed in issue 14 (exercises 1, 2 and 4) are tested in tests/test_exercises_nb14.py."""

import numpy as np
from exercise_support import accepted, rejected

from vgglib import exercises as ex


def test_pool2x2_corners():
    def pool(x):
        h2, w2 = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
        a, b = x[:, :, 0:h2:2, 0:w2:2], x[:, :, 0:h2:2, 1:w2:2]
        c, d = x[:, :, 1:h2:2, 0:w2:2], x[:, :, 1:h2:2, 1:w2:2]
        top, bottom = np.maximum(a, b), np.maximum(c, d)
        lower = bottom > top
        return np.maximum(top, bottom), np.where(lower, 2 + (d > c), 1 * (b > a))

    accepted(ex.check_pool2x2_corners(pool))

    def last_wins(x):  # >= instead of >: ties go to the later element
        h2, w2 = 2 * (x.shape[2] // 2), 2 * (x.shape[3] // 2)
        a, b = x[:, :, 0:h2:2, 0:w2:2], x[:, :, 0:h2:2, 1:w2:2]
        c, d = x[:, :, 1:h2:2, 0:w2:2], x[:, :, 1:h2:2, 1:w2:2]
        top, bottom = np.maximum(a, b), np.maximum(c, d)
        lower = bottom >= top
        return np.maximum(top, bottom), np.where(lower, 2 + (d >= c), 1 * (b >= a))

    rejected(ex.check_pool2x2_corners(last_wins), "first maximum")
    rejected(ex.check_pool2x2_corners(lambda x: pool(x)[0]), "pair")
    rejected(ex.check_pool2x2_corners(lambda x: (pool(x)[0] + 1, pool(x)[1])), "y is wrong")


def test_notebook_14_check_names_are_unique_in_the_package():
    # vgglib.exercises re-exports every module's checks under one namespace: a repeated name would silently
    # replace another notebook's check
    import importlib
    import pkgutil

    mine = set(importlib.import_module("vgglib.exercises.nb14_making_it_fast").__all__)
    for info in pkgutil.iter_modules(ex.__path__):
        if info.name.startswith("_") or info.name == "nb14_making_it_fast":
            continue
        others = set(getattr(importlib.import_module(f"vgglib.exercises.{info.name}"), "__all__", []))
        assert not mine & others, (info.name, mine & others)
    for name in mine:
        assert getattr(ex, name).__module__ == "vgglib.exercises.nb14_making_it_fast"
