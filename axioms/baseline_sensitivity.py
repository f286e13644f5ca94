"""baseline_sensitivity (diagnostic): does the explainer follow the exact attribution as the baseline changes?

Role ``diagnostic`` (version 2). As a scored check it was a second ground-truth check (``ground_truth_agreement``
at five more baselines) counted only for the explainers that take a baseline: baseline methods sat one more exam
on the same truth than everyone else, and background methods (KernelSHAP, DeepLiftSHAP, ...) none. It cannot be
made an equal exam: a background method has no baseline to vary, and replacing its background by one baseline row
asks a question the method never claims to answer. Its number is not new evidence of quality either - an
explainer that matches exact baseline Shapley at the zero baseline is already scored on that by
``ground_truth_agreement``. What it adds is *how an explanation moves with the reference*: Sturmfels et al. 2020's
question, which a user choosing a baseline needs to see. So it is shown beside the ranking (per-baseline agreement,
and the explanation's rank stability across baselines against the exact attribution's), never scored or gating.

The baseline is part of the question an attribution answers ("why f(x) rather than f(b)?"): baseline Shapley
``φ(x; b)`` (Sundararajan & Najmi 2020) changes with ``b``, and Sturmfels et al. 2020 ("Visualizing the impact of
feature attribution baselines", Distill) show that baseline-based methods change with it too. A method is therefore
not judged on whether its attributions move (they must, where the truth moves) but on whether they move *correctly*:

    score = mean over the panel P (``xaicheck.axioms.baselines``) of ground_truth_score(a(x; b), φ(x; b))

where ``ground_truth_score`` is the per-row sign × mean(recall@|S|, max(0, ρ)) of ``ground_truth_agreement``,
computed against exact baseline Shapley at that same baseline ``b`` (baselines on which φ is zero on every row are
skipped). Explainers that take no baseline are NOT APPLICABLE: nothing of theirs depends on ``b``, and the
ground-truth check already judges them against their own reference.

Evidence also reports dispersion across the panel: ``rank_stability`` = mean pairwise Spearman ρ of |a| between
baselines, beside the same number for the exact attribution (``reference_rank_stability``): a method whose ranking
is more stable than the truth's ignores the baseline.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np


from .agreement_metrics import rank_correlation
from ._placed import placed_cases
from .base import Case, Check, CheckResult, register_check
from .baselines import baseline_panel
from .ground_truth_agreement import (
    GT_TOLERANCE,
    ground_truth_score,
    reference_attribution,
    rows,
    standard_case,
    verdict,
)

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["BaselineSensitivity", "panel_rank_stability"]

#: Seed of the panel's random baselines (fixed per case: the case, not the cell seed, defines the question).
PANEL_SEED = 0


def panel_rank_stability(per_baseline: dict[str, np.ndarray]) -> float:
    """Mean over baseline pairs and rows of Spearman ρ(|a_b|, |a_b'|); 1 = the ranking never changes."""
    values = [rank_correlation(per_baseline[p], per_baseline[q], atol=0.0).mean()
              for p, q in combinations(sorted(per_baseline), 2)]
    return float(np.mean(values)) if values else 1.0


@register_check
class BaselineSensitivity(Check):
    """Mean over a baseline panel of agreement with exact baseline Shapley at that baseline."""

    name = "baseline_sensitivity"
    category = "stability"
    threshold = 0.8
    version = 2
    #: Shown, not scored: only baseline methods can sit it, and its truth is ground_truth_agreement's (docstring).
    role = "diagnostic"
    citation = ("Sturmfels, Lundberg & Lee 2020, Visualizing the impact of feature attribution baselines (Distill); "
                "Sundararajan & Najmi 2020, The many Shapley values")

    def cases(self) -> list[Case]:
        return placed_cases(self.name, self._placed_case)

    def _placed_case(self, model: "SyntheticModel", place: "Placement") -> Case:
        """A placed model (any): ``standard_case`` rows (3, seed 1) and its baseline panel (``baselines``)."""
        base = standard_case(self.name, model, place.tiers, n=3, seed=1)
        panel = baseline_panel(model, base.X, base.background, seed=PANEL_SEED)
        return Case(check=self.name, name=model.name, model=model, X=base.X, baseline=base.baseline,
                    background=base.background, extra={"panel": panel}, tiers=place.tiers,
                    description=f"baseline panel {sorted(panel)} on {model.name}")

    def applies(self, explainer: "Explainer", case: Case) -> tuple[bool, str]:
        if not explainer.capabilities.uses_baseline:
            return False, f"{explainer.name} takes no baseline; the baseline panel cannot change its output"
        return super().applies(explainer, case)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        panel: dict[str, np.ndarray] = case.extra["panel"]
        per_baseline, per_reference, per_score = {}, {}, {}
        for name, B in panel.items():
            A = case.explain(explainer, seed=seed, baseline=B)
            R = reference_attribution(explainer, case.model, case.X, baseline=B, background=case.background,
                                      target=case.target)
            per_baseline[name], per_reference[name] = A, R
            parts = ground_truth_score(A, R, GT_TOLERANCE)
            if parts["scored_rows"]:
                per_score[name] = parts["score"]
        if not per_score:
            return CheckResult.not_applicable(f"{case.id}: the exact attribution is zero for every baseline")
        measured = float(np.mean(list(per_score.values())))
        worst = min(per_score, key=per_score.get)  # type: ignore[arg-type]
        evidence = {
            "measured": measured,
            "threshold": self.threshold,
            "attributions": rows(per_baseline.get("zero", next(iter(per_baseline.values())))),
            "per_baseline": {k: rows(v) for k, v in per_baseline.items()},
            "per_baseline_reference": {k: rows(v) for k, v in per_reference.items()},
            "per_baseline_score": per_score,
            "baselines": {k: rows(v) for k, v in panel.items()},
            "rank_stability": panel_rank_stability(per_baseline),
            "reference_rank_stability": panel_rank_stability(per_reference),
            "worst_baseline": worst,
        }
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          f"mean over {len(per_score)} baselines of agreement with exact Shapley at that baseline",
                          f"baseline {worst!r}: agreement {per_score[worst]:.3f}; rank stability across baselines "
                          f"{evidence['rank_stability']:.2f} vs exact {evidence['reference_rank_stability']:.2f}")
        return CheckResult.scored(measured, self.threshold, message, evidence)
