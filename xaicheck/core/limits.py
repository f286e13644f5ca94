"""Resource limits of one cell (issue 28, item 2), for every process its work runs in: the cell's forked process
(``axioms.isolation.Forked``) and the field process its explainer runs in (``explainers._field``).

- **Open files and address space** (:data:`CELL_LIMITS`), lowered for good (soft and hard).
- **CPU time** (``RLIMIT_CPU``, :func:`cpu_limits`): derived from the cell's wall-clock timeout ``T``:
  soft ``ceil(CPU_PER_WALL * T)`` s, hard ``CPU_GRACE`` s above it. The wall-clock alarm normally ends a slow cell
  first; the CPU limit is the backstop for work that swallows the alarm or spins in C code: at the soft limit the
  kernel sends ``SIGXCPU`` (the cell's own process turns it into an error naming the limit; the field process dies
  of it), at the hard limit ``SIGKILL``. A process's CPU time starts at zero when it is forked, so each cell gets
  its whole budget. ``T = 0`` (no timeout) sets no CPU limit.
- **Output** (:class:`OutputCapture`): what the work writes to its stdout and stderr (file descriptors 1 and 2,
  so C libraries and child processes too) goes into a pipe of the cell; the first :data:`OUTPUT_CAP` bytes are
  kept and passed on to the caller's stderr when the cell ends, the rest is counted and dropped (one line says how
  much). A cell that prints 7.6 GB costs the operator's terminal 1 MiB.
- **Replies** (:data:`REPLY_CAP`): a reply of the cell (or a message of the field process) longer than this is
  refused as that cell's error before it is read into memory.

Recorded in ``provenance.json`` as ``cell_limits`` (:func:`recorded_limits`). A limit already lower is kept.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

__all__ = ["CELL_LIMITS", "CPU_PER_WALL", "CPU_GRACE", "OUTPUT_CAP", "REPLY_CAP", "cpu_limits", "limit_cell",
           "limit_cpu", "cpu_budget", "current_limits", "lower_to", "recorded_limits", "cpu_limit_message", "CPULimitExceeded",
           "OutputCapture"]

#: Resource limits of every forked cell (``setrlimit``, soft and hard, so the work cannot raise them again): open
#: files (a leak of descriptors fails the cell that leaks with ``EMFILE``) and address space (a runaway
#: allocation raises ``MemoryError`` in the cell instead of exhausting the machine; 8 GiB is about five times the
#: virtual size of a warm cell with torch, captum, shap and lime loaded). Processes are bounded by the process group
#: killed with every descendant (``RLIMIT_NPROC`` counts all of the user's processes, not the cell's).
CELL_LIMITS: dict[str, int] = {"RLIMIT_NOFILE": 1024, "RLIMIT_AS": 8 * 1024 ** 3}
#: CPU seconds a cell may use per second of its wall-clock timeout (a cell may run a few threads).
CPU_PER_WALL = 2.0
#: Seconds between the soft CPU limit (``SIGXCPU``) and the hard one (``SIGKILL``).
CPU_GRACE = 5
#: Bytes of a cell's stdout and stderr (together) kept and passed on; the rest is dropped.
OUTPUT_CAP = 1024 ** 2
#: The largest reply (one JSON line of a cell, one message of a field process) read, in bytes.
REPLY_CAP = 256 * 1024 ** 2
#: The resources this module limits, by name (what a field process copies from its cell).
_LIMITED = ("RLIMIT_NOFILE", "RLIMIT_AS", "RLIMIT_CPU")


class CPULimitExceeded(BaseException):
    """Raised in a cell's process at its soft CPU limit (``SIGXCPU``); a ``BaseException``, like ``CellTimeout``,
    so a check's ``except Exception`` cannot swallow it."""


def cpu_limits(timeout: float) -> tuple[int, int] | None:
    """``(soft, hard)`` CPU seconds for a cell with wall-clock ``timeout``: ``ceil(CPU_PER_WALL * timeout)`` and
    ``CPU_GRACE`` more; ``None`` for ``timeout <= 0`` (no timeout, no CPU limit)."""
    if not timeout > 0 or not math.isfinite(timeout):
        return None
    soft = max(1, math.ceil(CPU_PER_WALL * timeout))
    return soft, soft + CPU_GRACE


def cpu_limit_message(soft: int | None = None) -> str:
    """The one line a cell that ran out of CPU time gets."""
    what = f"{soft} s" if soft is not None else "its limit"
    return (f"CPU time limit exceeded: the cell used {what} of CPU time (RLIMIT_CPU, {CPU_PER_WALL:g} x its "
            f"timeout)")


def _resource() -> Any:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return None
    return resource


def lower_to(limits: dict[str, int | tuple[int, int]]) -> dict[str, int | tuple[int, int]]:
    """Lower this process's limits to ``limits`` (a value: soft = hard; a pair: ``(soft, hard)``), never raising
    one; returns what was applied."""
    resource = _resource()
    if resource is None:
        return {}
    applied: dict[str, int | tuple[int, int]] = {}
    for name, value in limits.items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        soft, hard = resource.getrlimit(which)
        if isinstance(value, tuple):
            new_hard = _lower(value[1], hard)
            new_soft = _lower(_lower(value[0], soft), new_hard)
        else:
            new_soft = new_hard = _lower(_lower(value, hard), soft)
        try:
            resource.setrlimit(which, (new_soft, new_hard))
        except (ValueError, OSError):
            continue
        applied[name] = new_soft if new_soft == new_hard else (new_soft, new_hard)
    return applied


def _lower(want: int, have: int) -> int:
    """The lower of two limits, ``RLIM_INFINITY`` (-1 on Linux) being the highest."""
    inf = _resource().RLIM_INFINITY
    return have if want == inf else want if have == inf else min(want, have)


def limit_cell(limits: dict[str, int] | None = None) -> dict[str, int]:
    """Lower this process's limits to :data:`CELL_LIMITS` (never raising one); returns what was applied."""
    return lower_to(dict(CELL_LIMITS if limits is None else limits))  # type: ignore[return-value]


def limit_cpu(timeout: float) -> tuple[int, int] | None:
    """Lower this process's ``RLIMIT_CPU`` to :func:`cpu_limits` of ``timeout``; the ``(soft, hard)`` in force."""
    pair = cpu_limits(timeout)
    if pair is not None:
        lower_to({"RLIMIT_CPU": pair})
    resource = _resource()
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    return None if soft == resource.RLIM_INFINITY else (soft, hard)


def cpu_budget(soft: int) -> tuple[int, int] | None:
    """Give this process ``soft`` more CPU seconds from now: its soft ``RLIMIT_CPU`` set to the CPU time it has used
    plus ``soft`` (never above its hard limit, which is never raised). A process that runs several cells in turn
    (a unit, ``axioms.isolation.Forked`` with several items; a field process serving them) gives each cell the same
    budget. Returns the ``(soft, hard)`` in force, ``None`` when there is no CPU limit."""
    resource = _resource()
    if resource is None:
        return None
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY:
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    new_soft = min(hard, math.ceil(usage.ru_utime + usage.ru_stime) + int(soft))
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (new_soft, hard))
    except (ValueError, OSError):
        return None
    return new_soft, hard


def current_limits() -> dict[str, tuple[int, int]]:
    """This process's ``(soft, hard)`` of each limited resource (what a field process copies from its cell)."""
    resource = _resource()
    if resource is None:
        return {}
    return {name: resource.getrlimit(getattr(resource, name)) for name in _LIMITED if hasattr(resource, name)}


def recorded_limits(timeout: float) -> dict[str, Any]:
    """What ``provenance.json`` records as ``cell_limits`` for a run with per-cell ``timeout``."""
    cpu = cpu_limits(timeout)
    return {**CELL_LIMITS, "RLIMIT_CPU": None if cpu is None else list(cpu), "output_bytes": OUTPUT_CAP,
            "reply_bytes": REPLY_CAP}


class OutputCapture:
    """File descriptors 1 and 2 of this process redirected into a pipe; a thread keeps the first ``cap`` bytes.

    :meth:`finish` puts the original descriptors back and writes what was kept (plus one line saying how much was
    dropped) to the original stderr. The pipe holds up to 1 MiB (``F_SETPIPE_SZ``, where allowed), so a writer
    rarely waits for the thread.
    """

    def __init__(self, cap: int = OUTPUT_CAP, label: str = "cell") -> None:
        self.cap = cap
        self.label = label
        self.kept = bytearray()
        self.total = 0
        self._saved = (os.dup(1), os.dup(2))
        read, write = os.pipe()
        try:
            import fcntl

            fcntl.fcntl(write, 1031, 1024 ** 2)  # F_SETPIPE_SZ
        except (ImportError, OSError):
            pass
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.close(write)
        self._read = read
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._drain, daemon=True, name="xaicheck-output")
        self._thread.start()

    def _keep(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]

    def _drain(self) -> None:
        """Read the pipe until EOF, or until :meth:`finish` wakes us: then take what is already there and stop (a
        process the work started, e.g. a field process, may still hold the pipe open)."""
        import select

        while True:
            try:
                ready, _, _ = select.select([self._read, self._wake_read], [], [])
            except (OSError, ValueError):
                return
            if self._read in ready:
                try:
                    chunk = os.read(self._read, 1 << 16)
                except OSError:
                    return
                if not chunk:
                    return
                self._keep(chunk)
            elif self._wake_read in ready:
                os.set_blocking(self._read, False)
                while True:
                    try:
                        chunk = os.read(self._read, 1 << 16)
                    except (BlockingIOError, OSError):
                        return
                    if not chunk:
                        return
                    self._keep(chunk)

    def finish(self, wait: float = 5.0) -> None:
        """Restore descriptors 1 and 2, collect what the thread read, and pass the kept bytes on to stderr."""
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        os.write(self._wake_write, b"x")
        self._thread.join(wait)
        kept, total = bytes(self.kept), self.total
        try:
            if kept:
                _write_all(2, kept if kept.endswith(b"\n") else kept + b"\n")
            if total > self.cap:
                _write_all(2, f"xaicheck: {self.label} wrote {total} bytes to stdout/stderr; the first {self.cap} "
                              f"were kept (output cap)\n".encode())
        except OSError:
            pass
        for fd in (*self._saved, self._read, self._wake_read, self._wake_write):
            try:
                os.close(fd)
            except OSError:
                pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
