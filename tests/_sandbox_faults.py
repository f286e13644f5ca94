"""Explainers that try to reach beyond their own cell (issue 28): each did, when cells shared a worker process.

They patch ``torch.autograd.grad``, exhaust file descriptors, change directory, set ``XAICHECK_CACHE_DIR``, fork a
process that returns into the cell's code, and leave children behind (one of them in a session of its own). Every
process they start is noted (its pid as a file name under ``$XAICHECK_TEST_SANDBOX/pids``, written by the parent
before the explainer returns), so a test can check that none survives and kill any that does. Everything is bounded:
at most one fork per cell process for ``forks``, three children for ``leaves_children``, 256 descriptors.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from xaicheck.explainers.base import Capabilities, FunctionExplainer

#: The directory the explainers note pids in and try to write to (``elsewhere/``): set by the test.
SANDBOX_ENV = "XAICHECK_TEST_SANDBOX"
_HELD: list[int] = []
_FORKED: list[int] = []


def sandbox_dir() -> Path:
    return Path(os.environ[SANDBOX_ENV])


def _start_time(pid: int) -> str | None:
    """Field 22 of ``/proc/PID/stat`` (start time): tells a process from a later one reusing its pid."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _note(pid: int) -> None:
    pids = sandbox_dir() / "pids"
    pids.mkdir(parents=True, exist_ok=True)
    (pids / str(pid)).write_text(_start_time(pid) or "")


def _patches_torch(model, X, *, baseline, background, target, seed):
    import torch

    def broken(*args, **kwargs):
        raise RuntimeError("torch.autograd.grad patched by sandbox_patches_torch")

    torch.autograd.grad = broken
    torch.Tensor.backward = broken
    return np.zeros(X.shape)


def _leaks_fds(model, X, *, baseline, background, target, seed):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256), hard))
    try:
        while len(_HELD) < 256:
            _HELD.append(os.open(os.devnull, os.O_RDONLY))  # never closed
    except OSError:
        pass
    return np.zeros(X.shape)


def _chdir(model, X, *, baseline, background, target, seed):
    elsewhere = sandbox_dir() / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    os.chdir(elsewhere)
    return np.zeros(X.shape)


def _sets_env(model, X, *, baseline, background, target, seed):
    os.environ["XAICHECK_CACHE_DIR"] = str(sandbox_dir() / "elsewhere" / "cache")
    return np.zeros(X.shape)


def _forks(model, X, *, baseline, background, target, seed):
    """Forks once per process; the copy returns into the cell's code, as the explainer of the issue did."""
    if not _FORKED:
        _FORKED.append(1)
        pid = os.fork()
        if pid:
            _note(pid)
    return np.zeros(X.shape)


def _leaves_children(model, X, *, baseline, background, target, seed):
    """Three children sleeping 120 s; the third leaves the cell's process group (``setsid``)."""
    for k in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                if k == 2:
                    os.setsid()
                time.sleep(120)
            finally:
                os._exit(0)
        _note(pid)
    return np.zeros(X.shape)


def _hangs_with_children(model, X, *, baseline, background, target, seed):
    _leaves_children(model, X, baseline=baseline, background=background, target=target, seed=seed)
    time.sleep(120)
    return np.zeros(X.shape)


ESCAPES = {"sandbox_patches_torch": _patches_torch, "sandbox_leaks_fds": _leaks_fds, "sandbox_chdir": _chdir,
           "sandbox_sets_env": _sets_env, "sandbox_forks": _forks, "sandbox_leaves_children": _leaves_children}


def make(name: str) -> FunctionExplainer:
    fn = ESCAPES.get(name, _hangs_with_children)
    return FunctionExplainer(fn, name, capabilities=Capabilities(uses_baseline=True))


def noted_pids() -> list[int]:
    pids = sandbox_dir() / "pids"
    return sorted(int(p.name) for p in pids.iterdir()) if pids.exists() else []


def alive(pid: int) -> bool:
    """Whether the noted process ``pid`` still runs (same start time; a zombie waiting for its reaper is not)."""
    noted = (sandbox_dir() / "pids" / str(pid)).read_text()
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z" and fields[19] == noted


def kill_noted() -> None:
    """Cleanup for a test's ``finally``: SIGKILL every noted process still running (never a reused pid)."""
    import signal

    for pid in noted_pids():
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
