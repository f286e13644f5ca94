"""magnitude_error: distance to the exact attribution, relative to the best feature-blind attribution's distance.

With R the exact attribution the explainer estimates (``ground_truth_agreement.reference_attribution``: baseline
Shapley, Sundararajan & Najmi 2020; interventional Shapley over the background for background explainers, Janzing
et al. 2020), per row

    err = ||a - R||₂,    blind = ||R - mean(R)·1||₂ = min_c ||R - c·1||₂     (the best feature-blind attribution)
    score = clip(1 - Σ_rows err / Σ_rows blind, 0, 1)     (rows with blind > 10⁻⁶ × max_rows ||R||)

1 = the exact values; 0 = no closer than the best constant vector (so zero, constant, "split f(x) - f(b) equally"
and noise all score 0 by construction: the normalisation uses the exact attribution, never the explainer's output).
The normalised error ``||a - R|| / ||R||`` and the cosine similarity are reported per row beside it. Unit-invariant
(err and blind both scale with |α|). Floor 0.45: constant attributions score 0 by construction; "exact when d <= 4"
collects the two d = 3 cases (1/3, cases as in ``deletion_curve``; measured at most 0.34 for any panel member). The decision-boundary split is in ``evidence["near_boundary"]`` /
``["far_from_boundary"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._faithfulness import FAITHFULNESS_KEYS, faithfulness_cases, finish
from .agreement_metrics import cosine_similarity
from .base import Case, Check, CheckResult, register_check
from .ground_truth_agreement import reference_attribution, reference_kind

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["MagnitudeError"]


@register_check
class MagnitudeError(Check):
    """1 - Σ||a - R|| / Σ||R - mean R||: closeness to the exact attribution beyond any feature-blind vector."""

    name = "magnitude_error"
    placement_keys = FAITHFULNESS_KEYS
    category = "ground_truth"
    threshold = 0.8
    floor = 0.45
    version = 1
    citation = ("Exact references: Sundararajan & Najmi 2020 (baseline Shapley), Janzing et al. 2020 "
                "(interventional Shapley); normalised error and cosine as in Krishna et al. 2022")

    def cases(self) -> list[Case]:
        return faithfulness_cases(self.name, "distance to the exact attribution relative to the best constant vector")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        R = reference_attribution(explainer, case.model, case.X, baseline=case.baseline,
                                  background=case.background, target=case.target)
        err = np.linalg.norm(A - R, axis=1)
        blind = np.linalg.norm(R - R.mean(axis=1, keepdims=True), axis=1)
        norm_r = np.linalg.norm(R, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            normalised = np.where(norm_r > 0, err / np.where(norm_r > 0, norm_r, 1.0), np.nan)
        evidence = {"reference_kind": reference_kind(explainer), "reference": R[:4].tolist(),
                    "normalised_error": [None if not np.isfinite(v) else float(v) for v in normalised],
                    "cosine": cosine_similarity(A, R).tolist(), "error": err.tolist(), "blind_error": blind.tolist()}
        return finish(self, explainer, case, A, blind - err, blind, float(max(norm_r.max(), 1e-300)),
                      "1 - error / error of the best feature-blind attribution (pooled over rows)", evidence)
