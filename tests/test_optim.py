"""vgglib.optim: every update equals the textbook formula step by step; state round-trips; schedules."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from vgglib.layers import FullyConnected
from vgglib.model import Sequential
from vgglib.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    ConstantLR,
    CosineLR,
    RMSprop,
    StepLR,
    make_optimizer,
    make_schedule,
)

RNG = np.random.default_rng(0)
P0 = RNG.standard_normal((3, 4))
GRADS = [RNG.standard_normal((3, 4)) for _ in range(4)]


def run(opt, dtype=np.float64, grads=GRADS):
    """Apply ``opt`` to one parameter with the given gradient sequence; return the parameter after each step."""
    p = P0.astype(dtype)
    out = []
    for g in grads:
        opt.step([("layer", "weights", p, g.astype(dtype))])
        out.append(p.copy())
    return p, out


def test_plain_sgd():
    _, steps = run(SGD(lr=0.1))
    expected = P0.copy()
    for g, got in zip(GRADS, steps):
        expected = expected - 0.1 * g
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_sgd_momentum_nesterov_weight_decay(nesterov, weight_decay):
    lr, mu = 0.05, 0.9
    _, steps = run(SGD(lr, momentum=mu, weight_decay=weight_decay, nesterov=nesterov))
    p, v = P0.copy(), np.zeros_like(P0)
    for g, got in zip(GRADS, steps):
        g = g + weight_decay * p
        v = mu * v + g
        p = p - lr * (g + mu * v if nesterov else v)
        np.testing.assert_allclose(got, p, rtol=0, atol=1e-14)


def test_sgd_momentum_is_the_cs231n_trajectory_for_constant_lr():
    lr, mu = 0.05, 0.9
    _, steps = run(SGD(lr, momentum=mu))
    p, v = P0.copy(), np.zeros_like(P0)
    for g, got in zip(GRADS, steps):
        v = mu * v - lr * g
        p = p + v
        np.testing.assert_allclose(got, p, rtol=0, atol=1e-13)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_with_bias_correction(weight_decay):
    lr, b1, b2, eps = 1e-2, 0.8, 0.95, 1e-6
    _, steps = run(Adam(lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay))
    p, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for t, (g, got) in enumerate(zip(GRADS, steps), start=1):
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(got, p, rtol=0, atol=1e-14)


def test_adam_first_step_moves_every_weight_by_about_lr():
    _, steps = run(Adam(1e-3), grads=GRADS[:1])
    np.testing.assert_allclose(np.abs(steps[0] - P0), 1e-3, rtol=1e-4)


@pytest.mark.parametrize("opt", [SGD(0.1), SGD(0.1, momentum=0.9), Adam(1e-2)])
def test_updates_are_in_place_and_float32_stays_float32(opt):
    layer = FullyConnected(4, 3)
    model = Sequential([layer])
    before = layer.params["weights"]
    layer.grads["weights"] = np.ones((4, 3), np.float32)
    layer.grads["bias"] = np.ones(3, np.float32)
    opt.step(model)
    assert layer.params["weights"] is before and before.dtype == np.float32
    assert layer.params["bias"].dtype == np.float32
    assert not np.array_equal(layer.params["bias"], np.zeros(3))
    assert all(s.dtype == np.float32 for st in opt.state.values() for k, s in st.items() if k != "step")


def test_adam_minimises_a_quadratic():
    a = np.array([1.0, 10.0, 0.1, 3.0])
    c = np.array([3.0, -2.0, 0.5, 1.0])
    p = np.zeros(4)
    opt = Adam(lr=0.05)
    for _ in range(2000):
        opt.step([("q", "x", p, a * (p - c))])  # gradient of 0.5 * sum(a (p - c)^2)
    np.testing.assert_allclose(p, c, atol=1e-3)


@pytest.mark.parametrize(
    "make", [lambda: SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), lambda: Adam(3e-3, betas=(0.8, 0.99))]
)
def test_state_dict_round_trip_continues_identically(make):
    a = make()
    p, _ = run(a, grads=GRADS[:2])
    sd = a.state_dict()
    # only arrays and JSON scalars: the checkpoint stores it without pickle
    json.dumps({"type": sd["type"], "hyper": sd["hyper"]})
    assert all(isinstance(arr, np.ndarray) for slots in sd["state"].values() for arr in slots.values())
    b = type(a)(lr=1.0)
    b.load_state_dict(sd)
    assert b.hyperparameters() == a.hyperparameters()
    pa, pb = p.copy(), p.copy()
    for g in GRADS[2:]:
        a.step([("layer", "weights", pa, g)])
        b.step([("layer", "weights", pb, g)])
    assert np.array_equal(pa, pb)
    # the state dict is a copy: stepping does not change it
    assert int(sd["state"]["layer.weights"]["step"]) == 2


def test_load_state_dict_checks_its_input():
    sd = Adam().state_dict()
    with pytest.raises(ValueError, match="from a Adam optimizer"):
        SGD().load_state_dict(sd)
    bad = {"type": "Adam", "hyper": {"lr": 1e-3}, "state": {"x.weights": {"m": np.zeros(2)}}}
    with pytest.raises(ValueError, match="lacks"):
        Adam().load_state_dict(bad)
    with pytest.raises(ValueError, match="expected a dict"):
        Adam().load_state_dict([1, 2])
    opt = Adam()
    opt.load_state_dict(
        {
            "type": "Adam",
            "hyper": {"lr": 1e-3},
            "state": {"l.w": {"m": np.zeros(2), "v": np.zeros(2), "step": np.array(1)}},
        }
    )
    with pytest.raises(ValueError, match="shape"):
        opt.step([("l", "w", np.zeros(3), np.zeros(3))])


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: SGD(lr=0), "lr"),
        (lambda: SGD(momentum=1.0), "momentum"),
        (lambda: SGD(nesterov=True), "nesterov"),
        (lambda: Adam(betas=(0.9, 1.0)), "betas"),
        (lambda: Adam(eps=0), "eps"),
        (lambda: Adam(weight_decay=-1), "weight"),
        (lambda: Adam(lr="fast"), "lr"),
    ],
)
def test_bad_hyperparameters(factory, match):
    with pytest.raises((ValueError, TypeError), match=match):
        factory()


def test_gradient_shape_must_match():
    with pytest.raises(ValueError, match="gradient of l.w has shape"):
        SGD().step([("l", "w", np.zeros(3), np.zeros(4))])


def test_make_optimizer():
    assert isinstance(make_optimizer("adam", 0.01), Adam) and make_optimizer("adam", 0.01).lr == 0.01
    assert make_optimizer("SGD", momentum=0.9).momentum == 0.9
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs")
    for name, cls in (("adagrad", Adagrad), ("RMSprop", RMSprop), ("adamw", AdamW)):
        assert type(make_optimizer(name, 0.02)) is cls and make_optimizer(name, 0.02).lr == 0.02


def test_schedules():
    assert ConstantLR(0.1)(7.5, 10) == 0.1
    step = StepLR(0.1, step_size=3, gamma=0.5)
    assert [step(e, 10) for e in (0, 2.99, 3, 6.5)] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    cos = CosineLR(0.1, min_lr=0.01)
    assert cos(0, 10) == pytest.approx(0.1) and cos(10, 10) == pytest.approx(0.01)
    assert cos(5, 10) == pytest.approx(0.055)
    assert cos(2.5, 10) == pytest.approx(0.01 + 0.09 * (1 + math.cos(math.pi / 4)) / 2)
    warm = CosineLR(0.1, warmup_epochs=2)
    assert warm(0, 10) == pytest.approx(0.01) and warm(1, 10) == pytest.approx(0.055)
    assert warm(2, 10) == pytest.approx(0.1) and warm(6, 10) == pytest.approx(0.05)
    lrs = [cos(e / 4, 10) for e in range(41)]
    assert all(x >= y for x, y in zip(lrs, lrs[1:]))  # monotone decay
    assert isinstance(make_schedule("cosine", 0.1), CosineLR)
    with pytest.raises(ValueError, match="unknown schedule"):
        make_schedule("linear", 0.1)
    with pytest.raises(ValueError, match="min_lr"):
        CosineLR(0.1, min_lr=0.2)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Adam(1e-2, betas=(0.8, 0.95)),
        lambda: SGD(0.05, momentum=0.9),
        lambda: SGD(0.05, momentum=0.9, nesterov=True),
        lambda: SGD(0.05),
    ],
)
def test_big_parameters_updated_piecewise_follow_the_same_formula(make):
    """Parameters larger than the optimizer's work piece (65,536 values) are updated piece by piece."""
    rng = np.random.default_rng(1)
    p0 = rng.standard_normal((300, 301))
    grads = [rng.standard_normal(p0.shape) for _ in range(3)]
    big, small = make(), make()
    p_big = p0.copy()
    p_cols = [p0[:, j].copy() for j in range(3)]  # the same numbers, in small arrays
    for g in grads:
        big.step([("l", "w", p_big, g)])
        for j in range(3):
            small.step([("l", f"w{j}", p_cols[j], g[:, j].copy())])
    for j in range(3):
        np.testing.assert_allclose(p_big[:, j], p_cols[j], rtol=0, atol=1e-15)
    assert not np.array_equal(p_big, p0)


def test_non_contiguous_parameters_are_updated_in_place():
    base = np.ones((4, 6))
    p = base.T  # a view, not C-contiguous
    Adam(0.1).step([("l", "w", p, np.ones((6, 4)))])
    np.testing.assert_allclose(base, 0.9)


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), lambda: Adam(0.01, weight_decay=0.01)])
def test_updates_spread_over_worker_threads_equal_the_serial_ones(make):
    """step() updates the parameters on the fast backend's worker threads: bit for bit the same numbers."""
    from vgglib.fast import workers as fast

    rng = np.random.default_rng(3)
    shapes = [(300, 301), (7,), (64, 3, 3, 3), (1000,), (5, 5)]
    params0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
    results = []
    saved = fast.threads
    for threaded in (False, True):
        opt, params = make(), [p.copy() for p in params0]
        try:
            fast.threads = 2 if threaded else 1
            for step_grads in grads:
                opt.step([("l", f"p{i}", p, g) for i, (p, g) in enumerate(zip(params, step_grads))])
        finally:
            fast.threads = saved
        results.append(params)
    for serial, threaded in zip(*results):
        np.testing.assert_array_equal(serial, threaded)
    assert not np.array_equal(results[1][0], params0[0])


def test_a_bad_parameter_stops_the_step_before_any_update():
    p_ok, p_bad = np.ones(3), np.ones(4)
    with pytest.raises(ValueError, match="gradient of l.b has shape"):
        SGD(0.1).step([("l", "a", p_ok, np.ones(3)), ("l", "b", p_bad, np.ones(5))])
    np.testing.assert_array_equal(p_ok, 1.0)


@pytest.mark.parametrize("bad", [-0.1, 0.0, float("nan"), float("inf")])
def test_step_refuses_a_learning_rate_set_directly_to_no_learning_rate(bad):
    for opt in (SGD(0.1), SGD(0.1, momentum=0.9), Adam()):
        p = np.ones(3)
        opt.lr = bad
        with pytest.raises(ValueError, match=rf"^{type(opt).__name__}\.step: lr must be a finite number > 0, got"):
            opt.step([("l", "w", p, np.ones(3))])
        np.testing.assert_array_equal(p, 1.0)  # nothing changed: no step of gradient ascent


def test_adam_refuses_float16_parameters_where_its_eps_underflows():
    p = np.ones(3, dtype=np.float16)
    with pytest.raises(ValueError, match=r"^Adam\.step: float16 parameters with Adam: eps=1e-08 underflows to 0"):
        Adam().step([("l", "w", p, np.zeros(3, dtype=np.float16))])
    np.testing.assert_array_equal(p, 1.0)
    # an eps that float16 can hold works; SGD has no eps; float32 is fine with the default
    for opt, dtype in ((Adam(eps=1e-4), np.float16), (SGD(0.1), np.float16), (Adam(), np.float32)):
        q = np.ones(3, dtype=dtype)
        opt.step([("l", "w", q, np.full(3, 0.5, dtype=dtype))])
        assert q.dtype == dtype and np.all(np.isfinite(q)) and np.all(q < 1)


# ---------------------------------------------------------------------------------------------------------
# Adagrad, RMSprop, AdamW: the textbook formulas (and torch.optim's semantics) step by step
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("initial", [0.0, 0.5])
def test_adagrad_formula(weight_decay, initial):
    lr, eps = 0.05, 1e-6
    _, steps = run(Adagrad(lr, eps=eps, weight_decay=weight_decay, initial_accumulator_value=initial))
    p, s = P0.copy(), np.full_like(P0, initial)
    for g, got in zip(GRADS, steps):
        g = g + weight_decay * p
        s = s + g * g
        p = p - lr * g / (np.sqrt(s) + eps)
        np.testing.assert_allclose(got, p, rtol=0, atol=1e-14)


def test_adagrad_steps_shrink_for_a_constant_gradient():
    """The sum only grows: step t of a constant gradient is lr/sqrt(t) (by hand: s_t = t·g²)."""
    p = np.zeros(2)
    opt, moves = Adagrad(0.1), []
    for _ in range(4):
        before = p.copy()
        opt.step([("l", "w", p, np.array([3.0, -0.01]))])
        moves.append(np.abs(p - before))
    np.testing.assert_allclose(moves, [[0.1 / np.sqrt(t)] * 2 for t in (1, 2, 3, 4)], rtol=1e-8)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_rmsprop_formula(momentum, weight_decay):
    lr, alpha, eps = 0.01, 0.9, 1e-6
    _, steps = run(RMSprop(lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum))
    p, s, b = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for g, got in zip(GRADS, steps):
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        b = momentum * b + g / (np.sqrt(s) + eps)
        p = p - lr * b
        np.testing.assert_allclose(got, p, rtol=0, atol=1e-14)


def test_rmsprop_first_step_is_ten_times_lr_sign_g_without_bias_correction():
    """s_1 = (1 - alpha)·g², so the first step is lr·g/(sqrt(1 - alpha)·|g|) = 10·lr·sign(g) for alpha = 0.99."""
    _, steps = run(RMSprop(1e-3), grads=GRADS[:1])
    np.testing.assert_allclose(steps[0] - P0, -1e-2 * np.sign(GRADS[0]), rtol=1e-5)


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adamw_formula(weight_decay):
    lr, b1, b2, eps = 1e-2, 0.8, 0.95, 1e-6
    _, steps = run(AdamW(lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay))
    p, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for t, (g, got) in enumerate(zip(GRADS, steps), start=1):
        p = p * (1 - lr * weight_decay)  # decoupled: the weights shrink, the gradient is left alone
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(got, p, rtol=0, atol=1e-14)


def test_adamw_without_decay_is_adam_and_differs_from_l2_with_it():
    p_adam, _ = run(Adam(1e-2))
    p_adamw, _ = run(AdamW(1e-2, weight_decay=0.0))
    assert np.array_equal(p_adam, p_adamw)
    p_l2, _ = run(Adam(1e-2, weight_decay=0.1))
    p_dec, _ = run(AdamW(1e-2, weight_decay=0.1))
    assert np.abs(p_l2 - p_dec).max() > 1e-4


def test_l2_under_adam_ignores_the_decay_strength_decoupled_decay_does_not():
    """With no loss gradient, L2 under Adam moves a weight by about lr per step, whatever weight_decay is (Adam
    normalises the decay term away); decoupled decay shrinks it by exactly (1 - lr·wd) per step."""
    lr, steps = 1e-3, 20
    for wd in (1e-4, 1.0):
        p_l2, p_dec = np.ones(3), np.ones(3)
        l2, dec = Adam(lr, weight_decay=wd), AdamW(lr, weight_decay=wd)
        for _ in range(steps):
            l2.step([("l", "w", p_l2, np.zeros(3))])
            dec.step([("l", "w", p_dec, np.zeros(3))])
        np.testing.assert_allclose(1 - p_l2, steps * lr, rtol=0.01)  # about lr per step, for both strengths
        np.testing.assert_allclose(p_dec, (1 - lr * wd) ** steps, rtol=1e-12)


def test_adamw_default_weight_decay_is_torchs():
    assert AdamW().weight_decay == 0.01 and Adam().weight_decay == 0.0


@pytest.mark.parametrize("make", [lambda: Adagrad(0.1), lambda: RMSprop(0.01, momentum=0.9), lambda: AdamW(1e-2)])
def test_new_optimizers_in_place_float32_state_round_trip(make):
    layer = FullyConnected(4, 3)
    before = layer.params["weights"]
    layer.grads["weights"] = np.ones((4, 3), np.float32)
    layer.grads["bias"] = np.ones(3, np.float32)
    opt = make()
    opt.step(Sequential([layer]))
    assert layer.params["weights"] is before and before.dtype == np.float32
    assert all(s.dtype == np.float32 for st in opt.state.values() for k, s in st.items() if k != "step")
    a = make()
    p, _ = run(a, grads=GRADS[:2])
    b = type(a)(lr=1.0)
    b.load_state_dict(a.state_dict())
    assert b.hyperparameters() == a.hyperparameters() and b.slots == a.slots
    pa, pb = p.copy(), p.copy()
    for g in GRADS[2:]:
        a.step([("layer", "weights", pa, g)])
        b.step([("layer", "weights", pb, g)])
    assert np.array_equal(pa, pb)


@pytest.mark.parametrize("make", [lambda: Adagrad(0.05), lambda: RMSprop(0.05, momentum=0.5), lambda: AdamW(1e-2)])
def test_new_optimizers_big_parameters_updated_piecewise_follow_the_same_formula(make):
    rng = np.random.default_rng(2)
    p0 = rng.standard_normal((300, 301))
    grads = [rng.standard_normal(p0.shape) for _ in range(3)]
    big, small = make(), make()
    p_big, p_col = p0.copy(), p0[:, 1].copy()
    for g in grads:
        big.step([("l", "w", p_big, g)])
        small.step([("l", "w", p_col, g[:, 1].copy())])
    np.testing.assert_allclose(p_big[:, 1], p_col, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: Adagrad(eps=0), "eps"),
        (lambda: Adagrad(weight_decay=-1), "weight_decay"),
        (lambda: RMSprop(alpha=1.0), "alpha"),
        (lambda: RMSprop(momentum=-0.1), "momentum"),
        (lambda: AdamW(betas=(1.0, 0.9)), "betas"),
        (lambda: AdamW(lr=0), "lr"),
    ],
)
def test_new_optimizers_bad_hyperparameters(factory, match):
    with pytest.raises((ValueError, TypeError), match=match):
        factory()


@pytest.mark.parametrize("cls", [Adagrad, RMSprop])
def test_float16_refused_where_eps_underflows(cls):
    p = np.ones(3, dtype=np.float16)
    with pytest.raises(ValueError, match=rf"^{cls.__name__}\.step: float16 parameters with {cls.__name__}: eps="):
        cls().step([("l", "w", p, np.zeros(3, dtype=np.float16))])
    np.testing.assert_array_equal(p, 1.0)


TORCH = json.loads((Path(__file__).parent / "data" / "torch_optim.json").read_text())


@pytest.mark.parametrize(
    "name, ours",
    [
        ("adagrad", lambda: Adagrad(0.1, weight_decay=0.01, initial_accumulator_value=0.1)),
        ("rmsprop", lambda: RMSprop(0.01, alpha=0.9, weight_decay=0.01, momentum=0.9)),
        ("adamw", lambda: AdamW(0.01, weight_decay=0.1)),
        ("adam_l2", lambda: Adam(0.01, weight_decay=0.1)),
        ("sgd_nesterov", lambda: SGD(0.1, momentum=0.9, nesterov=True)),
    ],
)
def test_same_trajectory_as_torch_optim(name, ours):
    """torch.optim's update rules, step by step: its trajectories from the same start and gradients, stored in
    tests/data/torch_optim.json by tools/make_torch_references.py (PyTorch is not a test dependency)."""
    np.testing.assert_array_equal(P0, TORCH["p0"])  # the stored run started where this one does
    np.testing.assert_array_equal(np.array(GRADS), TORCH["grads"])
    mine, p = ours(), P0.copy()
    for g, theirs in zip(GRADS, TORCH["cases"][name], strict=True):
        mine.step([("layer", "weights", p, g)])
        np.testing.assert_allclose(p, theirs, rtol=0, atol=1e-13)


@pytest.mark.parametrize("cls", [Adagrad, RMSprop, AdamW])
def test_defaults_are_torchs(cls):
    defaults = TORCH["defaults"][cls.__name__]
    for key, value in cls().hyperparameters().items():
        assert defaults[key] == value, (cls, key)
