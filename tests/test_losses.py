import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vgglib.gradcheck import numerical_gradient, relative_error
from vgglib.losses import cross_entropy, log_softmax, softmax, softmax_cross_entropy


def test_seed_softmax_example():
    np.testing.assert_allclose(softmax(np.array([2.33, -1.46, 0.56])), [0.83827314, 0.01894129, 0.14278557], atol=5e-9)


def test_uniform_logits_give_ln10():
    loss, dlogits = softmax_cross_entropy(np.zeros((8, 10)), np.arange(8))
    assert abs(loss - np.log(10)) < 1e-12
    np.testing.assert_allclose(dlogits.sum(axis=1), 0, atol=1e-15)


def test_stable_for_huge_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    p = softmax(logits)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p[0], [1, 0, 0])
    np.testing.assert_allclose(p[1], [1 / 3] * 3)
    loss, d = softmax_cross_entropy(logits, [1, 0])
    assert np.isfinite(loss) and np.all(np.isfinite(d))
    assert abs(loss - (2000 + np.log(3)) / 2) < 1e-9
    assert np.all(np.isfinite(log_softmax(logits)))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 12), st.integers(0, 2**16), st.booleans())
def test_softmax_cross_entropy_gradient(n, c, seed, one_hot):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * 3
    labels = rng.integers(0, c, n)
    if one_hot:
        labels = np.eye(c)[labels]
    loss, d = softmax_cross_entropy(logits, labels)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(logits, labels)[0], logits)
    assert relative_error(d, numeric) < 1e-7
    assert abs(loss - cross_entropy(softmax(logits), labels)) < 1e-9


def test_gradient_is_p_minus_y_over_n():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    _, d = softmax_cross_entropy(logits, [2, 0])
    expected = (softmax(logits) - np.eye(3)[[2, 0]]) / 2
    np.testing.assert_allclose(d, expected)


def test_float32_logits_keep_dtype():
    _, d = softmax_cross_entropy(np.zeros((2, 10), np.float32), [0, 1])
    assert d.dtype == np.float32


def test_cross_entropy_of_probabilities_with_exact_zeros():
    # A saturated (float32) softmax gives probabilities of exactly 0: 0·log 0 must count as 0, and the log of the
    # true class's 0 must stay finite (eps guards it), not become inf or nan.
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert cross_entropy(p, [0, 1]) == 0.0
    loss = cross_entropy(p, [1, 1])
    assert np.isfinite(loss) and abs(loss - (-np.log(1e-12) / 2)) < 1e-9
