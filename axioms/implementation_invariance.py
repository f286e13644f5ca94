"""Implementation invariance: functionally equivalent networks get identical attributions.

Sundararajan, Taly & Yan 2017, "Axiomatic attribution for deep networks", sec. 2.2 ("two networks are
functionally equivalent if their outputs are equal for all inputs, despite having very different
implementations. Attribution methods should satisfy Implementation Invariance"). Their example:
``f1 = ReLU(ReLU(x1) - 1 - ReLU(x2))`` and ``f2 = ReLU(ReLU(x1 - 1) - ReLU(x2))`` are equal everywhere, yet
DeepLift (rescale rule) and LRP attribute them differently; gradients and IG are invariant.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.scaled import grid_for, scaled_case_parts, scaled_twin
from xaicheck.synthetic_models.seeding import case_rng

from ._companion import scaled_companion
from ._declared import declared_case, declared_inputs, full_only_for_images, image_gate_skipped
from ._helpers import axiom_scale, exact_result, fallback_counterexample, fmt, reference_output
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Counterexample, Tolerance, register_check
from .counterexamples import Example, counterexample_for, equivalent_pairs, model_formula, random_twins, small_floats

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["ImplementationInvariance", "INVARIANCE_TOL", "PAPER_PAIR_CASE", "COMPANION_C"]

#: ``max_j |a_j(f) - a_j(twin)| <= atol + rtol * scale`` (scale in the class docstring).
INVARIANCE_TOL = Tolerance(rtol=1e-3, atol=1e-8)
#: Case name of Sundararajan et al.'s pair (``sundararajan_pair_a`` vs ``sundararajan_pair_b``).
PAPER_PAIR_CASE = "ig_paper_pair"
N_ROWS = 3
#: The non-equivalent companion ``c * f`` (``axioms._companion``), explained beside ``f`` and its twin.
COMPANION_C = -3.0
N_BACKGROUND = 8


@register_check
class ImplementationInvariance(Check):
    """Implementation invariance, Sundararajan et al. 2017.

    The case model is the source ``f``; ``extra['models'] = (twin,)`` with ``twin(x) == f(x)`` for all ``x``.
    Both are explained at the same inputs, references and seed.
    err_k = max_j |a_kj(f) - a_kj(twin)|, scale_k = max(|f(x_k)-ref_k|, RANGE_SHARE * range f) (``axiom_scale``:
    never |f(x)| nor the explainer's own Σ|a|); row score 1 within ``INVARIANCE_TOL`` else max(0, 1 - err_k/scale_k); score = mean;
    passed iff score == 1.
    evidence ``measured`` = score (pass iff >= ``threshold`` = 1); the tolerance is ``evidence['tolerance']``.

    Non-equivalent companion (issue 23): any function of the inputs alone (zero, a constant, ``x - b``, noise seeded
    by the input) is invariant across twins by construction and says nothing about f. Each case therefore also
    explains ``c f`` (``axioms._companion.scaled_companion``, ``c = COMPANION_C = -3``) and asks Linearity's one-term
    case (Sundararajan et al. 2017, sec. 2): ``a(c f) = c a(f)``. The row error is
    ``err_k = max(max_j |a_kj(f) - a_kj(twin)|, max_j |a_kj(c f) - c a_kj(f)| / |c|)``, same scale and rule;
    evidence ``invariance_error``, ``companion_error`` (per row, already divided by |c|), ``companion_attributions``,
    or ``companion = "not built: <why>"`` (image inputs, layer names, embedding/tree/text forms the wrapper would
    lose, or an explainer that cannot run on it: then err_k is the invariance error alone).

    Why ``c < 0``: with ``c = 3`` the ``random`` and ``seeded_noise`` controls still pass, because they scale their
    draw by the model's output unit, which is positively homogeneous (measured on the quick cases: companion error
    <= 4e-14 of scale). With ``c = -3`` they fail (score <= 0.04), and so do two legitimate methods that are not
    linear in f: guided backprop and deconvolution (their backward pass keeps only positive signals, so
    ``a(-f) != -a(f)``; Adebayo et al. 2018 found both insensitive to the model's top layers) and LRP-gamma (the
    ``w + gamma w+`` rule changes with the sign of the weights). Measured with ``c = -3``: every explainer that was
    exact before and is linear in the model output keeps 1.0 (IG, gradients, input x gradient, DeepLift and LRP-0
    where they were invariant, exact Shapley/Banzhaf, shap exact/kernel/permutation/partition, captum KernelSHAP
    and LIME, lime_tabular, occlusion, feature ablation, gradient/expected gradients, SmoothGrad); LRP-epsilon
    (``z + eps``) is not homogeneous under any ``c`` and already failed the twins. The counterexample search
    (``search_space`` / ``violation``) looks for twin violations only; a row failed by the companion alone is
    reported from the case's own worst row.
    """

    name = "implementation_invariance"
    category = "axioms"
    threshold = 1.0
    version = 4
    #: A gate: zero and split_equally remain exact by construction (0 = c*0; (f(x)-f(b))/k is linear in f), so this
    #: is pass/fail, not a score (issues 11, 23).
    role = "gate"
    citation = "Sundararajan, Taly, Yan 2017, Axiomatic attribution for deep networks (ICML), sec. 2.2"

    def cases(self) -> Sequence[Case]:
        rng = case_rng(0)
        out = placed_cases(self.name, lambda twin, place: self._placed_case(twin, place, rng))
        for point in grid_for(("mlp",)):  # a ReLU MLP in d features and its twin (synthetic_models/scaled.py)
            name, source, X, b, background = scaled_case_parts(point)
            twin = scaled_twin(point)
            out.append(Case(self.name, f"{name}_twin", source, X, baseline=b, background=background,
                            extra={"models": (twin,)}, tiers=point.tiers,
                            description=f"{twin.name} ({twin.transform}) vs {source.name}"))
        return out

    def _placed_case(self, twin: "SyntheticModel", place: "Placement", rng: np.random.Generator) -> Case | None:
        """A placed twin (a model that declares ``twin_of``, an equivalent implementation of that source): both at
        ``N_ROWS`` draws of the source from the shared stream (``params['first_row']``, e.g. the paper's point,
        first), zero baseline; case ``params['case']`` (default the twin's name). Placed twins are taken in
        ``(rank, name)`` order, every one drawing from one stream ``case_rng(0)``."""
        source_name = getattr(twin, "twin_of", None)
        if source_name is None:
            return None
        source = get_model(source_name)
        X = source.sample(N_ROWS, rng)
        if "first_row" in place.params:
            X = np.vstack([place.params["first_row"], X])
        return Case(self.name, place.params.get("case", twin.name), source, X, baseline=np.zeros(source.n_features),
                    background=source.sample(N_BACKGROUND, rng), extra={"models": (twin,)}, tiers=place.tiers,
                    description=f"{twin.name} ({getattr(twin, 'transform', 'equivalent')}) vs {source.name}")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Models that declare functionally equivalent ``twins`` (e.g. the planted CNNs of
        ``synthetic_models/image_cnn.py``: batch norm folded, channels permuted, an identity residual branch): one
        case per twin, ``<model>_<transform>``, at the declared rows and baseline."""
        if image_gate_skipped(model, suite):
            return []
        out = []
        for twin in getattr(model, "twins", ()):
            X, background = declared_inputs(model, suite, offset=4)
            case = declared_case(self.name, model, X, f"{twin.name} ({twin.transform}) vs {model.name}",
                                 background=background, extra={"models": (twin,)})
            out.append(replace(case, name=f"{model.name}_{twin.transform}"))
        return full_only_for_images(out)

    def _measure(self, explainer: "Explainer", f: "SyntheticModel", twin: "SyntheticModel", X: np.ndarray,
                 B: np.ndarray, background: np.ndarray | None, target: int | None, seed: int) -> dict[str, Any]:
        A = explainer.explain(f, X, baseline=B, background=background, target=target, seed=seed)
        At = explainer.explain(twin, X, baseline=B, background=background, target=target, seed=seed)
        fx = f.predict_target(X, target)
        ref, _ = reference_output(explainer, f, X, B, background, target)
        err = np.abs(A - At).max(axis=1)
        scale = axiom_scale(fx - ref, f, target)
        return {"A": A, "At": At, "err": err, "scale": scale}

    def _companion(self, explainer: "Explainer", f: "SyntheticModel", A: np.ndarray, X: np.ndarray, B: np.ndarray,
                   background: np.ndarray | None, target: Any, seed: int) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Per row ``max_j |a_j(c f) - c a_j(f)| / |c|`` (``None`` when no companion is built) and its evidence."""
        companion, why = scaled_companion(f, COMPANION_C)
        if companion is None:
            return None, {"companion": f"not built: {why}"}
        from xaicheck.explainers.base import applicability  # asked of the sealed view

        ok, why = applicability(explainer, companion)
        if not ok:
            return None, {"companion": f"not built: {why}"}
        Ac = explainer.explain(companion, X, baseline=B, background=background, target=target, seed=seed)
        err = np.abs(Ac - COMPANION_C * A).max(axis=1) / abs(COMPANION_C)
        return err, {"companion": companion.name, "companion_c": COMPANION_C,
                     "companion_error": [float(v) for v in err],
                     "companion_attributions": [[float(v) for v in row] for row in Ac[:4]]}

    @staticmethod
    def _line(explainer: "Explainer", f: "SyntheticModel", twin: "SyntheticModel", x: np.ndarray, b: np.ndarray,
              r: dict[str, Any], k: int) -> str:
        name = model_formula
        return (f"{explainer.name} on {name(f)} vs {name(twin)}: x={fmt(x)}, baseline={fmt(b)}, "
                f"attribution={fmt(r['A'][k])} vs twin={fmt(r['At'][k])}")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        (twin,) = case.extra["models"]
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        r = self._measure(explainer, case.model, twin, case.X, B, case.background, case.target, seed)

        def describe(k: int) -> str:
            return self._line(explainer, case.model, twin, case.X[k], B[k], r, k)

        def on_fail(k: int) -> tuple[Counterexample, dict[str, Any]]:
            return counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                case.model, case.X[k], B[k], r["A"][k], {"twin": twin.spec(),
                                                         "twin_attributions": [float(v) for v in r["At"][k]]},
                describe(k)))

        extra: dict[str, Any] = {"twin": twin.name,
                                 "twin_attributions": [[float(v) for v in row] for row in r["At"][:4]],
                                 "invariance_error": [float(v) for v in r["err"]]}
        err_c, found = self._companion(explainer, case.model, r["A"], case.X, B, case.background, case.target, seed)
        extra.update(found)
        err, what = r["err"], "max_j |a_j(f) - a_j(twin)|"
        if err_c is not None:
            err, what = np.maximum(err, err_c), "max(max_j |a_j(f) - a_j(twin)|, max_j |a_j(c f) - c a_j(f)| / |c|)"
        return exact_result(self, explainer, case, err, r["scale"], INVARIANCE_TOL, r["A"], describe, extra,
                            on_fail, error=what)

    # ------------------------------------------------------------------------------------------- search
    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]:
        """Two families, the first preferred by the shrinker:

        - Sundararajan-style equivalent pairs (``counterexamples.equivalent_pairs``), integer x >= 0, the paper's zero
          baseline (the minimal DeepLift violation is then the paper's own x = (3, 1));
        - random ReLU MLPs (1-2 inputs, 1-2 hidden layers of 1-3 units) x a random composition of 1-2 equivalence
          transforms (``counterexamples.random_twins`` over ``strategies.equivalent_twins``), integer x in [-2, 2],
          zero baseline.
        """

        @st.composite
        def paper_pairs(draw: st.DrawFn) -> Example:
            f1, f2 = draw(equivalent_pairs())
            x = np.array([draw(small_floats(0, 4)), draw(small_floats(0, 2))])
            return Example(f1, x, np.zeros(2), f2)

        @st.composite
        def transformed_mlps(draw: st.DrawFn) -> Example:
            source, twin = draw(random_twins())
            d = source.n_features
            x = np.array([draw(small_floats(-2, 2)) for _ in range(d)])
            return Example(source, x, np.zeros(d), twin)

        return st.one_of(paper_pairs(), transformed_mlps())

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None:
        if example.twin is None:
            raise ValueError("implementation_invariance examples need a twin model")
        x, b = example.x[None, :], example.baseline[None, :]
        r = self._measure(explainer, example.model, example.twin, x, b, b, None, 0)
        if r["err"][0] <= INVARIANCE_TOL.bound(r["scale"][0]):
            return None
        return fallback_counterexample(example.model, x, b, r["A"],
                                       {"twin": example.twin.spec(), "twin_attributions": [float(v) for v in r["At"][0]]},
                                       self._line(explainer, example.model, example.twin, x[0], b[0], r, 0))

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None
