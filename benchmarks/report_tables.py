"""The leaderboard tables of ``report.html``: the what-to-trust summary, one ranked table per track, the degenerate
panel, every explainer's own numbers, and the role of each check. Every value is HTML-escaped; tables are sortable
(``class="board"``, ``data-v`` sort keys) by the script in ``templates/report.html``.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any, Mapping

from .leaderboard import GROUP_TITLES, USE_RULE, below_controls_text, panel_absent, panel_members, track_note, track_rows
from .ranking import CaseInfo, TrackResult
from .recommend import recommend, unformed, use_text
from .scoring import Scores

__all__ = ["COLUMN_HELP", "boards_html", "tracks_html", "panel_html", "trust_html", "roles_html", "esc", "requires_of"]

#: Header tooltips of the leaderboard columns.
COLUMN_HELP = {
    "rank": "1 + the number of explainers resolved above by a pairwise 95% test of the overalls: unresolved share a rank",
    "rank_interval": "ranks no resolved pair excludes (the rank is its best end)",
    "p_rank1": "share of bootstrap resamples in which the explainer is first (ties split)",
    "not_answered": "track cases scored as the random control (not applicable, error or timeout)",
    "tracks": "tracks the explainer is ranked in: #rank [rank interval]",
    "gates_failed": "failed / ok cells of gate checks (necessary conditions, not in the overall)",
    "overall": "mean of the category scores over score checks; ± = 95% t-interval across seeds; [..] = 95% "
               "bootstrap interval over cases",
    "calibrated": "mean over checks of (s - s_random) / (1 - s_random): 0 = no better than random attributions",
    "coverage": "applicable cells / all cells of the suite",
    "success": "ok cells / applicable cells (errors and timeouts count against it)",
    "pass_rate": "passed cells / ok cells",
    "seconds_per_cell": "mean wall seconds per applicable cell",
    "pareto": "on the Pareto front of overall vs seconds per cell (among ranked explainers)",
    "requires": "the model form the explainer needs (torch module, tree, or any callable)",
}


def esc(value: Any) -> str:
    """HTML text for any value (quotes escaped too)."""
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else repr(v)


def requires_of(tags: str) -> str:
    """The model form an explainer requires, from its tags (``requires:torch`` -> ``torch``)."""
    for tag in str(tags).split(","):
        if tag.startswith("requires:"):
            return tag.split(":", 1)[1]
    return ""


def _cells(cols: list[tuple[str, str, str]], r: Mapping[str, str], raw: Mapping[str, Any], cats: set[str]) -> str:
    tds = []
    for k, _, t in cols:
        text = sort = r.get(k, "")
        if k == "requires":
            text = sort = requires_of(r.get("tags", "") or raw.get("tags", ""))
        if t == "num" and k not in ("rank",):
            sort = _num(raw.get(k))
        if k == "overall" and r.get("ci95"):
            shown = f'{esc(r["overall"])} <span class="ci">± {esc(r["ci95"])}</span>'
        elif k == "overall" and r.get("overall_95"):
            shown = f'{esc(r["overall"])} <span class="ci">[{esc(r["overall_95"])}]</span>'
        else:
            shown = esc(text) if text else '<span class="na">–</span>'
        cls = f'{"cat " if k in cats else ""}col-{re.sub(r"[^A-Za-z0-9_-]", "_", k)}'
        tds.append(f'<td class="{cls}" data-v="{esc(sort)}">{shown}</td>')
    return "".join(tds)


def _head(cols: list[tuple[str, str, str]], cats: set[str]) -> str:
    return "".join(f'<th data-col="{esc(k)}" data-type="{t}" class="{"cat " if k in cats else ""}'
                   f'col-{re.sub(r"[^A-Za-z0-9_-]", "_", k)}" title="{esc(COLUMN_HELP.get(k, "click to sort"))}">'
                   f'{esc(label)}</th>' for k, label, t in cols)


def _table(scores: Scores, rows: list[dict[str, str]], group: str = "broad",
           meta: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    cats = scores.categories_present
    cols = [("explainer", "explainer", "text"), ("library", "library", "text"),
            ("family", "family", "text"), ("requires", "requires", "text"), ("overall", "overall", "num"),
            ("calibrated", "calibrated", "num"), ("coverage", "coverage", "num"), ("success", "success", "num"),
            *[(c, c.replace("_", " "), "num") for c in cats],
            ("pass_rate", "pass rate", "num"), ("gates_failed", "gate cells failed", "text"),
            ("seconds_per_cell", "s / cell", "num"), ("pareto", "Pareto", "text"), ("tracks", "ranked in", "text")]
    raw = {r["explainer"]: r for r in scores.explainers.to_dict("records")}
    body = []
    for r in rows:
        req = requires_of(r.get("tags", ""))
        body.append(f'<tr data-requires="{esc(req)}" data-family="{esc(r.get("family", ""))}">'
                    f'{_cells(cols, r, raw[r["explainer"]], set(cats))}</tr>')
    table_id = "leaderboard" if group == "broad" else f"board-{group}"
    return (f'<table id="{table_id}" class="board" data-group="{esc(group)}"><thead><tr>{_head(cols, set(cats))}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table>')


def boards_html(scores: Scores, rows: list[dict[str, str]]) -> str:
    """Every explainer on its own cells, one table per group (broad, specialists, controls, unscored)."""
    parts = []
    for group, title in GROUP_TITLES.items():
        members = [r for r in rows if r.get("group") == group]
        if not members and group != "broad":
            continue
        heading = title.format(cov=f"{scores.min_coverage:g}")
        parts.append(f'<h3 class="group">{esc(heading)} · {len(members)}</h3>'
                     f'<div class="scroll">{_table(scores, members, group)}</div>')
    return "\n".join(parts)


def _track_table(res: TrackResult, meta: Mapping[str, Mapping[str, Any]], kind: str = "ranked") -> str:
    cats = set(res.categories)
    cols = ([("rank", "#", "num"), ("rank_interval", "rank range", "text"), ("p_rank1", "P(rank 1)", "num")]
            if kind == "ranked" else [])
    cols += [("explainer", "explainer", "text"), ("family", "family", "text"), ("requires", "requires", "text"),
             ("overall", "overall", "num"), ("calibrated", "calibrated", "num"),
             *[(c, c.replace("_", " "), "num") for c in res.categories],
             *[(f"gate:{g}", f"gate {g}", "text") for g in res.gates],
             *[(f"axis:{a}", f"truth: {a}", "num") for a in res.axes],
             ("not_answered", "not answered", "num")]
    if kind != "ranked":
        cols.append(("below_all_ranked", "below every ranked", "text"))
    raw = {r["explainer"]: r for r in res.table.to_dict("records")}
    body = []
    for r in track_rows(res, meta):
        if r["kind"] != kind:
            continue
        tags = str(meta.get(r["explainer"], {}).get("tags", ""))
        body.append(f'<tr data-requires="{esc(requires_of(tags))}" data-family="{esc(r.get("family", ""))}">'
                    f'{_cells(cols, {**r, "tags": tags}, raw[r["explainer"]], cats)}</tr>')
    tid = f"track-{res.track.name}" + ("" if kind == "ranked" else "-controls")
    return (f'<table id="{esc(tid)}" class="board track" data-group="{esc(kind)}"><thead><tr>{_head(cols, cats)}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table>')


def tracks_html(scores: Scores, meta: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for res in scores.tracks:
        note = esc(track_note(res, len(res.ranked)))
        excl = ("<p class=\"note\">Not ranked here (applicable to fewer than half of the track's cases): "
                + "; ".join(f"{esc(k)} ({esc(v)})" for k, v in sorted(res.excluded.items())) + ".</p>"
                if res.excluded else "")
        below = below_controls_text(track_rows(res, meta), esc)
        low = f'<p class="note below-controls">{below}</p>' if below else ""
        parts.append(f'<h3 class="group" id="h-track-{esc(res.track.name)}">{esc(res.track.title)}</h3>'
                     f'<p class="note">{note}</p><div class="scroll">{_track_table(res, meta)}</div>{low}{excl}')
    return "\n".join(parts) or ("<p>No track was formed: no track has a scored case and an explainer (not a control) "
                                 "answering at least half of its cases; see What to trust for what.</p>")


def panel_html(scores: Scores, meta: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for res in scores.tracks:
        if len(res.controls):
            parts.append(f'<h3 class="group">{esc(res.track.title)} · controls</h3>'
                         f'<div class="scroll">{_track_table(res, meta, "control")}</div>')
    return "\n".join(parts) or f"<p>{panel_absent(panel_members(scores), esc)}</p>"


def trust_html(scores: Scores, meta: Mapping[str, Mapping[str, Any]] | None = None,
               case_info: Mapping[str, CaseInfo] | None = None) -> str:
    """What to use on your model, per use (:mod:`xaicheck.benchmarks.recommend`), then why any use is missing."""
    items = []
    for use in recommend(scores, meta or {}, case_info):
        head, details = use_text(use, esc, lambda t: f"<b>{t}</b>")
        sub = "".join(f"<li>{d}</li>" for d in details)
        items.append(f'<li data-track="{esc(use.track)}">{head}<ul>{sub}</ul></li>')
    missing = unformed(scores, case_info)
    tail = ('<p class="note">Not formed: ' + "; ".join(f"{esc(label)}: {esc(why)}" for label, why in missing)
            + ".</p>" if missing else "")
    body = (f'<ul class="trust">{"".join(items)}</ul>' if items
            else "<p>No use could be answered: no track was formed in this run.</p>")
    return f'<p class="note">{esc(USE_RULE)}</p>{body}{tail}'


def roles_html(scores: Scores) -> str:
    parts = []
    for role, what in (("gate", "Gates (necessary conditions; pass/fail, not in the overall)"),
                       ("diagnostic", "Diagnostics (shown, not scored)")):
        names = scores.checks_with_role(role)
        parts.append(f"{what}: " + (", ".join(f"<code>{esc(n)}</code>" for n in names) or "none") + ".")
    axes = sorted({a for a in scores.axes.values() if a})
    if axes:
        parts.append("Truth axes (own columns, never averaged): " + ", ".join(esc(a) for a in axes) + ".")
    return " ".join(parts)
