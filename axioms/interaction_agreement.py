"""Agreement with the exact interaction index: the interaction values equal the exact index they estimate.

The exact index (the explainer's declared ``index`` and order: k-SII, STII, FSII, SII, BII) in its game
(``_interactions``: baseline, or interventional over the case background), computed by
``synthetic_models.interaction_truth`` (Möbius transform of the enumerated game; closed forms for declared
polynomials and trees; cross-checked against shapiq's ``ExactComputer``, Muschalik et al. 2024). Per row the
relative error ``e = ||A - T||_2 / ||T||_2`` (``||T|| = 0``: ``e = ||A||_2 / scale``); row score ``max(0, 1 - e)``;
score = mean over rows. Unit-free (invariant to ``f -> a f + c``). Its own truth axis (``interaction``), never
averaged with the Shapley tracks: agreement with the exact index is the approximation error reported by
Fumagalli et al. 2023 (SHAP-IQ) and Kolpaczki et al. 2024 (SVARM-IQ).

For order >= 2 and ``d <= 16`` the evidence also carries the first explained row's pair matrices (``pair_true``,
``pair_estimated``: ``d x d``, order-1 values on the diagonal, pairs off it, rounded to 6 decimals): what the
report's true-vs-estimated interaction plot (``benchmarks.plots.interaction_matrices``) draws from the run's files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._interactions import AXIS, cell_values, counterexample, interaction_case, interaction_exam, scale_of, truth_for
from .base import Case, Check, CheckResult, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["InteractionAgreement", "MATRIX_MAX_FEATURES"]

#: The largest ``d`` whose pair matrices the evidence carries (256 numbers per matrix at most).
MATRIX_MAX_FEATURES = 16


@register_check
class InteractionAgreement(Check):
    """1 - relative L2 error against the exact index, mean over rows (threshold 0.9)."""

    name = "interaction_agreement"
    category = "ground_truth"
    threshold = 0.9
    truth = AXIS
    interactions = True
    #: interaction_zero: e = 1, score 0; interaction_random: noise of the output's size, e >= 1 on most rows;
    #: the product of main effects keeps the singletons' Shapley part and misplaces the pairs: well below 0.9.
    floor = 0.6
    citation = ("Fumagalli et al. 2023, SHAP-IQ: unified approximation of any-order Shapley interactions (NeurIPS); "
                "Muschalik et al. 2024, shapiq (NeurIPS Datasets & Benchmarks)")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        if not interaction_exam(model):
            return ()
        return (interaction_case(self.name, model, suite, "the exact interaction index"),)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = cell_values(explainer, case, seed)
        T = truth_for(explainer, case)
        norm = np.linalg.norm(T, axis=1)
        err = np.linalg.norm(A - T, axis=1)
        rel = np.where(norm > 0, err / np.where(norm > 0, norm, 1.0), err / scale_of(case))
        rows = np.maximum(0.0, 1.0 - rel)
        score = float(rows.mean())
        w = int(np.argmax(rel))
        evidence = {"measured": score, "threshold": self.threshold, "relative_error": rel.tolist(),
                    "index": getattr(explainer, "index", ""), "worst_row": w}
        d, order = case.X.shape[1], int(explainer.capabilities.interaction_order)
        if order >= 2 and d <= MATRIX_MAX_FEATURES and len(A):
            from xaicheck.explainers.interaction_base import pair_matrix

            evidence["pair_true"] = np.round(pair_matrix(T[:1], d, order)[0], 6).tolist()
            evidence["pair_estimated"] = np.round(pair_matrix(A[:1], d, order)[0], 6).tolist()
        line = (f"{explainer.name} on {case.id}: row {w} is {rel[w]:.3g} (relative L2) from the exact "
                f"{getattr(explainer, 'index', '')}")
        cx = counterexample(case, w, A, T[w].tolist(), line) if score < self.threshold else None
        return CheckResult.scored(score, self.threshold, line, evidence, cx)
