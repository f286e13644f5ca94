"""What every execution engine is: the :class:`Engine` protocol and the errors an engine raises.

An engine takes the suite, its cells, the indices to run (already in longest-first order, ``scheduling.schedule``),
the per-cell timeout, the :class:`~xaicheck.axioms.isolation.CellContext` every cell starts from and the runner's
``emit`` callback, and calls ``emit(record)`` once per finished cell, in the process that owns the resumable log.
Every engine runs each applicable cell with :func:`xaicheck.axioms.cell.run_cell` semantics: a fresh forked process
(per cell, or per unit of cells of one explainer and seed: ``axioms.unit``, the local engine unless
``alone``), its own process group killed with every descendant when it ends.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from xaicheck.axioms.cell import Cell, CellContext, CellRecord

__all__ = ["Engine", "EngineError", "EngineLost"]


class EngineError(RuntimeError):
    """An engine that cannot be used (not installed, scheduler unreachable): one line for the user."""


class EngineLost(EngineError):
    """The engine went away mid-run; the finished cells are in the log and a rerun resumes from there."""


class Engine(Protocol):
    name: str

    def run(self, suite: Any, cells: list[Cell], todo: list[int], *, timeout: float,
            emit: Callable[[CellRecord], None], warm: bool, context: CellContext | None = None,
            alone: bool = False) -> dict[str, float]:
        """Run ``cells[i]`` for ``i`` in ``todo`` (that order = priority), ``emit`` each record; returns the
        warm-up seconds per explainer (``{}`` when nothing was warmed). ``alone``: every cell in a process of its
        own (the determinism rerun), never in a unit with others."""

    def describe(self) -> dict[str, Any]:
        """What goes into ``provenance.json["engine"]``."""

    def close(self) -> None:
        """Release workers and connections (idempotent)."""
