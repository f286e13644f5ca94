"""Regenerate everything downstream of a run, and write ``report.html``: one self-contained file.

``build_report(DIR)`` reads ``scores.csv`` + ``timings.csv`` + ``evidence.jsonl`` + ``provenance.json`` and writes
``leaderboard.{csv,md}``, ``plots/*.png`` and ``report.html`` (inline CSS and JS, plots as base64 PNG, no network
request of any kind). The leaderboard is sortable (click a header; ``report.html#sort=overall`` or
``#sort=overall:asc`` sorts on load; ``#click=overall`` clicks that header on load, for scripted checks) and
filterable by the model form an explainer requires (``#filter=torch``) and by category.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any, Mapping

from .leaderboard import GROUP_TITLES, fmt, group_rule, write_leaderboard
from .plots import PLOTS, make_plots
from .provenance import read_history, read_provenance
from .records import CellRecord, read_records
from .scoring import Scores, compute_scores

__all__ = ["build_report", "render_html", "registry_lookup", "MAX_FAILURES_PER_CHECK"]

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
    "rank": "rank by overall; equal overalls (to 9 decimals) share a rank",
    "overall": "mean of the category scores; ± = 95% t-interval across seeds",
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


def build_report(directory: Path | str, *, lookup: Any = "registry") -> dict[str, Any]:
    """Leaderboard, plots and ``report.html`` from an existing run in ``directory``; returns a summary."""
    directory = Path(directory)
    if not (directory / "scores.csv").exists():
        raise FileNotFoundError(f"no scores.csv in {directory}; run `xaicheck run --out {directory}` first")
    records = read_records(directory)
    provenance = read_provenance(directory)
    scores = compute_scores(records)
    meta = provenance.get("explainers", {})
    rows = write_leaderboard(scores, meta, directory)
    resolver = registry_lookup() if lookup == "registry" else lookup
    plot_status = make_plots(records, scores, directory / "plots", resolver)
    text = render_html(scores, records, provenance, rows, directory / "plots", plot_status,
                       papers=sorted((directory / "papers").glob("*.md")) if (directory / "papers").is_dir() else [],
                       history=read_history(directory))
    (directory / "report.html").write_text(text, encoding="utf-8")
    return {"explainers": len(rows), "cells": len(records), "plots": dict(plot_status)}


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


def _table(scores: Scores, rows: list[dict[str, str]], group: str = "ranked") -> str:
    cats = scores.categories_present
    cols = [("rank", "#", "num"), ("explainer", "explainer", "text"), ("library", "library", "text"),
            ("family", "family", "text"), ("requires", "requires", "text"), ("overall", "overall", "num"),
            ("calibrated", "calibrated", "num"), ("coverage", "coverage", "num"), ("success", "success", "num"),
            *[(c, c.replace("_", " "), "num") for c in cats],
            ("pass_rate", "pass rate", "num"), ("seconds_per_cell", "s / cell", "num"), ("pareto", "Pareto", "text")]
    if group != "ranked":  # neither ranked nor on the front: those columns would be empty
        cols = [c for c in cols if c[0] not in ("rank", "pareto")]
    raw = {r["explainer"]: r for r in scores.explainers.to_dict("records")}
    head = "".join(f'<th data-col="{k}" data-type="{t}" class="{"cat " if k in cats else ""}col-{k}" '
                   f'title="{_e(COLUMN_HELP.get(k, "click to sort"))}">{_e(label)}</th>' for k, label, t in cols)
    body = []
    for r in rows:
        req = _requires(r.get("tags", ""))
        tds = []
        for k, _, t in cols:
            if k == "requires":
                text, sort = req, req
            else:
                text, sort = r.get(k, ""), r.get(k, "")
            if t == "num":
                sort = _num(raw[r["explainer"]].get(k)) if k != "rank" else r["rank"]
            if k == "overall" and r.get("ci95"):
                text = f'{r["overall"]} <span class="ci">± {r["ci95"]}</span>'
            else:
                text = _e(text) if text else '<span class="na">–</span>'
            cls = f'{"cat " if k in cats else ""}col-{k}'
            tds.append(f'<td class="{cls}" data-v="{_e(sort)}">{text}</td>')
        body.append(f'<tr data-requires="{_e(req)}" data-family="{_e(r.get("family", ""))}">{"".join(tds)}</tr>')
    table_id = "leaderboard" if group == "ranked" else f"board-{group}"
    return (f'<table id="{table_id}" class="board" data-group="{_e(group)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _boards(scores: Scores, rows: list[dict[str, str]]) -> str:
    """The ranked leaderboard, then one table per other group (specialists, unscored) with its heading."""
    parts = []
    for group, title in GROUP_TITLES.items():
        members = [r for r in rows if (r.get("group") or "ranked") == group]
        if not members and group != "ranked":
            continue
        heading = title.format(cov=f"{scores.min_coverage:g}")
        parts.append(f'<h3 class="group">{_e(heading)} · {len(members)}</h3>'
                     f'<div class="scroll">{_table(scores, members, group)}</div>')
    return "\n".join(parts)


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
        "GROUP_RULE": _e(group_rule(scores.min_coverage)),
        "NONDISC": (", ".join(f"<code>{_e(c)}</code>" for c in scores.non_discriminating) or "none"),
        "PLOTS": _plots(plot_dir, plot_status),
        "CHECKS": _checks(scores, records, provenance),
        "PAPERS": f"<ul>{paper_links}</ul>" if paper_links else "<p>No paper reproductions in this directory.</p>",
        "PROVENANCE": _provenance(provenance),
        "HISTORY": _history(history or []),
        "DATA": json.dumps({"categories": scores.categories_present}).replace("</", "<\\/"),
    }
    for key, value in fill.items():
        template = template.replace("{{" + key + "}}", value)
    return template
