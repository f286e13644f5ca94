"""``leaderboard.csv`` and ``leaderboard.md``: one row per explainer, deterministic formatting.

Columns: rank, explainer, library, family, overall (± 95% interval across seeds where one exists), calibrated
overall, coverage, success, one column per category, pass rate, mean seconds per applicable cell, Pareto flag.
Equal overalls share a rank (see :mod:`xaicheck.benchmarks.scoring`). Only explainers with coverage >= ``MIN_COVERAGE``
are ranked; the ``group`` column says which rows are ``specialist`` (limited coverage, not ranked, all numbers shown)
or ``unscored`` (no ok cell). ``leaderboard.md`` shows them in separate tables below the ranked one.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .scoring import MIN_COVERAGE, Scores

__all__ = ["leaderboard_rows", "write_leaderboard", "render_markdown", "fmt", "GROUP_TITLES", "group_rule"]

#: Heading of each leaderboard group (``{cov}`` = the coverage threshold).
GROUP_TITLES: dict[str, str] = {
    "ranked": "Ranked (coverage ≥ {cov})",
    "specialist": "Specialists (limited coverage, < {cov}), not ranked",
    "unscored": "Not scored (no ok cell: nothing applicable, or every applicable cell failed to run)",
}


def group_rule(min_coverage: float = MIN_COVERAGE) -> str:
    """One sentence stating who is ranked."""
    return (f"Only explainers applicable to at least {min_coverage:.0%} of the suite's cells (coverage ≥ "
            f"{min_coverage:g}) are ranked; specialists with lower coverage are listed below with their scores, "
            "not ranked, because their overall averages a few cells and is not comparable.")


def fmt(value: Any, digits: int = 3) -> str:
    """Fixed-point text for a number; empty for missing values."""
    if value is None:
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return ""
    return f"{v:.{digits}f}"


def _overall_digits(records: list[dict[str, Any]], base: int = 4, most: int = 9) -> list[int]:
    """Digits to print each overall with: ``base``, or more where two ranked rows of different rank would print
    the same text (0.91320 vs 0.91318 both read 0.9132), so a reader sees why their ranks differ."""
    digits = [base] * len(records)
    for i in range(1, len(records)):
        a, b = records[i - 1], records[i]
        ra, rb = a.get("rank"), b.get("rank")
        if ra is None or rb is None or pd.isna(ra) or pd.isna(rb) or ra == rb:
            continue
        d = base
        while d < most and fmt(a["overall"], d) == fmt(b["overall"], d):
            d += 1
        digits[i - 1], digits[i] = max(digits[i - 1], d), max(digits[i], d)
    by_rank: dict[Any, int] = {}  # rows sharing a rank print alike
    for r, d in zip(records, digits):
        if r.get("rank") is not None and not pd.isna(r.get("rank")):
            by_rank[r["rank"]] = max(by_rank.get(r["rank"], base), d)
    return [by_rank.get(r.get("rank"), d) if r.get("rank") is not None and not pd.isna(r.get("rank")) else d
            for r, d in zip(records, digits)]


def leaderboard_rows(scores: Scores, explainers_meta: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """The leaderboard as rows of strings, in rank order."""
    out = []
    records = scores.explainers.to_dict("records")
    digits = _overall_digits(records)
    for row, nd in zip(records, digits):
        meta = explainers_meta.get(row["explainer"], {})
        rank = row.get("rank")
        entry = {
            "rank": "" if rank is None or (isinstance(rank, float) and math.isnan(rank)) or str(rank) == "<NA>"
            else str(int(rank)),
            "explainer": row["explainer"],
            "group": str(row.get("group", "")),
            "library": str(meta.get("library", "")),
            "family": str(meta.get("family", "")),
            "tags": str(meta.get("tags", "")),
            "overall": fmt(row["overall"], nd),
            "ci95": fmt(row["ci_half_width"], 4),
            "calibrated": fmt(row["calibrated"], 4),
            "coverage": fmt(row["coverage"], 3),
            "success": fmt(row["success"], 3),
        }
        for cat in scores.categories_present:
            entry[cat] = fmt(row.get(cat), 4)
        entry.update({
            "pass_rate": fmt(row["pass_rate"], 3),
            "seconds_per_cell": fmt(row["seconds_per_cell"], 4),
            "pareto": "yes" if row.get("pareto") else "",
            "cells": str(row["cells"]), "ok": str(row["ok"]), "errors": str(row["errors"]),
            "timeouts": str(row["timeouts"]), "not_applicable": str(row["not_applicable"]),
        })
        out.append(entry)
    return out


def _md_table(rows: list[dict[str, str]], categories: list[str]) -> list[str]:
    cols = ["rank", "explainer", "library", "family", "overall", "calibrated", "coverage", "success", *categories,
            "pass_rate", "seconds_per_cell"]
    heads = ["#", "explainer", "library", "family", "overall", "calibrated", "coverage", "success",
             *[c.replace("_", " ") for c in categories], "pass rate", "s / cell"]
    lines = ["| " + " | ".join(heads) + " |",
             "|" + "|".join("---" if c in ("explainer", "library", "family") else "---:" for c in cols) + "|"]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if c == "overall" and r.get("ci95"):
                v = f"{v} ± {r['ci95']}"
            cells.append(v if v or c in ("library", "family") else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_markdown(rows: list[dict[str, str]], categories: list[str], *, title: str = "Leaderboard",
                    non_discriminating: list[str] | None = None, min_coverage: float = MIN_COVERAGE) -> str:
    """GitHub-flavoured markdown: the ranked table, then specialists and unscored explainers (never hidden).

    ``s / cell`` is the only column that varies between machines."""
    lines = [f"# {title}", "",
             "Overall = mean of category scores (each a mean over ok cells only); ± = 95% t-interval across "
             "seeds; calibrated = (s − s_random)/(1 − s_random) per check; coverage = applicable / all cells; "
             "success = ok / applicable cells; – = no ok cell. Equal overalls share a rank; a rank difference "
             "smaller than the ± interval is not significant. " + group_rule(min_coverage)]
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r.get("group") or "ranked", []).append(r)
    for group, title_fmt in GROUP_TITLES.items():
        if group not in groups:
            continue
        lines += ["", f"## {title_fmt.format(cov=f'{min_coverage:g}')}", ""]
        lines += _md_table(groups[group], categories)
    if non_discriminating:
        lines += ["", "Non-discriminating checks (the random control passes them): "
                  + ", ".join(f"`{c}`" for c in non_discriminating) + "."]
    return "\n".join(lines) + "\n"


def write_leaderboard(scores: Scores, explainers_meta: Mapping[str, Mapping[str, Any]], out: Path) -> list[dict]:
    """Write ``leaderboard.csv`` (all columns) and ``leaderboard.md``; returns the rows."""
    out = Path(out)
    rows = leaderboard_rows(scores, explainers_meta)
    buf = io.StringIO()
    fields = list(rows[0]) if rows else ["rank", "explainer"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (out / "leaderboard.csv").write_text(buf.getvalue(), encoding="utf-8")
    (out / "leaderboard.md").write_text(
        render_markdown(rows, scores.categories_present, non_discriminating=scores.non_discriminating,
                        min_coverage=scores.min_coverage),
        encoding="utf-8")
    return rows
