"""The MNIST files: the IDX reader, the embedded sample, finding, downloading and checking the full data set.

Derived byte by byte in ``notebooks/07_mnist_data.ipynb``; every later notebook loads its digits with
``load_mnist(split, source)``: uint8 images (N, 28, 28) and labels (N,), from the sample shipped with vgglib
(``source="sample"``, the default: the first 6,000 training and 1,000 test images) or the four original files
(``source="full"``: found in ``data_dir``, ``$VGGLIB_DATA`` or the user cache, sha256-checked, fetched by
``download_mnist`` if asked). Turning digits into network inputs is :mod:`vgglib.preprocess`.

Bad data raises ``DataError`` (a ``ValueError``; ``ChecksumError`` for a wrong sha256) naming the file and what
was expected; missing files ``DataNotFoundError`` (a ``FileNotFoundError``) saying where it looked; failed
downloads ``DownloadError`` (an ``OSError``). This module imports no other vgglib module.

Why one module: reading, finding, downloading and checking are the four steps of one question — "give me
these MNIST arrays, and be sure they are the right ones" — and share the file names and checksums.
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
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

__all__ = [
    "DataError",
    "ChecksumError",
    "DataNotFoundError",
    "DownloadError",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "SAMPLE_FILES",
    "SAMPLE_SIZES",
    "read_idx",
    "load_mnist",
    "download_mnist",
    "default_cache_dir",
    "sample_dir",
    "sha256_file",
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

#: The four original files: name -> (sha256 of the .gz, sha256 of the decompressed IDX, size of the .gz).
#: Published MD5s and provenance: ``../shared/data/mnist/README.md``; the same table is in ``data/README.md``.
MNIST_FILES: dict[str, tuple[str, str, int]] = {
    "train-images-idx3-ubyte": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        9_912_422,
    ),
    "train-labels-idx1-ubyte": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        28_881,
    ),
    "t10k-images-idx3-ubyte": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        1_648_877,
    ),
    "t10k-labels-idx1-ubyte": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        4_542,
    ),
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
        ("train-labels-first6000.idx1.gz", "5ad95efeea175e5b2e76a77b9b7dc6efea88a6be7e5bc9a6fe02a0e6e4c6d9fe"),
    ),
    "test": (
        ("t10k-images-first1000.idx3.gz", "b00e6d59a5dbdc0cc6d3f2df99d2663a76173b087ba8e2eb4356c2d63078523d"),
        ("t10k-labels-first1000.idx1.gz", "9e8f0df6e9590b891a4e9fc7dd76799e6fb1286a66a87be8162e42acd2b7493c"),
    ),
}
#: Number of images in the sample, per split: the first N of the original files.
SAMPLE_SIZES: dict[str, int] = {"train": 6000, "test": 1000}

_FULL_SIZES = {"train": 60000, "test": 10000}

# --------------------------------------------------------------------------------------------- IDX reader

# IDX element types: third magic byte -> big-endian numpy dtype.
_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
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
            raise DataError(
                f"{path}: truncated gzip stream (ended before the gzip trailer); the file is incomplete, fetch it again"
            )
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
        raise DataError(
            f"{path}: named .gz but not gzip-compressed (first bytes {data[:4].hex(' ')}, "
            f"expected 1f 8b); rename it without .gz if it is a raw IDX file"
        )
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
        raise DataError(
            f"{path}: bad IDX magic number 0x{data[:4].hex()}: expected 00 00 TT DD with TT one of "
            f"{', '.join(f'{t:02x}' for t in _IDX_TYPES)} and DD >= 1 dimensions "
            "(MNIST: 0x00000803 images, 0x00000801 labels)"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(f"{path}: truncated IDX header: {len(data)} bytes, expected {header_len} for {ndim} dimensions")
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    got = len(data) - header_len
    if got < expected:
        raise DataError(
            f"{path}: truncated IDX data: header says shape {shape} of {dtype.name} "
            f"= {expected} bytes, but only {got} bytes follow the header"
        )
    if got > expected:
        raise DataError(
            f"{path}: {got - expected} trailing bytes: header says shape {shape} of {dtype.name} "
            f"= {expected} bytes, but {got} bytes follow the header"
        )
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
    raise DataNotFoundError(
        "the embedded MNIST sample is missing; looked in "
        + " and ".join(str(d) for d in candidates)
        + ". Reinstall vgglib, or rebuild it with data/build_sample.py"
    )


def _check_sha256(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumError(
            f"{path}: sha256 {actual} does not match the {what} {expected}; "
            "the file is damaged or not the original: delete it and fetch it again"
        )


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
    looked = "\n".join(
        f"  - {label}: "
        + (
            ("(not set)" if label.startswith("$") else "(not given)")
            if d is None
            else f"{d}" + ("" if d.is_dir() else " (does not exist)")
        )
        for label, d in places
    )
    raise DataNotFoundError(
        f"MNIST files {', '.join(n + '.gz' for n in names)} not found. Looked in, in order:\n{looked}\n"
        "Get them with load_mnist(..., download=True) (from " + ", ".join(MNIST_MIRRORS) + "), "
        "or copy the four original .gz files into a directory and set VGGLIB_DATA to it "
        "(or pass data_dir=). The embedded sample needs no files: load_mnist(source='sample')."
    )


# --------------------------------------------------------------------------------------------- downloading


def _is_loopback(host: str | None) -> bool:
    try:
        return host == "localhost" or (host is not None and ipaddress.ip_address(host).is_loopback)
    except ValueError:  # a host name, not an address
        return False


def _fetch(url: str, dest: Path, sha256: str, size: int, timeout: float) -> None:
    """Download ``url`` to ``dest`` atomically, checking size and sha256; nothing is left behind on failure."""
    parts = urllib.parse.urlsplit(url)
    loopback = _is_loopback(parts.hostname)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise DownloadError(f"refusing {url}: only https URLs (or http on this machine's loopback address)")
    # Loopback URLs (tests) bypass any configured proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({})) if loopback else urllib.request.build_opener()
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
            raise ChecksumError(
                f"{url}: downloaded {n} bytes with sha256 {h.hexdigest()}, expected {sha256} "
                f"({size} bytes); the mirror's copy is damaged or not the original"
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def download_mnist(
    directory: str | os.PathLike | None = None,
    *,
    files: Sequence[str] | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30.0,
) -> Path:
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
                "or use load_mnist(source='sample'), which needs no network."
            )
    return directory


# --------------------------------------------------------------------------------------------- loading


def _check_pair(images: np.ndarray, labels: np.ndarray, where: str, n: int | None) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"{where}: images have dtype {images.dtype} and shape {images.shape}; expected uint8 (N, 28, 28)"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{where}: labels have dtype {labels.dtype} and shape {labels.shape}; expected uint8 (N,)")
    if len(images) != len(labels):
        raise DataError(f"{where}: {len(images)} images but {len(labels)} labels; expected equal counts")
    if n is not None and len(images) != n:
        raise DataError(f"{where}: {len(images)} images, expected {n}")
    if labels.size and labels.max() > 9:
        raise DataError(f"{where}: labels must be digits 0..9, found {int(labels.max())}")


def load_mnist(
    split: Literal["train", "test"] = "train",
    source: Literal["sample", "full"] = "sample",
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    *,
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
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
