"""``xaicheck diff A B``: cells whose status or score changed between two result directories.

Cells are joined on (explainer, check, case, seed). A score change counts when ``|a - b| > tol`` (default 1e-9);
cells present on one side only are listed as added / removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .records import read_scores

__all__ = ["DEFAULT_TOL", "CellChange", "diff_dirs", "format_changes"]

DEFAULT_TOL = 1e-9


@dataclass(frozen=True)
class CellChange:
    key: tuple[str, str, str, int]  # explainer, check, case, seed
    kind: str  # changed | added | removed
    before: tuple[str, float | None] | None
    after: tuple[str, float | None] | None

    @property
    def cell_id(self) -> str:
        e, c, k, s = self.key
        return f"{e}/{c}/{k}/s{s}"

    def line(self) -> str:
        def show(side: tuple[str, float | None] | None) -> str:
            if side is None:
                return "(absent)"
            status, score = side
            return status if score is None else f"{status} {score:.6g}"

        delta = ""
        if self.before and self.after and self.before[1] is not None and self.after[1] is not None:
            delta = f" (Δ {self.after[1] - self.before[1]:+.3g})"
        return f"{self.kind:8s} {self.cell_id}: {show(self.before)} -> {show(self.after)}{delta}"


def _load(directory: Path) -> dict[tuple[str, str, str, int], tuple[str, float | None]]:
    path = Path(directory) / "scores.csv"
    if not path.exists():
        raise FileNotFoundError(f"no scores.csv in {directory}")
    return {(r["explainer"], r["check"], r["case"], r["seed"]): (r["status"], r["score"]) for r in read_scores(path)}


def diff_dirs(a: Path | str, b: Path | str, tol: float = DEFAULT_TOL) -> list[CellChange]:
    """Every cell whose status or score differs between runs ``a`` and ``b`` (sorted by cell)."""
    before, after = _load(Path(a)), _load(Path(b))
    out = []
    for key in sorted(before.keys() | after.keys()):
        x, y = before.get(key), after.get(key)
        if x is None:
            out.append(CellChange(key, "added", None, y))
        elif y is None:
            out.append(CellChange(key, "removed", x, None))
        elif x[0] != y[0] or (x[1] is None) != (y[1] is None) or (
                x[1] is not None and y[1] is not None and abs(x[1] - y[1]) > tol):
            out.append(CellChange(key, "changed", x, y))
    return out


def format_changes(changes: list[CellChange], a: str, b: str) -> str:
    if not changes:
        return f"no cell changed between {a} and {b}"
    kinds = {k: sum(c.kind == k for c in changes) for k in ("changed", "added", "removed")}
    head = f"{len(changes)} cells differ between {a} and {b} (" + ", ".join(f"{v} {k}" for k, v in kinds.items()
                                                                           if v) + ")"
    return "\n".join([head, *(c.line() for c in changes)])
