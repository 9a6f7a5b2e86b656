"""Notebook 11's transfer exercise: one AdamW step. The check accepts every correct form, recognises the typical
slips (L2 instead of decoupled decay, decay without the learning rate, decay after the step, no bias
correction, a stale t, …) with a hint that names the slip, and never prints the solution."""

import numpy as np
import pytest
from exercise_support import accepted, rejected

from vgglib import exercises as ex
from vgglib.exercises.nb11_optimizers_sgd_momentum_adam import _ADAMW_HINTS, _adamw_reference
from vgglib.optim import AdamW


def adamw(p, g, m, v, t, lr, b1, b2, eps, wd):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return p - lr * wd * p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v


def test_correct_forms_pass():
    accepted(ex.check_adamw_step(adamw))

    def decay_first_then_adam(p, g, m, v, t, lr, b1, b2, eps, wd):  # what torch.optim.AdamW does
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        return p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v

    accepted(ex.check_adamw_step(decay_first_then_adam))
    accepted(ex.check_adamw_step(lambda *a: list(adamw(*a))))  # a list is fine too
    # the student's arrays may be modified in place without harm (the check passes copies)

    def in_place(p, g, m, v, t, lr, b1, b2, eps, wd):
        p *= 1 - lr * wd
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        p -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        return p, m, v

    accepted(ex.check_adamw_step(in_place))


def test_the_reference_is_vgglib_adamw():
    rng = np.random.default_rng(0)
    p, m, v = rng.standard_normal(5), np.zeros(5), np.zeros(5)
    lib = p.copy()
    opt = AdamW(0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.3)
    for t in range(1, 5):
        g = rng.standard_normal(5)
        p, m, v = _adamw_reference(p, g, m, v, t, 0.02, 0.8, 0.99, 1e-6, 0.3)
        opt.step([("w", "w", lib, g)])
        np.testing.assert_allclose(p, lib, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "mistake, fragment",
    [
        ("l2", "L2 regularisation"),
        ("no_decay", "not decayed"),
        ("no_lr", "scaled by the learning rate"),
        ("after", "after the Adam update"),
        ("sign", "towards 0"),
        ("no_correction", "bias correction is missing"),
    ],
)
def test_each_typical_slip_gets_its_hint(mistake, fragment):
    assert fragment in _ADAMW_HINTS[mistake]
    rejected(ex.check_adamw_step(lambda *a: _adamw_reference(*a, mistake=mistake)), fragment)


def test_other_wrong_answers():
    def stale_t(p, g, m, v, t, *rest):
        return adamw(p, g, m, v, 1, *rest)

    def abs_not_square(p, g, m, v, t, lr, b1, b2, eps, wd):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * np.abs(g)
        return p - lr * wd * p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v

    def corrected_moments_returned(p, g, m, v, t, lr, b1, b2, eps, wd):
        p, m, v = adamw(p, g, m, v, t, lr, b1, b2, eps, wd)
        return p, m / (1 - b1**t), v

    rejected(ex.check_adamw_step(stale_t), "this step's t")
    rejected(ex.check_adamw_step(abs_not_square), "g² (element-wise)")
    rejected(ex.check_adamw_step(corrected_moments_returned), "m is wrong", "gradient alone")
    rejected(ex.check_adamw_step(lambda *a: adamw(*a)[0]), "triple")
    rejected(ex.check_adamw_step(lambda *a: tuple(x.ravel() for x in adamw(*a))), "shape (3, 4)")
    rejected(ex.check_adamw_step(lambda *a: ("p", "m", "v")), "arrays")


def test_no_answer_yet_and_wrong_types():
    def not_implemented(*args):
        raise NotImplementedError

    def boom(*args):
        raise ZeroDivisionError("oops")

    rejected(ex.check_adamw_step(not_implemented), "not implemented yet")
    rejected(ex.check_adamw_step(boom), "ZeroDivisionError: oops", "t = 1")
    rejected(ex.check_adamw_step(None), "pass your function itself", "NoneType")
    rejected(ex.check_adamw_step(0.5), "pass your function itself")


def test_the_check_runs_several_cases():
    """Shapes, a single weight, float32 parameters and no decay: a function that only handles the first case
    fails on a later one."""
    seen = []

    def recorder(p, g, m, v, t, lr, b1, b2, eps, wd):
        seen.append((p.shape, p.dtype, wd))
        return adamw(p, g, m, v, t, lr, b1, b2, eps, wd)

    accepted(ex.check_adamw_step(recorder))
    assert {s for s, _, _ in seen} >= {(3, 4), (1,)} and np.dtype(np.float32) in {d for _, d, _ in seen}
    assert 0.0 in {w for _, _, w in seen}

    def only_2d(p, g, m, v, t, lr, b1, b2, eps, wd):
        if p.ndim != 2:
            return p, m, v
        return adamw(p, g, m, v, t, lr, b1, b2, eps, wd)

    rejected(ex.check_adamw_step(only_2d), "m is wrong at step 1")
