"""Adebayo et al. 2018: sanity checks for saliency maps — the cascading model-parameter randomisation test.

Fig. 2 (cascading randomisation): re-initialising a trained network's weights from the top layer down should destroy an
explanation that reflects the model. The gradient's maps change as the layers are randomised; Guided Backprop's
maps stay visually and rank-wise similar (high Spearman rank correlation of |attribution| with the original), i.e.
Guided Backprop is nearly invariant to the model's higher-layer parameters.

We run the project's ``model_randomisation`` check (cascading randomisation of the parameterised layers; score = mean
correlation over features of the change of |attribution| with the change of the exact attribution's |value|,
1 = changes as the truth does, 0 = does not change or changes arbitrarily) on each of its cases, for ``saliency``
(the gradient) and ``guided_backprop``.

Citation: J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim, "Sanity checks for saliency maps",
NeurIPS 2018.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .claims import Claim, Measurement, NotAvailable, Paper, fmt, measures, need_check, need_explainer

__all__ = ["PAPER", "CLAIMS"]

CHECK = "model_randomisation"
#: Suites whose cases are run (all: three ReLU MLPs, padded to 6 features; the CNN has no exact attribution).
TIERS = frozenset({"quick", "default", "full"})
SEED = 0

CLAIMS: tuple[Claim, ...] = (
    Claim("gradient_sensitive_to_randomisation", "Gradient maps change substantially when the model's weights are "
          "randomised (the gradient passes the model randomisation test).", "model randomisation test, Fig. 2",
          "low rank correlation with the original map (passes)"),
    Claim("guided_backprop_nearly_invariant", "Guided Backprop maps stay similar to the original when the model's "
          "weights are randomised (fails the model randomisation test).", "model randomisation test, Fig. 2",
          "high rank correlation with the original map (fails)"),
    Claim("guided_backprop_less_sensitive_than_gradient", "Guided Backprop changes less under randomisation than the "
          "gradient.", "model randomisation test", "GBP similarity > gradient similarity"),
)


def _scores(explainer_name: str) -> dict[str, Any]:
    from xaicheck.axioms import Status, cases_of

    check = need_check(CHECK)
    exp = need_explainer(explainer_name)
    per_case: dict[str, Any] = {}
    for case in cases_of(check):
        if not (case.tiers & TIERS):
            continue
        res = check.run(exp, case, seed=SEED)
        if res.status is Status.OK:
            per_case[case.name] = {"score": res.score, "passed": res.passed,
                                   "measured": res.evidence.get("measured")}
        else:
            per_case[case.name] = {"status": str(res.status), "message": res.message[:200]}
    scored = [v for v in per_case.values() if "score" in v]
    if not scored:
        raise NotAvailable(f"{CHECK} produced no scored case for {explainer_name}: {per_case}")
    return {"mean_score": float(np.mean([v["score"] for v in scored])),
            "all_passed": all(v["passed"] for v in scored), "none_passed": not any(v["passed"] for v in scored),
            "threshold": check.threshold, "cases": per_case}


@measures("gradient_sensitive_to_randomisation", "guided_backprop_nearly_invariant",
          "guided_backprop_less_sensitive_than_gradient")
def _measure() -> list[Measurement]:
    grad, gbp = _scores("saliency"), _scores("guided_backprop")

    def line(name: str, r: dict) -> str:
        cases = ", ".join(f"{k} {fmt(v['score'])}" if "score" in v else f"{k} {v['status']}"
                          for k, v in r["cases"].items())
        return f"{name}: mean score {fmt(r['mean_score'])} (threshold {fmt(r['threshold'])}; {cases})"

    return [
        Measurement("gradient_sensitive_to_randomisation", grad["all_passed"], grad, line("saliency", grad)),
        Measurement("guided_backprop_nearly_invariant", gbp["none_passed"], gbp,
                    line("guided_backprop", gbp) + ("" if gbp["none_passed"] else
                    ". Likely reason: the paper's invariance is observed on deep convolutional networks and natural "
                    "images, where Guided Backprop behaves like partial image recovery (Nie et al. 2018); on these "
                    "small networks (three ReLU MLPs on 4-5 features) its backward pass still depends on the randomised "
                    "weights")),
        Measurement("guided_backprop_less_sensitive_than_gradient", gbp["mean_score"] < grad["mean_score"],
                    {"gradient_mean_score": grad["mean_score"], "guided_backprop_mean_score": gbp["mean_score"]},
                    f"mean change score: guided_backprop {fmt(gbp['mean_score'])} vs saliency {fmt(grad['mean_score'])}"
                    " (lower = more similar to the original, i.e. less sensitive)"),
    ]


PAPER = Paper(
    name="adebayo2018",
    title="Sanity checks for saliency maps",
    citation="Adebayo et al., NeurIPS 2018",
    claims=CLAIMS,
    measure_fns=(_measure,),
    setup="The project's model_randomisation check (cascading re-initialisation, top layer first) on all its cases, "
          "for the gradient (saliency) and Guided Backprop.",
)
