"""Recovery of the top pairs: the pairs an explainer ranks strongest are the truly strongest interactions.

Per row, the true top-``k`` pairs are those with the ``k`` largest ``|T(ij)|`` of the exact index the explainer
estimates, in its game (``_interactions.truth_for``), ``k`` = the number of pairs with ``|T(ij)|`` above
``ACTIVE_TOL`` of the largest, at most ``TOP_K``, grown by the pairs tied with the ``k``-th (within the tolerance):
a cut never splits a tie. The explainer selects the pairs whose ``|A(ij)|`` is strictly above its ``(k+1)``-th largest (a tie at the
boundary selects nothing there, so all-zero answers select nothing). Row score = |selected ∩ true| / k;
score = mean over rows with ``k >= 1``. Precision at k of interaction detection (Tsang, Cheng & Liu 2018,
"Detecting statistical interactions from neural network weights", ICLR; Lundberg et al. 2020 for trees).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from xaicheck.synthetic_models.interaction_subsets import subsets

from ._interactions import (AXIS, cell_values, counterexample, interaction_case, interaction_exam, pair_columns,
                            truth_for)
from .base import Case, Check, CheckResult, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["InteractionRecovery", "TOP_K", "ACTIVE_TOL"]

#: At most this many top pairs are asked for.
TOP_K = 3
#: A pair is active when ``|T(ij)| > ACTIVE_TOL * max |T|``; pairs within this share of the k-th are ties.
ACTIVE_TOL = 1e-6


def top_pairs(true: np.ndarray, est: np.ndarray) -> tuple[int, float]:
    """``(k, recall)`` for one row of pair values (module docstring); ``k = 0`` when no pair is active."""
    big = float(np.abs(true).max()) if true.size else 0.0
    if big <= 0:
        return 0, float("nan")
    mag = np.abs(true)
    kth = np.sort(mag)[::-1][int(min(TOP_K, np.sum(mag > ACTIVE_TOL * big))) - 1]
    truly = mag >= kth - ACTIVE_TOL * big
    k = int(truly.sum())  # ties at the cut are all in: the exact answer selects every one of them
    e = np.abs(est)
    cut = np.sort(e)[::-1][k] if e.size > k else -np.inf
    selected = e > cut
    return k, float(np.sum(selected & truly)) / k


@register_check
class InteractionRecovery(Check):
    """Precision at k of the strongest pairs against the exact index: score = mean over rows (threshold 0.8)."""

    name = "interaction_recovery"
    category = "ground_truth"
    threshold = 0.8
    truth = AXIS
    interactions = True
    #: interaction_random selects k of C(d, 2) pairs at random (expected k/C(d,2) <= 0.2 at d >= 6 with k <= 3,
    #: plus its luck on small d); interaction_zero selects nothing (0); the product of main effects picks pairs of
    #: strong features, right on pure products and wrong beside main effects.
    floor = 0.75
    citation = ("Tsang, Cheng & Liu 2018, Detecting statistical interactions from neural network weights (ICLR); "
                "Lundberg et al. 2020, From local explanations to global understanding (tree interactions)")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        if not interaction_exam(model):
            return ()
        return (interaction_case(self.name, model, suite, "the strongest pairs are the true strongest"),)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = cell_values(explainer, case, seed)
        T = truth_for(explainer, case)
        d = case.X.shape[1]
        order = int(explainer.capabilities.interaction_order)
        cols = pair_columns(d, order)
        if not cols:
            return CheckResult.not_applicable(f"{explainer.name} gives no pairs (order {order})")
        results = [top_pairs(T[r, cols], A[r, cols]) for r in range(A.shape[0])]
        scored = [(r, k, s) for r, (k, s) in enumerate(results) if k >= 1]
        if not scored:
            return CheckResult.not_applicable(f"{case.id}: no row has an active pair in the exact index")
        score = float(np.mean([s for _, _, s in scored]))
        r, k, s = min(scored, key=lambda t: t[2])
        pairs = [subsets(d, order)[c] for c in cols]
        true_top = [list(pairs[c]) for c in np.argsort(-np.abs(T[r, cols]), kind="stable")[:k]]
        est_top = [list(pairs[c]) for c in np.argsort(-np.abs(A[r, cols]), kind="stable")[:k]]
        evidence = {"measured": score, "threshold": self.threshold, "k": [k for _, k, _ in scored],
                    "per_row": [s for _, _, s in scored], "worst_row": r, "true_top": true_top, "estimated_top": est_top}
        line = (f"{explainer.name} on {case.id}: row {r} ranks {est_top} strongest; the exact "
                f"{getattr(explainer, 'index', '')} ranks {true_top} (precision {s:.2f} < 1)")
        cx = counterexample(case, r, A, true_top, line) if score < self.threshold else None
        msg = line if s < 1 else f"{explainer.name} on {case.id}: the top pairs are the true top pairs"
        return CheckResult.scored(score, self.threshold, msg, evidence, cx)
