"""vgglib.checkpoint: npz round trip, no pickle ever, atomic writes, checks before touching the model."""

import os
import pickle
import zipfile

import numpy as np
import pytest

from vgglib import checkpoint
from vgglib.checkpoint import CheckpointError, CheckpointMismatchError
from vgglib.layers import Convolution2D, Flatten, FullyConnected, ReLU
from vgglib.model import VGG16, Sequential
from vgglib.optim import SGD, Adam


def small_vgg(seed=0, **kw):
    return VGG16(input_size=32, width=1 / 16, rng=np.random.default_rng(seed), **kw)


def weights(model):
    return {p.name: p.value.copy() for p in model.parameters()}


def trained_adam(model):
    opt = Adam(2e-3)
    for p in model.parameters():
        p.grad[...] = 0.1
    opt.step(model)
    return opt


class MakesAFile:
    """A pickle payload that would create ``path`` when unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_round_trip_weights_meta_optimizer_and_arrays(tmp_path):
    model = small_vgg()
    opt = trained_adam(model)
    path = checkpoint.save(
        tmp_path / "ck.npz", model, opt, meta={"epoch": 3, "note": "hi", "xs": [1.5, 2]}, arrays={"perm": np.arange(10)}
    )
    assert path == tmp_path / "ck.npz" and path.is_file()
    other = small_vgg(seed=1)
    opt2 = Adam(1.0)
    ck = checkpoint.load(path, other, opt2)
    assert ck.model is other and ck.meta == {"epoch": 3, "note": "hi", "xs": [1.5, 2]}
    assert all(np.array_equal(a, b) for a, b in zip(weights(model).values(), weights(other).values()))
    assert all(p.value.dtype == np.float32 for p in other.parameters())
    assert opt2.lr == 2e-3 and opt2.state.keys() == opt.state.keys()
    for name, slots in opt.state.items():
        for slot, arr in slots.items():
            assert np.array_equal(opt2.state[name][slot], arr)
    assert np.array_equal(ck.arrays["perm"], np.arange(10))


def test_the_file_is_a_plain_npz_without_pickles(tmp_path):
    model = small_vgg()
    path = checkpoint.save(tmp_path / "ck.npz", model, trained_adam(model))
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert "param/conv1_1.weights.npy" in names and "__header__.npy" in names
    with np.load(path, allow_pickle=False) as npz:  # every entry loads without pickle
        arrays = {k: npz[k] for k in npz.files}
    assert all(a.dtype != object for a in arrays.values())
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]  # no temp file left behind


def test_load_without_a_model_rebuilds_the_architecture(tmp_path):
    vgg = small_vgg(dropout=0.3)
    checkpoint.save(tmp_path / "v.npz", vgg)
    ck = checkpoint.load(tmp_path / "v.npz")
    assert isinstance(ck.model, VGG16) and ck.model.config() == vgg.config()
    assert all(np.array_equal(a, b) for a, b in zip(weights(vgg).values(), weights(ck.model).values()))
    rng = np.random.default_rng(0)
    seq = Sequential(
        [Convolution2D(1, 2, 3, rng=rng), ReLU(), Flatten(), FullyConnected(2 * 4 * 4, 3, rng=rng)],
        input_shape=(1, 6, 6),
    ).astype(np.float64)
    checkpoint.save(tmp_path / "s.npz", seq)
    again = checkpoint.load(tmp_path / "s.npz").model
    assert again.config() == seq.config() and again.dtype == np.float64
    assert all(np.array_equal(a, b) for a, b in zip(weights(seq).values(), weights(again).values()))


def test_mismatch_lists_the_differences_and_leaves_the_model_unchanged(tmp_path):
    checkpoint.save(tmp_path / "narrow.npz", small_vgg())
    wide = VGG16(input_size=32, width=1 / 8)
    before = weights(wide)
    with pytest.raises(CheckpointMismatchError) as err:
        checkpoint.load(tmp_path / "narrow.npz", wide)
    msg = str(err.value)
    assert "width = 0.0625 in the checkpoint, 0.125 in the model" in msg
    assert "parameter conv1_1.weights: shape (4, 1, 3, 3) in the checkpoint, (8, 1, 3, 3) in the model" in msg
    assert "unchanged" in msg
    assert all(np.array_equal(before[k], v) for k, v in weights(wide).items())


def test_non_strict_load_still_checks_names_and_shapes(tmp_path):
    checkpoint.save(tmp_path / "a.npz", small_vgg(dropout=0.5))
    other = small_vgg(seed=2, dropout=0.1)
    with pytest.raises(CheckpointMismatchError, match="dropout"):
        checkpoint.load(tmp_path / "a.npz", other)
    checkpoint.load(tmp_path / "a.npz", other, strict=False)  # same shapes: fine
    assert np.array_equal(other["fc1"].params["weights"], small_vgg()["fc1"].params["weights"])
    rng = np.random.default_rng(0)
    seq = Sequential([Flatten(), FullyConnected(4, 2, rng=rng, name="a")])
    checkpoint.save(tmp_path / "s.npz", seq)
    renamed = Sequential([Flatten(), FullyConnected(4, 2, rng=rng, name="b")])
    with pytest.raises(CheckpointMismatchError) as err:
        checkpoint.load(tmp_path / "s.npz", renamed, strict=False)
    assert "parameter a.weights: in the checkpoint, not in the model" in str(err.value)
    assert "parameter b.weights: in the model, not in the checkpoint" in str(err.value)


def test_optimizer_type_mismatch_changes_nothing(tmp_path):
    model = small_vgg()
    checkpoint.save(tmp_path / "ck.npz", model, trained_adam(model))
    target = small_vgg(seed=5)
    before = weights(target)
    sgd = SGD(0.1, momentum=0.9)
    with pytest.raises(CheckpointMismatchError, match="Adam state, the optimizer given is SGD"):
        checkpoint.load(tmp_path / "ck.npz", target, sgd)
    assert all(np.array_equal(before[k], v) for k, v in weights(target).items()) and sgd.state == {}


def test_a_pickle_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "weights.npz"
    path.write_bytes(pickle.dumps(MakesAFile(marker)))
    with pickle_guard(marker):
        with pytest.raises(CheckpointError, match="pickle"):
            checkpoint.load(path, small_vgg())
    assert not marker.exists()


def test_an_npz_with_pickled_object_arrays_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    model = small_vgg()
    payload = {f"param/{p.name}": p.value for p in model.parameters()}
    payload["__header__"] = np.array([MakesAFile(marker)], dtype=object)
    np.savez(path, **payload)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="pickled Python objects"):
        checkpoint.load(path, model)
    assert not marker.exists()


def test_truncated_file(tmp_path):
    model = small_vgg()
    path = checkpoint.save(tmp_path / "ck.npz", model)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="damaged or truncated"):
            checkpoint.load(bad, model)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "empty"),
        (b"hello, I am text\n", "not a zip"),
        (b"\x93NUMPY\x01\x00", ".npy"),
        (b"\x1f\x8b\x08\x00", "gzip"),
    ],
)
def test_files_that_are_not_npz(tmp_path, content, match):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        checkpoint.load(path)


def test_an_npz_that_is_not_a_checkpoint(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.arange(3))
    with pytest.raises(CheckpointError, match="not a vgglib checkpoint"):
        checkpoint.load(tmp_path / "plain.npz")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        checkpoint.load(tmp_path / "nope.npz")


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    model = small_vgg()
    path = checkpoint.save(tmp_path / "ck.npz", model)
    good = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, small_vgg(seed=3))
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]


def test_save_checks_its_inputs(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        checkpoint.save(tmp_path / "a.npz", small_vgg(), meta={"x": object()})
    with pytest.raises(TypeError, match="numeric"):
        checkpoint.save(tmp_path / "a.npz", small_vgg(), arrays={"s": np.array(["text"])})
    with pytest.raises(TypeError, match="vgglib model"):
        checkpoint.save(tmp_path / "a.npz", [1, 2])
    assert not (tmp_path / "a.npz").exists()


class pickle_guard:
    """Fail the test if anything unpickles while the block runs (belt and braces next to the marker file)."""

    def __init__(self, marker):
        self.marker = marker

    def __enter__(self):
        self._orig = pickle.loads, pickle.load
        pickle.loads = pickle.load = self._refuse
        return self

    def _refuse(self, *args, **kwargs):
        raise AssertionError("checkpoint.load called pickle")

    def __exit__(self, *exc):
        pickle.loads, pickle.load = self._orig
        return False


@pytest.mark.parametrize("saved_fast,loaded_fast", [(True, False), (False, True)])
def test_a_checkpoint_from_either_implementation_loads_into_either(tmp_path, saved_fast, loaded_fast):
    model = small_vgg(seed=3, fast=saved_fast)
    x = np.random.default_rng(4).standard_normal((2, 1, 32, 32)).astype(np.float32)
    path = checkpoint.save(tmp_path / "ck.npz", model)
    other = small_vgg(seed=5, fast=loaded_fast)
    checkpoint.load(path, other)
    assert other.fast is loaded_fast
    assert all(np.array_equal(a, b) for a, b in zip(weights(model).values(), weights(other).values()))
    np.testing.assert_allclose(other.forward(x, training=False), model.forward(x, training=False), rtol=1e-4, atol=1e-5)
    assert checkpoint.load(path).model.fast  # a model rebuilt from a file uses the fast layers
