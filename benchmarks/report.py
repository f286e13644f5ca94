"""Regenerate everything downstream of a run, and write ``report.html``: one self-contained file.

``build_report(DIR)`` reads ``scores.csv`` + ``timings.csv`` + ``evidence.jsonl`` + ``provenance.json`` and writes
``leaderboard.{csv,md}``, ``plots/*.png`` and ``report.html`` (inline CSS and JS, plots as base64 PNG, no network
request of any kind). The leaderboard is sortable (click a header; ``report.html#sort=overall`` or
``#sort=overall:asc`` sorts on load; ``#click=overall`` clicks that header on load, for scripted checks) and
filterable by the model form an explainer requires (``#filter=torch``) and by category.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import math
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .leaderboard import (GROUP_TITLES, aggregation_rule, fmt, group_rule, track_rows, trust_summary,
                          write_leaderboard)
from .ranking import MIN_TRACK_CASES, CaseInfo, TrackResult
from .plots import PLOTS, make_plots
from .provenance import read_history, read_provenance
from .records import CellRecord, read_records
from .scoring import Scores, compute_scores

__all__ = ["build_report", "refresh_report", "render_html", "fill_template", "registry_lookup",
           "MAX_FAILURES_PER_CHECK"]

MAX_FAILURES_PER_CHECK = 150
_TEMPLATE = Path(__file__).with_name("templates") / "report.html"

PLOT_CAPTIONS = {
    "heatmap": "Check score per explainer and check (mean over ok cells).",
    "categories": "Category scores (a category is the mean of its checks).",
    "pareto": "Overall score against mean seconds per applicable cell; red = Pareto front.",
    "baseline_sensitivity": "The same explainer's attributions under different baselines.",
    "agreement": "Mean Spearman correlation between explainers' attributions on shared cases.",
    "image_attributions": "Attribution maps on the image model; the outline is the patch the output depends on.",
    "text_attributions": "Token attributions on the token model.",
}


#: Header tooltips of the leaderboard columns.
COLUMN_HELP = {
    "rank": "1 + the number of explainers whose 95% bootstrap rank interval lies wholly above: overlaps share a rank",
    "rank_interval": "2.5%-97.5% range of the ranks over 1000 bootstrap resamples of the track's cases",
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


def registry_lookup() -> Any:
    """A ``check/case -> Case`` resolver over the registered checks (``None`` for anything unknown)."""
    from xaicheck.axioms.base import cases_of, get_check

    @functools.lru_cache(maxsize=None)
    def lookup(case_id: str) -> Any:
        check, _, name = case_id.partition("/")
        try:
            for case in cases_of(get_check(check)):
                if case.name == name:
                    return case
        except Exception:  # noqa: BLE001 - a check that no longer exists or fails to build: no case
            return None
        return None

    return lookup


def case_info_from(lookup: Any, case_ids: set[str]) -> dict[str, CaseInfo] | None:
    """``case id -> CaseInfo`` through a case resolver (``None`` without one: the scorer asks the registry)."""
    if lookup is None:
        return None
    out = {}
    for cid in sorted(case_ids):
        case = lookup(cid)
        model = getattr(case, "model", None)
        if model is not None and getattr(case, "X", None) is not None:
            out[cid] = CaseInfo(str(model.domain), frozenset(getattr(model, "forms", ()) or ()),
                                int(np.asarray(case.X).shape[1]))
    return out


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_report(directory: Path | str, *, lookup: Any = "registry", plots: bool = True,
                 log: Callable[[str], None] | None = _stderr) -> dict[str, Any]:
    """Leaderboard, plots and ``report.html`` from an existing run in ``directory``; returns a summary.

    ``plots=False`` keeps the PNGs already in ``plots/`` (only the HTML and leaderboard are rebuilt: what a paper
    reproduction needs). ``log`` receives one line per step, then the elapsed time, the top of each track and the
    path of ``report.html`` (``None``: silent). The summary has ``seconds``, ``report`` and ``top``."""
    start = time.perf_counter()
    say = log or (lambda _m: None)
    directory = Path(directory)
    if not (directory / "scores.csv").exists():
        raise FileNotFoundError(f"no scores.csv in {directory}; run `xaicheck run --out {directory}` first")
    say(f"report: reading {directory / 'scores.csv'}")
    records = read_records(directory)
    provenance = read_provenance(directory)
    meta = provenance.get("explainers", {})
    say(f"report: scoring {len(records)} cells (tracks, bootstrap rank intervals)")
    resolver = registry_lookup() if lookup == "registry" else lookup
    scores = compute_scores(records, meta=meta, provenance_checks=provenance.get("checks", {}),
                            case_info=case_info_from(resolver, {r.case_id for r in records}))
    rows = write_leaderboard(scores, meta, directory)
    say(f"report: wrote {directory / 'leaderboard.md'}")
    plot_dir = directory / "plots"
    if plots:
        say(f"report: drawing plots into {plot_dir}")
        plot_status = make_plots(records, scores, plot_dir, resolver, log=say)
    else:
        plot_status = {name: ("ok" if (plot_dir / f"{name}.png").exists() else "not drawn (kept from the last build)")
                       for name in PLOTS}
    text = render_html(scores, records, provenance, rows, plot_dir, plot_status,
                       papers=sorted((directory / "papers").glob("*.md")) if (directory / "papers").is_dir() else [],
                       history=read_history(directory))
    report = directory / "report.html"
    report.write_text(text, encoding="utf-8")
    seconds = time.perf_counter() - start
    top = {t.track.name: t.top() for t in scores.tracks}
    say(f"report: built in {seconds:.1f} s")
    for item in trust_summary(scores):
        names = ", ".join(n for n, _, _ in item.top) or "-"
        say(f"  {item.title}: " + (names if item.resolved else f"too few cases to rank (highest: {names})"))
    say(f"report: {report}")
    return {"explainers": len(rows), "cells": len(records), "plots": dict(plot_status), "seconds": seconds,
            "report": str(report), "top": top}


def refresh_report(directory: Path | str, *, log: Callable[[str], None] | None = _stderr) -> dict[str, Any]:
    """Rebuild ``report.html`` and the leaderboard without redrawing plots (after ``xaicheck reproduce``)."""
    return build_report(directory, lookup=None, plots=False, log=log)


# ------------------------------------------------------------------------------------------------ rendering
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else repr(v)


def _requires(tags: str) -> str:
    for tag in str(tags).split(","):
        if tag.startswith("requires:"):
            return tag.split(":", 1)[1]
    return ""


def _cells(cols: list[tuple[str, str, str]], r: Mapping[str, str], raw: Mapping[str, Any], cats: set[str]) -> str:
    tds = []
    for k, _, t in cols:
        text = sort = r.get(k, "")
        if k == "requires":
            text = sort = _requires(r.get("tags", "") or raw.get("tags", ""))
        if t == "num" and k not in ("rank",):
            sort = _num(raw.get(k))
        if k == "overall" and r.get("ci95"):
            shown = f'{_e(r["overall"])} <span class="ci">± {_e(r["ci95"])}</span>'
        elif k == "overall" and r.get("overall_95"):
            shown = f'{_e(r["overall"])} <span class="ci">[{_e(r["overall_95"])}]</span>'
        else:
            shown = _e(text) if text else '<span class="na">–</span>'
        cls = f'{"cat " if k in cats else ""}col-{re.sub(r"[^A-Za-z0-9_-]", "_", k)}'
        tds.append(f'<td class="{cls}" data-v="{_e(sort)}">{shown}</td>')
    return "".join(tds)


def _head(cols: list[tuple[str, str, str]], cats: set[str]) -> str:
    return "".join(f'<th data-col="{_e(k)}" data-type="{t}" class="{"cat " if k in cats else ""}'
                   f'col-{re.sub(r"[^A-Za-z0-9_-]", "_", k)}" title="{_e(COLUMN_HELP.get(k, "click to sort"))}">'
                   f'{_e(label)}</th>' for k, label, t in cols)


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
        req = _requires(r.get("tags", ""))
        body.append(f'<tr data-requires="{_e(req)}" data-family="{_e(r.get("family", ""))}">'
                    f'{_cells(cols, r, raw[r["explainer"]], set(cats))}</tr>')
    table_id = "leaderboard" if group == "broad" else f"board-{group}"
    return (f'<table id="{table_id}" class="board" data-group="{_e(group)}"><thead><tr>{_head(cols, set(cats))}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _boards(scores: Scores, rows: list[dict[str, str]]) -> str:
    """Every explainer on its own cells, one table per group (broad, specialists, controls, unscored)."""
    parts = []
    for group, title in GROUP_TITLES.items():
        members = [r for r in rows if r.get("group") == group]
        if not members and group != "broad":
            continue
        heading = title.format(cov=f"{scores.min_coverage:g}")
        parts.append(f'<h3 class="group">{_e(heading)} · {len(members)}</h3>'
                     f'<div class="scroll">{_table(scores, members, group)}</div>')
    return "\n".join(parts)


def _track_table(res: TrackResult, meta: Mapping[str, Mapping[str, Any]], kind: str = "ranked") -> str:
    cats = set(res.categories)
    cols = ([("rank", "#", "num"), ("rank_interval", "rank 95%", "text"), ("p_rank1", "P(rank 1)", "num")]
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
        body.append(f'<tr data-requires="{_e(_requires(tags))}" data-family="{_e(r.get("family", ""))}">'
                    f'{_cells(cols, {**r, "tags": tags}, raw[r["explainer"]], cats)}</tr>')
    tid = f"track-{res.track.name}" + ("" if kind == "ranked" else "-controls")
    return (f'<table id="{_e(tid)}" class="board track" data-group="{_e(kind)}"><thead><tr>{_head(cols, cats)}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _tracks_html(scores: Scores, meta: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for res in scores.tracks:
        note = (f"{len(res.cases)} scored cases; {len(res.ranked)} ranked explainers"
                + ("" if res.resolved else f"; too few cases (&lt; {MIN_TRACK_CASES}) to rank: listed by score, "
                   "no rank declared") + ".")
        excl = ("<p class=\"note\">Not ranked here (applicable to fewer than half of the track's cases): "
                + "; ".join(f"{_e(k)} ({_e(v)})" for k, v in sorted(res.excluded.items())) + ".</p>"
                if res.excluded else "")
        parts.append(f'<h3 class="group" id="h-track-{_e(res.track.name)}">{_e(res.track.title)}</h3>'
                     f'<p class="note">{note}</p><div class="scroll">{_track_table(res, meta)}</div>{excl}')
    return "\n".join(parts) or "<p>No track has a case and a ranked explainer in this run.</p>"


def _panel_html(scores: Scores, meta: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for res in scores.tracks:
        if len(res.controls):
            parts.append(f'<h3 class="group">{_e(res.track.title)} · controls</h3>'
                         f'<div class="scroll">{_track_table(res, meta, "control")}</div>')
    return "\n".join(parts) or "<p>No control explainer (family control) in this run.</p>"


def _trust_html(scores: Scores) -> str:
    items = []
    for it in trust_summary(scores):
        names = ", ".join(f"<b>{_e(n)}</b>" for n, _, _ in it.top)
        if it.resolved:
            head = f"rank interval reaching the top: {names}"
            sub = "".join(f"<li><b>{_e(n)}</b> (rank interval {_e(i)}) fails: {_e(f)}</li>" for n, i, f in it.top)
            sub = f"<ul>{sub}</ul>"
        else:
            head = f"too few cases (&lt; {MIN_TRACK_CASES}) to rank; highest score, not a ranking: {names}"
            sub = ""
        above = [n for n, _, below in it.controls if not below]
        ctrl = ("Controls excluded: " + ", ".join(f"{_e(n)} (calibrated {_e(c)})" for n, c, _ in it.controls)
                + (f'; <span class="flag">above the lowest ranked method: {_e(", ".join(above))}</span>'
                   if above else "") + "." if it.controls else "")
        items.append(f'<li data-track="{_e(it.track)}"><b>{_e(it.title)}</b> ({it.cases} cases): {head}. {ctrl}'
                     f'{sub}</li>')
    return f'<ul class="trust">{"".join(items)}</ul>' if items else "<p>No track could be scored.</p>"


def _plots(plot_dir: Path, status: Mapping[str, str]) -> str:
    parts = []
    for name in PLOTS:
        path = plot_dir / f"{name}.png"
        if status.get(name) == "ok" and path.exists():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(f'<figure id="plot-{name}"><img alt="{_e(name)}" src="data:image/png;base64,{data}">'
                         f'<figcaption><b>{_e(name)}</b> — {_e(PLOT_CAPTIONS.get(name, ""))}</figcaption></figure>')
        else:
            parts.append(f'<p class="skipped"><b>{_e(name)}</b>: skipped — {_e(status.get(name, "not drawn"))}</p>')
    return "\n".join(parts)


def _checks(scores: Scores, records: list[CellRecord], provenance: Mapping[str, Any]) -> str:
    meta = provenance.get("checks", {})
    by_check: dict[str, list[CellRecord]] = {}
    for r in records:
        by_check.setdefault(r.check, []).append(r)
    parts = []
    order = {c: i for i, c in enumerate(scores.categories_present)}
    for check in sorted(by_check, key=lambda c: (order.get(by_check[c][0].category, len(order)), c)):
        m = meta.get(check, {})
        cells = by_check[check]
        ok = [r for r in cells if r.status == "ok"]
        bad = sorted((r for r in cells if r.passed is False or r.status in ("error", "timeout")),
                     key=lambda r: r.cell_id)
        flags = []
        if check in scores.non_discriminating:
            flags.append('<span class="flag">non-discriminating: the random control passes it</span>')
        if check in scores.random_scores:
            flags.append(f'random control score {scores.random_scores[check]:.3f}')
        passed = sum(1 for r in ok if r.passed)
        rows = []
        for r in bad[:MAX_FAILURES_PER_CHECK]:
            cx = str((r.counterexample or {}).get("line", "") or "")
            message = r.message.replace(cx, "… (see counterexample)") if cx and cx in r.message else r.message
            rows.append(f'<tr class="st-{_e(r.status)}"><td>{_e(r.explainer)}</td><td>{_e(r.case)}</td>'
                        f'<td>{r.seed}</td><td>{_e(r.status)}</td><td>{_e(fmt(r.score, 3))}</td>'
                        f'<td>{_e(message)}</td><td class="cx">{_e(cx)}</td></tr>')
        more = (f'<p>… and {len(bad) - MAX_FAILURES_PER_CHECK} more (see evidence.jsonl).</p>'
                if len(bad) > MAX_FAILURES_PER_CHECK else "")
        table = (f'<table class="fail"><thead><tr><th>explainer</th><th>case</th><th>seed</th><th>status</th>'
                 f'<th>score</th><th>message</th><th>counterexample</th></tr></thead><tbody>{"".join(rows)}'
                 f'</tbody></table>{more}' if rows else "<p>No failing, erroring or timed-out cell.</p>")
        parts.append(
            f'<details class="check" data-category="{_e(m.get("category", ""))}"><summary><b>{_e(check)}</b> '
            f'<span class="tag">{_e(m.get("category", ""))}</span> threshold {_e(m.get("threshold", "?"))} · '
            f'v{_e(m.get("version", "?"))} · {passed}/{len(ok)} ok cells pass · {len(bad)} failing, erroring or '
            f'timed-out cells{" · ".join([""] + flags)}</summary>'
            f'<p class="formula">{_e(m.get("summary", ""))}</p><p class="cite">Citation: {_e(m.get("citation", ""))}'
            f'</p>{table}</details>')
    return "\n".join(parts)


def _provenance(provenance: Mapping[str, Any]) -> str:
    libs = ", ".join(f"{k} {v}" for k, v in sorted(provenance.get("libraries", {}).items()))
    items = [("xaicheck", provenance.get("xaicheck_version")), ("commit", provenance.get("git_commit")),
             ("python", provenance.get("python")), ("suite", provenance.get("suite")),
             ("base seed", provenance.get("base_seed")), ("started", provenance.get("started")),
             ("finished", provenance.get("finished")), ("libraries", libs)]
    return " · ".join(f"<b>{_e(k)}</b> {_e(v)}" for k, v in items if v not in (None, ""))


def _paper_item(path: Path) -> str:
    """A link to ``papers/NAME.md`` with the paper's title and its verdict line (when the file has them)."""
    title, verdict = "", ""
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not title and line.startswith("# "):
                title = line[2:].strip()
            elif not verdict and line.startswith("**") and line.endswith("**") and "reproduced" in line:
                verdict = line.strip("*").split(":", 1)[-1].strip()
    except OSError:
        pass
    extra = f' — {_e(title)}' if title else ""
    if verdict:
        extra += f' <span class="verdict">({_e(verdict)})</span>'

    return f'<li><a href="papers/{_e(path.name)}">{_e(path.stem)}</a>{extra}</li>'


def _history(history: list[Mapping[str, Any]]) -> str:
    if not history:
        return "<p>No earlier run recorded in <code>history/</code>.</p>"
    rows = []
    for h in reversed(history):  # newest first
        rows.append(f'<tr><td><a href="history/{_e(h["file"])}">{_e(h.get("started", ""))}</a></td>'
                    f'<td>{_e(h.get("finished", ""))}</td><td>{_e(h.get("suite", ""))}</td>'
                    f'<td>{_e(h.get("base_seed", ""))}</td><td>{_e(h.get("cells", ""))}</td>'
                    f'<td>{_e(h.get("jobs", ""))}</td><td>{_e(h.get("xaicheck_version", ""))}</td>'
                    f'<td><code>{_e(str(h.get("git_commit") or "")[:12])}</code></td></tr>')
    return ('<table class="history"><thead><tr><th>started (UTC)</th><th>finished</th><th>suite</th><th>seed</th>'
            '<th>cells</th><th>jobs</th><th>xaicheck</th><th>commit</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def render_html(scores: Scores, records: list[CellRecord], provenance: Mapping[str, Any],
                rows: list[dict[str, str]], plot_dir: Path, plot_status: Mapping[str, str],
                papers: list[Path] | None = None, history: list[Mapping[str, Any]] | None = None) -> str:
    """The report as one HTML string (see the module docstring)."""
    template = _TEMPLATE.read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    requires = sorted({_requires(r.get("tags", "")) for r in rows} - {""})
    req_opts = "".join(f'<option value="{_e(q)}">{_e(q)}</option>' for q in requires)
    cat_opts = "".join(f'<option value="{_e(c)}">{_e(c.replace("_", " "))}</option>'
                       for c in scores.categories_present)
    paper_links = "".join(_paper_item(p) for p in papers or [])
    summary = (f'{len(rows)} explainers · {len(records)} cells · '
               + " · ".join(f"{v} {_e(k)}" for k, v in sorted(counts.items())))
    fill = {
        "TITLE": f'xaicheck report — {_e(provenance.get("suite", "?"))} suite',
        "SUMMARY": summary,
        "REQUIRES_OPTIONS": req_opts,
        "CATEGORY_OPTIONS": cat_opts,
        "LEADERBOARD": _boards(scores, rows),
        "TRUST": _trust_html(scores),
        "RULE": _e(aggregation_rule()),
        "TRACKS": _tracks_html(scores, provenance.get("explainers", {})),
        "PANEL": _panel_html(scores, provenance.get("explainers", {})),
        "ROLES": _roles_html(scores),
        "GROUP_RULE": _e(group_rule(scores.min_coverage)),
        "NONDISC": (", ".join(f"<code>{_e(c)}</code>" for c in scores.non_discriminating) or "none"),
        "PLOTS": _plots(plot_dir, plot_status),
        "CHECKS": _checks(scores, records, provenance),
        "PAPERS": f"<ul>{paper_links}</ul>" if paper_links else "<p>No paper reproductions in this directory.</p>",
        "PROVENANCE": _provenance(provenance),
        "HISTORY": _history(history or []),
        "DATA": json.dumps({"categories": scores.categories_present}).replace("</", "<\\/"),
    }
    return fill_template(template, fill)


_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


def _roles_html(scores: Scores) -> str:
    parts = []
    for role, what in (("gate", "Gates (necessary conditions; pass/fail, not in the overall)"),
                       ("diagnostic", "Diagnostics (shown, not scored)")):
        names = scores.checks_with_role(role)
        parts.append(f"{what}: " + (", ".join(f"<code>{_e(n)}</code>" for n in names) or "none") + ".")
    axes = sorted({a for a in scores.axes.values() if a})
    if axes:
        parts.append("Truth axes (own columns, never averaged): " + ", ".join(_e(a) for a in axes) + ".")
    return " ".join(parts)


def fill_template(template: str, fill: Mapping[str, str]) -> str:
    """Substitute every ``{{KEY}}`` of ``template`` in one pass: text that a value brings in (an explainer named
    ``x{{PLOTS}}``) is never substituted again. An unknown key is an error."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) not in fill:
            raise KeyError(f"template placeholder {{{{{m.group(1)}}}}} has no value")
        return fill[m.group(1)]

    return _PLACEHOLDER.sub(one, template)
