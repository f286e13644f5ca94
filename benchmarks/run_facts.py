"""The facts a finished run recorded about its cases, explainers and checks: what scoring and the report read.

``read_run_facts(DIR)`` reads ``provenance.json`` (format ``CASE_FACTS_FORMAT`` or later): ``cases`` (case id
-> ``CaseFacts``), ``explainers`` (``describe()`` records: library, family, tags, version, settings) and ``checks``
(``describe()`` records: role, truth, category, threshold, version, citation). A folder written before the
facts were recorded (an older format, or no ``cases``) is refused with one line saying to re-run: nothing is looked
up in the registries.

A check's **role** and **truth axis** are its recorded ``describe()`` values, else those recorded with its cases,
else ``score`` and no axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .case_facts import CaseFacts, facts_from_json
from .errors import RecordError
from .provenance import CASE_FACTS_FORMAT, read_provenance
from .ranking import CaseInfo

__all__ = ["RunFacts", "read_run_facts", "run_facts_from", "check_roles", "old_format_reason"]


@dataclass(frozen=True)
class RunFacts:
    """What a run recorded: case facts by case id, explainer and check ``describe()`` records by name."""

    cases: Mapping[str, CaseFacts] = field(default_factory=dict)
    explainers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def case_info(self) -> dict[str, CaseInfo]:
        """``case id -> CaseInfo`` (domain, forms, d): which tracks each case joins."""
        return {cid: f.info for cid, f in self.cases.items()}

    def require(self, case_ids: Iterable[str], where: Path | str) -> None:
        """Raise :class:`RecordError` (one line) when a case id of the records has no recorded facts."""
        missing = sorted(set(case_ids) - set(self.cases))
        if missing:
            raise RecordError(f"{where}: no recorded facts for {len(missing)} case(s) of scores.csv (first "
                              f"{missing[0]!r}): the files come from different runs; re-run `xaicheck run`")


def check_roles(checks: Iterable[str], recorded: Mapping[str, Mapping[str, Any]],
                cases: Mapping[str, CaseFacts] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """``({check: role}, {check: truth axis or ""})`` from the recorded check records, else the recorded case facts
    of that check, else role ``score`` and no axis."""
    by_check = {f.check: f for f in (cases or {}).values()}
    roles, axes = {}, {}
    for name in checks:
        rec = recorded.get(name)
        fact = by_check.get(name)
        if rec is not None:
            roles[name] = str(rec.get("role", "score"))
            axes[name] = str(rec.get("truth", "") or "")
        elif fact is not None:
            roles[name], axes[name] = fact.role, fact.truth
        else:
            roles[name], axes[name] = "score", ""
    return roles, axes


def old_format_reason(provenance: Mapping[str, Any]) -> str | None:
    """Why ``provenance`` predates recorded case facts (``None`` when it records them)."""
    version = provenance.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < CASE_FACTS_FORMAT:
        return (f"run format {version if version is not None else 'unknown'} (< {CASE_FACTS_FORMAT}) records no case "
                "facts")
    if not isinstance(provenance.get("cases"), dict):
        return "no case facts recorded (provenance.json has no 'cases')"
    return None


def run_facts_from(provenance: Mapping[str, Any], where: Path | str) -> RunFacts:
    """The :class:`RunFacts` of a provenance record read from ``where`` (a ``provenance.json`` path);
    :class:`RecordError` (one line) for an old or broken one."""
    why = old_format_reason(provenance)
    if why:
        raise RecordError(f"{where}: {why}; re-run `xaicheck run --out {Path(where).parent}` with this xaicheck "
                          "to report on it")
    cases = {}
    for cid, obj in provenance["cases"].items():
        try:
            cases[str(cid)] = facts_from_json(obj)
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"{where}: case {cid!r} has malformed facts ({type(exc).__name__}: {exc})") from None
    explainers = provenance.get("explainers") or {}
    checks = provenance.get("checks") or {}
    if not isinstance(explainers, dict) or not isinstance(checks, dict):
        raise RecordError(f"{where}: 'explainers' and 'checks' must be JSON objects")
    return RunFacts(cases, {str(k): dict(v) for k, v in explainers.items()}, {str(k): dict(v) for k, v in checks.items()})


def read_run_facts(directory: Path | str) -> RunFacts:
    """The recorded facts of the run in ``directory`` (see the module docstring)."""
    path = Path(directory) / "provenance.json"
    return run_facts_from(read_provenance(Path(directory)), path)
