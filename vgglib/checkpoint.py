"""Checkpoints: a model's weights (plus optimizer and trainer state) in one ``.npz`` file — safe by design.

Used in ``notebooks/09_training_vgg16_on_mnist.ipynb`` and by :func:`vgglib.train.fit` (``checkpoint=``).

* No pickle anywhere. The file is a zip of ``.npy`` arrays: ``param/<layer>.<key>`` for every parameter,
  ``optim/<layer>.<key>/<slot>`` for the optimizer state, ``extra/<name>`` for other arrays, and
  ``__header__``: UTF-8 JSON bytes with the format version, the architecture (``model.config()``), the names,
  shapes and dtypes of the parameters, the optimizer's hyperparameters, the user's ``meta`` and a CRC-32 of
  every array. A pickle file, or an npz holding object arrays, is refused before anything in it runs (a pickle
  can execute arbitrary code when loaded).
* Atomic: written to a temporary file ``<name>.tmp-partial-<pid>-<random>`` next to the target, flushed and
  fsync'ed, then ``os.replace``'d over the target — a crash or Ctrl-C mid-save leaves the previous checkpoint
  intact, never half a file. A process killed mid-save leaves its temporary file behind; the next save to the
  same target deletes those of processes that no longer run (and untouched for a minute).
* Hostile or damaged files cost bounded time and memory and end in one :class:`CheckpointError` with a one-line
  message: :func:`read` checks the header first (its structure, the architecture, which it turns into the
  expected parameter names and shapes without allocating anything, and a parameter limit, :data:`MAX_PARAMS`),
  then that the zip holds exactly the members the header describes, then every member's ``.npy`` header (dtype,
  shape, declared size) before reading its data, then the data's CRC and that the weights are finite.
* Checked before use: :func:`load` compares names, shapes and architecture with the model, and only then copies
  the weights in. A mismatch raises :class:`CheckpointMismatchError` listing every difference, with the model
  unchanged.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomicfile import atomic_write
from .checkpoint_format import (
    FORMAT,
    HEADER,
    VERSION,
    Bad,
    NotCheckpoint,
    _crc32,
    _printable,
    _read_zip,
    _sniff,
)
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
    "MAX_PARAMS",
]
#: Largest architecture (in parameters) that :func:`read`/:func:`load` accept unless ``max_params=`` says more:
#: above ImageNet VGG16's 138M, far below what a forged header can declare. Extra arrays may hold at most this many
#: values in all. Raise it per call (``load(path, max_params=...)``) or here for every call (the CLI).
MAX_PARAMS = 200_000_000


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

    One ``.npz`` at exactly ``path`` (no suffix added), written atomically. ``meta`` must be JSON-able (its key
    ``"trainer"`` is :func:`vgglib.train.fit`'s and is checked when read); ``arrays`` are plain numeric numpy arrays
    (e.g. the trainer's current permutation). Returns the path.
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
    header["crc32"] = {key: _crc32(arr) for key, arr in payload.items()}
    payload[HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    # mypy matches the ** dict against savez's allow_pickle: bool too; no key here is "allow_pickle"
    return atomic_write(path, lambda f: np.savez(f, **payload))  # type: ignore[arg-type]


def read(path: str | os.PathLike, max_params: int | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and validate a checkpoint without touching any model: returns ``(header, arrays)``.

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError` (one line) for anything that is not
    an intact vgglib checkpoint: not a zip (e.g. a pickle), truncated or corrupt, object (pickled) arrays, a bad or
    missing header, an architecture of more than ``max_params`` parameters (default :data:`MAX_PARAMS`), members the
    header does not describe or that differ from it, non-finite weights. Time and memory stay bounded by what the
    header's architecture needs: nothing is read before it has been checked.
    """
    path = Path(path)
    limit = MAX_PARAMS if max_params is None else max_params
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}" + (" (it is a directory)" if path.is_dir() else ""))
    with open(path, "rb") as f:
        head = f.read(8)
        if not head.startswith(b"PK"):
            raise CheckpointError(f"{path} is not a vgglib checkpoint (an .npz zip archive): {_sniff(head)}")
        f.seek(0)
        try:
            return _read_zip(f, limit)
        except NotCheckpoint as err:
            raise CheckpointError(f"{path} {_printable(str(err))}") from None
        except Bad as err:
            raise CheckpointError(f"{path}: {_printable(str(err))}") from None
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            zlib.error,
            EOFError,
            OSError,
            ValueError,
            KeyError,
            NotImplementedError,
            RuntimeError,
            OverflowError,
            UnicodeError,
        ) as err:
            detail = _printable(str(err) or type(err).__name__, 120)
            raise CheckpointError(f"{path} is damaged or truncated (not a readable .npz): {detail}") from None


# ---------------------------------------------------------------------------------------------------------
# loading into a model
# ---------------------------------------------------------------------------------------------------------
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
    path: str | os.PathLike,
    model: Sequential | None = None,
    optimizer: Any = None,
    strict: bool = True,
    *,
    max_params: int | None = None,
) -> Checkpoint:
    """Load a checkpoint into ``model`` (or build the model it describes when ``model`` is None).

    Everything is validated before the model is touched (or built): the file (see :func:`read`; architectures above
    ``max_params`` parameters, default :data:`MAX_PARAMS`, are refused — unless ``model`` is given and is that
    large), then — with ``strict`` — the architecture (``model.config()`` against the saved one), then parameter
    names and shapes, then the optimizer state (if ``optimizer`` is given and the file has one: same type, names and
    shapes). Any mismatch raises :class:`CheckpointMismatchError` listing every difference, and neither the model
    nor the optimizer changes. ``strict=False`` skips the architecture comparison (names and shapes must still
    match). Returns a :class:`Checkpoint` with the model, ``meta``, optimizer state and extra arrays.
    """
    path = Path(path)
    if model is not None and not isinstance(model, Sequential):
        raise TypeError(f"checkpoint.load: expected a vgglib model (Sequential/VGG16), got {type(model).__name__}")
    limit = MAX_PARAMS if max_params is None else max_params
    if model is not None:
        limit = max(limit, model.num_params())
    header, arrays = read(path, max_params=limit)
    if model is None:
        dtypes = {info["dtype"] for info in header["params"].values()} or {"float32"}
        try:
            model = build_model(header["arch"], dtype=np.dtype(sorted(dtypes)[0]))
        except (ValueError, TypeError) as err:
            raise CheckpointError(f"{path}: cannot rebuild the saved architecture: {err}") from None
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
