"""Records shared by every paper reproduction: claims as data, measurements, verdicts, and the md/csv writer.

A paper module declares its claims (``Claim``: id, statement, where in the paper, the published value or the
qualitative expectation) and one or more *measure* functions decorated with ``@measures("claim_id", ...)``. Each
measure computes numbers with the project's own code and returns one ``Measurement`` per claim it covers, with
``holds`` = whether those numbers agree with the claim and ``why`` = what was compared with what.

The verdict of a claim is derived, never written by hand:

- ``reproduced``: the measurement ran and agrees with the published claim;
- ``differs``: the measurement ran and disagrees (the ``why`` says how and, where known, the reason);
- ``not run``: a dependency (model, explainer, check) is not available, or the measurement raised.
"""

from __future__ import annotations

import csv
import io
import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

import numpy as np

__all__ = [
    "Verdict",
    "VERDICTS",
    "NotAvailable",
    "Claim",
    "Measurement",
    "ClaimResult",
    "Paper",
    "PaperResult",
    "measures",
    "evaluate",
    "need_model",
    "need_explainer",
    "need_check",
    "need_attr",
    "fmt",
]

Verdict = Literal["reproduced", "differs", "not run"]
VERDICTS: tuple[str, ...] = ("reproduced", "differs", "not run")
CSV_COLUMNS: tuple[str, ...] = ("paper", "claim", "where", "statement", "published", "verdict", "measured", "why")


class NotAvailable(RuntimeError):
    """A measurement depends on a model / explainer / check / helper that is not available (yet)."""


@dataclass(frozen=True)
class Claim:
    """One published claim, as data.

    id: stable snake_case key (the CSV key). statement: the claim in one sentence.
    where: section / figure / table of the paper. published: the published value or qualitative expectation,
    quoted as the paper states it (``"published value not found"`` where we could not find it).
    """

    id: str
    statement: str
    where: str
    published: str


@dataclass(frozen=True)
class Measurement:
    """What we measured for one claim: whether it agrees with the claim, the numbers, and why."""

    claim_id: str
    holds: bool
    measured: Mapping[str, Any]
    why: str


@dataclass(frozen=True)
class ClaimResult:
    """A claim beside its measurement and derived verdict."""

    claim: Claim
    verdict: Verdict
    measured: Mapping[str, Any]
    why: str

    def row(self, paper: str) -> dict[str, str]:
        return {
            "paper": paper,
            "claim": self.claim.id,
            "where": self.claim.where,
            "statement": self.claim.statement,
            "published": self.claim.published,
            "verdict": self.verdict,
            "measured": json.dumps(_rounded(self.measured), sort_keys=True),
            "why": self.why,
        }


MeasureFn = Callable[[], Sequence[Measurement]]


def measures(*claim_ids: str) -> Callable[[MeasureFn], MeasureFn]:
    """Decorator: declare which claims a measure function covers (it must return one Measurement per id)."""
    if not claim_ids:
        raise ValueError("@measures needs at least one claim id")

    def decorate(fn: MeasureFn) -> MeasureFn:
        fn.claim_ids = tuple(claim_ids)  # type: ignore[attr-defined]
        return fn

    return decorate


@dataclass(frozen=True)
class Paper:
    """A reproduced paper: its claims as data and the functions that measure them."""

    name: str
    title: str
    citation: str
    claims: tuple[Claim, ...]
    measure_fns: tuple[MeasureFn, ...]
    setup: str = ""

    def __post_init__(self) -> None:
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"paper {self.name!r}: duplicate claim ids in {ids}")
        covered = [cid for fn in self.measure_fns for cid in getattr(fn, "claim_ids", ())]
        missing = sorted(set(ids) - set(covered))
        unknown = sorted(set(covered) - set(ids))
        if missing or unknown:
            raise ValueError(f"paper {self.name!r}: claims without a measure {missing}; "
                             f"measures of unknown claims {unknown}")


@dataclass(frozen=True)
class PaperResult:
    """Every claim of a paper with its verdict; prints as a table and writes ``NAME.md`` / ``NAME.csv``."""

    paper: Paper
    results: tuple[ClaimResult, ...]
    seconds: float = 0.0
    files: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.paper.name

    def verdicts(self) -> dict[str, str]:
        """``{claim_id: verdict}``."""
        return {r.claim.id: r.verdict for r in self.results}

    def counts(self) -> dict[str, int]:
        return {v: sum(r.verdict == v for r in self.results) for v in VERDICTS}

    def summary(self) -> str:
        c = self.counts()
        return (f"{self.paper.name}: {c['reproduced']} reproduced, {c['differs']} differ, "
                f"{c['not run']} not run ({len(self.results)} claims)")

    def to_table(self) -> str:
        """A plain-text table for the terminal: claim, published, measured, verdict."""
        rows = [("claim", "published", "measured", "verdict")]
        for r in self.results:
            rows.append((r.claim.id, _clip(r.claim.published, 44), _clip(_measured_text(r.measured), 52), r.verdict))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"{self.paper.title} ({self.paper.citation})"]
        for k, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.append(self.summary())
        return "\n".join(lines)

    def to_markdown(self) -> str:
        p = self.paper
        out = [f"# {p.title}", "", f"*{p.citation}* — reproduction `{p.name}`", ""]
        if p.setup:
            out += [p.setup, ""]
        out += [f"**{self.summary()}**", "",
                "| claim | where | published | measured | verdict |", "|---|---|---|---|---|"]
        for r in self.results:
            out.append(f"| `{r.claim.id}` | {_md(r.claim.where)} | {_md(r.claim.published)} | "
                       f"{_md(_measured_text(r.measured))} | **{r.verdict}** |")
        out += ["", "## Claims in detail", ""]
        for r in self.results:
            out += [f"### `{r.claim.id}` — {r.verdict}", "", f"- claim: {r.claim.statement}",
                    f"- where: {r.claim.where}", f"- published: {r.claim.published}",
                    f"- measured: `{json.dumps(_rounded(r.measured), sort_keys=True)}`", f"- why: {r.why}", ""]
        return "\n".join(out).rstrip() + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for r in self.results:
            writer.writerow(r.row(self.paper.name))
        return buf.getvalue()

    def write(self, out_dir: str | Path) -> tuple[str, str]:
        """Write ``OUT/papers/NAME.md`` and ``OUT/papers/NAME.csv``; returns their paths."""
        folder = Path(out_dir) / "papers"
        folder.mkdir(parents=True, exist_ok=True)
        md, cs = folder / f"{self.paper.name}.md", folder / f"{self.paper.name}.csv"
        md.write_text(self.to_markdown(), encoding="utf-8")
        cs.write_text(self.to_csv(), encoding="utf-8")
        return str(md), str(cs)


def evaluate(paper: Paper) -> PaperResult:
    """Run every measure of ``paper``; a measure that raises marks its claims ``not run`` with the reason."""
    start = time.perf_counter()
    found: dict[str, ClaimResult] = {}
    claims = {c.id: c for c in paper.claims}
    for fn in paper.measure_fns:
        ids: tuple[str, ...] = getattr(fn, "claim_ids")
        try:
            got = list(fn())
        except NotAvailable as exc:
            for cid in ids:
                found[cid] = ClaimResult(claims[cid], "not run", {}, f"not run: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - a failed measurement is reported, not hidden
            last = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(last.filename).name}:{last.lineno}"
            for cid in ids:
                found[cid] = ClaimResult(claims[cid], "not run", {},
                                         f"not run: measurement raised {type(exc).__name__}: {exc} ({where})")
            continue
        by_id = {m.claim_id: m for m in got}
        for cid in ids:
            m = by_id.get(cid)
            if m is None:
                found[cid] = ClaimResult(claims[cid], "not run", {}, f"not run: {fn.__name__} returned no measurement")
            else:
                found[cid] = ClaimResult(claims[cid], "reproduced" if m.holds else "differs", dict(m.measured), m.why)
    results = tuple(found[c.id] for c in paper.claims)
    return PaperResult(paper, results, time.perf_counter() - start)


# --- dependencies: turn "not written yet" into NotAvailable --------------------------------------------------------

def need_model(name: str) -> Any:
    """``xaicheck.synthetic_models.get_model(name)`` or ``NotAvailable`` naming the model."""
    from xaicheck.synthetic_models import get_model

    try:
        return get_model(name)
    except KeyError as exc:
        raise NotAvailable(f"depends on model {name!r}, not available") from exc


def need_explainer(name: str) -> Any:
    """``xaicheck.explainers.get_explainer(name)`` or ``NotAvailable`` naming the explainer."""
    from xaicheck.explainers import get_explainer

    try:
        return get_explainer(name)
    except KeyError as exc:
        raise NotAvailable(f"depends on explainer {name!r}, not available") from exc


def need_check(name: str) -> Any:
    """``xaicheck.axioms.get_check(name)`` or ``NotAvailable`` naming the check."""
    from xaicheck.axioms import get_check

    try:
        return get_check(name)
    except KeyError as exc:
        raise NotAvailable(f"depends on check {name!r}, not available") from exc


def need_attr(module: str, attr: str) -> Any:
    """``module.attr`` (imported lazily) or ``NotAvailable``."""
    import importlib

    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise NotAvailable(f"depends on {module}.{attr}, not available") from exc


# --- formatting ---------------------------------------------------------------------------------------------------

def fmt(x: float, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (``|x| < 1e-12`` printed as ``0``)."""
    if abs(float(x)) < 1e-12:  # float noise around an exact zero
        return "0"
    return f"{float(x):.{digits}g}"


def _rounded(value: Any, digits: int = 6) -> Any:
    """JSON-ready copy with floats rounded to ``digits`` significant digits (stable bytes across runs)."""
    if isinstance(value, Mapping):
        return {str(k): _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _rounded(value.tolist(), digits)
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not np.isfinite(v):
            return str(v)
        if abs(v) < 1e-12:  # float noise around an exact zero prints as 0 (stable bytes)
            return 0.0
        return float(f"{v:.{digits}g}")
    return value


def _measured_text(measured: Mapping[str, Any]) -> str:
    if not measured:
        return "-"
    parts = []
    for k, v in measured.items():
        v = _rounded(v, 4)
        parts.append(f"{k}={json.dumps(v)}")
    return "; ".join(parts)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")
