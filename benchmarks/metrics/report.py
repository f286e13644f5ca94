"""The markdown section and the plot of ``metric_validity.csv`` (deterministic: no timings, no metadata)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

__all__ = ["write_markdown", "write_plot"]


def _label(r: dict[str, str]) -> str:
    return r["metric"] + (f" [{r['variant']}]" if r["variant"] and r["variant"] != "default" else "")


def _interval(r: dict[str, str]) -> str:
    return f"{r['tau']} [{r['tau_lo']}, {r['tau_hi']}]" if r.get("tau") else "n/a"


def write_markdown(path: Path, rows: Sequence[dict[str, str]], *, suite: str, seed: int, n_boot: int,
                   cases: Sequence[Any], explainers: Sequence[Any], not_run: Sequence[tuple[str, str]]) -> None:
    lines = [
        "## Which evaluation metric to trust: truth-free metrics judged against exact truth",
        "",
        f"Suite `{suite}`, seed {seed}: {len(cases)} cases with exact Shapley values "
        f"({', '.join(c.name for c in cases)}); {len(explainers)} explainers (real methods and degenerate controls; "
        "each track runs its own panel). Images are judged patch by patch (the pixel map summed per declared patch "
        "against exact patch Shapley), the metrics see pixels with blocks of d/16 pixels as the removal unit; text: "
        "token ids with [PAD] as the baseline; trees: their tabular inputs through the numpy predict. "
        "Track `interactions` is not applicable: its explainers return interaction indices, not attributions. "
        f"τ: Kendall's τ_b between the explainer ranking a metric gives (mean rank over cases) and the ranking by "
        f"agreement with the exact attribution, over the real methods; 95% interval over {n_boot} bootstrap "
        "resamples of the cases. Controls: every degenerate control ranked below every real method. "
        "Invariance: mean per-case τ between explainer orderings before and after f → 2.5 f − 0.7 "
        "(attributions scaled with it) and a feature permutation.",
        "",
    ]
    for track in dict.fromkeys(r["track"] for r in rows):
        sub = [r for r in rows if r["track"] == track]
        lines += [f"### Track `{track}`", "",
                  "| metric | library | τ [95% CI] | verdict | controls below | pairs ok | τ affine | τ permuted |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in sub:
            lines.append(f"| {_label(r)} | {r['library']} | {_interval(r)} | {r['verdict']} | "
                         f"{r['controls_below_all']} | {r['control_pairs_correct']} | {r['tau_affine']} | "
                         f"{r['tau_permuted']} |")
        good = [_label(r) for r in sub if r["verdict"] == "tracks the truth" and r["metric"] != "exact_truth"]
        bad = [_label(r) for r in sub if r["verdict"] == "does not track the truth here"]
        fail = [_label(r) for r in sub if r["controls_below_all"] == "no" and r["metric"] != "exact_truth"]
        na = sorted({f"{_label(r)} ({r['not_applicable_reason']})" for r in sub if r["verdict"] == "not applicable"})
        lines += ["", f"- Tracks the truth (interval above 0): {', '.join(good) or 'none'}.",
                  f"- Does not track the truth here (interval includes 0 or lies below): {', '.join(bad) or 'none'}.",
                  f"- Fails the control test: {', '.join(fail) or 'none'}."]
        lines += ([f"- Not applicable on this track: {'; '.join(na)}."] if na else []) + [""]
    if not_run:
        lines += ["Not run on these cases: " + "; ".join(f"`{k}`: {v}" for k, v in not_run) + ".", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plot(path: Path, rows: Sequence[dict[str, str]]) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    tracks = list(dict.fromkeys(r["track"] for r in rows))
    labels = list(dict.fromkeys(_label(r) for r in rows))
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(labels) + 1.5))
    for t, track in enumerate(tracks):
        for r in rows:
            if r["track"] != track or not r["tau"]:
                continue
            y = labels.index(_label(r)) + (t - (len(tracks) - 1) / 2) * 0.25
            tau, lo, hi = float(r["tau"]), float(r["tau_lo"]), float(r["tau_hi"])
            ax.errorbar(tau, y, xerr=[[tau - lo], [hi - tau]], fmt="o", ms=3, color=f"C{t}",
                        label=track if r is next(x for x in rows if x["track"] == track and x["tau"]) else None)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("Kendall τ with the exact-truth ranking (95% bootstrap interval over cases)")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
