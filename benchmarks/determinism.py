"""Nondeterminism noticed: a deterministic sample of each explainer's cells runs twice and is compared.

Every cell is a pure function of (explainer, case, seed), so a second run of the same cell in another worker must
give the same ``scores.csv`` row. Per explainer, the ``RERUN_SAMPLE`` ok cells whose ids hash lowest (sha256: the
same sample on every machine) run again after the run; an explainer whose sample differs (score, status or message)
is *nondeterministic*: ``determinism.csv`` (explainer, rerun, differed, nondeterministic, example) and
``provenance.json["nondeterministic"]`` say so, for the leaderboard to show.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

from .records import CellRecord
from .safe_io import atomic_write_text

__all__ = ["RERUN_SAMPLE", "DETERMINISM_COLUMNS", "determinism_sample", "determinism_report", "write_determinism",
           "read_determinism"]

#: Cells per explainer re-run after the run to notice nondeterminism (same seed, another worker).
RERUN_SAMPLE = 2
DETERMINISM_COLUMNS: tuple[str, ...] = ("explainer", "rerun", "differed", "nondeterministic", "example")


def determinism_sample(records: list[CellRecord], k: int = RERUN_SAMPLE) -> list[str]:
    """Cell ids to re-run: per explainer, the ``k`` ok cells whose ids hash lowest (the same on every machine)."""
    by_exp: dict[str, list[CellRecord]] = {}
    for r in records:
        if r.status == "ok":
            by_exp.setdefault(r.explainer, []).append(r)
    out: list[str] = []
    for name in sorted(by_exp):
        ranked = sorted(by_exp[name], key=lambda r: hashlib.sha256(r.cell_id.encode()).hexdigest())
        out.extend(r.cell_id for r in ranked[:k])
    return out


def _same(a: CellRecord, b: CellRecord) -> bool:
    return a.score_row() == b.score_row()


def determinism_report(records: dict[str, CellRecord], reruns: list[CellRecord]) -> dict[str, dict[str, Any]]:
    """``{explainer: {rerun, differed, nondeterministic, example}}`` from the re-run cells."""
    out: dict[str, dict[str, Any]] = {}
    for rec in sorted(reruns, key=lambda r: r.cell_id):
        first = records[rec.cell_id]
        row = out.setdefault(rec.explainer, {"rerun": 0, "differed": 0, "nondeterministic": False, "example": ""})
        row["rerun"] += 1
        if not _same(first, rec):
            row["differed"] += 1
            row["nondeterministic"] = True
            if not row["example"]:
                what = (f"score {first.score} then {rec.score}" if first.score != rec.score
                        else f"status {first.status} then {rec.status}" if first.status != rec.status
                        else "message changed")
                row["example"] = f"{rec.cell_id}: {what}"
    return out


def write_determinism(report: dict[str, dict[str, Any]], path: Path) -> None:
    """``determinism.csv``: explainer, rerun, differed, nondeterministic (true/false), example."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["explainer", "rerun", "differed", "nondeterministic", "example"])
    for name, row in sorted(report.items()):
        writer.writerow([name, row["rerun"], row["differed"], str(row["nondeterministic"]).lower(), row["example"]])
    atomic_write_text(path, buf.getvalue())


def read_determinism(path: Path) -> dict[str, bool]:
    """``{explainer: nondeterministic}`` from ``determinism.csv`` (empty when absent)."""
    path = Path(path)
    if not path.is_file() or path.is_symlink():
        return {}
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    return {r["explainer"]: r.get("nondeterministic") == "true" for r in rows if r.get("explainer")}
