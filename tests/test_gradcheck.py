import numpy as np
import pytest

from vgglib.gradcheck import check_layer, numerical_gradient, relative_error
from vgglib.layers import FullyConnected, Layer


def test_numerical_gradient_of_known_function():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda: float((x**3).sum()), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0
    assert relative_error(np.ones(3), np.ones(3)) == 0
    assert abs(relative_error(np.array([1.0]), np.array([3.0])) - 0.5) < 1e-15
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.ones(2), np.ones(3))


class BrokenFC(FullyConnected):
    """The seed-style bug: dW transposed and dx forgetting W."""

    def _backward(self, dy):
        super()._backward(dy)
        self.grads["weights"] = self.grads["weights"] * 0.5
        return dy @ np.ones_like(self.params["weights"]).T


def test_check_layer_catches_a_wrong_backward():
    rng = np.random.default_rng(0)
    good = FullyConnected(4, 3, rng=rng).astype(np.float64)
    x = rng.standard_normal((2, 4))
    assert max(check_layer(good, x).values()) < 1e-8
    bad = BrokenFC(4, 3, rng=rng).astype(np.float64)
    errors = check_layer(bad, x)
    assert errors["weights"] > 0.1 and errors["dx"] > 0.1 and errors["bias"] < 1e-8


def test_check_layer_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        check_layer(FullyConnected(2, 2), np.ones((1, 2)))
    with pytest.raises(TypeError, match="float array"):
        numerical_gradient(lambda: 0.0, np.ones(2, dtype=int))
    assert issubclass(FullyConnected, Layer)


def test_below_and_magnitude_report_errors_without_machine_dependent_digits():
    from vgglib.gradcheck import below, magnitude

    assert below(3.2e-13, 1e-12) == "< 1e-12" and below(0.0, 1e-7) == "< 1e-7"
    with pytest.raises(AssertionError, match="not below"):
        below(2e-12, 1e-12)
    assert magnitude(0.0) == "0" and magnitude(2e-11) == "1e-11" and magnitude(7e-11) == "1e-10"
