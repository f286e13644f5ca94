"""The row format of a run and its files: ``scores.csv``, ``timings.csv``, ``evidence.jsonl``, the partial log.

One :class:`CellRecord` per cell (explainer x case x seed). ``scores.csv`` holds only what is a pure function of
(explainer, case, seed), with scores rounded to 10 significant digits, so the same seed gives the same bytes; wall
times go to ``timings.csv``; evidence, counterexamples and tracebacks to ``evidence.jsonl`` (sorted by cell id).
The partial log ``.partial/cells.jsonl`` is appended one fsync'ed line per finished cell so a run can resume.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

__all__ = [
    "SCORE_COLUMNS",
    "TIMING_COLUMNS",
    "CellRecord",
    "format_score",
    "jsonable",
    "write_scores",
    "read_scores",
    "write_timings",
    "read_timings",
    "write_evidence",
    "read_evidence",
    "read_records",
    "PartialLog",
]

SCORE_COLUMNS: tuple[str, ...] = (
    "explainer", "case", "check", "category", "status", "score", "passed", "seed", "message",
)
TIMING_COLUMNS: tuple[str, ...] = ("explainer", "case", "check", "seed", "status", "seconds")
#: Object addresses in messages (``<... at 0x7f...>``) differ between runs; they are masked in scores.csv.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@dataclass
class CellRecord:
    """Everything a cell produced. ``case`` is the case name; ``(check, case)`` is the case id ``check/case``."""

    cell_id: str
    explainer: str
    check: str
    case: str
    category: str
    seed: int
    status: str
    score: float | None = None
    passed: bool | None = None
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    counterexample: dict[str, Any] | None = None
    traceback: str | None = None
    seconds: float = 0.0

    @property
    def case_id(self) -> str:
        return f"{self.check}/{self.case}"

    def to_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "CellRecord":
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in obj.items() if k in names})

    def score_row(self) -> dict[str, str]:
        return {
            "explainer": self.explainer, "case": self.case, "check": self.check, "category": self.category,
            "status": self.status, "score": format_score(self.score),
            "passed": "" if self.passed is None else str(bool(self.passed)).lower(),
            "seed": str(self.seed), "message": _ADDRESS.sub(" at 0x…", " ".join(str(self.message).split())),
        }


def format_score(score: float | None) -> str:
    """A score rounded to 10 significant digits (stable bytes across platforms); empty when there is none."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return ""
    return f"{float(score):.10g}"


def jsonable(obj: Any) -> Any:
    """Recursively turn numpy scalars/arrays, tuples, sets and non-finite floats into plain JSON values."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(jsonable(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def _sort_key(r: CellRecord) -> tuple[str, str, str, int]:
    return (r.explainer, r.check, r.case, r.seed)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def write_scores(records: Iterable[CellRecord], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SCORE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in sorted(records, key=_sort_key):
        writer.writerow(r.score_row())
    _atomic_write(Path(path), buf.getvalue())


def read_scores(path: Path) -> list[dict[str, Any]]:
    """Rows of ``scores.csv`` with ``score`` as float|None, ``passed`` as bool|None and ``seed`` as int."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["score"] = float(row["score"]) if row["score"] else None
        row["passed"] = {"true": True, "false": False}.get(row["passed"])
        row["seed"] = int(row["seed"])
    return rows


def write_timings(records: Iterable[CellRecord], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TIMING_COLUMNS)
    for r in sorted(records, key=_sort_key):
        writer.writerow([r.explainer, r.case, r.check, r.seed, r.status, f"{r.seconds:.4f}"])
    _atomic_write(Path(path), buf.getvalue())


def read_timings(path: Path) -> list[dict[str, Any]]:
    if not Path(path).exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["seed"] = int(row["seed"])
        row["seconds"] = float(row["seconds"])
    return rows


def write_evidence(records: Iterable[CellRecord], path: Path) -> None:
    lines = []
    for r in sorted(records, key=lambda r: r.cell_id):
        obj = {"cell_id": r.cell_id, "explainer": r.explainer, "check": r.check, "case": r.case, "seed": r.seed,
               "status": r.status, "evidence": r.evidence, "counterexample": r.counterexample,
               "traceback": r.traceback}
        lines.append(json.dumps(jsonable(obj), sort_keys=True, allow_nan=False))
    _atomic_write(Path(path), "".join(line + "\n" for line in lines))


def read_evidence(path: Path) -> dict[str, dict[str, Any]]:
    """``evidence.jsonl`` keyed by cell id (empty when the file is absent)."""
    out: dict[str, dict[str, Any]] = {}
    if not Path(path).exists():
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                obj = json.loads(line)
                out[obj["cell_id"]] = obj
    return out


def read_records(directory: Path) -> list[CellRecord]:
    """Rebuild the records of a finished run from ``scores.csv`` + ``timings.csv`` + ``evidence.jsonl``."""
    directory = Path(directory)
    scores = read_scores(directory / "scores.csv")
    times = {(t["explainer"], t["check"], t["case"], t["seed"]): t["seconds"]
             for t in read_timings(directory / "timings.csv")}
    evidence = read_evidence(directory / "evidence.jsonl")
    by_key = {(e["explainer"], e["check"], e["case"], e["seed"]): e for e in evidence.values()}
    records = []
    for row in scores:
        key = (row["explainer"], row["check"], row["case"], row["seed"])
        ev = by_key.get(key, {})
        records.append(CellRecord(
            cell_id=ev.get("cell_id", "/".join(map(str, key))), explainer=row["explainer"], check=row["check"],
            case=row["case"], category=row["category"], seed=row["seed"], status=row["status"],
            score=row["score"], passed=row["passed"], message=row["message"], evidence=ev.get("evidence") or {},
            counterexample=ev.get("counterexample"), traceback=ev.get("traceback"), seconds=times.get(key, 0.0)))
    return records


class PartialLog:
    """``DIR/.partial/cells.jsonl``: a header line (run fingerprint) then one record per finished cell.

    Each line is written, flushed and fsync'ed before the next cell is recorded, so after a crash every complete
    line is a finished cell; a torn last line is ignored on reading.
    """

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / ".partial" / "cells.jsonl"

    def load(self, fingerprint: Mapping[str, Any]) -> dict[str, CellRecord]:
        """Finished records of a previous run with the same fingerprint; empty if none or if it differs."""
        if not self.path.exists():
            return {}
        done: dict[str, CellRecord] = {}
        with open(self.path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        try:
            header = json.loads(lines[0])
        except (json.JSONDecodeError, IndexError):
            return {}
        if header.get("fingerprint") != jsonable(dict(fingerprint)):
            return {}
        for line in lines[1:]:
            try:
                rec = CellRecord.from_json(json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue  # empty or torn line
            done[rec.cell_id] = rec
        return done

    def start(self, fingerprint: Mapping[str, Any], keep: Iterable[CellRecord] = ()) -> None:
        """Rewrite the log with the header and the records kept from a resumed run (drops any torn line)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"fingerprint": jsonable(dict(fingerprint))}, sort_keys=True) + "\n"
        text += "".join(json.dumps(r.to_json(), sort_keys=True) + "\n" for r in keep)
        _atomic_write(self.path, text)
        self._fh = open(self.path, "a", encoding="utf-8")

    def append(self, record: CellRecord) -> None:
        self._fh.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        fh = getattr(self, "_fh", None)
        if fh is not None:
            fh.close()
            self._fh = None
