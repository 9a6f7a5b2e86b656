"""Numerical gradients, to check every backward pass against the definition of a derivative.

Used in every layer notebook from ``notebooks/02_convolution_backprop.ipynb`` on; students reuse it to check
their own layers::

    from vgglib.gradcheck import check_layer
    errors = check_layer(Convolution2D(3, 4, 3, padding=1).astype(np.float64), x)   # x float64
    assert max(errors.values()) < 1e-7

Central differences ``(f(x + ε) - f(x - ε)) / 2ε`` have error O(ε²); in float64 with ε = 1e-6 the gradients
of the linear layers agree to ~1e-10. Kinks (ReLU at 0, pooling ties) break the check there: build inputs
away from them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .layers import Layer

__all__ = ["numerical_gradient", "relative_error", "check_layer", "below", "magnitude"]


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to array ``x`` (changed in place, restored).

    ``f`` takes no arguments and reads ``x`` itself, so it can be a closure over a layer whose parameter
    ``x`` is. Returns an array of ``x``'s shape.
    """
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"numerical_gradient: x must be a float array, got dtype {x.dtype}")
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + eps
        plus = f()
        x[idx] = old - eps
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``‖a - b‖ / (‖a‖ + ‖b‖)`` (Frobenius norms); 0 when both are zero."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def below(err: float, tol: float) -> str:
    """Assert that an error is under its tolerance and return the bound as text, e.g. ``"< 1e-12"``.

    The last digits of a tiny error depend on the machine and the numpy build, so the notebooks print the bound
    they checked rather than those digits: a correct result sits far below it, a wrong one is of order 1."""
    assert err < tol, f"error {err:.2e} is not below {tol:.0e}"
    return f"< 1e{int(round(np.log10(tol)))}"


def magnitude(err: float) -> str:
    """An error rounded to its order of magnitude (``"1e-11"``; ``"0"`` for 0): the exact digits differ from
    machine to machine."""
    return "0" if err == 0 else f"1e{int(np.round(np.log10(err)))}"


def check_layer(
    layer: Layer, x: np.ndarray, eps: float = 1e-6, seed: int = 0, training: bool = True
) -> dict[str, float]:
    """Compare ``layer.backward`` with numerical gradients; returns ``{"dx": err, "weights": err, ...}``.

    The scalar checked is ``L = Σ y · R`` for a fixed random R, so dL/dy = R. Use float64 for ``x`` and
    the layer's params (``layer.astype(np.float64)``). A layer with randomness in forward (Dropout) must
    reuse its mask: pass ``training=False`` or check it through a fixed mask yourself.
    """
    if x.dtype != np.float64 or any(p.dtype != np.float64 for p in layer.params.values()):
        raise TypeError(
            "check_layer: use float64 input and parameters (layer.astype(np.float64)); "
            "float32 rounding swamps finite differences"
        )
    x = x.copy()
    y = layer.forward(x, training)
    r = np.random.default_rng(seed).standard_normal(y.shape)

    def loss() -> float:
        return float((layer.forward(x, training) * r).sum())

    layer.forward(x, training)
    dx = layer.backward(r)
    assert dx is not None  # input_grad=True always returns dL/dx
    analytic = {"dx": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    errors = {"dx": relative_error(dx, numerical_gradient(loss, x, eps))}
    for key, param in layer.params.items():
        errors[key] = relative_error(analytic[key], numerical_gradient(loss, param, eps))
    return errors
