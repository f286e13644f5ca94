"""Registered boolean models, and the search for functions where Shapley values disagree with formal relevance.

Lundberg et al. 2018 ("Consistent individualized feature attribution for tree ensembles") give the cough/fever
models: A = [cough and fever]*80, B = [cough and fever]*80 + [cough]*10.
Huang & Marques-Silva 2023 ("The inadequacy of Shapley values for explainability", arXiv:2302.08160) show boolean
functions where, with SHAP scores under the uniform distribution, v(S) = E[f(z) | z_S = x_S], a feature in no
abductive explanation of x gets a non-zero score (I1) or a feature in some AXp gets exactly zero (I2). Under the
uniform (product) distribution v(S) equals the interventional value function with the full truth table as background,
so the scores are ``shapley.interventional_shapley(f, x, truth_table)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .abductive import formal_relevance, truth_table_inputs
from .boolean import And, Majority, Not, Or, Parity, Var
from .boolean_model import BooleanModel
from .declarations import Placement
from .registry import register_model
from .shapley import coalitions, shapley_weights

__all__ = ["uniform_shapley_all", "shapley_relevance_issues", "hms_witnesses", "ZERO_TOL"]

#: |phi| at or below this counts as zero (uniform Shapley values of 0/1 functions are multiples of 1/(n! 2^n)).
ZERO_TOL = 1e-12

x0, x1, x2 = Var(0), Var(1), Var(2)


@register_model("and", placed={
    "completeness": "quick",
    "symmetry": "quick",
    "sensitivity": "quick",
    "linearity": Placement("default", params={"partner": "xor", "coefficients": (1.0, 1.0)}),
})
def _and() -> BooleanModel:
    return BooleanModel("and", x0 & x1)


@register_model("or", placed={
    "sensitivity": "default",
})
def _or() -> BooleanModel:
    return BooleanModel("or", x0 | x1)


@register_model("xor", placed={
    "ground_truth_agreement": "full",
    "sensitivity": "default",
})
def _xor() -> BooleanModel:
    return BooleanModel("xor", x0 ^ x1)


@register_model("a_and_b_or_c", placed={
    "completeness": "default",
    "ground_truth_agreement": "quick",
    "relevance": "default",
    "sensitivity": "default",
})
def _a_and_b_or_c() -> BooleanModel:
    return BooleanModel("a_and_b_or_c", x0 & (x1 | x2), feature_names=("a", "b", "c"))


@register_model("cough_fever")
def _cough_fever() -> BooleanModel:
    """Model A of Lundberg et al. 2018: f = 80 [cough and fever]."""
    return BooleanModel("cough_fever", 80 * (x0 & x1), feature_names=("cough", "fever"))


@register_model("cough_fever_10_90", placed={
    "ground_truth_agreement": "default",
})
def _cough_fever_10_90() -> BooleanModel:
    """Model B of Lundberg et al. 2018: f = 80 [cough and fever] + 10 [cough] (cough matters more)."""
    return BooleanModel("cough_fever_10_90", 80 * (x0 & x1) + 10 * x0, feature_names=("cough", "fever"))


@register_model("majority3", placed={
    "completeness": "full",
    "symmetry": "default",
    "ground_truth_agreement": "full",
    "relevance": "full",
    "sensitivity": "default",
})
def _majority3() -> BooleanModel:
    return BooleanModel("majority3", Majority(x0, x1, x2))


@register_model("parity3")
def _parity3() -> BooleanModel:
    return BooleanModel("parity3", Parity(x0, x1, x2))


@register_model("and_with_dummy", placed={
    "dummy": "quick",
})
def _and_with_dummy() -> BooleanModel:
    return BooleanModel("and_with_dummy", x0 & x1, n_vars=3)


@register_model("hms_irrelevant_nonzero", placed={
    "relevance": "quick",
})
def _hms_irrelevant_nonzero() -> BooleanModel:
    """f = x2 or (x0 and x1); witness x = (1, 1, 0): f(x) = 1, E f = 5/8, its only AXp is {0, 1}, so x2 is formally
    irrelevant, yet the uniform Shapley values are phi = (7/24, 7/24, -5/24). Among the 3-variable functions that
    depend on all variables this |phi| = 5/24 is the largest an irrelevant feature gets (``hms_witnesses``)."""
    model = BooleanModel("hms_irrelevant_nonzero", x2 | (x0 & x1),
                         notes="HMS 2023 issue I1: x2 irrelevant at (1,1,0) but phi_2 = -5/24")
    model.witness_x = np.array([1.0, 1.0, 0.0])
    model.witness_shapley = np.array([7.0, 7.0, -5.0]) / 24.0
    return model


@register_model("hms_relevant_zero", placed={
    "relevance": "quick",
})
def _hms_relevant_zero() -> BooleanModel:
    """f = [x0 = x1 = x2]; witness x = (1, 0, 0): f(x) = 0, E f = 1/4, AXps {0, 1} and {0, 2}, so every feature is
    relevant, yet the uniform Shapley values are phi = (-1/4, 0, 0): x1 and x2 get exactly zero."""
    model = BooleanModel("hms_relevant_zero", Or(And(x0, x1, x2), And(Not(x0), Not(x1), Not(x2))),
                         notes="HMS 2023 issue I2: x1, x2 relevant at (1,0,0) but phi = 0")
    model.witness_x = np.array([1.0, 0.0, 0.0])
    model.witness_shapley = np.array([-1.0, 0.0, 0.0]) / 4.0
    return model


# ------------------------------------------------------------------------------------------------ enumeration
def _all_tables(n: int, start: int, stop: int) -> np.ndarray:
    c = 1 << n
    return ((np.arange(start, stop, dtype=np.int64)[:, None] >> np.arange(c)) & 1).astype(np.float64)


def uniform_shapley_all(Y: np.ndarray) -> np.ndarray:
    """``phi[K, p, i]``: Shapley values at every point p of each truth table ``Y[K, 2^n]`` for the uniform
    distribution, v(S) = mean of f over the points agreeing with x_p on S (one matrix product)."""
    c = Y.shape[-1]
    n = c.bit_length() - 1
    X, masks = truth_table_inputs(n), coalitions(n)
    agree = ((X[:, None, None, :] == X[None, :, None, :]) | ~masks[None, None, :, :]).all(-1)  # [z, p, S]
    A = (agree / agree.sum(axis=0, keepdims=True)).reshape(c, -1)
    return (Y @ A).reshape(-1, c, c) @ shapley_weights(n)


def _issues(Y: np.ndarray) -> dict[str, np.ndarray]:
    phi = uniform_shapley_all(Y)
    rel = formal_relevance(Y.astype(bool))
    zero = np.abs(phi) <= ZERO_TOL
    irr_nonzero = ~rel & ~zero
    rel_zero = rel & zero
    max_irr = np.where(rel, 0.0, np.abs(phi)).max(axis=2)
    min_rel = np.where(rel, np.abs(phi), np.inf).min(axis=2)
    return {"phi": phi, "relevant": rel, "irrelevant_nonzero": irr_nonzero, "relevant_zero": rel_zero,
            "irrelevant_dominates": max_irr > min_rel + ZERO_TOL}


def shapley_relevance_issues(n: int, chunk: int = 8192) -> dict[str, Any]:
    """Count, over all 2^(2^n) boolean functions of n variables, those with an instance where
    - ``irrelevant_nonzero``: a formally irrelevant feature has a non-zero uniform Shapley value (HMS I1),
    - ``relevant_zero``: a formally relevant feature has a zero Shapley value (HMS I2),
    - ``irrelevant_dominates``: some irrelevant feature has a larger |phi| than some relevant one,
    and ``any`` of these. Exhaustive (no sampling) for n <= 4; n = 4 takes seconds."""
    if not 1 <= n <= 4:
        raise ValueError(f"exhaustive enumeration covers n = 1..4 variables (2^(2^n) functions); got n={n}")
    total = 1 << (1 << n)
    counts = {"irrelevant_nonzero": 0, "relevant_zero": 0, "irrelevant_dominates": 0, "any": 0}
    for start in range(0, total, chunk):
        found = _issues(_all_tables(n, start, min(start + chunk, total)))
        flags = {k: found[k].reshape(found[k].shape[0], -1).any(axis=1) for k in counts if k != "any"}
        flags["any"] = np.logical_or.reduce(list(flags.values()))
        for k in counts:
            counts[k] += int(flags[k].sum())
    return {"n": n, "functions": total, **counts}


def hms_witnesses(kind: str, n: int = 3) -> list[dict[str, Any]]:
    """All (function, instance, feature) triples of issue ``kind`` ('irrelevant_nonzero' or 'relevant_zero') among
    the n-variable functions that depend on every variable, largest |phi| first (ties: smallest table code)."""
    if kind not in ("irrelevant_nonzero", "relevant_zero"):
        raise ValueError(f"kind must be 'irrelevant_nonzero' or 'relevant_zero'; got {kind!r}")
    c = 1 << n
    Y = _all_tables(n, 0, 1 << c)
    codes = np.arange(c)
    depends = np.all([(Y != Y[:, codes ^ (1 << i)]).any(axis=1) for i in range(n)], axis=0)
    found = _issues(Y)
    out = []
    for k, p, i in zip(*np.nonzero(found[kind] & depends[:, None, None])):
        out.append({"table": Y[k].astype(int).tolist(), "code": int(k), "x": ((p >> np.arange(n)) & 1).tolist(),
                    "feature": int(i), "phi": found["phi"][k, p].tolist(),
                    "relevant": np.flatnonzero(found["relevant"][k, p]).tolist()})
    out.sort(key=lambda w: (-round(abs(w["phi"][w["feature"]]), 9), w["code"]))
    return out
