"""Optimizers (SGD with momentum/Nesterov, Adagrad, RMSprop, Adam, AdamW) and learning-rate schedules.

Derived and compared in ``notebooks/11_optimizers_sgd_momentum_adam.ipynb``; used by :func:`vgglib.train.fit`.
The class names, hyperparameter names, defaults and update rules are ``torch.optim``'s.

An optimizer updates every parameter in place from its gradient: ``optimizer.step(model)`` reads
``model.parameters()`` (``Param(layer, key, value, grad)``), so float32 weights stay float32 and checkpoints and
layers keep seeing the same arrays. Its per-parameter state (momentum buffers, Adam moments) is keyed by the
parameter's name ``"<layer>.<key>"``. ``state_dict()`` holds only numpy arrays and JSON-able scalars, so
:mod:`vgglib.checkpoint` stores it in an ``.npz`` without pickle.

Update rules (g = gradient, plus ``weight_decay * p`` when weight decay is on — L2 regularisation):

* SGD:       v <- mu·v + g;  step d = g + mu·v (Nesterov) or d = v;  p <- p - lr·d   (mu = 0: p <- p - lr·g)
* Adagrad:   s <- s + g²;  p <- p - lr·g/(sqrt(s) + eps)
* RMSprop:   s <- alpha·s + (1-alpha)·g²;  d = g/(sqrt(s) + eps);  b <- mu·b + d, p <- p - lr·b  (mu = 0: p <- p - lr·d)
* Adam:      m <- b1·m + (1-b1)·g;  v <- b2·v + (1-b2)·g²;  m^ = m/(1-b1^t);  v^ = v/(1-b2^t);
             p <- p - lr·m^/(sqrt(v^) + eps)     (t = this parameter's step count, from 1)
* AdamW:     p <- p·(1 - lr·weight_decay) (decoupled weight decay: not added to g), then Adam's step

Why one module: every optimizer is a short subclass of :class:`Optimizer` sharing its checks, state handling and
in-place piecewise update; the schedules at the end are what ``fit`` sets their ``lr`` with.

The SGD form is PyTorch's (``v`` accumulates gradients, ``lr`` multiplies at the end); with a constant
learning rate it is the same trajectory as cs231n's ``v <- mu·v - lr·g; p <- p + v``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .checks import check_learning_rate, check_number
from .fast.workers import parallel_map

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "make_optimizer",
    "Schedule",
    "ConstantLR",
    "StepLR",
    "CosineLR",
    "make_schedule",
]


_CHUNK = 1 << 16  # elements per piece: an update runs on cache-sized pieces, ~2x faster for big layers


def _chunks(opt: Optimizer, p: np.ndarray, *others: np.ndarray) -> Iterator[list[np.ndarray]]:
    """Matching pieces of ``p`` and ``others`` (flat views, updated in place) plus a scratch piece.

    The scratch buffer is kept on the optimizer between steps (it is not part of its state), one per thread."""
    work = opt.__dict__.setdefault("_work", {}).setdefault(threading.get_ident(), {})
    if p.flags.c_contiguous and all(a.flags.c_contiguous for a in others) and p.size > _CHUNK:
        flats = [p.reshape(-1), *(a.reshape(-1) for a in others)]
        size = _CHUNK
    else:
        flats, size = [p, *others], None
    key = (size or p.shape, p.dtype.str)
    if key not in work:
        work[key] = np.empty(size or p.shape, dtype=p.dtype)
    tmp = work[key]
    if size is None:
        yield [*flats, tmp]
        return
    n = p.size
    for start in range(0, n, size):
        stop = min(start + size, n)
        yield [f[start:stop] for f in flats] + [tmp[: stop - start]]


class Optimizer:
    """Base class: ``step(params)`` updates parameters in place; ``state_dict()``/``load_state_dict()``.

    ``params`` is a model (anything with ``parameters()``) or an iterable of ``(layer, key, value, grad)``.
    ``lr`` may be changed between steps (the trainer's schedules do); each step checks it is a finite number > 0.
    """

    #: names of the per-parameter state arrays
    slots: tuple[str, ...] = ()

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        where = type(self).__name__
        self.lr = check_number(lr, "lr", where, 0.0, low_open=True)
        self.weight_decay = check_number(weight_decay, "weight_decay", where)
        self.state: dict[str, dict[str, np.ndarray]] = {}

    # -- the update ------------------------------------------------------------------------------------
    def step(self, params: Any) -> None:
        """Apply one update to every parameter, in place (the array objects are kept).

        Every parameter is checked before any is changed. The updates are independent of each other, so with
        the fast path on (:mod:`vgglib.fast`) they are spread over its worker threads, largest first — the
        same numbers, in about half the time on two cores.
        """
        where = f"{type(self).__name__}.step"
        check_learning_rate(self.lr, where)  # ``lr`` may have been set directly (or by a schedule)
        items = params.parameters() if hasattr(params, "parameters") else params
        jobs = []
        for item in items:
            layer, key, value, grad = item
            name = f"{layer}.{key}"
            self.check_param(name, value, where)
            if grad.shape != value.shape:
                raise ValueError(
                    f"{type(self).__name__}.step: gradient of {name} has shape {grad.shape}, "
                    f"expected the parameter's {value.shape}"
                )
            state = self.state.get(name)
            if state is None:
                state = self.state[name] = self._init_state(value)
            else:
                for slot in self.slots:
                    if state[slot].shape != value.shape:
                        raise ValueError(
                            f"{type(self).__name__}.step: state {slot!r} of {name} has shape "
                            f"{state[slot].shape}, the parameter {value.shape}"
                        )
            jobs.append((value, grad, state))
        jobs.sort(key=lambda job: -job[0].size)
        parallel_map(lambda job: self._apply(*job), jobs)

    def check_param(self, name: str, value: Any, where: str) -> None:
        """Check that this optimizer can update the parameter ``name``: a float array (of a dtype it works in)."""
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
            raise TypeError(f"{where}: parameter {name} must be a float array")

    def _apply(self, value: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        g = np.ascontiguousarray(grad, dtype=value.dtype)
        if self.weight_decay:
            g = g + self.weight_decay * value
        self._update(value, g, state)

    def _init_state(self, value: np.ndarray) -> dict[str, np.ndarray]:
        state = {slot: np.zeros_like(value) for slot in self.slots}
        state["step"] = np.zeros((), dtype=np.int64)
        return state

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # -- persistence -----------------------------------------------------------------------------------
    def hyperparameters(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able)."""
        return {"lr": self.lr, "weight_decay": self.weight_decay}

    def config(self) -> dict[str, Any]:
        return {"type": type(self).__name__, **self.hyperparameters()}

    def state_dict(self) -> dict[str, Any]:
        """``{"type", "hyper": {scalars}, "state": {param name: {slot: ndarray}}}`` — copies, no pickle needed."""
        return {
            "type": type(self).__name__,
            "hyper": self.hyperparameters(),
            "state": {name: {k: v.copy() for k, v in s.items()} for name, s in self.state.items()},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state saved by :meth:`state_dict` (checked first)."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"type", "hyper", "state"} <= set(state_dict):
            raise ValueError(f"{where}: expected a dict with 'type', 'hyper' and 'state', got {state_dict!r:.80}")
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"{where}: the state is from a {state_dict['type']} optimizer, not {type(self).__name__}")
        new_state: dict[str, dict[str, np.ndarray]] = {}
        for name, slots in state_dict["state"].items():
            missing = set(self.slots) - set(slots)
            if missing:
                raise ValueError(f"{where}: state of {name} lacks {sorted(missing)}")
            for slot, arr in slots.items():
                arr = np.asarray(arr)
                if slot == "step" and (arr.shape != () or not np.issubdtype(arr.dtype, np.integer)):
                    raise ValueError(f"{where}: step of {name} must be an integer scalar, got {arr!r}")
                if slot != "step" and not np.issubdtype(arr.dtype, np.floating):
                    raise ValueError(f"{where}: state {slot!r} of {name} must be a float array, got {arr.dtype}")
            new_state[name] = {slot: np.array(arr) for slot, arr in slots.items()}
        hyper = dict(state_dict["hyper"])
        probe = type(self)(**hyper)  # validates the values
        self.__dict__.update({k: getattr(probe, k) for k in vars(probe) if k != "state"})
        self.state = new_state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (heavy ball or Nesterov) and weight decay.

    ``v <- momentum·v + g``; ``p <- p - lr·(g + momentum·v)`` with ``nesterov=True``, else ``p <- p - lr·v``.
    """

    def __init__(
        self, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False
    ) -> None:
        super().__init__(lr, weight_decay)
        self.momentum = check_number(momentum, "momentum", "SGD", 0.0, 1.0, high_open=True)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.nesterov = bool(nesterov)
        self.slots = ("velocity",) if self.momentum else ()

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        state["step"] += 1
        if self.momentum:
            for pp, gg, v, tmp in _chunks(self, p, g, state["velocity"]):
                v *= self.momentum
                v += gg  # v = mu v + g
                if self.nesterov:
                    np.multiply(v, self.momentum, out=tmp)
                    tmp += gg  # g + mu v
                    tmp *= self.lr
                else:
                    np.multiply(v, self.lr, out=tmp)
                pp -= tmp
        else:
            for pp, gg, tmp in _chunks(self, p, g):
                np.multiply(gg, self.lr, out=tmp)
                pp -= tmp

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay, "nesterov": self.nesterov}


def _refuse_underflowing_eps(kind: str, eps: float, name: str, value: np.ndarray, where: str) -> None:
    """An ``eps`` that is 0 in the parameter's dtype (1e-8 in float16) makes ``g/(sqrt(s) + eps)`` divide by zero
    wherever a gradient is 0 or underflows: refuse it before any update."""
    if value.dtype.type(eps) == 0:
        raise ValueError(
            f"{where}: {value.dtype} parameters with {kind}: eps={eps:g} underflows to 0 in {value.dtype}, "
            f"so the update divides by zero (parameter {name}); train in float32 (model.astype(np.float32))"
        )


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011): every parameter's step divided by the root of its summed squared
    gradients, ``s <- s + g²``; ``p <- p - lr·g/(sqrt(s) + eps)`` — ``torch.optim.Adagrad`` (without ``lr_decay``).

    State per parameter: the running sum ``sum`` (the parameter's dtype, starting at ``initial_accumulator_value``)
    and the step count. The sum only grows, so every step is smaller than the last for the same gradient.
    """

    slots = ("sum",)

    def __init__(
        self, lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0.0, initial_accumulator_value: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        self.eps = check_number(eps, "eps", "Adagrad", 0.0, low_open=True)
        self.initial_accumulator_value = check_number(initial_accumulator_value, "initial_accumulator_value", "Adagrad")

    def check_param(self, name: str, value: Any, where: str) -> None:
        """As :meth:`Optimizer.check_param`; also refuses a dtype in which ``eps`` is 0 (see Adam)."""
        super().check_param(name, value, where)
        _refuse_underflowing_eps(type(self).__name__, self.eps, name, value, where)

    def _init_state(self, value: np.ndarray) -> dict[str, np.ndarray]:
        state = super()._init_state(value)
        state["sum"] += self.initial_accumulator_value
        return state

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        state["step"] += 1
        for pp, gg, s, tmp in _chunks(self, p, g, state["sum"]):
            np.multiply(gg, gg, out=tmp)
            s += tmp  # s = s + g²
            np.sqrt(s, out=tmp)
            tmp += self.eps
            np.divide(gg, tmp, out=tmp)
            tmp *= self.lr  # lr g / (sqrt(s) + eps)
            pp -= tmp

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "initial_accumulator_value": self.initial_accumulator_value,
        }


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): Adagrad with a leaky average instead of a sum, ``s <- alpha·s + (1-alpha)·g²``;
    ``p <- p - lr·g/(sqrt(s) + eps)`` — ``torch.optim.RMSprop`` (``centered=False``).

    With ``momentum`` > 0 the normalised gradient is accumulated first: ``b <- momentum·b + g/(sqrt(s) + eps)``;
    ``p <- p - lr·b``. State per parameter: ``square_avg`` (and ``momentum_buffer``) and the step count. There is
    no bias correction: ``s`` starts at 0, so the first steps are ``1/sqrt(1 - alpha)`` (10 for 0.99) times larger
    than ``lr·sign(g)`` — Adam's correction removes exactly that.
    """

    def __init__(
        self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        self.alpha = check_number(alpha, "alpha", "RMSprop", 0.0, 1.0, high_open=True)
        self.eps = check_number(eps, "eps", "RMSprop", 0.0, low_open=True)
        self.momentum = check_number(momentum, "momentum", "RMSprop", 0.0, 1.0, high_open=True)
        self.slots = ("square_avg", "momentum_buffer") if self.momentum else ("square_avg",)

    def check_param(self, name: str, value: Any, where: str) -> None:
        """As :meth:`Optimizer.check_param`; also refuses a dtype in which ``eps`` is 0 (see Adam)."""
        super().check_param(name, value, where)
        _refuse_underflowing_eps(type(self).__name__, self.eps, name, value, where)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        state["step"] += 1
        a = self.alpha
        pieces = (state["square_avg"], state["momentum_buffer"]) if self.momentum else (state["square_avg"],)
        for pp, gg, s, *rest in _chunks(self, p, g, *pieces):
            tmp = rest[-1]
            s *= a
            np.multiply(gg, gg, out=tmp)
            tmp *= 1 - a
            s += tmp  # s = alpha s + (1 - alpha) g²
            np.sqrt(s, out=tmp)
            tmp += self.eps
            np.divide(gg, tmp, out=tmp)  # g / (sqrt(s) + eps)
            if self.momentum:
                b = rest[0]
                b *= self.momentum
                b += tmp  # b = mu b + g / (sqrt(s) + eps)
                np.multiply(b, self.lr, out=tmp)
            else:
                tmp *= self.lr
            pp -= tmp

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "alpha": self.alpha,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "momentum": self.momentum,
        }


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; ``weight_decay`` adds ``weight_decay·p`` to the gradient.

    State per parameter: first moment ``m``, second moment ``v`` (the parameter's dtype) and its step count.
    """

    slots = ("m", "v")

    def __init__(
        self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            check_number(betas[0], "betas[0]", "Adam", 0.0, 1.0, high_open=True),
            check_number(betas[1], "betas[1]", "Adam", 0.0, 1.0, high_open=True),
        )
        self.eps = check_number(eps, "eps", "Adam", 0.0, low_open=True)

    def check_param(self, name: str, value: Any, where: str) -> None:
        """As :meth:`Optimizer.check_param`; also refuses a dtype in which ``eps`` is 0 (float16 for the default
        1e-8): ``sqrt(v^) + eps`` would then be 0 wherever a gradient is 0 or underflows, and the step inf/NaN."""
        super().check_param(name, value, where)
        if value.dtype.type(self.eps) == 0:
            raise ValueError(
                f"{where}: {value.dtype} parameters with Adam: eps={self.eps:g} underflows to 0 in {value.dtype}, "
                f"so the update divides by zero (parameter {name}); train in float32 (model.astype(np.float32))"
            )

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        b1, b2 = self.betas
        state["step"] += 1
        t = int(state["step"])
        c2, c1 = 1 / math.sqrt(1 - b2**t), self.lr / (1 - b1**t)
        for pp, gg, m, v, tmp in _chunks(self, p, g, state["m"], state["v"]):
            m *= b1
            np.multiply(gg, 1 - b1, out=tmp)
            m += tmp  # m = b1 m + (1 - b1) g
            v *= b2
            np.multiply(gg, gg, out=tmp)
            tmp *= 1 - b2
            v += tmp  # v = b2 v + (1 - b2) g²
            np.sqrt(v, out=tmp)
            tmp *= c2
            tmp += self.eps  # sqrt(v^) + eps
            np.divide(m, tmp, out=tmp)
            tmp *= c1  # lr m^ / (sqrt(v^) + eps)
            pp -= tmp

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019) — ``torch.optim.AdamW``.

    ``p <- p·(1 - lr·weight_decay)``, then Adam's step computed from the gradient alone. Adam's own
    ``weight_decay`` adds ``weight_decay·p`` to the gradient (L2 regularisation), which the division by
    ``sqrt(v^)`` then rescales per parameter: weights with large gradients are barely decayed, weights with tiny
    ones are pulled to 0 at ``lr`` per step. Here every weight shrinks by the same factor per step. The default
    ``weight_decay`` is torch's, 0.01.
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay)

    def _apply(self, value: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        g = np.ascontiguousarray(grad, dtype=value.dtype)  # the gradient alone: no weight_decay·p added
        if self.weight_decay:
            value *= 1 - self.lr * self.weight_decay  # decoupled: p <- p (1 - lr wd), in place
        self._update(value, g, state)


def make_optimizer(name: str, lr: float | None = None, **kwargs: Any) -> Optimizer:
    """``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"`` or ``"adamw"`` by name (the CLI's ``--optimizer``);
    ``lr`` None keeps the class default."""
    classes: dict[str, type[Optimizer]] = {
        "sgd": SGD,
        "adagrad": Adagrad,
        "rmsprop": RMSprop,
        "adam": Adam,
        "adamw": AdamW,
    }
    if name.lower() not in classes:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(classes)}")
    if lr is not None:
        kwargs["lr"] = lr
    return classes[name.lower()](**kwargs)


# ---------------------------------------------------------------------------------------------------------
# learning-rate schedules
# ---------------------------------------------------------------------------------------------------------
class Schedule:
    """A learning rate as a function of training progress: ``schedule(epoch, total_epochs) -> lr``.

    ``epoch`` is a float: 2.5 means half-way through the third epoch. :func:`vgglib.train.fit` sets
    ``optimizer.lr = schedule(epoch, epochs)`` before every batch.
    """

    def __call__(self, epoch: float, total_epochs: float) -> float:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"type": type(self).__name__, **{k: v for k, v in vars(self).items()}}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


class ConstantLR(Schedule):
    """``lr`` throughout."""

    def __init__(self, lr: float) -> None:
        self.lr = check_number(lr, "lr", "ConstantLR", 0.0, low_open=True)

    def __call__(self, epoch: float, total_epochs: float) -> float:
        return self.lr


class StepLR(Schedule):
    """``lr · gamma^floor(epoch / step_size)``: multiply by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, lr: float, step_size: float, gamma: float = 0.1) -> None:
        self.lr = check_number(lr, "lr", "StepLR", 0.0, low_open=True)
        self.step_size = check_number(step_size, "step_size", "StepLR", 0.0, low_open=True)
        self.gamma = check_number(gamma, "gamma", "StepLR", 0.0, low_open=True)

    def __call__(self, epoch: float, total_epochs: float) -> float:
        return self.lr * self.gamma ** math.floor(epoch / self.step_size + 1e-9)


class CosineLR(Schedule):
    """Cosine annealing from ``lr`` to ``min_lr`` over the run, after an optional linear warm-up.

    For ``epoch < warmup_epochs``: ``lr · (0.1 + 0.9·epoch/warmup_epochs)``; then, with
    ``u = (epoch - warmup) / (total - warmup)``: ``min_lr + (lr - min_lr)·(1 + cos(π·u))/2``.
    """

    def __init__(self, lr: float, min_lr: float = 0.0, warmup_epochs: float = 0.0) -> None:
        self.lr = check_number(lr, "lr", "CosineLR", 0.0, low_open=True)
        self.min_lr = check_number(min_lr, "min_lr", "CosineLR", 0.0, self.lr)
        self.warmup_epochs = check_number(warmup_epochs, "warmup_epochs", "CosineLR")

    def __call__(self, epoch: float, total_epochs: float) -> float:
        if epoch < self.warmup_epochs:
            return self.lr * (0.1 + 0.9 * epoch / self.warmup_epochs)
        span = max(total_epochs - self.warmup_epochs, 1e-12)
        u = min(max((epoch - self.warmup_epochs) / span, 0.0), 1.0)
        return self.min_lr + (self.lr - self.min_lr) * (1 + math.cos(math.pi * u)) / 2


def make_schedule(name: str, lr: float, **kwargs: Any) -> Schedule:
    """``"constant"``, ``"step"`` or ``"cosine"`` by name, starting at ``lr`` (the CLI's ``--schedule``)."""
    classes = {"constant": ConstantLR, "step": StepLR, "cosine": CosineLR}
    if name not in classes:
        raise ValueError(f"unknown schedule {name!r}; expected one of {sorted(classes)}")
    return classes[name](lr, **kwargs)
