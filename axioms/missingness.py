"""missingness: a feature equal to its baseline gets zero attribution.

Lundberg & Lee 2017, "A unified approach to interpreting model predictions", property 2 (missingness):
``x'_i = 0 ⇒ φ_i = 0`` — a feature that is "missing" from the input (here: equal to the reference value the
explainer replaces it with) receives no attribution. Applies to explainers that take a baseline (the reference is
then explicit); explainers with no baseline, or with a background distribution, define missingness differently and
are not applicable.

Inputs: the model's samples with a random third of each row's features set to the baseline (fixed per case). For
every such (row, i) with x_i = b_i: ``ok = |a_i| <= 10⁻³ × R`` with R the model's output range over the rows and
the baseline (the model's unit, never the explainer's); score = share ok. Role **gate** (floor 1.0): the zero
explanation satisfies missingness, so it is a necessary condition, not a quality.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from ._faithfulness import target_predict
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import rows, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["Missingness"]

MISSING_TOLERANCE = Tolerance(rtol=1e-3, atol=1e-12)


def _case(check: str, model: "SyntheticModel", tiers: frozenset[str], n: int = 8) -> Case:
    name = model.name
    rng = np.random.default_rng(zlib.crc32(f"{check}/{name}".encode()))
    X, baseline = model.sample(n, rng), np.zeros(model.n_features)
    missing = rng.random(X.shape) < 1.0 / 3.0
    missing[np.arange(n), rng.integers(0, model.n_features, size=n)] = True  # every row has a missing feature
    X = np.where(missing, baseline, X)
    return Case(check=check, name=name, model=model, X=X, baseline=baseline, background=model.sample(16, rng),
                target=1 if model.n_outputs > 1 else None, tiers=tiers,
                description="a third of each row's features set to the baseline: those must get zero")


@register_check
class Missingness(Check):
    """Lundberg & Lee 2017 missingness: features equal to the baseline get zero attribution (a gate)."""

    name = "missingness"
    category = "axioms"
    threshold = 1.0
    floor = 1.0
    role = "gate"
    version = 1
    citation = "Lundberg & Lee 2017, A unified approach to interpreting model predictions, property 2"

    def cases(self) -> list[Case]:
        """Every placed model (any): 8 draws with a random third of each row's features set to the zero baseline."""
        return placed_cases(self.name, lambda model, place: _case(self.name, model, place.tiers))

    def applies(self, explainer: "Explainer", case: Case) -> tuple[bool, str]:
        if not explainer.capabilities.uses_baseline:
            return False, f"missingness is defined relative to a baseline; {explainer.name} takes none"
        return super().applies(explainer, case)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        f = target_predict(case)
        scale = float(np.ptp(np.concatenate([f(case.X), f(case.baseline[None, :])])))
        missing = case.X == np.broadcast_to(case.baseline, case.X.shape)
        ok = np.abs(A) <= MISSING_TOLERANCE.bound(scale)
        measured = float(ok[missing].mean())
        r, i = np.unravel_index(np.argmax(np.where(missing, np.abs(A), -1.0)), A.shape)
        evidence: dict[str, Any] = {
            "measured": measured, "threshold": self.threshold, "floor": self.floor, "output_range": scale,
            "missing_features": int(missing.sum()), "missing_with_zero_attribution": int(ok[missing].sum()),
            "largest_missing_attribution": float(abs(A[r, i])), "attributions": rows(A), "inputs": rows(case.X),
            "tolerance": {"rtol": MISSING_TOLERANCE.rtol, "atol": MISSING_TOLERANCE.atol},
        }
        detail = (f"row {r} x={np.round(case.X[r], 3).tolist()}: feature {case.model.feature_names[i]} equals the "
                  f"baseline but gets {A[r, i]:.4g} (tolerance {MISSING_TOLERANCE.bound(scale):.3g})")
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "share of baseline-valued features with zero attribution", detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
