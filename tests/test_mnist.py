"""Tests for vgglib.mnist: IDX reader, embedded sample, full MNIST (via $VGGLIB_DATA), download."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

import vgglib.mnist as D
from vgglib.mnist import ChecksumError, DataError, DataNotFoundError, DownloadError, load_mnist, read_idx
from vgglib.preprocess import MNIST_MEAN, MNIST_STD, to_float

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "mnist_sample"
TRAIN_HIST = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_HIST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TRAIN_FIRST10 = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
TEST_FIRST10 = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
SAMPLE_TRAIN_HIST = [592, 671, 581, 608, 623, 514, 608, 651, 551, 601]
SAMPLE_TEST_HIST = [85, 126, 116, 107, 110, 87, 87, 99, 89, 94]


@pytest.fixture
def isolated(monkeypatch, tmp_path) -> Path:
    """No $VGGLIB_DATA and an empty user cache: only what a test puts in place is found. Returns the cache dir."""
    monkeypatch.delenv("VGGLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "vgglib" / "mnist"


def idx_bytes(arr: np.ndarray, type_code: int) -> bytes:
    header = struct.pack(">BBBB", 0, 0, type_code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


# ------------------------------------------------------------------------------------------------ read_idx


@pytest.mark.parametrize(
    "dtype, code",
    [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D), (np.float64, 0x0E)],
)
@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_round_trips_every_element_type(tmp_path, dtype, code, compressed):
    rng = np.random.default_rng(code)
    arr = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    raw = idx_bytes(arr, code)
    path = tmp_path / ("a.idx.gz" if compressed else "a.idx")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    out = read_idx(path)
    assert out.shape == (3, 4, 5) and out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)
    assert out.flags.writeable


def test_read_idx_one_dimensional_and_multi_member_gzip(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    raw = idx_bytes(labels, 0x08)
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(raw[:7]) + gzip.compress(raw[7:]))  # two gzip members, like `cat a.gz b.gz`
    np.testing.assert_array_equal(read_idx(path), labels)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="not found.*nope.gz"):
        read_idx(tmp_path / "nope.gz")
    with pytest.raises(FileNotFoundError, match="directory"):
        read_idx(tmp_path)


def test_read_idx_gz_name_but_not_gzip(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8), 0x08))
    with pytest.raises(DataError, match=r"x-idx1-ubyte.gz: named .gz but not gzip-compressed.*1f 8b"):
        read_idx(path)


def test_read_idx_gzip_without_gz_name(tmp_path):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(3, np.uint8), 0x08)))
    with pytest.raises(DataError, match=r"gzip-compressed but not named .gz; rename it to x-idx1-ubyte.gz"):
        read_idx(path)


@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x01", b"\x00\x00\x0a\x01", b"\x00\x00\x08\x00"])
def test_read_idx_bad_magic(tmp_path, magic):
    path = tmp_path / "bad"
    path.write_bytes(magic + struct.pack(">I", 3) + b"abc")
    with pytest.raises(DataError, match=f"bad IDX magic number 0x{magic.hex()}"):
        read_idx(path)


def test_read_idx_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">2I", 5, 28))  # 3 dims announced, 2 given
    with pytest.raises(DataError, match="truncated IDX header: 12 bytes, expected 16 for 3 dimensions"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="truncated IDX header: 2 bytes"):
        read_idx(path)


@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_truncated_data(tmp_path, compressed):
    raw = idx_bytes(np.ones((2, 3), np.int16), 0x0B)[:-3]
    path = tmp_path / ("t.gz" if compressed else "t")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    with pytest.raises(
        DataError,
        match=r"truncated IDX data: header says shape \(2, 3\) of int16 = 12 bytes, "
        r"but only 9 bytes",
    ):
        read_idx(path)


@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_trailing_bytes(tmp_path, compressed):
    raw = idx_bytes(np.ones(4, np.uint8), 0x08) + b"\x00" * 5
    path = tmp_path / ("t.gz" if compressed else "t")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    with pytest.raises(DataError, match=r"5 trailing bytes: header says shape \(4,\) of uint8 = 4 bytes, but 9"):
        read_idx(path)


def test_read_idx_size_not_matching_header(tmp_path):
    # A float64 file whose data is not a whole number of elements: 2x2 doubles = 32 bytes announced, 30 given.
    raw = idx_bytes(np.zeros((2, 2)), 0x0E)[:-2]
    path = tmp_path / "f"
    path.write_bytes(raw)
    with pytest.raises(DataError, match=r"header says shape \(2, 2\) of float64 = 32 bytes, but only 30 bytes"):
        read_idx(path)


def test_read_idx_garbage_after_gzip_stream(tmp_path):
    path = tmp_path / "g.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones(4, np.uint8), 0x08)) + b"junk!")
    with pytest.raises(DataError, match="5 trailing bytes after the gzip stream"):
        read_idx(path)


def test_read_idx_truncated_or_corrupt_gzip(tmp_path):
    rng = np.random.default_rng(0)
    data = gzip.compress(idx_bytes(rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), 0x08))
    path = tmp_path / "c.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated gzip stream"):
        read_idx(path)
    bad = bytearray(data)
    bad[-6] ^= 0xFF  # inside the CRC32 trailer
    path.write_bytes(bytes(bad))
    with pytest.raises(DataError, match="c.gz: corrupt gzip data"):
        read_idx(path)


# ------------------------------------------------------------------------------------------------ the sample


def test_sample_files_match_recorded_sha256_readme_and_size():
    readme = (REPO / "data" / "README.md").read_text()
    total = 0
    for _split, pairs in D.SAMPLE_FILES.items():
        for name, sha in pairs:
            path = SAMPLE_DIR / name
            assert D.sha256_file(path) == sha
            assert re.search(rf"`{re.escape(name)}` \| {path.stat().st_size:,} \| `{sha}`", readme), name
            total += path.stat().st_size
    assert total < 3_000_000
    assert f"{total:,} bytes" in readme
    assert "CC BY-SA 3.0" in readme and "LeCun" in readme and "Cortes" in readme and "Burges" in readme


@pytest.mark.parametrize(
    "split, n, hist, first10",
    [("train", 6000, SAMPLE_TRAIN_HIST, TRAIN_FIRST10), ("test", 1000, SAMPLE_TEST_HIST, TEST_FIRST10)],
)
def test_load_sample(split, n, hist, first10):
    images, labels = load_mnist(split)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == hist
    assert labels[:10].tolist() == first10
    assert images.max() == 255 and images.min() == 0
    assert D.SAMPLE_SIZES[split] == n


def test_load_mnist_is_the_sample_by_default_and_validates_arguments():
    a, b = load_mnist(), load_mnist("train", "sample")
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        load_mnist("val")
    with pytest.raises(ValueError, match="source must be 'sample' or 'full', got 'tiny'"):
        load_mnist("train", "tiny")


def test_damaged_sample_is_detected(monkeypatch, tmp_path):
    for name, _ in D.SAMPLE_FILES["test"]:
        shutil.copy(SAMPLE_DIR / name, tmp_path / name)
    shutil.copy(SAMPLE_DIR / D.SAMPLE_FILES["train"][0][0], tmp_path)
    labels = tmp_path / D.SAMPLE_FILES["test"][1][0]
    data = bytearray(labels.read_bytes())
    data[-1] ^= 0xFF
    labels.write_bytes(bytes(data))
    monkeypatch.setattr(D, "sample_dir", lambda: tmp_path)
    with pytest.raises(ChecksumError, match="t10k-labels-first1000.idx1.gz: sha256 .* embedded sample"):
        load_mnist("test")


def run_python(code: str, cwd: Path, env_extra: dict | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(env_extra or {})
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


LOAD_CODE = (
    "import vgglib, vgglib.mnist as d; x, y = d.load_mnist(); t, u = d.load_mnist('test'); "
    "print(vgglib.__file__); print(d.sample_dir()); print(x.shape, t.shape, y[:10].tolist())"
)


def test_sample_loads_from_the_development_install_outside_the_repo(tmp_path):
    out = run_python(LOAD_CODE, cwd=tmp_path).splitlines()
    assert Path(out[0]).resolve() == REPO / "vgglib" / "__init__.py"
    assert Path(out[1]).resolve() == SAMPLE_DIR
    assert out[2] == "(6000, 28, 28) (1000, 28, 28) [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]"


def test_sample_ships_in_the_wheel_and_loads_from_a_wheel_install(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src)
    shutil.copytree(REPO / "vgglib", src / "vgglib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "data", src / "data", ignore=shutil.ignore_patterns("__pycache__"))
    readme = REPO / "README.md"
    (src / "README.md").write_text(readme.read_text() if readme.is_file() else "vgglib\n")
    build = "import setuptools.build_meta as b; print(b.build_wheel({!r}))".format(str(tmp_path / "dist"))
    wheel = tmp_path / "dist" / run_python(build, cwd=src).strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for _split, pairs in D.SAMPLE_FILES.items():
            for name, sha in pairs:
                assert hashlib.sha256(zf.read(f"vgglib/_sample/{name}")).hexdigest() == sha
        assert "CC BY-SA 3.0" in zf.read("vgglib/_sample/NOTICE").decode()
        assert not any(n.startswith("data/") or "build_sample" in n for n in names)
        # every subpackage of the source tree ships too (a missing one imports only from a clone)
        for init in (REPO / "vgglib").rglob("__init__.py"):
            assert str(init.relative_to(REPO)) in names, f"{init.relative_to(REPO)} missing from the wheel"
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = run_python(LOAD_CODE, cwd=tmp_path, env_extra={"PYTHONPATH": str(site)}).splitlines()
    assert Path(out[0]).resolve() == site / "vgglib" / "__init__.py"
    assert Path(out[1]).resolve() == site / "vgglib" / "_sample"
    assert out[2] == "(6000, 28, 28) (1000, 28, 28) [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]"


# ------------------------------------------------------------------------------------------------ full MNIST


@pytest.mark.parametrize(
    "split, n, hist, first10, pixel_sum",
    [("train", 60000, TRAIN_HIST, TRAIN_FIRST10, 1_567_298_545), ("test", 10000, TEST_HIST, TEST_FIRST10, 264_923_200)],
)
def test_full_mnist(full_dir, split, n, hist, first10, pixel_sum):
    images, labels = load_mnist(split, "full", data_dir=full_dir)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == hist
    assert labels[:10].tolist() == first10
    assert int(images.sum(dtype=np.int64)) == pixel_sum
    sample_images, sample_labels = load_mnist(split, "sample")
    m = len(sample_labels)
    np.testing.assert_array_equal(sample_images, images[:m])
    np.testing.assert_array_equal(sample_labels, labels[:m])
    if split == "train":
        x = to_float(images)
        assert abs(float(x.mean(dtype=np.float64)) - MNIST_MEAN) < 5e-5
        assert abs(float(x.std(dtype=np.float64)) - MNIST_STD) < 5e-5


def test_full_found_through_vgglib_data_env(full_dir, isolated, monkeypatch):
    monkeypatch.setenv("VGGLIB_DATA", str(full_dir))
    images, labels = load_mnist("test", "full")
    assert images.shape == (10000, 28, 28) and labels[:10].tolist() == TEST_FIRST10


def test_full_found_in_user_cache_and_decompressed_files_accepted(full_dir, isolated):
    assert D.default_cache_dir() == isolated
    isolated.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):  # raw IDX, as `gunzip` leaves them
        (isolated / name).write_bytes(gzip.decompress((full_dir / f"{name}.gz").read_bytes()))
    images, labels = load_mnist("test", "full")
    assert images.shape == (10000, 28, 28) and np.bincount(labels).tolist() == TEST_HIST


def test_data_dir_comes_first_and_bad_checksum_is_an_error(full_dir, isolated, monkeypatch, tmp_path):
    monkeypatch.setenv("VGGLIB_DATA", str(full_dir))
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(full_dir / "t10k-images-idx3-ubyte.gz", mine)
    (mine / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(10000, np.uint8), 0x08)))
    with pytest.raises(
        ChecksumError,
        match=r"mine/t10k-labels-idx1-ubyte.gz: sha256 [0-9a-f]{64} does not match "
        r"the published sha256 of the original f7ae60f9",
    ):
        load_mnist("test", "full", data_dir=mine)
    # A data_dir without the files is skipped: $VGGLIB_DATA is next.
    images, _ = load_mnist("test", "full", data_dir=tmp_path / "empty")
    assert len(images) == 10000


def test_missing_full_data_lists_where_it_looked(isolated, tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("train", "full", data_dir=tmp_path / "nowhere")
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz not found" in msg
    assert f"data_dir argument: {tmp_path / 'nowhere'} (does not exist)" in msg
    assert "$VGGLIB_DATA: (not set)" in msg
    assert f"user cache directory: {isolated}" in msg
    assert "download=True" in msg and "source='sample'" in msg


def test_check_pair_rejects_inconsistent_arrays():
    images, labels = np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.uint8)
    D._check_pair(images, labels, "ok", 3)
    with pytest.raises(DataError, match="3 images but 2 labels"):
        D._check_pair(images, labels[:2], "f", None)
    with pytest.raises(DataError, match="labels must be digits 0..9, found 10"):
        D._check_pair(images, np.array([0, 10, 1], np.uint8), "f", None)
    with pytest.raises(DataError, match=r"expected uint8 \(N, 28, 28\)"):
        D._check_pair(np.zeros((3, 32, 32), np.uint8), labels, "f", None)
    with pytest.raises(DataError, match="3 images, expected 60000"):
        D._check_pair(images, labels, "f", 60000)


def test_build_sample_script_reproduces_the_sample_byte_for_byte(full_dir):
    result = subprocess.run(
        [sys.executable, str(REPO / "data" / "build_sample.py"), "--source", str(full_dir), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("  OK") == 4


# ------------------------------------------------------------------------------------------------ download


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve(tmp_path):
    """serve(files: dict name -> bytes) -> base URL of a local HTTP server on 127.0.0.1 serving them."""
    servers = []

    def start(files: dict[str, bytes]) -> str:
        root = tmp_path / f"www{len(servers)}"
        root.mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
        )
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def t10k_files(full_dir: Path) -> dict[str, bytes]:
    names = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    return {f"{n}.gz": (full_dir / f"{n}.gz").read_bytes() for n in names}


def test_download_from_local_mirror(full_dir, isolated, serve, tmp_path):
    url = serve(t10k_files(full_dir))
    dest = tmp_path / "dest"
    images, labels = load_mnist("test", "full", data_dir=dest, download=True, mirrors=[url])
    assert images.shape == (10000, 28, 28) and labels[:10].tolist() == TEST_FIRST10
    assert sorted(p.name for p in dest.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    for p in dest.iterdir():
        assert D.sha256_file(p) == D.MNIST_FILES[p.name[:-3]][0]
    # Present and valid: found without the network (the mirror list is empty).
    assert len(load_mnist("test", "full", data_dir=dest, download=True, mirrors=[])[0]) == 10000


def test_download_goes_to_the_user_cache_by_default_and_tries_the_next_mirror(full_dir, isolated, serve):
    files = t10k_files(full_dir)
    corrupt = {k: v[:-100] + bytes(100) for k, v in files.items()}
    bad, good = serve(corrupt), serve(files)
    images, _ = load_mnist("test", "full", download=True, mirrors=[bad, good])
    assert len(images) == 10000
    assert sorted(p.name for p in isolated.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_download_of_a_corrupted_file_fails_and_keeps_nothing(full_dir, isolated, serve, tmp_path):
    files = t10k_files(full_dir)
    data = bytearray(files["t10k-labels-idx1-ubyte.gz"])
    data[100] ^= 0x01
    files["t10k-labels-idx1-ubyte.gz"] = bytes(data)
    url = serve(files)
    dest = tmp_path / "dest"
    with pytest.raises(
        ChecksumError,
        match=r"t10k-labels-idx1-ubyte.gz: downloaded 4542 bytes with sha256 .*"
        r"expected f7ae60f9",
    ):
        D.download_mnist(dest, files=["t10k-labels-idx1-ubyte"], mirrors=[url])
    assert list(dest.iterdir()) == []
    # A longer-than-expected file is cut off and rejected too.
    url2 = serve({"t10k-labels-idx1-ubyte.gz": bytes(10_000)})
    with pytest.raises(ChecksumError, match="more than the expected 4542 bytes"):
        D.download_mnist(dest, files=["t10k-labels-idx1-ubyte"], mirrors=[url2])
    assert list(dest.iterdir()) == []


def test_download_offline_fails_clearly_and_keeps_nothing(isolated, serve, tmp_path):
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    missing = serve({})  # a server without the files: HTTP 404
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError) as info:
        load_mnist(
            "test",
            "full",
            data_dir=dest,
            download=True,
            mirrors=[f"http://127.0.0.1:{port}/", missing, "http://example.com/mnist/"],
        )
    msg = str(info.value)
    assert "could not download t10k-images-idx3-ubyte.gz" in msg and "offline?" in msg
    assert f"127.0.0.1:{port}/t10k-images-idx3-ubyte.gz" in msg and "404" in msg
    assert "refusing http://example.com/mnist/t10k-images-idx3-ubyte.gz: only https" in msg
    assert list(dest.iterdir()) == []


def test_default_mirrors_are_https():
    assert D.MNIST_MIRRORS and all(m.startswith("https://") for m in D.MNIST_MIRRORS)
    with pytest.raises(ValueError, match="unknown MNIST file 'train-images'"):
        D.download_mnist(Path("unused"), files=["train-images"])


def test_default_cache_dir_respects_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert D.default_cache_dir() == tmp_path / "vgglib" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert D.default_cache_dir() == Path.home() / ".cache" / "vgglib" / "mnist"
