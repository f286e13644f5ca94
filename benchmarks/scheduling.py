"""Longest-first scheduling of a run's cells, so an expensive cell never lands last on an otherwise idle pool.

Cost of a cell: its wall time in the previous run's ``OUT/timings.csv`` when known (the usual case when a results
directory is regenerated); else an estimate, relative cost of the explainer's family (``FAMILY_COST``: sampling
surrogates and Shapley estimators are slow) x 3 when the check runs a counterexample search x (1 + rows / 16).
Cells missing from an earlier run get the median known time scaled by their estimate. Ties keep cell order, so the
schedule is deterministic; the outputs are sorted, so the schedule never changes a byte of them.
"""

from __future__ import annotations

from pathlib import Path

from .records import read_timings
from .suite import Cell, Suite

__all__ = ["FAMILY_COST", "schedule"]

#: Relative cost of one cell by explainer family, when no earlier timing is known (sampling methods are slow).
FAMILY_COST: dict[str, float] = {"surrogate": 8.0, "shapley": 4.0, "perturbation": 2.0}


def _cell_cost(suite: Suite, cell: Cell, prior: dict[tuple[str, str, str, int], float]) -> float:
    known = prior.get(cell.key)
    if known is not None:
        return known
    exp, check, case = suite.explainer_of(cell), suite.check_of(cell), suite.case_of(cell)
    rows = int(getattr(case.X, "shape", (1,))[0] or 1)
    search = 3.0 if hasattr(check, "search_space") else 1.0
    return FAMILY_COST.get(exp.family, 1.0) * search * (1.0 + rows / 16.0)


def cell_costs(suite: Suite, cells: list[Cell], todo: list[int], out: Path | None = None) -> dict[int, float]:
    """Expected seconds (or cost units) of each cell in ``todo``: seconds from the previous run's
    ``OUT/timings.csv`` when known, else a cost estimate (family, counterexample search, rows)."""
    prior: dict[tuple[str, str, str, int], float] = {}
    if out is not None:
        try:
            prior = {(t["explainer"], t["check"], t["case"], t["seed"]): t["seconds"]
                     for t in read_timings(Path(out) / "timings.csv")}
        except (ValueError, OSError):
            prior = {}
    if prior:  # cells not in the earlier run: the median known time scaled by the estimate
        known = sorted(prior.values())
        median = known[len(known) // 2]
        base = {i: _cell_cost(suite, cells[i], {}) for i in todo}
        mean_base = sum(base.values()) / max(len(base), 1)
        return {i: prior.get(cells[i].key, median * base[i] / mean_base) for i in todo}
    return {i: _cell_cost(suite, cells[i], {}) for i in todo}


def schedule(suite: Suite, cells: list[Cell], todo: list[int], out: Path | None = None,
             cost: dict[int, float] | None = None) -> list[int]:
    """``todo`` ordered longest first by :func:`cell_costs` (or the ``cost`` given). Ties keep cell order, so the
    order is deterministic."""
    cost = cell_costs(suite, cells, todo, out) if cost is None else cost
    return sorted(todo, key=lambda i: (-cost[i], i))
