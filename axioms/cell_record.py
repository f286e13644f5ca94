"""What one cell produced, as plain JSON-able data: :class:`CellRecord` (the row of every run, test and report).

A record is built from a check's :class:`~xaicheck.axioms.base.CheckResult` once, in the process that ran the cell
(:func:`record_of`), and travels as JSON (a forked cell's reply, a Dask task's result, a partial-log line). The
message is one line (whitespace collapsed); evidence and counterexample are JSON values (:func:`jsonable`).
:meth:`CellRecord.result` rebuilds the ``CheckResult`` a pytest assertion formats.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np

from .base import CheckResult, Counterexample, Status

__all__ = ["CellRecord", "jsonable", "format_score", "clean_message", "cell_id", "cell_slug", "record_of"]

#: Object addresses in messages (``<... at 0x7f...>``) differ between runs; they are masked in scores.csv.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
#: A number written in exponent notation with an exponent of -13 or below (``4.163e-17``), optionally signed.
_TINY = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE]-(?:1[3-9]|[2-9]\d|\d{3,})(?![\w.])")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


def cell_id(explainer: str, check: str, case: str, seed: int) -> str:
    """``explainer/check/case/sSEED``: stable across runs and machines."""
    return f"{explainer}/{check}/{case}/s{seed}"


def cell_slug(explainer: str, check: str, case: str, seed: int) -> str:
    """A file-name-safe form of the cell id (``__`` between parts)."""
    return "__".join(_UNSAFE.sub("_", part) for part in cell_id(explainer, check, case, seed).split("/"))


def clean_message(message: str) -> str:
    """One line, object addresses masked, floating-point noise printed as 0 (stable bytes across machines)."""
    text = _ADDRESS.sub(" at 0x…", " ".join(str(message).split()))
    return _TINY.sub("0", text)


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

    @property
    def slug(self) -> str:
        return cell_slug(self.explainer, self.check, self.case, self.seed)

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
            "seed": str(self.seed), "message": clean_message(self.message),
        }

    def result(self) -> CheckResult:
        """The ``CheckResult`` this record holds (to format a failure exactly as the check would)."""
        cx = None
        if self.counterexample:
            d = self.counterexample
            cx = Counterexample(model_spec=d.get("model") or {}, x=d.get("x") or [],
                                attributions=d.get("attributions") or [], expected=d.get("expected"),
                                line=str(d.get("line", "")), baseline=d.get("baseline"))
        status = Status(self.status)
        ok = status is Status.OK
        return CheckResult(status, self.score if ok else None, self.passed if ok else None, dict(self.evidence or {}),
                           self.message, cx, self.traceback)


def record_of(ids: tuple[str, str, str, int], category: str, result: CheckResult, seconds: float) -> CellRecord:
    """The record of ``result`` for the cell named ``ids`` = ``(explainer, check, case, seed)``."""
    explainer, check, case, seed = ids
    cx = result.counterexample
    return CellRecord(
        cell_id=cell_id(explainer, check, case, seed), explainer=explainer, check=check, case=case,
        category=category, seed=seed, status=str(result.status), score=result.score, passed=result.passed,
        message=" ".join(str(result.message).split()), evidence=jsonable(dict(result.evidence)),
        counterexample=jsonable(cx.to_json()) if cx is not None else None, traceback=result.traceback,
        seconds=round(seconds, 6))
