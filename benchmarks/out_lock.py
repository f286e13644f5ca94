"""One run at a time per result directory: an exclusive, non-blocking ``flock`` on ``OUT/.lock``.

``xaicheck run`` (and ``runner.run_suite``) hold the lock for the whole run, so a second run into the same folder
stops at once with one line (``another xaicheck run is using OUT (pid N)``) instead of running every cell again and
racing the first on the outputs. ``flock`` locks belong to the open file, so the lock ends when the holder exits or
is killed (no stale lock to remove by hand); the file itself stays, git-ignored (``safe_io.MACHINE_DEPENDENT``),
and holds the holder's pid for the message. The lock is re-entrant within one process (the CLI holds it around
``run_suite``, which takes it too). Opened with ``O_NOFOLLOW``: a link at ``.lock`` is refused, never followed.
"""

from __future__ import annotations

import errno
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .safe_io import OutDirError

__all__ = ["LOCK_NAME", "OutLocked", "out_lock"]

LOCK_NAME = ".lock"
#: Locks this process holds: resolved lock path -> [fd, depth].
_HELD: dict[str, list[int]] = {}


class OutLocked(OutDirError):
    """Another process holds the lock of the result directory (one line)."""


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


@contextmanager
def out_lock(out: Path | str) -> Iterator[Path]:
    """Hold the exclusive lock of result directory ``out`` while the block runs; raises :class:`OutLocked` at once
    when another process holds it."""
    path = Path(os.path.abspath(out)) / LOCK_NAME
    key = str(path)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield path
        finally:
            _HELD[key][1] -= 1
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutDirError(f"{path} is a symbolic link; xaicheck never follows links in a result directory: "
                              "remove it") from None
        raise OutDirError(f"cannot open {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutLocked(f"another xaicheck run is using {path.parent} (pid {_holder(fd)}); wait for it to "
                                "finish or choose another --out") from None
            raise OutDirError(f"cannot lock {path}: {exc.strerror or exc}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD[key] = [fd, 1]
        try:
            yield path
        finally:
            del _HELD[key]
    finally:
        os.close(fd)  # closing the last descriptor of this open file releases the lock
