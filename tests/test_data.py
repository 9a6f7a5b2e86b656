"""Tests for vgglib.data: IDX reader, embedded sample, full MNIST (via $VGGLIB_DATA), download, preprocessing."""
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
from scipy import ndimage

import vgglib.data as D
from vgglib.data import (BatchLoader, ChecksumError, DataError, DataNotFoundError, DownloadError, batches,
                         load_mnist, one_hot, prepare, read_idx, resize, shuffle, standardize, to_float,
                         train_val_split)

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

@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
                                         (np.float32, 0x0D), (np.float64, 0x0E)])
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
    with pytest.raises(DataError, match=r"truncated IDX data: header says shape \(2, 3\) of int16 = 12 bytes, "
                                         r"but only 9 bytes"):
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
    for split, pairs in D.SAMPLE_FILES.items():
        for name, sha in pairs:
            path = SAMPLE_DIR / name
            assert D.sha256_file(path) == sha
            assert re.search(rf"`{re.escape(name)}` \| {path.stat().st_size:,} \| `{sha}`", readme), name
            total += path.stat().st_size
    assert total < 3_000_000
    assert f"{total:,} bytes" in readme
    assert "CC BY-SA 3.0" in readme and "LeCun" in readme and "Cortes" in readme and "Burges" in readme


@pytest.mark.parametrize("split, n, hist, first10", [("train", 6000, SAMPLE_TRAIN_HIST, TRAIN_FIRST10),
                                                      ("test", 1000, SAMPLE_TEST_HIST, TEST_FIRST10)])
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
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


LOAD_CODE = ("import vgglib, vgglib.data as d; x, y = d.load_mnist(); t, u = d.load_mnist('test'); "
             "print(vgglib.__file__); print(d.sample_dir()); print(x.shape, t.shape, y[:10].tolist())")


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
        for split, pairs in D.SAMPLE_FILES.items():
            for name, sha in pairs:
                assert hashlib.sha256(zf.read(f"vgglib/_sample/{name}")).hexdigest() == sha
        assert "CC BY-SA 3.0" in zf.read("vgglib/_sample/NOTICE").decode()
        assert not any(n.startswith("data/") or "build_sample" in n for n in names)
        # every subpackage of the source tree ships too (a missing one imports only from a clone)
        for init in (REPO / "vgglib").rglob("__init__.py"):
            assert str(init.relative_to(REPO)) in names, f"{init.relative_to(REPO)} missing from the wheel"
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                    "--target", str(site), str(wheel)], check=True, capture_output=True, timeout=300)
    out = run_python(LOAD_CODE, cwd=tmp_path, env_extra={"PYTHONPATH": str(site)}).splitlines()
    assert Path(out[0]).resolve() == site / "vgglib" / "__init__.py"
    assert Path(out[1]).resolve() == site / "vgglib" / "_sample"
    assert out[2] == "(6000, 28, 28) (1000, 28, 28) [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]"


# ------------------------------------------------------------------------------------------------ full MNIST

@pytest.mark.parametrize("split, n, hist, first10, pixel_sum", [
    ("train", 60000, TRAIN_HIST, TRAIN_FIRST10, 1_567_298_545),
    ("test", 10000, TEST_HIST, TEST_FIRST10, 264_923_200)])
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
        assert abs(float(x.mean(dtype=np.float64)) - D.MNIST_MEAN) < 5e-5
        assert abs(float(x.std(dtype=np.float64)) - D.MNIST_STD) < 5e-5


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
    with pytest.raises(ChecksumError, match=r"mine/t10k-labels-idx1-ubyte.gz: sha256 [0-9a-f]{64} does not match "
                                            r"the published sha256 of the original f7ae60f9"):
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
    result = subprocess.run([sys.executable, str(REPO / "data" / "build_sample.py"), "--source", str(full_dir),
                             "--check"], capture_output=True, text=True, timeout=120)
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
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                 functools.partial(_QuietHandler, directory=str(root)))
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
    with pytest.raises(ChecksumError, match=r"t10k-labels-idx1-ubyte.gz: downloaded 4542 bytes with sha256 .*"
                                            r"expected f7ae60f9"):
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
        load_mnist("test", "full", data_dir=dest, download=True,
                   mirrors=[f"http://127.0.0.1:{port}/", missing, "http://example.com/mnist/"])
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


# ------------------------------------------------------------------------------------------------ preprocessing

@pytest.fixture(scope="module")
def sample():
    return load_mnist("train")


def test_to_float_scales_into_a_new_array():
    images = np.array([[0, 1, 128, 255]], np.uint8)
    x = to_float(images)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, np.array([[0, 1, 128, 255]], np.float32) / np.float32(255))
    assert images.tolist() == [[0, 1, 128, 255]]  # input untouched (the seed's in-place uint8 division wrapped)
    with pytest.raises(TypeError, match="expects uint8 .* got dtype float32 \\(already converted\\?\\)"):
        to_float(x)


def test_standardize(sample):
    x = to_float(sample[0])
    z = standardize(x)
    assert z.dtype == np.float32 and z.shape == x.shape
    np.testing.assert_allclose(z, (x - 0.1307) / 0.3081, rtol=1e-6, atol=1e-6)
    assert abs(float(z.mean())) < 0.02 and abs(float(z.std()) - 1) < 0.02  # the sample is close to the full set
    np.testing.assert_allclose(standardize(x, mean=0.5, std=2.0), (x - 0.5) / 2, atol=1e-7)
    with pytest.raises(TypeError, match="use to_float first"):
        standardize(sample[0])
    with pytest.raises(ValueError, match="std must be positive"):
        standardize(x, std=0.0)


def test_resize_pad_keeps_every_pixel(sample):
    x = to_float(sample[0][:5])
    for batch in (x, x[:, None]):
        out = resize(batch, 32, "pad")
        assert out.shape == batch.shape[:-2] + (32, 32) and out.dtype == np.float32
        np.testing.assert_array_equal(out[..., 2:30, 2:30], batch)
        assert out.sum() == pytest.approx(float(batch.sum()))
    assert resize(x, 31, "pad")[..., 1:29, 1:29].tolist() == x.tolist()  # odd: 1 before, 2 after
    np.testing.assert_array_equal(resize(sample[0][:2], 32, "pad")[:, 2:30, 2:30], sample[0][:2])


def test_resize_zoom_matches_per_image_scipy_and_never_mixes_images(sample):
    x = to_float(sample[0][:6])
    x[3] = 0  # a blank image between digits must stay blank
    out = resize(x[:, None], 64)
    assert out.shape == (6, 1, 64, 64) and out.dtype == np.float32
    for i in range(6):
        np.testing.assert_allclose(out[i, 0], ndimage.zoom(x[i], 64 / 28, order=1), atol=1e-6)
    assert not out[3].any()
    down = resize(x, 14, "zoom", order=0)
    assert down.shape == (6, 14, 14)
    as_uint8 = resize(sample[0][:2], 64)
    assert as_uint8.dtype == np.uint8
    np.testing.assert_array_equal(as_uint8, np.rint(resize(sample[0][:2].astype(np.float32), 64)).astype(np.uint8))


def test_resize_rejects_bad_requests(sample):
    x = to_float(sample[0][:2])
    with pytest.raises(ValueError, match="method='pad' can only grow images: 28 -> 20"):
        resize(x, 20, "pad")
    with pytest.raises(ValueError, match="method must be 'zoom' or 'pad', got 'crop'"):
        resize(x, 32, "crop")
    with pytest.raises(ValueError, match="order must be 0 or 1"):
        resize(x, 64, order=3)
    with pytest.raises(ValueError, match="square images"):
        resize(x[0], 32)
    same = resize(x, 28)
    assert same is not x and np.array_equal(same, x)


def test_prepare(sample):
    images = sample[0][:4]
    x = prepare(images)
    assert x.shape == (4, 1, 32, 32) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_allclose(x, standardize(resize(to_float(images)[:, None], 32, "pad")), atol=1e-6)
    assert x[0, 0, 0, 0] == pytest.approx(-0.1307 / 0.3081)  # background after standardization
    seed_like = prepare(images, size=64, method="zoom", normalize=None)
    assert seed_like.shape == (4, 1, 64, 64) and 0 <= seed_like.min() and seed_like.max() <= 1


def test_one_hot():
    y = one_hot(np.array([3, 0, 9], np.uint8))
    assert y.shape == (3, 10) and y.dtype == np.float32
    assert y.argmax(1).tolist() == [3, 0, 9] and y.sum(1).tolist() == [1, 1, 1]
    assert one_hot(np.array([1, 2]), 3).tolist() == [[0, 1, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match=r"labels must be in 0..9, found 0..10"):
        one_hot(np.array([0, 10]))
    with pytest.raises(ValueError, match="integer labels"):
        one_hot(np.array([0.0, 1.0]))


def labelled_images(n: int = 200):
    """Images whose first pixel is their own label, so pairing can be checked after any reordering."""
    y = np.arange(n, dtype=np.int64) % 10
    X = np.zeros((n, 28, 28), np.uint8)
    X[:, 0, 0] = y
    X[:, 1, 1] = np.arange(n) % 256  # and a serial number
    X[:, 1, 2] = np.arange(n) // 256
    return X, y


def paired(X, y) -> bool:
    return bool(np.array_equal(X[:, 0, 0], y))


def serials(X) -> np.ndarray:
    return X[:, 1, 1].astype(int) + 256 * X[:, 1, 2].astype(int)


def test_shuffle_keeps_images_with_their_labels():
    X, y = labelled_images()
    Xs, ys = shuffle(X, y, np.random.default_rng(0))
    assert paired(Xs, ys)
    assert not np.array_equal(serials(Xs), np.arange(200))  # it did reorder
    assert sorted(serials(Xs)) == list(range(200))  # a permutation
    Xs2, _ = shuffle(X, y, 0)
    np.testing.assert_array_equal(Xs, Xs2)  # int seeds work and are deterministic
    assert paired(X, y) and np.array_equal(serials(X), np.arange(200))  # inputs untouched

    # The seed's bug: two independent shuffles. The pairing check above catches it.
    def seed_style_shuffle(X, y, rng):
        X, y = X.copy(), y.copy()
        rng.shuffle(X)
        rng.shuffle(y)
        return X, y
    assert not paired(*seed_style_shuffle(X, y, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="X has 200 samples but y has 199"):
        shuffle(X, y[:-1], 0)


def test_train_val_split():
    X, y = labelled_images(100)
    (Xt, yt), (Xv, yv) = train_val_split(X, y, 0.2)
    assert len(Xt) == 80 and len(Xv) == 20
    assert serials(Xv).tolist() == list(range(80, 100))  # without rng: the last samples
    (Xt, yt), (Xv, yv) = train_val_split(X, y, 15, rng=1)
    assert len(Xv) == 15 and paired(Xt, yt) and paired(Xv, yv)
    assert sorted(np.concatenate([serials(Xt), serials(Xv)])) == list(range(100))
    assert serials(Xv).tolist() != list(range(85, 100))
    for bad in (0, 100, 1.0, 0.0):
        with pytest.raises(ValueError, match="val_size"):
            train_val_split(X, y, bad)


@pytest.mark.parametrize("drop_last", [False, True])
def test_batches(drop_last):
    X, y = labelled_images(103)
    out = list(batches(X, y, 10, rng=np.random.default_rng(3), drop_last=drop_last))
    assert [len(b[0]) for b in out] == [10] * 10 + ([] if drop_last else [3])
    assert all(paired(xb, yb) for xb, yb in out)
    seen = np.concatenate([serials(xb) for xb, _ in out])
    assert len(set(seen)) == len(seen) == (100 if drop_last else 103)
    assert not np.array_equal(seen, np.arange(len(seen)))
    again = np.concatenate([serials(xb) for xb, _ in batches(X, y, 10, 3, drop_last)])
    np.testing.assert_array_equal(seen, again)
    in_order = np.concatenate([serials(xb) for xb, _ in batches(X, y, 10)])
    np.testing.assert_array_equal(in_order, np.arange(103))


def test_batches_transform_touches_images_only_and_errors_are_eager():
    X, y = labelled_images(30)
    out = list(batches(X, y, 8, transform=lambda xb: to_float(xb) * 2))
    assert out[0][0].dtype == np.float32 and out[0][1].dtype == np.int64
    np.testing.assert_array_equal(out[0][1], y[:8])
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        batches(X, y, 0)
    with pytest.raises(ValueError, match="X has 30 samples but y has 29"):
        batches(X, y[:29], 4)


def test_batch_loader_contract(sample):
    images, labels = sample[0][:300], sample[1][:300]
    loader = BatchLoader(images, labels, batch_size=64)
    assert len(loader) == 5 and len(BatchLoader(images, labels, 64, drop_last=True)) == 4
    out = list(loader.epoch(np.random.default_rng(0)))
    assert [len(y) for _, y in out] == [64, 64, 64, 64, 44]
    for x, y in out:
        assert x.dtype == np.float32 and x.flags.c_contiguous and x.shape == (len(y), 1, 32, 32)
        assert y.dtype == np.uint8
    # Same seed, same batches; and each batch is exactly prepare() of the permuted images.
    perm = np.random.default_rng(0).permutation(300)
    again = list(loader.epoch(0))
    for b, ((x, y), (x2, y2)) in enumerate(zip(out, again)):
        idx = perm[64 * b:64 * (b + 1)]
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, labels[idx])
        np.testing.assert_array_equal(x, prepare(images[idx]))
    # Without rng: original order; iter(loader) is the same.
    x0, y0 = next(iter(loader))
    np.testing.assert_array_equal(y0, labels[:64])
    np.testing.assert_array_equal(x0, prepare(images[:64]))


def test_batch_loader_transforms_lazily_per_batch(sample):
    images, labels = sample[0][:130], sample[1][:130]
    seen = []

    def augment(x, rng):
        assert isinstance(rng, np.random.Generator)
        seen.append((x.shape, x.dtype, float(x.min()), float(x.max())))
        return x

    loader = BatchLoader(images, labels, 50, size=64, method="zoom", augment=augment, normalize=None)
    it = loader.epoch(7)
    assert seen == []  # nothing is computed before it is asked for
    x, _ = next(it)
    assert x.shape == (50, 1, 64, 64) and 0 <= x.min() and x.max() <= 1
    assert seen == [((50, 1, 28, 28), np.float32, 0.0, 1.0)]
    rest = list(it)
    assert [s[0][0] for s in seen] == [50, 50, 30] and len(rest) == 2
    with pytest.raises(ValueError, match="pass a seeded rng"):
        loader.epoch()
    unshuffled = [y for _, y in loader.epoch(7, shuffle=False)]
    np.testing.assert_array_equal(np.concatenate(unshuffled), labels)


def test_batch_loader_rejects_bad_input(sample):
    with pytest.raises(ValueError, match="expects uint8 images"):
        BatchLoader(to_float(sample[0][:5]), sample[1][:5])
    with pytest.raises(ValueError, match="X has 5 samples but y has 4"):
        BatchLoader(sample[0][:5], sample[1][:4])
    with pytest.raises(ValueError, match="method must be"):
        BatchLoader(sample[0][:5], sample[1][:5], method="crop")
