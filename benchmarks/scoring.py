"""Scores from cells: case -> check -> category -> overall, with coverage, calibration, intervals, ranks, Pareto.

Definitions (per explainer; a *cell* is explainer x case x seed):

- **case score** = mean over seeds of the ok cells' scores; **check score** = mean of its case scores;
  **category score** = mean of its check scores; **overall** = mean of the category scores that exist.
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
- **group**: ``ranked`` when coverage >= ``MIN_COVERAGE`` (0.5: the explainer can be judged on at least half of
  the suite's cells) and it has an ok cell; ``specialist`` when it has ok cells but coverage < ``MIN_COVERAGE``
  (e.g. a text-only or linear-only method: its overall averages a few cells, not comparable with the others);
  ``unscored`` when it has no ok cell. Specialists and unscored explainers are listed with all their numbers,
  never hidden, but not ranked.
- **rank** (ranked group only): by overall (descending), compared after rounding to 9 decimals; equal overalls
  share a rank (competition ranking 1, 1, 3).
- **Pareto front** (ranked group only) of overall (higher is better) vs mean seconds per applicable cell (lower is
  better), as in Compare-xAI (Belaid et al. 2022): an explainer is on it when no other is at least as good on both
  and better on one (overalls compared after rounding to 9 decimals, as for ranks).
- Row order: ranked by rank then name; then specialists by overall (descending) then name; then unscored by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from xaicheck.axioms.base import CATEGORIES

from .records import CellRecord

__all__ = ["RANDOM_CONTROL", "RANK_DECIMALS", "MIN_COVERAGE", "GROUPS", "Scores", "compute_scores", "records_frame",
           "t_interval",
           "competition_rank", "pareto_front"]

RANDOM_CONTROL = "random"
RANK_DECIMALS = 9
#: Coverage (applicable / all cells of the run) an explainer needs to be ranked against the others.
MIN_COVERAGE = 0.5
#: Leaderboard groups, in display order.
GROUPS: tuple[str, ...] = ("ranked", "specialist", "unscored")


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
    """(case, check, category, overall) tables from ok cells."""
    case = ok.groupby(["explainer", "category", "check", "case"], as_index=False).agg(
        score=("score", "mean"), pass_rate=("passed", "mean"), seeds=("seed", "nunique"))
    check = case.groupby(["explainer", "category", "check"], as_index=False).agg(
        score=("score", "mean"), pass_rate=("pass_rate", "mean"), cases=("case", "count"))
    category = check.groupby(["explainer", "category"], as_index=False).agg(score=("score", "mean"))
    overall = category.groupby("explainer")["score"].mean()
    return case, check, category, overall


@dataclass
class Scores:
    """All tables of a scored run. ``explainers`` has one row per explainer, sorted by rank then name."""

    cases: pd.DataFrame
    checks: pd.DataFrame
    categories: pd.DataFrame
    explainers: pd.DataFrame
    random_scores: dict[str, float] = field(default_factory=dict)
    non_discriminating: list[str] = field(default_factory=list)
    categories_present: list[str] = field(default_factory=list)
    min_coverage: float = MIN_COVERAGE

    def explainer_row(self, name: str) -> dict[str, Any]:
        rows = self.explainers[self.explainers["explainer"] == name]
        if rows.empty:
            raise KeyError(f"no explainer {name!r} in the scores")
        return rows.iloc[0].to_dict()


def compute_scores(records: Iterable[CellRecord], *, random_control: str = RANDOM_CONTROL,
                   min_coverage: float = MIN_COVERAGE) -> Scores:
    """Score every explainer in ``records`` (see the module docstring for every definition)."""
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage must be in [0, 1]; got {min_coverage!r}")
    df = records_frame(records)
    ok = df[df["status"] == "ok"]
    case, check, category, overall = _hierarchy(ok)

    # calibration against the random control, per check
    rnd = check[check["explainer"] == random_control].set_index("check")
    random_scores = {str(k): float(v) for k, v in rnd["score"].items()}
    rnd_pass = ok[ok["explainer"] == random_control].groupby("check")["passed"].mean()
    non_disc = sorted(str(k) for k, v in rnd_pass.items() if v >= 0.5)

    def calibrate(row: pd.Series) -> float:
        r = random_scores.get(row["check"])
        if r is None or r >= 1.0:
            return math.nan
        return float(np.clip((row["score"] - r) / (1.0 - r), -1.0, 1.0))

    check["calibrated"] = check.apply(calibrate, axis=1) if len(check) else pd.Series(dtype=float)
    check["non_discriminating"] = check["check"].isin(non_disc)
    cal_cat = check.dropna(subset=["calibrated"]).groupby(["explainer", "category"])["calibrated"].mean()
    category = category.merge(cal_cat.rename("calibrated").reset_index(), on=["explainer", "category"], how="left")
    cal_overall = category.dropna(subset=["calibrated"]).groupby("explainer")["calibrated"].mean()

    present = [c for c in CATEGORIES if c in set(df["category"])] + sorted(set(df["category"]) - set(CATEGORIES))
    rows = []
    for name, cells in df.groupby("explainer", sort=True):
        applicable = cells[cells["status"] != "not_applicable"]
        okc = cells[cells["status"] == "ok"]
        seeds = sorted(okc["seed"].unique())
        per_seed = [_hierarchy(okc[okc["seed"] == s])[3].get(name, math.nan) for s in seeds]
        _, half = t_interval(per_seed) if len(seeds) > 1 else (math.nan, math.nan)
        ov = float(overall.get(name, math.nan))
        row: dict[str, Any] = {
            "explainer": name, "overall": ov, "calibrated": float(cal_overall.get(name, math.nan)),
            "ci_half_width": half, "n_seeds": len(seeds),
            "cells": len(cells), "applicable": len(applicable), "ok": len(okc),
            "errors": int((cells["status"] == "error").sum()), "timeouts": int((cells["status"] == "timeout").sum()),
            "not_applicable": int((cells["status"] == "not_applicable").sum()),
            "coverage": len(applicable) / len(cells) if len(cells) else math.nan,
            "success": len(okc) / len(applicable) if len(applicable) else math.nan,
            "pass_rate": float(okc["passed"].mean()) if len(okc) else math.nan,
            "seconds_per_cell": float(applicable["seconds"].mean()) if len(applicable) else math.nan,
        }
        for cat in present:
            hit = category[(category["explainer"] == name) & (category["category"] == cat)]
            row[cat] = float(hit["score"].iloc[0]) if len(hit) else math.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        table["group"] = [("unscored" if ok_n == 0 else "ranked" if cov >= min_coverage - 1e-12 else "specialist")
                          for ok_n, cov in zip(table["ok"], table["coverage"])]
        ranked = table["group"] == "ranked"
        ranks = competition_rank(dict(zip(table.loc[ranked, "explainer"], table.loc[ranked, "overall"])))
        table["rank"] = pd.array([ranks.get(n) for n in table["explainer"]], dtype="Int64")
        sub = table[ranked]
        front = pareto_front({n: (round(s, RANK_DECIMALS), t)
                              for n, s, t in zip(sub["explainer"], sub["overall"], sub["seconds_per_cell"])})
        table["pareto"] = table["explainer"].isin(front)
        table["_g"] = table["group"].map(GROUPS.index)
        table["_r"] = table["rank"].astype("Float64").fillna(10**9)
        table["_o"] = -table["overall"].fillna(-math.inf)
        table["_o"] = table["_o"].where(~ranked, 0.0)
        table = (table.sort_values(["_g", "_r", "_o", "explainer"], kind="mergesort")
                 .drop(columns=["_g", "_r", "_o"]).reset_index(drop=True))
    return Scores(case, check, category, table, random_scores, non_disc, present, min_coverage)
