"""robustness: max-sensitivity of the explanation to small input perturbations (Yeh et al. 2019, sec. 4).

"On the (in)fidelity and sensitivity of explanations" defines SENS_max(Φ, f, x, r) = max_{||δ||_∞ <= r}
||Φ(f, x + δ) - Φ(f, x)||, estimated by Monte Carlo over random δ in the ball. We report it relative to the
explanation's own size, as Quantus does ("normalise"), so the number does not depend on the output's units:

    ms(x) = max_{j <= m} ||a(x + δ_j) - a(x)||_2 / max(||a(x)||_2, ε),   δ_j ~ U[-r, r]^d   (seeded)
    score = mean over rows of 1 / (1 + ms(x))

ε = ``SENS_TOLERANCE`` scaled by the largest |a| over all explained points, so a zero explanation at x compared with
zero explanations nearby gives ms = 0 (nothing moved) and a zero explanation at x next to non-zero ones gives a large
ms. r = ``RADIUS_FRACTION`` times the per-feature range of the case's background. 1 = the explanation does not move,
0.5 = it moves by as much as its own norm. The perturbed points are explained with the same explainer seed as x.

The radius: Yeh et al. leave r to the user; common defaults are captum's ``sensitivity_max`` (L_inf radius 0.02 on
inputs usually scaled to [0, 1], i.e. 2% of the range) and Quantus' ``MaxSensitivity`` (uniform noise up to 0.2).
5% of each feature's data range sits between them: large enough that a method with a discontinuous or noisy
explanation moves, small enough that x + δ stays next to the data and (for the logistic cases) mostly on the same
side of the decision boundary, so a move reflects the explainer rather than a different model behaviour. A radius
relative to the data keeps features of different units comparable; features constant in the background are not
perturbed.

A perfectly robust explanation is not necessarily faithful (a constant one scores 1; Yeh et al. show the trade-off
with infidelity): this check measures stability only, the scoring layer flags checks that controls pass.

Cases: a regression model (``additive_nonlinear``, ``mlp_base``) and ``logistic_two_class`` split by the certainty
ratio (second-highest / highest class probability): ``logistic_two_class/near`` (the inputs closest to the decision
boundary, ratio near 1) and ``logistic_two_class/far`` (ratio near 0), target = class 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.seeding import case_rng

from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import rows, standard_case, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["Robustness", "max_sensitivity", "RADIUS_FRACTION", "N_PERTURBATIONS"]

#: Radius of the L_inf ball as a fraction of each feature's range over the background.
RADIUS_FRACTION = 0.05
#: Monte Carlo perturbations per input.
N_PERTURBATIONS = 8
#: ε of the relative sensitivity: relative to the largest |attribution| of all explained points.
SENS_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-12)
PERTURBATION_SEED = 7

_QUICK, _DEFAULT, _FULL = frozenset({"quick", "default", "full"}), frozenset({"default", "full"}), frozenset({"full"})


def max_sensitivity(A: np.ndarray, A_pert: np.ndarray, tol: Tolerance = SENS_TOLERANCE) -> np.ndarray:
    """Relative max-sensitivity ``[n]`` from attributions ``A [n, d]`` and ``A_pert [n, m, d]`` of perturbed points."""
    A = np.asarray(A, dtype=np.float64)
    A_pert = np.asarray(A_pert, dtype=np.float64)
    if A_pert.ndim != 3 or A_pert.shape[0] != A.shape[0] or A_pert.shape[2] != A.shape[1]:
        raise ValueError(f"Expected perturbed attributions [n, m, d] for A {A.shape} but got {A_pert.shape}")
    eps = float(tol.bound(max(np.abs(A).max(initial=0.0), np.abs(A_pert).max(initial=0.0))))
    change = np.linalg.norm(A_pert - A[:, None, :], axis=2).max(axis=1)
    return change / np.maximum(np.linalg.norm(A, axis=1), eps)


def perturbations(X: np.ndarray, radius: np.ndarray, m: int, seed: int) -> np.ndarray:
    """``[n, m, d]`` points ``x + δ`` with ``δ ~ U[-r, r]^d`` drawn from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    return X[:, None, :] + rng.uniform(-1.0, 1.0, size=(n, m, d)) * np.asarray(radius)[None, None, :]


def _logistic_cases(model: "SyntheticModel") -> list[Case]:
    from xaicheck.synthetic_models.classification import certainty_ratio

    rng = case_rng(3)
    pool = model.sample(200, rng)
    ratio = np.asarray(certainty_ratio(model.predict(pool)), dtype=np.float64)
    order = np.argsort(-ratio, kind="stable")
    background = model.sample(16, rng)
    baseline = np.zeros(model.n_features)
    out = []
    for group, idx, tiers in (("near", order[:4], _QUICK), ("far", order[-4:], _DEFAULT)):
        out.append(Case(check="robustness", name=f"{model.name}/{group}", model=model, X=pool[idx],
                        baseline=baseline, background=background, target=1, tiers=tiers,
                        extra={"certainty_ratio": ratio[idx].tolist()},
                        description=f"inputs {group} the decision boundary (certainty ratio {ratio[idx].round(3)})"))
    return out


@register_check
class Robustness(Check):
    """Max-sensitivity: mean over rows of 1 / (1 + max_δ ||a(x+δ) - a(x)|| / ||a(x)||), ||δ||_∞ <= r."""

    name = "robustness"
    category = "stability"
    threshold = 0.5
    version = 1
    citation = "Yeh et al. 2019, On the (in)fidelity and sensitivity of explanations (NeurIPS), sec. 4"

    def cases(self) -> list[Case]:
        out: list[Case] = []
        out += _logistic_cases(get_model("logistic_two_class"))
        for name, tiers in (("additive_nonlinear", _DEFAULT), ("mlp_base", _FULL),
                            ("unit_shattered", _DEFAULT), ("mlp_d8", _DEFAULT)):  # behaviour unit; scaled MLP
            out.append(standard_case(self.name, get_model(name), tiers, n=4, seed=4))
        return out

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        X = case.X
        n, d = X.shape
        ref = case.background if case.background is not None else X
        radius = RADIUS_FRACTION * (ref.max(axis=0) - ref.min(axis=0))
        P = perturbations(X, radius, N_PERTURBATIONS, PERTURBATION_SEED)
        A = case.explain(explainer, seed=seed)
        baseline = None
        if case.baseline is not None:
            B = np.broadcast_to(np.asarray(case.baseline, dtype=np.float64), (n, d))
            baseline = np.repeat(B, N_PERTURBATIONS, axis=0)
        A_pert = explainer.explain(case.model, P.reshape(-1, d), baseline=baseline, background=case.background,
                                   target=case.target, seed=seed)
        if A_pert.shape[0] != n * N_PERTURBATIONS:
            raise ValueError(f"{explainer.name} returned {A_pert.shape[0]} rows for {n * N_PERTURBATIONS} points")
        ms = max_sensitivity(A, A_pert.reshape(n, N_PERTURBATIONS, d))
        row_score = 1.0 / (1.0 + ms)
        measured = float(row_score.mean())
        worst = int(np.argmax(ms))
        evidence = {
            "measured": measured,
            "threshold": self.threshold,
            "attributions": rows(A),
            "max_sensitivity": ms.tolist(),
            "row_score": row_score.tolist(),
            "radius": radius.tolist(),
            "n_perturbations": N_PERTURBATIONS,
            "perturbation_seed": PERTURBATION_SEED,
            **({"certainty_ratio": case.extra["certainty_ratio"]} if "certainty_ratio" in case.extra else {}),
        }
        evidence["worst_row"] = worst
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "stability = mean over rows of 1 / (1 + relative max-sensitivity)",
                          f"row {worst} x={np.round(X[worst], 3).tolist()}: ||a(x+δ) - a(x)|| / ||a(x)|| = "
                          f"{ms[worst]:.3g} (row score {row_score[worst]:.3f}) within |δ_i| <= "
                          f"{np.round(radius, 3).tolist()}")
        return CheckResult.scored(measured, self.threshold, message, evidence)
