"""MNIST data: the IDX reader, the embedded sample, full-data loading, preprocessing and batching.

Used in ``notebooks/07_mnist_data.ipynb`` (every function here is shown there) and by the trainer in
``notebooks/09_training_vgg16_on_mnist.ipynb``.

Reading:
    ``read_idx(path)``          any IDX file, gzipped or raw, fully validated.
    ``load_mnist(split, source)`` uint8 images (N, 28, 28) and uint8 labels (N,). ``source="sample"`` (the
                                default) reads the small sample shipped with vgglib (the first 6,000 training and
                                first 1,000 test images); ``source="full"`` the four original files, found in
                                ``data_dir``, then ``$VGGLIB_DATA``, then the user cache directory, and checked
                                against their published sha256. ``download=True`` fetches missing files.

Preprocessing (the seed project's steps, done right):
    ``to_float`` uint8 -> float32 in [0, 1] (a new array, never in place), ``standardize`` with the MNIST
    constants, ``resize`` (zoom or pad, vectorised over the batch), ``prepare`` (all of it in one call:
    uint8 (N, 28, 28) -> standardized float32 (N, 1, S, S)), ``one_hot``, ``shuffle`` (ONE permutation for
    images and labels), ``train_val_split``, ``batches`` and ``BatchLoader`` (lazy, per-batch preprocessing
    so the full resized training set is never held in memory).

Bad data raises ``DataError`` (a ``ValueError``) naming the file and what was expected; missing files raise
``DataNotFoundError`` (a ``FileNotFoundError``); failed downloads ``DownloadError`` (an ``OSError``).
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
import os
import struct
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Callable, Iterator, Literal, Sequence

import numpy as np
from scipy import ndimage

__all__ = [
    "DataError", "ChecksumError", "DataNotFoundError", "DownloadError",
    "MNIST_MEAN", "MNIST_STD", "MNIST_FILES", "MNIST_MIRRORS", "SAMPLE_FILES", "SAMPLE_SIZES",
    "read_idx", "load_mnist", "download_mnist", "default_cache_dir", "sample_dir", "sha256_file",
    "to_float", "standardize", "resize", "prepare", "one_hot", "shuffle", "train_val_split",
    "batches", "BatchLoader",
]

# --------------------------------------------------------------------------------------------- errors


class DataError(ValueError):
    """A data file (or array) is malformed: wrong format, size, checksum or values."""


class ChecksumError(DataError):
    """A file's sha256 differs from the published one."""


class DataNotFoundError(FileNotFoundError):
    """A data file or data set could not be found; the message says where we looked."""


class DownloadError(OSError):
    """Downloading failed on every mirror (offline, HTTP error, refused URL)."""


# --------------------------------------------------------------------------------------------- constants

#: Mean and standard deviation of the 47,040,000 training pixels after scaling to [0, 1]
#: (sum of pixels 1,567,298,545 / 255 / 47,040,000 = 0.1307; std 0.3081).
MNIST_MEAN: float = 0.1307
MNIST_STD: float = 0.3081

#: The four original files: name -> (sha256 of the .gz, sha256 of the decompressed IDX, size of the .gz).
#: Published MD5s and provenance: ``../shared/data/mnist/README.md``; the same table is in ``data/README.md``.
MNIST_FILES: dict[str, tuple[str, str, int]] = {
    "train-images-idx3-ubyte": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 9_912_422),
    "train-labels-idx1-ubyte": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 28_881),
    "t10k-images-idx3-ubyte": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 1_648_877),
    "t10k-labels-idx1-ubyte": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 4_542),
}

_SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: HTTPS mirrors holding byte-identical copies of the four .gz files (tried in order).
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: The embedded sample (built by ``data/build_sample.py``): file name -> sha256, per split (images, labels).
SAMPLE_FILES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "train": (
        ("train-images-first6000.idx3.gz", "538007a3fb8daaa77a49f305cfe95b4afd057766e0bc1565a522257e954ac292"),
        ("train-labels-first6000.idx1.gz", "5ad95efeea175e5b2e76a77b9b7dc6efea88a6be7e5bc9a6fe02a0e6e4c6d9fe")),
    "test": (
        ("t10k-images-first1000.idx3.gz", "b00e6d59a5dbdc0cc6d3f2df99d2663a76173b087ba8e2eb4356c2d63078523d"),
        ("t10k-labels-first1000.idx1.gz", "9e8f0df6e9590b891a4e9fc7dd76799e6fb1286a66a87be8162e42acd2b7493c")),
}
#: Number of images in the sample, per split: the first N of the original files.
SAMPLE_SIZES: dict[str, int] = {"train": 6000, "test": 1000}

_FULL_SIZES = {"train": 60000, "test": 10000}

# --------------------------------------------------------------------------------------------- IDX reader

# IDX element types: third magic byte -> big-endian numpy dtype.
_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _gunzip(data: bytes, path: Path) -> bytes:
    """Decompress all gzip members of ``data`` in one pass through zlib (CRC and size trailers checked)."""
    out = []
    rest = data
    while rest:
        if rest[:2] != _GZIP_MAGIC:
            raise DataError(f"{path}: {len(rest)} trailing bytes after the gzip stream (not another gzip member)")
        d = zlib.decompressobj(wbits=31)
        try:
            out.append(d.decompress(rest))
        except zlib.error as e:
            raise DataError(f"{path}: corrupt gzip data ({e}); the file is damaged, fetch it again") from e
        if not d.eof:
            raise DataError(f"{path}: truncated gzip stream (ended before the gzip trailer); "
                            "the file is incomplete, fetch it again")
        rest = d.unused_data
    return out[0] if len(out) == 1 else b"".join(out)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped if named ``*.gz``, raw otherwise) into a writable numpy array.

    Format: magic ``00 00 TT DD`` (TT the element type: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float,
    0x0E double; DD the number of dimensions), then DD big-endian uint32 sizes, then the data, big-endian,
    row-major. Returns an array of that shape in native byte order (uint8 for MNIST).

    Raises ``DataNotFoundError`` for a missing file and ``DataError`` for: a ``.gz`` file that is not gzip (or a
    gzip file not named ``.gz``), a corrupt or truncated gzip stream, a wrong magic number, a truncated header or
    data, trailing bytes, or a data size that is not what the header announces.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"IDX file not found: {path}" + (" (it is a directory)" if path.is_dir() else ""))
    data = path.read_bytes()
    is_gz_name = path.suffix == ".gz"
    if is_gz_name and data[:2] != _GZIP_MAGIC:
        raise DataError(f"{path}: named .gz but not gzip-compressed (first bytes {data[:4].hex(' ')}, "
                        f"expected 1f 8b); rename it without .gz if it is a raw IDX file")
    if not is_gz_name and data[:2] == _GZIP_MAGIC:
        raise DataError(f"{path}: gzip-compressed but not named .gz; rename it to {path.name}.gz")
    if is_gz_name:
        data = _gunzip(data, path)
    return _parse_idx(data, path)


def _parse_idx(data: bytes, path: Path) -> np.ndarray:
    if len(data) < 4:
        raise DataError(f"{path}: truncated IDX header: {len(data)} bytes, expected at least 4 (the magic number)")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise DataError(f"{path}: bad IDX magic number 0x{data[:4].hex()}: expected 00 00 TT DD with TT one of "
                        f"{', '.join(f'{t:02x}' for t in _IDX_TYPES)} and DD >= 1 dimensions "
                        "(MNIST: 0x00000803 images, 0x00000801 labels)")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(f"{path}: truncated IDX header: {len(data)} bytes, expected {header_len} "
                        f"for {ndim} dimensions")
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    got = len(data) - header_len
    if got < expected:
        raise DataError(f"{path}: truncated IDX data: header says shape {shape} of {dtype.name} "
                        f"= {expected} bytes, but only {got} bytes follow the header")
    if got > expected:
        raise DataError(f"{path}: {got - expected} trailing bytes: header says shape {shape} of {dtype.name} "
                        f"= {expected} bytes, but {got} bytes follow the header")
    if dtype.itemsize == 1:
        arr = np.frombuffer(bytearray(memoryview(data)[header_len:]), dtype=dtype.newbyteorder("="))
    else:
        arr = np.frombuffer(data, dtype=dtype, offset=header_len).astype(dtype.newbyteorder("="))
    return arr.reshape(shape)


# --------------------------------------------------------------------------------------------- locating files


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_cache_dir() -> Path:
    """The user cache directory for the full data set: ``$XDG_CACHE_HOME/vgglib/mnist`` (default
    ``~/.cache/vgglib/mnist``; on Windows ``%LOCALAPPDATA%\\vgglib\\mnist``)."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "vgglib" / "mnist"


def sample_dir() -> Path:
    """Directory of the embedded sample: ``vgglib/_sample`` in an installed wheel, ``data/mnist_sample`` in a
    clone or editable install. Raises ``DataNotFoundError`` naming both places if neither holds it."""
    here = Path(__file__).resolve().parent
    candidates = [here / "_sample", here.parent / "data" / "mnist_sample"]
    first = SAMPLE_FILES["train"][0][0]
    for d in candidates:
        if (d / first).is_file():
            return d
    raise DataNotFoundError("the embedded MNIST sample is missing; looked in "
                            + " and ".join(str(d) for d in candidates)
                            + ". Reinstall vgglib, or rebuild it with data/build_sample.py")


def _check_sha256(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumError(f"{path}: sha256 {actual} does not match the {what} {expected}; "
                            "the file is damaged or not the original: delete it and fetch it again")


def _find_full(names: Sequence[str], data_dir, download: bool, mirrors) -> list[Path]:
    """Paths of the files ``names`` (verified), searching data_dir, $VGGLIB_DATA, the cache dir in order."""
    places: list[tuple[str, Path | None]] = [
        ("data_dir argument", Path(data_dir).expanduser() if data_dir is not None else None),
        ("$VGGLIB_DATA", Path(os.environ["VGGLIB_DATA"]).expanduser() if os.environ.get("VGGLIB_DATA") else None),
        ("user cache directory", default_cache_dir()),
    ]

    def locate(directory: Path) -> list[Path] | None:
        found = []
        for name in names:
            sha_gz, sha_raw, _ = MNIST_FILES[name]
            gz, raw = directory / f"{name}.gz", directory / name
            if gz.is_file():
                _check_sha256(gz, sha_gz, "published sha256 of the original")
                found.append(gz)
            elif raw.is_file():
                _check_sha256(raw, sha_raw, "published sha256 of the original (decompressed)")
                found.append(raw)
            else:
                return None
        return found

    for _, directory in places:
        if directory is not None and directory.is_dir():
            found = locate(directory)
            if found is not None:
                return found
    if download:
        target = next(d for _, d in places if d is not None)
        download_mnist(target, files=names, mirrors=mirrors)
        found = locate(target)
        assert found is not None
        return found
    looked = "\n".join(f"  - {label}: " + (("(not set)" if label.startswith("$") else "(not given)") if d is None else
                                           f"{d}" + ("" if d.is_dir() else " (does not exist)"))
                       for label, d in places)
    raise DataNotFoundError(
        f"MNIST files {', '.join(n + '.gz' for n in names)} not found. Looked in, in order:\n{looked}\n"
        "Get them with load_mnist(..., download=True) (from " + ", ".join(MNIST_MIRRORS) + "), "
        "or copy the four original .gz files into a directory and set VGGLIB_DATA to it "
        "(or pass data_dir=). The embedded sample needs no files: load_mnist(source='sample').")


# --------------------------------------------------------------------------------------------- downloading


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fetch(url: str, dest: Path, sha256: str, size: int, timeout: float) -> None:
    """Download ``url`` to ``dest`` atomically, checking size and sha256; nothing is left behind on failure."""
    parts = urllib.parse.urlsplit(url)
    loopback = _is_loopback(parts.hostname)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise DownloadError(f"refusing {url}: only https URLs (or http on this machine's loopback address)")
    # Loopback URLs (tests) bypass any configured proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({})) if loopback else \
        urllib.request.build_opener()
    request = urllib.request.Request(url, headers={"User-Agent": "vgglib"})
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        h = hashlib.sha256()
        n = 0
        with os.fdopen(fd, "wb") as f, opener.open(request, timeout=timeout) as response:
            while chunk := response.read(1 << 16):
                n += len(chunk)
                if n > size:
                    raise ChecksumError(f"{url}: more than the expected {size} bytes; not the original file")
                h.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        if h.hexdigest() != sha256:
            raise ChecksumError(f"{url}: downloaded {n} bytes with sha256 {h.hexdigest()}, expected {sha256} "
                                f"({size} bytes); the mirror's copy is damaged or not the original")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def download_mnist(directory: str | os.PathLike | None = None, *, files: Sequence[str] | None = None,
                   mirrors: Sequence[str] | None = None, timeout: float = 30.0) -> Path:
    """Download the original MNIST ``.gz`` files into ``directory`` (default: ``default_cache_dir()``).

    ``files``: base names (keys of ``MNIST_FILES``; default all four). Files already present with the right
    sha256 are kept; each missing one is fetched from ``mirrors`` (default ``MNIST_MIRRORS``, tried in order),
    its size and sha256 checked, and written atomically (temporary file in the same directory, fsync,
    ``os.replace``), so a failed or corrupt download leaves nothing behind. Returns the directory.
    Raises ``ChecksumError`` if every mirror served a wrong file, ``DownloadError`` if none could be reached.
    """
    directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
    mirrors = tuple(MNIST_MIRRORS if mirrors is None else mirrors)
    names = list(MNIST_FILES if files is None else files)
    for name in names:
        if name not in MNIST_FILES:
            raise ValueError(f"unknown MNIST file {name!r}; expected one of {', '.join(MNIST_FILES)}")
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        sha_gz, _, size = MNIST_FILES[name]
        dest = directory / f"{name}.gz"
        if dest.is_file():
            _check_sha256(dest, sha_gz, "published sha256 of the original")
            continue
        errors: list[BaseException] = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + f"/{name}.gz"
            try:
                _fetch(url, dest, sha_gz, size, timeout)
                break
            except ChecksumError as e:
                errors.append(e)
            except (OSError, urllib.error.URLError, ValueError) as e:
                errors.append(DownloadError(f"{url}: {e}"))
        else:
            detail = "\n".join(f"  - {e}" for e in errors) or "  (no mirrors given)"
            if errors and all(isinstance(e, ChecksumError) for e in errors):
                raise ChecksumError(f"could not get a valid {name}.gz; every mirror served a wrong file:\n{detail}")
            raise DownloadError(
                f"could not download {name}.gz into {directory} (offline?). Tried:\n{detail}\n"
                f"Copy the original files there by hand (sha256 {sha_gz} for this one), "
                "or use load_mnist(source='sample'), which needs no network.")
    return directory


# --------------------------------------------------------------------------------------------- loading


def _check_pair(images: np.ndarray, labels: np.ndarray, where: str, n: int | None) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{where}: images have dtype {images.dtype} and shape {images.shape}; "
                        "expected uint8 (N, 28, 28)")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{where}: labels have dtype {labels.dtype} and shape {labels.shape}; expected uint8 (N,)")
    if len(images) != len(labels):
        raise DataError(f"{where}: {len(images)} images but {len(labels)} labels; expected equal counts")
    if n is not None and len(images) != n:
        raise DataError(f"{where}: {len(images)} images, expected {n}")
    if labels.size and labels.max() > 9:
        raise DataError(f"{where}: labels must be digits 0..9, found {int(labels.max())}")


def load_mnist(split: Literal["train", "test"] = "train", source: Literal["sample", "full"] = "sample",
               data_dir: str | os.PathLike | None = None, download: bool = False, *,
               mirrors: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST: ``(images uint8 (N, 28, 28), labels uint8 (N,))``, pixels 0 (background) .. 255 (ink).

    ``source="sample"`` (default; no files or network needed): the embedded sample, the first 6,000 training /
    first 1,000 test images of the original files (sha256-checked). ``source="full"``: 60,000 / 10,000 images
    from the original files, looked up in ``data_dir``, then ``$VGGLIB_DATA``, then ``default_cache_dir()``
    (``.gz`` or decompressed, checked against the published sha256). If they are missing it raises
    ``DataNotFoundError`` listing where it looked, unless ``download=True``: then the missing files are fetched
    (``download_mnist``; ``mirrors`` overrides ``MNIST_MIRRORS``) into the first of those places that is set.
    """
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if source == "sample":
        d = sample_dir()
        paths = []
        for name, sha in SAMPLE_FILES[split]:
            p = d / name
            _check_sha256(p, sha, "recorded sha256 of the embedded sample")
            paths.append(p)
        n = SAMPLE_SIZES[split]
    elif source == "full":
        paths = _find_full(_SPLIT_FILES[split], data_dir, download, mirrors)
        n = _FULL_SIZES[split]
    else:
        raise ValueError(f"source must be 'sample' or 'full', got {source!r}")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    _check_pair(images, labels, f"{paths[0]} / {paths[1]}", n)
    return images, labels


# --------------------------------------------------------------------------------------------- preprocessing


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 -> a new float32 array in [0, 1], same shape.

    Never in place: the seed divided a uint8 array in place, which wraps around instead of scaling."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"to_float expects uint8 pixels 0..255, got dtype {images.dtype}"
                        + (" (already converted?)" if images.dtype.kind == "f" else ""))
    return np.divide(images, np.float32(255), dtype=np.float32)


def standardize(x: np.ndarray, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> np.ndarray:
    """(x - mean) / std as a new float array (float32 stays float32). Defaults: the MNIST training-set pixel
    mean 0.1307 and std 0.3081 of images scaled to [0, 1], so call ``to_float`` first."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"standardize expects float images in [0, 1] (use to_float first), got dtype {x.dtype}")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    return (x - x.dtype.type(mean)) / x.dtype.type(std)


def resize(images: np.ndarray, size: int, method: Literal["zoom", "pad"] = "zoom", *, order: int = 1,
           pad_value: float = 0.0) -> np.ndarray:
    """Resize a batch of square images (N, H, W) or (N, C, H, W) to size x size, same layout and dtype.

    ``method="zoom"``: one ``scipy.ndimage.zoom`` call over the whole (N*C, H, W) stack (zoom factor 1 on the
    stack axis, so images never mix), spline ``order`` 0 or 1 (corner pixels aligned, scipy's default; the seed
    zoomed 28 -> 64).
    Integer images are interpolated in float32 and rounded back. ``method="pad"``: add ``pad_value``
    (background) borders, (size - H) // 2 before and the rest after: 28 -> 32 pads 2 on each side and keeps
    every pixel exact.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or images.shape[-1] != images.shape[-2]:
        raise ValueError(f"resize expects square images (N, H, W) or (N, C, H, W), got shape {images.shape}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    h = images.shape[-1]
    lead = images.ndim - 2
    if size == h:
        return images.copy()
    if method == "pad":
        if size < h:
            raise ValueError(f"method='pad' can only grow images: {h} -> {size}; use method='zoom'")
        before = (size - h) // 2
        widths = [(0, 0)] * lead + [(before, size - h - before)] * 2
        return np.pad(images, widths, constant_values=pad_value)
    if method != "zoom":
        raise ValueError(f"method must be 'zoom' or 'pad', got {method!r}")
    if order not in (0, 1):
        # Higher orders prefilter along the batch axis too, which would blend neighbouring images.
        raise ValueError(f"order must be 0 or 1 for a batch-vectorised zoom, got {order}")
    # One 3-D zoom over the (N*C, H, W) stack (a 4-D zoom would be ~3x slower: 16 taps per pixel instead of 8).
    stack = images.reshape(-1, h, h)
    if images.dtype.kind != "f":
        stack = stack.astype(np.float32)
    out = ndimage.zoom(stack, (1, size / h, size / h), order=order)
    if out.shape[-2:] != (size, size):  # zoom rounds the output size; never expected for integral sizes
        raise AssertionError(f"zoom produced {out.shape}, expected size {size}")
    if images.dtype.kind != "f":
        info = np.iinfo(images.dtype)
        out = np.clip(np.rint(out), info.min, info.max).astype(images.dtype)
    return out.reshape(images.shape[:-2] + (size, size))


def prepare(images: np.ndarray, size: int = 32, method: Literal["zoom", "pad"] = "pad",
            normalize: Callable[[np.ndarray], np.ndarray] | None = standardize) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 (N, 1, size, size), the network's input, in one call.

    Steps: ``to_float`` ([0, 1]), add the channel axis, ``resize(size, method)``, then ``normalize``
    (default ``standardize`` with the MNIST constants; ``None`` keeps [0, 1]; any callable, e.g. a fitted
    ``vgglib.augment.ZCAWhitening``). ``size=32, method="pad"`` suits VGG16's five 2x2 poolings;
    ``size=64, method="zoom"`` is the seed's input.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"prepare expects uint8 images (N, H, W), got shape {images.shape}")
    x = resize(to_float(images)[:, None], size, method)
    if normalize is not None:
        x = normalize(x)
    return np.ascontiguousarray(x, dtype=np.float32)


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Integer labels (N,) -> float32 (N, num_classes) with a single 1 per row."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"one_hot expects integer labels (N,), got dtype {labels.dtype} shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in 0..{num_classes - 1}, found {labels.min()}..{labels.max()}")
    out = np.zeros((labels.size, num_classes), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_xy(X: np.ndarray, y: np.ndarray) -> None:
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}; expected equal lengths")


def shuffle(X: np.ndarray, y: np.ndarray, rng: np.random.Generator | int | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle images and labels with ONE permutation, so every image keeps its label (new arrays).

    The seed shuffled the images and the labels with two separate shuffles: afterwards the labels were
    random with respect to the images."""
    _check_xy(X, y)
    perm = _rng(rng).permutation(len(X))
    return X[perm], y[perm]


def train_val_split(X: np.ndarray, y: np.ndarray, val_size: float | int = 0.1,
                    rng: np.random.Generator | int | None = None
                    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split into ``((X_train, y_train), (X_val, y_val))``.

    ``val_size``: a fraction in (0, 1) or a count. Without ``rng`` the last samples become the validation set
    (deterministic, original order); with ``rng`` the samples are shuffled first (one permutation)."""
    _check_xy(X, y)
    n = len(X)
    if isinstance(val_size, float) and not 0 < val_size < 1:
        raise ValueError(f"val_size as a fraction must be in (0, 1), got {val_size}")
    n_val = round(n * val_size) if isinstance(val_size, float) else int(val_size)
    if not 0 < n_val < n:
        raise ValueError(f"val_size {val_size!r} gives {n_val} of {n} samples; need between 1 and {n - 1}")
    idx = _rng(rng).permutation(n) if rng is not None else np.arange(n)
    tr, va = idx[:n - n_val], idx[n - n_val:]
    return (X[tr], y[tr]), (X[va], y[va])


def batches(X: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator | int | None = None,
            drop_last: bool = False, transform: Callable[[np.ndarray], np.ndarray] | None = None
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs of ``batch_size`` samples (the last one smaller unless ``drop_last``).

    With ``rng`` the order is one permutation drawn up front (images and labels stay together); without it the
    original order. ``transform`` is applied to each image batch only (labels untouched), lazily, so e.g. the
    resized full training set is never materialised."""
    _check_xy(X, y)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return _batches(X, y, int(batch_size), rng, drop_last, transform)


def _batches(X, y, batch_size, rng, drop_last, transform):
    n = len(X)
    order = _rng(rng).permutation(n) if rng is not None else None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            xb, yb = X[idx], y[idx]
        yield (transform(xb) if transform is not None else xb), yb


class BatchLoader:
    """Lazily preprocessed mini-batches of MNIST for training and evaluation.

    Holds the uint8 images (N, 28, 28) (47 MB for the full training set) and preprocesses one batch at a time:
    ``to_float`` -> ``augment(x, rng)`` on float32 (B, 1, 28, 28) in [0, 1] (background 0) -> ``resize(size,
    method)`` -> ``normalize`` (default ``standardize``). So 60,000 images at 64x64 float32 (~1 GB) are never
    held at once.

    Contract: ``loader.epoch(rng)`` yields ``(x, y)`` with ``x`` a C-contiguous float32 array
    (B, 1, size, size) (NCHW) and ``y`` the labels (B,) in the dtype given (uint8 for MNIST, not one-hot),
    B = ``batch_size`` except a smaller last batch unless ``drop_last``. With ``rng`` (a Generator or int seed)
    the order is one permutation drawn at the start of the epoch, then the same ``rng`` drives ``augment``; so
    the same seed gives the same batches, and the labels sequence does not depend on ``augment``. ``epoch()``
    without ``rng`` (and ``iter(loader)``) go in the original order; that needs ``augment=None``.
    ``len(loader)`` is the number of batches per epoch. ``augment`` is any callable ``(x, rng) -> x`` that keeps
    shape and dtype, e.g. ``vgglib.augment.Compose([...])``.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int = 64, *, size: int = 32,
                 method: Literal["zoom", "pad"] = "pad",
                 augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
                 normalize: Callable[[np.ndarray], np.ndarray] | None = standardize, drop_last: bool = False):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(f"BatchLoader expects uint8 images (N, H, W), got {images.dtype} {images.shape}")
        _check_xy(images, labels)
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if method not in ("zoom", "pad"):
            raise ValueError(f"method must be 'zoom' or 'pad', got {method!r}")
        self.images, self.labels = images, labels
        self.batch_size, self.size, self.method = int(batch_size), int(size), method
        self.augment, self.normalize, self.drop_last = augment, normalize, drop_last

    def __len__(self) -> int:
        n = len(self.images)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _transform(self, xb: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        x = to_float(xb)[:, None]
        if self.augment is not None:
            x = self.augment(x, rng)
        x = resize(x, self.size, self.method)
        if self.normalize is not None:
            x = self.normalize(x)
        return np.ascontiguousarray(x, dtype=np.float32)

    def epoch(self, rng: np.random.Generator | int | None = None, *, shuffle: bool = True
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One pass over the data (see the class docstring); ``shuffle=False`` keeps the order but still
        augments with ``rng``."""
        if rng is None and self.augment is not None:
            raise ValueError("this loader augments: pass a seeded rng, loader.epoch(rng), so runs are repeatable")
        gen = _rng(rng) if rng is not None else None
        return batches(self.images, self.labels, self.batch_size, gen if shuffle else None, self.drop_last,
                       transform=lambda xb: self._transform(xb, gen))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return self.epoch()

    def __repr__(self) -> str:
        return (f"BatchLoader({len(self.images)} images, batch_size={self.batch_size}, size={self.size}, "
                f"method={self.method!r}, augment={self.augment!r}, drop_last={self.drop_last})")
