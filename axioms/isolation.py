"""A sandbox for one piece of untrusted work (an explainer judged on one cell): a fresh forked process of its own.

:class:`Forked` forks a child that runs ``fn()`` (which returns a JSON value) under a ``SIGALRM`` timeout and answers
with **one JSON line** on a pipe of its own. What the sandbox guarantees:

- **A fresh process per piece of work**, forked from the warm caller: nothing the work does to its process (patched
  libraries, environment, working directory, file descriptors, signal handlers, global seeds, dtype defaults)
  reaches the caller or later work. (A *unit*, :class:`Forked` with several items, runs up to 64 cells of one
  explainer and seed in turn in one child: ``axioms.unit`` says what each of them still starts from.) The child
  starts from a :class:`CellContext` captured by the caller (absolute working directory, the cache directory fixed in
  ``XAICHECK_CACHE_DIR``), so what an earlier cell did to those never matters.
- **Its own process group** (``setsid``): on timeout, at the end of the work, and when the caller gives up, the
  whole group is killed (``SIGKILL`` to ``-pgid``), with every descendant found under ``/proc`` (one that left the
  group with its own ``setsid`` too). The child is a child subreaper (Linux), so orphans of the work reparent to it
  and it kills them before it answers: a grandchild never outlives its cell. The child gets ``SIGKILL`` when the
  thread that forked it dies (``PR_SET_PDEATHSIG``): a caller killed outright leaves no cell running.
- **Limits** (``xaicheck.core.limits``): open files and address space (:data:`CELL_LIMITS`), and CPU time derived
  from the timeout (``RLIMIT_CPU``: at the soft limit the work gets :class:`CPULimitExceeded`, an error naming the
  limit; at the hard one the child is killed and the parent records the same line), lowered for good in the child.
  What the work writes to descriptors 1 and 2 is captured (``OutputCapture``): the first ``OUTPUT_CAP`` bytes are
  passed on to the caller's stderr, the rest counted and dropped; a reply longer than ``reply_cap`` (default
  ``REPLY_CAP``) is refused as the work's error before it is read whole.
- **Replies matched to the work**: every reply carries the work's label, the child's pid and a nonce drawn for
  this child; a reply from another process (a grandchild the work forked that returned into this code exits
  instead of answering), for another label or with another nonce is discarded and logged on stderr, never
  accepted. A child that died or closed the pipe without a valid answer is an error; one that ignores its alarm
  (stuck in C code, swallowing it) is killed ``grace`` seconds after the deadline and recorded as a timeout.

``alarm(timeout)`` is the in-process timeout. Without ``fork`` (not POSIX) work runs in the caller under the alarm.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from xaicheck.core.errors import CellTimeout
from xaicheck.core.limits import (CELL_LIMITS, REPLY_CAP, CPULimitExceeded, OutputCapture, cpu_limit_message,
                                  cpu_budget, cpu_limits, limit_cell, limit_cpu)

__all__ = ["KILL_GRACE", "CELL_LIMITS", "limit_cell", "CellTimeout", "CPULimitExceeded", "CellContext", "Forked",
           "Isolated", "alarm",
           "timeout_message", "died_message", "validate_timeout", "descendants", "kill_tree", "value_of", "CAN_FORK"]

#: Extra seconds the parent waits beyond the child's own alarm before killing it.
KILL_GRACE = 10.0
#: Whether work can run in a forked child here (POSIX).
CAN_FORK = hasattr(os, "fork")
#: ``prctl(PR_SET_CHILD_SUBREAPER, 1)``: orphaned descendants reparent to the child, which kills them.
_PR_SET_CHILD_SUBREAPER = 36
#: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the child is killed when the thread that forked it dies.
_PR_SET_PDEATHSIG = 1
#: The cache directory variable every cell starts with (``synthetic_models._fit_cache``, ``axioms._search_cache``).
CACHE_ENV = "XAICHECK_CACHE_DIR"


# CellTimeout (raised by the alarm inside a cell; a BaseException so a check's ``except Exception`` cannot swallow it)
# is defined in ``xaicheck.core.errors`` (the benchmarks runner catches it) and re-exported here.


@dataclass(frozen=True)
class Isolated:
    """Why isolated work produced no value: ``status`` is ``"error"`` or ``"timeout"``."""

    status: str
    message: str
    traceback: str | None = None


@dataclass(frozen=True)
class CellContext:
    """What every cell starts from, captured once by the caller: the working directory (absolute), the cache
    directory (``XAICHECK_CACHE_DIR``: an absolute path or ``off``) and the directory through which a run's cells
    share first-call attributions (``explainers._attribution_cache``; ``None``: no sharing). Applied in the child
    before the work runs, so a cell that changes directory or environment changes nothing for the next one."""

    cwd: str
    cache_dir: str
    share_dir: str | None = None

    @classmethod
    def capture(cls, share_dir: Path | str | None = None) -> "CellContext":
        from xaicheck.synthetic_models._fit_cache import cache_root

        root = cache_root()
        return cls(cwd=os.getcwd(), cache_dir="off" if root is None else os.path.abspath(root),
                   share_dir=None if share_dir is None else os.path.abspath(share_dir))

    def apply(self) -> None:
        """Make this process start as the context says (in the child, before the work). Hypothesis (the
        counterexample searches) keeps its files under the cache directory, never in the working directory."""
        os.environ[CACHE_ENV] = self.cache_dir
        try:
            os.chdir(self.cwd)
        except OSError:  # the caller's directory is gone (or remote): stay where the process is
            pass
        hypothesis = sys.modules.get("hypothesis.configuration")
        if hypothesis is not None and self.cache_dir != "off":
            hypothesis.set_hypothesis_home_dir(os.path.join(self.cache_dir, "hypothesis"))


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


# ----------------------------------------------------------------------------------------------- process trees
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                out.extend(int(p) for p in handle.read().split())
        except (OSError, ValueError):
            continue
    return out


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (``/proc/PID/task/*/children``, recursively; empty off Linux)."""
    seen: list[int] = []
    todo = _children(pid)
    while todo and len(seen) < 100_000:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo.extend(_children(p))
    return seen


def _kill(pid: int) -> None:
    for fn, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            fn(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid``'s descendants (and their groups), then ``pid``'s own group and ``pid``."""
    for _ in range(8):  # a descendant may fork while we look: a few rounds, each freezing what it finds
        found = descendants(pid)
        if not found:
            break
        for p in found:
            _kill(p)
    _kill(pid)


def _reap_children(rounds: int = 50) -> None:
    """In the child: kill every descendant (orphans reparent here: subreaper) and reap them."""
    me = os.getpid()
    for _ in range(rounds):
        kids = descendants(me)
        if not kids:
            return
        for p in kids:
            _kill(p)
        for p in _children(me):
            try:
                os.waitpid(p, 0)
            except ChildProcessError:
                pass


def _prctl_child(parent: int) -> None:
    """In the child (Linux): be a subreaper (orphans of the work reparent here), and get ``SIGKILL`` when the
    thread that forked us dies (``PR_SET_PDEATHSIG``), so a killed caller leaves no cell running."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the caller died before the request took effect
        os._exit(0)


# ----------------------------------------------------------------------------------------------- limits
# CELL_LIMITS (open files, address space), the CPU limit derived from the timeout, the output capture and the reply
# cap live in ``xaicheck.core.limits`` (the field process of ``explainers`` applies them too); re-exported here.


def _on_xcpu(signum: int, frame: Any) -> None:
    raise CPULimitExceeded(cpu_limit_message(_CPU_SOFT))


#: The soft CPU limit of this process when it is a cell's child (for the message), else ``None``.
_CPU_SOFT: int | None = None


# ----------------------------------------------------------------------------------------------- one child
def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _run_item(fn: Callable[[], Any], timeout: float) -> dict[str, Any]:
    """One piece of work under ``alarm(timeout)``: ``{"value": ...}`` or its failure (status, message, traceback)."""
    try:
        with alarm(timeout):
            return {"value": fn()}
    except CellTimeout:
        return {"status": "timeout", "message": timeout_message(timeout)}
    except CPULimitExceeded as exc:
        return {"status": "error", "message": str(exc)}
    except SystemExit as exc:
        return {"status": "error", "message": f"SystemExit: sys.exit({exc.code!r}) inside the cell",
                "traceback": traceback.format_exc()}
    except BaseException as exc:  # noqa: BLE001 - everything the work raised is the cell's outcome
        text = f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__} raised inside the cell"
        return {"status": "error", "message": text, "traceback": traceback.format_exc()}


def _child(fd: int, items: list[tuple[str, Callable[[], Any]]], label: str, nonce: str, timeout: float,
           parent: int) -> None:
    """The forked child: run each item in turn and answer once per item; never returns (``os._exit``).

    Each item gets ``timeout`` (its alarm) and the CPU budget of one cell (:func:`~xaicheck.core.limits.cpu_budget`;
    the hard limit is the items' budgets summed); its stray descendants are killed before its answer; the output
    capture is the unit's (one cap for all its items), flushed before the last answer."""
    global _CPU_SOFT
    me = os.getpid()
    capture: OutputCapture | None = None
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
        _prctl_child(parent)
        per_item = cpu_limits(timeout)
        cpu = limit_cpu(timeout * len(items))
        _CPU_SOFT = None if per_item is None or cpu is None else per_item[0]
        signal.signal(signal.SIGXCPU, _on_xcpu)
        capture = OutputCapture(label=f"cell {label}")
        for index, (item, fn) in enumerate(items):
            if len(items) > 1 and per_item is not None and cpu is not None:
                cpu_budget(per_item[0])
            reply = _run_item(fn, timeout)
            if os.getpid() != me:  # a process the work forked came back here: only the child answers
                os._exit(0)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001 - a closed or replaced stream
                    pass
            _reap_children()
            if index == len(items) - 1:
                capture.finish()
            try:
                line = json.dumps({"label": item, "pid": me, "nonce": nonce, **reply}, allow_nan=False)
            except (TypeError, ValueError) as exc:
                line = json.dumps({"label": item, "pid": me, "nonce": nonce, "status": "error",
                                   "message": f"the cell's result cannot be sent back: {type(exc).__name__}: {exc}"})
            _write_all(fd, line.encode() + b"\n")
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        pass
    finally:
        os._exit(0)


class Forked:
    """``fn()`` running in a fresh forked child (module docstring); read its answer with :meth:`feed`.

    ``items`` (instead of ``fn``): several ``(label, fn)`` run in turn in the one child (a *unit*: the cells of one
    explainer and seed, ``axioms.unit.RunningUnit``), one answer each, in order: :attr:`answers` holds
    those accepted so far; each answer moves the deadline to ``timeout + grace`` after it. :attr:`outcome` is set when
    the child is over: the last item's answer, or the :class:`Isolated` reason it ended early (the item then running
    is ``answers[len(answers)]``; the ones after it never started).

    ``close_fds``: descriptors of the caller the child must not hold (the pipes of other running children)."""

    def __init__(self, fn: Callable[[], Any] | None = None, *, label: str, timeout: float,
                 grace: float | None = None, close_fds: tuple[int, ...] = (), reply_cap: int | None = None,
                 items: list[tuple[str, Callable[[], Any]]] | None = None) -> None:
        if (fn is None) == (items is None):
            raise ValueError("Forked needs fn or items (one of them)")
        work = [(label, fn)] if items is None else list(items)
        if not work:
            raise ValueError("Forked needs at least one item")
        self.label = label
        self.labels = [item for item, _ in work]
        self.timeout = timeout
        self.reply_cap = REPLY_CAP if reply_cap is None else reply_cap
        self.grace = KILL_GRACE if grace is None else grace
        self.nonce = secrets.token_hex(16)
        read, write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child
            try:
                os.setsid()
                limit_cell()
                os.close(read)
                for other in close_fds:
                    try:
                        os.close(other)
                    except OSError:
                        pass
            except BaseException:  # noqa: BLE001
                os._exit(70)
            _child(write, work, label, self.nonce, timeout, parent)
        os.close(write)
        self.pid, self.fd = pid, read
        self.started = time.monotonic()
        self.answered_at = self.started  # when the last answer (or the start) came: the running item's start
        self.deadline = self._deadline_from(self.started)
        self._buffer = b""
        self._exit: int | None = None
        self._cpu: float | None = None  # the child's CPU seconds, once it is reaped
        self._closed = False
        self.answers: list[Any] = []
        self._answer_times: list[float] = []
        self.outcome: "Any | Isolated | None" = None

    def item_seconds(self, index: int) -> float:
        """Wall seconds the parent saw answered item ``index`` take (from the answer before it, or the start)."""
        end = self._answer_times[index]
        return end - (self._answer_times[index - 1] if index else self.started)

    def _deadline_from(self, start: float) -> float:
        return start + self.timeout + self.grace if self.timeout > 0 else math.inf

    # -- reading -----------------------------------------------------------------------------------------------
    def fileno(self) -> int:
        return self.fd

    def feed(self) -> bool:
        """Read what the pipe holds (call when it is readable); ``True`` once the child is over (:attr:`outcome`:
        the last item's value, or :class:`Isolated`); :attr:`answers` grows as items answer."""
        if self.outcome is not None:
            return True
        try:
            chunk = os.read(self.fd, 1 << 20)
        except OSError:
            chunk = b""
        if not chunk:  # every writer closed the pipe: the child is gone without a valid answer
            self.outcome = Isolated("error", self._died(self._wait(5.0)))
            return True
        if len(self._buffer) + len(chunk) > self.reply_cap:
            self.outcome = Isolated("error", f"the cell's reply is longer than {self.reply_cap} bytes (reply cap): "
                                             f"refused")
            return True
        self._buffer += chunk
        while b"\n" in self._buffer and self.outcome is None:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self._accept(line)
        return self.outcome is not None

    def _accept(self, line: bytes) -> None:
        expected = self.labels[len(self.answers)]
        try:
            msg = json.loads(line)
            ok = (isinstance(msg, dict) and msg.get("nonce") == self.nonce and msg.get("pid") == self.pid
                  and msg.get("label") == expected)
        except ValueError:
            msg, ok = None, False
        if not ok:
            who = msg.get("pid") if isinstance(msg, dict) else "?"
            what = msg.get("label") if isinstance(msg, dict) else "not a reply"
            print(f"xaicheck: discarded a message on the pipe of cell {expected} (from pid {who}, for {what!r}; "
                  f"expected pid {self.pid} with this cell's nonce)", file=sys.stderr, flush=True)
            return
        if "value" in msg:
            answer: Any = _Value(msg["value"])
        else:
            answer = Isolated(str(msg.get("status", "error")), str(msg.get("message", "")), msg.get("traceback"))
        self.answers.append(answer)
        self.answered_at = time.monotonic()
        self._answer_times.append(self.answered_at)
        self.deadline = self._deadline_from(self.answered_at)
        if len(self.answers) == len(self.labels):
            self.outcome = answer

    def exited(self) -> bool:
        """Whether the child has exited (it is then reaped; its exit code kept)."""
        if self._exit is None:
            try:
                pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:
                return True
            if pid == 0:
                return False
            self._exit = _code(status)
            self._cpu = usage.ru_utime + usage.ru_stime
        return True

    def _died(self, code: int | None) -> str:
        """Why the child is gone: its CPU limit if it was killed (``SIGXCPU``, or ``SIGKILL`` at the hard limit)
        after using its soft CPU limit (the items' budgets summed), else :func:`died_message`."""
        cpu = cpu_limits(self.timeout * len(self.labels))
        used = self._cpu
        if (cpu is not None and used is not None and code in (-signal.SIGXCPU, -signal.SIGKILL)
                and used >= cpu[0] - 0.05):
            return cpu_limit_message(cpu[0])
        return died_message(code)

    def _wait(self, seconds: float) -> int | None:
        """The child's exit code, waiting at most about ``seconds`` (``None`` if it is still there)."""
        end = time.monotonic() + seconds
        pause = 0.0005
        while not self.exited() and time.monotonic() < end:
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return self._exit

    def overdue(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) > self.deadline

    def close(self, wait: bool = True) -> None:
        """Kill the child's whole tree and group, reap it, close the pipe (idempotent).

        ``wait=False`` does not wait for the killed child to be reaped (the kernel tearing down a large address space
        takes tens of milliseconds); the caller reaps it later with :meth:`reap` (or :meth:`exited`)."""
        if self._closed:
            if wait:
                self.reap()
            return
        self._closed = True
        kill_tree(self.pid)
        if wait:
            self._wait(5.0)
        else:
            self.exited()
        try:
            os.close(self.fd)
        except OSError:
            pass

    def reap(self, seconds: float = 5.0) -> int | None:
        """Wait (at most about ``seconds``) for a closed child to be reaped; its exit code."""
        return self._wait(seconds)


@dataclass(frozen=True)
class _Value:
    value: Any


def value_of(outcome: "Any") -> Any:
    """The work's value if :class:`Forked` got one, else the :class:`Isolated` reason."""
    return outcome.value if isinstance(outcome, _Value) else outcome


def _code(status: int) -> int | None:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return None
