"""``leaderboard.csv`` and ``leaderboard.md``: one row per explainer, deterministic formatting.

Columns: rank, explainer, library, family, overall (± 95% interval across seeds where one exists), calibrated
overall, coverage, success, one column per category, pass rate, mean seconds per applicable cell, Pareto flag.
Equal overalls share a rank (see :mod:`benchmarks.scoring`); unranked explainers (no ok cell) come last with "–".
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Mapping

from .scoring import Scores

__all__ = ["leaderboard_rows", "write_leaderboard", "render_markdown", "fmt"]


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


def leaderboard_rows(scores: Scores, explainers_meta: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """The leaderboard as rows of strings, in rank order."""
    out = []
    for row in scores.explainers.to_dict("records"):
        meta = explainers_meta.get(row["explainer"], {})
        rank = row.get("rank")
        entry = {
            "rank": "" if rank is None or (isinstance(rank, float) and math.isnan(rank)) or str(rank) == "<NA>"
            else str(int(rank)),
            "explainer": row["explainer"],
            "library": str(meta.get("library", "")),
            "family": str(meta.get("family", "")),
            "tags": str(meta.get("tags", "")),
            "overall": fmt(row["overall"], 4),
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


def render_markdown(rows: list[dict[str, str]], categories: list[str], *, title: str = "Leaderboard",
                    non_discriminating: list[str] | None = None) -> str:
    """A GitHub-flavoured markdown table (``s / cell`` is the only column that varies between machines)."""
    cols = ["rank", "explainer", "library", "family", "overall", "calibrated", "coverage", "success", *categories,
            "pass_rate", "seconds_per_cell"]
    heads = ["#", "explainer", "library", "family", "overall", "calibrated", "coverage", "success",
             *[c.replace("_", " ") for c in categories], "pass rate", "s / cell"]
    lines = [f"# {title}", "",
             "Overall = mean of category scores (each a mean over ok cells only); ± = 95% t-interval across "
             "seeds; calibrated = (s − s_random)/(1 − s_random) per check; coverage = applicable / all cells; "
             "success = ok / applicable cells; – = no ok cell.",
             "", "| " + " | ".join(heads) + " |", "|" + "|".join(["---:" if c != "explainer" and c not in
                                                                 ("library", "family") else "---"
                                                                 for c in cols]) + "|"]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if c == "overall" and r.get("ci95"):
                v = f"{v} ± {r['ci95']}"
            cells.append(v if v or c in ("library", "family") else "–")
        lines.append("| " + " | ".join(cells) + " |")
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
        render_markdown(rows, scores.categories_present, non_discriminating=scores.non_discriminating),
        encoding="utf-8")
    return rows
