"""Checkpoints: a model's weights (plus optimizer and trainer state) in one ``.npz`` file — safe by design.

Used in ``notebooks/09_training_vgg16_on_mnist.ipynb`` and by :func:`vgglib.train.fit` (``checkpoint=``).

* No pickle anywhere. The file is a zip of ``.npy`` arrays: ``param/<layer>.<key>`` for every parameter,
  ``optim/<layer>.<key>/<slot>`` for the optimizer state, ``extra/<name>`` for other arrays, and
  ``__header__``: UTF-8 JSON bytes with the format version, the architecture (``model.config()``), the names,
  shapes and dtypes of the parameters, the optimizer's hyperparameters and the user's ``meta``.
  Loading uses ``np.load(allow_pickle=False)``: a pickle file, or an npz holding object arrays, is refused
  before anything in it runs (a pickle can execute arbitrary code when loaded).
* Atomic: written to a temporary file in the same directory, flushed and fsync'ed, then ``os.replace``'d over
  the target — a crash or Ctrl-C mid-save leaves the previous checkpoint intact, never half a file.
* Checked before use: :func:`load` reads and validates everything, compares names, shapes and architecture with
  the model, and only then copies the weights in. A mismatch raises :class:`CheckpointMismatchError` listing
  every difference, with the model unchanged.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .model import Sequential, build_model

__all__ = [
    "save",
    "load",
    "read",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatchError",
    "atomic_write",
    "FORMAT",
    "VERSION",
]

FORMAT = "vgglib-checkpoint"
VERSION = 1
_HEADER = "__header__"


class CheckpointError(ValueError):
    """The file is not a valid vgglib checkpoint (missing, not an npz, damaged, pickled data, bad header)."""


class CheckpointMismatchError(CheckpointError):
    """The checkpoint does not fit the model (architecture, parameter names or shapes differ)."""


@dataclass
class Checkpoint:
    """What :func:`load` returns: the (loaded) model, the user ``meta``, and the raw saved state."""

    path: Path
    model: Sequential
    meta: dict[str, Any]
    optimizer_state: dict[str, Any] | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------------------
def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file atomically: ``write(f)`` into a temp file in the same directory, fsync, ``os.replace``.

    The parent directory is created if needed. On any error (or Ctrl-C) the temp file is removed and an existing
    ``path`` is untouched.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        try:
            dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    return path


def _jsonable(obj: Any, where: str) -> Any:
    try:
        return json.loads(json.dumps(obj))
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"checkpoint.save: {where} must be JSON-serialisable (numbers, strings, lists, dicts): {err}"
        ) from None


def save(
    path: str | os.PathLike,
    model: Sequential,
    optimizer: Any = None,
    meta: dict[str, Any] | None = None,
    arrays: dict[str, np.ndarray] | None = None,
) -> Path:
    """Save ``model`` (weights + architecture), optionally ``optimizer`` state, JSON ``meta`` and extra ``arrays``.

    One ``.npz`` at exactly ``path`` (no suffix added), written atomically. ``meta`` must be JSON-able;
    ``arrays`` are plain numeric numpy arrays (e.g. the trainer's current permutation). Returns the path.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"checkpoint.save: expected a vgglib model (Sequential/VGG16), got {type(model).__name__}")
    payload: dict[str, np.ndarray] = {}
    params: dict[str, dict[str, Any]] = {}
    for p in model.parameters():
        payload[f"param/{p.name}"] = p.value
        params[p.name] = {"shape": list(p.value.shape), "dtype": p.value.dtype.name}
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "arch": _jsonable(model.config(), "the model config"),
        "params": params,
        "meta": _jsonable(meta or {}, "meta"),
        "optimizer": None,
        "arrays": [],
    }
    if optimizer is not None:
        sd = optimizer.state_dict()
        header["optimizer"] = {
            "type": sd["type"],
            "hyper": _jsonable(sd["hyper"], "optimizer hyperparameters"),
            "state": {name: sorted(slots) for name, slots in sd["state"].items()},
        }
        for name, slots in sd["state"].items():
            for slot, arr in slots.items():
                payload[f"optim/{name}/{slot}"] = np.asarray(arr)
    for key, arr in (arrays or {}).items():
        arr = np.asarray(arr)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"checkpoint.save: extra array {key!r} must be numeric, got dtype {arr.dtype}")
        payload[f"extra/{key}"] = arr
        header["arrays"].append(key)
    payload[_HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    # mypy matches the ** dict against savez's allow_pickle: bool too; no key here is "allow_pickle"
    return atomic_write(path, lambda f: np.savez(f, **payload))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# reading
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


def read(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and validate a checkpoint without touching any model: returns ``(header, arrays)``.

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError` for anything that is not an
    intact vgglib checkpoint: not a zip (e.g. a pickle), truncated or corrupt, object (pickled) arrays,
    a bad or missing header, parameters that do not match the header.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}" + (" (it is a directory)" if path.is_dir() else ""))
    with open(path, "rb") as f:
        head = f.read(8)
    if not head.startswith(b"PK"):
        raise CheckpointError(f"{path} is not a vgglib checkpoint (an .npz zip archive): {_sniff(head)}")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError as err:
                    if "pickle" in str(err).lower() or "object" in str(err).lower():
                        raise CheckpointError(
                            f"{path}: entry {key!r} holds pickled Python objects; refusing to "
                            "load it (pickles can run arbitrary code)"
                        ) from None
                    raise
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, zipfile.LargeZipFile) as err:
        raise CheckpointError(f"{path} is damaged or truncated (not a readable .npz): {err}") from None
    if _HEADER not in arrays:
        raise CheckpointError(
            f"{path} is an .npz but not a vgglib checkpoint: no {_HEADER} entry (entries: {sorted(arrays)[:5]}...)"
        )
    raw = arrays.pop(_HEADER)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"dtype {raw.dtype}, shape {raw.shape}")
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: unreadable checkpoint header ({err})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not a vgglib checkpoint (header format {header.get('format')!r})"
            if isinstance(header, dict)
            else f"{path}: malformed checkpoint header"
        )
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {header.get('version')!r}, this vgglib reads version {VERSION}"
        )
    for key in ("arch", "params", "meta"):
        if key not in header:
            raise CheckpointError(f"{path}: checkpoint header lacks {key!r}")
    problems = []
    for name, info in header["params"].items():
        arr = arrays.get(f"param/{name}")
        if arr is None:
            problems.append(f"parameter {name} is listed in the header but missing")
        elif list(arr.shape) != list(info["shape"]) or arr.dtype.kind != "f":
            problems.append(f"parameter {name}: stored {arr.dtype} {arr.shape}, header says {info}")
    if problems:
        raise CheckpointError(f"{path} is inconsistent: " + "; ".join(problems))
    return header, arrays


def _differences(header: dict[str, Any], model: Sequential, check_arch: bool) -> list[str]:
    diffs: list[str] = []
    if check_arch:
        saved, mine = header["arch"], json.loads(json.dumps(model.config()))
        if saved.get("type") != mine.get("type"):
            diffs.append(f"architecture: checkpoint is a {saved.get('type')}, the model a {mine.get('type')}")
        else:
            for key in sorted(set(saved) | set(mine)):
                if key == "layers":
                    continue
                if saved.get(key) != mine.get(key):
                    diffs.append(
                        f"architecture: {key} = {saved.get(key)!r} in the checkpoint, {mine.get(key)!r} in the model"
                    )
            if saved.get("layers") != mine.get("layers") and "layers" in saved:
                for i, (a, b) in enumerate(zip(saved["layers"], mine.get("layers", []))):
                    if a != b:
                        diffs.append(f"architecture: layer {i} is {a} in the checkpoint, {b} in the model")
                if len(saved["layers"]) != len(mine.get("layers", [])):
                    diffs.append(
                        f"architecture: {len(saved['layers'])} layers in the checkpoint, "
                        f"{len(mine.get('layers', []))} in the model"
                    )
    saved_params = header["params"]
    model_params = {p.name: p.value for p in model.parameters()}
    for name in saved_params:
        if name not in model_params:
            diffs.append(f"parameter {name}: in the checkpoint, not in the model")
    for name, value in model_params.items():
        if name not in saved_params:
            diffs.append(f"parameter {name}: in the model, not in the checkpoint")
        elif tuple(saved_params[name]["shape"]) != value.shape:
            diffs.append(
                f"parameter {name}: shape {tuple(saved_params[name]['shape'])} in the checkpoint, "
                f"{value.shape} in the model"
            )
    return diffs


def _optimizer_state(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any] | None:
    info = header.get("optimizer")
    if not info:
        return None
    state: dict[str, dict[str, np.ndarray]] = {}
    for name, slots in info["state"].items():
        state[name] = {}
        for slot in slots:
            key = f"optim/{name}/{slot}"
            if key not in arrays:
                raise CheckpointError(f"checkpoint optimizer state lacks {key}")
            state[name][slot] = arrays[key]
    return {"type": info["type"], "hyper": info["hyper"], "state": state}


def load(
    path: str | os.PathLike, model: Sequential | None = None, optimizer: Any = None, strict: bool = True
) -> Checkpoint:
    """Load a checkpoint into ``model`` (or build the model it describes when ``model`` is None).

    Everything is validated before the model is touched: the file (see :func:`read`), then — with ``strict`` —
    the architecture (``model.config()`` against the saved one), then parameter names and shapes, then the
    optimizer state (if ``optimizer`` is given and the file has one: same type, names and shapes). Any mismatch
    raises :class:`CheckpointMismatchError` listing every difference, and neither the model nor the optimizer
    changes. ``strict=False`` skips the architecture comparison (names and shapes must still match).
    Returns a :class:`Checkpoint` with the model, ``meta``, optimizer state and extra arrays.
    """
    path = Path(path)
    header, arrays = read(path)
    if model is None:
        dtypes = {info["dtype"] for info in header["params"].values()} or {"float32"}
        try:
            model = build_model(header["arch"], dtype=np.dtype(sorted(dtypes)[0]))
        except (ValueError, TypeError) as err:
            raise CheckpointError(f"{path}: cannot rebuild the saved architecture: {err}") from None
    elif not isinstance(model, Sequential):
        raise TypeError(f"checkpoint.load: expected a vgglib model (Sequential/VGG16), got {type(model).__name__}")
    diffs = _differences(header, model, strict)
    opt_state = _optimizer_state(header, arrays)
    if optimizer is not None and opt_state is not None:
        if opt_state["type"] != type(optimizer).__name__:
            diffs.append(
                f"optimizer: the checkpoint holds {opt_state['type']} state, the optimizer given is "
                f"{type(optimizer).__name__}"
            )
        shapes = {p.name: p.value.shape for p in model.parameters()}
        for name, slots in opt_state["state"].items():
            if name not in shapes:
                diffs.append(f"optimizer: state for {name}, which the model does not have")
                continue
            for slot, arr in slots.items():
                if slot != "step" and arr.shape != shapes[name]:
                    diffs.append(f"optimizer: {name}/{slot} has shape {arr.shape}, the parameter {shapes[name]}")
    if diffs:
        shown = diffs[:20] + ([f"... and {len(diffs) - 20} more"] if len(diffs) > 20 else [])
        raise CheckpointMismatchError(
            f"{path} does not fit this model ({len(diffs)} difference"
            f"{'s' if len(diffs) != 1 else ''}; the model was left unchanged):\n  - " + "\n  - ".join(shown)
        )
    if optimizer is not None and opt_state is not None:
        try:
            optimizer.load_state_dict(opt_state)  # validates fully before changing anything
        except (ValueError, TypeError) as err:
            raise CheckpointError(f"{path}: bad optimizer state: {err} (the model was left unchanged)") from None
    for p in model.parameters():
        np.copyto(p.value, arrays[f"param/{p.name}"], casting="same_kind")
    extras = {k[len("extra/") :]: v for k, v in arrays.items() if k.startswith("extra/")}
    return Checkpoint(
        path=path, model=model, meta=header["meta"], optimizer_state=opt_state, arrays=extras, header=header
    )
