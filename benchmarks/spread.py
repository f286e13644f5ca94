"""``python -m xaicheck.benchmarks.spread RESULTS_DIR``: how far apart the real methods are on each scored check.

A scored check that every real method passes separates nothing (issue 12, "cases that separate explainers"). Per
check of role ``score`` (as the run's ``provenance.json`` recorded it), over the *real* explainers
(every family but ``control``: the degenerate panel is left out; the exact oracles are methods too):

- ``min`` / ``median`` / ``max`` of the real explainers' per-check mean (case = mean over seeds, check = mean of its
  cases, ``ok`` cells only);
- ``all_pass`` = the share of the check's cases on which every real explainer scored on it passed every seed;
- ``min_pass_rate`` = the lowest pass rate (over its ``ok`` cells) of a real explainer on the check, and who;
- ``truth`` = the check's truth axis (empty: the exact attribution).

A check is flagged ``SEPARATES NOTHING`` when every real method passes at least ``ALL_PASS_BAR`` of its cells
(``min_pass_rate >= 0.97``); ``tests/test_committed_leaderboard.py`` holds the committed default suite to none.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from .records import read_scores
from .run_facts import check_roles

__all__ = ["ALL_PASS_BAR", "CheckSpread", "spread", "spread_of_dir", "format_spread", "main"]

#: A check on which every real method passes this share of its cells or more separates nothing.
ALL_PASS_BAR = 0.97
CONTROL = "control"


@dataclass(frozen=True)
class CheckSpread:
    check: str
    truth: str
    methods: int
    cases: int
    lo: float
    median: float
    hi: float
    all_pass: float
    min_pass_rate: float
    min_pass_by: str

    @property
    def separates_nothing(self) -> bool:
        return self.min_pass_rate >= ALL_PASS_BAR


def spread(scores: pd.DataFrame, families: Mapping[str, str], roles: Mapping[str, str],
           axes: Mapping[str, str] | None = None) -> list[CheckSpread]:
    """One :class:`CheckSpread` per scored check with at least one real explainer scored (module docstring).

    scores: rows of ``scores.csv`` (explainer, check, case, status, score, passed, seed); families: explainer ->
    family (an explainer of no known family counts as real); roles / axes: check -> role / truth axis."""
    ok = scores[(scores["status"] == "ok") & scores["check"].map(lambda c: roles.get(c, "score") == "score")]
    ok = ok[ok["explainer"].map(lambda e: families.get(e, "") != CONTROL)]
    out = []
    for check, cells in sorted(ok.groupby("check"), key=lambda kv: kv[0]):
        per_case = cells.groupby(["explainer", "case"])["score"].mean()
        per_method = per_case.groupby(level="explainer").mean()
        passed = cells.assign(passed=cells["passed"].astype(bool))
        case_all = passed.groupby("case")["passed"].all()
        rate = passed.groupby("explainer")["passed"].mean()
        worst = rate.sort_values(kind="mergesort").index[0]
        out.append(CheckSpread(str(check), str((axes or {}).get(check, "")), int(per_method.size),
                               int(case_all.size), float(per_method.min()), float(per_method.median()),
                               float(per_method.max()), float(case_all.mean()), float(rate.min()), str(worst)))
    return out


def spread_of_dir(results: Path | str) -> list[CheckSpread]:
    """:func:`spread` of ``results/scores.csv`` with families and roles from ``provenance.json`` and the registry."""
    results = Path(results)
    frame = pd.DataFrame(read_scores(results / "scores.csv"))
    prov: dict[str, Any] = {}
    if (results / "provenance.json").is_file():
        prov = json.loads((results / "provenance.json").read_text(encoding="utf-8"))
    families = {k: str(v.get("family", "")) for k, v in (prov.get("explainers") or {}).items()}
    missing = sorted(set(frame["explainer"]) - set(families))
    if missing:
        from xaicheck.explainers.base import get_explainer

        for name in missing:
            try:
                families[name] = get_explainer(name).family
            except KeyError:
                families[name] = ""
    roles, axes = check_roles(sorted(set(frame["check"])), prov.get("checks") or {})
    return spread(frame, families, roles, axes)


def format_spread(rows: Sequence[CheckSpread]) -> str:
    head = (f"{'check':28s} {'truth':10s} {'methods':>7s} {'cases':>5s} {'min':>6s} {'median':>6s} {'max':>6s} "
            f"{'all pass':>8s} {'min pass rate (who)':s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        flag = "  SEPARATES NOTHING" if r.separates_nothing else ""
        lines.append(f"{r.check:28s} {r.truth or '-':10s} {r.methods:7d} {r.cases:5d} {r.lo:6.3f} {r.median:6.3f} "
                     f"{r.hi:6.3f} {r.all_pass:8.1%} {r.min_pass_rate:.1%} ({r.min_pass_by}){flag}")
    lines.append(f"real methods = every family but {CONTROL}; min/median/max of their per-check means; all pass = "
                 f"share of cases every real method passed; flagged when every real method passes >= "
                 f"{ALL_PASS_BAR:.0%} of its cells")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xaicheck.benchmarks.spread", description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="?", default="results", help="a results directory (default: results)")
    args = parser.parse_args(argv)
    path = Path(args.results)
    if not (path / "scores.csv").is_file():
        print(f"xaicheck spread: no scores.csv in {path}", file=sys.stderr)
        return 2
    rows = spread_of_dir(path)
    print(format_spread(rows))
    return 0 if not any(r.separates_nothing and not math.isnan(r.min_pass_rate) for r in rows) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
