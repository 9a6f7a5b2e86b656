"""Hidden tests for notebooks/06_softmax_and_cross_entropy.ipynb: exercise 3, ``my_softmax_cross_entropy``.

``my_softmax_cross_entropy(logits (N, C), labels (N,)) -> (mean loss, dlogits (N, C))``. The self-check (public)
tries three small cases; these use other batch sizes and class counts, float32, huge and very negative logits,
int32 labels, compare with ``vgglib.losses.softmax_cross_entropy`` and a numerical gradient of the student's own
loss, and check the exercise's rule that ``vgglib.losses`` is not used.
"""

import math

import numpy as np

import vgglib.losses as losses
from vgglib.coursework import assert_close, call, hidden_test
from vgglib.gradcheck import numerical_gradient

CHECK = "check_softmax_cross_entropy"


def _pair(out, where):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"return a pair (loss, dlogits) ({where})")
    loss, grad = out
    try:
        loss = float(loss)
    except (TypeError, ValueError):
        raise AssertionError(f"the loss must be one number, got {type(loss).__name__} ({where})") from None
    if not math.isfinite(loss):
        raise AssertionError(f"the loss is inf or nan ({where}): does exp overflow for large logits?")
    return loss, grad


def _compare(fn, logits, labels, where, rtol=1e-7, atol=1e-10):
    loss, grad = _pair(call(fn, logits, labels, where=where), where)
    want_loss, want_grad = losses.softmax_cross_entropy(logits.astype(np.float64), labels)
    if not math.isclose(loss, want_loss, rel_tol=max(rtol, 1e-9), abs_tol=atol):
        raise AssertionError(f"the loss is wrong ({where})")
    assert_close(grad, want_grad, where, what="dlogits", rtol=rtol, atol=atol)


@hidden_test(CHECK)
def many_classes_and_a_larger_batch(my_softmax_cross_entropy):
    """64 samples of 1000 classes (ImageNet-sized), logits of scale 5, int32 labels."""
    rng = np.random.default_rng(606)
    logits = rng.standard_normal((64, 1000)) * 5
    labels = rng.integers(0, 1000, 64).astype(np.int32)
    _compare(my_softmax_cross_entropy, logits, labels, "logits (64, 1000), int32 labels")


@hidden_test(CHECK)
def huge_and_very_negative_logits(my_softmax_cross_entropy):
    """Logits of ±1e4, a row where every logit is -1e4, and a row where the true class is far below the others."""
    logits = np.array(
        [[1e4, -1e4, 0.0, 9999.5], [-1e4, -1e4, -1e4, -1e4], [500.0, 0.0, -800.0, 700.0], [3.0, 1e4, 2.0, 1.0]]
    )
    labels = np.array([3, 1, 2, 1])
    _compare(my_softmax_cross_entropy, logits, labels, "logits of ±1e4 and -800")


@hidden_test(CHECK)
def float32_logits(my_softmax_cross_entropy):
    """float32 logits of a batch of 9, 10 classes, one of them around 80 (exp overflows float32 without the shift)."""
    rng = np.random.default_rng(6061)
    logits = (rng.standard_normal((9, 10)) * 3).astype(np.float32)
    logits[2, 4] = 95.0
    labels = rng.integers(0, 10, 9)
    _compare(my_softmax_cross_entropy, logits, labels, "float32 logits (9, 10)", rtol=1e-4, atol=1e-6)


@hidden_test(CHECK)
def gradient_matches_its_own_loss(my_softmax_cross_entropy):
    """dlogits is the numerical gradient of the function's own loss (batch 4, 6 classes)."""
    rng = np.random.default_rng(6062)
    logits = rng.standard_normal((4, 6)) * 2
    labels = np.array([5, 0, 2, 2])
    where = "logits (4, 6), compared with a numerical gradient of your loss"
    _, grad = _pair(call(my_softmax_cross_entropy, logits, labels, where=where), where)
    z = logits.copy()
    numeric = numerical_gradient(lambda: float(my_softmax_cross_entropy(z.copy(), labels.copy())[0]), z, eps=1e-5)
    assert_close(grad, numeric, where, what="dlogits", rtol=1e-5, atol=1e-8)


@hidden_test(CHECK)
def does_not_use_vgglib_losses(my_softmax_cross_entropy):
    """The exercise asks for your own version: it must work with vgglib.losses' functions switched off."""
    names = ("softmax", "log_softmax", "cross_entropy", "softmax_cross_entropy", "labels_to_one_hot")
    originals = {name: getattr(losses, name) for name in names}

    def refuse(*args, **kwargs):
        raise RuntimeError("vgglib.losses is switched off for this test")

    namespace = getattr(my_softmax_cross_entropy, "__globals__", {})
    bound = {key: value for key, value in namespace.items() if any(value is f for f in originals.values())}
    rng = np.random.default_rng(6063)
    logits, labels = rng.standard_normal((5, 7)), rng.integers(0, 7, 5)
    try:
        for name in names:
            setattr(losses, name, refuse)
        namespace.update({key: refuse for key in bound})
        try:
            out = my_softmax_cross_entropy(logits.copy(), labels.copy())
        except NotImplementedError:
            raise AssertionError("not implemented yet: replace the `raise NotImplementedError` line") from None
        except RuntimeError as err:
            if "switched off" in str(err):
                raise AssertionError("it calls vgglib.losses; the exercise asks for your own computation") from None
            raise AssertionError(f"your function raised RuntimeError: {err}") from None
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            raise AssertionError(f"your function raised {type(err).__name__}: {err}") from None
    finally:
        for name, f in originals.items():
            setattr(losses, name, f)
        namespace.update(bound)
    _pair(out, "logits (5, 7)")
