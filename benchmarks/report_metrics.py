"""The report's section on truth-free evaluation metrics, from a verified ``DIR/metrics/`` (``xaicheck metrics``).

:func:`load_metrics` returns ``None`` when ``DIR/metrics`` does not exist (the report is then byte-identical to one
without this section); otherwise it first verifies the folder against its own ``provenance.json``
(``metrics.provenance.verify_metrics``: a tampered or unrecorded file is refused with one line) and reads
``metric_validity.csv``, ``metric_cost.csv`` (when present) and ``metric_validity.png``.

Per track and metric setting the section shows Kendall's τ_b between the explainer ranking the metric gives and the
exact-truth ranking with its 95% bootstrap interval over cases, the verdict (``tracks the truth``: the interval's
lower end is above 0; ``does not track the truth here``: the interval includes 0 or lies below it), the control
test (every degenerate control ranked below every real method; the fraction of (control, real) pairs so ordered),
the invariance of the metric's verdict under ``f -> a f + c`` and a feature permutation (mean per-case τ before and
after; 1 = unmoved), the cells it could not score (NaN, ranked last), explainer calls and seconds per cell; then
the metrics that do not track the truth, per track.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .errors import RecordError
from .escaping import md_escape
from .metrics.provenance import VerifiedMetrics, verify_metrics
from .report_tables import esc

__all__ = ["MetricsSection", "load_metrics", "metrics_html", "metrics_markdown", "NOT_TRACKING"]

NOT_TRACKING = "does not track the truth here"
_NOTE = ("Truth-free evaluation metrics (Quantus, captum, OpenXAI) judged against exact truth. τ: Kendall's τ_b "
         "between the explainer ranking the metric gives (mean rank over cases) and the ranking by agreement with "
         "the exact Shapley attribution, over the real methods of the track; [lo, hi]: 95% bootstrap interval over "
         "cases. A metric tracks the truth when lo > 0; it does not track the truth here when the interval "
         "includes 0 or lies below it. Controls: every degenerate control ranked below every real method (yes/no) "
         "and the fraction of (control, real) pairs so ordered. τ affine / τ permuted: mean per-case τ between "
         "the metric's explainer orderings before and after f → a·f + c and a feature permutation (1 = the verdict "
         "does not move). NaN cells: cells of the track the metric could not score; they are left out of that case's "
         "ranking (not ranked last), and the other methods' ranks on the case are scaled to [0, 1]. s / cell: seconds per (explainer, case) cell on the "
         "machine that ran it.")


@dataclass(frozen=True)
class MetricsSection:
    rows: tuple[dict[str, str], ...]
    seconds: dict[tuple[str, str], str]
    png: bytes | None
    verified: VerifiedMetrics

    @property
    def tracks(self) -> list[str]:
        return list(dict.fromkeys(r["track"] for r in self.rows))


def _csv(path: Path) -> list[dict[str, str]]:
    try:
        return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RecordError(f"{path}: cannot read: {type(exc).__name__}") from None


def load_metrics(directory: Path) -> MetricsSection | None:
    """The verified metrics of run folder ``directory`` (``None``: it has no ``metrics/``)."""
    folder = Path(directory) / "metrics"
    if not folder.exists() and not folder.is_symlink():
        return None
    verified = verify_metrics(folder)
    rows = _csv(folder / "metric_validity.csv")
    need = {"track", "metric", "variant", "tau", "tau_lo", "tau_hi", "verdict", "controls_below_all",
            "control_pairs_correct", "tau_affine", "tau_permuted", "explainer_calls_per_cell"}
    if rows and not need <= set(rows[0]):
        raise RecordError(f"{folder / 'metric_validity.csv'}: missing column(s) {sorted(need - set(rows[0]))}")
    seconds = {}
    if "metric_cost.csv" in verified.files:
        seconds = {(r["metric"], r["variant"]): r["seconds_per_cell"] for r in _csv(folder / "metric_cost.csv")}
    png = (folder / "metric_validity.png").read_bytes() if "metric_validity.png" in verified.files else None
    return MetricsSection(tuple(rows), seconds, png, verified)


def _label(r: dict[str, str]) -> str:
    return r["metric"] + (f" [{r['variant']}]" if r.get("variant") and r["variant"] != "default" else "")


def _tau(r: dict[str, str]) -> str:
    return f"{r['tau']} [{r['tau_lo']}, {r['tau_hi']}]" if r.get("tau") else "n/a"


def _controls(r: dict[str, str]) -> str:
    if not r.get("controls_below_all"):
        return "n/a"
    return f"{r['controls_below_all']} ({r['control_pairs_correct'] or 'n/a'})"


def _cells(s: MetricsSection, r: dict[str, str]) -> list[str]:
    sec = "0" if r["metric"] == "exact_truth" else s.seconds.get((r["metric"], r.get("variant", "")), "n/a")
    return [_label(r), r.get("library", ""), _tau(r), r["verdict"], _controls(r), r["tau_affine"] or "n/a",
            r["tau_permuted"] or "n/a", r.get("nan_cells") or "n/a", r["explainer_calls_per_cell"] or "n/a", sec]


_HEADS = ["metric", "library", "τ [95% CI]", "verdict", "controls below all (pairs ok)", "τ affine", "τ permuted",
          "NaN cells", "calls / cell", "s / cell"]


def _not_tracking(s: MetricsSection, track: str) -> list[str]:
    return [_label(r) for r in s.rows if r["track"] == track and r["verdict"] == NOT_TRACKING]


def _origin(s: MetricsSection) -> str:
    rec = s.verified.record
    return (f"suite {rec.get('suite')}, seed {rec.get('seed')}, {rec.get('n_boot')} bootstrap replicates, "
            f"{len(rec.get('metrics') or [])} metrics in {rec.get('settings')} settings; {s.verified.origin}")


def metrics_html(s: MetricsSection | None) -> str:
    """The HTML section (empty string without a metrics folder)."""
    if s is None:
        return ""
    parts = ['<h2 id="metrics-title">Which evaluation metric to trust</h2>', f'<p class="note">{esc(_NOTE)}</p>',
             f'<p class="note">From <code>metrics/</code>: {esc(_origin(s))}.</p>']
    if s.png is not None:
        data = base64.b64encode(s.png).decode("ascii")
        parts.append(f'<figure id="plot-metric-validity"><img alt="metric validity" src="data:image/png;base64,'
                     f'{data}"><figcaption><b>metric validity</b> — τ with the exact-truth ranking and its 95% '
                     'interval, per metric and track (<a href="metrics/metric_validity.png">PNG</a>).'
                     '</figcaption></figure>')
    for track in s.tracks:
        bad = _not_tracking(s, track)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _cells(s, r)) + "</tr>"
                       for r in s.rows if r["track"] == track)
        parts.append(f'<h3 class="group">Track <code>{esc(track)}</code></h3>'
                     f'<p class="note"><b>Does not track the truth here</b> ({len(bad)}): '
                     f'{esc(", ".join(bad)) or "none"}.</p>'
                     '<div class="scroll"><table class="fail metrics"><thead><tr>'
                     + "".join(f"<th>{esc(h)}</th>" for h in _HEADS) + f"</tr></thead><tbody>{body}</tbody>"
                     "</table></div>")
    return "\n".join(parts) + "\n"


def metrics_markdown(s: MetricsSection | None) -> list[str]:
    """The leaderboard's markdown lines (none without a metrics folder)."""
    if s is None:
        return []
    lines = ["", "## Which evaluation metric to trust (truth-free metrics against exact truth)", "", _NOTE, "",
             f"From `metrics/`: {md_escape(_origin(s))}. Plot: [metrics/metric_validity.png]"
             "(metrics/metric_validity.png).", ""]
    for track in s.tracks:
        bad = _not_tracking(s, track)
        lines += [f"### Track `{track}`", "", "| " + " | ".join(_HEADS) + " |", "|" + "---|" * len(_HEADS)]
        lines += ["| " + " | ".join(md_escape(c) for c in _cells(s, r)) + " |" for r in s.rows if r["track"] == track]
        lines += ["", f"Does not track the truth here ({len(bad)}): " + (", ".join(md_escape(b) for b in bad)
                                                                      or "none") + ".", ""]
    return lines
