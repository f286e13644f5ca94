"""The ``local`` engine: this process forks a fresh child for every cell, ``jobs`` at a time.

The parent is the warm process (``warm_up``: shap's numba kernels compiled once; ``warm_process``: per-process
memos); every applicable cell is :func:`xaicheck.axioms.cell.start_cell` — a new child forked from it, in its own
process group, killed with every descendant when the cell answers, dies or passes ``timeout + grace`` — so nothing a
cell does (patching torch, leaking descriptors, ``chdir``, setting variables, forking) reaches another cell. A
not-applicable cell is recorded without a process. Each child is forked without the other running cells' pipes.

Warm-up overlap: before the parent warms up (no fork may happen while it does: a child would inherit half-held
locks), it forks up to ``jobs`` cells that need no warm-up; they run while it compiles, and the pool goes on from
there. The pool owns nothing global: cells, context and callback are arguments.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Any, Callable

from xaicheck.axioms.cell import Cell, CellContext, CellRecord, RunningCell, not_applicable, start_cell

from .threads import limit_blas_threads
from .warm_up import needs_warm_up, warm_process, warm_up

__all__ = ["LocalEngine", "run_pool"]


def run_pool(cells: list[Cell], todo: list[int], *, jobs: int, timeout: float, emit: Callable[[CellRecord], None],
             context: CellContext | None = None, warm: bool = True, grace: float | None = None) -> dict[str, float]:
    """Run ``cells[i]`` for ``i`` in ``todo`` (that order), at most ``jobs`` children at once; ``emit`` each record.
    Returns the warm-up seconds per explainer. Every child still running when this returns or raises is killed
    with its tree."""
    queue = deque(todo)
    running: list[RunningCell] = []
    # answered cells whose killed processes the kernel is still tearing down: reaped without waiting as the pool
    # goes on, and waited for at the end (a cell's answer never waits for its process's exit). Every one is waited
    # for before this returns or raises: a forked cell holds copies of this process's descriptors (the result
    # folder's lock among them) until it is gone
    dying: list[RunningCell] = []

    def start(idx: int) -> None:
        cell = cells[idx]
        skipped = not_applicable(cell)
        if skipped is not None:
            emit(skipped)
            return
        running.append(start_cell(cell, timeout=timeout, context=context, grace=grace,
                                  close_fds=tuple(r.fileno() for r in running)))

    spent: dict[str, float] = {}
    limits: list[Any] = []
    try:
        warm_process({cells[i].explainer.name: cells[i].explainer for i in todo}.values())
        gc.freeze()  # what the parent holds now is shared by every forked cell: the cells' collectors never copy it
        limits.append(limit_blas_threads())  # the libraries just imported: one thread, inherited by every cell
        to_warm = needs_warm_up(cells[i].explainer for i in todo) if warm else []
        if to_warm:
            cold = {e.name for e in to_warm}
            for idx in [i for i in queue if cells[i].explainer.name not in cold]:
                if len(running) >= jobs:
                    break
                queue.remove(idx)
                start(idx)
            spent = warm_up(to_warm)
            limits.append(limit_blas_threads())
        while queue or running:
            while queue and len(running) < jobs:
                start(queue.popleft())
            if not running:
                continue
            for rc in wait(running, timeout=0.5):
                if rc.feed():  # type: ignore[union-attr]
                    running.remove(rc)  # type: ignore[arg-type]
                    record = rc.record(wait=False)  # type: ignore[union-attr]
                    dying.append(rc)  # type: ignore[arg-type]  # before emit: an interrupt there still reaps it
                    emit(record)
            dying[:] = [rc for rc in dying if not rc.reaped()]
            now = time.monotonic()
            for rc in list(running):
                if rc.overdue(now):
                    running.remove(rc)
                    emit(rc.expire())
                elif rc.gone():
                    running.remove(rc)
                    emit(rc.lost())
    finally:
        for rc in running:
            rc.kill()
        for rc in dying:
            rc.kill()  # already killed: waits for it to be reaped
        for limiter in reversed(limits):
            if limiter is not None:
                limiter.restore_original_limits()
    return spent


class LocalEngine:
    """Cells forked from this process, ``jobs`` at a time (module docstring)."""

    name = "local"

    def __init__(self, jobs: int) -> None:
        if int(jobs) < 1:
            raise ValueError(f"jobs must be >= 1; got {jobs}")
        self.jobs = int(jobs)

    def run(self, suite: Any, cells: list[Cell], todo: list[int], *, timeout: float,
            emit: Callable[[CellRecord], None], warm: bool, context: CellContext | None = None) -> dict[str, float]:
        return run_pool(cells, todo, jobs=self.jobs, timeout=timeout, emit=emit, context=context, warm=warm)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "workers": self.jobs}

    def close(self) -> None:
        pass

    def __enter__(self) -> "LocalEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
