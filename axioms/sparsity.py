"""sparsity: the share of attribution mass on the features that truly carry attribution, above chance.

Complexity / sparsity measures (Chalasani et al. 2020, "Concise explanations of neural networks using adversarial
training", Gini index; Bhatt, Weller & Moura 2020, "Evaluating and aggregating feature-based model explanations",
complexity as entropy) reward concentrated attributions whatever they concentrate on, so a "huge feature" explainer
is maximally sparse. Judged against the known answer instead: with R the exact attribution the explainer estimates
(``ground_truth_agreement.reference_attribution``: baseline or interventional Shapley) and S = {i : |R_i| > 10⁻³
max|R|} its true support, per row with 0 < |S| < d

    mass = Σ_{i∈S} |a_i| / Σ_i |a_i|        (0 when a = 0)
    row score = (mass - |S|/d) / (1 - |S|/d)     (chance-corrected: a uniform spread of mass gets 0)
    score = clip(mean over rows, 0, 1)

1 = all mass on the true support; 0 = no more than a feature-blind spread. The Gini indices of |a| and |R| are
reported beside it (``gini`` / ``gini_reference``: the complexity of the answer, not a score). Scale-free in a and
in R: unit-invariant. Role **gate** (floor 1.0): constant, zero, split-equally and noise score 0, but the support
of the exact attribution is, on these models, the set of features the model depends on locally, which the *sign of
the gradient* also finds (measured 0.84) and a huge feature hits whenever its feature matters (0.66): putting mass
on the right features is necessary, not evidence of quality. Magnitudes are judged by ``magnitude_error``. The decision-boundary split is in ``evidence["near_boundary"]`` /
``["far_from_boundary"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._faithfulness import FAITHFULNESS_KEYS, faithfulness_cases, finish
from .base import Case, Check, CheckResult, register_check
from .ground_truth_agreement import GT_TOLERANCE, reference_attribution, reference_kind

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["Sparsity", "gini", "support_mass_score"]


def gini(A: np.ndarray) -> np.ndarray:
    """``[n]`` Gini index of |a| per row (0 = uniform, → 1 = one feature; 0 for a zero row)."""
    v = np.sort(np.abs(np.atleast_2d(A)), axis=1)
    d = v.shape[1]
    total = v.sum(axis=1)
    k = np.arange(1, d + 1)
    g = ((2 * k - d - 1) * v).sum(axis=1) / (d * np.where(total > 0, total, 1.0))
    return np.where(total > 0, g, 0.0)


def support_mass_score(A: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(row_score, judged)``: chance-corrected mass on the support of R, and the rows with 0 < |S| < d."""
    A, R = np.atleast_2d(A), np.atleast_2d(R)
    d = A.shape[1]
    support = np.abs(R) > GT_TOLERANCE.bound(np.abs(R).max(axis=1))[:, None]
    size = support.sum(axis=1)
    judged = (size > 0) & (size < d)
    total = np.abs(A).sum(axis=1)
    mass = np.where(total > 0, (np.abs(A) * support).sum(axis=1) / np.where(total > 0, total, 1.0), 0.0)
    chance = size / d
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(judged, (mass - chance) / np.where(judged, 1.0 - chance, 1.0), 0.0)
    return score, judged


@register_check
class Sparsity(Check):
    """Chance-corrected share of |attribution| on the exact attribution's support (sparsity judged against truth)."""

    name = "sparsity"
    placement_keys = FAITHFULNESS_KEYS
    category = "ground_truth"
    threshold = 0.8
    floor = 1.0
    role = "gate"
    version = 1
    citation = ("Chalasani et al. 2020 (Gini sparsity) and Bhatt et al. 2020 (complexity), judged against the "
                "support of the exact Shapley attribution (Sundararajan & Najmi 2020)")

    def cases(self) -> list[Case]:
        return faithfulness_cases(self.name, "share of attribution mass on the exact attribution's support")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        R = reference_attribution(explainer, case.model, case.X, baseline=case.baseline,
                                  background=case.background, target=case.target)
        row, judged = support_mass_score(A, R)
        evidence = {"reference_kind": reference_kind(explainer), "row_score": row.tolist(),
                    "gini": gini(A).tolist(), "gini_reference": gini(R).tolist(),
                    "support_size": (np.abs(R) > GT_TOLERANCE.bound(np.abs(R).max(axis=1))[:, None]).sum(axis=1).tolist()}
        return finish(self, explainer, case, A, row, judged.astype(np.float64), 1.0,
                      "chance-corrected attribution mass on the true support (mean over rows)", evidence)
