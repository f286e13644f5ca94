"""Run one piece of untrusted work (an explainer judged on a cell) so that nothing it does ends the caller.

``call_isolated(fn, timeout=...)`` runs ``fn()`` in a forked child process under a ``SIGALRM`` timeout and returns
its value, or an :class:`Isolated` failure when the child raised, timed out, called ``sys.exit``/``os._exit``, died
by a signal, or ignored the alarm (stuck in C code or swallowing it: the parent kills it ``grace`` seconds after the
deadline). The parent never runs the explainer, so a serial run, ``check_explainer`` and the in-process pytest
plugin give the same guarantees as the pool: one faulty cell costs one cell, recorded with its reason, and the run
goes on. ``alarm(timeout)`` is the in-process timeout the runner's pool workers use.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import sys
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

from xaicheck.core.errors import CellTimeout

__all__ = ["KILL_GRACE", "CellTimeout", "Isolated", "alarm", "call_isolated", "timeout_message", "died_message",
           "validate_timeout"]

T = TypeVar("T")

#: Extra seconds the parent waits beyond the child's own alarm before killing it.
KILL_GRACE = 10.0


# CellTimeout (raised by the alarm inside a cell; a BaseException so a check's ``except Exception`` cannot swallow it)
# is defined in ``xaicheck.core.errors`` (the benchmarks runner catches it) and re-exported here.


@dataclass(frozen=True)
class Isolated:
    """Why isolated work produced no value: ``status`` is ``"error"`` or ``"timeout"``."""

    status: str
    message: str
    traceback: str | None = None


def validate_timeout(timeout: float, what: str = "timeout") -> float:
    """``timeout`` as a float: finite and ``>= 0`` (0 disables); raises ``ValueError`` naming the bad value."""
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of seconds; got {timeout!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number of seconds >= 0; got {timeout!r}")
    return value


def timeout_message(timeout: float) -> str:
    return f"timed out after {timeout:g} s"


def died_message(exitcode: int | None) -> str:
    """``"process died: killed by signal SIGKILL"`` / ``"... exited with code 3 (sys.exit or os._exit)"``."""
    if exitcode is None:
        return "process died (exit code unknown)"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"process died: killed by {name}"
    return f"process died: exited with code {exitcode} (sys.exit or os._exit inside the cell)"


def _on_alarm(signum: int, frame: Any) -> None:
    raise CellTimeout()


@contextmanager
def alarm(timeout: float) -> Iterator[None]:
    """Raise :class:`CellTimeout` in this thread after ``timeout`` s (no-op off the main thread or for 0)."""
    use = (timeout > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread())
    if not use:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _child(conn: Any, fn: Callable[[], Any], timeout: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    try:
        with alarm(timeout):
            value = fn()
        reply: tuple[Any, ...] = ("ok", value)
    except CellTimeout:
        reply = ("timeout", timeout_message(timeout), None)
    except SystemExit as exc:
        reply = ("error", f"SystemExit: sys.exit({exc.code!r}) inside the cell", traceback.format_exc())
    except BaseException as exc:  # noqa: BLE001 - everything the work raised is the cell's outcome
        text = f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__} raised inside the cell"
        reply = ("error", text, traceback.format_exc())
    try:
        conn.send(reply)
    except Exception as exc:  # noqa: BLE001 - an unpicklable value
        conn.send(("error", f"the cell's result cannot be sent back: {type(exc).__name__}: {exc}", None))
    conn.close()


def call_isolated(fn: Callable[[], T], *, timeout: float, grace: float | None = None) -> "T | Isolated":
    """``fn()`` run in a forked child with a ``timeout`` (0: none), or the :class:`Isolated` reason it failed.

    ``grace`` (default :data:`KILL_GRACE`, read at call time) is how long after the deadline a child that ignores
    the alarm is killed. The value travels back pickled. Without ``fork`` (not POSIX) ``fn`` runs in this process under :func:`alarm`."""
    timeout = validate_timeout(timeout)
    grace = KILL_GRACE if grace is None else grace
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows
        try:
            with alarm(timeout):
                return fn()
        except CellTimeout:
            return Isolated("timeout", timeout_message(timeout))
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, timeout), daemon=True)
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    try:  # fork with one intra-op thread: a child must not inherit half of an OpenMP pool (it can hang)
        if threads is not None and threads != 1:
            torch.set_num_threads(1)
        proc.start()
    finally:
        if threads is not None and threads != 1:
            torch.set_num_threads(threads)
    child.close()
    try:
        deadline = timeout + grace if timeout > 0 else None
        if parent.poll(deadline):
            try:
                reply = parent.recv()
            except (EOFError, OSError):
                proc.join(5)
                return Isolated("error", died_message(proc.exitcode))
            if reply[0] == "ok":
                return reply[1]
            return Isolated(reply[0], reply[1], reply[2])
        return Isolated("timeout", timeout_message(timeout) + " (did not stop at the alarm: killed)")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
