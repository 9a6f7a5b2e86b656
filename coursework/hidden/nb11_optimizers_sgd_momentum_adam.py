"""Hidden tests for notebooks/11_optimizers_sgd_momentum_adam.ipynb: exercise 3, ``my_adamw_step(p, g, m, v, t, lr,
beta1, beta2, eps, weight_decay)``, one AdamW step as a pure function returning ``(p, m, v)`` (t counts from 1).

The self-check (public) runs up to five steps from zero moments with betas (0.9, 0.999) and eps 1e-8; these compare
every step with ``vgglib.optim.AdamW`` (torch.optim.AdamW's update) stepping the same parameter: 300 chained float32
steps of a conv-like kernel with other betas, single steps late in training (t up to 10⁴) from given moments, betas
of 0 and 0.5, a large eps against small gradients, zero gradients, strong decay with a large learning rate, and that
the inputs are left unchanged.
"""

import numpy as np

from vgglib.coursework import call, hidden_test
from vgglib.optim import AdamW

CHECK = "check_adamw_step"


def _vgglib_step(p, g, m, v, t, lr, b1, b2, eps, wd):
    """vgglib's AdamW taking step t of a parameter whose moments are m, v: the new (p, m, v), float64 copies."""
    p = np.array(p, dtype=np.float64)
    opt = AdamW(lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    state = {"m": np.array(m, dtype=np.float64), "v": np.array(v, dtype=np.float64), "step": np.array(t - 1)}
    opt.load_state_dict({"type": "AdamW", "hyper": opt.hyperparameters(), "state": {"w.w": state}})
    opt.step([("w", "w", p, np.asarray(g, dtype=np.float64))])
    return p, opt.state["w.w"]["m"], opt.state["w.w"]["v"]


def _variants(p, g, m, v, t, lr, b1, b2, eps, wd):
    """Typical slips, each as the (p, m, v) it gives, with its hint."""
    p, g, m, v = (np.asarray(a, dtype=np.float64) for a in (p, g, m, v))

    def step(b1=b1, b2=b2, t=t, denom=None, decay_first=True):
        m1 = b1 * m + (1 - b1) * g
        v1 = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m1 / (1 - b1**t), v1 / (1 - b2**t)
        adam = lr * m_hat / (np.sqrt(v_hat) + eps if denom is None else denom(v1, v_hat))
        new_p = p * (1 - lr * wd) - adam if decay_first else (p - adam) * (1 - lr * wd)
        return new_p, m1, v1

    return {
        "use the beta1 and beta2 arguments, not Adam's usual 0.9 and 0.999": step(b1=0.9, b2=0.999),
        "eps is added after the square root: sqrt(v^) + eps, not sqrt(v^ + eps)": step(
            denom=lambda v1, v_hat: np.sqrt(v_hat + eps)
        ),
        "add eps after the bias correction: sqrt(v / (1 - beta2**t)) + eps, not (sqrt(v) + eps) / ...": step(
            denom=lambda v1, v_hat: (np.sqrt(v1) + eps) / np.sqrt(1 - b2**t)
        ),
        "the bias correction is missing or uses another step: divide by (1 - beta**t) with this call's t": step(t=1),
        "decay the weights the step starts from (p before this step), not the updated ones": step(decay_first=False),
    }


def _check_step(my_adamw_step, p, g, m, v, t, lr, b1, b2, eps, wd, where, rtol=1e-9, atol=1e-12):
    """One call, compared with vgglib's AdamW; returns the student's (p, m, v)."""
    args = (p, g, m, v, t, lr, b1, b2, eps, wd)
    out = call(my_adamw_step, *args, where=where)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise AssertionError(f"return the triple (p, m, v) ({where})")
    try:
        got = [np.asarray(a, dtype=np.float64) for a in out]
    except (TypeError, ValueError):
        raise AssertionError(f"p, m and v must be arrays of numbers ({where})") from None
    for what, a in zip("pmv", got):
        if a.shape != np.shape(p):
            raise AssertionError(f"{what} has shape {a.shape}, expected the parameter's {np.shape(p)} ({where})")
        if not np.all(np.isfinite(a)):
            raise AssertionError(f"{what} contains inf or nan ({where})")
    want = _vgglib_step(*args)
    if all(np.allclose(a, b, rtol=rtol, atol=atol) for a, b in zip(got, want)):
        return got
    for hint, wrong in _variants(*args).items():
        if all(np.allclose(a, b, rtol=rtol, atol=atol) for a, b in zip(got, wrong)):
            raise AssertionError(f"{hint} ({where})")
    for what, a, b in zip("mvp", (got[1], got[2], got[0]), (want[1], want[2], want[0])):
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol)
        if bad.any():
            raise AssertionError(f"{what} is wrong ({where}): {int(bad.sum())} of {bad.size} entries differ")
    raise AssertionError(f"the step is wrong ({where})")  # not reached: one of p, m, v differs


def _state(shape, seed, t, b2=0.999, dtype=np.float64):
    """A parameter, a gradient and moments as they might be after t - 1 steps (v >= 0)."""
    rng = np.random.default_rng(seed)
    p, g, m = (rng.standard_normal(shape) for _ in range(3))
    v = rng.uniform(0.1, 2.0, shape) * (1 - b2 ** (t - 1))
    m *= 1 - 0.9 ** (t - 1)
    return tuple(a.astype(dtype) for a in (p, g, m, v))


@hidden_test(CHECK)
def three_hundred_float32_steps_against_vgglib(my_adamw_step):
    """A float32 (4, 3, 3, 3) kernel through 300 steps with betas (0.8, 0.99), lr 3e-3, weight_decay 0.05: every
    step's (p, m, v) against vgglib's AdamW taking the same step from the same state."""
    rng = np.random.default_rng(1101)
    shape, lr, b1, b2, eps, wd = (4, 3, 3, 3), 3e-3, 0.8, 0.99, 1e-8, 0.05
    p = rng.standard_normal(shape).astype(np.float32)
    m, v = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    for t in range(1, 301):
        g = (rng.standard_normal(shape) * 0.1 + 0.05 * p).astype(np.float32)
        where = f"p (4, 3, 3, 3) float32, step t = {t} of 300, betas (0.8, 0.99), lr 3e-3, weight_decay 0.05"
        _check_step(my_adamw_step, p, g, m, v, t, lr, b1, b2, eps, wd, where, rtol=1e-4, atol=1e-6)
        p, m, v = (a.astype(np.float32) for a in _vgglib_step(p, g, m, v, t, lr, b1, b2, eps, wd))


@hidden_test(CHECK)
def late_steps_from_given_moments(my_adamw_step):
    """Single steps at t = 2, 37, 1000 and 10000 from nonzero moments (the bias correction fades as t grows),
    float64 (64, 27) and (2, 3, 4, 5) parameters, weight_decay 0.01 to 0.3."""
    for shape, t, lr, wd, seed in (
        ((64, 27), 2, 1e-3, 0.01, 1),
        ((2, 3, 4, 5), 37, 0.02, 0.3, 2),
        ((64, 27), 1000, 5e-4, 0.1, 3),
        ((7,), 10000, 0.01, 0.05, 4),
    ):
        p, g, m, v = _state(shape, 1110 + seed, t)
        where = f"p {shape} float64, step t = {t} with nonzero m and v, lr {lr}, weight_decay {wd}"
        _check_step(my_adamw_step, p, g, m, v, t, lr, 0.9, 0.999, 1e-8, wd, where)


@hidden_test(CHECK)
def other_betas(my_adamw_step):
    """betas (0.5, 0.9) over four steps; betas (0, 0) (m = g, v = g²: a step of lr·g/(|g| + eps)); beta1 0.99 with
    beta2 0.9999 at t = 3."""
    for (b1, b2), steps in (((0.5, 0.9), 4), ((0.0, 0.0), 2), ((0.99, 0.9999), 3)):
        rng = np.random.default_rng(1120)
        p, m, v = rng.standard_normal((3, 5)), np.zeros((3, 5)), np.zeros((3, 5))
        for t in range(1, steps + 1):
            g = rng.standard_normal((3, 5)) * 3
            where = f"p (3, 5) float64, betas ({b1}, {b2}), step t = {t}, lr 0.01, weight_decay 0.1"
            _check_step(my_adamw_step, p, g, m, v, t, 0.01, b1, b2, 1e-8, 0.1, where)
            p, m, v = _vgglib_step(p, g, m, v, t, 0.01, b1, b2, 1e-8, 0.1)


@hidden_test(CHECK)
def large_eps_small_and_zero_gradients(my_adamw_step):
    """eps 0.1 and 1.0 with gradients of about 1e-2 (where eps's place in the formula matters), then zero
    gradients from zero moments (only the decay moves p) and a gradient that is zero in half its entries."""
    rng = np.random.default_rng(1130)
    for eps, t in ((0.1, 1), (1.0, 5)):
        p, g, m, v = _state((6, 4), 1131, t)
        g *= 1e-2
        where = f"p (6, 4) float64, gradients of about 1e-2, eps {eps}, step t = {t}"
        _check_step(my_adamw_step, p, g, m, v, t, 0.05, 0.9, 0.999, eps, 0.1, where)
    p, zero = rng.standard_normal((5, 5)), np.zeros((5, 5))
    where = "p (5, 5) float64, g = 0, m = v = 0, step t = 1, lr 0.01, weight_decay 0.2"
    _check_step(my_adamw_step, p, zero, zero, zero, 1, 0.01, 0.9, 0.999, 1e-8, 0.2, where)
    g = np.where(rng.random((5, 5)) < 0.5, 0.0, rng.standard_normal((5, 5)))
    where = "p (5, 5) float64, g zero in about half its entries, m = v = 0, step t = 1"
    _check_step(my_adamw_step, p, g, zero, zero, 1, 0.01, 0.9, 0.999, 1e-8, 0.2, where)


@hidden_test(CHECK)
def strong_decay_large_learning_rate(my_adamw_step):
    """lr 0.5 with weight_decay 0.3 (p shrinks by 15% per step besides Adam's step), three steps, and a batch-of-one
    shaped (1, 1) parameter with lr 1.0 and weight_decay 0.9."""
    rng = np.random.default_rng(1140)
    for shape, lr, wd in (((8,), 0.5, 0.3), ((1, 1), 1.0, 0.9)):
        p, m, v = rng.standard_normal(shape) * 5, np.zeros(shape), np.zeros(shape)
        for t in range(1, 4):
            g = rng.standard_normal(shape)
            where = f"p {shape} float64, lr {lr}, weight_decay {wd}, step t = {t}"
            _check_step(my_adamw_step, p, g, m, v, t, lr, 0.9, 0.999, 1e-8, wd, where)
            p, m, v = _vgglib_step(p, g, m, v, t, lr, 0.9, 0.999, 1e-8, wd)


@hidden_test(CHECK)
def inputs_are_left_unchanged(my_adamw_step):
    """A pure function: p, g, m and v keep their values after the call (the new ones are returned)."""
    p, g, m, v = _state((4, 6), 1150, 3)
    where = "p (4, 6) float64, step t = 3"
    # the lambda sees the same copies the student's function receives, as they are after the call
    seen = call(lambda *a: (a[:4], my_adamw_step(*a)), p, g, m, v, 3, 0.01, 0.9, 0.999, 1e-8, 0.1, where=where)[0]
    for what, before, after in zip("pgmv", (p, g, m, v), seen):
        if not np.array_equal(before, after):
            raise AssertionError(
                f"your function changed {what} in place ({where}): write a pure function that returns new arrays "
                "(e.g. m = beta1 * m + ..., not m *= beta1)"
            )
