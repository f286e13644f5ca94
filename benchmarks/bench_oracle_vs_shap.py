"""Our exact Shapley oracles against ``shap.explainers.Exact`` on the same model, inputs and references.

Run: ``python -m xaicheck.benchmarks.bench_oracle_vs_shap`` (options: ``--dims 10 12 --rows 4 --background 10``).
For each d: a random ReLU MLP d -> 16 -> 8 -> 1 (numpy ``predict``), ``rows`` inputs, one baseline row and a
background of ``background`` rows from U[-1, 1]^d. Baseline Shapley = Exact with an ``Independent`` masker over the
single baseline row; interventional Shapley = Exact with an ``Independent`` masker over the background (``max_samples``
set to its size so shap does not subsample). Both sides evaluate all 2^d coalitions; the table gives the best of
3 wall times (after a call that compiles shap's numba kernels), the speed ratio shap / ours and the max absolute
difference (target: >= 10x, <= 1e-9), and how many model rows each side evaluated: for the interventional game both
evaluate the same ~rows * m * 2^d rows, so the ratio there is bounded by the cost of ``predict`` itself.
BLAS is pinned to one thread for both sides (``threadpoolctl``): on a shared 2-core machine multi-threaded OpenBLAS
spends most of a small matmul spin-waiting.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable, Sequence

import numpy as np

from xaicheck.synthetic_models.equivalence import MLPSpec
from xaicheck.synthetic_models.shapley import baseline_shapley, interventional_shapley

__all__ = ["random_mlp", "compare", "main"]


def random_mlp(d: int, seed: int) -> MLPSpec:
    rng = np.random.default_rng(seed)
    sizes = (d, 16, 8, 1)
    return MLPSpec(tuple((rng.normal(size=(o, i)) / np.sqrt(i), rng.normal(scale=0.1, size=o))
                         for i, o in zip(sizes[:-1], sizes[1:])))


def _timed(fn: Callable[[], np.ndarray], repeats: int = 3) -> tuple[np.ndarray, float]:
    """Output and best wall time of ``repeats`` calls (the machine may be shared)."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return np.asarray(out, dtype=np.float64), best


def compare(d: int, rows: int, background_rows: int, seed: int = 0) -> list[dict[str, float | str | int]]:
    """Both games for one d; returns one record per game."""
    import shap  # the reference implementation, only needed here

    rng = np.random.default_rng(seed)
    predict = random_mlp(d, seed).predict
    warm = np.zeros((1, 2))  # compile shap's numba kernels before timing (reported separately by main)
    shap.explainers.Exact(lambda Z: Z.sum(axis=1), shap.maskers.Independent(warm, max_samples=1))(warm, silent=True)
    X = rng.uniform(-1, 1, size=(rows, d))
    baseline = rng.uniform(-1, 1, size=(1, d))
    background = rng.uniform(-1, 1, size=(background_rows, d))
    records = []
    counted = [0]

    def counting(Z: np.ndarray) -> np.ndarray:
        counted[0] += len(Z)
        return predict(Z)

    oracles = {"baseline": (baseline, lambda f: baseline_shapley(f, X, baseline[0])),
               "interventional": (background, lambda f: interventional_shapley(f, X, background))}
    for game, (ref, oracle) in oracles.items():
        mine, t_ours = _timed(lambda: oracle(predict))
        explainer = shap.explainers.Exact(predict, shap.maskers.Independent(ref, max_samples=ref.shape[0]))
        theirs, t_shap = _timed(lambda: explainer(X, silent=True).values)
        counted[0] = 0
        oracle(counting)
        evals_ours = counted[0]
        counted[0] = 0
        shap.explainers.Exact(counting, shap.maskers.Independent(ref, max_samples=ref.shape[0]))(X, silent=True)
        records.append({"d": d, "game": game, "rows": rows, "reference_rows": ref.shape[0],
                        "evals_ours": evals_ours, "evals_shap": counted[0], "ours_s": t_ours, "shap_s": t_shap,
                        "speedup": t_shap / t_ours, "max_abs_diff": float(np.max(np.abs(mine - theirs)))})
    return records


def main(argv: Sequence[str] | None = None) -> list[dict[str, float | str | int]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 12])
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--background", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    print(f"{'d':>3} {'game':<15}{'evals ours':>11} {'evals shap':>11} {'ours (s)':>9} {'shap (s)':>9} "
          f"{'speedup':>8} {'max |diff|':>11}")
    records = []
    for d in args.dims:
        with threadpool_limits(limits=1):
            found = compare(d, args.rows, args.background, args.seed)
        for r in found:
            records.append(r)
            print(f"{r['d']:>3} {r['game']:<15}{r['evals_ours']:>11,} {r['evals_shap']:>11,} {r['ours_s']:>9.4f} "
                  f"{r['shap_s']:>9.4f} "
                  f"{r['speedup']:>7.1f}x {r['max_abs_diff']:>11.2e}")
    worst = min(r["speedup"] for r in records)
    diff = max(r["max_abs_diff"] for r in records)
    print(f"slowest speed-up {worst:.1f}x (target >= 10x); largest difference {diff:.1e} (target <= 1e-9)")
    return records


if __name__ == "__main__":
    main()
