"""Thread pools of a process that forks cells: one torch and one BLAS/OpenMP thread, and how many cores to use.

A process that forks must not hold a thread pool the children would inherit half of (an OpenMP pool forked
mid-use can hang), and oversubscribed OpenBLAS pools made small predicts 100x slower under load; serial and
parallel runs compute alike with one thread each.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["default_jobs", "limit_torch_threads", "limit_blas_threads", "one_thread"]


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def limit_torch_threads() -> None:
    """One intra-op thread: workers do not oversubscribe cores, and serial and parallel runs compute alike."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.set_num_threads(1)


def limit_blas_threads() -> Any:
    """One BLAS/OpenMP thread in this process (``threadpoolctl``); returns the limiter (``None`` if unavailable)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return None
    return threadpool_limits(limits=1)


@contextmanager
def one_thread() -> Iterator[None]:
    """One torch and one BLAS/OpenMP thread in this process while the block runs (then restored)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    threads = torch.get_num_threads() if torch is not None else None
    blas = None
    try:
        limit_torch_threads()
        blas = limit_blas_threads()
        yield
    finally:
        if blas is not None:
            blas.restore_original_limits()
        if threads is not None:
            torch.set_num_threads(threads)
