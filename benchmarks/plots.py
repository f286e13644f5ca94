"""Deterministic PNG plots of a scored run (matplotlib Agg, fixed size/dpi, no timestamp/software metadata).

``heatmap.png`` explainers x checks; ``categories.png`` category scores; ``pareto.png`` overall vs seconds per cell
with the front highlighted; ``baseline_sensitivity.png`` attributions per baseline (``per_baseline`` evidence);
``agreement.png`` mean pairwise Spearman correlation between explainers' ``attributions`` on shared cases;
``image_attributions.png`` attribution maps on the ``image_patch`` model with the true patch outlined;
``text_attributions.png`` tokens coloured by attribution (red = pushes the output up, blue = down);
``interaction_matrices.png`` the exact against the estimated pair-interaction matrix of one case per interaction
family (``interaction_agreement`` evidence), for the best-ranked non-oracle interaction explainer.
A plot without data is skipped and the reason returned, never faked. The image and text plots read what they need
of a case (input shape, mask, tokens, first row) from the facts the run recorded (``case_facts.CaseFacts``).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from xaicheck.axioms.base import CATEGORIES

from .case_facts import CaseFacts
from .records import CellRecord
from .safe_io import atomic_write_bytes
from .scoring import Scores

__all__ = ["PLOTS", "make_plots", "agreement_matrix", "interaction_family", "matrix_explainer"]

DPI = 110


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "xaicheck", "font.size": 9, "axes.titlesize": 11,
                         "figure.facecolor": "white", "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _save(fig: Any, path: Path) -> None:
    """The figure as PNG bytes, written to a new inode (``safe_io.atomic_write_bytes``: never through a link)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.15)
    _plt().close(fig)
    atomic_write_bytes(Path(path), buf.getvalue())


def _short(name: str, n: int = 28) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def heatmap(scores: Scores, path: Path) -> str | None:
    chk = scores.checks
    if chk.empty:
        return "no scored cells"
    plt = _plt()
    exps = list(scores.explainers["explainer"])
    order = chk[["category", "check"]].drop_duplicates()
    order["_c"] = order["category"].map(lambda c: CATEGORIES.index(c) if c in CATEGORIES else len(CATEGORIES))
    checks = list(order.sort_values(["_c", "check"])["check"])
    M = np.full((len(exps), len(checks)), np.nan)
    for r in chk.itertuples():
        M[exps.index(r.explainer), checks.index(r.check)] = r.score
    fig, ax = plt.subplots(figsize=(1.6 + 0.62 * len(checks), 1.2 + 0.32 * len(exps)))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#dddddd")
    im = ax.imshow(np.ma.masked_invalid(M), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    nd = set(scores.non_discriminating)
    ax.set_xticks(range(len(checks)), [_short(c, 30) + (" *" if c in nd else "") for c in checks], rotation=45,
                  ha="right")
    for tick, c in zip(ax.get_xticklabels(), checks):
        if c in nd:
            tick.set_color("#6b6b6b")
            tick.set_style("italic")
    cats = [chk.loc[chk["check"] == c, "category"].iloc[0] for c in checks]
    start = 0
    for j in range(1, len(checks) + 1):  # category bands: separator lines and a label above each group
        if j == len(checks) or cats[j] != cats[start]:
            if j < len(checks):
                ax.axvline(j - 0.5, color="white", lw=3)
            ax.text((start + j - 1) / 2, -0.6, cats[start].replace("_", " "), ha="center", va="bottom",
                    fontsize=8, weight="bold", color="#333333")
            start = j
    ax.set_yticks(range(len(exps)), exps)
    note = _mark_unranked_rows(ax, scores)
    for i in range(len(exps)):
        for j in range(len(checks)):
            if np.isfinite(M[i, j]):
                ax.text(j, i, f"{M[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if 0.25 < M[i, j] < 0.85 else "white")
    ax.set_title("Check score per explainer (grey = not applicable / no ok cell)"
                 + (f"\n{note}" if note else "")
                 + ("\n* non-discriminating check: the random control passes it" if nd & set(checks) else ""),
                 pad=26)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="score")
    _save(fig, path)
    return None


def _n_ranked(scores: Scores) -> int:
    """Rows of the first group (broad coverage); the rows below it are specialists, controls, unscored."""
    groups = scores.explainers.get("group")
    return len(scores.explainers) if groups is None else int((groups == "broad").sum())


def _mark_unranked_rows(ax: Any, scores: Scores, labels: bool = True) -> str:
    """A rule under the last ranked row (rows are in leaderboard order); the names below it in grey italics.

    Returns the note to put in the title ("" when every row is ranked)."""
    k, n = _n_ranked(scores), len(scores.explainers)
    if not 0 < k < n:
        return ""
    ax.axhline(k - 0.5, color="#222222", lw=1.6)
    if labels:
        for tick in ax.get_yticklabels()[k:]:
            tick.set_color("#6b6b6b")
            tick.set_style("italic")
    return (f"below the rule, in italics: specialists (coverage < {scores.min_coverage:g}), controls and "
            "explainers with no ok cell")


def categories(scores: Scores, path: Path) -> str | None:
    table, cats = scores.explainers, scores.categories_present
    if table.empty or not cats:
        return "no scored cells"
    plt = _plt()
    exps = list(table["explainer"])
    n, k = len(exps), len(cats)
    fig, axes = plt.subplots(1, k, figsize=(1.6 + 2.1 * k, 1.2 + 0.24 * n), sharey=True, squeeze=False)
    colors = plt.get_cmap("tab10").colors
    ys = np.arange(n)
    for j, (ax, cat) in enumerate(zip(axes[0], cats)):
        vals = table[cat].to_numpy(float)
        ax.barh(ys, np.nan_to_num(vals), height=0.72, color=colors[j % 10])
        for y in ys[~np.isfinite(vals)]:
            ax.text(0.02, y, "n/a", va="center", fontsize=7, color="#8a8a8a", style="italic")
        for y in ys[np.isfinite(vals) & (vals < 0.02)]:
            ax.text(0.02, y, f"{vals[y]:.2f}", va="center", fontsize=7, color="#333333")
        note = _mark_unranked_rows(ax, scores, labels=False)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
        ax.set_title(cat.replace("_", " "), fontsize=10, color=colors[j % 10], weight="bold")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(ys, exps)
    axes[0][0].set_ylim(n - 0.5, -0.5)
    _mark_unranked_rows(axes[0][0], scores)
    fig.suptitle("Category scores (rows in leaderboard order; n/a = no applicable check in the category)"
                 + (f"\n{note}" if note else ""), fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    _save(fig, path)
    return None


def _label_points(fig: Any, ax: Any, names: list[str], xs: np.ndarray, ys: np.ndarray, front: np.ndarray,
                  specialist: np.ndarray | None = None) -> None:
    """Label points without overlapping each other or any point: front first, then by score; a label that fits
    nowhere is left out (and counted in a note)."""
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    placed: list[Any] = [_point_box(x, y) for x, y in pts]
    specialist = np.zeros(len(names), bool) if specialist is None else specialist
    offsets = [((5, 3), "left", "bottom"), ((5, -3), "left", "top"), ((-5, 3), "right", "bottom"),
               ((-5, -3), "right", "top"), ((0, 6), "center", "bottom"), ((0, -6), "center", "top")]
    order = sorted(range(len(names)), key=lambda i: (not front[i], -ys[i], names[i]))
    hidden = 0
    for i in order:
        for off, ha, va in offsets:
            color = "#a01010" if front[i] else ("#1f5f9a" if specialist[i] else "#333333")
            t = ax.annotate(_short(names[i], 26), (xs[i], ys[i]), xytext=off, textcoords="offset points",
                            fontsize=7, ha=ha, va=va, color=color, style="italic" if specialist[i] else "normal")
            box = t.get_window_extent(renderer).expanded(1.04, 1.1)
            if not any(box.overlaps(p) for p in placed):
                placed.append(box)
                break
            t.remove()
        else:
            hidden += 1
    if hidden:
        ax.text(0.01, 0.01, f"{hidden} labels omitted where points crowd (see leaderboard)", transform=ax.transAxes,
                fontsize=7, color="#777777")


def _point_box(x: float, y: float, r: float = 3.5) -> Any:
    from matplotlib.transforms import Bbox

    return Bbox([[x - r, y - r], [x + r, y + r]])


def pareto(scores: Scores, path: Path) -> str | None:
    t = scores.explainers.dropna(subset=["overall", "seconds_per_cell"])
    if t.empty:
        return "no explainer with both a score and a time"
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 6.5))
    ranked = (t["group"] == "broad").to_numpy(bool) if "group" in t else np.ones(len(t), bool)
    secs = np.maximum(t["seconds_per_cell"].to_numpy(float), 1e-4)
    overall = t["overall"].to_numpy(float)
    front = t["pareto"].to_numpy(bool) & ranked
    dominated = ranked & ~front
    ax.scatter(secs[dominated], overall[dominated], c="#7a7a7a", s=28, label="broad coverage, dominated", zorder=2)
    ax.scatter(secs[front], overall[front], c="#d62728", s=46, label="broad coverage, on the Pareto front",
               zorder=3)
    if (~ranked).any():
        ax.scatter(secs[~ranked], overall[~ranked], facecolors="none", edgecolors="#1f77b4", s=34, lw=1.2,
                   label=f"specialist (coverage < {scores.min_coverage:g}) or control", zorder=2)
    order = np.argsort(secs[front])
    ax.step(secs[front][order], overall[front][order], where="post", color="#d62728", alpha=0.5, lw=1.2, zorder=1)
    ax.set_xscale("log")
    ax.margins(x=0.12)
    ax.set_ylim(min(0.0, float(np.nanmin(overall)) - 0.05), 1.05)
    names = list(t["explainer"])
    _label_points(fig, ax, names, secs, overall, front, specialist=~ranked)
    ax.set_xlabel("mean seconds per applicable cell (log scale)")
    ax.set_ylabel("overall score")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Score vs cost on each explainer's own cells (Compare-xAI style Pareto front, broad coverage)")
    ax.grid(alpha=0.3)
    _save(fig, path)
    return None


def _first_by_explainer(records: list[CellRecord], check: str | None, key: str,
                        case_filter: Callable[[str], bool] = lambda cid: True) -> dict[str, CellRecord]:
    """For each explainer, the first (by cell id) cell of ``check`` whose evidence has ``key``."""
    out: dict[str, CellRecord] = {}
    for r in sorted(records, key=lambda r: r.cell_id):
        if (check is None or r.check == check) and r.evidence.get(key) and case_filter(r.case_id):
            out.setdefault(r.explainer, r)
    return out


def baseline_sensitivity(records: list[CellRecord], path: Path) -> str | None:
    cells = _first_by_explainer(records, "baseline_sensitivity", "per_baseline")
    if not cells:
        return "no baseline_sensitivity cell with per_baseline evidence"
    case_id = sorted({r.case_id for r in cells.values()})[0]
    cells = {e: r for e, r in cells.items() if r.case_id == case_id}
    plt = _plt()
    names = sorted(cells)
    ncol = min(4, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow + 0.6), squeeze=False)
    colors = plt.get_cmap("tab10").colors
    baselines = sorted({b for r in cells.values() for b in r.evidence["per_baseline"]})
    for ax, name in zip(axes.flat, names):
        per = cells[name].evidence["per_baseline"]
        d = len(next(iter(per.values()))[0])
        w = 0.8 / max(len(baselines), 1)
        for j, b in enumerate(baselines):
            if b in per:
                ax.bar(np.arange(d) - 0.4 + w * (j + 0.5), per[b][0], width=w, color=colors[j % 10], label=b)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(_short(name, 26), fontsize=9)
        ax.set_xticks(range(d), [f"x{i}" for i in range(d)] if d <= 12 else [""] * d, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(baselines), 6), frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(f"Attributions of the first input under each baseline — {case_id}", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    _save(fig, path)
    return None


def _row_ranks(A: np.ndarray) -> np.ndarray:
    """Average ranks (1..m, ties share their mean rank) of each row of ``A`` [k, m], vectorised over rows."""
    k, m = A.shape
    order = np.argsort(A, axis=1, kind="mergesort")
    sorted_vals = np.take_along_axis(A, order, axis=1)
    new = np.ones((k, m), dtype=bool)
    new[:, 1:] = sorted_vals[:, 1:] != sorted_vals[:, :-1]
    group = np.cumsum(new, axis=1) - 1  # tie-group index of each sorted position
    pos = np.broadcast_to(np.arange(1, m + 1, dtype=np.float64), (k, m))
    offset = (np.arange(k) * m)[:, None]
    flat = (group + offset).ravel()
    sums = np.bincount(flat, weights=pos.ravel(), minlength=k * m)
    counts = np.bincount(flat, minlength=k * m)
    avg = (sums / np.maximum(counts, 1))[flat].reshape(k, m)
    ranks = np.empty((k, m))
    np.put_along_axis(ranks, order, avg, axis=1)
    return ranks


def _spearman_matrix(A: np.ndarray) -> np.ndarray:
    """Spearman correlation between every pair of rows of ``A`` [k, m]; NaN where a row's ranks are constant."""
    R = _row_ranks(A)
    R -= R.mean(axis=1, keepdims=True)
    norm = np.sqrt((R * R).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (R @ R.T) / np.outer(norm, norm)
    C[(norm == 0)[:, None] | (norm == 0)[None, :]] = np.nan
    return np.clip(C, -1.0, 1.0)


def agreement_matrix(records: list[CellRecord]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Mean Spearman correlation between explainers' ``attributions`` over shared cases (lowest seed each).

    Returns (names, mean matrix, count matrix). Pairs with no shared case with comparable shapes are NaN.
    Vectorised per case and shape: one rank pass and one matrix product per case instead of a call per pair.
    """
    per: dict[str, dict[str, np.ndarray]] = {}
    for r in sorted(records, key=lambda r: (r.seed, r.cell_id)):
        att = r.evidence.get("attributions") if r.status == "ok" else None
        if att:
            per.setdefault(r.explainer, {}).setdefault(r.case_id, np.asarray(att, dtype=float))
    names = sorted(per)
    index = {n: i for i, n in enumerate(names)}
    n = len(names)
    S, C = np.zeros((n, n)), np.zeros((n, n), dtype=int)
    by_case: dict[tuple[str, tuple[int, ...]], list[tuple[int, np.ndarray]]] = {}
    for name in names:
        for case, x in per[name].items():
            by_case.setdefault((case, x.shape), []).append((index[name], x.ravel()))
    for (_, _), members in sorted(by_case.items()):
        idx = np.array([i for i, _ in members])
        rho = _spearman_matrix(np.stack([x for _, x in members]))
        good = np.isfinite(rho)
        S[np.ix_(idx, idx)] += np.where(good, rho, 0.0)
        C[np.ix_(idx, idx)] += good
    with np.errstate(invalid="ignore", divide="ignore"):
        M = np.where(C > 0, S / np.maximum(C, 1), np.nan)
    return names, M, C


def _cluster_order(M: np.ndarray) -> list[int]:
    """Indices ordered so that explainers that agree sit together (average-linkage on 1 - rho; NaN = no signal)."""
    n = len(M)
    if n < 3:
        return list(range(n))
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    D = 1.0 - np.nan_to_num((M + M.T) / 2.0, nan=0.0)
    np.fill_diagonal(D, 0.0)
    return [int(i) for i in leaves_list(linkage(squareform(np.clip(D, 0.0, 2.0), checks=False), "average"))]


def agreement(records: list[CellRecord], path: Path) -> str | None:
    names, M, _ = agreement_matrix(records)
    off = M.copy()
    np.fill_diagonal(off, np.nan)
    keep = [i for i in range(len(names)) if np.isfinite(off[i]).any()]
    dropped = [names[i] for i in range(len(names)) if i not in keep]
    if len(keep) < 2:
        return "fewer than two explainers with attributions evidence"
    M = M[np.ix_(keep, keep)]
    order = _cluster_order(M)
    names, M = [names[keep[i]] for i in order], M[np.ix_(order, order)]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(2 + 0.36 * len(names), 1.6 + 0.34 * len(names)))
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#c8c8c8")
    im = ax.imshow(np.ma.masked_invalid(M), cmap=cmap, vmin=-1, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
    ax.set_yticks(range(len(names)), names)
    if len(names) <= 16:
        for i in range(len(names)):
            for j in range(len(names)):
                if np.isfinite(M[i, j]):
                    ax.text(j, i, f"{M[i, j]:.1f}", ha="center", va="center", fontsize=6,
                            color="white" if abs(M[i, j]) > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="mean Spearman ρ")
    title = "Pairwise agreement of attributions on shared cases (clustered; grey = no shared case)"
    if dropped:
        title += "\nleft out (constant attributions, ρ undefined): " + ", ".join(dropped)
    ax.set_title(title)
    _save(fig, path)
    return None


def _outline(ax: Any, m: np.ndarray) -> None:
    """Draw the pixel-exact boundary of the boolean mask ``m`` (edges between mask and non-mask pixels), black on a
    white halo so it shows on any colour."""
    from matplotlib.collections import LineCollection

    h, w = m.shape
    pad = np.pad(m, 1)
    segments = []
    for i in range(h):
        for j in range(w):
            if not m[i, j]:
                continue
            for di, dj, xs, ys in ((-1, 0, (j - .5, j + .5), (i - .5, i - .5)), (1, 0, (j - .5, j + .5), (i + .5, i + .5)),
                                   (0, -1, (j - .5, j - .5), (i - .5, i + .5)), (0, 1, (j + .5, j + .5), (i - .5, i + .5))):
                if not pad[i + 1 + di, j + 1 + dj]:
                    segments.append(list(zip(xs, ys)))
    for color, lw in (("white", 4.0), ("#111111", 1.8)):
        ax.add_collection(LineCollection(segments, colors=color, linewidths=lw, capstyle="projecting"))


def image_attributions(records: list[CellRecord], path: Path, facts: Mapping[str, CaseFacts]) -> str | None:
    def is_image(cid: str) -> bool:
        f = facts.get(cid)
        return f is not None and f.domain == "image" and f.input_shape is not None

    cells = _first_by_explainer(records, "localisation", "attributions", is_image)
    if not cells:
        return "no localisation cell with attributions on an image model"
    plt = _plt()
    names = sorted(cells)
    fact = facts[cells[names[0]].case_id]
    shape = tuple(fact.input_shape[-2:])
    mask = None
    if fact.mask is not None:
        mask = np.zeros(int(np.prod(shape)), dtype=bool)
        mask[list(fact.mask)] = True
    ncol = min(6, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.1 * ncol, 2.35 * nrow + 0.4), squeeze=False)
    for ax, name in zip(axes.flat, names):
        a = np.asarray(cells[name].evidence["attributions"][0], dtype=float).reshape(shape)
        v = max(float(np.abs(a).max()), 1e-12)
        ax.imshow(a, cmap="RdBu_r", vmin=-v, vmax=v)
        if float(np.abs(a).max()) == 0.0:
            ax.text(0.5, 0.06, "all zero", transform=ax.transAxes, ha="center", fontsize=7, color="#555555")
        if mask is not None:
            _outline(ax, np.asarray(mask, dtype=bool).reshape(shape))
        for side in ax.spines.values():
            side.set_visible(True)
            side.set_color("#999999")
        ax.set_title(_short(name, 24), fontsize=7.5)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle("Attribution maps of the first input (red +, blue −; each map scaled to its own max |a|); "
                 "outline = the patch the output depends on", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    _save(fig, path)
    return None


def text_attributions(records: list[CellRecord], path: Path, facts: Mapping[str, CaseFacts]) -> str | None:
    def is_text(cid: str) -> bool:
        f = facts.get(cid)
        return f is not None and f.domain == "tokens" and f.first_row is not None and f.feature_names is not None

    cells = _first_by_explainer(records, None, "attributions", is_text)
    if not cells:
        return "no cell with attributions on a token model"
    plt = _plt()
    names = sorted(cells)
    fact = facts[cells[names[0]].case_id]
    x0 = np.asarray(fact.first_row, dtype=float)
    present = [i for i in range(len(x0)) if x0[i] != 0] or list(range(min(12, len(x0))))
    present = present[:14]
    rows = [(name, np.asarray(cells[name].evidence["attributions"][0], dtype=float)) for name in names]
    truth = fact.token_weights
    if truth is not None:
        rows.insert(0, ("true weight × count", np.asarray(truth, dtype=float) * x0))
    fig, ax = plt.subplots(figsize=(2.2 + 0.95 * len(present), 0.6 + 0.32 * len(rows)))
    ax.set_xlim(0, len(present) + 1.9)
    ax.set_ylim(len(rows), -0.5)
    ax.axis("off")
    for row, (name, a) in enumerate(rows):
        v = max(float(np.abs(a[present]).max()), 1e-12)
        label = _short(name, 28) + (" (all zero)" if float(np.abs(a[present]).max()) == 0.0 else "")
        ax.text(0, row + 0.5, label, ha="left", va="center", fontsize=8,
                weight="bold" if name.startswith("true") else "normal")
        for k, i in enumerate(present):
            w = float(a[i]) / v
            color = (1, 1 - max(w, 0) * 0.8, 1 - max(w, 0) * 0.8) if w >= 0 else (1 + w * 0.8, 1 + w * 0.8, 1)
            ax.text(2.4 + k, row + 0.5, fact.feature_names[i], ha="center", va="center", fontsize=8,
                    color="white" if abs(w) > 0.65 else "black",
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": color, "edgecolor": "#bbbbbb", "lw": 0.5})
    ax.set_title("Token attributions on the first input (red = pushes up, blue = down; scaled per row)",
                 fontsize=10)
    _save(fig, path)
    return None


#: The structural family of an interaction case, read off its recorded facts (every interaction model records the
#: model family ``interactions``; the structure is what tells the exams apart): first match wins.
def interaction_family(fact: CaseFacts) -> str:
    """``trees`` (a fitted tree ensemble), ``networks`` (a torch model), ``boolean`` (binary inputs) or
    ``polynomial`` (the other continuous exams), from the case's recorded ``forms`` and ``domain``."""
    if "tree" in fact.forms:
        return "trees"
    if "torch" in fact.forms:
        return "networks"
    return "boolean" if fact.domain == "binary" else "polynomial"


FAMILY_ORDER: tuple[str, ...] = ("boolean", "polynomial", "trees", "networks")


def matrix_explainer(scores: Scores, records: list[CellRecord]) -> str | None:
    """The explainer the interaction-matrix plot shows: the best-ranked member of the ``interactions`` track that is
    not an oracle (an oracle's estimate is the truth), by (rank, -overall, name); without a ranked track, the
    non-oracle, non-control explainer with the highest mean ``interaction_agreement`` score (ties by name)."""
    table = scores.explainers
    family = dict(zip(table["explainer"], table["family"])) if "family" in table else {}
    for t in scores.tracks:
        if t.track.name != "interactions":
            continue
        r = t.ranked
        r = r[[family.get(e, "") != "oracle" for e in r["explainer"]]]
        if not r.empty:
            key = [(math.inf if pd.isna(k) else float(k), -float(o), str(e))
                   for k, o, e in zip(r["rank"], r["overall"], r["explainer"])]
            return min(key)[2]
    means: dict[str, list[float]] = {}
    for rec in records:
        if rec.check == "interaction_agreement" and rec.status == "ok" and rec.score is not None \
                and family.get(rec.explainer, "") not in ("oracle", "control"):
            means.setdefault(rec.explainer, []).append(float(rec.score))
    if not means:
        return None
    return min(means, key=lambda e: (-float(np.mean(means[e])), e))


def interaction_matrices(records: list[CellRecord], scores: Scores, path: Path,
                         facts: Mapping[str, CaseFacts]) -> str | None:
    """True against estimated pair matrices (``interaction_agreement`` evidence ``pair_true`` / ``pair_estimated``,
    first explained row, order-1 values on the diagonal), one row per interaction family (``interaction_family``;
    its first case by id), for the explainer ``matrix_explainer`` picks."""
    name = matrix_explainer(scores, records)
    if name is None:
        return "no interaction explainer with interaction_agreement cells"
    by_family: dict[str, CellRecord] = {}
    for rec in sorted(records, key=lambda r: (r.case_id, r.seed)):
        if (rec.explainer != name or rec.check != "interaction_agreement" or rec.status != "ok"
                or "pair_true" not in (rec.evidence or {}) or rec.case_id not in facts):
            continue
        by_family.setdefault(interaction_family(facts[rec.case_id]), rec)
    fams = [f for f in FAMILY_ORDER if f in by_family]
    if not fams:
        return f"no interaction_agreement cell of {name} with pair matrices (d <= 16, order >= 2)"
    plt = _plt()
    fig, axes = plt.subplots(len(fams), 2, figsize=(6.4, 3.0 * len(fams) + 0.5), squeeze=False)
    for row, fam in zip(axes, fams):
        rec = by_family[fam]
        T = np.asarray(rec.evidence["pair_true"], dtype=float)
        E = np.asarray(rec.evidence["pair_estimated"], dtype=float)
        off = ~np.eye(T.shape[0], dtype=bool)
        v = max(float(np.abs(T[off]).max()), float(np.abs(E[off]).max()), 1e-12)
        for ax, M, what in ((row[0], T, f"true {rec.evidence.get('index', '')}"), (row[1], E, _short(name, 26))):
            ax.imshow(np.ma.masked_array(M, mask=~off), cmap=plt.get_cmap("RdBu_r").with_extremes(bad="#dddddd"),
                      vmin=-v, vmax=v)
            ax.set_title(f"{fam}: {rec.case}\n{what} (±{v:.3g})", fontsize=8)
            ax.set_xticks(range(M.shape[0]))
            ax.set_yticks(range(M.shape[0]))
            ax.tick_params(labelsize=6)
            for side in ax.spines.values():
                side.set_visible(True)
                side.set_color("#999999")
    fig.suptitle(f"Pair interactions on the first explained row: exact (left) vs {name} (right)\n"
                 "red +, blue −, one scale per row; diagonal (order-1 values) greyed", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    _save(fig, path)
    return None


PLOTS: tuple[str, ...] = ("heatmap", "categories", "pareto", "baseline_sensitivity", "agreement",
                          "image_attributions", "text_attributions", "interaction_matrices")


#: Seconds each plot took on the quick suite (2 cores): the order in which parallel workers pick them up, longest
#: first, so the last plot to start is a short one.
_COST_ORDER = ("heatmap", "image_attributions", "baseline_sensitivity", "agreement", "interaction_matrices",
               "categories", "pareto", "text_attributions")
def _draw_one(draw: Callable[[Path], str | None], path: Path) -> tuple[str, float]:
    """Draw one plot into ``path`` with ``draw``: ``("ok" | reason it was skipped or failed, seconds)``; no partial
    file."""
    t0 = time.perf_counter()
    try:
        why = draw(path)
    except Exception as exc:  # noqa: BLE001 - a broken plot must not lose the report
        why = f"failed: {type(exc).__name__}: {exc}"
    if why is not None and path.exists():
        path.unlink()
    return ("ok" if why is None else why), time.perf_counter() - t0


def make_plots(records: list[CellRecord], scores: Scores, out: Path,
               facts: Mapping[str, CaseFacts] | None = None, log: Callable[[str], None] | None = None,
               jobs: int = 2) -> Mapping[str, str]:
    """Draw every plot into ``out``; returns ``{plot: "ok" | reason it was skipped}``. ``log`` gets one line per
    plot with its time, in ``PLOTS`` order. With ``jobs`` > 1 (and ``fork`` available) each plot is drawn in a forked
    child of its own (``axioms.isolation.Forked``: its drawing function is its argument), ``jobs`` at a time, longest
    first. A plot that raises is reported failed and the others are still drawn (as serially); a child that dies
    fails its plot. The files are those drawn serially (each plot is a pure function of the run)."""
    import select

    from xaicheck.axioms.isolation import CAN_FORK, Forked, Isolated, value_of

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    draw: dict[str, Callable[[Path], str | None]] = {
        "heatmap": lambda p: heatmap(scores, p),
        "categories": lambda p: categories(scores, p),
        "pareto": lambda p: pareto(scores, p),
        "baseline_sensitivity": lambda p: baseline_sensitivity(records, p),
        "agreement": lambda p: agreement(records, p),
        "image_attributions": lambda p: image_attributions(records, p, facts or {}),
        "text_attributions": lambda p: text_attributions(records, p, facts or {}),
        "interaction_matrices": lambda p: interaction_matrices(records, scores, p, facts or {}),
    }
    names = list(draw)
    results: dict[str, tuple[str, float]] = {}
    if jobs <= 1 or not CAN_FORK:
        for name in names:
            results[name] = _draw_one(draw[name], out / f"{name}.png")
            if log is not None:
                log(f"report:   plot {name}: {results[name][0]} ({results[name][1]:.1f} s)")
        return {name: results[name][0] for name in names}
    pending = sorted(names, key=lambda n: _COST_ORDER.index(n) if n in _COST_ORDER else len(_COST_ORDER))
    running: dict[str, Forked] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                name = pending.pop(0)
                running[name] = Forked(lambda n=name: list(_draw_one(draw[n], out / f"{n}.png")), label=name,
                                       timeout=0, close_fds=tuple(f.fd for f in running.values()))
            ready = select.select([f.fd for f in running.values()], [], [], 0.5)[0]
            for name, proc in list(running.items()):
                if proc.fd in ready and proc.feed():
                    proc.close()
                    del running[name]
                    got = value_of(proc.outcome)
                    if isinstance(got, Isolated):
                        results[name] = (f"failed: {got.message}", 0.0)
                        (out / f"{name}.png").unlink(missing_ok=True)
                    else:
                        results[name] = (str(got[0]), float(got[1]))
    finally:
        for proc in running.values():
            proc.close()
    if log is not None:
        for name in names:
            log(f"report:   plot {name}: {results[name][0]} ({results[name][1]:.1f} s)")
    return {name: results[name][0] for name in names}
