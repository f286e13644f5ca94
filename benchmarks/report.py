"""Regenerate everything downstream of a run, and write ``report.html``: one self-contained file.

``build_report(DIR)`` is a pure function of ``DIR``: it reads ``scores.csv`` + ``timings.csv`` + ``evidence.jsonl`` +
``provenance.json`` + ``history/`` (each file first checked against the digests the run recorded,
``verified_reads``: an edited file or a missing provenance is refused with one line), with the case, explainer and
check facts the run recorded (never the live registries; a folder of an older format is refused with one line), and
writes
``leaderboard.{csv,md}``, ``leaderboard_tracks.csv``, ``plots/*.png`` and ``report.html`` (inline CSS and JS, plots
as base64 PNG, no network request of any kind), printing each step, then the elapsed time, the top of each track
and the path of the report. The report opens with what to trust for what (per track), then the rankings by track,
the degenerate panel and every explainer's own numbers; when ``DIR/metrics/`` exists (``xaicheck metrics``) it is
first verified against its own ``provenance.json`` (``metrics.provenance.verify_metrics``) and both the report and
``leaderboard.md`` gain a section on which truth-free evaluation metric tracks the exact truth
(``report_metrics``); without it they are byte-identical to a report without that section.
``refresh_report(DIR)`` rebuilds the HTML and leaderboard without redrawing plots. The template is filled in one
pass (a value is never substituted again). Tables are sortable (click a header; ``report.html#sort=overall`` or
``#sort=overall:asc`` sorts on load; ``#click=overall`` clicks that header on load, for scripted checks) and
filterable by the model form an explainer requires (``#filter=torch``) and by category.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from .boundary import boundary_html
from .leaderboard import aggregation_rule, fmt, group_rule, write_leaderboard
from .plots import PLOTS, make_plots
from .provenance import read_history, read_provenance
from .records import CellRecord, read_records
from .report_tables import (boards_html, esc as _e, panel_html, requires_of as _requires, roles_html, tracks_html,
                            trust_html)
from .report_metrics import load_metrics, metrics_html, metrics_markdown
from .recommend import recommend, terminal_line, with_feature_limits
from .run_facts import run_facts_from
from .safe_io import atomic_write_text
from .verified_reads import verify_run
from .scoring import Scores, compute_scores

__all__ = ["build_report", "refresh_report", "render_html", "fill_template", "MAX_FAILURES_PER_CHECK"]

MAX_FAILURES_PER_CHECK = 150
#: Processes drawing the plots when the caller does not say (``plots.make_plots``).
PLOT_JOBS = 2
_TEMPLATE = Path(__file__).with_name("templates") / "report.html"

PLOT_CAPTIONS = {
    "heatmap": "Check score per explainer and check (mean over ok cells).",
    "categories": "Category scores (a category is the mean of its checks).",
    "pareto": "Overall score against mean seconds per applicable cell; red = Pareto front.",
    "baseline_sensitivity": "The same explainer's attributions under different baselines.",
    "agreement": "Mean Spearman correlation between explainers' attributions on shared cases.",
    "image_attributions": "Attribution maps on the image model; the outline is the patch the output depends on.",
    "text_attributions": "Token attributions on the token model.",
    "interaction_matrices": ("Exact (left) against estimated (right) pair interactions on the first explained row of "
                             "one interaction_agreement case per interaction family (boolean, polynomial, trees, "
                             "networks; from the case's recorded domain and forms), for the best-ranked explainer "
                             "of the interactions track that is not an exact oracle (named in the figure); the "
                             "truth is the exact index that explainer declares, in its game."),
}


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_report(directory: Path | str, *, plots: bool = True,
                 log: Callable[[str], None] | None = _stderr, jobs: int | None = None) -> dict[str, Any]:
    """Leaderboard, plots and ``report.html`` from an existing run in ``directory``; returns a summary.

    ``plots=False`` keeps the PNGs already in ``plots/`` (only the HTML and leaderboard are rebuilt: what a paper
    reproduction needs). ``log`` receives one line per step, then the elapsed time, the top of each track and the
    path of ``report.html`` (``None``: silent). ``jobs``: processes drawing the plots (``None``: ``PLOT_JOBS``; 1:
    serially, in this process). The summary has ``seconds``, ``report`` and ``top``."""
    start = time.perf_counter()
    say = log or (lambda _m: None)
    directory = Path(directory)
    if not (directory / "scores.csv").exists():
        raise FileNotFoundError(f"no scores.csv in {directory}; run `xaicheck run --out {directory}` first")
    verified = verify_run(directory)  # every file read below, against provenance.json (one line if it differs)
    provenance = read_provenance(directory)
    facts = run_facts_from(provenance, directory / "provenance.json")  # an old format is refused before any output
    metrics = load_metrics(directory)  # DIR/metrics/ verified against its own provenance (None: no such folder)
    say(f"report: {verified.line()}")
    if metrics is not None:
        say(f"report: {metrics.verified.line()}")
    say(f"report: reading {directory / 'scores.csv'}")
    records = read_records(directory, verify=False)  # verified above
    facts.require({r.case_id for r in records}, directory / "provenance.json")
    meta = with_feature_limits(facts.explainers)
    case_info = facts.case_info()
    say(f"report: scoring {len(records)} cells on {len(facts.cases)} recorded cases (tracks, bootstrap rank "
        "intervals)")
    scores = compute_scores(records, meta=meta, provenance_checks=facts.checks, case_info=case_info)
    rows = write_leaderboard(scores, meta, directory, case_info=case_info, appendix=metrics_markdown(metrics))
    say(f"report: wrote {directory / 'leaderboard.md'}")
    plot_dir = directory / "plots"
    if plots:
        say(f"report: drawing plots into {plot_dir}")
        plot_status = make_plots(records, scores, plot_dir, facts.cases, log=say, jobs=PLOT_JOBS if jobs is None else jobs)
    else:
        plot_status = {name: ("ok" if (plot_dir / f"{name}.png").exists() else "not drawn (kept from the last build)")
                       for name in PLOTS}
    text = render_html(scores, records, provenance, rows, plot_dir, plot_status,
                       papers=sorted((directory / "papers").glob("*.md")) if (directory / "papers").is_dir() else [],
                       history=read_history(directory), meta=meta, case_info=case_info,
                       metrics=metrics_html(metrics))
    report = directory / "report.html"
    atomic_write_text(report, text)
    seconds = time.perf_counter() - start
    top = {t.track.name: t.top() for t in scores.tracks}
    say(f"report: built in {seconds:.1f} s")
    for use in recommend(scores, meta, case_info):
        say("  " + terminal_line(use))
    say(f"report: {report}")
    return {"explainers": len(rows), "cells": len(records), "plots": dict(plot_status), "seconds": seconds,
            "report": str(report), "top": top}


def refresh_report(directory: Path | str, *, log: Callable[[str], None] | None = _stderr) -> dict[str, Any]:
    """Rebuild ``report.html`` and the leaderboard without redrawing plots (after ``xaicheck reproduce``)."""
    return build_report(directory, plots=False, log=log)


# ------------------------------------------------------------------------------------------------ rendering
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
                papers: list[Path] | None = None, history: list[Mapping[str, Any]] | None = None,
                meta: Mapping[str, Mapping[str, Any]] | None = None,
                case_info: Mapping[str, Any] | None = None, metrics: str = "") -> str:
    """The report as one HTML string (see the module docstring). ``meta``: the explainers' ``describe()`` records
    (default: the provenance's); ``case_info``: the cases' facts (for the largest d per use and why a use is
    missing); ``metrics``: the metric-validity section (``report_metrics.metrics_html``; empty: none)."""
    meta = provenance.get("explainers", {}) if meta is None else meta
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
        "LEADERBOARD": boards_html(scores, rows),
        "TRUST": trust_html(scores, meta, case_info),
        "RULE": _e(aggregation_rule()),
        "TRACKS": tracks_html(scores, meta),
        "PANEL": panel_html(scores, meta),
        "ROLES": roles_html(scores),
        "GROUP_RULE": _e(group_rule(scores.min_coverage)),
        "NONDISC": (", ".join(f"<code>{_e(c)}</code>" for c in scores.non_discriminating) or "none"),
        "PLOTS": _plots(plot_dir, plot_status),
        "CHECKS": _checks(scores, records, provenance),
        "BOUNDARY": boundary_html(records),
        "PAPERS": f"<ul>{paper_links}</ul>" if paper_links else "<p>No paper reproductions in this directory.</p>",
        "PROVENANCE": _provenance(provenance),
        "HISTORY": _history(history or []),
        "METRICS": metrics,
        "DATA": json.dumps({"categories": scores.categories_present}).replace("</", "<\\/"),
    }
    return fill_template(template, fill)


_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


def fill_template(template: str, fill: Mapping[str, str]) -> str:
    """Substitute every ``{{KEY}}`` of ``template`` in one pass: text that a value brings in (an explainer named
    ``x{{PLOTS}}``) is never substituted again. An unknown key is an error."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) not in fill:
            raise KeyError(f"template placeholder {{{{{m.group(1)}}}}} has no value")
        return fill[m.group(1)]

    return _PLACEHOLDER.sub(one, template)
