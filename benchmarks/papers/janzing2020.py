"""Janzing, Minorics & Blöbaum 2020: observational vs interventional Shapley — feature relevance is causal.

For ``f(x) = x0 + x1`` the interventional value function ``v(S) = E_z f(x_S, z_{N\\S})`` gives each feature its own
term's deviation, ``φ_i = x_i - E[X_i]``, whatever the dependence between the inputs (additive models).
The observational (conditional) value function ``v(S) = E[f(X) | X_S = x_S]`` mixes the terms when the inputs are
dependent, so the same function gets different attributions under different input distributions; under independent
inputs both coincide.

We use ``janzing_independent``, ``janzing_dependent`` and ``janzing_correlated`` (f = x0 + x1 under three discrete
distributions) and the exact oracles of ``xaicheck.synthetic_models.shapley``.

Citation: D. Janzing, L. Minorics, P. Blöbaum, "Feature relevance quantification in explainable AI: a causal
problem", AISTATS 2020.
"""

from __future__ import annotations

import numpy as np

from ._common import discrete_distribution, weighted_interventional_shapley
from .claims import Claim, Measurement, Paper, fmt, measures, need_model

__all__ = ["PAPER", "CLAIMS"]

MODELS: tuple[str, ...] = ("janzing_independent", "janzing_dependent", "janzing_correlated")
EXACT_TOL = 1e-9

CLAIMS: tuple[Claim, ...] = (
    Claim("interventional_is_term_deviation", "Interventional Shapley of x0 + x1 is φ_i = x_i - E[X_i] for every "
          "input distribution (dependence does not matter).", "interventional Shapley for additive functions",
          "φ_i = x_i - E[X_i] exactly"),
    Claim("observational_equals_interventional_when_independent", "Under independent inputs the observational "
          "(conditional) and interventional Shapley values coincide.", "observational vs interventional", "equal"),
    Claim("observational_differs_when_dependent", "Under dependent inputs (P(x1 = x0) = 0.9) the observational "
          "Shapley values of the same function differ from the interventional ones (credit flows between correlated "
          "features).", "example with correlated inputs", "differ"),
    Claim("observational_credits_unused_feature", "Observational Shapley gives non-zero credit to a feature the "
          "function never reads when it is correlated with one it reads; interventional Shapley gives it zero.",
          "motivating example", "unused feature: observational != 0, interventional = 0"),
)


def _one(name: str) -> dict:
    from xaicheck.synthetic_models.shapley import conditional_shapley

    model = need_model(name)
    support, probs, how = discrete_distribution(model)
    f = model.predict
    obs = conditional_shapley(f, support, support, probs)
    itv = weighted_interventional_shapley(f, support, support, probs)
    mean = probs @ support
    term_gap = float(np.max(np.abs(itv[:, :2] - (support[:, :2] - mean[:2]))))
    gap = float(np.max(np.abs(obs - itv)))
    # independence of the (declared or empirical) distribution: max |p(a,b) - p(a)p(b)|
    vals0, inv0 = np.unique(support[:, 0], return_inverse=True)
    vals1, inv1 = np.unique(support[:, 1], return_inverse=True)
    joint = np.zeros((len(vals0), len(vals1)))
    np.add.at(joint, (inv0, inv1), probs)
    dependence = float(np.max(np.abs(joint - joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True))))
    k = int(np.argmax(np.abs(obs - itv).max(axis=1)))
    return {"how": how, "term_gap": term_gap, "obs_vs_itv": gap, "dependence": dependence,
            "example": {"x": support[k].tolist(), "observational": obs[k].tolist(), "interventional": itv[k].tolist()}}


@measures("interventional_is_term_deviation", "observational_equals_interventional_when_independent",
          "observational_differs_when_dependent", "observational_credits_unused_feature")
def _measure() -> list[Measurement]:
    res = {name: _one(name) for name in MODELS}
    term = {n: r["term_gap"] for n, r in res.items()}
    ind = res["janzing_independent"]
    dep = {n: res[n] for n in MODELS[1:]}
    judged = dep["janzing_dependent"]
    # the empirical distribution of a sampled independent model is only approximately independent
    tol_ind = EXACT_TOL if ind["dependence"] <= 1e-12 else 5 * ind["dependence"] + EXACT_TOL
    return [
        Measurement("interventional_is_term_deviation", max(term.values()) <= EXACT_TOL, {"max_gap": term},
                    "max |φ_i - (x_i - E X_i)| over the support: "
                    + ", ".join(f"{n} {fmt(v)}" for n, v in term.items())),
        Measurement("observational_equals_interventional_when_independent", ind["obs_vs_itv"] <= tol_ind,
                    {"max_abs_obs_minus_itv": ind["obs_vs_itv"], "dependence": ind["dependence"],
                     "distribution": ind["how"]},
                    f"janzing_independent: max |obs - itv| = {fmt(ind['obs_vs_itv'])} (tolerance {fmt(tol_ind)}; "
                    f"max |p(a,b) - p(a)p(b)| = {fmt(ind['dependence'])})"),
        Measurement("observational_differs_when_dependent", judged["obs_vs_itv"] > 1e-6,
                    {n: {"max_abs_obs_minus_itv": r["obs_vs_itv"], "dependence": r["dependence"],
                         "example": r["example"]} for n, r in dep.items()},
                    "; ".join(f"{n}: max |obs - itv| = {fmt(r['obs_vs_itv'])} (dependence {fmt(r['dependence'])})"
                              for n, r in dep.items())
                    + ". Judged on janzing_dependent; on janzing_correlated (x1 = x0 always) both values coincide on "
                    "the support because x0 = x1 there, so only the dependent-but-not-identical case can separate "
                    "them"),
        _unused_feature(),
    ]


def _unused_feature() -> Measurement:
    from xaicheck.synthetic_models.shapley import conditional_shapley

    model = need_model("copy_feature")
    support, probs, how = discrete_distribution(model)
    dummies = sorted(model.ground_truth.dummy)
    obs = conditional_shapley(model.predict, support, support, probs)
    itv = weighted_interventional_shapley(model.predict, support, support, probs)
    o, i = float(np.max(np.abs(obs[:, dummies]))), float(np.max(np.abs(itv[:, dummies])))
    return Measurement("observational_credits_unused_feature", o > 1e-6 and i <= EXACT_TOL,
                       {"max_abs_observational_unused": o, "max_abs_interventional_unused": i,
                        "observational_rows": obs.tolist()},
                       f"copy_feature (unused feature(s) {dummies}, distribution {how}): max |observational φ| = "
                       f"{fmt(o)}, max |interventional φ| = {fmt(i)}")


PAPER = Paper(
    name="janzing2020",
    title="Feature relevance quantification in explainable AI: a causal problem",
    citation="Janzing, Minorics & Blöbaum, AISTATS 2020",
    claims=CLAIMS,
    measure_fns=(_measure,),
    setup="f = x0 + x1 under an independent, a dependent and a correlated discrete distribution; exact "
          "observational (conditional) and interventional Shapley values on every support point.",
)
