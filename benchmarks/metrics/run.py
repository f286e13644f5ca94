"""``xaicheck metrics``: every truth-free metric on every (explainer, case) cell, judged against exact truth.

Writes to ``out``:
- ``metric_validity.csv``: one row per track and metric setting (``validity``: τ with its bootstrap interval, the
  verdict, the control test, the invariance of the verdict, explainer calls per cell, the number of cases where the
  metric does not apply and why), plus the exact truth's own row per track (τ = 1 by construction; its control
  verdict is the reference the metrics are read against);
- ``metric_values.csv``: every cell's value (explainer, case, metric, variant, view: original / affine / permuted);
- ``metric_validity.md`` (the section for the report) and ``metric_validity.png`` (τ with intervals per metric and
  track);
- ``metric_cost.csv``: seconds per cell (machine-dependent, so apart from the files compared byte for byte);
- ``attributions/``: the panel's attributions (``cells.attributions``), reused by a rerun;
- ``provenance.json``: what made the folder and the digests of the files above, keyed like a run's
  (``provenance.write_metrics_provenance``); ``xaicheck report`` verifies them before it reads ``DIR/metrics/``.

Tracks: every ranked attribution track of ``benchmarks.ranking.TRACKS`` with at least 2 cases and 3 real methods
(the three tabular tracks, ``image``, ``text``, ``trees``; ``cells`` docstring); ``interactions`` is not applicable
(its explainers return interaction indices, not attributions) and the generating-function tracks judge another truth.

Every file but ``metric_cost.csv`` is byte-identical for a seed (fixed seeds for every draw, each from a generator
the metric owns where a library draws from a global one, one torch thread), whether attributions are computed or
read back from ``attributions/``.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from xaicheck.benchmarks.ranking import TRACKS, CaseInfo, Track, tags_of

from .captum_metrics import captum_metrics
from .cells import CONTROLS, Cell, attributions, in_panel, metric_cases, panel, truth_score
from .context import MetricContext, affine_view, base_module, permuted_view
from .openxai_metrics import openxai_metrics
from .quantus_metrics import NOT_RUN, quantus_metrics
from .spec import Metric
from .validity import N_BOOT, control_test, kendall_tau_b, mean_ranks, validity, verdict_moves

__all__ = ["all_metrics", "run_metrics", "VIEWS", "COLUMNS"]

VIEWS: tuple[str, ...] = ("original", "affine", "permuted")
COLUMNS: tuple[str, ...] = (
    "track", "metric", "variant", "library", "category", "better", "n_cases", "n_methods", "tau", "tau_lo", "tau_hi",
    "verdict", "tau_with_controls", "controls_below_all", "control_pairs_correct", "tau_affine", "tau_permuted",
    "explainer_calls_per_cell", "nan_cells", "not_applicable_cases", "not_applicable_reason", "settings")


def all_metrics(*, quick: bool = False) -> list[Metric]:
    """Every metric setting run here (Quantus, captum, OpenXAI), in a stable order."""
    return quantus_metrics(quick=quick) + captum_metrics() + openxai_metrics(quick=quick)


def _mask(model: Any, d: int, n: int) -> np.ndarray | None:
    relevant = getattr(model.ground_truth, "relevant", None)
    if not relevant or len(relevant) >= d:
        return None
    row = np.zeros(d, dtype=bool)
    row[sorted(relevant)] = True
    return np.broadcast_to(row, (n, d)).copy()


@dataclass
class _Table:
    """Values ``[E, C]`` per (metric key, view), not-applicable reasons per (metric key, case), calls and seconds."""

    values: dict[tuple[str, str], np.ndarray]
    na: dict[tuple[str, int], str]
    calls: dict[str, list[tuple[int, int]]]  # (case index, explainer calls) per cell
    seconds: dict[str, float]
    long: list[dict[str, Any]]


def _permutation(d: int, seed: int, case_index: int) -> np.ndarray:
    perm = np.random.default_rng([int(seed), 77, case_index]).permutation(d)
    return np.roll(np.arange(d), 1) if d > 1 and np.all(perm == np.arange(d)) else perm


def _evaluate(metrics: Sequence[Metric], cases: list, explainers: list, cells: dict, seed: int,
              progress: Callable[[str], None]) -> _Table:
    E, C = len(explainers), len(cases)
    values = {(m.key, v): np.full((E, C), np.nan) for m in metrics for v in VIEWS}
    table = _Table(values, {}, {m.key: [] for m in metrics}, {m.key: 0.0 for m in metrics}, [])
    for c, case in enumerate(cases):
        progress(f"case {c + 1}/{C}: {case.name}")
        base = base_module(case.model)
        shape = tuple(case.model.input_shape) if case.model.domain == "image" and case.model.input_shape else None
        b = np.broadcast_to(np.asarray(case.baseline, dtype=np.float64), case.X.shape).copy()
        perm = _permutation(case.model.n_features, seed, c)
        for e, explainer in enumerate(explainers):
            cell = cells[(explainer.name, case.name)]
            if cell.A is None:
                continue
            ctx = MetricContext(case.name, explainer, case.model, base, case.X, b, case.background, cell.A, seed,
                                mask=_mask(case.model, case.model.n_features, len(case.X)), shape=shape)
            views = {"original": ctx, "affine": affine_view(ctx), "permuted": permuted_view(ctx, perm)}
            for m in metrics:
                reason = m.applies(ctx)
                if reason:
                    table.na[(m.key, c)] = reason
                    continue
                for view, vctx in views.items():
                    before = vctx.calls[0]
                    start = time.perf_counter()
                    try:
                        value = m.value(vctx)
                        err = ""
                    except Exception as exc:  # noqa: BLE001 - a metric's failure is data
                        value, err = float("nan"), f"{type(exc).__name__}: {str(exc)[:160]}"
                    if view == "original":
                        table.seconds[m.key] += time.perf_counter() - start
                        table.calls[m.key].append((c, vctx.calls[0] - before))
                    table.values[(m.key, view)][e, c] = value
                    table.long.append({"explainer": explainer.name, "case": case.name, "metric": m.name,
                                       "variant": m.variant, "view": view, "value": _fmt(value), "error": err})
    return table


def _fmt(x: Any, digits: int = 6) -> str:
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    x = float(x)
    return "" if not np.isfinite(x) else f"{x:.{digits}g}"


def _track_cases(track: Track, cases: list) -> list[int]:
    return [c for c, case in enumerate(cases)
            if track.cases(CaseInfo(case.model.domain, frozenset(case.model.forms), case.model.n_features))]


def _rows(metrics: Sequence[Metric], cases: list, explainers: list, truth: np.ndarray, table: _Table,
          n_boot: int, seed: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    is_control = np.array([x.name in CONTROLS for x in explainers])
    for track in TRACKS:
        if track.truth:
            continue
        tcases = _track_cases(track, cases)
        admitted = [e for e, x in enumerate(explainers)
                    if is_control[e] or track.admits(tags_of(x.describe()))]
        admitted = [e for e in admitted if np.all(np.isfinite(truth[e, tcases]))] if tcases else []
        real = [e for e in admitted if not is_control[e]]
        if len(tcases) < 2 or len(real) < 3:
            continue
        rows.append(_row(track.name, "exact_truth", "", "xaicheck", "ground_truth", 1, truth, truth, admitted,
                         real, tcases, is_control, None, table=None, n_boot=n_boot, seed=seed,
                         settings="ground_truth_score vs the exact Shapley reference"))
        for m in metrics:
            cols = [c for c in tcases if (m.key, c) not in table.na]
            vals = m.direction * table.values[(m.key, "original")]
            reasons = sorted({table.na[(m.key, c)] for c in tcases if (m.key, c) in table.na})
            rows.append(_row(track.name, m.name, m.variant, m.library, m.category, m.direction, vals, truth,
                             admitted, real, cols, is_control, m, table=table, n_boot=n_boot, seed=seed,
                             settings=m.settings_text(), na=len(tcases) - len(cols), reason="; ".join(reasons)))
    return rows


def _row(track: str, name: str, variant: str, library: str, category: str, direction: int, vals: np.ndarray,
         truth: np.ndarray, admitted: list[int], real: list[int], cols: list[int], is_control: np.ndarray,
         m: Metric | None, *, table: _Table | None, n_boot: int, seed: int, settings: str,
         na: int = 0, reason: str = "") -> dict[str, str]:
    row = {"track": track, "metric": name, "variant": variant, "library": library, "category": category,
           "better": "higher" if direction > 0 else "lower", "n_cases": str(len(cols)), "n_methods": str(len(real)),
           "settings": settings, "not_applicable_cases": str(na), "not_applicable_reason": reason}
    if len(cols) < 2:
        return {**{c: "" for c in COLUMNS}, **row, "verdict": "not applicable"}
    cols_a = np.asarray(cols)
    v = validity(vals[np.ix_(real, cols_a)], truth[np.ix_(real, cols_a)], n_boot=n_boot, seed=seed)
    sub = vals[np.ix_(admitted, cols_a)]
    below, pairs = control_test(sub, is_control[admitted])
    tau_all = kendall_tau_b(mean_ranks(sub), mean_ranks(truth[np.ix_(admitted, cols_a)]))
    row.update(tau=_fmt(v.tau, 4), tau_lo=_fmt(v.lo, 4), tau_hi=_fmt(v.hi, 4), verdict=v.verdict,
               tau_with_controls=_fmt(tau_all, 4), controls_below_all=_fmt(below), control_pairs_correct=_fmt(pairs, 4),
               nan_cells=str(int((~np.isfinite(sub)).sum())))
    if m is not None and table is not None:
        orig = table.values[(m.key, "original")][np.ix_(admitted, cols_a)]
        row["tau_affine"] = _fmt(verdict_moves(orig, table.values[(m.key, "affine")][np.ix_(admitted, cols_a)]), 4)
        row["tau_permuted"] = _fmt(verdict_moves(orig, table.values[(m.key, "permuted")][np.ix_(admitted, cols_a)]), 4)
        calls = [k for c, k in table.calls[m.key] if c in set(cols)]  # this track's cells only
        row["explainer_calls_per_cell"] = _fmt(np.mean(calls) if calls else 0.0, 4)
    else:
        row.update(tau_affine="1", tau_permuted="1", explainer_calls_per_cell="0")
    return {c: row.get(c, "") for c in COLUMNS}


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def run_metrics(out: Path | str, *, suite: str = "quick", seed: int = 0, n_boot: int = N_BOOT,
                metric_names: Sequence[str] | None = None, metrics: Sequence[Metric] | None = None,
                progress: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Run the metrics (``metrics``, else all or those named) on the suite's cells and write the files of the module
    docstring."""
    import torch

    from .provenance import write_metrics_provenance
    from .report import write_markdown, write_plot
    from xaicheck.benchmarks.provenance import now_utc

    started = now_utc()
    torch.set_num_threads(1)
    out = Path(out)
    (out / "attributions").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cases = metric_cases(suite, seed)
    explainers = panel(suite)
    if metrics is None:
        metrics = [m for m in all_metrics(quick=suite == "quick") if metric_names is None or m.name in metric_names]
    cells, truth = {}, np.full((len(explainers), len(cases)), np.nan)
    for c, case in enumerate(cases):
        for e, x in enumerate(explainers):
            if not in_panel(x, case, suite):
                cells[(x.name, case.name)] = Cell(x.name, case.name, None, "not on this track's panel")
                continue
            cell = attributions(x, case, seed, out / "attributions")
            cells[(x.name, case.name)] = cell
            if cell.A is not None:
                truth[e, c] = truth_score(x, case, cell.A)
    progress(f"{len(cases)} cases x {len(explainers)} explainers: attributions ready")
    table = _evaluate(metrics, cases, explainers, cells, seed, progress)
    rows = _rows(metrics, cases, explainers, truth, table, n_boot, seed)
    _write_csv(out / "metric_validity.csv", rows, COLUMNS)
    _write_csv(out / "metric_values.csv", table.long,
               ("explainer", "case", "metric", "variant", "view", "value", "error"))
    n_cells = {m.key: max(1, len(table.calls[m.key])) for m in metrics}
    _write_csv(out / "metric_cost.csv",
               [{"metric": m.name, "variant": m.variant, "cells": len(table.calls[m.key]),
                 "seconds_per_cell": f"{table.seconds[m.key] / n_cells[m.key]:.4f}"} for m in metrics],
               ("metric", "variant", "cells", "seconds_per_cell"))
    not_run = sorted(NOT_RUN.items())
    write_markdown(out / "metric_validity.md", rows, suite=suite, seed=seed, n_boot=n_boot, cases=cases,
                   explainers=explainers, not_run=not_run)
    write_plot(out / "metric_validity.png", rows)
    write_metrics_provenance(out, suite=suite, seed=seed, n_boot=n_boot, metrics=[m.name for m in metrics],
                             started=started)
    return {"rows": rows, "cases": [c.name for c in cases], "explainers": [x.name for x in explainers],
            "metrics": sorted({m.name for m in metrics}), "seconds": time.perf_counter() - start}
