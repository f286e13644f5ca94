"""``leaderboard.md``, ``leaderboard.csv`` and ``leaderboard_tracks.csv``: what to trust for what, the rankings per
track, the degenerate panel and every explainer's own numbers. Deterministic formatting; every name and message
is Markdown-escaped (:func:`xaicheck.benchmarks.escaping.md_escape`).

- ``leaderboard_tracks.csv``: one row per (track, explainer): rank (declared; ties shared), rank interval, P(rank 1),
  overall with its 95% bootstrap interval, calibrated overall, category scores, gate columns, truth-axis columns.
- ``leaderboard.csv``: one row per explainer on its own applicable cells (a reference, *not a ranking*), with the
  tracks it is ranked in. The rule is in ``benchmarks/AGGREGATION.md`` and :mod:`xaicheck.benchmarks.ranking`.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .escaping import md_escape
from .safe_io import atomic_write_text
from .ranking import MIN_TRACK_CASES, CaseInfo, TrackResult
from .recommend import recommend, unformed, use_text
from .scoring import MIN_COVERAGE, Scores

__all__ = ["leaderboard_rows", "track_rows", "write_leaderboard", "render_markdown", "fmt", "GROUP_TITLES",
           "group_rule", "TrustItem", "trust_summary", "aggregation_rule", "USE_RULE"]

#: Heading of each group of the all-explainers table (``{cov}`` = the coverage threshold).
GROUP_TITLES: dict[str, str] = {
    "broad": "Broad coverage (≥ {cov} of the suite's cells)",
    "specialist": "Specialists (coverage < {cov})",
    "control": "Degenerate panel (family control)",
    "unscored": "Not scored (no ok cell: nothing applicable, or every applicable cell failed to run)",
}


def group_rule(min_coverage: float = MIN_COVERAGE) -> str:
    """One sentence saying what the all-explainers table is."""
    return (f"Every explainer on the cells it can run (a reference, not a ranking: explainers sit different "
            f"exams). Broad = applicable to at least {min_coverage:.0%} of the suite's cells. Rankings are per "
            "track, on the same cells for every ranked explainer.")


def aggregation_rule() -> str:
    """The ranking rule in one paragraph (the full text is ``benchmarks/AGGREGATION.md``)."""
    return ("Ranked within tracks (uses) on the same cases for every ranked explainer; a case an explainer cannot "
            "answer counts as the random control's score there. Overall = mean over categories of the mean over "
            "score checks (gates are pass/fail columns, diagnostics are not scored; a second truth is its own "
            "column); checks of one property (deletion, insertion, PGI/PGU) share one weight. Rank = 1 + the number of "
            "explainers resolved above it by a pairwise test of the overalls (difference ≥ 1.96 standard errors "
            "and ≥ 0.001, over resampled cases, infinitesimal jackknife: no seed); the rank range runs from that "
            "rank to the worst rank no resolved pair excludes, so the rank is the range's best end. Calibrated = "
            "(s − s_random)/(1 − s_random) per check. Controls (family control) are scored on the same cells, "
            "never ranked.")


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


def _int(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(int(value))


def leaderboard_rows(scores: Scores, explainers_meta: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """Every explainer on its own applicable cells, as rows of strings (group order, then overall)."""
    out = []
    for row in scores.explainers.to_dict("records"):
        meta = explainers_meta.get(row["explainer"], {})
        entry = {
            "explainer": row["explainer"], "group": str(row.get("group", "")),
            "library": str(meta.get("library", "")), "family": str(meta.get("family", "")),
            "tags": str(meta.get("tags", "")), "tracks": str(row.get("tracks", "")),
            "overall": fmt(row["overall"], 4), "ci95": fmt(row["ci_half_width"], 4),
            "calibrated": fmt(row["calibrated"], 4), "coverage": fmt(row["coverage"], 3),
            "success": fmt(row["success"], 3),
        }
        for cat in scores.categories_present:
            entry[cat] = fmt(row.get(cat), 4)
        entry.update({
            "pass_rate": fmt(row["pass_rate"], 3),
            "gates_failed": f"{row.get('gates_failed', 0)}/{row.get('gate_cells', 0)}" if row.get("gate_cells") else "",
            "seconds_per_cell": fmt(row["seconds_per_cell"], 4),
            "pareto": "yes" if row.get("pareto") else "",
            "cells": str(row["cells"]), "ok": str(row["ok"]), "errors": str(row["errors"]),
            "timeouts": str(row["timeouts"]), "not_applicable": str(row["not_applicable"]),
        })
        out.append(entry)
    return out


def track_rows(result: TrackResult, explainers_meta: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """One track's table as rows of strings (ranked members, then controls)."""
    out = []
    for row in result.table.to_dict("records"):
        meta = explainers_meta.get(row["explainer"], {})
        ranked = row["kind"] == "ranked"
        entry = {
            "track": result.track.name, "kind": row["kind"], "rank": _int(row.get("rank")),
            "rank_interval": (f"{_int(row['rank_lo'])}–{_int(row['rank_hi'])}"
                              if ranked and _int(row.get("rank_lo")) else ""),
            "p_rank1": fmt(row.get("p_rank1"), 3), "explainer": row["explainer"],
            "library": str(meta.get("library", "")), "family": str(meta.get("family", "")),
            "overall": fmt(row["overall"], 4),
            "overall_95": (f"{fmt(row['overall_lo'], 3)}–{fmt(row['overall_hi'], 3)}"
                           if ranked and fmt(row.get("overall_lo"), 3) else ""),
            "calibrated": fmt(row["calibrated"], 3), "not_answered": str(row["not_answered"]),
            "cases": str(row["cases"]),
        }
        for cat in result.categories:
            entry[cat] = fmt(row.get(cat), 3)
        for g in result.gates:
            entry[f"gate:{g}"] = str(row.get(f"gate:{g}", ""))
        for a in result.axes:
            entry[f"axis:{a}"] = fmt(row.get(f"axis:{a}"), 3)
        entry["fails"] = str(row.get("fails", ""))
        if row["kind"] == "below_controls":
            entry["not_above"] = str(row.get("not_above", ""))
        elif not ranked:
            entry["below_all_ranked"] = {True: "yes", False: "NO"}.get(row.get("below_all_ranked"), "")
        out.append(entry)
    return out


@dataclass
class TrustItem:
    """The summary line of one track: who to trust (rank interval at the top), what each fails, controls left out."""

    track: str
    title: str
    cases: int
    resolved: bool
    top: list[tuple[str, str, str]] = field(default_factory=list)  # (explainer, rank interval, what it fails)
    controls: list[tuple[str, str, bool]] = field(default_factory=list)  # (control, calibrated, below all ranked)


def trust_summary(scores: Scores) -> list[TrustItem]:
    """What to trust for what: one item per track."""
    items = []
    for res in scores.tracks:
        item = TrustItem(res.track.name, res.track.title, len(res.cases), res.resolved)
        ranked = res.ranked
        names = res.top() if res.resolved else list(ranked.sort_values("overall", ascending=False, kind="mergesort")
                                                     .loc[lambda d: d["overall"] >= d["overall"].max() - 1e-9,
                                                          "explainer"])
        for name in names:
            row = ranked[ranked["explainer"] == name].iloc[0]
            interval = f"{_int(row['rank_lo'])}–{_int(row['rank_hi'])}" if res.resolved else ""
            item.top.append((name, interval, str(row.get("fails", "")) or "nothing"))
        for row in res.controls.to_dict("records"):
            item.controls.append((row["explainer"], fmt(row["calibrated"], 2), bool(row.get("below_all_ranked"))))
        items.append(item)
    return items


#: The sentence above the per-use answers (markdown, HTML and terminal).
USE_RULE = ("Per use: the methods that scale (not an exact 2^d enumeration) that no other such method is resolved "
            "above (95% pairwise test), with what they fail; exact oracles are the reference, not the pick; a method "
            "whose interval spans every rank is never a pick.")


def _summary_markdown(scores: Scores, meta: Mapping[str, Mapping[str, Any]],
                      case_info: Mapping[str, CaseInfo] | None) -> list[str]:
    lines = ["## What to trust for what", "", USE_RULE, ""]
    uses = recommend(scores, meta, case_info)
    for use in uses:
        head, details = use_text(use, md_escape, lambda t: f"**{t}**")
        lines.append(f"- {head}")
        lines += [f"  - {d}" for d in details]
    missing = unformed(scores, case_info)
    if not uses:
        lines.append("No use could be answered: no track was formed in this run.")
    if missing:
        lines += ["", "Not formed: " + "; ".join(f"{md_escape(label)}: {md_escape(why)}" for label, why in missing)
                  + "."]
    return lines


def track_note(res: TrackResult, members: int) -> str:
    """The sentence above a track's table: cases, and ranked members or (too few cases) members listed by score."""
    if res.resolved:
        return f"{len(res.cases)} scored cases; {members} ranked explainers."
    return (f"{len(res.cases)} scored case(s): too few (< {MIN_TRACK_CASES}) to rank, so no rank is declared; "
            f"{members} explainers listed by score.")


def _md_table(rows: list[dict[str, str]], cols: list[str], heads: list[str], text_cols: set[str]) -> list[str]:
    lines = ["| " + " | ".join(md_escape(h) for h in heads) + " |",
             "|" + "|".join("---" if c in text_cols else "---:" for c in cols) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(md_escape(r.get(c, "")) or ("" if c in text_cols else "–") for c in cols)
                     + " |")
    return lines


def _track_markdown(res: TrackResult, meta: Mapping[str, Mapping[str, Any]]) -> list[str]:
    rows = track_rows(res, meta)
    ranked = [r for r in rows if r["kind"] == "ranked"]
    cols = ["rank", "rank_interval", "p_rank1", "explainer", "library", "family", "overall", "overall_95",
            "calibrated", *res.categories, *[f"gate:{g}" for g in res.gates], *[f"axis:{a}" for a in res.axes],
            "not_answered"]
    heads = ["#", "rank range", "P(rank 1)", "explainer", "library", "family", "overall", "overall 95%", "calibrated",
             *[c.replace("_", " ") for c in res.categories], *[f"gate {g}" for g in res.gates],
             *[f"truth: {a}" for a in res.axes], "not answered"]
    lines = ["", f"## Track: {md_escape(res.track.title)}", "",
             track_note(res, len(ranked))
             + " Not answered = cases scored as the random control (not applicable, error or timeout).", ""]
    lines += _md_table(ranked, cols, heads, {"explainer", "library", "family", "rank_interval", "overall_95"}
                       | {f"gate:{g}" for g in res.gates})
    below = below_controls_text(rows)
    if below:
        lines += ["", below]
    if res.excluded:
        lines += ["", "Not ranked here (applicable to fewer than half of the track's cases): "
                  + "; ".join(f"{md_escape(k)} ({md_escape(v)})" for k, v in sorted(res.excluded.items())) + "."]
    return lines


def below_controls_text(rows: list[dict[str, str]], escape: Callable[[str], str] = md_escape) -> str:
    """The line listing a track's members not above its controls (``track_rows``), or "" when there are none."""
    below = [r for r in rows if r["kind"] == "below_controls"]
    if not below:
        return ""
    return (escape(BELOW_CONTROLS) + " " + "; ".join(
        f"{escape(r['explainer'])} (overall {escape(r['overall'])}; {escape(r['not_above'])})" for r in below) + ".")


#: The sentence before a track's members that do not beat its best control (markdown and HTML).
BELOW_CONTROLS = ("Not above the controls (scored on every case of the track like the ranked members, but no higher "
                  "than its best degenerate control, so not ranked; the control and both overalls follow):")


def _panel_markdown(scores: Scores) -> list[str]:
    controls = sorted({n for t in scores.tracks for n in t.controls["explainer"]})
    if not controls:
        listed = panel_members(scores)
        return (["", "## Degenerate panel", "", panel_absent(listed)] if listed else [])
    tracks = [t for t in scores.tracks if len(t.controls)]
    cols = ["explainer", *[t.track.name for t in tracks]]
    heads = ["control", *[f"{t.track.name} overall / calibrated" for t in tracks]]
    rows = []
    for name in controls:
        row = {"explainer": name}
        for t in tracks:
            hit = t.controls[t.controls["explainer"] == name]
            if len(hit):
                h = hit.iloc[0]
                row[t.track.name] = (f"{fmt(h['overall'], 3)} / {fmt(h['calibrated'], 3)}"
                                     + ("" if h["below_all_ranked"] else " (above a ranked method)"))
        rows.append(row)
    return (["", "## Degenerate panel (family control: scored on each track's cells, never ranked)", ""]
            + _md_table(rows, cols, heads, set(cols)))


def panel_members(scores: Scores) -> list[str]:
    """The run's controls (group ``control`` of the all-explainers table)."""
    ex = scores.explainers
    return sorted(ex.loc[ex["group"] == "control", "explainer"]) if "group" in ex else []


def panel_absent(listed: list[str], escape: Callable[[str], str] = md_escape) -> str:
    """Why the per-track panel is empty although the run has controls (or that it has none)."""
    if not listed:
        return "No control explainer (family control) in this run."
    return (f"The run has {len(listed)} control(s) ({', '.join(escape(n) for n in listed)}), but no track was "
            "formed, so they are scored only in the all-explainers table (Degenerate panel group), not per track.")


def render_markdown(scores: Scores, explainers_meta: Mapping[str, Mapping[str, Any]], *,
                    title: str = "Leaderboard", case_info: Mapping[str, CaseInfo] | None = None,
                    appendix: Sequence[str] = ()) -> str:
    """GitHub-flavoured markdown: summary, one ranked table per track, the degenerate panel, every explainer's own
    numbers, and which checks are gates or diagnostics; then ``appendix`` (lines: the metric-validity section,
    ``report_metrics``; nothing when empty). ``s / cell`` is the only column that varies between machines."""
    lines = [f"# {md_escape(title)}", "", aggregation_rule(), ""]
    lines += _summary_markdown(scores, explainers_meta, case_info)
    for res in scores.tracks:
        lines += _track_markdown(res, explainers_meta)
    lines += _panel_markdown(scores)
    rows = leaderboard_rows(scores, explainers_meta)
    cats = scores.categories_present
    cols = ["explainer", "library", "family", "overall", "calibrated", "coverage", "success", *cats, "pass_rate",
            "gates_failed", "seconds_per_cell", "tracks"]
    heads = ["explainer", "library", "family", "overall", "calibrated", "coverage", "success",
             *[c.replace("_", " ") for c in cats], "pass rate", "gate cells failed", "s / cell", "ranked in"]
    lines += ["", "## All explainers on their own cells (not a ranking)", "", group_rule(scores.min_coverage)]
    for group, title_fmt in GROUP_TITLES.items():
        members = [r for r in rows if r["group"] == group]
        if members:
            for r in members:
                if r["ci95"]:
                    r["overall"] = f"{r['overall']} ± {r['ci95']}"
            lines += ["", f"### {title_fmt.format(cov=f'{scores.min_coverage:g}')}", ""]
            lines += _md_table(members, cols, heads, {"explainer", "library", "family", "tracks", "gates_failed"})
    notes = []
    for role, what in (("gate", "Gates (necessary conditions; pass/fail, not in the overall)"),
                       ("diagnostic", "Diagnostics (shown, not scored)")):
        names = scores.checks_with_role(role)
        if names:
            notes.append(f"{what}: " + ", ".join(md_escape(n) for n in names) + ".")
    axes = sorted({a for a in scores.axes.values() if a})
    if axes:
        notes.append("Truth axes (own columns, never averaged): " + ", ".join(md_escape(a) for a in axes) + ".")
    if scores.non_discriminating:
        notes.append("Non-discriminating checks (the random control passes them): "
                     + ", ".join(md_escape(c) for c in scores.non_discriminating) + ".")
    if notes:
        lines += [""] + notes
    lines += list(appendix)
    return "\n".join(lines) + "\n"


def _csv(rows: list[dict[str, str]], default: list[str]) -> str:
    fields: list[str] = list(dict.fromkeys(k for r in rows for k in r)) or default
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_leaderboard(scores: Scores, explainers_meta: Mapping[str, Mapping[str, Any]], out: Path,
                      case_info: Mapping[str, CaseInfo] | None = None, appendix: Sequence[str] = ()) -> list[dict]:
    """Write ``leaderboard.csv``, ``leaderboard_tracks.csv`` and ``leaderboard.md`` (with ``appendix`` lines at its
    end); returns the all-explainers rows."""
    out = Path(out)
    rows = leaderboard_rows(scores, explainers_meta)
    atomic_write_text(out / "leaderboard.csv", _csv(rows, ["explainer"]))
    trows = [r for res in scores.tracks for r in track_rows(res, explainers_meta)]
    atomic_write_text(out / "leaderboard_tracks.csv", _csv(trows, ["track", "explainer"]))
    atomic_write_text(out / "leaderboard.md", render_markdown(scores, explainers_meta, case_info=case_info,
                                                                      appendix=appendix))
    return rows
