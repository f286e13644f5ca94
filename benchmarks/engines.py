"""Execution engines: who runs a run's cells. ``local`` (the embedded forked pool, default) or ``dask``.

An engine takes the suite, its cells, the indices to run (already in longest-first order, ``scheduling.schedule``),
the per-cell timeout and the runner's ``emit`` callback, and calls ``emit(record)`` once per finished cell, in the
process that owns the resumable log; the runner writes the log and the outputs, so every engine gives the same
``scores.csv`` bytes for the same seed. Every engine keeps the runner's guarantees: each cell isolated in a process
of its own, a hang recorded as ``timeout`` and a dead process as ``error`` with the reason, compiling libraries
warmed up once per worker process (``runner.WARM_UP_LIBRARIES``), not once per cell.

An engine that loses its workers for good (a Dask scheduler that goes away) raises :class:`EngineLost` after
recording what finished: a later run, on any engine, resumes from the log.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from .records import CellRecord
from .suite import Cell, Suite

__all__ = ["ENGINES", "Engine", "EngineError", "EngineLost", "LocalEngine", "make_engine"]

#: Engine names accepted by ``xaicheck run --engine`` and ``pytest --xaicheck-engine``.
ENGINES: tuple[str, ...] = ("local", "dask")


class EngineError(RuntimeError):
    """An engine that cannot be used (not installed, scheduler unreachable): one line for the user."""


class EngineLost(EngineError):
    """The engine went away mid-run; the finished cells are in the log and a rerun resumes from there."""


class Engine(Protocol):
    name: str

    def run(self, suite: Suite, cells: list[Cell], todo: list[int], *, timeout: float,
            emit: Callable[[CellRecord], None], warm: bool) -> dict[str, float]:
        """Run ``cells[i]`` for ``i`` in ``todo`` (that order = priority), ``emit`` each record; returns the
        warm-up seconds per explainer (``{}`` when nothing was warmed)."""

    def describe(self) -> dict[str, Any]:
        """What goes into ``provenance.json["engine"]``."""

    def close(self) -> None:
        """Release workers and connections (idempotent)."""


class LocalEngine:
    """The runner's forked pool on this machine (``jobs`` worker processes; see ``runner``)."""

    name = "local"

    def __init__(self, jobs: int) -> None:
        if int(jobs) < 1:
            raise ValueError(f"jobs must be >= 1; got {jobs}")
        self.jobs = int(jobs)

    def run(self, suite: Suite, cells: list[Cell], todo: list[int], *, timeout: float,
            emit: Callable[[CellRecord], None], warm: bool) -> dict[str, float]:
        from .runner import _run_parallel, _WarmUp

        warmer = _WarmUp(suite, [cells[i] for i in todo]) if warm else None
        _run_parallel(suite, cells, todo, self.jobs, timeout, emit, warmer)
        return dict(warmer.spent) if warmer is not None else {}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "workers": self.jobs}

    def close(self) -> None:
        pass

    def __enter__(self) -> "LocalEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_engine(name: str = "local", *, jobs: int | None = None, scheduler: str | None = None) -> Any:
    """The engine called ``name``: ``local`` (``jobs`` processes) or ``dask`` (``scheduler`` address, else a
    ``LocalCluster`` of ``jobs`` one-thread worker processes). Raises :class:`EngineError` when dask is missing."""
    from .runner import default_jobs

    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
    if name == "local":
        if scheduler is not None:
            raise ValueError("a scheduler address needs the dask engine (--engine dask)")
        return LocalEngine(default_jobs() if jobs is None else jobs)
    try:
        import distributed  # noqa: F401 - only to give a clear message when it is missing
    except ImportError as exc:
        raise EngineError(f"the dask engine needs dask and distributed ({exc}); install them with "
                          "`pip install 'xaicheck[dask]'`") from None
    from .engine_dask import DaskEngine

    return DaskEngine(scheduler=scheduler, workers=jobs)
