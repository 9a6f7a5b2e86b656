"""The checkpoint file format, checked: what a header must say, and bounded reading of the zip's members.

Used by :mod:`vgglib.checkpoint` (``notebooks/09_training_vgg16_on_mnist.ipynb``), whose docstring describes the
format. Everything here assumes the file is hostile: the header's structure, the architecture (turned into the
expected parameter names and shapes by arithmetic alone, nothing allocated), the trainer and recipe metadata, and
then every zip member's ``.npy`` header (dtype, shape, declared size) are checked before any data is read, so a
forged or damaged file costs bounded time and memory. Problems raise :class:`Bad` (one line), which
:func:`vgglib.checkpoint.read` turns into a ``CheckpointError`` naming the file.

Why one module: the header's rules and the members' checks are two halves of one contract — every member is
checked against what the header promised — and are read and changed together.
"""

from __future__ import annotations

import inspect
import io
import json
import math
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from .layers import Convolution2D, FullyConnected
from .model import _LAYER_TYPES, vgg16_layer_configs

FORMAT = "vgglib-checkpoint"
VERSION = 1
HEADER = "__header__"
#: The JSON header is small (the history of a long run: a few MB); a larger one is refused unread.
MAXHEADER_BYTES = 64 * 2**20
#: The dtypes a parameter may have.
FLOAT_DTYPES = ("float16", "float32", "float64")
#: At most this many optimizer state arrays per parameter besides ``step`` (Adam has 2).
_MAX_SLOTS = 3
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _crc32(arr: np.ndarray) -> int:
    """CRC-32 of the array's values in C order (what the header records for every stored array)."""
    return zlib.crc32(np.ascontiguousarray(arr).data) & 0xFFFFFFFF


class Bad(Exception):
    """A problem in the file; :func:`read` turns it into a one-line :class:`CheckpointError` naming the file."""


class NotCheckpoint(Bad):
    """An intact npz that is not a checkpoint (no header)."""


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_BIG = 2**63  # no count, size or seed in a checkpoint comes near this


def _is_number(value: Any) -> bool:
    """A finite JSON number (an int below 2**63 in size)."""
    if _is_int(value):
        return bool(-_BIG < value < _BIG)
    return isinstance(value, float) and math.isfinite(value)


def _obj(value: Any, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """``value`` as a JSON object with exactly the ``required`` keys (plus any of ``optional``)."""
    if not isinstance(value, dict):
        raise Bad(f"{what} must be an object, got {_kind(value)}")
    missing = [k for k in required if k not in value]
    if missing:
        raise Bad(f"{what} lacks {', '.join(repr(k) for k in missing)}")
    unknown = sorted(str(k) for k in set(value) - set(required) - set(optional))
    if unknown:
        raise Bad(f"{what} has unknown keys {', '.join(repr(k) for k in unknown[:5])}")
    return value


def _plain(value: Any) -> bool:
    """A JSON string, boolean, null or finite number."""
    return isinstance(value, (str, bool)) or value is None or _is_number(value)


def _int(value: Any, what: str, minimum: int = 0) -> int:
    if not _is_int(value) or value < minimum:
        raise Bad(f"{what} must be an integer >= {minimum}, got {value!r:.40}")
    if value >= _BIG:
        raise Bad(f"{what} is too large (an integer of {len(str(value))} digits)")
    return int(value)


def _number(value: Any, what: str) -> float:
    if not _is_number(value):
        raise Bad(f"{what} must be a finite number, got {value!r:.40}")
    return float(value)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise Bad(f"{what} must be a non-empty string, got {value!r:.40}")
    return value


_CONSTRUCTOR_ARGS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}


def _constructor_args(kind: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The config keys a layer type takes: (required, {optional: default}), from its constructor."""
    if kind not in _CONSTRUCTOR_ARGS:
        sig = inspect.signature(_LAYER_TYPES[kind])
        args = [p for p in sig.parameters.values() if p.name not in ("rng", "dtype")]
        required = tuple(p.name for p in args if p.default is inspect.Parameter.empty)
        optional = {p.name: p.default for p in args if p.default is not inspect.Parameter.empty}
        _CONSTRUCTOR_ARGS[kind] = (required, optional)
    return _CONSTRUCTOR_ARGS[kind]


def _layer_param_shapes(cfg: Any, where: str) -> tuple[str, dict[str, tuple[int, ...]]]:
    """A layer config's name and parameter shapes (``{"<name>.<key>": shape}``), computed without building it."""
    if not isinstance(cfg, dict):
        raise Bad(f"{where} must be an object, got {_kind(cfg)}")
    kind = cfg.get("type")
    if not isinstance(kind, str) or kind not in _LAYER_TYPES:
        raise Bad(f"{where} has unknown type {kind!r:.40}; expected one of {sorted(_LAYER_TYPES)}")
    required, optional = _constructor_args(kind)
    cfg = _obj(cfg, f"{where} ({kind})", ("type", *required), tuple(optional))
    for key, value in cfg.items():
        default = optional.get(key)
        if isinstance(default, str) or key == "type":
            ok = isinstance(value, str)
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            ok = _is_number(value)
        else:
            ok = isinstance(value, (str, int, float, bool)) or value is None
        if not ok:
            raise Bad(f"{where} ({kind}): {key} is {_kind(value)} {value!r:.40}")
    name = _name(cfg.get("name", optional.get("name")), f"{where}: name")
    cls = _LAYER_TYPES[kind]

    def get(key: str, minimum: int = 1) -> int:
        return _int(cfg.get(key, optional.get(key)), f"{where} ({name}): {key}", minimum)

    if issubclass(cls, Convolution2D):
        c, f, k = get("inputs_channel"), get("num_filters"), get("kernel_size")
        get("padding", 0)
        get("stride")
        return name, {f"{name}.weights": (f, c, k, k), f"{name}.bias": (f,)}
    if issubclass(cls, FullyConnected):
        n_in, n_out = get("num_inputs"), get("num_outputs")
        return name, {f"{name}.weights": (n_in, n_out), f"{name}.bias": (n_out,)}
    return name, {}


_VGG16_KEYS = ("type", "in_channels", "num_classes", "input_size", "width", "dropout", "resize", "mean", "std")
_SEQUENTIAL_KEYS = ("type", "layers", "input_shape", "resize", "mean", "std")


def _arch_param_shapes(arch: Any) -> dict[str, tuple[int, ...]]:
    """The parameter names and shapes the architecture config ``arch`` has, computed from the config alone."""
    if not isinstance(arch, dict):
        raise Bad(f"the architecture must be an object, got {_kind(arch)}")
    kind = arch.get("type")
    if kind == "VGG16":
        _obj(arch, "the VGG16 architecture", _VGG16_KEYS)
        if arch["resize"] not in ("auto", "pad", "zoom"):
            raise Bad(f"architecture: resize must be 'pad' or 'zoom', got {arch['resize']!r:.40}")
        try:
            configs = vgg16_layer_configs(*(arch[k] for k in _VGG16_KEYS[1:6]))
        except (ValueError, TypeError) as err:
            raise Bad(f"architecture: {err}") from None
    elif kind == "Sequential":
        _obj(arch, "the Sequential architecture", _SEQUENTIAL_KEYS)
        if arch["resize"] not in ("pad", "zoom"):
            raise Bad(f"architecture: resize must be 'pad' or 'zoom', got {arch['resize']!r:.40}")
        shape = arch["input_shape"]
        if shape is not None:
            if not isinstance(shape, list) or not shape:
                raise Bad(f"architecture: input_shape must be null or a list of sizes, got {_kind(shape)}")
            for s in shape:
                _int(s, "architecture: input_shape entries", 1)
        configs = arch["layers"]
        if not isinstance(configs, list) or not configs:
            raise Bad(f"architecture: layers must be a non-empty list, got {_kind(configs)}")
    else:
        raise Bad(f"architecture: unknown model type {kind!r:.40}; expected 'VGG16' or 'Sequential'")
    _number(arch["mean"], "architecture: mean")
    if _number(arch["std"], "architecture: std") <= 0:
        raise Bad(f"architecture: std must be positive, got {arch['std']!r}")
    shapes: dict[str, tuple[int, ...]] = {}
    names: set[str] = set()
    for i, cfg in enumerate(configs):
        name, layer_shapes = _layer_param_shapes(cfg, f"architecture: layer {i}")
        if name in names:
            raise Bad(f"architecture: layer name {name!r} repeats")
        names.add(name)
        shapes.update(layer_shapes)
    return shapes


def _check_trainer(state: Any) -> None:
    """The structure :func:`vgglib.train.fit` writes to ``meta["trainer"]`` and reads back on resume."""
    what = "meta['trainer']"
    state = _obj(state, what, ("epoch", "batch", "rng", "running", "fit", "history"))
    _int(state["epoch"], f"{what}['epoch']")
    batch = _int(state["batch"], f"{what}['batch']")
    fit = _obj(state["fit"], f"{what}['fit']", ("n_train", "batch_size", "seed", "batches_per_epoch"))
    n = _int(fit["n_train"], f"{what}['fit']['n_train']", 1)
    bs = _int(fit["batch_size"], f"{what}['fit']['batch_size']", 1)
    _int(fit["seed"], f"{what}['fit']['seed']")
    if fit["batches_per_epoch"] != -(-n // bs):
        raise Bad(f"{what}['fit']: batches_per_epoch {fit['batches_per_epoch']!r:.40} does not fit {n} / {bs}")
    if batch >= fit["batches_per_epoch"]:
        raise Bad(f"{what}: batch {batch} is past the end of an epoch of {fit['batches_per_epoch']} batches")
    running = _obj(state["running"], f"{what}['running']", ("loss", "correct", "seen", "time"))
    _number(running["loss"], f"{what}['running']['loss']")
    _number(running["time"], f"{what}['running']['time']")
    _int(running["correct"], f"{what}['running']['correct']")
    _int(running["seen"], f"{what}['running']['seen']")
    rngs = state["rng"]
    if not isinstance(rngs, dict) or not rngs:
        raise Bad(f"{what}['rng'] must be a non-empty object, got {_kind(rngs)}")
    for key, st in rngs.items():
        name = st.get("bit_generator") if isinstance(st, dict) else None
        if name not in _BIT_GENERATORS:
            raise Bad(f"{what}['rng'][{key!r:.40}] is not a numpy random state (bit_generator {name!r:.40})")
        try:
            getattr(np.random, name)(0).state = st
        except Exception as err:  # whatever numpy says about a malformed state
            raise Bad(f"{what}['rng'][{key!r:.40}] is a malformed {name} state: {err!s:.80}") from None
    history = state["history"]
    if not isinstance(history, dict):
        raise Bad(f"{what}['history'] must be an object, got {_kind(history)}")
    lengths = set()
    for key in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "time", "batch_loss"):
        values = history.get(key)
        if not isinstance(values, list):
            raise Bad(f"{what}['history'][{key!r}] must be a list, got {_kind(values)}")
        for v in values:
            ok = _is_number(v) and (_is_int(v) or key != "epoch")
            if not ok and not (v is None and key.startswith("val_")):
                raise Bad(f"{what}['history'][{key!r}] holds {_kind(v)} {v!r:.20}, expected finite numbers")
        if key != "batch_loss":
            lengths.add(len(values))
    if len(lengths) > 1:
        raise Bad(f"{what}['history']: the per-epoch lists have different lengths {sorted(lengths)}")
    if "elapsed" in history:
        _number(history["elapsed"], f"{what}['history']['elapsed']")


def _check_run(run: Any) -> None:
    """``meta["run"]["recipe"]``, which ``python -m vgglib train --resume`` compares with its settings: plain values."""
    recipe = run.get("recipe") if isinstance(run, dict) else None
    if not isinstance(recipe, dict):
        return
    for key, value in recipe.items():
        if not _plain(value):
            raise Bad(f"meta['run']['recipe'][{key!r:.40}] is {_kind(value)}, expected a plain value")
    if not isinstance(recipe.get("augment", ""), str) and recipe.get("augment") is not None:
        raise Bad(f"meta['run']['recipe']['augment'] must be a string, got {_kind(recipe['augment'])}")


@dataclass(frozen=True)
class _Member:
    """What one array member may hold: ``kind`` "param", "slot", "step" or "extra"; dtype name and shape (or None)."""

    kind: str
    dtype: str | None = None
    shape: tuple[int, ...] | None = None


def _check_header(header: Any, max_params: int) -> dict[str, _Member]:
    """Validate the header's whole structure; return the array members it describes (key -> what it holds)."""
    if not isinstance(header, dict):
        raise Bad(f"the header must be a JSON object, got {_kind(header)}")
    if header.get("format") != FORMAT:
        raise Bad(f"not a vgglib checkpoint (header format {header.get('format')!r:.40})")
    if header.get("version") != VERSION:
        raise Bad(f"checkpoint format version {header.get('version')!r:.40}, this vgglib reads version {VERSION}")
    _obj(header, "the header", ("format", "version", "arch", "params", "meta", "optimizer", "arrays"), ("crc32",))
    params = header["params"]
    if not isinstance(params, dict):
        raise Bad(f"the header's params must be an object, got {_kind(params)}")
    members: dict[str, _Member] = {}
    for name, info in params.items():
        info = _obj(info, f"parameter {name}", ("shape", "dtype"))
        shape = info["shape"]
        if not isinstance(shape, list) or not all(_is_int(s) and s >= 0 for s in shape):
            raise Bad(f"parameter {name}: shape must be a list of sizes, got {shape!r:.60}")
        if info["dtype"] not in FLOAT_DTYPES:
            raise Bad(f"parameter {name} has dtype {info['dtype']!r:.40}; weights must be {', '.join(FLOAT_DTYPES)}")
        members[f"param/{name}"] = _Member("param", info["dtype"], tuple(shape))
    # the architecture: its parameters, counted from the config alone, before anything is allocated
    expected = _arch_param_shapes(header["arch"])
    count = sum(math.prod(s) for s in expected.values())
    if count > max_params:
        raise Bad(
            f"the architecture has {count:,} parameters, more than the limit of {max_params:,}; if you trust this "
            f"file, load it with max_params={count} (or raise vgglib.checkpoint.MAX_PARAMS)"
        )
    listed = {name: m.shape for name, m in ((k[len("param/") :], m) for k, m in members.items())}
    if listed != expected:
        diffs = [f"{n} is in the architecture, not in the header's parameters" for n in expected if n not in listed]
        diffs += [f"{n} is in the header's parameters, not in the architecture" for n in listed if n not in expected]
        diffs += [
            f"{n} has shape {listed[n]} in the header, the architecture makes {s}"
            for n, s in expected.items()
            if n in listed and listed[n] != s
        ]
        more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
        raise Bad("the parameters do not match the architecture: " + "; ".join(diffs[:3]) + more)
    if not isinstance(header["meta"], dict):
        raise Bad(f"meta must be an object, got {_kind(header['meta'])}")
    if "trainer" in header["meta"]:
        _check_trainer(header["meta"]["trainer"])
    _check_run(header["meta"].get("run"))
    opt = header["optimizer"]
    if opt is not None:
        opt = _obj(opt, "the optimizer", ("type", "hyper", "state"))
        _name(opt["type"], "the optimizer's type")
        hyper = opt["hyper"]
        if not isinstance(hyper, dict) or not all(
            _plain(v) or isinstance(v, list) and all(map(_plain, v)) for v in hyper.values()
        ):
            raise Bad("the optimizer's hyperparameters must be an object of numbers (or lists of numbers)")
        if not isinstance(opt["state"], dict):
            raise Bad(f"the optimizer's state must be an object, got {_kind(opt['state'])}")
        for name, slots in opt["state"].items():
            if name not in expected:
                raise Bad(f"the optimizer has state for {name}, which is not a parameter")
            if not isinstance(slots, list) or not all(isinstance(s, str) and s for s in slots):
                raise Bad(f"the optimizer's slots of {name} must be a list of names, got {slots!r:.60}")
            if "step" not in slots or len(set(slots)) != len(slots) or len(slots) > _MAX_SLOTS + 1:
                raise Bad(f"the optimizer's slots of {name} must be 'step' and at most {_MAX_SLOTS} distinct others")
            for slot in slots:
                members[f"optim/{name}/{slot}"] = (
                    _Member("step", None, ()) if slot == "step" else _Member("slot", None, expected[name])
                )
    extras = header["arrays"]
    if not isinstance(extras, list) or not all(isinstance(k, str) and k for k in extras):
        raise Bad("the header's arrays must be a list of names")
    if len(set(extras)) != len(extras):
        raise Bad("the header's arrays list a name twice")
    for key in extras:
        members[f"extra/{key}"] = _Member("extra")
    if "crc32" in header:
        crcs = header["crc32"]
        if not isinstance(crcs, dict) or set(crcs) != set(members):
            raise Bad("the header's crc32 table does not list exactly the arrays")
        if not all(_is_int(v) and 0 <= v < 2**32 for v in crcs.values()):
            raise Bad("the header's crc32 table holds values that are not CRC-32s")
    return members


# ---------------------------------------------------------------------------------------------------------
# reading: the zip members
# ---------------------------------------------------------------------------------------------------------
def _sniff(head: bytes) -> str:
    if not head:
        return "the file is empty"
    if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}", b"c"):
        return "it looks like a Python pickle, which can run arbitrary code when loaded: refusing to load it"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not an .npz checkpoint"
    if head.startswith(b"\x1f\x8b"):
        return "it is gzip-compressed data"
    if head.startswith(b"\x89HDF"):
        return "it is an HDF5 file"
    return f"it starts with bytes {head[:8].hex(' ')}, not a zip archive"


#: the header np.save writes for a plain number array: parsed directly (numpy's general parser is ~20x slower)
_NPY_PLAIN = re.compile(
    r"\{'descr': '([<>|=]?[biuf][1248])', 'fortran_order': (False|True), 'shape': \(([0-9, ]*)\), \} *\n"
)
_NPY_MAXHEADER = 10000  # numpy's own limit


def _npy_header(f: IO[bytes], version: tuple[int, int]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` from the .npy header after the magic (format 1.0 or 2.0)."""
    size = f.read(2 if version == (1, 0) else 4)
    length = int.from_bytes(size, "little")
    if len(size) not in (2, 4) or length > _NPY_MAXHEADER:
        raise ValueError(f"header length {length} (at most {_NPY_MAXHEADER})")
    text = f.read(length)
    if len(text) != length:
        raise ValueError("truncated header")
    m = _NPY_PLAIN.fullmatch(text.decode("latin1"))
    if m is not None and re.fullmatch(r"(\d{1,18}, )*(\d{1,18},?)?", m.group(3)):
        shape = tuple(int(s) for s in m.group(3).replace(",", " ").split())
        return shape, m.group(2) == "True", np.dtype(m.group(1))
    # anything else (other dtypes, other spacing): numpy's parser, on the same bytes
    stream = io.BytesIO(np.lib.format.magic(*version) + size + text)
    np.lib.format.read_magic(stream)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(stream)
    return tuple(shape), bool(fortran), dtype


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, check: Callable[[np.dtype, tuple[int, ...]], None]
) -> np.ndarray:
    """One ``.npy`` member: its header is read and passed to ``check`` (and its declared size compared) before
    any data is read; then exactly the bytes it describes, and the zip's CRC is checked at its end."""
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
        except ValueError:
            raise Bad(f"entry {key!r} is not a .npy array (it lacks the .npy magic bytes)") from None
        if version not in ((1, 0), (2, 0)):
            raise Bad(f"entry {key!r} is a .npy of format version {version}, expected 1.0 or 2.0")
        try:
            shape, fortran, dtype = _npy_header(f, version)
        except Exception as err:  # numpy parses the header text: anything wrong in it is "malformed"
            raise Bad(f"entry {key!r} has a malformed .npy header ({str(err).split(':')[0]:.60})") from None
        if dtype.hasobject:
            raise Bad(
                f"entry {key!r} holds pickled Python objects; refusing to load it (pickles can run arbitrary code)"
            )
        if not all(_is_int(s) and s >= 0 for s in shape):
            raise Bad(f"entry {key!r} has a malformed .npy header (shape {shape!r:.60})")
        check(dtype, shape)
        offset = f.tell()
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size != offset + nbytes:
            raise Bad(
                f"entry {key!r} declares {info.file_size:,} bytes, but its .npy header describes "
                f"{offset + nbytes:,} ({dtype} {tuple(shape)})"
            )
        buf = bytearray(nbytes)
        got = 0
        while got < nbytes:
            chunk = f.read(min(nbytes - got, 1 << 24))
            if not chunk:
                break
            buf[got : got + len(chunk)] = chunk
            got += len(chunk)
        if got != nbytes or f.read(1):  # reading to the end also makes zipfile check the member's CRC
            raise Bad(f"entry {key!r} is truncated or longer than its header says")
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _checker(key: str, member: _Member, budget: list[int]) -> Callable[[np.dtype, tuple[int, ...]], None]:
    """The dtype and shape check of member ``key`` (``budget``: values extra arrays may still hold)."""

    def check(dtype: np.dtype, shape: tuple[int, ...]) -> None:
        plain = dtype.names is None and dtype.subdtype is None
        if member.kind == "extra":
            if not plain or dtype.kind not in "biuf":
                raise Bad(f"entry {key!r} has dtype {dtype}; extra arrays are plain numbers")
            budget[0] -= math.prod(shape)
            if budget[0] < 0:
                raise Bad(
                    f"entry {key!r} has shape {tuple(shape)}: the extra arrays hold more values than the limit "
                    "(max_params)"
                )
            return
        if member.kind == "step":
            ok = plain and dtype.kind in "iu"
        elif member.kind == "slot":
            ok = plain and dtype.name in FLOAT_DTYPES
        else:
            ok = plain and dtype.name == member.dtype
        if not ok:
            want = {"step": "an integer", "slot": "a float dtype"}.get(member.kind, member.dtype)
            raise Bad(f"entry {key!r} has dtype {dtype}, expected {want}")
        if tuple(shape) != member.shape:
            raise Bad(f"entry {key!r} has shape {tuple(shape)}, the header says {member.shape}")

    return check


def _nonfinite(arr: np.ndarray) -> int:
    """How many values of a float array are NaN or infinite (in pieces: no full-size temporary)."""
    flat = arr.reshape(-1)
    step = 1 << 20
    return int(sum(int(np.count_nonzero(~np.isfinite(flat[i : i + step]))) for i in range(0, flat.size, step)))


def _read_zip(f: IO[bytes], max_params: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the arrays of an open checkpoint file, everything checked; raises :class:`Bad`."""
    with zipfile.ZipFile(f) as zf:
        infos = zf.infolist()
        by_key: dict[str, zipfile.ZipInfo] = {}
        others: list[str] = []  # members np.savez would not write: not .npy
        for info in infos:
            if not info.filename.endswith(".npy"):
                others.append(info.filename)
            elif info.filename[:-4] in by_key:
                raise Bad(f"the zip lists entry {info.filename!r} twice")
            else:
                by_key[info.filename[:-4]] = info
        if HEADER not in by_key:
            first = sorted(by_key)[:5]
            raise NotCheckpoint(f"is an .npz but not a vgglib checkpoint: no {HEADER} entry (entries: {first}...)")

        def check_header(dtype: np.dtype, shape: tuple[int, ...]) -> None:
            if dtype != np.uint8 or len(shape) != 1:
                raise Bad(f"unreadable checkpoint header (dtype {dtype}, shape {tuple(shape)})")
            if shape[0] > MAXHEADER_BYTES:
                raise Bad(f"the checkpoint header is {shape[0]:,} bytes, more than {MAXHEADER_BYTES:,}")

        if by_key[HEADER].file_size > MAXHEADER_BYTES + 4096:
            raise Bad(f"the checkpoint header is {by_key[HEADER].file_size:,} bytes, more than {MAXHEADER_BYTES:,}")
        raw = _read_member(zf, by_key[HEADER], HEADER, check_header)
        try:
            header = json.loads(raw.tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as err:
            raise Bad(f"unreadable checkpoint header ({err!s:.80})") from None
        members = _check_header(header, max_params)
        unknown = sorted(others + [f"{k}.npy" for k in set(by_key) - set(members) - {HEADER}])
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:5]) + (
                f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            )
            raise Bad(f"the zip holds entries the header does not describe: {shown}")
        missing = [k for k in members if k not in by_key]
        if missing:
            raise Bad(
                f"entry {missing[0]!r} is listed in the header but missing"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        arrays: dict[str, np.ndarray] = {}
        budget = [max_params]
        for key, member in members.items():
            arrays[key] = _read_member(zf, by_key[key], key, _checker(key, member, budget))
    crcs = header.get("crc32")
    for key, arr in arrays.items():
        if crcs is not None and _crc32(arr) != crcs[key]:
            raise Bad(f"entry {key!r} does not hold the array the header recorded (CRC-32 differs)")
        if members[key].kind in ("param", "slot"):
            bad = _nonfinite(arr)
            if bad:
                what = (
                    f"parameter {key[len('param/') :]}"
                    if members[key].kind == "param"
                    else f"optimizer state {key[len('optim/') :]}"
                )
                raise Bad(f"{what} holds {bad:,} non-finite values (NaN or inf) of {arr.size:,}; refusing to load it")
    trainer = header["meta"].get("trainer")
    if trainer is not None:
        perm = arrays.get("extra/perm")
        n = trainer["fit"]["n_train"]
        if perm is None and trainer["batch"] > 0:
            raise Bad("meta['trainer'] is mid-epoch but the file holds no shuffling order (extra/perm)")
        if perm is not None and (
            perm.ndim != 1
            or perm.dtype.kind not in "iu"
            or len(perm) != n
            or not np.array_equal(np.sort(perm), np.arange(n))
        ):
            raise Bad(f"extra/perm is not an order of the {n} training images (shape {perm.shape}, {perm.dtype})")
    return header, arrays


def _printable(text: str, limit: int = 500) -> str:
    """``text`` on one line: control and other unprintable characters escaped, cut to ``limit`` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
