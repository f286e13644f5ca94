"""Symmetry-preservation: features the function treats interchangeably, with equal values, get equal attributions.

Sundararajan, Taly & Yan 2017, "Axiomatic attribution for deep networks", sec. 4 (symmetry-preserving: "if
swapping two variables does not change the function, and they have identical values in the input and baseline,
then they receive identical attributions"); the Shapley symmetry axiom (Shapley 1953).
"""

from __future__ import annotations

from itertools import combinations, permutations
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.seeding import case_rng

from ._helpers import (axiom_scale, binary_points, exact_result, fallback_counterexample, fmt,
                       reference_output)
from ._declared import corners, declared_case
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Counterexample, Tolerance, register_check
from .counterexamples import Example, counterexample_for, model_formula, relu_nets, small_floats

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["Symmetry", "SYMMETRY_TOL", "symmetric_pairs", "symmetrise"]

#: ``|a_i - a_j| <= atol + rtol * scale``, scale = ``axiom_scale``: max(|f(x)-ref|, 1% of the output range).
SYMMETRY_TOL = Tolerance(rtol=1e-3, atol=1e-8)

N_ROWS = 4
N_BACKGROUND = 4


def symmetric_pairs(groups: Sequence[frozenset[int]], x: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` of one symmetric group with ``x_i == x_j`` and ``b_i == b_j``."""
    return [(i, j) for g in groups for i, j in combinations(sorted(g), 2) if x[i] == x[j] and b[i] == b[j]]


def symmetrise(Z: np.ndarray, groups: Sequence[frozenset[int]]) -> np.ndarray:
    """``Z`` with every permutation of every group's columns appended (an exchangeable background)."""
    out = Z
    for g in groups:
        members = sorted(g)
        copies = []
        for perm in permutations(members):
            C = out.copy()
            C[:, members] = out[:, list(perm)]
            copies.append(C)
        out = np.unique(np.vstack(copies), axis=0)
    return out


def _inputs(model: "SyntheticModel", groups: Sequence[frozenset[int]], rng: np.random.Generator) -> np.ndarray:
    if model.domain == "binary":
        P = binary_points(model.n_features)[::-1]
        keep = [p for p in P if symmetric_pairs(groups, p, np.zeros_like(p)) and p.any()]
        return np.array(keep[:N_ROWS])
    X = model.sample(N_ROWS, rng)
    for g in groups:
        members = sorted(g)
        X[:, members] = X[:, [members[0]]]
    return X


def _verify_symmetric(model: "SyntheticModel", groups: Sequence[frozenset[int]]) -> None:
    """Raise unless swapping any two members of a group leaves ``f`` unchanged on 64 draws (and {0,1}^d if binary)."""
    Z = model.sample(64, np.random.default_rng(1))
    if model.domain == "binary":
        Z = np.vstack([Z, binary_points(model.n_features)])
    f = model.predict(Z)
    for g in groups:
        for i, j in combinations(sorted(g), 2):
            S = Z.copy()
            S[:, [i, j]] = Z[:, [j, i]]
            if not np.allclose(model.predict(S), f, rtol=1e-12, atol=1e-12):
                raise ValueError(f"symmetry: {model.name} is not symmetric in features {i}, {j}")


@register_check
class Symmetry(Check):
    """Symmetry-preservation, Sundararajan et al. 2017.

    For the groups ``G = extra['symmetric_groups']`` (default ``ground_truth.symmetric_groups``), row ``k`` is
    judged on the pairs ``(i, j)`` of one group with ``x_ki == x_kj`` and ``b_ki == b_kj`` (rows without such a pair
    are skipped; background explainers get an exchangeable background). err_k = max_{(i,j)} |a_ki - a_kj|,
    scale_k = max(|f(x_k) - ref_k|, RANGE_SHARE * range f) (``axiom_scale``: never |f(x)| nor the explainer's Σ|a|);
    row score 1 within ``SYMMETRY_TOL`` else max(0, 1 - err_k/scale_k); score = mean; passed iff score == 1.
    evidence ``measured`` = score (pass iff >= ``threshold`` = 1); the tolerance is ``evidence['tolerance']``.
    """

    name = "symmetry"
    category = "axioms"
    threshold = 1.0
    version = 3
    #: A gate: zero, constant and split_equally are symmetric by construction (issue 11).
    role = "gate"
    citation = "Sundararajan, Taly, Yan 2017, Axiomatic attribution for deep networks (ICML), sec. 4"

    def cases(self) -> Sequence[Case]:
        """Placed models in ``(rank, name)`` order, every one drawing from one stream ``case_rng(0)``."""
        rng = case_rng(0)
        return placed_cases(self.name, lambda model, place: self._placed_case(model, place, rng))

    def _placed_case(self, model: "SyntheticModel", place: "Placement", rng: np.random.Generator) -> Case | None:
        """A placed model with symmetric groups: ``ground_truth.symmetric_groups``, or ``params['symmetric_groups']``
        where the ground truth does not declare them (verified numerically); rows with equal values in a group."""
        groups = tuple(frozenset(g) for g in place.params.get("symmetric_groups", ())) \
            or model.ground_truth.symmetric_groups
        if not groups:
            return None
        _verify_symmetric(model, groups)
        X = _inputs(model, groups, rng)
        if len(X) == 0:
            return None
        background = symmetrise(model.sample(N_BACKGROUND, rng), groups)
        return Case(self.name, model.name, model, X, baseline=np.zeros(model.n_features), background=background,
                    tiers=place.tiers, extra={"symmetric_groups": groups},
                    description=f"symmetric groups {[sorted(g) for g in groups]} with equal values")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Models that declare symmetric groups: rows with equal values inside each group (binary: such corners, not
        all-off; else draws with each group set to its first member's value), an exchangeable background."""
        groups = model.ground_truth.symmetric_groups
        if not groups:
            return []
        n = model.declarations.n_rows(suite)
        rng = case_rng(0)
        if model.domain == "binary":
            P = corners(model)[:-1]
            X = P[[all(len(set(p[sorted(g)])) == 1 for g in groups) for p in P]][:n]
        else:
            X = model.sample(n, rng)
            for g in groups:
                members = sorted(g)
                X[:, members] = X[:, [members[0]]]
        if len(X) == 0:
            return []
        return [declared_case(self.name, model, X, f"symmetric groups {[sorted(g) for g in groups]}",
                              background=symmetrise(model.sample(n, rng), groups),
                              extra={"symmetric_groups": tuple(groups)})]

    def _measure(self, explainer: "Explainer", model: "SyntheticModel", X: np.ndarray, B: np.ndarray,
                 background: np.ndarray | None, target: int | None, seed: int,
                 groups: Sequence[frozenset[int]]) -> dict[str, Any]:
        A = explainer.explain(model, X, baseline=B, background=background, target=target, seed=seed)
        fx = model.predict_target(X, target)
        ref, _ = reference_output(explainer, model, X, B, background, target)
        pairs = [symmetric_pairs(groups, X[k], B[k]) for k in range(len(X))]
        judged = np.array([k for k in range(len(X)) if pairs[k]], dtype=int)
        err = np.array([max(abs(A[k, i] - A[k, j]) for i, j in pairs[k]) for k in judged])
        scale = axiom_scale(fx - ref, model, target)[judged]
        return {"A": A, "pairs": pairs, "judged": judged, "err": err, "scale": scale}

    @staticmethod
    def _line(explainer: "Explainer", model: "SyntheticModel", x: np.ndarray, b: np.ndarray,
              pairs: list[tuple[int, int]], a: np.ndarray) -> str:
        what = model_formula(model)
        i, j = max(pairs, key=lambda p: abs(a[p[0]] - a[p[1]]))
        return (f"{explainer.name} on {what}: x={fmt(x)}, baseline={fmt(b)}, symmetric features {i},{j}: "
                f"a_{i}={fmt(a[i])} vs a_{j}={fmt(a[j])}, attribution={fmt(a)}")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        groups = case.extra.get("symmetric_groups") or case.model.ground_truth.symmetric_groups
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        r = self._measure(explainer, case.model, case.X, B, case.background, case.target, seed, groups)
        judged = r["judged"]

        def describe(k: int) -> str:
            row = int(judged[k])
            return self._line(explainer, case.model, case.X[row], B[row], r["pairs"][row], r["A"][row])

        def on_fail(k: int) -> tuple[Counterexample, dict[str, Any]]:
            row = int(judged[k])
            return counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                case.model, case.X[row], B[row], r["A"][row], {"equal": r["pairs"][row]}, describe(k)))

        extra = {"judged_rows": [int(k) for k in judged], "pairs": [r["pairs"][int(k)] for k in judged],
                 "groups": [sorted(g) for g in groups]}
        return exact_result(self, explainer, case, r["err"], r["scale"], SYMMETRY_TOL, r["A"], describe, extra,
                            on_fail, error="max |a_i - a_j| over symmetric pairs", unit="judged rows")

    # ------------------------------------------------------------------------------------------- search
    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]:
        """ReLU nets on 3 features with equal first-layer columns 0 and 1; x0 == x1 and b0 == b1."""

        @st.composite
        def examples(draw: st.DrawFn) -> Example:
            model = draw(relu_nets(d=3, symmetric=(0, 1)))
            v, w, u, z = (draw(small_floats()) for _ in range(4))
            return Example(model, np.array([v, v, w]), np.array([u, u, z]))

        @st.composite
        def linear_examples(draw: st.DrawFn) -> Example:
            from xaicheck.synthetic_models.strategies import linear_model

            w0, w2, c = (draw(small_floats(-2, 2)) for _ in range(3))
            model = linear_model([w0, w0, w2], c)
            v, w, u, z = (draw(small_floats()) for _ in range(4))
            return Example(model, np.array([v, v, w]), np.array([u, u, z]))

        return st.one_of(examples(), linear_examples())

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None:
        x, b = example.x[None, :], example.baseline[None, :]
        groups = (frozenset({0, 1}),)
        r = self._measure(explainer, example.model, x, b, symmetrise(b, groups), None, 0, groups)
        if r["err"][0] <= SYMMETRY_TOL.bound(r["scale"][0]):
            return None
        return fallback_counterexample(example.model, x, b, r["A"], {"equal": r["pairs"][0]},
                                       self._line(explainer, example.model, x[0], b[0], r["pairs"][0], r["A"][0]))

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None
