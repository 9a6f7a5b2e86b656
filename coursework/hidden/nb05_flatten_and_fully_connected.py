"""Hidden tests for notebooks/05_flatten_and_fully_connected.ipynb: exercise 3, ``linear_backward(x, W, dy)`` with
PyTorch's layout (W of shape (M, D), ``y = x @ W.T + b``), returning ``(dx, dW, db)``.

The self-check (public) tries four small cases (one square W, a batch of one, one float32); these try a VGG-like
float32 layer against vgglib's ``FullyConnected`` (which stores the transpose), one input and one output, a batch
as large as both sides of a square W (so no shape tells the axes apart) and numerical gradients.
"""

import numpy as np

from vgglib import FullyConnected
from vgglib.coursework import assert_close, call, hidden_test
from vgglib.gradcheck import numerical_gradient

CHECK = "check_linear_backward"


def _triple(linear_backward, x, w, dy, where):
    out = call(linear_backward, x, w, dy, where=where)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise AssertionError(f"return the triple (dx, dW, db) ({where})")
    return out


def _layer_gradients(x, w, dy):
    """vgglib's FullyConnected holding Wᵀ (it stores (D, M)): dx, and dW, db turned back into W's layout."""
    layer = FullyConnected(w.shape[1], w.shape[0], dtype=x.dtype)
    layer.params["weights"][...] = w.T
    layer.forward(x)
    dx = layer.backward(dy)
    return dx, layer.grads["weights"].T, layer.grads["bias"]


def _against_the_layer(linear_backward, n, d, m, seed, dtype=np.float64, rtol=1e-7, atol=1e-9):
    rng = np.random.default_rng(seed)
    x, w, dy = (rng.standard_normal(shape).astype(dtype) for shape in ((n, d), (m, d), (n, m)))
    where = f"x ({n}, {d}), W ({m}, {d}), dy ({n}, {m}) {np.dtype(dtype).name}"
    out = _triple(linear_backward, x, w, dy, where)
    for what, got, want in zip(("dx", "dW", "db"), out, _layer_gradients(x, w, dy)):
        assert_close(got, want, where, what=what, rtol=rtol, atol=atol)


@hidden_test(CHECK)
def float32_vgg_like_layer_against_fully_connected(linear_backward):
    """float32, a batch of 16 through a 512 -> 10 layer (like VGG16's last one at a small width): vgglib's
    FullyConnected with the transposed weights."""
    _against_the_layer(linear_backward, 16, 512, 10, seed=505, dtype=np.float32, rtol=1e-4, atol=1e-4)


@hidden_test(CHECK)
def one_input_one_output_and_a_batch_of_one(linear_backward):
    """A single output (M = 1: db has shape (1,)), a single input (D = 1), and a batch of one with both."""
    _against_the_layer(linear_backward, 6, 4, 1, seed=5051)
    _against_the_layer(linear_backward, 5, 1, 3, seed=5052)
    _against_the_layer(linear_backward, 1, 1, 1, seed=5053)


@hidden_test(CHECK)
def batch_as_large_as_a_square_weight_matrix(linear_backward):
    """N = D = M = 5: every gradient has the same shape whichever way the axes go, so only the values tell."""
    _against_the_layer(linear_backward, 5, 5, 5, seed=5054)


@hidden_test(CHECK)
def numerical_gradients(linear_backward):
    """dx, dW and db equal numerical gradients of L = sum((x @ W.T + b) * dy), for x (3, 7) and W (4, 7)."""
    rng = np.random.default_rng(5055)
    x, w, b, dy = (rng.standard_normal(shape) for shape in ((3, 7), (4, 7), (4,), (3, 4)))

    def loss():
        return float(((x @ w.T + b) * dy).sum())

    numeric = [numerical_gradient(loss, a, eps=1e-5) for a in (x, w, b)]
    where = "x (3, 7), W (4, 7), dy (3, 4), compared with numerical gradients"
    out = _triple(linear_backward, x, w, dy, where)
    for what, got, want in zip(("dx", "dW", "db"), out, numeric):
        assert_close(got, want, where, what=what, rtol=1e-6, atol=1e-8)
