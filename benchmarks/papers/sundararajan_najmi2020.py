"""Sundararajan & Najmi 2020: the many Shapley values — conditional expectation (CES) breaks the Dummy axiom.

Three value functions (their Sec. 3): CES ``v(S) = E[f(X) | X_S = x_S]``; BShap ``v(S) = f(x_S, b_{N\\S})``;
RBShap / interventional ``v(S) = E_z f(x_S, z_{N\\S})``. Their Sec. 4.1 shows CES attributes to features the
model does not use when those are correlated with used ones; BShap and RBShap satisfy Dummy (Sec. 4.2).

We use the model ``copy_feature`` (x2 is a copy of x0, the function never reads x2), its discrete distribution
(declared support, else the empirical one from seeded draws) and the exact oracles in ``xaicheck.synthetic_models.shapley``.

Citation: M. Sundararajan, A. Najmi, "The many Shapley values for model explanation", ICML 2020.
"""

from __future__ import annotations

import numpy as np

from ._common import discrete_distribution, weighted_interventional_shapley
from .claims import Claim, Measurement, NotAvailable, Paper, fmt, measures, need_model

__all__ = ["PAPER", "CLAIMS"]

MODEL = "copy_feature"
#: |φ| at or below this is zero (exact enumeration: float error only).
ZERO_TOL = 1e-9

CLAIMS: tuple[Claim, ...] = (
    Claim("ces_violates_dummy", "Conditional-expectation Shapley (CES) gives non-zero attribution to a feature the "
          "model does not use, when it is correlated with a used feature.", "CES discussion (dummy axiom)",
          "dummy feature gets non-zero CES attribution"),
    Claim("bshap_satisfies_dummy", "Baseline Shapley (BShap) gives exactly zero to a feature the model does not use.",
          "BShap axioms (Dummy)", "dummy feature gets 0"),
    Claim("rbshap_satisfies_dummy", "Interventional / random-baseline Shapley (RBShap) gives exactly zero to a "
          "feature the model does not use.", "RBShap axioms (Dummy)", "dummy feature gets 0"),
    Claim("all_efficient", "All three satisfy efficiency: attributions sum to f(x) minus the reference "
          "(E f(X) for CES and RBShap, f(b) for BShap).", "definitions of the three games", "sum φ = v(N) - v(∅)"),
)


@measures("ces_violates_dummy", "bshap_satisfies_dummy", "rbshap_satisfies_dummy", "all_efficient")
def _measure() -> list[Measurement]:
    from xaicheck.synthetic_models.shapley import baseline_shapley, conditional_shapley

    model = need_model(MODEL)
    dummies = sorted(model.ground_truth.dummy)
    if not dummies:
        raise NotAvailable(f"model {MODEL!r} declares no dummy feature")
    support, probs, how = discrete_distribution(model)
    X = support  # every value of the distribution (CES is defined on the support)
    f = model.predict
    mean_f = float(probs @ f(support))
    baseline = probs @ support  # the mean input as BShap baseline
    ces = conditional_shapley(f, X, support, probs)
    bshap = baseline_shapley(f, X, baseline)
    rbshap = weighted_interventional_shapley(f, X, support, probs)
    dummy_max = {name: float(np.max(np.abs(phi[:, dummies]))) for name, phi in
                 (("ces", ces), ("bshap", bshap), ("rbshap", rbshap))}
    fx = f(X)
    eff = {"ces": float(np.max(np.abs(ces.sum(1) - (fx - mean_f)))),
           "bshap": float(np.max(np.abs(bshap.sum(1) - (fx - f(baseline[None, :])[0])))),
           "rbshap": float(np.max(np.abs(rbshap.sum(1) - (fx - mean_f))))}
    k = int(np.argmax(np.abs(ces[:, dummies]).max(axis=1)))
    rows = {"x": X[k].tolist(), "ces": ces[k].tolist(), "bshap": bshap[k].tolist(), "rbshap": rbshap[k].tolist()}
    common = f"{MODEL} (dummy features {dummies}), distribution {how}, {len(X)} support points"
    return [
        Measurement("ces_violates_dummy", dummy_max["ces"] > ZERO_TOL,
                    {"max_abs_dummy_ces": dummy_max["ces"], "worst_instance": rows},
                    f"{common}: max |CES φ_dummy| = {fmt(dummy_max['ces'])} (> {ZERO_TOL} means Dummy is violated)"),
        Measurement("bshap_satisfies_dummy", dummy_max["bshap"] <= ZERO_TOL,
                    {"max_abs_dummy_bshap": dummy_max["bshap"], "baseline": baseline.tolist()},
                    f"{common}: max |BShap φ_dummy| = {fmt(dummy_max['bshap'])} with the mean input as baseline"),
        Measurement("rbshap_satisfies_dummy", dummy_max["rbshap"] <= ZERO_TOL,
                    {"max_abs_dummy_rbshap": dummy_max["rbshap"]},
                    f"{common}: max |RBShap φ_dummy| = {fmt(dummy_max['rbshap'])}"),
        Measurement("all_efficient", max(eff.values()) <= 1e-9, {"max_efficiency_gap": eff},
                    f"largest |Σφ - (v(N) - v(∅))| over instances: CES {fmt(eff['ces'])}, "
                    f"BShap {fmt(eff['bshap'])}, "
                    f"RBShap {fmt(eff['rbshap'])}"),
    ]


PAPER = Paper(
    name="sundararajan_najmi2020",
    title="The many Shapley values for model explanation",
    citation="Sundararajan & Najmi, ICML 2020",
    claims=CLAIMS,
    measure_fns=(_measure,),
    setup="Exact CES / BShap / RBShap by enumeration on `copy_feature` (x2 copies x0; f never reads x2).",
)
