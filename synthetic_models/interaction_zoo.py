"""Models whose interactions are known exactly: the exam of the interaction checks (truth axis ``interaction``).

Each declares ``Declarations(axes={"interaction"})``: it joins the interaction checks only (``axioms.interaction_*``),
so it moves no score of the Shapley tracks. Every polynomial declares its ``multilinear_terms`` (the closed-form
Möbius transform, ``interaction_closed_forms``); the fitted tree needs only its estimator. Quick tier: three models
(AND/OR on bits, a pairwise model, a ±1 XOR/parity); default adds a third-order polynomial (d = 10), a sparse
pairwise model (d = 12), a fitted random forest (d = 6) and a boolean model at d = 16. More default-tier exams:
``interaction_logic_zoo`` (boolean functions on {0,1} and {-1,1}, order-3 polynomials, d = 4-16) and
``interaction_trained`` (a fitted gradient-boosting ensemble and a trained ReLU MLP).

    ia_and_or_d6      f = x0 x1 x2 + OR(x3, x4)                 {0,1}^6, x5 dummy      AND of three, OR of two
    ia_pairwise_d8    f = x0 + x0 x1 - 0.5 x2 x3 + 2 x4 x5      [-1, 1]^8, x6 x7 dummy
    ia_parity_pm1_d6  f = x0 x1 + 0.5 x2 x3 x4                  {-1, 1}^6, x5 dummy    XOR = product on ±1
    ia_poly3_d10      f = 1.5 x0 x1 x2 - x3 x4 + x5 x6 + 0.5 x7  [-1, 1]^10, x8 x9 dummy
    ia_sparse_d12     f = x0 x1 + x2 x3 + x4 x5 - x6 x7 + x8     [0, 2]^12, x9..x11 dummy
    ia_forest_d6      random forest (10 depth-4 trees) fitted to 2 x0 x1 + x2 - x3 on [-1, 1]^6; x4, x5 never split on
    ia_bool_d16       f = AND(x0, x1) + AND(x2, x3, x4) + XOR(x5, x6) + OR(x7, x8) + x9   {0,1}^16, x10..x15 dummy
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

import numpy as np

from .base import FunctionModel, GroundTruth, uniform_sampler
from .declarations import Declarations
from .registry import register_model

__all__ = ["AXIS", "ROWS", "PolynomialModel", "polynomial"]

#: The truth axis these models are an exam for.
AXIS = "interaction"
#: Rows explained per case: few, since an approximator answers one row at a time.
ROWS: Mapping[str, int] = {"quick": 2, "default": 3, "full": 6}
FAMILY = "interactions"


class PolynomialModel(FunctionModel):
    """``f(x) = Σ_T c_T Π_{i ∈ T} x_i`` with its ``multilinear_terms`` declared (the checks read them)."""

    multilinear_terms: Mapping[tuple[int, ...], float]


def _evaluate(terms: Mapping[tuple[int, ...], float], X: np.ndarray) -> np.ndarray:
    out = np.zeros(X.shape[0])
    for T, c in terms.items():
        out = out + c * np.prod(X[:, list(T)], axis=1)
    return out


def polynomial(name: str, terms: Mapping[tuple[int, ...], float], d: int, *, tier: str, notes: str,
               domain: str = "continuous", low: float = -1.0, high: float = 1.0,
               domain_values: tuple[float, float] = (0.0, 1.0), baseline: float = 0.0,
               symmetric: tuple[tuple[int, ...], ...] = (), interactions: tuple[tuple[int, ...], ...] = ()
               ) -> PolynomialModel:
    """A polynomial exam model (module docstring): relevant = features in some term, dummies the rest."""
    terms = {tuple(sorted(T)): float(c) for T, c in terms.items()}
    used = frozenset(i for T in terms for i in T)
    gt = GroundTruth(relevant=used, dummy=frozenset(range(d)) - used,
                     symmetric_groups=tuple(frozenset(g) for g in symmetric),
                     interactions=tuple(frozenset(g) for g in interactions), notes=notes)
    decl = Declarations(tiers=frozenset({tier}), domain_values=domain_values, baseline=baseline, rows=dict(ROWS),
                        axes=frozenset({AXIS}))
    sampler = None if domain == "binary" else uniform_sampler(d, low, high)
    model = PolynomialModel(name, FAMILY, lambda X: _evaluate(terms, X), tuple(f"x{i}" for i in range(d)), gt,
                            domain=domain, sampler=sampler, declarations=decl,  # type: ignore[arg-type]
                            spec={"kind": "polynomial", "terms": [[list(T), c] for T, c in terms.items()]})
    model.multilinear_terms = terms
    return model


@register_model("ia_and_or_d6", exam=True)
def ia_and_or_d6() -> PolynomialModel:
    """``x0 x1 x2 + OR(x3, x4)`` on bits (OR = x3 + x4 - x3 x4); x5 dummy."""
    return polynomial("ia_and_or_d6", {(0, 1, 2): 1.0, (3,): 1.0, (4,): 1.0, (3, 4): -1.0}, 6, tier="quick",
                      domain="binary", symmetric=((0, 1, 2), (3, 4)), interactions=((0, 1, 2), (3, 4)),
                      notes="AND(x0,x1,x2) + OR(x3,x4) on {0,1}^6; x5 dummy")


@register_model("ia_pairwise_d8", exam=True)
def ia_pairwise_d8() -> PolynomialModel:
    """``x0 + x0 x1 - 0.5 x2 x3 + 2 x4 x5`` on [-1, 1]^8; x6, x7 dummy."""
    return polynomial("ia_pairwise_d8", {(0,): 1.0, (0, 1): 1.0, (2, 3): -0.5, (4, 5): 2.0}, 8, tier="quick",
                      baseline=0.0, symmetric=((2, 3), (4, 5)), interactions=((0, 1), (2, 3), (4, 5)),
                      notes="x0 + x0x1 - 0.5x2x3 + 2x4x5; x6, x7 dummy")


@register_model("ia_parity_pm1_d6", exam=True)
def ia_parity_pm1_d6() -> PolynomialModel:
    """``x0 x1 + 0.5 x2 x3 x4`` on {-1, 1}^6 (XOR and a three-way parity); baseline the all-off corner -1."""
    return polynomial("ia_parity_pm1_d6", {(0, 1): 1.0, (2, 3, 4): 0.5}, 6, tier="quick", domain="binary",
                      domain_values=(-1.0, 1.0), baseline=-1.0, symmetric=((0, 1), (2, 3, 4)),
                      interactions=((0, 1), (2, 3, 4)), notes="XOR(x0,x1) + 0.5 parity(x2,x3,x4) on {-1,1}^6")


@register_model("ia_poly3_d10", exam=True)
def ia_poly3_d10() -> PolynomialModel:
    """``1.5 x0 x1 x2 - x3 x4 + x5 x6 + 0.5 x7`` on [-1, 1]^10; x8, x9 dummy."""
    return polynomial("ia_poly3_d10", {(0, 1, 2): 1.5, (3, 4): -1.0, (5, 6): 1.0, (7,): 0.5}, 10,
                      tier="default", baseline=0.0, symmetric=((0, 1, 2), (3, 4), (5, 6)),
                      interactions=((0, 1, 2), (3, 4), (5, 6)), notes="third-order polynomial; x8, x9 dummy")


@register_model("ia_sparse_d12", exam=True)
def ia_sparse_d12() -> PolynomialModel:
    """``x0 x1 + x2 x3 + x4 x5 - x6 x7 + x8`` on [0, 2]^12, baseline 1; x9..x11 dummy."""
    return polynomial("ia_sparse_d12", {(0, 1): 1.0, (2, 3): 1.0, (4, 5): 1.0, (6, 7): -1.0, (8,): 1.0}, 12,
                      tier="default", low=0.0, high=2.0, baseline=1.0, symmetric=((0, 1), (2, 3), (4, 5), (6, 7)),
                      interactions=((0, 1), (2, 3), (4, 5), (6, 7)), notes="sparse pairwise model; x9..x11 dummy")


@register_model("ia_bool_d16", exam=True)
def ia_bool_d16() -> PolynomialModel:
    """``AND(x0,x1) + AND(x2,x3,x4) + XOR(x5,x6) + OR(x7,x8) + x9`` on {0,1}^16; x10..x15 dummy."""
    terms = {(0, 1): 1.0, (2, 3, 4): 1.0, (5,): 1.0, (6,): 1.0, (5, 6): -2.0, (7,): 1.0, (8,): 1.0, (7, 8): -1.0,
             (9,): 1.0}
    return polynomial("ia_bool_d16", terms, 16, tier="default", domain="binary",
                      symmetric=((0, 1), (2, 3, 4), (5, 6), (7, 8)), interactions=((0, 1), (2, 3, 4), (5, 6), (7, 8)),
                      notes="AND, AND3, XOR, OR and one main effect on {0,1}^16; x10..x15 dummy")


@lru_cache(maxsize=1)
def _fitted_forest() -> object:
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(400, 6))
    X[:, 4:] = 0.0  # constant in training: no split on x4, x5 (exact dummies)
    y = 2 * X[:, 0] * X[:, 1] + X[:, 2] - X[:, 3]
    return RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0).fit(X, y)


@register_model("ia_forest_d6", exam=True)
def ia_forest_d6() -> FunctionModel:
    """A random forest (10 depth-4 trees) fitted to ``2 x0 x1 + x2 - x3``; x4, x5 never split on (dummies)."""
    est = _fitted_forest()
    used = frozenset(int(f) for t in est.estimators_ for f in t.tree_.feature if f >= 0)  # type: ignore[attr-defined]
    gt = GroundTruth(relevant=used, dummy=frozenset(range(6)) - used, interactions=(frozenset({0, 1}),),
                     notes="random forest fitted to 2 x0 x1 + x2 - x3; the interactions are the fitted trees' own")
    decl = Declarations(tiers=frozenset({"default"}), rows=dict(ROWS), axes=frozenset({AXIS}))
    model = FunctionModel("ia_forest_d6", FAMILY, lambda X: np.asarray(est.predict(X), dtype=np.float64),  # type: ignore[attr-defined]
                          tuple(f"x{i}" for i in range(6)), gt, sampler=uniform_sampler(6, -1.0, 1.0),
                          declarations=decl, spec={"kind": "random_forest", "n_estimators": 10, "max_depth": 4,
                                                   "fitted_to": "2 x0 x1 + x2 - x3"})
    model.sklearn_estimator = est  # type: ignore[attr-defined]
    model.is_tree_model = True  # type: ignore[attr-defined]
    return model
