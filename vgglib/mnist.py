"""The MNIST files: the IDX reader, the embedded sample, finding, downloading and checking the full data set.

Derived byte by byte in ``notebooks/07_mnist_data.ipynb``; every later notebook loads its digits with
``load_mnist(split, source)``: uint8 images (N, 28, 28) and labels (N,), from the sample shipped with vgglib
(``source="sample"``, the default: the first 6,000 training and 1,000 test images) or the four original files
(``source="full"``: found in ``data_dir``, ``$VGGLIB_DATA`` or the user cache, sha256-checked, fetched by
``download_mnist`` if asked). Turning digits into network inputs is :mod:`vgglib.preprocess`.

Bad data raises ``DataError`` (a ``ValueError``; ``ChecksumError`` for a wrong sha256) naming the file and what
was expected; missing files ``DataNotFoundError`` (a ``FileNotFoundError``) saying where it looked and what it
found there; failed downloads ``DownloadError`` (an ``OSError``). Hostile files and servers cost bounded time and
memory: a file is read no further than its header announces (a gzip bomb stops there), a download has an overall
deadline, and a redirect may not leave https. This module imports no other vgglib module.

Why one module: reading, finding, downloading and checking are the four steps of one question — "give me
these MNIST arrays, and be sure they are the right ones" — and share the file names and checksums.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import math
import os
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, BinaryIO, Literal

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
    """Downloading failed on every mirror (offline, HTTP error, refused URL or redirect, deadline passed)."""


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
#: The most dimensions an IDX header may announce here: numpy 1.x's limit (2.x: 64); MNIST has 1 or 3.
_MAX_NDIM = 32
#: Deflate's best case is 258 bytes from 2 bits: no gzip file expands more than 1032-fold.
_MAX_GZIP_RATIO = 1032
#: Bytes read (decompressed) per step, and how far trailing bytes are counted before reading stops.
_CHUNK = 1 << 20
_TRAILING_COUNT_LIMIT = 1 << 20


class _GunzipReader:
    """The decompressed bytes of a gzip file (every member, CRC and size trailers checked), read on demand.

    ``read(n)`` returns up to ``n`` bytes (fewer only at the end) and holds at most ``n`` decompressed bytes and
    one input chunk: a small file that expands enormously costs nothing until its bytes are asked for.
    """

    def __init__(self, f: BinaryIO, path: Path, size: int) -> None:
        self._f, self._path, self._size = f, path, size
        self._d: zlib._Decompress | None = None  # the current member's decompressor; None between members
        self._pending = b""  # compressed bytes read from the file, not yet given to a decompressor

    def read(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            if self._d is None:  # at a member boundary: another member, trailing garbage, or the end
                while len(self._pending) < 2 and (more := self._f.read(_CHUNK)):
                    self._pending += more
                if not self._pending:
                    break
                if self._pending[:2] != _GZIP_MAGIC:
                    extra = len(self._pending) + self._size - self._f.tell()
                    raise DataError(
                        f"{self._path}: {extra} trailing bytes after the gzip stream (not another gzip member)"
                    )
                self._d = zlib.decompressobj(wbits=31)
            data = self._d.unconsumed_tail or self._pending or self._f.read(_CHUNK)
            self._pending = b""
            if not data:
                raise DataError(
                    f"{self._path}: truncated gzip stream (ended before the gzip trailer); "
                    "the file is incomplete, fetch it again"
                )
            try:
                out += self._d.decompress(data, n - len(out))
            except zlib.error as e:
                raise DataError(f"{self._path}: corrupt gzip data ({e}); the file is damaged, fetch it again") from e
            if self._d.eof:
                self._pending = self._d.unused_data
                self._d = None
        return bytes(out)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped if named ``*.gz``, raw otherwise) into a writable numpy array.

    Format: magic ``00 00 TT DD`` (TT the element type: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float,
    0x0E double; DD the number of dimensions), then DD big-endian uint32 sizes, then the data, big-endian,
    row-major. Returns an array of that shape in native byte order (uint8 for MNIST).

    Memory and time are bounded by the size the header announces: a raw file's size is checked against it before
    the data is read, and a gzip file is decompressed step by step, never past the announced size plus one
    byte (a gzip bomb is refused after at most 1 MiB of excess), and refused at once if the header announces more
    than the file could hold.

    Raises ``DataNotFoundError`` for a missing file and ``DataError`` (one line naming the file, what was found and
    what was expected) for: a ``.gz`` file that is not gzip (or a gzip file not named ``.gz``), a corrupt or
    truncated gzip stream, a bad magic number (nonzero first bytes, unknown element type, no dimensions), more
    than 32 dimensions, a truncated header or data, an impossible size, or bytes beyond the announced size.
    """
    path = Path(path)
    if not path.is_file():
        kind = " (it is a directory)" if path.is_dir() else " (not a regular file)" if path.exists() else ""
        raise DataNotFoundError(f"IDX file not found: {path}{kind}")
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        first = f.read(4)
        f.seek(0)
        is_gz_name = path.suffix == ".gz"
        if is_gz_name and first[:2] != _GZIP_MAGIC:
            found = f"first bytes {first.hex(' ')}" if first else "the file is empty"
            raise DataError(
                f"{path}: named .gz but not gzip-compressed ({found}, expected 1f 8b); "
                "rename it without .gz if it is a raw IDX file"
            )
        if not is_gz_name and first[:2] == _GZIP_MAGIC:
            raise DataError(f"{path}: gzip-compressed but not named .gz; rename it to {path.name}.gz")
        if is_gz_name:
            return _read_idx_from(_GunzipReader(f, path, size).read, path, gzip_size=size)
        return _read_idx_from(f.read, path, raw_size=size, readinto=f.readinto)


def _read_idx_from(
    read: Callable[[int], bytes],
    path: Path,
    *,
    raw_size: int | None = None,
    gzip_size: int | None = None,
    readinto: Callable[[memoryview], int | None] | None = None,
) -> np.ndarray:
    """Parse an IDX stream: ``read(n)`` gives up to n bytes (fewer only at the end). ``raw_size``: the size of a
    raw file (the data size is then checked before reading it); ``gzip_size``: the size of a gzip file."""
    magic = read(4)
    if len(magic) < 4:
        raise DataError(f"{path}: truncated IDX header: {len(magic)} bytes, expected at least 4 (the magic number)")
    zero, type_code, ndim = struct.unpack(">HBB", magic)
    expected_magic = (
        f"expected 00 00 TT DD with TT one of {', '.join(f'{t:02x}' for t in _IDX_TYPES)} and DD >= 1 dimensions "
        "(MNIST: 0x00000803 images, 0x00000801 labels)"
    )
    problem = None
    if zero != 0:
        problem = f"first two bytes {magic[:2].hex(' ')}, not 00 00"
    elif type_code not in _IDX_TYPES:
        problem = f"unknown element type 0x{type_code:02x}"
    elif ndim == 0:
        problem = "0 dimensions"
    if problem is not None:
        raise DataError(f"{path}: bad IDX magic number 0x{magic.hex()} ({problem}): {expected_magic}")
    if ndim > _MAX_NDIM:
        raise DataError(
            f"{path}: IDX header announces {ndim} dimensions (magic 0x{magic.hex()}); expected at most {_MAX_NDIM} "
            "(MNIST: 3 for images, 1 for labels)"
        )
    header_len = 4 + 4 * ndim
    dims = read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(
            f"{path}: truncated IDX header: {4 + len(dims)} bytes, expected {header_len} for {ndim} dimensions"
        )
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = _IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    says = f"header says shape {shape} of {dtype.name} = {expected} bytes"
    nonzero = math.prod(d for d in shape if d) * dtype.itemsize
    if nonzero > sys.maxsize:  # numpy could not even describe it
        raise DataError(
            f"{path}: impossible IDX size: {says}, more than an array can hold (at most {sys.maxsize})"
            if expected
            else f"{path}: impossible IDX shape: {says}, but its nonzero sizes make {nonzero} bytes, more than an "
            f"array can hold (at most {sys.maxsize})"
        )
    if raw_size is not None:  # the whole data size is known before reading it
        got = raw_size - header_len
        if got != expected:
            raise _size_error(path, says, expected, got, exact=True)
        buf = bytearray(expected)
        view, filled = memoryview(buf), 0
        assert readinto is not None
        while filled < expected and (k := readinto(view[filled:])):
            filled += k
        if filled < expected:  # the file shrank while being read
            raise _size_error(path, says, expected, filled, exact=True)
    else:
        assert gzip_size is not None
        most = gzip_size * _MAX_GZIP_RATIO
        if header_len + expected > most:
            raise DataError(
                f"{path}: impossible IDX size: {says}, but a gzip file of {gzip_size} bytes holds at most "
                f"{most} (deflate expands at most {_MAX_GZIP_RATIO}-fold); the header is corrupt"
            )
        buf = bytearray()
        while len(buf) < expected and (chunk := read(min(_CHUNK, expected - len(buf)))):
            buf += chunk
        if len(buf) < expected:
            raise _size_error(path, says, expected, len(buf), exact=True)
        extra = len(read(1))  # reads to the end of the gzip stream if nothing follows: checks the CRC
        while 0 < extra <= _TRAILING_COUNT_LIMIT and (more := read(min(_CHUNK, _TRAILING_COUNT_LIMIT + 1 - extra))):
            extra += len(more)
        if extra:
            raise _size_error(path, says, expected, expected + extra, exact=extra <= _TRAILING_COUNT_LIMIT)
    arr = np.frombuffer(buf, dtype=dtype)  # writable: it shares the bytearray
    if not dtype.isnative:  # big-endian on this machine: swap in place, no copy
        arr = arr.byteswap(inplace=True).view(dtype.newbyteorder())
    try:
        return arr.reshape(shape)
    except ValueError as e:  # not expected after the checks above; still one clear error
        raise DataError(f"{path}: IDX shape {shape} cannot be made into an array ({e})") from e


def _size_error(path: Path, says: str, expected: int, got: int, exact: bool) -> DataError:
    if got < expected:
        return DataError(f"{path}: truncated IDX data: {says}, but only {got} bytes follow the header")
    if not exact:
        return DataError(
            f"{path}: trailing data: {says}, but more than {got - 1} bytes follow the header (stopped reading there)"
        )
    return DataError(f"{path}: {got - expected} trailing bytes: {says}, but {got} bytes follow the header")


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
    """Paths of the files ``names`` (verified), searching data_dir, $VGGLIB_DATA, the cache dir in order: the first
    folder holding all of them wins. Otherwise download them (if asked) or say, place by place, what was found."""
    places: list[tuple[str, Path | None]] = [
        ("data_dir argument", Path(data_dir).expanduser() if data_dir is not None else None),
        ("$VGGLIB_DATA", Path(os.environ["VGGLIB_DATA"]).expanduser() if os.environ.get("VGGLIB_DATA") else None),
        ("user cache directory", default_cache_dir()),
    ]

    def present(directory: Path) -> list[Path | None]:
        """Each file's path in ``directory`` (``.gz``, else decompressed), or None where it is missing."""
        found: list[Path | None] = []
        for name in names:
            gz, raw = directory / f"{name}.gz", directory / name
            found.append(gz if gz.is_file() else raw if raw.is_file() else None)
        return found

    def verified(paths: Sequence[Path]) -> list[Path]:
        for path in paths:
            sha_gz, sha_raw, _ = MNIST_FILES[path.name.removesuffix(".gz")]
            if path.suffix == ".gz":
                _check_sha256(path, sha_gz, "published sha256 of the original")
            else:
                _check_sha256(path, sha_raw, "published sha256 of the original (decompressed)")
        return list(paths)

    statuses: list[str] = []
    partial: tuple[Path, list[str], list[str]] | None = None  # the first folder holding some files, not all
    for label, directory in places:
        if directory is None:
            statuses.append(f"{label}: " + ("(not set)" if label.startswith("$") else "(not given)"))
        elif directory.is_dir():
            found = present(directory)
            if all(p is not None for p in found):
                return verified([p for p in found if p is not None])
            have = [p.name for p in found if p is not None]
            missing = [f"{name}.gz" for name, p in zip(names, found) if p is None]
            if have:
                statuses.append(f"{label}: {directory} (has {', '.join(have)}; missing {', '.join(missing)})")
                partial = partial or (directory, have, missing)
            else:
                statuses.append(f"{label}: {directory} (missing {', '.join(missing)})")
        elif directory.is_file():
            statuses.append(f"{label}: {directory} (a file, not a folder)")
        elif directory.exists():
            statuses.append(f"{label}: {directory} (not a folder)")
        else:
            statuses.append(f"{label}: {directory} (does not exist)")
    if download:
        target = next(d for _, d in places if d is not None)
        download_mnist(target, files=names, mirrors=mirrors)
        found = present(target)
        assert all(p is not None for p in found)
        return verified([p for p in found if p is not None])
    if partial is None:
        headline = f"MNIST files {', '.join(n + '.gz' for n in names)} not found."
    else:
        directory, have, missing = partial
        headline = (
            f"MNIST file{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing from {directory}, which has "
            f"{', '.join(have)} (a split's files must be in one folder)."
        )
    looked = "\n".join(f"  - {s}" for s in statuses)
    raise DataNotFoundError(
        f"{headline} Looked in, in order:\n{looked}\n"
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


def _url_allowed(url: str, http_loopback: bool = True) -> bool:
    """https, or (if ``http_loopback``) http on this machine's loopback address (the tests' local servers)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme == "https" or (http_loopback and parts.scheme == "http" and _is_loopback(parts.hostname))


def _default_deadline(size: int) -> float:
    """Seconds allowed to download a file of ``size`` bytes from one mirror: 60 s, or 1 s per 25 kB if longer
    (396 s for the 9.9 MB training images)."""
    return max(60.0, size / 25_000)


class _Watchdog:
    """A download's deadline: when it passes, the download's sockets are shut down, so that no read — of the
    headers or the body, from a stalled or trickling server — can outlast it (a per-read timeout cannot)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = math.inf
        self._fired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._end = time.monotonic() + self.seconds
        self._timer.start()

    @property
    def passed(self) -> bool:
        return self._fired or time.monotonic() >= self._end

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            fired = self._fired
        if fired:
            _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            socks = list(self._socks)
        for sock in socks:
            _shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown, also for TLS: wakes a blocked read at once, in any thread
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


def _opener(http_loopback: bool, watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    """An opener whose connections the watchdog can cut, and which refuses redirects to anything but https (or,
    from a loopback URL, loopback http) before connecting anywhere."""

    class HTTPConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.track(self.sock)

    class HTTPSConnection(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.track(self.sock)

    context = ssl.create_default_context()

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(HTTPConnection, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(HTTPSConnection, req, context=context)

    class RedirectHandler(urllib.request.HTTPRedirectHandler):
        def check(self, req: urllib.request.Request, fp: IO[bytes], newurl: str) -> None:
            if not _url_allowed(newurl, http_loopback):
                fp.close()
                raise DownloadError(
                    f"{req.full_url}: refusing the redirect to {newurl}: only https URLs"
                    + (" (or http on this machine's loopback address)" if http_loopback else "")
                )

        def http_error_302(self, req, fp, code, msg, headers):
            location = headers.get("location") or headers.get("uri")
            if location is not None:  # checked here too: the base class lets ftp:// through
                self.check(req, fp, urllib.parse.urljoin(req.full_url, location))
            return super().http_error_302(req, fp, code, msg, headers)

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            self.check(req, fp, newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    handlers: list[urllib.request.BaseHandler] = [HTTPHandler(), HTTPSHandler(context=context), RedirectHandler()]
    if http_loopback:  # loopback URLs (tests) bypass any configured proxy
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def _fetch(url: str, dest: Path, sha256: str, size: int, timeout: float, deadline: float) -> None:
    """Download ``url`` to ``dest`` atomically within ``deadline`` seconds, checking size and sha256; nothing is
    left behind on failure."""
    if not _url_allowed(url):
        raise DownloadError(f"refusing {url}: only https URLs (or http on this machine's loopback address)")
    request = urllib.request.Request(url, headers={"User-Agent": "vgglib"})
    h = hashlib.sha256()
    n = 0

    def too_slow() -> DownloadError:
        return DownloadError(
            f"{url}: not downloaded within the {deadline:g} s deadline ({n} of {size} bytes received); the mirror "
            "is stalled or too slow (download_mnist(deadline=...) allows more time)"
        )

    watchdog = _Watchdog(deadline)
    opener = _opener(_is_loopback(urllib.parse.urlsplit(url).hostname), watchdog)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                watchdog.start()
                with opener.open(request, timeout=min(timeout, deadline)) as response:
                    while chunk := response.read1(1 << 16):  # read1: whatever has arrived, so the deadline is seen
                        n += len(chunk)
                        if n > size:
                            raise ChecksumError(f"{url}: more than the expected {size} bytes; not the original file")
                        h.update(chunk)
                        f.write(chunk)
                        if watchdog.passed and n < size:
                            raise too_slow()
                f.flush()
                os.fsync(f.fileno())
        except (OSError, http.client.HTTPException, ValueError) as e:
            if watchdog.passed and not isinstance(e, (DownloadError, DataError)):
                raise too_slow() from e  # the watchdog cut the connection
            raise
        finally:
            watchdog.cancel()
        if watchdog.passed and n < size:  # the watchdog's cut looks like the end of the data
            raise too_slow()
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
    deadline: float | None = None,
) -> Path:
    """Download the original MNIST ``.gz`` files into ``directory`` (default: ``default_cache_dir()``).

    ``files``: base names (keys of ``MNIST_FILES``; default all four). Files already present with the right
    sha256 are kept; each missing one is fetched from ``mirrors`` (default ``MNIST_MIRRORS``, tried in order),
    its size and sha256 checked, and written atomically (temporary file in the same directory, fsync,
    ``os.replace``), so a failed or corrupt download leaves nothing behind. Returns the directory.

    ``timeout``: seconds one network operation may wait. ``deadline``: seconds one file's whole download from one
    mirror may take (connecting, redirects, headers and data; default 60 s, or 1 s per 25 kB of the file if longer:
    396 s for the training images); past it that mirror counts as failed. Redirects are followed to https URLs only.
    Raises ``ChecksumError`` if every mirror served a wrong file, ``DownloadError`` if none could be reached.
    """
    directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
    mirrors = tuple(MNIST_MIRRORS if mirrors is None else mirrors)
    names = list(MNIST_FILES if files is None else files)
    for name in names:
        if name not in MNIST_FILES:
            raise ValueError(f"unknown MNIST file {name!r}; expected one of {', '.join(MNIST_FILES)}")
    if deadline is not None and not deadline > 0:
        raise ValueError(f"deadline must be a positive number of seconds, got {deadline!r}")
    if directory.exists() and not directory.is_dir():
        raise DownloadError(f"cannot download the MNIST files into {directory}: it is a file, not a folder")
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
                _fetch(url, dest, sha_gz, size, timeout, _default_deadline(size) if deadline is None else deadline)
                break
            except (ChecksumError, DownloadError) as e:  # their messages name the URL
                errors.append(e)
            except (OSError, http.client.HTTPException, ValueError) as e:
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
