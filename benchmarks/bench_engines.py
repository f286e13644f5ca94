"""Cells per second on the local engine and on Dask (1 and 2 workers), and the engine's own cost per cell.

Run: ``python -m xaicheck.benchmarks.bench_engines [--explainers a,b] [--full]``. On the quick suite:

- *trivial*: three control explainers (``zero,constant,identity``) on every quick case: cells that cost almost
  nothing, so ``overhead per cell = (wall x workers - sum of cell seconds) / cells`` is what the engine adds
  (dispatch, pipes, records, the log);
- *slice*: a fixed panel of library explainers (``SLICE``; shap's compiled explainers included, so the once-per-worker
  warm-up is in the time) on every quick case;
- ``--full``: the whole quick suite, local (2 workers) against Dask (2 workers).

Each engine runs the same ``Suite`` object through ``runner.run_suite`` (no determinism re-runs) into its own
temporary directory, twice (the second run shows the steady state: a cell process pays its first use of a check's
imports and per-process caches once; a Dask worker keeps its cell processes between runs, the local pool forks new
ones); the Dask ``LocalCluster`` is started, its workers waited for and their libraries imported
(``xaicheck``, torch, captum, shap, ...: what any first run pays once per worker) before the clock starts, and that
start time is reported apart; the shap warm-up (once per worker) is inside the slice's time, as in a real run.
Every run's ``scores.csv`` is compared byte for byte with the first one. The machine's core count and load are
printed: on a shared 2-core machine absolute numbers vary with the load.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

__all__ = ["SLICE", "TRIVIAL", "bench", "main"]

TRIVIAL = ("zero", "constant", "identity")
SLICE = ("shap_exact", "shap_tree", "saliency", "integrated_gradients", "smoothgrad", "lime_tabular", "deeplift",
         "feature_ablation", "occlusion", "exact_baseline_shapley", "random", "memoiser")


def _import_stack() -> int:
    from xaicheck.explainers.base import all_explainers

    return len(all_explainers())  # imports every adapter (torch, captum, shap, lime, ...)


def _engines(workers: Sequence[int]) -> list[tuple[str, Any, float]]:
    """``[(label, engine, start seconds)]``: local and Dask engines of each worker count, Dask clusters started."""
    from .engine_dask import DaskEngine
    from .engines import LocalEngine

    out: list[tuple[str, Any, float]] = [(f"local x{n}", LocalEngine(n), 0.0) for n in workers]
    for n in workers:
        start = time.perf_counter()
        engine = DaskEngine(workers=n)
        engine.client().wait_for_workers(n)
        engine.client().run(_import_stack)  # once per worker, as any first run pays it: not the engine's per-cell cost
        out.append((f"dask x{n}", engine, time.perf_counter() - start))
    return out


def bench(explainers: Sequence[str] | None, workers: Sequence[int] = (1, 2)) -> list[dict[str, Any]]:
    """One row per engine: cells, wall seconds, cells/s, sum of cell seconds, overhead ms/cell, same bytes."""
    from .runner import run_suite
    from .suite import build_suite

    suite = build_suite("quick", explainers=",".join(explainers) if explainers else None)
    rows: list[dict[str, Any]] = []
    first: bytes | None = None
    engines = _engines(workers)
    try:
        with tempfile.TemporaryDirectory(prefix="xaicheck-bench-engines-") as tmp:
            for label, engine, started in engines:
                out = Path(tmp) / label.replace(" ", "_")
                t0 = time.perf_counter()
                summary = run_suite(suite, out, engine=engine, progress=False, rerun_sample=0)
                wall = time.perf_counter() - t0
                t0 = time.perf_counter()  # again: Dask workers keep their cell processes, local forks new ones
                run_suite(suite, out, engine=engine, progress=False, rerun_sample=0, resume=False)
                again = time.perf_counter() - t0
                n = int(engine.describe().get("workers", 1))
                cell_s = sum(r.seconds for r in summary.records)
                scores = (out / "scores.csv").read_bytes()
                first = scores if first is None else first
                rows.append({"engine": label, "cells": len(summary.records), "wall_s": wall,
                             "cells_per_s": len(summary.records) / wall, "cell_s": cell_s,
                             "overhead_ms": 1000 * (wall * n - cell_s) / len(summary.records),
                             "start_s": started, "again_s": again, "same_bytes": scores == first})
    finally:
        for _, engine, _ in engines:
            engine.close()
    return rows


def _print(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"{'engine':10s} {'cells':>6s} {'wall s':>8s} {'cells/s':>8s} {'sum cell s':>10s} {'overhead ms/cell':>17s}"
          f" {'cluster start s':>15s} {'2nd run s':>9s}  scores.csv")
    for r in rows:
        print(f"{r['engine']:10s} {r['cells']:6d} {r['wall_s']:8.1f} {r['cells_per_s']:8.1f} {r['cell_s']:10.1f} "
              f"{r['overhead_ms']:17.1f} {r['start_s']:15.1f} {r['again_s']:9.1f}  "
              f"{'same' if r['same_bytes'] else 'DIFFERS'}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--explainers", default=",".join(SLICE), help="the slice's explainers (default: SLICE)")
    p.add_argument("--full", action="store_true", help="also the whole quick suite, local x2 against dask x2")
    args = p.parse_args(argv)
    print(f"cores: {len(os.sched_getaffinity(0))}, load average: {os.getloadavg()[0]:.1f}")
    results = {"trivial cells (zero, constant, identity on every quick case)": bench(TRIVIAL),
               f"slice ({args.explainers})": bench(args.explainers.split(","))}
    if args.full:
        results["the whole quick suite"] = bench(None, workers=(2,))
    for title, rows in results.items():
        _print(title, rows)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    return 0 if all(r["same_bytes"] for rows in results.values() for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
