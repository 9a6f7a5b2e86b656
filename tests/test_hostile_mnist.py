"""Hostile input for vgglib.mnist: bombs, malformed headers, fuzzed files, misplaced data, stalling and redirecting
servers. Every case ends quickly, in bounded memory, with one clear error (``DataError`` for a bad file,
``DataNotFoundError`` for missing files, ``DownloadError`` for a failed download)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

import vgglib.mnist as D
from vgglib.mnist import DataError, DataNotFoundError, DownloadError, load_mnist, read_idx

MIB = 1 << 20


def idx_bytes(arr: np.ndarray, type_code: int) -> bytes:
    header = struct.pack(">BBBB", 0, 0, type_code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def header(type_code: int, *shape: int) -> bytes:
    return struct.pack(">BBBB", 0, 0, type_code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def assert_one_clear_line(err: BaseException, path: Path) -> str:
    msg = str(err)
    assert type(err) is DataError, f"{type(err).__name__}: {msg}"
    assert "\n" not in msg and msg.startswith(f"{path}: "), msg
    return msg


# ------------------------------------------------------------------------------------------------ bombs


def write_gzip_bomb(path: Path, head: bytes, zeros_mib: int) -> None:
    """One gzip member: ``head`` then ``zeros_mib`` MiB of zeros, made in a blink: a full flush makes each MiB's
    deflate bytes self-contained, so the same ~1 KB is written ``zeros_mib`` times (CRC and size are the real
    ones: a valid gzip file)."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(MIB)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(head)
    for _ in range(zeros_mib):
        crc = zlib.crc32(zeros, crc)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first)
        for _ in range(zeros_mib):
            f.write(block)
        f.write(co.flush(zlib.Z_FINISH))
        f.write(struct.pack("<II", crc, (len(head) + zeros_mib * MIB) & 0xFFFFFFFF))


def decompressed_size(path: Path) -> int:
    """Size of a gzip file's content, in bounded memory (and checking it is valid gzip)."""
    d, n = zlib.decompressobj(wbits=31), 0
    with open(path, "rb") as f:
        while data := f.read(MIB):
            while data:
                n += len(d.decompress(data, 16 * MIB))
                data = d.unconsumed_tail
    assert d.eof
    return n


BOUNDED_READ = """
import json, resource, sys, time
import vgglib.mnist as D

def address_space():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))

limit = address_space() + 256 * 2**20  # 256 MiB more than after the imports: far less than the bombs expand to
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = {}
for path in sys.argv[1:]:
    start = time.perf_counter()
    try:
        D.read_idx(path)
        outcome = "loaded"
    except Exception as e:
        outcome = f"{type(e).__name__}: {e}"
    results[path] = (outcome, time.perf_counter() - start)
grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
print(json.dumps({"results": results, "rss_growth_mib": grown_kib / 1024}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status: Linux")
def test_bombs_are_refused_in_bounded_memory_and_time(tmp_path):
    labels16 = header(0x08, 16)
    bomb = tmp_path / "bomb-idx1-ubyte.gz"  # 16 labels announced, 512 MiB of zeros following them
    write_gzip_bomb(bomb, labels16 + bytes(16), 512)
    assert bomb.stat().st_size < 2 * MIB and decompressed_size(bomb) == 512 * MIB + 24
    members = tmp_path / "members-idx1-ubyte.gz"  # the same as 512 gzip members (like `cat a.gz b.gz ...`)
    one = gzip.compress(bytes(MIB))
    members.write_bytes(gzip.compress(labels16 + bytes(16)) + one * 512)
    huge = tmp_path / "huge-idx1-ubyte.gz"  # a small gzip announcing 600 MiB, holding 512 MiB
    write_gzip_bomb(huge, header(0x08, 600 * MIB), 512)
    sparse = tmp_path / "sparse-idx1-ubyte"  # a raw file of 2 GiB (sparse on disk) announcing 4 bytes
    sparse.write_bytes(header(0x08, 4) + bytes(4))
    os.truncate(sparse, 2 << 30)
    paths = [bomb, members, huge, sparse]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-c", BOUNDED_READ, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    outcomes = {Path(p).name: (msg, seconds) for p, (msg, seconds) in report["results"].items()}
    trailing = (
        r"DataError: .*{}: trailing data: header says shape \(16,\) of uint8 = 16 bytes, "
        r"but more than 1048592 bytes follow the header \(stopped reading there\)"
    )
    expected = {
        bomb.name: trailing.format(bomb.name),
        members.name: trailing.format(members.name),
        huge.name: rf"DataError: .*{huge.name}: impossible IDX size: header says shape \(629145600,\) of uint8 "
        rf"= 629145600 bytes, but a gzip file of {huge.stat().st_size} bytes holds at most \d+ "
        r"\(deflate expands at most 1032-fold\)",
        sparse.name: rf"DataError: .*{sparse.name}: 2147483636 trailing bytes: header says shape \(4,\) of uint8 "
        r"= 4 bytes, but 2147483640 bytes follow the header",
    }
    for name, pattern in expected.items():
        msg, seconds = outcomes[name]
        assert re.match(pattern, msg), msg
        assert seconds < 10, f"{name}: {seconds:.1f} s"
    assert report["rss_growth_mib"] < 100, report


# ------------------------------------------------------------------------------------------------ malformed headers

MALFORMED: dict[str, tuple[bytes, str]] = {
    # id: (raw IDX bytes, the error message after "<path>: ")
    "255 dimensions": (
        b"\x00\x00\x08\xff" + struct.pack(">255I", *[1] * 255) + b"\x00",
        r"IDX header announces 255 dimensions \(magic 0x000008ff\); expected at most 32",
    ),
    "0 dimensions": (b"\x00\x00\x08\x00" + bytes(8), r"bad IDX magic number 0x00000800 \(0 dimensions\): expected 00"),
    "unknown type": (
        header(0x0A, 3) + bytes(3),
        r"bad IDX magic number 0x00000a01 \(unknown element type 0x0a\): expected 00 00 TT DD with TT one of "
        r"08, 09, 0b, 0c, 0d, 0e",
    ),
    "nonzero start": (b"\x12\x34\x08\x01" + bytes(5), r"bad IDX magic number 0x12340801 \(first two bytes 12 34"),
    "sizes overflow": (
        header(0x08, 2**32 - 1, 2**32 - 1, 2**32 - 1),
        r"impossible IDX size: header says shape \(4294967295, 4294967295, 4294967295\) of uint8 = \d+ bytes, "
        r"more than an array can hold",
    ),
    "empty but overflowing": (
        header(0x0E, 0, 2**32 - 1, 2**32 - 1),
        r"impossible IDX shape: header says shape \(0, 4294967295, 4294967295\) of float64 = 0 bytes, but its nonzero "
        r"sizes make \d+ bytes, more than an array can hold",
    ),
    "header cut in the magic": (b"\x00\x00\x08", r"truncated IDX header: 3 bytes, expected at least 4"),
    "header cut in the sizes": (header(0x08, 5, 28, 28)[:10], r"truncated IDX header: 10 bytes, expected 16 for 3"),
    "data cut": (
        header(0x0C, 2, 3) + bytes(10),
        r"truncated IDX data: header says shape \(2, 3\) of int32 = 24 bytes, but only 10 bytes follow the header",
    ),
    "data missing": (header(0x08, 10, 28, 28), r"truncated IDX data: .* = 7840 bytes, but only 0 bytes follow"),
    "empty": (b"", r"truncated IDX header: 0 bytes, expected at least 4"),
}


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_headers_give_one_clear_data_error(tmp_path, case, compressed):
    data, pattern = MALFORMED[case]
    path = tmp_path / ("m-idx.gz" if compressed else "m-idx")
    path.write_bytes(gzip.compress(data) if compressed else data)
    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert time.perf_counter() - start < 1
    assert re.match(pattern, assert_one_clear_line(info.value, path).removeprefix(f"{path}: ")), str(info.value)


def test_a_header_announcing_more_than_a_gzip_file_can_hold_is_refused_at_once(tmp_path):
    path = tmp_path / "big-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header(0x08, 100000, 28, 28) + bytes(100)))
    with pytest.raises(DataError) as info:
        read_idx(path)
    size = path.stat().st_size
    assert assert_one_clear_line(info.value, path) == (
        f"{path}: impossible IDX size: header says shape (100000, 28, 28) of uint8 = 78400000 bytes, but a gzip "
        f"file of {size} bytes holds at most {size * 1032} (deflate expands at most 1032-fold); the header is corrupt"
    )


def gz_cases() -> dict[str, tuple[bytes, str]]:
    rng = np.random.default_rng(0)
    good = gzip.compress(idx_bytes(rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), 0x08))
    bad_crc, bad_size, bad_deflate = bytearray(good), bytearray(good), bytearray(good)
    bad_crc[-6] ^= 0xFF
    bad_size[-2] ^= 0xFF
    bad_deflate[len(good) // 2] ^= 0xFF
    return {
        "bad crc": (bytes(bad_crc), r"corrupt gzip data \(Error -3 while decompressing data: incorrect data check\)"),
        "bad length": (bytes(bad_size), r"corrupt gzip data \(.*incorrect length check\)"),
        "bad deflate data": (bytes(bad_deflate), r"(corrupt gzip data \(Error -3 .*\)|.*bytes)"),
        "cut in the data": (good[: len(good) // 2], r"truncated gzip stream \(ended before the gzip trailer\)"),
        "cut in the trailer": (good[:-3], r"truncated gzip stream"),
        "cut in the gzip header": (good[:5], r"truncated gzip stream"),
        "bad gzip header": (good[:2] + b"\x07" + good[3:], r"corrupt gzip data \(.*unknown compression method\)"),
        "garbage after": (good + b"junk!", r"5 trailing bytes after the gzip stream \(not another gzip member\)"),
        "not gzip": (idx_bytes(np.zeros(3, np.uint8), 0x08), r"named .gz but not gzip-compressed \(first bytes 00"),
        "empty": (b"", r"named .gz but not gzip-compressed \(the file is empty, expected 1f 8b\)"),
    }


@pytest.mark.parametrize("case", list(gz_cases()))
def test_corrupt_gzip_gives_one_clear_data_error(tmp_path, case):
    data, pattern = gz_cases()[case]
    path = tmp_path / "c-idx3-ubyte.gz"
    path.write_bytes(data)
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert re.match(pattern, assert_one_clear_line(info.value, path).removeprefix(f"{path}: ")), str(info.value)


def test_big_endian_types_and_empty_arrays_still_read(tmp_path):
    for arr, code in [(np.arange(6, dtype=np.float64).reshape(2, 3), 0x0E), (np.zeros((0, 28, 28), np.uint8), 0x08)]:
        for name, data in [("a", idx_bytes(arr, code)), ("a.gz", gzip.compress(idx_bytes(arr, code)))]:
            (tmp_path / name).write_bytes(data)
            out = read_idx(tmp_path / name)
            np.testing.assert_array_equal(out, arr)
            assert out.shape == arr.shape and out.dtype.isnative and out.flags.writeable


# ------------------------------------------------------------------------------------------------ fuzzing


def mutate(idx: bytes, gz: bytes | None, rng: np.random.Generator) -> bytes:
    """A damaged copy of an IDX file (``gz``: its gzipped form, to damage instead): bytes flipped, cut, appended or
    overwritten in the file, or a header byte of the IDX content changed (then compressed again, so the gzip layer
    is intact)."""
    kind = rng.integers(6)
    if kind == 5:  # change the IDX header itself: often the number of dimensions
        content = bytearray(idx)
        i = 3 if rng.random() < 0.5 else int(rng.integers(0, 16))
        content[i] = int(rng.integers(0, 256))
        return bytes(content) if gz is None else gzip.compress(bytes(content), compresslevel=1, mtime=0)
    out = bytearray(idx if gz is None else gz)
    if kind == 0:  # flip a few bytes anywhere
        for i in rng.integers(0, len(out), rng.integers(1, 4)):
            out[i] ^= int(rng.integers(1, 256))
    elif kind == 1:  # flip a byte near the start (the IDX header, or the gzip header)
        out[int(rng.integers(0, 18))] ^= int(rng.integers(1, 256))
    elif kind == 2:  # truncate
        del out[int(rng.integers(0, len(out))) :]
    elif kind == 3:  # append bytes
        out += rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    else:  # overwrite a random run
        i = int(rng.integers(0, len(out)))
        out[i : i + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
    return bytes(out)


def test_fuzzed_sample_files_load_or_raise_data_error(tmp_path):
    sample = D.sample_dir()
    labels_gz = (sample / D.SAMPLE_FILES["test"][1][0]).read_bytes()
    images_gz = (sample / D.SAMPLE_FILES["test"][0][0]).read_bytes()
    labels, images = gzip.decompress(labels_gz), gzip.decompress(images_gz)
    bases = [  # (file name, IDX content, the gzip file or None, number of cases)
        ("labels-idx1-ubyte.gz", labels, labels_gz, 100),
        ("labels-idx1-ubyte", labels, None, 80),
        ("images-idx3-ubyte.gz", images, images_gz, 60),
        ("images-idx3-ubyte", images, None, 60),
    ]
    rng = np.random.default_rng(20261202)
    outcomes = {"loaded": 0, "DataError": 0}
    failures = []
    for name, idx, gz, n in bases:
        path = tmp_path / name
        for i in range(n):
            path.write_bytes(mutate(idx, gz, rng))
            start = time.perf_counter()
            try:
                read_idx(path)
                outcomes["loaded"] += 1
            except DataError as e:
                outcomes["DataError"] += 1
                if "\n" in str(e) or not str(e).startswith(f"{path}: "):
                    failures.append(f"{name} #{i}: unclear message {e!r}")
            except Exception as e:  # any other type is what this test looks for
                failures.append(f"{name} #{i}: {type(e).__name__}: {e}")
            if time.perf_counter() - start > 1:
                failures.append(f"{name} #{i}: {time.perf_counter() - start:.1f} s")
    assert not failures, "\n".join(failures)
    assert sum(outcomes.values()) == 300 and outcomes["DataError"] > 150, outcomes


# ------------------------------------------------------------------------------------------------ locating


@pytest.fixture
def isolated(monkeypatch, tmp_path) -> Path:
    monkeypatch.delenv("VGGLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "vgglib" / "mnist"


def test_vgglib_data_pointing_at_a_file_says_so(isolated, monkeypatch, tmp_path):
    file = tmp_path / "train-images-idx3-ubyte.gz"
    file.write_bytes(b"not a folder")
    monkeypatch.setenv("VGGLIB_DATA", str(file))
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("train", "full")
    msg = str(info.value)
    assert msg.startswith("MNIST files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz not found. Looked in")
    assert f"  - $VGGLIB_DATA: {file} (a file, not a folder)\n" in msg
    assert f"  - user cache directory: {isolated} (does not exist)\n" in msg
    assert "does not exist" not in msg.split("$VGGLIB_DATA")[1].split("\n")[0]
    with pytest.raises(
        DownloadError, match=f"cannot download the MNIST files into {re.escape(str(file))}: it is a file"
    ):
        load_mnist("train", "full", download=True, mirrors=[])


def test_a_folder_missing_some_files_names_exactly_those(isolated, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(b"x")  # only presence matters: an incomplete folder is not checksummed
    isolated.mkdir(parents=True)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("train", "full", data_dir=folder)
    msg = str(info.value)
    assert msg.startswith(
        f"MNIST file train-labels-idx1-ubyte.gz missing from {folder}, which has train-images-idx3-ubyte.gz "
        "(a split's files must be in one folder). Looked in, in order:\n"
        f"  - data_dir argument: {folder} (has train-images-idx3-ubyte.gz; missing train-labels-idx1-ubyte.gz)\n"
        "  - $VGGLIB_DATA: (not set)\n"
        f"  - user cache directory: {isolated} (missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz)\n"
    ), msg
    # The test split is complete there (one file decompressed): it is found, then checksummed.
    with pytest.raises(D.ChecksumError, match="t10k-images-idx3-ubyte.gz: sha256"):
        load_mnist("test", "full", data_dir=folder)


# ------------------------------------------------------------------------------------------------ downloading


class Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """server(handler class) -> base URL of an HTTP server on 127.0.0.1 (only) running it."""
    servers = []

    def start(handler: type[http.server.BaseHTTPRequestHandler]) -> str:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


class TrickleBody(Quiet):
    """Headers at once, then one byte every half second (each read gets a byte well within any timeout)."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "4542")
        self.end_headers()
        stop = time.monotonic() + 10
        try:
            while time.monotonic() < stop:
                self.wfile.write(b"\x00")
                time.sleep(0.5)
        except OSError:  # the client hung up
            pass


class TrickleHeaders(Quiet):
    """A status line, then a header line every 0.2 s: the response never starts."""

    def do_GET(self):
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for i in range(50):
                self.wfile.write(f"X-Slow-{i}: 1\r\n".encode())
                time.sleep(0.2)
        except OSError:
            pass


@pytest.mark.parametrize("handler", [TrickleBody, TrickleHeaders])
def test_a_trickling_download_ends_at_its_deadline(isolated, server, tmp_path, handler):
    url = server(handler)
    dest = tmp_path / "dest"
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        D.download_mnist(dest, files=["t10k-labels-idx1-ubyte"], mirrors=[url], deadline=1.0)
    elapsed = time.monotonic() - start
    assert 0.9 < elapsed < 5, elapsed
    msg = str(info.value)
    assert re.search(
        rf"  - {url}t10k-labels-idx1-ubyte.gz: not downloaded within the 1 s deadline \(\d+ of 4542 bytes received\); "
        r"the mirror is stalled or too slow \(download_mnist\(deadline=...\) allows more time\)",
        msg,
    ), msg
    assert msg.startswith(f"could not download t10k-labels-idx1-ubyte.gz into {dest}")
    assert list(dest.iterdir()) == []


def test_deadline_default_and_validation():
    assert D._default_deadline(4542) == 60.0
    assert D._default_deadline(9_912_422) == pytest.approx(396.5, abs=0.1)
    with pytest.raises(ValueError, match="deadline must be a positive number of seconds, got 0"):
        D.download_mnist(Path("unused"), deadline=0)


PAYLOAD = b"the file behind the redirect\n"


def redirecting(location: str) -> type[Quiet]:
    """A server that redirects every path but /real to ``location`` (relative to itself), and serves /real."""

    class Redirect(Quiet):
        def do_GET(self):
            if self.path == "/real":
                self.send_response(200)
                self.send_header("Content-Length", str(len(PAYLOAD)))
                self.end_headers()
                self.wfile.write(PAYLOAD)
                return
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Redirect


@pytest.fixture
def connections(monkeypatch) -> list:
    """Every address the code connects to (the tests' server is 127.0.0.1)."""
    seen: list = []
    real = socket.create_connection

    def spy(address, *args, **kwargs):
        seen.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    return seen


@pytest.mark.parametrize(
    "target", ["http://mirror.invalid/t10k-labels-idx1-ubyte.gz", "ftp://mirror.invalid/x.gz", "file:///etc/passwd"]
)
def test_redirects_that_leave_https_are_refused_before_connecting(isolated, server, connections, tmp_path, target):
    url = server(redirecting(target)) + "t10k-labels-idx1-ubyte.gz"
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError) as info:
        D.download_mnist(dest, files=["t10k-labels-idx1-ubyte"], mirrors=[url.rsplit("/", 1)[0]])
    msg = str(info.value)
    assert (
        f"  - {url}: refusing the redirect to {target}: only https URLs (or http on this machine's loopback address)"
        in msg
    ), msg
    assert {host for host, _ in connections} == {"127.0.0.1"}
    assert list(dest.iterdir()) == []


def test_loopback_redirects_still_work_and_https_origins_may_not_redirect_to_http(
    server, connections, monkeypatch, tmp_path
):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    base = server(redirecting("/real"))
    dest = tmp_path / "file"
    D._fetch(base + "anything", dest, hashlib.sha256(PAYLOAD).hexdigest(), len(PAYLOAD), 5.0, 5.0)
    assert dest.read_bytes() == PAYLOAD
    # An opener for a non-loopback (https) origin refuses http, even on this machine.
    watchdog = D._Watchdog(5.0)
    try:
        with pytest.raises(
            DownloadError, match=r"refusing the redirect to http://127\.0\.0\.1:\d+/real: only https URLs$"
        ):
            D._opener(False, watchdog).open(base + "anything", timeout=5)
    finally:
        watchdog.cancel()
    assert not D._url_allowed("http://127.0.0.1/x", http_loopback=False) and D._url_allowed("http://[::1]/x")
    assert not D._url_allowed("http://localhost.example.com/x") and D._url_allowed("https://example.com/x")
