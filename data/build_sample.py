#!/usr/bin/env python3
"""Rebuild the embedded MNIST sample in data/mnist_sample/ byte-identically from the four original files.

    python data/build_sample.py --source DIR    # write the four sample files (DIR defaults to $VGGLIB_DATA)
    python data/build_sample.py --check         # rebuild in memory and compare with the committed files

The sample is the first 6,000 training and the first 1,000 test images and labels, kept in the original
IDX format: the header's count is changed to N and the data truncated after N items. Each file is gzipped
deterministically: a fixed 10-byte gzip header (no name, MTIME 0, XFL 0, OS 255 "unknown"), a raw deflate
stream from zlib at level 6 (memLevel 8, 15-bit window, default strategy), then CRC32 and size. With the
reference zlib (1.2.x / 1.3.x) the output is byte-identical on every platform; a different deflate
implementation (e.g. zlib-ng) can produce different but equally valid bytes: then --check reports that the
decompressed contents still match (their sha256 are listed in data/README.md) and the .gz ones do not.

Standard library only (no numpy, no vgglib), so it documents the format by itself. See data/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "mnist_sample"

# Original file -> sha256 of the .gz (the published originals).
SOURCES = {
    "train-images-idx3-ubyte": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# Sample file -> (source file, number of items kept).
SAMPLE = {
    "train-images-first6000.idx3.gz": ("train-images-idx3-ubyte", 6000),
    "train-labels-first6000.idx1.gz": ("train-labels-idx1-ubyte", 6000),
    "t10k-images-first1000.idx3.gz": ("t10k-images-idx3-ubyte", 1000),
    "t10k-labels-first1000.idx1.gz": ("t10k-labels-idx1-ubyte", 1000),
}


def deterministic_gzip(raw: bytes) -> bytes:
    """gzip bytes that depend only on ``raw`` (and the deflate implementation)."""
    header = b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + b"\x00\xff"
    comp = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY)
    body = comp.compress(raw) + comp.flush()
    return header + body + struct.pack("<II", zlib.crc32(raw) & 0xFFFFFFFF, len(raw) & 0xFFFFFFFF)


def truncate_idx(gz: bytes, n: int) -> bytes:
    """The first ``n`` items of a gzipped uint8 IDX file (MNIST images or labels) as a valid raw IDX file."""
    raw = gunzip_prefix(gz, 8)
    magic, count = struct.unpack(">II", raw)
    if magic >> 8 != 0x08 or count < n:
        raise SystemExit(f"unexpected IDX header: magic 0x{magic:08x}, {count} items")
    ndim = magic & 0xFF
    raw = gunzip_prefix(gz, 4 + 4 * ndim)
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    item = 1
    for d in dims[1:]:
        item *= d
    raw = gunzip_prefix(gz, 4 + 4 * ndim + n * item)
    header = struct.pack(">II", magic, n) + raw[8 : 4 + 4 * ndim]
    return header + raw[4 + 4 * ndim : 4 + 4 * ndim + n * item]


def build(source: Path) -> dict[str, bytes]:
    sources = {}
    for name, sha in SOURCES.items():
        path = source / f"{name}.gz"
        data = path.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            raise SystemExit(f"{path}: sha256 {actual} is not the original's {sha}")
        sources[name] = data
    return {out: deterministic_gzip(truncate_idx(sources[src], n)) for out, (src, n) in SAMPLE.items()}


def gunzip_prefix(data: bytes, n_bytes: int) -> bytes:
    """The first ``n_bytes`` of a gzip file's content (only that much is decompressed)."""
    out = zlib.decompressobj(wbits=31).decompress(data, n_bytes)
    if len(out) < n_bytes:
        raise SystemExit(f"gzip content shorter than {n_bytes} bytes")
    return out


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=os.environ.get("VGGLIB_DATA"),
        help="directory with the four original .gz files (default: $VGGLIB_DATA)",
    )
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = parser.parse_args(argv)
    if args.source is None:
        parser.error("give --source DIR or set VGGLIB_DATA")
    built = build(Path(args.source))
    print(f"zlib {zlib.ZLIB_RUNTIME_VERSION}")
    ok = True
    for name, data in built.items():
        raw_sha = hashlib.sha256(gzip.decompress(data)).hexdigest()
        line = f"{name}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}, raw sha256 {raw_sha}"
        path = OUT_DIR / name
        if args.check:
            committed = path.read_bytes() if path.is_file() else b""
            same = committed == data
            same_raw = bool(committed) and gzip.decompress(committed) == gzip.decompress(data)
            ok &= same
            line += "  OK" if same else ("  DIFFERENT .gz bytes, same content" if same_raw else "  DIFFERENT")
        else:
            OUT_DIR.mkdir(exist_ok=True)
            write_atomic(path, data)
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
