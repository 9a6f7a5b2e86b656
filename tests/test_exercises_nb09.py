"""The self-check of notebook 09's early-stopping exercise decides as ``fit`` does: a callback that returns True
(Python's, or numpy's ``np.True_`` from a comparison with a numpy number) stops training."""

import numpy as np

from vgglib import exercises as ex
from vgglib.exercises import ExerciseResult


def test_early_stopping_accepts_a_python_bool_built_from_numpy():
    def right(patience):
        def callback(history):
            acc = history["val_accuracy"]
            return bool(len(acc) - 1 - np.argmax(acc) >= patience)

        return callback

    result = ex.check_early_stopping(right)
    assert isinstance(result, ExerciseResult) and result.correct, repr(result)


def test_early_stopping_accepts_a_numpy_bool():
    def numpy_bool(patience):
        def callback(history):
            acc = history["val_accuracy"]
            return len(acc) - 1 - np.argmax(acc) >= patience  # np.argmax -> np.int64 -> np.bool_

        return callback

    result = ex.check_early_stopping(numpy_bool)
    assert result.correct, repr(result)


def test_fit_stops_on_python_or_numpy_true_only():
    # a truthy value that is not a bool (a number, a list) does not stop training: only True does
    import vgglib
    from vgglib.train import fit

    model = vgglib.Sequential(
        [vgglib.Flatten(), vgglib.FullyConnected(4, 2, rng=np.random.default_rng(0))], input_shape=(1, 2, 2)
    )
    X = np.random.default_rng(1).standard_normal((8, 1, 2, 2)).astype(np.float32)
    y = np.arange(8) % 2
    runs = {}
    for kind, value in (("numpy", np.True_), ("python", True), ("one", 1), ("numpy false", np.False_)):
        history = fit(
            model, (X, y), epochs=3, batch_size=4, callbacks=[lambda h, v=value: v], progress=False, verbose=False
        )
        runs[kind] = len(history["epoch"])
    assert runs == {"numpy": 1, "python": 1, "one": 3, "numpy false": 3}
