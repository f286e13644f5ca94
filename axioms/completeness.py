"""Completeness (efficiency, summation-to-delta): attributions add up to the output difference they explain.

Sundararajan, Taly & Yan 2017, "Axiomatic attribution for deep networks", Prop. 1 (completeness);
Shrikumar et al. 2017 (DeepLIFT summation-to-delta); Lundberg & Lee 2017 (SHAP local accuracy / efficiency).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.scaled import grid_for, scaled_case_parts
from xaicheck.synthetic_models.seeding import case_rng

from ._helpers import axiom_scale, exact_result, fallback_counterexample, fmt, reference_output
from ._declared import declared_case, declared_inputs, full_only_for_images, image_gate_skipped
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Counterexample, Tolerance, register_check
from .counterexamples import (Example, counterexample_for, model_formula, random_linears, random_mlps, relu_nets,
                              small_floats, small_ints)

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["Completeness", "COMPLETENESS_TOL"]

#: ``|sum_i a_i - (f(x) - ref)| <= atol + rtol * scale``, scale = ``axiom_scale``: max(|f(x) - ref|, 1% of the
#: model's output range) -- never |f(x)| (an offset would buy tolerance).
#: 5% is the IG paper's own check ("the attributions add up to within 5% of the prediction score", sec. 5):
#: path integrals are computed numerically and ReLU kinks cost accuracy; the score stays continuous beyond it.
COMPLETENESS_TOL = Tolerance(rtol=5e-2, atol=1e-8)

N_ROWS = 4
N_BACKGROUND = 8


def case_inputs(model: "SyntheticModel", seed: int = 0, n: int = N_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """``(X, background)``: for binary models the first ``n`` non-zero corners of {0,1}^d (all ones first), else
    ``n`` draws of the model's distribution; the background is ``N_BACKGROUND`` further draws."""
    rng = case_rng(seed)
    if model.domain == "binary":
        from ._helpers import binary_points

        P = binary_points(model.n_features)[::-1]
        X = P[:-1][:n]
    else:
        X = model.sample(n, rng)
    return np.ascontiguousarray(X), model.sample(N_BACKGROUND, rng)


@register_check
class Completeness(Check):
    """Completeness, Sundararajan et al. 2017.

    Reference ``ref_k`` = ``f(b_k)`` for explainers with a baseline (or with no reference at all: they are held to
    the case's baseline) and ``mean_z f(z)`` over the background for explainers with ``uses_background`` only.
    err_k = |sum_i a_ki - (f(x_k) - ref_k)|, scale_k = max(|f(x_k) - ref_k|, RANGE_SHARE * range f) (``axiom_scale``,
    invariant to units: the zero explainer scores 0 whatever the offset of f);
    row score 1 within ``COMPLETENESS_TOL`` else max(0, 1 - err_k/scale_k); score = mean; passed iff score == 1.
    evidence ``measured`` = score (pass iff >= ``threshold`` = 1); the tolerance is ``evidence['tolerance']``.
    """

    name = "completeness"
    category = "axioms"
    threshold = 1.0
    version = 3
    #: A gate: "split f(x) - f(b) equally over the changed features" (``split_equally``) is complete by construction,
    #: so passing says nothing about quality -- a necessary condition shown beside the ranking (issue 11).
    role = "gate"
    citation = "Sundararajan, Taly, Yan 2017, Axiomatic attribution for deep networks (ICML), Prop. 1"

    def cases(self) -> Sequence[Case]:
        out = placed_cases(self.name, self._placed_case)
        for point in grid_for(("boolean", "mlp")):  # ReLU networks in d features (synthetic_models/scaled.py)
            name, model, X, b, background = scaled_case_parts(point)
            out.append(Case(self.name, name, model, X, baseline=b, background=background, tiers=point.tiers,
                            description=f"sum of attributions vs f(x) - reference on {model.name}"))
        return out

    def _placed_case(self, model: "SyntheticModel", place: "Placement") -> Case:
        """A placed model (any): ``N_ROWS`` rows (``case_inputs``; ``params['first_row']``, e.g. the IG paper's
        point, replaces the last), zero baseline."""
        X, background = case_inputs(model)
        if "first_row" in place.params:
            X = np.vstack([place.params["first_row"], X[: N_ROWS - 1]])
        return Case(self.name, model.name, model, X, baseline=np.zeros(model.n_features), background=background,
                    tiers=place.tiers, description="sum of attributions vs f(x) - reference")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Every declared model: Σ_i a_i against f(x) - reference at its declared rows and baseline."""
        if image_gate_skipped(model, suite):
            return []
        X, background = declared_inputs(model, suite)
        return full_only_for_images([declared_case(self.name, model, X, "sum of attributions vs f(x) - reference",
                                                   background=background)])

    def _measure(self, explainer: "Explainer", model: "SyntheticModel", X: np.ndarray, baseline: np.ndarray,
                 background: np.ndarray | None, target: int | None, seed: int) -> dict[str, Any]:
        A = explainer.explain(model, X, baseline=baseline, background=background, target=target, seed=seed)
        fx = model.predict_target(X, target)
        ref, kind = reference_output(explainer, model, X, baseline, background, target)
        total = A.sum(axis=1)
        err = np.abs(total - (fx - ref))
        scale = axiom_scale(fx - ref, model, target)
        return {"A": A, "fx": fx, "ref": ref, "kind": kind, "sum": total, "err": err, "scale": scale}

    @staticmethod
    def _line(explainer: "Explainer", model: "SyntheticModel", x: np.ndarray, b: np.ndarray | None,
              r: dict[str, Any], k: int) -> str:
        what = model_formula(model)
        ref = "f(b)" if r["kind"] == "f(baseline)" else "E f(z)"
        return (f"{explainer.name} on {what}: x={fmt(x)}, baseline={fmt(b) if b is not None else '-'}, "
                f"sum a={fmt(r['sum'][k])} vs f(x)-{ref}={fmt(r['fx'][k] - r['ref'][k])}, attribution={fmt(r['A'][k])}")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        r = self._measure(explainer, case.model, case.X, B, case.background, case.target, seed)

        def describe(k: int) -> str:
            return self._line(explainer, case.model, case.X[k], B[k], r, k)

        def on_fail(k: int) -> tuple[Counterexample, dict[str, Any]]:
            expected = {"sum": float(r["fx"][k] - r["ref"][k]), "reference": r["kind"]}
            return counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                case.model, case.X[k], B[k], r["A"][k], expected, describe(k)))

        extra = {"reference": r["kind"], "f_x": [float(v) for v in r["fx"]],
                 "f_reference": [float(v) for v in r["ref"]], "sum_attributions": [float(v) for v in r["sum"]]}
        ref = "f(b)" if r["kind"] == "f(baseline)" else "E f(z)"
        return exact_result(self, explainer, case, r["err"], r["scale"], COMPLETENESS_TOL, r["A"], describe,
                            extra, on_fail, error=f"|sum a - (f(x) - {ref})|")

    # ------------------------------------------------------------------------------------------- search
    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]:
        """ReLU nets with one hidden layer on 1-2 features, random linear models (``strategies.linear_models``) and
        random deeper MLPs (``strategies.mlp_models``); integer x and baseline."""

        @st.composite
        def examples(draw: st.DrawFn) -> Example:
            d = draw(small_ints(1, 2))
            model = draw(relu_nets(d=d))
            x = np.array([draw(small_floats()) for _ in range(d)])
            b = np.array([draw(small_floats()) for _ in range(d)])
            return Example(model, x, b)

        @st.composite
        def drawn(draw: st.DrawFn) -> Example:
            model = draw(st.one_of(random_linears(), random_mlps()))
            d = model.n_features
            x = np.array([draw(small_floats()) for _ in range(d)])
            b = np.array([draw(small_floats()) for _ in range(d)])
            return Example(model, x, b)

        return st.one_of(examples(), drawn())

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None:
        x, b = example.x[None, :], example.baseline[None, :]
        r = self._measure(explainer, example.model, x, b, b, None, 0)
        if COMPLETENESS_TOL.close(r["sum"], r["fx"] - r["ref"], r["scale"])[0]:
            return None
        expected = {"sum": float(r["fx"][0] - r["ref"][0]), "reference": r["kind"]}
        return fallback_counterexample(example.model, x, b, r["A"], expected,
                                       self._line(explainer, example.model, x[0], b[0], r, 0))

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None
