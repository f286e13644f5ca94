"""Execution engines: who runs a run's cells. ``local`` (cells forked from this process, default) or ``dask``.

Every engine gives the same ``scores.csv`` bytes for the same seed: the runner writes the log and the outputs, the
engine only calls ``emit(record)`` once per finished cell (``engine_base.Engine``). Every engine runs each cell in
a fresh process of its own (``axioms.cell.run_cell``), a hang recorded as ``timeout`` and a dead process as
``error`` with the reason, compiling libraries warmed up once per forking process (``warm_up.WARM_UP_LIBRARIES``).

An engine that loses its workers for good (a Dask scheduler that goes away) raises :class:`EngineLost` after
recording what finished: a later run, on any engine, resumes from the log.
"""

from __future__ import annotations

from typing import Any

from .engine_base import Engine, EngineError, EngineLost
from .engine_local import LocalEngine
from .threads import default_jobs

__all__ = ["ENGINES", "Engine", "EngineError", "EngineLost", "LocalEngine", "make_engine"]

#: Engine names accepted by ``xaicheck run --engine`` and ``pytest --xaicheck-engine``.
ENGINES: tuple[str, ...] = ("local", "dask")


def make_engine(name: str = "local", *, jobs: int | None = None, scheduler: str | None = None) -> Any:
    """The engine called ``name``: ``local`` (``jobs`` processes) or ``dask`` (``scheduler`` address, else a
    ``LocalCluster`` of ``jobs`` one-thread worker processes). Raises :class:`EngineError` when dask is missing."""
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
