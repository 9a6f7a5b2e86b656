"""vgglib.checkpoint against hostile and damaged files: bounded memory and time, one CheckpointError for every
malformed file, and no leftover temporary files from killed saves.

The files are built here byte by byte (a small hand-written zip writer): zip bombs, forged .npy shapes, members
without the .npy magic, flipped compressed bytes, malformed headers and trainer state, huge architectures, and a
fuzz of byte flips, truncations and member swaps of a real checkpoint.
"""

import io
import json
import os
import random
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from vgglib import checkpoint, checkpoint_format, mnist
from vgglib.__main__ import main
from vgglib.checkpoint import CheckpointError
from vgglib.layers import Avgpooling2D, Convolution2D, Dropout, Flatten, FullyConnected, Maxpooling2D, ReLU
from vgglib.model import _LAYER_TYPES, VGG16, Sequential, layer_from_config
from vgglib.optim import Adam
from vgglib.summarize import summary
from vgglib.train import Callback, fit

ROOT = Path(__file__).resolve().parents[1]
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX: resource limits, signals, process ids")
X_ALL, Y_ALL = mnist.load_mnist("train")
X, Y = X_ALL[:48], Y_ALL[:48]


def tiny(seed=0):
    return VGG16(input_size=32, width=1 / 16, rng=np.random.default_rng(seed))


# ---------------------------------------------------------------------------------------------------------
# building zips by hand
# ---------------------------------------------------------------------------------------------------------
def zip_bytes(entries):
    """A zip archive of ``[name, raw, method, crc, size]`` entries (raw: the stored or deflated bytes), no checks."""
    out, central = bytearray(), bytearray()
    for name, raw, method, crc, size in entries:
        n = name.encode("utf-8")
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(raw), size, len(n), 0)
        out += n + raw
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(raw), size, len(n), 0, 0, 0, 0, 0, offset
        )
        central += n
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + eocd)


def raw_entries(data):
    """The entries of zip ``data`` as ``[name, raw, method, crc, size]`` (raw bytes as stored in the file)."""
    entries = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            off = info.header_offset
            nlen, elen = struct.unpack("<2H", data[off + 26 : off + 30])
            start = off + 30 + nlen + elen
            entries.append(
                [info.filename, data[start : start + info.compress_size], info.compress_type, info.CRC, info.file_size]
            )
    return entries


def stored(name, payload):
    return [name, payload, zipfile.ZIP_STORED, zlib.crc32(payload), len(payload)]


def deflated(name, payload):
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return [name, comp.compress(payload) + comp.flush(), zipfile.ZIP_DEFLATED, zlib.crc32(payload), len(payload)]


def npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def npy_header(shape, descr="<f4"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def member(data, name):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)


def header_of(data):
    return json.loads(np.load(io.BytesIO(member(data, "__header__.npy"))).tobytes())


def with_header(data, edit):
    """``data`` with its JSON header replaced by ``edit(header)`` (a dict, or raw text/bytes), CRCs made valid."""
    header = header_of(data)
    new = edit(header)
    new = header if new is None else new
    text = new if isinstance(new, bytes) else new.encode() if isinstance(new, str) else json.dumps(new).encode()
    entries = [
        stored("__header__.npy", npy(np.frombuffer(text, dtype=np.uint8))) if e[0] == "__header__.npy" else e
        for e in raw_entries(data)
    ]
    return zip_bytes(entries)


def replace_member(data, name, entry):
    return zip_bytes([entry if e[0] == name else e for e in raw_entries(data)])


def deflated_zeros(prefix, n_zeros):
    """``prefix`` + ``n_zeros`` zero bytes as a raw deflate stream, made without compressing them all: after a
    full flush the compressor starts afresh, so every further 1 MiB of zeros compresses to the same bytes."""
    chunk = bytes(1 << 20)
    assert n_zeros % len(chunk) == 0 and n_zeros >= 3 * len(chunk)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    blocks = [comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH) for _ in range(2)]
    assert blocks[0] == blocks[1]
    tail = comp.compress(chunk) + comp.flush()
    raw = head + blocks[0] * (n_zeros // len(chunk) - 1) + tail
    check = zlib.decompressobj(-15).decompress(raw[: len(head) + 3 * len(blocks[0])], 1 << 24)
    assert check[: len(prefix)] == prefix and not any(check[len(prefix) :])  # it does inflate to the zeros
    crc = zlib.crc32(prefix)
    view = memoryview(chunk)
    for _ in range(n_zeros // len(chunk)):
        crc = zlib.crc32(view, crc)
    return raw, crc


def run_limited(paths, limit_bytes=3 * 2**29):
    """Load each path in a fresh process limited to ``limit_bytes`` of address space (1.5 GiB): returns
    ``{path: (exception type, message, seconds)}`` and the process's peak RSS in bytes."""
    script = textwrap.dedent(
        f"""
        import json, resource, sys, time
        resource.setrlimit(resource.RLIMIT_AS, ({limit_bytes}, {limit_bytes}))
        from vgglib import checkpoint
        out = {{}}
        for p in sys.argv[1:]:
            t = time.perf_counter()
            try:
                checkpoint.load(p)
                out[p] = ["loaded", ""]
            except BaseException as e:
                out[p] = [type(e).__name__, str(e)]
            out[p].append(time.perf_counter() - t)
        # VmHWM: this process image's own peak (ru_maxrss keeps the peak of the forked pytest process across exec)
        status = open("/proc/self/status").read().split("\\n")
        hwm = [int(line.split()[1]) for line in status if line.startswith("VmHWM:")]
        peak = hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"results": out, "maxrss_kb": peak}}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["MKL_NUM_THREADS"] = "1"
    r = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    return result["results"], result["maxrss_kb"] * 1024


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """A real checkpoint of a tiny VGG16 with Adam state (bytes)."""
    model = tiny()
    opt = Adam(2e-3)
    for p in model.parameters():
        p.grad[...] = 0.1
    opt.step(model)
    path = checkpoint.save(tmp_path_factory.mktemp("ck") / "small.npz", model, opt, meta={"note": "hi"})
    return path.read_bytes()


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory):
    """A checkpoint written by fit mid-epoch: Adam state, trainer state (generators, history) and the order."""

    class StopAt(Callback):
        def on_batch_end(self, history):
            return history["position"] == {"epoch": 2, "batch": 1, "batches": 3}

    path = tmp_path_factory.mktemp("fit") / "run.npz"
    fit(tiny(), (X, Y), epochs=2, batch_size=16, optimizer=Adam(2e-3), checkpoint=path, seed=1, callbacks=[StopAt()],
        progress=False, verbose=False)  # fmt: skip
    data = path.read_bytes()
    assert header_of(data)["meta"]["trainer"]["batch"] == 1
    return data


def write(tmp_path, data, name="bad.npz"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path, match=None, **kw):
    t = time.perf_counter()
    with pytest.raises(CheckpointError) as err:
        checkpoint.load(path, **kw)
    assert time.perf_counter() - t < 5
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    if match is not None:
        assert match in msg, msg
    return msg


# ---------------------------------------------------------------------------------------------------------
# 1. zip bombs and huge declared shapes: refused before reading, in bounded memory and time
# ---------------------------------------------------------------------------------------------------------
def test_members_the_header_does_not_describe_are_refused_by_name(tmp_path, small_file):
    entries = raw_entries(small_file)
    extra = zip_bytes(entries + [stored("notes.txt", b"hello"), stored("extra/sneaky.npy", npy(np.arange(3)))])
    msg = refused(write(tmp_path, extra), "the zip holds entries the header does not describe")
    assert "'extra/sneaky.npy', 'notes.txt'" in msg
    dropped = zip_bytes([e for e in entries if e[0] != "param/fc2.bias.npy"])
    refused(write(tmp_path, dropped), "entry 'param/fc2.bias' is listed in the header but missing")
    twice = zip_bytes(entries + [e for e in entries if e[0] == "param/fc2.bias.npy"])
    refused(write(tmp_path, twice), "the zip lists entry 'param/fc2.bias.npy' twice")


@posix
def test_a_zip_bomb_and_forged_shapes_are_refused_fast_in_bounded_memory(tmp_path, small_file):
    entries = raw_entries(small_file)
    prefix = npy_header((10,))  # the .npy header of fc3.bias, then 2 GiB of zeros: 2 MB deflated
    bomb, crc = deflated_zeros(prefix, 2**31)
    bomb_extra = zip_bytes(entries + [["bomb.npy", bomb, zipfile.ZIP_DEFLATED, crc, len(prefix) + 2**31]])
    assert len(bomb) < 2.2e6  # the 2 GiB member takes 2.1 MB
    # the same bomb as a member the header lists (its .npy header even matches the header's shape)
    entry = ["param/fc3.bias.npy", bomb, zipfile.ZIP_DEFLATED, crc, len(prefix) + 2**31]
    bomb_known = replace_member(small_file, "param/fc3.bias.npy", entry)
    # .npy headers claiming 4 TiB: for a parameter, and for an extra array the header lists
    huge = npy_header((2**20, 2**20)) + b"\0" * 64
    forged_param = replace_member(small_file, "param/fc1.weights.npy", stored("param/fc1.weights.npy", huge))
    with_extra = with_header(small_file, lambda h: {**{k: v for k, v in h.items() if k != "crc32"}, "arrays": ["big"]})
    forged_extra = zip_bytes(raw_entries(with_extra) + [stored("extra/big.npy", huge)])
    # ... and the declared size of a member (ZipInfo.file_size) larger than what its .npy header describes
    e = next(e for e in entries if e[0] == "param/fc3.weights.npy")
    oversize = replace_member(small_file, e[0], [e[0], e[1], e[2], e[3], 2**32 - 2])
    paths = {
        name: write(tmp_path, data, f"{name}.npz")
        for name, data in [
            ("bomb_extra", bomb_extra),
            ("bomb_known", bomb_known),
            ("forged_param", forged_param),
            ("forged_extra", forged_extra),
            ("oversize", oversize),
        ]
    }
    results, maxrss = run_limited(list(paths.values()))
    expected = {
        "bomb_extra": "the zip holds entries the header does not describe: 'bomb.npy'",
        "bomb_known": "entry 'param/fc3.bias' declares 2,147,483,776 bytes, but its .npy header describes 168",
        "forged_param": "entry 'param/fc1.weights' has shape (1048576, 1048576), the header says (32, 256)",
        "forged_extra": "entry 'extra/big' has shape (1048576, 1048576): the extra arrays hold more values than",
        "oversize": "entry 'param/fc3.weights' declares 4,294,967,294 bytes, but its .npy header describes 10,368",
    }
    for name, path in paths.items():
        kind, msg, seconds = results[str(path)]
        assert kind == "CheckpointError" and expected[name] in msg and str(path) in msg, (name, kind, msg)
        assert seconds < 2, (name, seconds)
    assert maxrss < 600 * 2**20  # numpy and vgglib themselves: well under the 1.5 GiB limit


# ---------------------------------------------------------------------------------------------------------
# 2. one error type, one line, for every malformed file
# ---------------------------------------------------------------------------------------------------------
def test_a_member_without_the_npy_magic(tmp_path, small_file):
    data = replace_member(small_file, "param/conv1_1.bias.npy", stored("param/conv1_1.bias.npy", b"just text"))
    refused(write(tmp_path, data), "entry 'param/conv1_1.bias' is not a .npy array (it lacks the .npy magic bytes)")
    bad_header = replace_member(small_file, "__header__.npy", stored("__header__.npy", b'{"format": 1}'))
    refused(write(tmp_path, bad_header), "entry '__header__' is not a .npy array")
    text = npy(np.arange(4.0, dtype=np.float32)).replace(b"'descr': '<f4'", b"'descr': 'zz'")
    data = replace_member(small_file, "param/conv1_1.bias.npy", stored("param/conv1_1.bias.npy", text))
    refused(write(tmp_path, data), "entry 'param/conv1_1.bias' has a malformed .npy header")


def test_flipped_bytes_inside_a_compressed_member(tmp_path, small_file):
    entries = [deflated(e[0], member(small_file, e[0])) for e in raw_entries(small_file)]
    data = zip_bytes(entries)
    ck = checkpoint.load(write(tmp_path, data, "compressed.npz"))  # np.savez_compressed-style files load
    assert ck.meta == {"note": "hi"}
    start = data.index(b"param/conv3_1.weights.npy") + len("param/conv3_1.weights.npy")
    rng = random.Random(0)
    for _ in range(40):
        bad = bytearray(data)
        bad[start + rng.randrange(400)] ^= rng.randrange(1, 256)
        refused(write(tmp_path, bytes(bad)), f"{tmp_path / 'bad.npz'}")


def _drop(key):
    def edit(h):
        del h[key]

    return edit


def _set(path, value):
    def edit(h):
        d = h
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda h: b"{not json", "unreadable checkpoint header"),
        (lambda h: b"\xff\xfe", "unreadable checkpoint header"),
        (lambda h: "[" * 100_000 + "]" * 100_000, "unreadable checkpoint header"),
        (lambda h: [1, 2], "the header must be a JSON object, got a list"),
        (
            _set(["params", "evil\nname"], {"shape": [1], "dtype": "float32"}),
            "evil\\nname is in the header's parameters",
        ),
        (lambda h: {**h, "format": "other"}, "not a vgglib checkpoint (header format 'other')"),
        (lambda h: {**h, "version": 99}, "checkpoint format version 99, this vgglib reads version 1"),
        (_drop("params"), "the header lacks 'params'"),
        (lambda h: {**h, "extra_key": 1}, "the header has unknown keys 'extra_key'"),
        (_set(["params"], [1]), "the header's params must be an object, got a list"),
        (_set(["params", "fc1.weights", "shape"], "big"), "parameter fc1.weights: shape must be a list of sizes"),
        (_set(["params", "fc1.weights", "shape"], [256, 32]), "fc1.weights has shape (256, 32) in the header"),
        (_set(["params", "fc1.weights", "dtype"], "int8"), "parameter fc1.weights has dtype 'int8'; weights must be"),
        (_set(["params", "fc1.weights", "dtype"], "complex64"), "has dtype 'complex64'"),
        (_set(["params", "fc1.weights", "dtype"], "object"), "has dtype 'object'"),
        (_set(["params", "fc1.weights", "dtype"], "float16"), "entry 'param/fc1.weights' has dtype float32"),
        (_set(["meta"], "text"), "meta must be an object, got a string"),
        (_set(["meta"], {"run": {"recipe": {"augment": 5}}}), "meta['run']['recipe']['augment'] must be a string"),
        (_set(["meta"], {"run": {"recipe": {"lr": [1]}}}), "meta['run']['recipe']['lr'] is a list, expected a plain"),
        (_set(["meta"], {"run": "anything", "note": [1, {"a": None}]}), None),  # other meta: the user's
        (_set(["arrays"], {"a": 1}), "the header's arrays must be a list of names"),
        (_set(["optimizer"], []), "the optimizer must be an object, got a list"),
        (_set(["optimizer", "state", "fc1.weights"], "m"), "the optimizer's slots of fc1.weights must be a list"),
        (_set(["optimizer", "state", "nope"], ["step"]), "the optimizer has state for nope, which is not a parameter"),
        (_set(["optimizer", "state", "fc1.weights"], ["m", "v"]), "must be 'step' and at most 3 distinct others"),
        (_set(["optimizer", "hyper"], [1]), "the optimizer's hyperparameters must be an object"),
        (_set(["crc32", "param/fc1.weights"], -1), "the header's crc32 table holds values that are not CRC-32s"),
        (_drop("crc32"), None),  # older files have no CRC table: they load
        (_set(["arch"], "VGG16"), "the architecture must be an object, got a string"),
        (_set(["arch", "type"], "ResNet"), "architecture: unknown model type 'ResNet'"),
        (_set(["arch", "num_classes"], 1e9), "VGG16: num_classes must be a positive integer, got 1000000000.0"),
        (_set(["arch", "width"], "wide"), "VGG16: width must be a number"),
        (_set(["arch", "dropout"], 2), "VGG16: dropout must be a probability"),
        (_set(["arch", "resize"], 3), "architecture: resize must be 'pad' or 'zoom', got 3"),
        (_set(["arch", "std"], 0), "architecture: std must be positive"),
        (_set(["arch", "mean"], float("nan")), "architecture: mean must be a finite number"),
    ],
)
def test_malformed_headers(tmp_path, small_file, edit, match):
    path = write(tmp_path, with_header(small_file, edit))
    if match is None:
        checkpoint.load(path)
        return
    refused(path, match)
    with pytest.raises(CheckpointError):
        checkpoint.read(path)


@pytest.mark.parametrize(
    "edit, match",
    [
        (_set(["meta", "trainer"], []), "meta['trainer'] must be an object, got a list"),
        (_set(["meta", "trainer", "fit"], None), "meta['trainer']['fit'] must be an object, got null"),
        (_set(["meta", "trainer", "fit", "n_train"], "48"), "meta['trainer']['fit']['n_train'] must be an integer"),
        (_set(["meta", "trainer", "fit", "batches_per_epoch"], 7), "batches_per_epoch 7 does not fit 48 / 16"),
        (_set(["meta", "trainer", "batch"], 1.5), "meta['trainer']['batch'] must be an integer >= 0, got 1.5"),
        (_set(["meta", "trainer", "batch"], 3), "batch 3 is past the end of an epoch of 3 batches"),
        (_set(["meta", "trainer", "epoch"], -1), "meta['trainer']['epoch'] must be an integer >= 0, got -1"),
        (_set(["meta", "trainer", "running"], {}), "meta['trainer']['running'] lacks 'loss'"),
        (_set(["meta", "trainer", "running", "time"], "1"), "meta['trainer']['running']['time'] must be a finite"),
        (_set(["meta", "trainer", "rng"], {}), "meta['trainer']['rng'] must be a non-empty object"),
        (_set(["meta", "trainer", "rng", "trainer"], 5), "meta['trainer']['rng']['trainer'] is not a numpy random"),
        (_set(["meta", "trainer", "rng", "trainer", "state"], {"state": "x"}), "is a malformed PCG64 state"),
        (_set(["meta", "trainer", "history"], 3), "meta['trainer']['history'] must be an object, got a number"),
        (_set(["meta", "trainer", "history", "train_loss"], None), "['history']['train_loss'] must be a list"),
        (_set(["meta", "trainer", "history", "batch_loss"], ["x"]), "['history']['batch_loss'] holds a string"),
        (_set(["meta", "trainer", "history", "epoch"], [1, 2]), "the per-epoch lists have different lengths"),
        (_set(["meta", "trainer", "history", "elapsed"], None), "['history']['elapsed'] must be a finite number"),
    ],
)
def test_malformed_trainer_state_is_refused_on_read_load_resume_and_the_cli(
    tmp_path, trained_file, edit, match, capsys
):
    path = write(tmp_path, with_header(trained_file, edit))
    refused(path, match)
    with pytest.raises(CheckpointError, match=r"\['trainer'\]|meta|batch"):
        fit(
            tiny(), (X, Y), epochs=2, batch_size=16, checkpoint=path, resume=True, seed=1, progress=False, verbose=False
        )
    for command in (["evaluate", "--weights", str(path)], ["summary", "--weights", str(path)]):
        assert main(command) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"vgglib {command[0]}: error: {path}") and match in err and "\n" not in err


def test_the_shuffling_order_of_a_mid_epoch_checkpoint_is_checked(tmp_path, trained_file):
    entries = raw_entries(trained_file)
    header = header_of(trained_file)

    def perm_file(perm):
        h = json.loads(json.dumps(header))
        h["crc32"]["extra/perm"] = zlib.crc32(np.ascontiguousarray(perm).tobytes())
        text = json.dumps(h).encode()
        out = [stored("extra/perm.npy", npy(perm)) if e[0] == "extra/perm.npy" else e for e in entries]
        out = [
            stored("__header__.npy", npy(np.frombuffer(text, np.uint8))) if e[0] == "__header__.npy" else e for e in out
        ]
        return zip_bytes(out)

    good = np.load(io.BytesIO(member(trained_file, "extra/perm.npy")))
    checkpoint.load(write(tmp_path, perm_file(good)))
    for bad in (good[:-1], np.full_like(good, 3), good.astype(np.float64), good.reshape(6, 8)):
        refused(write(tmp_path, perm_file(bad)), "extra/perm is not an order of the 48 training images")
    no_perm = with_header(trained_file, lambda h: {**h, "arrays": []})
    no_perm = zip_bytes([e for e in raw_entries(no_perm) if e[0] != "extra/perm.npy"])
    no_perm = with_header(no_perm, lambda h: {k: v for k, v in h.items() if k != "crc32"})
    refused(write(tmp_path, no_perm), "mid-epoch but the file holds no shuffling order")


def test_non_finite_weights_are_refused_naming_the_parameter(tmp_path):
    model = tiny()
    model["conv3_1"].params["weights"][0, 0, 0, 0] = np.nan
    model["fc2"].params["bias"][:2] = np.inf
    path = checkpoint.save(tmp_path / "nan.npz", model)
    refused(path, "parameter conv3_1.weights holds 1 non-finite values (NaN or inf) of 1,152; refusing to load it")
    target = tiny(seed=3)
    before = [p.value.copy() for p in target.parameters()]
    with pytest.raises(CheckpointError, match="conv3_1.weights holds 1 non-finite"):
        checkpoint.load(path, target)
    assert all(np.array_equal(a, p.value) for a, p in zip(before, target.parameters()))


def test_array_dtypes_outside_the_float_types_are_refused(tmp_path, small_file):
    as_int = npy(np.zeros(10, dtype=np.int32))
    data = replace_member(small_file, "param/fc3.bias.npy", stored("param/fc3.bias.npy", as_int))
    refused(write(tmp_path, data), "entry 'param/fc3.bias' has dtype int32, expected float32")
    structured = npy(np.zeros(10, dtype=[("a", "<f4")]))
    data = replace_member(small_file, "param/fc3.bias.npy", stored("param/fc3.bias.npy", structured))
    refused(write(tmp_path, data), "entry 'param/fc3.bias' has dtype")
    step = npy(np.array(1.5))
    data = replace_member(small_file, "optim/fc3.bias/step.npy", stored("optim/fc3.bias/step.npy", step))
    refused(write(tmp_path, data), "entry 'optim/fc3.bias/step' has dtype float64, expected an integer")


def test_swapped_members_are_caught_by_the_header_crc(tmp_path, small_file):
    entries = raw_entries(small_file)
    names = [e[0] for e in entries]
    a, b = names.index("param/conv3_2.weights.npy"), names.index("param/conv3_3.weights.npy")  # same shape
    entries[a][0], entries[b][0] = entries[b][0], entries[a][0]
    refused(write(tmp_path, zip_bytes(entries)), "does not hold the array the header recorded (CRC-32 differs)")


# ---------------------------------------------------------------------------------------------------------
# fuzz: byte flips, truncations, member swaps of a real checkpoint: identical load or CheckpointError
# ---------------------------------------------------------------------------------------------------------
def test_fuzz_flips_truncations_and_swaps(tmp_path, trained_file):
    data = trained_file
    ref_header, ref_arrays = checkpoint.read(write(tmp_path, data, "ref.npz"))
    rng = random.Random(1234)
    path = tmp_path / "fuzz.npz"
    outcomes = {"same": 0, "refused": 0}

    def check(mutated, full=False, same_header=True):
        """Read (or, ``full``, load and rebuild the model): the same arrays, or one CheckpointError."""
        path.write_bytes(mutated)
        try:
            if full:
                ck = checkpoint.load(path)
                header, arrays = ck.header, {f"extra/{k}": v for k, v in ck.arrays.items()}
                arrays.update({f"param/{p.name}": p.value for p in ck.model.parameters()})
                for name, slots in ck.optimizer_state["state"].items():
                    arrays.update({f"optim/{name}/{slot}": v for slot, v in slots.items()})
            else:
                header, arrays = checkpoint.read(path)
        except CheckpointError as err:
            assert "\n" not in str(err)
            outcomes["refused"] += 1
            return None
        assert header == ref_header or not same_header
        assert arrays.keys() == ref_arrays.keys()
        assert all(arrays[k].dtype == v.dtype and np.array_equal(arrays[k], v) for k, v in ref_arrays.items())
        outcomes["same"] += 1
        return header

    # where a flip is most interesting: zip headers, .npy headers, the central directory
    structural = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            structural += range(info.header_offset, info.header_offset + 30 + len(info.filename) + 20 + 128)
        structural += range(zf.start_dir, len(data))  # the central directory and its end records
    structural = [i for i in structural if i < len(data)]
    for n in range(450):  # single byte flips anywhere / in the structure
        bad = bytearray(data)
        i = rng.randrange(len(data)) if rng.random() < 0.3 else rng.choice(structural)
        bad[i] ^= rng.randrange(1, 256)
        check(bytes(bad), full=n % 10 == 0)
    for _ in range(150):  # a few bytes overwritten at once
        bad = bytearray(data)
        i = rng.choice(structural)
        for j in range(i, min(i + rng.randrange(2, 9), len(data))):
            bad[j] = rng.randrange(256)
        check(bytes(bad))
    for _ in range(150):  # truncations (and a few appended bytes)
        cut = rng.choice([rng.randrange(len(data)), rng.choice(structural)])
        check(data[:cut])
    for k in range(10):
        check(data + bytes([k]) * (k + 1))
    entries = raw_entries(data)
    for _ in range(150):  # member swaps: names swapped, members reordered, dropped or doubled
        es = [list(e) for e in entries]
        op = rng.randrange(4)
        if op == 0:
            a, b = rng.sample(range(len(es)), 2)
            es[a][0], es[b][0] = es[b][0], es[a][0]
        elif op == 1:
            rng.shuffle(es)
        elif op == 2:
            es.pop(rng.randrange(len(es)))
        else:
            e = list(rng.choice(es))
            e[0] = rng.choice([e[0], "param/" + e[0].split("/")[-1], e[0][:-4]])
            es.insert(rng.randrange(len(es) + 1), e)
        check(zip_bytes(es), full=op == 1)
    resumed = 0
    for _ in range(120):  # the JSON header: values of the wrong type, keys removed (valid zip, valid CRC)
        header = json.loads(json.dumps(ref_header))
        node, keys = header, []
        while isinstance(node, (dict, list)) and node and (not keys or rng.random() < 0.75):
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            parent, keys = node, keys + [key]
            node = node[key]
        if not keys:
            continue
        if isinstance(parent, dict) and rng.random() < 0.2:
            del parent[keys[-1]]
        else:
            parent[keys[-1]] = rng.choice([None, "", "x", -1, 0, 1.5, 10**30, True, [], {}, [1], {"a": 1}])
        loaded = check(with_header(data, lambda h, header=header: header), full=True, same_header=False)
        if loaded is not None and loaded["meta"] != ref_header["meta"]:  # accepted trainer state: resume must work
            resumed += 1
            try:
                fit(tiny(), (X, Y), epochs=2, batch_size=16, checkpoint=path, resume=True, seed=1, progress=False,
                    verbose=False)  # fmt: skip
            except ValueError as err:  # fit's own checks, e.g. "fit: cannot resume: ... trained on 0 images"
                assert "\n" not in str(err), err
    assert sum(outcomes.values()) >= 1000
    assert outcomes["refused"] > 500 and outcomes["same"] > 10, outcomes  # reorders and harmless flips load


# ---------------------------------------------------------------------------------------------------------
# 3. the architecture is checked (types, ranges, parameter count) before a model is built
# ---------------------------------------------------------------------------------------------------------
def header_only(arch, params=None):
    header = {"format": "vgglib-checkpoint", "version": 1, "arch": arch, "params": params or {}, "meta": {},
              "optimizer": None, "arrays": []}  # fmt: skip
    return zip_bytes([stored("__header__.npy", npy(np.frombuffer(json.dumps(header).encode(), np.uint8)))])


@posix
def test_a_header_only_file_with_a_huge_architecture_is_refused_before_building(tmp_path, capsys):
    huge = write(tmp_path, header_only(VGG16.spec(3, 1000, 224, width=16)), "huge.npz")
    assert huge.stat().st_size < 1000
    msg = refused(huge, "the architecture has 34,432,841,704 parameters, more than the limit of 200,000,000")
    assert "if you trust this file, load it with max_params=34432841704 (or raise vgglib.checkpoint.MAX_PARAMS)" in msg
    many_classes = write(tmp_path, header_only(VGG16.spec(num_classes=10**9)), "classes.npz")
    refused(many_classes, "the architecture has 4,097,039,887,552 parameters")
    imagenet = VGG16.spec(3, 1000, 224)  # under the limit, but the file holds no weights: refused unbuilt
    shapes = checkpoint_format._arch_param_shapes(imagenet)
    params = {name: {"shape": list(shape), "dtype": "float32"} for name, shape in shapes.items()}
    empty = write(tmp_path, header_only(imagenet, params), "imagenet.npz")
    refused(empty, "entry 'param/conv1_1.weights' is listed in the header but missing (and 31 more)")
    results, maxrss = run_limited([huge, many_classes, empty])
    assert all(r[0] == "CheckpointError" and r[2] < 2 for r in results.values()), results
    assert maxrss < 600 * 2**20
    assert main(["evaluate", "--weights", str(huge)]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "34,432,841,704 parameters" in err and err.count("\n") == 1


def test_max_params_can_be_raised(tmp_path, monkeypatch):
    model = tiny()
    path = checkpoint.save(tmp_path / "ck.npz", model)
    n = model.num_params()
    msg = refused(path, f"the architecture has {n:,} parameters, more than the limit of 1,000", max_params=1000)
    assert f"max_params={n}" in msg
    assert checkpoint.load(path, max_params=n).model.num_params() == n
    monkeypatch.setattr(checkpoint, "MAX_PARAMS", n - 1)
    refused(path, "more than the limit")
    with pytest.raises(CheckpointError, match="more than the limit"):
        checkpoint.read(path)
    checkpoint.load(path, tiny(seed=2))  # a model that large is already built: the file may be as large


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda a: a["layers"].append({"type": "Softmax", "name": "s"}), "layer 5 has unknown type 'Softmax'"),
        (lambda a: a["layers"][0].update(kernel_size=0), "layer 0 (conv): kernel_size must be an integer >= 1"),
        (lambda a: a["layers"][0].update(num_filters=2.5), "num_filters must be an integer >= 1, got 2.5"),
        (lambda a: a["layers"][0].update(bias=True), "layer 0 (Convolution2D) has unknown keys 'bias'"),
        (lambda a: a["layers"][0].pop("inputs_channel"), "layer 0 (Convolution2D) lacks 'inputs_channel'"),
        (lambda a: a["layers"][0].update(learning_rate="fast"), "learning_rate is a string 'fast'"),
        (lambda a: a["layers"][1].update(name="conv"), "layer name 'conv' repeats"),
        (lambda a: a["layers"][4].update(num_inputs=10**12), "the architecture has 3,000,000,000,023 parameters"),
        (lambda a: a.update(input_shape=[1, 0, 6]), "input_shape entries must be an integer >= 1, got 0"),
        (lambda a: a.update(layers={}), "layers must be a non-empty list"),
        (lambda a: a["layers"][2].update(name=""), "name must be a non-empty string"),
    ],
)
def test_bad_sequential_architectures(tmp_path, edit, match):
    rng = np.random.default_rng(0)
    seq = Sequential(
        [Convolution2D(1, 2, 3, rng=rng), ReLU(), Flatten(), Dropout(0.1), FullyConnected(2 * 4 * 4, 3, rng=rng)],
        input_shape=(1, 6, 6),
    )
    data = checkpoint.save(tmp_path / "s.npz", seq).read_bytes()

    def change(h):
        edit(h["arch"])

    refused(write(tmp_path, with_header(data, change)), match)


def test_a_sequential_whose_shapes_do_not_chain_is_refused_when_built(tmp_path):
    rng = np.random.default_rng(0)
    seq = Sequential(
        [Convolution2D(1, 2, 3, rng=rng), Flatten(), FullyConnected(32, 3, rng=rng)], input_shape=(1, 6, 6)
    )
    data = checkpoint.save(tmp_path / "s.npz", seq).read_bytes()
    refused(write(tmp_path, with_header(data, _set(["arch", "input_shape"], [1, 7, 7]))), "cannot rebuild the saved")


def test_expected_parameters_are_those_of_the_built_model():
    rng = np.random.default_rng(0)
    models = [
        tiny(),
        VGG16(3, 7, 64, width=0.1, dropout=0.0, rng=rng),
        Sequential(
            [
                Convolution2D(3, 4, 3, padding=1, stride=2, name="c", rng=rng),
                Maxpooling2D(2, 2),
                Avgpooling2D(1, 1),
                ReLU(),
                Dropout(0.3),
                Flatten(),
                FullyConnected(16, 5, name="f", rng=rng),
            ],
            input_shape=(3, 8, 8),
        ),
    ]
    for model in models:
        config = json.loads(json.dumps(model.config()))
        shapes = checkpoint_format._arch_param_shapes(config)
        assert shapes == {p.name: p.value.shape for p in model.parameters()}
        if isinstance(model, VGG16):
            assert sum(np.prod(s) for s in shapes.values()) == summary(config, print_table=False).total_params
    imagenet = checkpoint_format._arch_param_shapes(VGG16.spec(3, 1000, 224))
    assert sum(int(np.prod(s)) for s in imagenet.values()) == 138_357_544
    for kind in _LAYER_TYPES:  # every layer type the configs may name: only conv and FC have parameters
        layer = {
            "Convolution2D": lambda: Convolution2D(1, 2, 3),
            "FullyConnected": lambda: FullyConnected(3, 2),
        }.get(kind, lambda kind=kind: layer_from_config({"type": kind, "name": "x"}))()
        name, shapes = checkpoint_format._layer_param_shapes(layer.config(), "layer")
        assert shapes == {f"{layer.name}.{k}": v.shape for k, v in layer.params.items()}


# ---------------------------------------------------------------------------------------------------------
# 4. temporary files of killed saves
# ---------------------------------------------------------------------------------------------------------
def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_the_temp_file_is_named_for_its_target_and_process(tmp_path, monkeypatch):
    seen = []
    real = np.savez

    def spy(f, **arrays):
        seen.extend(os.listdir(tmp_path))
        real(f, **arrays)

    monkeypatch.setattr(np, "savez", spy)
    checkpoint.save(tmp_path / "ck.npz", tiny())
    assert len(seen) == 1 and seen[0].startswith(f"ck.npz.tmp-partial-{os.getpid()}-")
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]


@posix
def test_stale_temp_files_of_the_target_are_removed_on_the_next_save(tmp_path):
    old = time.time() - 600
    dead = dead_pid()
    files = {
        f"ck.npz.tmp-partial-{dead}-abc12345": False,  # a killed save of ck.npz: removed
        ".ck.npz.k2j4h_x9.tmp": True,  # an older vgglib's temp name, 10 minutes old: kept (less than an hour)
        ".ck.npz.q8w7e6r5.tmp": False,  # the same, two hours old: removed
        f"ck.npz.tmp-partial-{os.getppid()}-abc12345": True,  # its process still runs: kept
        f"ck.npz.tmp-partial-{os.getpid()}-abc12345": True,  # this process's own: kept
        f"other.npz.tmp-partial-{dead}-abc12345": True,  # another target's: kept
        "ck.npz.tmp-partial-notapid-abc12345": True,  # not this module's pattern: kept
        "notes.txt": True,
    }
    for name in files:
        (tmp_path / name).write_bytes(b"x" * 100)
        os.utime(tmp_path / name, (old, old))
    os.utime(tmp_path / ".ck.npz.q8w7e6r5.tmp", (old - 7200, old - 7200))
    fresh = tmp_path / f"ck.npz.tmp-partial-{dead}-fresh123"  # written to a moment ago: kept for now
    fresh.write_bytes(b"y")
    checkpoint.save(tmp_path / "ck.npz", tiny())
    left = set(os.listdir(tmp_path))
    assert left == {"ck.npz", fresh.name} | {name for name, kept in files.items() if kept}


@posix
def test_a_save_killed_midway_leaves_a_file_the_next_save_removes(tmp_path):
    target = tmp_path / "ck.npz"
    script = textwrap.dedent(
        f"""
        import sys, time
        from vgglib.checkpoint import atomic_write
        def write(f):
            f.write(b"PK" + b"x" * 100_000)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
        atomic_write({str(target)!r}, write)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline().strip() == "writing"
        (left,) = [f for f in tmp_path.iterdir() if f.name != "ck.npz"]
        assert left.name.startswith(f"ck.npz.tmp-partial-{p.pid}-")
        checkpoint.save(target, tiny())  # its writer still runs: the partial file is kept
        assert left.exists()
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    os.utime(left, (time.time() - 120, time.time() - 120))
    checkpoint.save(target, tiny())
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]
    checkpoint.load(target)
