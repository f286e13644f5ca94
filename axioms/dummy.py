"""Dummy (Sensitivity(b)): a feature the function does not depend on gets zero attribution.

Sundararajan, Taly & Yan 2017, "Axiomatic attribution for deep networks", sec. 2.1, Sensitivity(b) ("if the
function implemented by the deep network does not depend (mathematically) on some variable, then the attribution
to that variable is always zero"); the Shapley dummy/null-player axiom (Shapley 1953).
The all-zero control passes this check by construction, so it is a gate (``role = "gate"``), not a score.
Global importances (``[1, d]``, e.g. permutation or impurity importance) are judged too: a feature the function does
not depend on must get ~0 importance relative to the largest one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.behaviour_units import UNITS, unit_case_parts
from xaicheck.synthetic_models.scaled import SCALE_GRID, scaled_case_parts

from ._helpers import axiom_scale, exact_result, fallback_counterexample, fmt, output_scale, reference_output
from ._declared import declared_case, declared_inputs, full_only_for_images, image_gate_skipped
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Counterexample, Tolerance, register_check
from .completeness import case_inputs
from .counterexamples import (Example, bit_lists, counterexample_for, model_formula, random_booleans, relu_nets,
                              small_floats)

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["Dummy", "DUMMY_TOL"]

#: ``max_{j in dummy} |a_j| <= atol + rtol * scale``, scale = ``axiom_scale``: max(|f(x)-ref|, 1% of the output range)
#: -- never the explainer's own sum_j |a_j| (noise plus one huge feature would buy tolerance).
DUMMY_TOL = Tolerance(rtol=1e-3, atol=1e-8)

@register_check
class Dummy(Check):
    """Dummy / Sensitivity(b), Sundararajan et al. 2017.

    For the features ``D = ground_truth.dummy``: err_k = max_{j in D} |a_kj|,
    scale_k = max(|f(x_k) - ref_k|, RANGE_SHARE * range f) (``axiom_scale``; ref as in completeness);
    row score 1 within ``DUMMY_TOL`` else max(0, 1 - err_k/scale_k); score = mean; passed iff score == 1.
    Global explainers (one importance vector ``I``, ``accepts_global``): one row with err = max_{j in D} |I_j|,
    scale = max_j |I_j| (a dummy's importance relative to the largest), same rule.
    evidence ``measured`` = score (pass iff >= ``threshold`` = 1).
    """

    name = "dummy"
    category = "axioms"
    threshold = 1.0
    version = 3
    #: A gate: the zero explainer satisfies dummy by construction (issue 11).
    role = "gate"
    accepts_global = True
    citation = "Sundararajan, Taly, Yan 2017, Axiomatic attribution for deep networks (ICML), Sensitivity(b)"

    def cases(self) -> Sequence[Case]:
        out = placed_cases(self.name, self._placed_case)
        for point in SCALE_GRID:  # scale in every family, drawn from the case seed (synthetic_models/scaled.py)
            name, model, X, b, background = scaled_case_parts(point)
            out.append(Case(self.name, name, model, X, baseline=b, background=background, tiers=point.tiers,
                            description=f"dummy features {sorted(model.ground_truth.dummy)} must get 0"))
        for unit in UNITS:  # behaviour units (synthetic_models/behaviour_units.py); uncertainty: the shift is a dummy
            name, model, X, b, background, target = unit_case_parts(unit)
            out.append(Case(self.name, name, model, X, baseline=b, background=background, target=target,
                            tiers=frozenset({"default", "full"}),
                            description=f"dummy features {sorted(model.ground_truth.dummy)} must get 0"))
        return out

    def _placed_case(self, model: "SyntheticModel", place: "Placement") -> Case | None:
        """A placed model with dummy features (``ground_truth.dummy``): ``case_inputs`` rows, zero baseline."""
        if not model.ground_truth.dummy:
            return None
        X, background = case_inputs(model)
        return Case(self.name, model.name, model, X, baseline=np.zeros(model.n_features), background=background,
                    tiers=place.tiers, description=f"dummy features {sorted(model.ground_truth.dummy)} must get 0")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Models that declare dummy features (``ground_truth.dummy``)."""
        if image_gate_skipped(model, suite):
            return []
        if not model.ground_truth.dummy:
            return []
        X, background = declared_inputs(model, suite)
        return full_only_for_images([declared_case(self.name, model, X,
                                                   f"dummy features {sorted(model.ground_truth.dummy)} must get 0",
                                                   background=background)])

    def _measure(self, explainer: "Explainer", model: "SyntheticModel", X: np.ndarray, baseline: np.ndarray,
                 background: np.ndarray | None, target: int | None, seed: int,
                 dummy: Sequence[int]) -> dict[str, Any]:
        A = explainer.explain(model, X, baseline=baseline, background=background, target=target, seed=seed)
        if explainer.capabilities.scope == "global":
            I = np.atleast_2d(A)[:1]
            return {"A": I, "err": np.abs(I[:, list(dummy)]).max(axis=1), "scale": output_scale(np.abs(I).max(axis=1)),
                    "global": True}
        fx = model.predict_target(X, target)
        ref, _ = reference_output(explainer, model, X, baseline, background, target)
        err = np.abs(A[:, list(dummy)]).max(axis=1)
        scale = axiom_scale(fx - ref, model, target)
        return {"A": A, "err": err, "scale": scale, "global": False}

    @staticmethod
    def _line(explainer: "Explainer", model: "SyntheticModel", x: np.ndarray | None, b: np.ndarray | None,
              dummy: Sequence[int], a: np.ndarray) -> str:
        what = model_formula(model)
        if x is None:
            return (f"{explainer.name} on {what}: global importance of dummy features {list(dummy)} = "
                    f"{fmt(a[list(dummy)])}, largest |importance| = {fmt(np.abs(a).max())}, importance={fmt(a)}")
        return (f"{explainer.name} on {what}: x={fmt(x)}, baseline={fmt(b)}, dummy features {list(dummy)} got "
                f"{fmt(a[list(dummy)])}, attribution={fmt(a)}")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        dummy = sorted(case.model.ground_truth.dummy)
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        r = self._measure(explainer, case.model, case.X, B, case.background, case.target, seed, dummy)

        if r["global"]:
            def describe(k: int) -> str:
                return self._line(explainer, case.model, None, None, dummy, r["A"][0])

            def on_fail(k: int) -> tuple[Counterexample, dict[str, Any]]:
                return counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                    case.model, case.background if case.background is not None else case.X, None, r["A"][0],
                    {"zero": dummy}, describe(0)))

            return exact_result(self, explainer, case, r["err"], r["scale"], DUMMY_TOL, r["A"], describe,
                                {"dummy_features": dummy, "scope": "global"}, on_fail,
                                error="max |I_dummy|", unit="importance vectors")

        def describe(k: int) -> str:
            return self._line(explainer, case.model, case.X[k], B[k], dummy, r["A"][k])

        def on_fail(k: int) -> tuple[Counterexample, dict[str, Any]]:
            return counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                case.model, case.X[k], B[k], r["A"][k], {"zero": dummy}, describe(k)))

        return exact_result(self, explainer, case, r["err"], r["scale"], DUMMY_TOL, r["A"], describe,
                            {"dummy_features": dummy, "scope": "local"}, on_fail, error="max |a_dummy|")

    # ------------------------------------------------------------------------------------------- search
    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]:
        """ReLU nets on 2 features whose feature 1 has zero first-layer weights, integer x and baseline; and random
        boolean functions with dummy variables (``strategies.boolean_models``) at corners x, b of {0,1}^d."""

        @st.composite
        def examples(draw: st.DrawFn) -> Example:
            model = draw(relu_nets(d=2, dummy=1))
            x = np.array([draw(small_floats()) for _ in range(2)])
            b = np.array([draw(small_floats()) for _ in range(2)])
            return Example(model, x, b)

        @st.composite
        def boolean_examples(draw: st.DrawFn) -> Example:
            # only the appended, never-read variables are judged: a variable the truth table ignores is still read
            # by the formula's extension off {0,1}^d (Sundararajan's "does not depend mathematically" fails there)
            model = draw(random_booleans().filter(lambda m: m.n_dummies > 0))
            model.judged_dummy = frozenset(range(model.n_vars, model.n_features))  # type: ignore[attr-defined]
            d = model.n_features
            x, b = (np.array(draw(bit_lists(d)), dtype=np.float64) for _ in range(2))
            return Example(model, x, b)

        return st.one_of(examples(), boolean_examples())

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None:
        x, b = example.x[None, :], example.baseline[None, :]
        dummy = sorted(getattr(example.model, "judged_dummy", example.model.ground_truth.dummy))
        r = self._measure(explainer, example.model, x, b, b, None, 0, dummy)
        if r["err"][0] <= DUMMY_TOL.bound(r["scale"][0]):
            return None
        return fallback_counterexample(example.model, x, b, r["A"], {"zero": dummy},
                                       self._line(explainer, example.model, x[0], b[0], dummy, r["A"][0]))

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None
