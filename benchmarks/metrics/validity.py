"""How well a truth-free metric ranks explainers the way the exact truth does.

Within a track (a set of cases and the explainers it admits), with ``M[e, c]`` the metric's case-level value of
explainer ``e`` on case ``c`` (signed by its direction, so higher is better) and ``T[e, c]`` the exact-truth score
(``cells.truth_score``):

- **ranking**: on each case the explainers the metric could score are ranked (average ranks for ties), the ranks
  scaled to [0, 1] by the number ranked on that case; a metric value that is NaN (the metric could not score that
  attribution) is left out of that case's ranking -- never ranked last, which would let a metric "rank" explainers
  by where it fails (a metric that is constant wherever it is defined then cannot rank). An explainer's position is
  its mean scaled rank over the cases it was scored on (ranks, not values, because a metric's units differ from case
  to case);
- **validity** ``τ``: Kendall's τ_b between the metric's and the truth's mean ranks over the real methods; the 95%
  interval is the percentile interval of ``τ`` over ``n_boot`` bootstrap replicates that resample the cases with
  replacement (seeded). A metric "tracks the truth" when the interval's lower end is above 0;
- **control test**: whether every degenerate control's mean rank is below every real method's (and the fraction of
  (control, real) pairs so ordered), in the same ranking of real methods and controls together;
- **invariance** of the verdict under a transform (``f -> a f + c``, a feature permutation): the mean over cases of
  Kendall's τ_b between the explainers' values before and after (1: the verdict does not move).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import rankdata

__all__ = ["kendall_tau_b", "case_ranks", "mean_ranks", "Validity", "validity", "control_test", "verdict_moves",
           "N_BOOT", "LEVEL"]

N_BOOT = 1000
LEVEL = 0.95


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's τ_b = (C - D) / sqrt((n0 - n1)(n0 - n2)): concordant minus discordant pairs, corrected for ties
    in either ranking (n0 = n(n-1)/2, n1 / n2 = tied pairs in x / y), over the items finite on both sides. NaN when
    either side is all ties (or fewer than two items are left)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    i, j = np.triu_indices(len(x), k=1)
    sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    n0 = len(i)
    n1, n2 = int((sx == 0).sum()), int((sy == 0).sum())
    den = np.sqrt(float(n0 - n1) * float(n0 - n2))
    return float((sx * sy).sum() / den) if den > 0 else float("nan")


def case_ranks(values: np.ndarray) -> np.ndarray:
    """``[E, C]`` average ranks within each case (column) among its finite values, scaled to [0, 1] (0 = worst,
    1 = best; all tied: 0.5); NaN where the value is not finite (left out, not ranked last)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    for c in range(values.shape[1]):
        ok = np.isfinite(values[:, c])
        k = int(ok.sum())
        if k == 1:
            out[ok, c] = 0.5
        elif k > 1:
            out[ok, c] = (rankdata(values[ok, c], method="average") - 1.0) / (k - 1.0)
    return out


def _mean(ranks: np.ndarray) -> np.ndarray:
    """Row means over the finite entries (NaN for a row with none), without numpy's empty-slice warning."""
    ok = np.isfinite(ranks)
    n = ok.sum(axis=1)
    total = np.where(ok, ranks, 0.0).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def mean_ranks(values: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
    ranks = case_ranks(values)
    return _mean(ranks[:, cols] if cols is not None else ranks)


@dataclass(frozen=True)
class Validity:
    tau: float
    lo: float
    hi: float
    n_cases: int
    n_explainers: int

    @property
    def verdict(self) -> str:
        # no order on the cases as a whole (the point τ undefined: every explainer's mean rank tied, or NaN), even if
        # some resamples of them have one: the metric cannot rank here
        if not (np.isfinite(self.lo) and np.isfinite(self.tau)):
            return "cannot rank"
        return "tracks the truth" if self.lo > 0 else "does not track the truth here"


def validity(metric: np.ndarray, truth: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0) -> Validity:
    """τ_b of mean ranks (``metric``, ``truth``: ``[E, C]``, higher is better) with its bootstrap interval."""
    E, C = metric.shape
    r_m, r_t = case_ranks(metric), case_ranks(truth)
    tau = kendall_tau_b(_mean(r_m), _mean(r_t))
    rng = np.random.default_rng([int(seed), 26])
    boots = []
    for _ in range(n_boot):
        cols = rng.integers(0, C, C)
        boots.append(kendall_tau_b(_mean(r_m[:, cols]), _mean(r_t[:, cols])))
    b = np.asarray(boots)
    b = b[np.isfinite(b)]
    alpha = (1.0 - LEVEL) / 2
    lo, hi = (np.quantile(b, [alpha, 1 - alpha]) if b.size else (np.nan, np.nan))
    return Validity(tau, float(lo), float(hi), C, E)


def control_test(values: np.ndarray, is_control: np.ndarray) -> tuple[bool, float]:
    """``(every control below every real method, fraction of (control, real) pairs so ordered)`` in mean ranks of
    ``values`` ``[E, C]`` (higher is better)."""
    is_control = np.asarray(is_control, dtype=bool)
    r = mean_ranks(values)
    ctrl, real = r[is_control], r[~is_control]
    ctrl, real = ctrl[np.isfinite(ctrl)], real[np.isfinite(real)]
    if not len(ctrl) or not len(real):
        return False, float("nan")
    pairs = (real[None, :] > ctrl[:, None]).mean()
    return bool(ctrl.max() < real.min()), float(pairs)


def verdict_moves(before: np.ndarray, after: np.ndarray) -> float:
    """Mean over cases of τ_b between the explainers' values before and after a transform (``[E, C]`` each;
    NaN where either column cannot be ranked). 1: every case orders the explainers the same way."""
    rb, ra = case_ranks(before), case_ranks(after)
    taus = [kendall_tau_b(rb[:, c], ra[:, c]) for c in range(before.shape[1])]
    taus = [t for t in taus if np.isfinite(t)]
    return float(np.mean(taus)) if taus else float("nan")
