"""Linearity: the attribution of a linear combination of models is the same combination of their attributions.

Sundararajan, Taly & Yan 2017, "Axiomatic attribution for deep networks", sec. 2.2 / 3 (linearity: "if we
linearly composed two deep networks modeled by the functions f1 and f2 to form a third network
a*f1 + b*f2, then the attributions for a*f1 + b*f2 are the weighted sum of the attributions for f1 and f2");
the Shapley additivity axiom (Shapley 1953).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.base import FunctionModel, GroundTruth
from xaicheck.synthetic_models.registry import get_model

from ._helpers import axiom_scale, exact_result, fallback_counterexample, fmt, reference_output
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Counterexample, Tolerance, register_check
from .completeness import case_inputs
from .counterexamples import Example, counterexample_for, random_mlps, relu_nets, small_floats, small_ints

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["Linearity", "LINEARITY_TOL", "linear_combination"]

#: ``max_j |a_j(h) - (alpha a_j(f1) + beta a_j(f2))| <= atol + rtol * scale`` (scale in the class docstring).
LINEARITY_TOL = Tolerance(rtol=1e-3, atol=1e-8)

def linear_combination(f1: "SyntheticModel", f2: "SyntheticModel", alpha: float, beta: float,
                       name: str | None = None) -> FunctionModel:
    """``h = alpha*f1 + beta*f2`` with numpy and (when both parts have one) torch forms."""
    if f1.n_features != f2.n_features:
        raise ValueError(f"cannot combine {f1.name} (d={f1.n_features}) with {f2.name} (d={f2.n_features})")

    def combined_module() -> Any:
        from torch import nn

        class Combination(nn.Module):
            def __init__(self, m1: nn.Module, m2: nn.Module) -> None:
                super().__init__()
                self.m1, self.m2 = m1, m2

            def forward(self, x: Any) -> Any:
                return alpha * self.m1(x) + beta * self.m2(x)

        return Combination(f1.torch_module(), f2.torch_module())

    torch_factory = combined_module if "torch" in f1.forms and "torch" in f2.forms else None

    g1, g2 = f1.ground_truth, f2.ground_truth
    gt = GroundTruth(relevant=g1.relevant | g2.relevant, dummy=g1.dummy & g2.dummy)
    label = name or f"{alpha:g}*{f1.name}+{beta:g}*{f2.name}"
    formula = f"h={alpha:g}*[{f1.spec().get('formula', f1.name)}] + {beta:g}*[{f2.spec().get('formula', f2.name)}]"
    return FunctionModel(label, "combination", lambda X: alpha * f1.predict(X) + beta * f2.predict(X),
                         f1.feature_names, gt, domain=f1.domain if f1.domain == f2.domain else "continuous",
                         sampler=f1.sample, torch_factory=torch_factory,
                         spec={"formula": formula, "parts": [f1.spec(), f2.spec()], "coefficients": [alpha, beta]})


@register_check
class Linearity(Check):
    """Linearity, Sundararajan et al. 2017.

    The case model is ``h = alpha*f1 + beta*f2`` and ``extra['models'] = (f1, f2)``; all three are explained with
    the same inputs, references and seed. err_k = max_j |a_kj(h) - alpha a_kj(f1) - beta a_kj(f2)|,
    scale_k = max(|h(x_k) - h(b_k)|, |alpha| |f1(x_k) - f1(b_k)| + |beta| |f2(x_k) - f2(b_k)|, RANGE_SHARE * range h)
    (``axiom_scale``, with the reference of ``reference_output``: never |h(x)| nor the explainer's own Σ|a|);
    row score 1 within ``LINEARITY_TOL`` else max(0, 1 - err_k/scale_k); score = mean; passed iff score == 1.
    evidence ``measured`` = score (pass iff >= ``threshold`` = 1); the tolerance is ``evidence['tolerance']``.
    """

    name = "linearity"
    category = "axioms"
    threshold = 1.0
    version = 3
    #: A gate: zero and split_equally are linear in the model by construction (issue 11).
    role = "gate"
    citation = "Sundararajan, Taly, Yan 2017, Axiomatic attribution for deep networks (ICML), linearity"

    def cases(self) -> Sequence[Case]:
        return placed_cases(self.name, self._placed_case)

    def _placed_case(self, f1: "SyntheticModel", place: "Placement") -> Case | None:
        """A placed model ``f1`` combined with its declared partner: ``params['partner']`` (a registered model) and
        ``params['coefficients']`` ``(alpha, beta)``; none when the feature counts differ or either part has more
        than one output. Case ``f1+f2`` at ``case_inputs(f1)``, zero baseline."""
        if "partner" not in place.params:
            return None
        f2 = get_model(place.params["partner"])
        alpha, beta = (float(c) for c in place.params["coefficients"])
        if f1.n_features != f2.n_features or f1.n_outputs + f2.n_outputs != 2:
            return None
        n1, n2 = f1.name, f2.name
        h = linear_combination(f1, f2, alpha, beta)
        X, background = case_inputs(f1)
        return Case(self.name, f"{n1}+{n2}", h, X, baseline=np.zeros(h.n_features), background=background,
                    extra={"models": (f1, f2), "coefficients": (alpha, beta)}, tiers=place.tiers,
                    description=f"h = {alpha:g}*{n1} + {beta:g}*{n2}")

    def _measure(self, explainer: "Explainer", h: "SyntheticModel", parts: Sequence["SyntheticModel"],
                 coefficients: Sequence[float], X: np.ndarray, B: np.ndarray, background: np.ndarray | None,
                 seed: int) -> dict[str, Any]:
        def attr(model: "SyntheticModel") -> np.ndarray:
            return explainer.explain(model, X, baseline=B, background=background, seed=seed)

        (alpha, beta), (f1, f2) = coefficients, parts
        Ah, A1, A2 = attr(h), attr(f1), attr(f2)
        combo = alpha * A1 + beta * A2
        err = np.abs(Ah - combo).max(axis=1)
        def delta(model: "SyntheticModel") -> np.ndarray:
            ref, _ = reference_output(explainer, model, X, B, background)
            return model.predict_target(X) - ref

        scale = axiom_scale(delta(h), h, None, abs(alpha) * np.abs(delta(f1)) + abs(beta) * np.abs(delta(f2)))
        return {"A": Ah, "combo": combo, "A1": A1, "A2": A2, "err": err, "scale": scale}

    @staticmethod
    def _line(explainer: "Explainer", h: "SyntheticModel", x: np.ndarray, b: np.ndarray, r: dict[str, Any],
              k: int) -> str:
        return (f"{explainer.name} on {h.spec().get('formula', h.name)}: x={fmt(x)}, baseline={fmt(b)}, "
                f"attribution(h)={fmt(r['A'][k])} vs combination={fmt(r['combo'][k])}")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        if case.target is not None:
            raise ValueError(f"linearity/{case.name}: multi-output parts are not supported (target={case.target})")
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        r = self._measure(explainer, case.model, case.extra["models"], case.extra["coefficients"], case.X, B,
                          case.background, seed)

        def describe(k: int) -> str:
            return self._line(explainer, case.model, case.X[k], B[k], r, k)

        def on_fail(k: int) -> tuple[Counterexample, dict[str, Any]]:
            return counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                case.model, case.X[k], B[k], r["A"][k], [float(v) for v in r["combo"][k]], describe(k)))

        extra = {"coefficients": list(case.extra["coefficients"]),
                 "attributions_f1": [[float(v) for v in row] for row in r["A1"][:4]],
                 "attributions_f2": [[float(v) for v in row] for row in r["A2"][:4]]}
        alpha, beta = case.extra["coefficients"]
        return exact_result(self, explainer, case, r["err"], r["scale"], LINEARITY_TOL, r["A"], describe, extra,
                            on_fail, error=f"max_j |a_j(h) - ({alpha:g} a_j(f1) + {beta:g} a_j(f2))|")

    # ------------------------------------------------------------------------------------------- search
    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]:
        """Two one-hidden-layer ReLU nets on 1-2 features, non-zero integer coefficients, integer x and baseline;
        the example's ``model`` is ``h`` and its ``twin`` slot is unused (parts ride in ``h.spec()``)."""

        coefficients = st.sampled_from([1.0, 2.0, -1.0])

        @st.composite
        def examples(draw: st.DrawFn) -> Example:
            d = draw(small_ints(1, 2))
            f1, f2 = draw(relu_nets(d=d)), draw(relu_nets(d=d))
            alpha, beta = draw(coefficients), draw(coefficients)
            h = linear_combination(f1, f2, alpha, beta, name="search_combination")
            h.parts = (f1, f2)  # type: ignore[attr-defined]
            x = np.array([draw(small_floats()) for _ in range(d)])
            b = np.array([draw(small_floats()) for _ in range(d)])
            return Example(h, x, b)

        @st.composite
        def mlp_examples(draw: st.DrawFn) -> Example:
            f1 = draw(random_mlps())
            f2 = draw(random_mlps().filter(lambda m: m.n_features == f1.n_features))
            alpha, beta = draw(coefficients), draw(coefficients)
            h = linear_combination(f1, f2, alpha, beta, name="search_combination")
            h.parts = (f1, f2)  # type: ignore[attr-defined]
            d = f1.n_features
            x = np.array([draw(small_floats()) for _ in range(d)])
            return Example(h, x, np.zeros(d))

        return st.one_of(examples(), mlp_examples())

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None:
        x, b = example.x[None, :], example.baseline[None, :]
        h = example.model
        r = self._measure(explainer, h, h.parts, h.spec()["coefficients"], x, b, b, 0)  # type: ignore[attr-defined]
        if r["err"][0] <= LINEARITY_TOL.bound(r["scale"][0]):
            return None
        return fallback_counterexample(h, x, b, r["A"], [float(v) for v in r["combo"][0]],
                                       self._line(explainer, h, x[0], b[0], r, 0))

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None
