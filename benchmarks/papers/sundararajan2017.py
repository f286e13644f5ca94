"""Sundararajan, Taly & Yan 2017 (Integrated Gradients): sensitivity, completeness, implementation invariance.

- Sec. 2.1: plain gradients violate Sensitivity(a). For ``f(x) = 1 - ReLU(1 - x)`` (d = 1), baseline ``x' = 0`` and
  input ``x = 2``: ``f`` changes from 0 to 1, yet ``∂f/∂x(2) = 0``.
- Sec. 3, Prop. 1 (Completeness): ``Σ_i IG_i(x) = f(x) - f(x')``; Sec. 5 recommends enough steps that the Riemann
  approximation is within 5% of ``f(x) - f(x')``.
- Sec. 2.2: DeepLift and LRP break Implementation Invariance on the functionally equivalent pair
  ``f(x1, x2) = ReLU(ReLU(x1) - 1 - ReLU(x2))`` and ``g(x1, x2) = ReLU(ReLU(x1 - 1) - ReLU(x2))``; IG (a function of
  the gradients only) satisfies it.

Models ``one_minus_relu``, ``sundararajan_pair_a``, ``sundararajan_pair_b``; explainers ``saliency``,
``integrated_gradients``, ``deeplift``, ``lrp`` (the project's captum adapters).

Citation: M. Sundararajan, A. Taly, Q. Yan, "Axiomatic attribution for deep networks", ICML 2017.
"""

from __future__ import annotations

import numpy as np

from ._common import explain, max_abs_diff
from .claims import Claim, Measurement, Paper, fmt, measures, need_explainer, need_model

__all__ = ["PAPER", "CLAIMS"]

#: Completeness tolerance of Sec. 5 ("within 5%").
COMPLETENESS_RTOL = 0.05
#: Attributions of the two equivalent networks differ when some feature differs by more than this.
INVARIANCE_TOL = 1e-3
#: Inputs of the pair (x1 > 1 so both networks are active) and the zero baseline.
PAIR_X = np.array([[3.0, 1.0], [2.0, 0.5], [1.5, 0.2]])
PAIR_BASELINE = np.zeros(2)

CLAIMS: tuple[Claim, ...] = (
    Claim("gradient_violates_sensitivity", "Gradients give zero attribution at x = 2 for f(x) = 1 - ReLU(1 - x) "
          "although f(2) - f(0) = 1 (Sensitivity(a) violated).", "Sec. 2.1", "gradient 0 while f(x) - f(x') = 1"),
    Claim("ig_satisfies_sensitivity", "Integrated Gradients gives the input the full difference f(x) - f(x') = 1 on "
          "the same example.", "Sec. 3 (completeness implies Sensitivity(a))", "IG(x = 2) = 1"),
    Claim("ig_completeness", "IG attributions add up to f(x) - f(x') (within 5% with enough steps).",
          "Sec. 3 (Prop. 1); computing IG (within 5%)", "|Σ IG - (f(x) - f(x'))| <= 5%"),
    Claim("ig_implementation_invariant", "IG gives identical attributions to the two functionally equivalent "
          "networks f and g.", "Sec. 2.2 and 3", "identical"),
    Claim("deeplift_not_invariant", "DeepLift (rescale rule) gives different attributions to the functionally "
          "equivalent f and g.", "Sec. 2.2 (the equivalent-network example)", "different"),
    Claim("lrp_not_invariant", "LRP gives different attributions to the functionally equivalent f and g.",
          "Sec. 2.2", "different"),
)


@measures("gradient_violates_sensitivity", "ig_satisfies_sensitivity")
def _sensitivity() -> list[Measurement]:
    model = need_model("one_minus_relu")
    x, b = np.array([[2.0]]), np.array([0.0])
    delta = float(model.predict(x)[0] - model.predict(b[None, :])[0])
    grad = float(explain(need_explainer("saliency"), model, x)[0, 0])
    ig = float(explain(need_explainer("integrated_gradients"), model, x, baseline=b)[0, 0])
    return [
        Measurement("gradient_violates_sensitivity", abs(grad) <= 1e-12 and abs(delta) >= 0.5,
                    {"gradient": grad, "f_x_minus_f_baseline": delta},
                    f"one_minus_relu at x=2, baseline 0: f(x) - f(x') = {fmt(delta)}, gradient = {fmt(grad)}"),
        Measurement("ig_satisfies_sensitivity", abs(ig - delta) <= COMPLETENESS_RTOL * abs(delta),
                    {"ig": ig, "f_x_minus_f_baseline": delta},
                    f"IG(x=2) = {fmt(ig)} vs f(x) - f(x') = {fmt(delta)} (tolerance {COMPLETENESS_RTOL:.0%})"),
    ]


@measures("ig_completeness")
def _completeness() -> list[Measurement]:
    ig = need_explainer("integrated_gradients")
    worst: dict[str, float] = {}
    for name in ("one_minus_relu", "sundararajan_pair_a", "sundararajan_pair_b"):
        model = need_model(name)
        X = np.array([[2.0], [0.5], [3.0]]) if model.n_features == 1 else PAIR_X
        base = np.zeros(model.n_features)
        attr = explain(ig, model, X, baseline=base)
        delta = model.predict(X) - model.predict(base[None, :])[0]
        rel = np.abs(attr.sum(1) - delta) / np.maximum(np.abs(delta), 1e-12)
        worst[name] = float(rel.max())
    return [Measurement("ig_completeness", max(worst.values()) <= COMPLETENESS_RTOL, {"max_relative_gap": worst},
                        "max |Σ IG - (f(x) - f(x'))| / |f(x) - f(x')| per model: "
                        + ", ".join(f"{k} {fmt(v)}" for k, v in worst.items())
                        + f" ({ig.settings.get('n_steps', '?')} steps, {ig.settings.get('method', '?')})")]


def _pair(explainer_name: str) -> tuple[float, dict]:
    a, b = need_model("sundararajan_pair_a"), need_model("sundararajan_pair_b")
    same = max_abs_diff(a.predict(PAIR_X), b.predict(PAIR_X))
    if same > 1e-12:
        raise ValueError(f"sundararajan_pair_a and _b are not functionally equal on PAIR_X (gap {same})")
    exp = need_explainer(explainer_name)
    ra = explain(exp, a, PAIR_X, baseline=PAIR_BASELINE)
    rb = explain(exp, b, PAIR_X, baseline=PAIR_BASELINE)
    return max_abs_diff(ra, rb), {"x": PAIR_X.tolist(), "pair_a": ra.tolist(), "pair_b": rb.tolist()}


#: Why a result may differ from the paper (shown only when it does).
_NOTES = {
    "lrp": ". Why: the project's LRP is captum's epsilon rule, which on ReLU networks with biases left out of the "
           "relevance equals gradient x input (Ancona et al. 2018, Prop. 2 as epsilon -> 0); gradient x input is a "
           "function of the gradient alone, so it cannot tell equivalent networks apart. The paper's argument "
           "applies to LRP variants that do not reduce to gradients",
    "deeplift": ". Why: DeepLift's rescale rule multipliers equal the gradient on these networks",
}


@measures("ig_implementation_invariant", "deeplift_not_invariant", "lrp_not_invariant")
def _invariance() -> list[Measurement]:
    out = []
    for cid, name, want_equal in (("ig_implementation_invariant", "integrated_gradients", True),
                                  ("deeplift_not_invariant", "deeplift", False),
                                  ("lrp_not_invariant", "lrp", False)):
        gap, rows = _pair(name)
        equal = gap <= INVARIANCE_TOL
        note = _NOTES.get(name, "") if equal != want_equal else ""
        out.append(Measurement(cid, equal == want_equal, {"max_abs_diff": gap, "attributions": rows},
                               f"{name} on the equivalent pair (zero baseline where used): max |attr_f - attr_g| = "
                               f"{fmt(gap)} (equal when <= {INVARIANCE_TOL}); at x={PAIR_X[0].tolist()}: "
                               f"f {np.round(rows['pair_a'][0], 4).tolist()}, "
                               f"g {np.round(rows['pair_b'][0], 4).tolist()}{note}"))
    return out


PAPER = Paper(
    name="sundararajan2017",
    title="Axiomatic attribution for deep networks",
    citation="Sundararajan, Taly & Yan, ICML 2017",
    claims=CLAIMS,
    measure_fns=(_sensitivity, _completeness, _invariance),
    setup="f(x) = 1 - ReLU(1 - x) at x = 2 with baseline 0; the equivalent pair ReLU(ReLU(x1) - 1 - ReLU(x2)) / "
          "ReLU(ReLU(x1 - 1) - ReLU(x2)) at three inputs with x1 > 1 and zero baseline.",
)
