"""Scores from cells: case -> check -> category -> overall, with coverage, calibration, intervals, ranks, Pareto.

Definitions (per explainer; a *cell* is explainer x case x seed):

- **case score** = mean over seeds of the ok cells' scores; **check score** = mean of its case scores;
  **category score** = mean over properties (``check_groups``: deletion, insertion and PGI/PGU are one) of the
  mean of their check scores; **overall** = mean of the category scores that exist.
  Only ok cells enter a mean: error, timeout and not-applicable cells are never counted as 0.
- **coverage** = applicable cells / all cells (not_applicable is the only non-applicable status);
  **success** = ok cells / applicable cells (errors and timeouts count against success);
  **pass rate** = passed cells / ok cells.
- **calibrated** check score = ``(s - r) / (1 - r)`` where ``r`` is the ``random`` control's score on the same
  check: 0 = no better than random attributions, 1 = perfect, negative = worse than random. Values are clipped to
  [-1, 1] before averaging (so one check the random control nearly saturates cannot dominate). Where ``r = 1`` the
  calibrated score is undefined and left out. Calibrated category / overall = means of calibrated check scores.
- A check is **non-discriminating** when the random control passes at least half of its ok cells.
- **95% interval** (explainers run on several seeds): the overall is recomputed on each seed alone; the interval is
  ``mean ± t_{0.975, k-1} · sd / sqrt(k)`` over those k per-seed overalls (Student t).
- **role** of a check (``Check.role`` as the run recorded it in provenance, else ``score``; never read from the live
  registry): only ``score`` checks without a ``truth`` axis enter category, overall and calibrated; ``gate``
  checks are pass/fail columns; ``diagnostic`` checks are shown, never scored.
- **group** (this table is a reference, *not a ranking*: each explainer averages the cells it can run): ``broad``
  when coverage >= ``MIN_COVERAGE`` and it has an ok cell; ``specialist`` when coverage is lower; ``control`` for the
  degenerate panel (family ``control``); ``unscored`` when it has no ok cell.
- **Rankings** are made within tracks on the same cells for every ranked explainer, with bootstrap rank intervals
  and declared ties: :mod:`xaicheck.benchmarks.ranking` (``Scores.tracks``). ``rank`` here is left empty.
- **Pareto front** (broad group only) of overall (higher is better) vs mean seconds per applicable cell (lower is
  better), as in Compare-xAI (Belaid et al. 2022): an explainer is on it when no other is at least as good on both
  and better on one (overalls compared after rounding to 9 decimals).
- Row order: groups in ``GROUPS`` order, by overall (descending) then name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from xaicheck.axioms.base import CATEGORIES

from .check_groups import property_of
from .ranking import CaseInfo, TrackResult, rank_tracks
from .records import CellRecord
from .run_facts import check_roles

__all__ = ["RANDOM_CONTROL", "RANK_DECIMALS", "MIN_COVERAGE", "GROUPS",
           "Scores", "compute_scores", "records_frame", "t_interval", "competition_rank", "pareto_front"]

RANDOM_CONTROL = "random"
RANK_DECIMALS = 9
#: Coverage (applicable / all cells of the run) an explainer needs to be ranked against the others.
MIN_COVERAGE = 0.5
#: Leaderboard groups, in display order.
GROUPS: tuple[str, ...] = ("broad", "specialist", "control", "unscored")


def records_frame(records: Iterable[CellRecord]) -> pd.DataFrame:
    rows = [{"explainer": r.explainer, "check": r.check, "case": r.case, "category": r.category, "seed": r.seed,
             "status": r.status, "score": np.nan if r.score is None else float(r.score),
             "passed": np.nan if r.passed is None else float(bool(r.passed)), "seconds": float(r.seconds)}
            for r in records]
    cols = ["explainer", "check", "case", "category", "seed", "status", "score", "passed", "seconds"]
    return pd.DataFrame(rows, columns=cols)


def t_interval(values: Iterable[float], level: float = 0.95) -> tuple[float, float]:
    """``(mean, half_width)`` of a Student-t interval; half width is NaN for fewer than two values."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return math.nan, math.nan
    if v.size < 2:
        return float(v.mean()), math.nan
    from scipy.stats import t

    half = float(t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return float(v.mean()), half


def competition_rank(values: Mapping[str, float], decimals: int = RANK_DECIMALS) -> dict[str, int | None]:
    """Rank names by value, descending; ties (after rounding) share the best rank; NaN -> ``None``."""
    finite = {k: round(v, decimals) for k, v in values.items() if v is not None and np.isfinite(v)}
    return {k: (1 + sum(o > finite[k] for o in finite.values()) if k in finite else None) for k in values}


def pareto_front(points: Mapping[str, tuple[float, float]]) -> set[str]:
    """Names on the front of (score up, time down); points with a non-finite coordinate are never on it."""
    pts = {k: p for k, p in points.items() if np.isfinite(p[0]) and np.isfinite(p[1])}
    front = set()
    for k, (s, t) in pts.items():
        dominated = any(s2 >= s and t2 <= t and (s2 > s or t2 < t) for k2, (s2, t2) in pts.items() if k2 != k)
        if not dominated:
            front.add(k)
    return front


def _hierarchy(ok: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    """(case, check, category, overall) tables from ok cells; a category is the mean over properties
    (``check_groups.property_of``) of the mean over their checks."""
    case = ok.groupby(["explainer", "category", "check", "case"], as_index=False).agg(
        score=("score", "mean"), pass_rate=("passed", "mean"), seeds=("seed", "nunique"))
    check = case.groupby(["explainer", "category", "check"], as_index=False).agg(
        score=("score", "mean"), pass_rate=("pass_rate", "mean"), cases=("case", "count"))
    prop = (check.assign(_p=check["check"].map(property_of))
            .groupby(["explainer", "category", "_p"], as_index=False).agg(score=("score", "mean")))
    category = prop.groupby(["explainer", "category"], as_index=False).agg(score=("score", "mean"))
    overall = category.groupby("explainer")["score"].mean()
    return case, check, category, overall


@dataclass
class Scores:
    """All tables of a scored run. ``explainers`` has one row per explainer (a reference, not a ranking);
    ``tracks`` holds the rankings (see :mod:`xaicheck.benchmarks.ranking`)."""

    cases: pd.DataFrame
    checks: pd.DataFrame
    categories: pd.DataFrame
    explainers: pd.DataFrame
    random_scores: dict[str, float] = field(default_factory=dict)
    non_discriminating: list[str] = field(default_factory=list)
    categories_present: list[str] = field(default_factory=list)
    min_coverage: float = MIN_COVERAGE
    tracks: list[TrackResult] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    axes: dict[str, str] = field(default_factory=dict)

    def explainer_row(self, name: str) -> dict[str, Any]:
        rows = self.explainers[self.explainers["explainer"] == name]
        if rows.empty:
            raise KeyError(f"no explainer {name!r} in the scores")
        return rows.iloc[0].to_dict()

    def track(self, name: str) -> TrackResult:
        for t in self.tracks:
            if t.track.name == name:
                return t
        raise KeyError(f"no track {name!r} in the scores; have {[t.track.name for t in self.tracks]}")

    def checks_with_role(self, role: str) -> list[str]:
        return sorted(c for c, r in self.roles.items() if r == role)

    def panel_violations(self, max_calibrated: float = 0.1) -> list[str]:
        """Where a control (degenerate panel) is not at the floor: at or above the lowest ranked explainer of a
        track, or with a calibrated overall above ``max_calibrated`` (issue 11's bar). Empty when all sit below."""
        out = []
        for t in self.tracks:
            for row in t.controls.to_dict("records"):
                if not row.get("below_all_ranked", True):
                    out.append(f"{t.track.name}: {row['explainer']} overall {row['overall']:.4f} is not below every "
                               "ranked explainer")
                if np.isfinite(row["calibrated"]) and row["calibrated"] > max_calibrated:
                    out.append(f"{t.track.name}: {row['explainer']} calibrated {row['calibrated']:.4f} > "
                               f"{max_calibrated:g}")
        return out


def compute_scores(records: Iterable[CellRecord], *, random_control: str = RANDOM_CONTROL,
                   min_coverage: float = MIN_COVERAGE, meta: Mapping[str, Mapping[str, Any]] | None = None,
                   case_info: Mapping[str, CaseInfo] | None = None, roles: Mapping[str, str] | None = None,
                   axes: Mapping[str, str] | None = None,
                   provenance_checks: Mapping[str, Mapping[str, Any]] | None = None) -> Scores:
    """Score every explainer in ``records`` (see the module docstring for every definition).

    A pure function of its arguments (nothing is read from the registries). meta: explainer ``describe()`` records
    (family, tags) by name (an explainer without one joins no track); case_info: ``case id -> CaseInfo`` (a case
    without one joins no track); provenance_checks: the run's check ``describe()`` records (role, truth); roles /
    axes: override those by check name."""
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage must be in [0, 1]; got {min_coverage!r}")
    df = records_frame(records)
    df["case_id"] = df["check"] + "/" + df["case"]
    reg_roles, reg_axes = check_roles(sorted(set(df["check"])), provenance_checks or {})
    roles = {**reg_roles, **(roles or {})}
    axes = {**reg_axes, **(axes or {})}
    ok = df[df["status"] == "ok"]
    scored = ok[ok["check"].isin([c for c in set(df["check"]) if roles.get(c, "score") == "score" and not axes.get(c)])]
    case, check, category, overall = _hierarchy(scored)
    all_case, all_check, _, _ = _hierarchy(ok)
    all_check["role"] = all_check["check"].map(lambda c: roles.get(c, "score"))
    all_check["truth"] = all_check["check"].map(lambda c: axes.get(c, ""))

    # calibration against the random control, per check
    rnd = all_check[all_check["explainer"] == random_control].set_index("check")
    random_scores = {str(k): float(v) for k, v in rnd["score"].items()}
    rnd_pass = ok[ok["explainer"] == random_control].groupby("check")["passed"].mean()
    non_disc = sorted(str(k) for k, v in rnd_pass.items() if v >= 0.5)

    def calibrate(row: pd.Series) -> float:
        r = random_scores.get(row["check"])
        if r is None or r >= 1.0:
            return math.nan
        return float(np.clip((row["score"] - r) / (1.0 - r), -1.0, 1.0))

    all_check["calibrated"] = all_check.apply(calibrate, axis=1) if len(all_check) else pd.Series(dtype=float)
    all_check["non_discriminating"] = all_check["check"].isin(non_disc)
    in_overall = all_check["role"].eq("score") & all_check["truth"].eq("")
    cal_cat = (all_check[in_overall].dropna(subset=["calibrated"])
               .assign(_p=lambda d: d["check"].map(property_of))
               .groupby(["explainer", "category", "_p"])["calibrated"].mean()
               .groupby(level=["explainer", "category"]).mean())
    category = category.merge(cal_cat.rename("calibrated").reset_index(), on=["explainer", "category"], how="left")
    cal_overall = category.dropna(subset=["calibrated"]).groupby("explainer")["calibrated"].mean()

    cats_scored = set(scored["category"])
    present = [c for c in CATEGORIES if c in cats_scored] + sorted(cats_scored - set(CATEGORIES))
    meta = dict(meta or {})
    case_info = dict(case_info or {})
    tracks = rank_tracks(ok, df, meta, case_info, roles, axes, random_control=random_control) if len(df) else []
    in_track = {e for t in tracks for e in t.ranked["explainer"]}
    gate_checks = sorted(c for c, r in roles.items() if r == "gate")
    keyed = scored.assign(explainer=scored["explainer"] + " @seed=" + scored["seed"].astype(str))
    seed_overall = _hierarchy(keyed)[3] if len(keyed) else pd.Series(dtype=float)
    rows = []
    for name, cells in df.groupby("explainer", sort=True):
        applicable = cells[cells["status"] != "not_applicable"]
        okc = cells[cells["status"] == "ok"]
        oks = scored[scored["explainer"] == name]
        seeds = sorted(oks["seed"].unique())
        per_seed = [float(seed_overall.get(f"{name} @seed={s}", math.nan)) for s in seeds]
        _, half = t_interval(per_seed) if len(seeds) > 1 else (math.nan, math.nan)
        ov = float(overall.get(name, math.nan))
        gate_cells = okc[okc["check"].isin(gate_checks)]
        row: dict[str, Any] = {
            "explainer": name, "overall": ov, "calibrated": float(cal_overall.get(name, math.nan)),
            "ci_half_width": half, "n_seeds": len(seeds),
            "cells": len(cells), "applicable": len(applicable), "ok": len(okc),
            "errors": int((cells["status"] == "error").sum()), "timeouts": int((cells["status"] == "timeout").sum()),
            "not_applicable": int((cells["status"] == "not_applicable").sum()),
            "coverage": len(applicable) / len(cells) if len(cells) else math.nan,
            "success": len(okc) / len(applicable) if len(applicable) else math.nan,
            "pass_rate": float(okc["passed"].mean()) if len(okc) else math.nan,
            "gates_failed": int((gate_cells["passed"] == 0).sum()), "gate_cells": len(gate_cells),
            "seconds_per_cell": float(applicable["seconds"].mean()) if len(applicable) else math.nan,
            "family": str(meta.get(name, {}).get("family", "")),
            "tracks": "; ".join(_track_label(t, name) for t in tracks if name in set(t.table["explainer"])),
        }
        for cat in present:
            hit = category[(category["explainer"] == name) & (category["category"] == cat)]
            row[cat] = float(hit["score"].iloc[0]) if len(hit) else math.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        control = table["family"].eq("control") | table["explainer"].eq(random_control)
        table["group"] = [("control" if c else "unscored" if ok_n == 0 else
                           "broad" if cov >= min_coverage - 1e-12 else "specialist")
                          for c, ok_n, cov in zip(control, table["ok"], table["coverage"])]
        table["ranked_in_track"] = table["explainer"].isin(in_track)
        table["rank"] = pd.array([None] * len(table), dtype="Int64")
        broad = table["group"] == "broad"
        sub = table[broad]
        front = pareto_front({n: (round(s, RANK_DECIMALS), t)
                              for n, s, t in zip(sub["explainer"], sub["overall"], sub["seconds_per_cell"])})
        table["pareto"] = table["explainer"].isin(front)
        table["_g"] = table["group"].map(GROUPS.index)
        table["_o"] = -table["overall"].round(RANK_DECIMALS).fillna(-math.inf)
        table = (table.sort_values(["_g", "_o", "explainer"], kind="mergesort")
                 .drop(columns=["_g", "_o"]).reset_index(drop=True))
    return Scores(all_case, all_check, category, table, random_scores, non_disc, present, min_coverage, tracks,
                  roles, axes)


def _track_label(t: TrackResult, name: str) -> str:
    row = t.table[t.table["explainer"] == name].iloc[0]
    if row["kind"] == "below_controls":
        return f"{t.track.name}: not above the controls"
    if row["kind"] != "ranked":
        return f"{t.track.name}: control"
    if pd.isna(row["rank"]):
        return f"{t.track.name}: unranked"
    return f"{t.track.name} #{int(row['rank'])} [{int(row['rank_lo'])}-{int(row['rank_hi'])}]"
