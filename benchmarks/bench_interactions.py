"""Time the exact interaction indices against shapiq's ``ExactComputer`` at d = 8, 12, 16 (not a test).

Both start from the same model (a random third-order polynomial) at one row and a baseline, and both evaluate all
``2^d`` coalitions: ours by the blocked enumeration (``shapley.baseline_values``) and the Möbius route
(``interaction_indices``), shapiq by calling the game on its coalition matrix. Reported: seconds per (index, order)
for each and the ratio shapiq / ours, with the max difference. ``python -m xaicheck.benchmarks.bench_interactions``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from xaicheck.synthetic_models.interaction_indices import indices_from_values
from xaicheck.synthetic_models.interaction_subsets import subsets
from xaicheck.synthetic_models.shapley import baseline_values

__all__ = ["bench", "main", "SHAPIQ_DENSE_LIMIT"]

#: The largest dense matrix (bytes) the benchmark lets shapiq's exact FSII allocate: 1 GiB (d <= 14).
SHAPIQ_DENSE_LIMIT = 2 ** 30


def _model(d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    terms = [tuple(sorted(rng.choice(d, size=s, replace=False))) for s in (1, 1, 2, 2, 2, 3, 3)]
    coef = rng.normal(size=len(terms))

    def f(X: np.ndarray) -> np.ndarray:
        return sum(c * np.prod(X[:, list(T)], axis=1) for T, c in zip(terms, coef))

    return f


def bench(d: int, index: str, order: int, repeats: int = 1) -> dict[str, float]:
    import shapiq

    f = _model(d)
    rng = np.random.default_rng(1)
    x, b = rng.uniform(-1, 1, d), np.zeros(d)
    t0 = time.perf_counter()
    for _ in range(repeats):
        ours = indices_from_values(baseline_values(f, x[None], b), index, order)[0]
    t_ours = (time.perf_counter() - t0) / repeats

    def game(C: np.ndarray) -> np.ndarray:
        return f(np.where(np.asarray(C, dtype=bool), x, b))

    if index == "FSII" and 8 * 4 ** d > SHAPIQ_DENSE_LIMIT:
        # shapiq's ExactComputer solves FSII's least squares with a dense 2^d x 2^d weight matrix (32 GiB at d = 16)
        return {"d": d, "ours_s": t_ours, "shapiq_s": None, "ratio": None, "max_diff": None,
                "note": f"shapiq not run: its FSII needs a dense {2 ** d} x {2 ** d} matrix ({8 * 4 ** d / 2 ** 30:.0f} GiB)"}

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            iv = shapiq.ExactComputer(game, n_players=d)(index, order=order)
    t_shapiq = (time.perf_counter() - t0) / repeats
    ref = np.array([iv.values[iv.interaction_lookup[S]] if S in iv.interaction_lookup else 0.0
                    for S in subsets(d, order)])
    return {"d": d, "ours_s": t_ours, "shapiq_s": t_shapiq, "ratio": t_shapiq / t_ours,
            "max_diff": float(np.abs(ours - ref).max())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--d", default="8,12,16")
    p.add_argument("--indices", default="k-SII,STII,FSII")
    p.add_argument("--order", type=int, default=2)
    a = p.parse_args(argv)
    print(f"{'d':>3} {'index':>6} {'order':>5} {'ours s':>9} {'shapiq s':>9} {'shapiq/ours':>11} {'max diff':>9}")
    for d in (int(v) for v in a.d.split(",")):
        for index in a.indices.split(","):
            r = bench(d, index, a.order)
            if r["shapiq_s"] is None:
                print(f"{d:>3} {index:>6} {a.order:>5} {r['ours_s']:>9.4f}   {r['note']}")
                continue
            print(f"{d:>3} {index:>6} {a.order:>5} {r['ours_s']:>9.4f} {r['shapiq_s']:>9.3f} {r['ratio']:>11.1f} "
                  f"{r['max_diff']:>9.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
