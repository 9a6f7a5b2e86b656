"""Atomic file writes: a file is either its old version or its complete new one, never half written.

Used by :mod:`vgglib.checkpoint` (``notebooks/09_training_vgg16_on_mnist.ipynb``), the training log
(:class:`vgglib.callbacks.JSONLogger`) and the command line. The data goes to a temporary file
``<name>.tmp-partial-<pid>-<random>`` next to the target, is flushed and fsync'ed, then ``os.replace``'d over the
target. A process killed mid-write leaves its temporary file behind; the next write to the same target deletes
those of processes that no longer run (and untouched for a minute).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write"]

#: A leftover temporary file is deleted once its process is gone and it has not been written to for this long
#: (seconds; a process in another PID namespace writing to a shared folder keeps its file fresh).
_STALE_AFTER = 60.0
#: Temporary files whose process cannot be checked (older vgglib's ``.<name>.XXXXXXXX.tmp``, or on Windows) are
#: deleted after this long untouched.
_STALE_UNCHECKED_AFTER = 3600.0


def _temp_patterns(name: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """This version's temporary files for target ``name`` (group 1: the pid), and older vgglib's."""
    return (
        re.compile(re.escape(name) + r"\.tmp-partial-(\d+)-[A-Za-z0-9_]+"),
        re.compile(r"\." + re.escape(name) + r"\.[A-Za-z0-9_]{8}\.tmp"),
    )


def _pid_running(pid: int) -> bool:
    """Whether process ``pid`` exists (POSIX; a process of another user counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OverflowError:
        return False
    except OSError:  # PermissionError: it exists
        return True
    return True


def _remove_stale_temp_files(directory: Path, name: str) -> list[Path]:
    """Delete leftover temporary files of target ``name`` from killed saves; returns those removed.

    Only files named like this module's temporary files for exactly this target are considered, never one of
    this process, and only when stale: its process is gone (POSIX) and it is untouched for ``_STALE_AFTER``
    seconds — or, where the process cannot be checked, untouched for ``_STALE_UNCHECKED_AFTER`` seconds.
    """
    mine, legacy = _temp_patterns(name)
    now = time.time()
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = mine.fullmatch(entry.name)
        if m is None and legacy.fullmatch(entry.name) is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        idle = now - st.st_mtime
        if m is not None and os.name == "posix":
            pid = int(m.group(1))
            stale = pid != os.getpid() and idle >= _STALE_AFTER and not _pid_running(pid)
        else:
            stale = idle >= _STALE_UNCHECKED_AFTER and (m is None or int(m.group(1)) != os.getpid())
        if stale:
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file atomically: ``write(f)`` into a temp file in the same directory, fsync, ``os.replace``.

    The temp file is ``<name>.tmp-partial-<pid>-<random>`` (``<pid>``: the writing process). The parent directory
    is created if needed. On any error (or Ctrl-C) the temp file is removed and an existing ``path`` is untouched.
    A process killed mid-write cannot remove its temp file: each write first deletes the stale ones of the same
    target (their process is gone and they are untouched for a minute).
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(directory, path.name)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{path.name}.tmp-partial-{os.getpid()}-", suffix="")
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
