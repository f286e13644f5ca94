"""The exact oracles against the physical floor and against shap's ExactExplainer, with peak memory, in one run.

Run: ``python -m xaicheck.benchmarks.bench_oracles`` (options: ``--dims 8 10 12 14 16 --rows 4 --background 10``).

For each ``d`` and both games (baseline: one baseline row; interventional: ``background`` rows), on a random ReLU MLP
``d -> 16 -> 8 -> 1`` given as a plain numpy callable (so no closed form or corner table applies: the general
enumeration is measured), at least ``rows`` instances from U[-1, 1]^d, more where needed for the floor to take
``--min-seconds`` (50 ms: at d = 8 four instances are 1,024 model rows, ~0.1 ms, which times the clock and a call's
fixed cost, not the enumeration):

- **ours**: ``baseline_shapley`` / ``interventional_shapley`` (``xaicheck.synthetic_models.shapley``);
- **floor**: the model's ``predict`` alone on the same number of rows (``rows · 2^d · m``), in blocks of
  ``BLOCK_ROWS`` = 8,192 rows (faster per row than one huge call: the block stays in cache) — no enumeration can
  evaluate the game with fewer model rows;
- **shap**: ``shap.explainers.Exact`` with an ``Independent`` masker over the same reference rows (``max_samples``
  = their number, so nothing is subsampled), after one call that compiles its numba kernels, on the first
  ``shap rows`` instances (enough for ``--min-seconds`` of shap); ``shap/ours`` compares seconds per instance.

Times are CPU seconds of this process (``time.process_time``: on a shared machine wall time measures the neighbours),
best of ``--repeats``, ours and the floor interleaved so both see the same machine state; peak memory is numpy's
traced allocations (``tracemalloc``, numpy reports to it) during one separate call. BLAS is pinned to one thread (``threadpoolctl``) on every side. Targets
(issue 16): ours / floor <= 1.5 and shap / ours >= 1 at every d, both games; max |ours - shap| <= 1e-12 scale.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from typing import Any, Callable, Sequence

import numpy as np

from xaicheck.synthetic_models.enumeration import BLOCK_ROWS
from xaicheck.synthetic_models.equivalence import MLPSpec
from xaicheck.synthetic_models.shapley import baseline_shapley, interventional_shapley

__all__ = ["MIN_SECONDS", "random_mlp", "floor", "rows_for", "measure", "main"]

Record = dict[str, Any]
#: Each timed call runs at least this many CPU seconds (more instances at small d): shorter calls measure the
#: clock's resolution and the fixed cost of a call rather than the enumeration.
MIN_SECONDS = 0.05


def random_mlp(d: int, seed: int) -> MLPSpec:
    """A ReLU MLP ``d -> 16 -> 8 -> 1`` with He-scaled normal weights."""
    rng = np.random.default_rng(seed)
    sizes = (d, 16, 8, 1)
    return MLPSpec(tuple((rng.normal(size=(o, i)) / np.sqrt(i), rng.normal(scale=0.1, size=o))
                         for i, o in zip(sizes[:-1], sizes[1:])))


def floor(predict: Callable[[np.ndarray], np.ndarray], d: int, rows: int, rng: np.random.Generator) -> float:
    """Seconds for ``predict`` on ``rows`` rows in blocks of ``BLOCK_ROWS`` (one random block, evaluated again)."""
    block = rng.uniform(-1, 1, size=(BLOCK_ROWS, d))
    start = time.process_time()
    done = 0
    while done < rows:
        k = min(BLOCK_ROWS, rows - done)
        predict(block[:k])
        done += k
    return time.process_time() - start


def _best(fn: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.process_time()
        out = fn()
        best = min(best, time.process_time() - start)
    return out, best


def _peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _per_row(predict: Callable[[np.ndarray], np.ndarray], d: int, rng: np.random.Generator) -> float:
    """CPU seconds per model row of ``predict`` in ``BLOCK_ROWS`` blocks (best of 3 runs of >= 4 blocks)."""
    return min(floor(predict, d, 4 * BLOCK_ROWS, rng) for _ in range(3)) / (4 * BLOCK_ROWS)


def rows_for(min_seconds: float, seconds_per_instance: float, at_least: int) -> int:
    """Instances needed for one timed call to take ``min_seconds`` (at least ``at_least``)."""
    if min_seconds <= 0 or seconds_per_instance <= 0:
        return at_least
    return max(at_least, int(np.ceil(min_seconds / seconds_per_instance)))


def measure(d: int, rows: int, background: int, seed: int = 0, repeats: int = 3, with_shap: bool = True,
            min_seconds: float = MIN_SECONDS) -> list[Record]:
    """One record per game for dimension ``d``.

    Each game explains at least ``rows`` instances, more when needed for the floor to take ``min_seconds`` (so a
    small game is not timed at the resolution of the clock or of a call's fixed cost). shap explains the first
    ``shap_rows`` of them (at least ``rows``, enough for ``min_seconds`` of shap; its cost per instance is
    constant); ``shap_over_ours`` compares seconds per instance."""
    rng = np.random.default_rng(seed)
    predict = random_mlp(d, seed).predict
    per_row = _per_row(predict, d, rng) if min_seconds > 0 else 0.0
    refs = {"baseline": rng.uniform(-1, 1, size=(1, d)), "interventional": rng.uniform(-1, 1, size=(background, d))}
    records = []
    for game in ("baseline", "interventional"):
        m = refs[game].shape[0]
        n = rows_for(min_seconds, per_row * (1 << d) * m, rows)
        X = rng.uniform(-1, 1, size=(n, d))
        oracle = (lambda: baseline_shapley(predict, X, refs["baseline"][0])) if game == "baseline" else \
            (lambda: interventional_shapley(predict, X, refs["interventional"]))
        n_rows = n * (1 << d) * m
        t_ours = t_floor = np.inf
        for _ in range(repeats):  # interleaved
            ours, t = _best(oracle, 1)
            t_ours, t_floor = min(t_ours, t), min(t_floor, floor(predict, d, n_rows, rng))
        record: Record = {"d": d, "game": game, "rows": n, "model_rows": n_rows, "ours_s": t_ours,
                          "floor_s": t_floor, "ours_over_floor": t_ours / t_floor, "ours_peak_mib": _peak_mib(oracle)}
        if with_shap:
            import shap

            explainer = shap.explainers.Exact(predict, shap.maskers.Independent(refs[game], max_samples=m))
            k, t_shap = rows, 0.0
            for _ in range(4):  # grow k until one call takes min_seconds (shap's fixed cost per call shrinks)
                theirs, t_shap = _best(lambda: explainer(X[:k], silent=True).values, 1)
                if t_shap >= min_seconds or k == n:
                    break
                k = min(n, rows_for(1.2 * min_seconds, t_shap / k, k + 1))
            theirs, t_shap = _best(lambda: explainer(X[:k], silent=True).values, repeats)
            record.update(shap_rows=k, shap_s=t_shap, shap_over_ours=(t_shap / k) / (t_ours / n),
                          shap_peak_mib=_peak_mib(lambda: explainer(X[:k], silent=True)),
                          max_abs_diff=float(np.max(np.abs(ours[:k] - theirs))))
        records.append(record)
    return records


def _warm_shap() -> float:
    """Seconds to compile shap's numba kernels (one tiny Exact call), reported apart from the timings."""
    import shap

    start = time.perf_counter()
    warm = np.zeros((1, 2))
    shap.explainers.Exact(lambda Z: Z.sum(axis=1), shap.maskers.Independent(warm, max_samples=1))(warm, silent=True)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> list[Record]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[8, 10, 12, 14, 16])
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--background", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-seconds", type=float, default=MIN_SECONDS,
                        help="each timed call runs at least this long (more instances at small d; 0: exactly --rows)")
    parser.add_argument("--no-shap", action="store_true", help="skip shap (floor and memory only)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    records: list[Record] = []
    with threadpool_limits(limits=1):
        if not args.no_shap:
            print(f"shap numba warm-up: {_warm_shap():.1f} s (not in the timings)")
        print(f"{'d':>3} {'game':<15}{'rows':>6}{'model rows':>12} {'ours (s)':>9} {'floor (s)':>9} {'ours/floor':>10} "
              f"{'shap rows':>9} {'shap (s)':>9} {'shap/ours':>9} {'ours MiB':>9} {'shap MiB':>9} {'max|diff|':>10}")
        for d in args.dims:
            for r in measure(d, args.rows, args.background, args.seed, args.repeats, not args.no_shap,
                             args.min_seconds):
                records.append(r)
                shap_cols = (f"{r['shap_rows']:>9} {r['shap_s']:>9.3f} {r['shap_over_ours']:>8.2f}x "
                             f"{r['ours_peak_mib']:>9.1f} {r['shap_peak_mib']:>9.1f} {r['max_abs_diff']:>10.1e}") \
                    if "shap_s" in r else f"{'-':>9} {'-':>9} {'-':>9} {r['ours_peak_mib']:>9.1f} {'-':>9} {'-':>10}"
                print(f"{r['d']:>3} {r['game']:<15}{r['rows']:>6}{r['model_rows']:>12,} {r['ours_s']:>9.3f} "
                      f"{r['floor_s']:>9.3f} {r['ours_over_floor']:>9.2f}x {shap_cols}", flush=True)
    worst_floor = max(r["ours_over_floor"] for r in records)
    line = f"worst ours/floor {worst_floor:.2f}x (target <= 1.5x)"
    if not args.no_shap:
        line += f"; worst shap/ours {min(r['shap_over_ours'] for r in records):.2f}x (target >= 1x)"
        line += f"; largest |ours - shap| {max(r['max_abs_diff'] for r in records):.1e}"
    print(line)
    return records


if __name__ == "__main__":
    main()
