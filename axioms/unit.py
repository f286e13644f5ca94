"""A unit: cells of one explainer and one seed (at most ``MAX_UNIT_CELLS``), run in turn in one fresh forked process.

Every applicable cell of a run needs two processes: the exam's (a fork of the runner, holding the case and its
truth; ``axioms.cell``) and the explainer's field process (a fork of the zygote, holding nothing else;
``explainers._field``). Each costs a fork and an exit of a process with torch loaded (about 25 ms of kernel time
each on this machine, plus the copy-on-write faults that follow), which was most of the time of a cheap cell. A unit
runs up to ``MAX_UNIT_CELLS`` cells of one explainer and seed in one exam process and one field process, so they pay
for their processes once (``XAICHECK_UNITS=case`` groups per explainer, case and seed; ``cell`` gives every cell its
own processes).

What a unit keeps from "a fresh process per cell", and what it does not:

- **Between units, everything** (issue 28): a unit is a fresh fork of the warm runner, in its own process group,
  killed with every descendant when it ends; another explainer or another seed never shares a process with it. So
  every fault test of the sandbox (an explainer that patches torch, leaks descriptors, changes directory or
  environment, forks, leaves children) leaves every *other* explainer's rows byte-identical.
- **Between the cells of a unit, the state a cell starts from**: before each cell the exam process applies the run's
  :class:`~xaicheck.axioms.isolation.CellContext` again (working directory, cache directory, environment variable),
  restores the global random states (Python's, numpy's legacy, torch's) to those it was forked with, and asks its
  field process to *rewind* (:func:`xaicheck.explainers._field.rewind`): drop every explainer and model it was sent
  (the next cell sends fresh copies), restore its global random states to those it started with, and give it a new
  CPU budget -- or, when the field process is not as it started (a descriptor left open, a child process, a thread,
  another working directory or environment, a patched function of numpy, torch, captum, shap, lime, scikit-learn or
  scipy), end it: the next cell starts a fresh one. Each cell has its own alarm, its own CPU budget (``cpu_budget``;
  the hard limit is the unit's budgets summed), its stray child processes killed before it answers, and its own reply
  (label = cell id, the child's pid, the unit's nonce), accepted only in order.
- **Not restored**: what an explainer does to its field process beyond that (a patched module outside that list, a
  value cached in a module of its own) reaches the *same* explainer's later cells in the unit, and only those. An
  explainer that answers the same question differently after such a change is caught by the runner's determinism
  rerun, which runs sampled cells alone, each in a unit of its own, and compares bytes (``determinism.csv``). What the
  explainer can learn from earlier cells is what it was shown there: models and inputs, never a truth, case or check.
- **Failures**: a cell that times out, exhausts its CPU or kills its process ends the unit: that cell is recorded
  as such, the cells already answered keep their records, and the cells not yet started run again in a fresh unit.

Order: a unit's cells run sorted by cell key (check, case), never in an order taken from timings, so the sequence a
unit's processes go through depends only on which cells are to run.
"""

from __future__ import annotations

import functools
import os
import random
import sys
import time
from typing import Any, Callable

import numpy as np

from .base import Status
from .cell import Cell, CellRecord, _in_child, _one_torch_thread, failed_record, record_from_answer
from .isolation import CellContext, Forked, Isolated, died_message, timeout_message, validate_timeout, value_of

__all__ = ["UNIT_ENV", "UNIT_MODES", "MAX_UNIT_CELLS", "unit_key", "units_of", "RunningUnit", "start_unit"]

#: How cells are grouped into units (``XAICHECK_UNITS``): ``explainer`` (the default: the cells of one explainer and
#: seed, in runs of at most :data:`MAX_UNIT_CELLS` in cell-key order), ``case`` (one explainer, case and seed:
#: :func:`unit_key`), ``cell`` (a process per cell, as before units). Under ``XAICHECK_FIELD=inline`` the explainer runs
#: in the exam process, which a unit shares: every cell is then its own unit unless ``XAICHECK_UNITS`` is set
#: explicitly -- ``XAICHECK_FIELD=inline XAICHECK_UNITS=explainer`` is **a benchmark baseline, not a sandbox**: the
#: worker loop the runner had before issue 28 (what ``bench_units --baseline`` measures the sandbox against).
UNIT_ENV = "XAICHECK_UNITS"
UNIT_MODES = ("explainer", "case", "cell")
#: The most cells one unit runs (the default grouping): enough that a unit's two processes cost little per cell,
#: few enough that the pool's longest-first order still balances the last minutes of a run across its workers.
MAX_UNIT_CELLS = 64


def _mode() -> str:
    """The grouping in force (:data:`UNIT_ENV`; module docstring)."""
    from xaicheck.explainers._field import field_mode

    asked = os.environ.get(UNIT_ENV, "").strip().lower()
    if asked and asked not in UNIT_MODES:
        raise ValueError(f"{UNIT_ENV} must be one of {', '.join(UNIT_MODES)}, not {asked!r}")
    if not asked:
        return "cell" if field_mode() == "inline" else "explainer"
    return asked


def unit_key(cell: Cell) -> tuple[str, str, int]:
    """The unit a cell belongs to: ``(explainer, case, seed)`` names."""
    return (cell.explainer.name, cell.case.name, int(cell.seed))


def units_of(cells: list[Cell], order: list[int]) -> list[list[int]]:
    """``order`` (indices into ``cells``) grouped into units (:data:`UNIT_ENV`), each unit's cells sorted by cell key
    (a fixed order, whatever the schedule); the units in the order of their costliest cell in ``order`` (the
    schedule puts the costliest first)."""
    mode = _mode()
    if mode == "cell":
        return [[i] for i in order]
    groups: dict[tuple[str, ...], list[int]] = {}
    for i in order:
        key = unit_key(cells[i])
        groups.setdefault(key if mode == "case" else (key[0], str(key[2])), []).append(i)
    position = {i: k for k, i in enumerate(order)}
    units: list[list[int]] = []
    for group in groups.values():
        ordered = sorted(group, key=lambda i: cells[i].key)
        if mode == "case":
            units.append(ordered)
        else:
            units += [ordered[k:k + MAX_UNIT_CELLS] for k in range(0, len(ordered), MAX_UNIT_CELLS)]
    return sorted(units, key=lambda u: min(position[i] for i in u))


class _FreshState:
    """The global random states this process was forked with, put back before each later cell of a unit."""

    def __init__(self) -> None:
        torch = sys.modules.get("torch")
        self.py = random.getstate()
        self.np = np.random.get_state()
        self.torch = torch.get_rng_state() if torch is not None else None

    def restore(self) -> None:
        random.setstate(self.py)
        np.random.set_state(self.np)
        torch = sys.modules.get("torch")
        if torch is not None and self.torch is not None:
            torch.set_rng_state(self.torch)


def _unit_item(cell: Cell, timeout: float, context: CellContext | None, first: bool,
               fresh: "list[_FreshState]") -> dict[str, Any]:
    """One cell of a unit, in the unit's child: the first records the fresh state, the others restore it and
    rewind the field process first (module docstring)."""
    if first:
        fresh.append(_FreshState())
    else:
        from xaicheck.explainers import _field

        fresh[0].restore()
        _field.rewind()
    return _in_child(cell, timeout, context)


class RunningUnit:
    """A unit started in its forked child (:func:`start_unit`): ``fileno()`` to wait on, :meth:`feed` when
    readable, :meth:`take` for the records answered so far, :meth:`finish` (or :meth:`expire` / :meth:`lost`) once
    it is over."""

    def __init__(self, cells: list[Cell], timeout: float, context: CellContext | None, grace: float | None,
                 close_fds: tuple[int, ...] = ()) -> None:
        if not cells:
            raise ValueError("a unit needs at least one cell")
        self.cells = list(cells)
        self.timeout = timeout
        self.taken = 0
        fresh: list[_FreshState] = []
        items: list[tuple[str, Callable[[], Any]]] = [
            (c.id, functools.partial(_unit_item, c, timeout, context, i == 0, fresh)) for i, c in enumerate(cells)]
        undo = _one_torch_thread()
        try:
            self.proc = Forked(items=items, label=self.cells[0].id, timeout=timeout, grace=grace,
                               close_fds=close_fds)
        finally:
            undo()

    def fileno(self) -> int:
        return self.proc.fd

    def feed(self) -> bool:
        """Read what arrived; ``True`` once the unit is over (every cell answered, or the child ended early)."""
        return self.proc.feed()

    def take(self) -> list[CellRecord]:
        """The records of the cells answered since the last call, in order."""
        out: list[CellRecord] = []
        while self.taken < len(self.proc.answers):
            cell = self.cells[self.taken]
            out.append(record_from_answer(cell, value_of(self.proc.answers[self.taken]),
                                          self.proc.item_seconds(self.taken), "the cell answered nothing"))
            self.taken += 1
        return out

    def overdue(self, now: float | None = None) -> bool:
        return self.proc.overdue(now)

    def gone(self) -> bool:
        """The child exited and nothing is left to read: it will never answer again."""
        import select

        return self.proc.exited() and not select.select([self.proc.fd], [], [], 0)[0]

    def finish(self, wait: bool = True) -> tuple[list[CellRecord], list[Cell]]:
        """Kill the child's tree (idempotent); the records not yet taken (the cell running when the unit ended early
        gets its failure) and the cells that never started (to run again, in a fresh unit). ``wait=False``: do not
        wait for the killed child to be reaped (a pool reaps it later: :meth:`reaped`)."""
        self.proc.close(wait=wait)
        out = self.take()
        rest = self.cells[self.taken:]
        if rest:
            outcome = self.proc.outcome
            why = outcome if isinstance(outcome, Isolated) else Isolated("error", died_message(self.proc._exit))
            seconds = time.monotonic() - self.proc.answered_at
            out.append(failed_record(rest[0], Status(why.status), why.message, seconds))
            self.taken += 1
            rest = rest[1:]
        return out, rest

    def expire(self) -> tuple[list[CellRecord], list[Cell]]:
        """Kill a unit whose running cell is past its deadline: that cell's ``timeout`` record (:meth:`finish`)."""
        self.proc.outcome = Isolated("timeout", timeout_message(self.timeout) + " (did not stop at the alarm: killed)")
        return self.finish()

    def lost(self) -> tuple[list[CellRecord], list[Cell]]:
        """A child that exited without answering every cell: the running cell's ``error`` record (:meth:`finish`)."""
        self.proc.close()
        self.proc.outcome = Isolated("error", died_message(self.proc._exit))
        return self.finish()

    def kill(self) -> None:
        self.proc.close()

    def reaped(self) -> bool:
        """Whether the (closed) child has been reaped; never waits."""
        return self.proc.exited()


def start_unit(cells: list[Cell], *, timeout: float, context: CellContext | None = None,
               grace: float | None = None, close_fds: tuple[int, ...] = ()) -> RunningUnit:
    """``cells`` (one unit: :func:`unit_key` equal) started in a fresh forked child; read it with
    :class:`RunningUnit`. ``close_fds``: the caller's descriptors the child must not inherit."""
    from xaicheck.explainers import _field

    keys = {(c.explainer.name, int(c.seed)) for c in cells}
    if len(keys) > 1:
        raise ValueError(f"a unit holds one explainer with one seed; got {sorted(keys)}")
    _field.warm()  # the zygote explainers run in (issue 23): started once, in the process that forks the units
    return RunningUnit(cells, validate_timeout(timeout), context, grace, close_fds)
