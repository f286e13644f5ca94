"""The ``local`` engine: this process forks a fresh child for every unit of cells, ``jobs`` at a time.

The parent is the warm process (``warm_up``: shap's numba kernels compiled once; ``warm_process``: per-process
memos); up to 64 applicable cells of one explainer and seed form a *unit* (``axioms.unit``), started
with :func:`xaicheck.axioms.unit.start_unit` — a new child forked from it, in its own process group, killed with
every descendant when the unit ends, dies or its running cell passes ``timeout + grace`` — so nothing a unit does
(patching torch, leaking descriptors, ``chdir``, setting variables, forking) reaches another explainer or seed;
within a unit each cell starts from the run's context, the forked random states and a rewound field process. A
not-applicable cell is recorded without a process. Each child is forked without the other running units' pipes. A
unit that ends early (a cell killed past its deadline, a process that died) records that cell's failure, keeps the
records already answered and runs the cells it never started in a fresh unit.

Warm-up overlap: before the parent warms up (no fork may happen while it does: a child would inherit half-held
locks), it forks up to ``jobs`` units that need no warm-up; they run while it compiles, and the pool goes on from
there. The pool owns nothing global: cells, context and callback are arguments.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Any, Callable

from xaicheck.axioms.cell import Cell, CellContext, CellRecord, not_applicable
from xaicheck.axioms.unit import RunningUnit, start_unit, units_of

from .threads import limit_blas_threads
from .warm_up import needs_warm_up, warm_process, warm_up

__all__ = ["LocalEngine", "run_pool"]


def run_pool(cells: list[Cell], todo: list[int], *, jobs: int, timeout: float, emit: Callable[[CellRecord], None],
             context: CellContext | None = None, warm: bool = True, grace: float | None = None,
             alone: bool = False) -> dict[str, float]:
    """Run ``cells[i]`` for ``i`` in ``todo``, unit by unit (``axioms.unit.units_of``: each unit where its first
    cell is in ``todo``; ``alone``: a unit per cell), at most ``jobs`` units at once; ``emit`` each record as it
    arrives. Returns the warm-up seconds per explainer. Every child still running when this returns or raises is
    killed with its tree."""
    units = [[i] for i in todo] if alone else units_of(cells, todo)
    queue: deque[list[Cell]] = deque([cells[i] for i in unit] for unit in units)
    running: list[RunningUnit] = []
    # answered units whose killed processes the kernel is still tearing down: reaped without waiting as the pool
    # goes on, and waited for at the end (an answer never waits for its process's exit). Every one is waited for
    # before this returns or raises: a forked unit holds copies of this process's descriptors (the result folder's
    # lock among them) until it is gone
    dying: list[RunningUnit] = []

    def start(unit: list[Cell]) -> None:
        applicable = []
        for cell in unit:
            skipped = not_applicable(cell)
            if skipped is not None:
                emit(skipped)
            else:
                applicable.append(cell)
        if applicable:
            running.append(start_unit(applicable, timeout=timeout, context=context, grace=grace,
                                      close_fds=tuple(r.fileno() for r in running)))

    def end(ru: RunningUnit, records: list[CellRecord], rest: list[Cell]) -> None:
        running.remove(ru)
        dying.append(ru)  # before emit: an interrupt there still reaps it
        for record in records:
            emit(record)
        if rest:  # never started: a fresh unit, next
            queue.appendleft(rest)

    spent: dict[str, float] = {}
    limits: list[Any] = []
    try:
        warm_process({cells[i].explainer.name: cells[i].explainer for i in todo}.values())
        gc.freeze()  # what the parent holds now is shared by every forked unit: the units' collectors never copy it
        limits.append(limit_blas_threads())  # the libraries just imported: one thread, inherited by every unit
        to_warm = needs_warm_up(cells[i].explainer for i in todo) if warm else []
        if to_warm:
            cold = {e.name for e in to_warm}
            for unit in [u for u in queue if u[0].explainer.name not in cold]:
                if len(running) >= jobs:
                    break
                queue.remove(unit)
                start(unit)
            spent = warm_up(to_warm)
            limits.append(limit_blas_threads())
        while queue or running:
            while queue and len(running) < jobs:
                start(queue.popleft())
            if not running:
                continue
            for ru in wait(running, timeout=0.5):
                over = ru.feed()  # type: ignore[union-attr]
                if over:
                    end(ru, *ru.finish(wait=False))  # type: ignore[union-attr, arg-type]
                else:
                    for record in ru.take():  # type: ignore[union-attr]
                        emit(record)
            dying[:] = [ru for ru in dying if not ru.reaped()]
            now = time.monotonic()
            for ru in list(running):
                if ru.overdue(now):
                    end(ru, *ru.expire())
                elif ru.gone():
                    end(ru, *ru.lost())
    finally:
        for ru in running:
            ru.kill()
        for ru in dying:
            ru.kill()  # already killed: waits for it to be reaped
        for limiter in reversed(limits):
            if limiter is not None:
                limiter.restore_original_limits()
    return spent


class LocalEngine:
    """Units of cells forked from this process, ``jobs`` at a time (module docstring)."""

    name = "local"

    def __init__(self, jobs: int) -> None:
        if int(jobs) < 1:
            raise ValueError(f"jobs must be >= 1; got {jobs}")
        self.jobs = int(jobs)

    def run(self, suite: Any, cells: list[Cell], todo: list[int], *, timeout: float,
            emit: Callable[[CellRecord], None], warm: bool, context: CellContext | None = None,
            alone: bool = False) -> dict[str, float]:
        return run_pool(cells, todo, jobs=self.jobs, timeout=timeout, emit=emit, context=context, warm=warm,
                        alone=alone)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "workers": self.jobs}

    def close(self) -> None:
        pass

    def __enter__(self) -> "LocalEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
