"""Input invariance: a constant shift of the input, absorbed by the model, must not change the attributions.

Kindermans, Hooker, Adebayo, Alber, Schütt, Dähne, Erhan, Kim 2017/2019, "The (un)reliability of saliency
methods": for ``f'(x') = f(x' - c)`` implemented by a compensating first-layer bias ``b' = b - W c`` and inputs
``x' = x + c``, both networks compute the same outputs on corresponding inputs, so an input-invariant method gives
``A(f', x + c) = A(f, x)``. Gradients pass; gradient*input fails; IG / DeepLift pass only when the reference point
moves with the input (``b' = b + c``), and fail with the same zero baseline for both.

Two regimes, and every explainer sits both on equal terms (version 3; version 2 shifted the background for
background methods in both regimes while baseline methods sat a fixed baseline, so interventional SHAP looked
invariant where baseline Shapley did not, for the same change of question):

- **reference shifted with the data** (``input_invariance``): the twin is explained at ``x + c`` with baseline
  ``b + c`` AND background ``background + c``. The shifted problem is the same problem in other coordinates, so a
  method that depends on the model and the inputs only through what they compute must give the same attribution.
  This is Kindermans et al.'s invariance requirement. Role ``gate``: it is a necessary condition that many
  explanations meet without explaining anything (zero, constant, identity x - b, split-equally, the gradient's
  sign: all pass), so it is shown as pass/fail beside the ranking and kept out of the scored overall.
- **reference fixed** (``input_invariance_fixed_reference``): the twin is explained at ``x + c`` with the SAME
  baseline ``b`` and the SAME background. The reference no longer corresponds: the question "why f(x) rather than
  f(b)?" has become "why f(x) rather than f(b - c)?", so a reference method is right to change (Kindermans et al.
  show IG / DeepLift do, and exact Shapley does too); reference-free methods (gradients) should not. Nothing about
  quality follows either way, so it is a ``diagnostic``: shown, never scored or gating.

Scoring (both): err_k = max_j |a_kj(f, x_k) - a_kj(f', x_k + c)|, scale_k = ``axiom_scale(f(x_k) - ref_k)`` (the
output change the attribution explains, floored at a share of the model's output range: invariant to
f -> αf + c); row score 1 within ``INPUT_INVARIANCE_TOL`` else max(0, 1 - err_k / scale_k); score = mean; passed
iff score == 1.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.base import FunctionModel, SyntheticModel
from xaicheck.synthetic_models.seeding import case_rng

from ._helpers import axiom_scale, exact_result, fallback_counterexample, fmt, reference_output
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Counterexample, Tolerance, register_check
from .counterexamples import Example, counterexample_for, random_mlps, relu_nets, small_floats, small_ints

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["InputInvariance", "InputInvarianceFixedReference", "INPUT_INVARIANCE_TOL", "SHIFT", "shifted_twin"]

#: ``max_j |a_j(f, x) - a_j(f', x + c)| <= atol + rtol * scale`` (scale in the class docstring).
INPUT_INVARIANCE_TOL = Tolerance(rtol=1e-3, atol=1e-8)
#: The constant shift ``c`` (cycled to the model's feature count).
SHIFT = (0.5, -1.0, 1.5, 1.0)
N_ROWS = 3
N_BACKGROUND = 8


def shifted_twin(model: SyntheticModel, c: np.ndarray, verify: bool = True) -> SyntheticModel:
    """``f'(x') = f(x' - c)`` whose torch form folds the shift into the first linear layer's bias (``b - W c``).

    With ``verify``, checked numerically on 8 draws of the model's distribution (raises if not exact).
    """
    c = np.asarray(c, dtype=np.float64)
    d = model.n_features
    network = getattr(model, "network", None)
    if network is not None and hasattr(network, "layers"):  # an MLPModel: shift its spec
        from xaicheck.synthetic_models.equivalence import MLPModel, MLPSpec

        (W0, b0), *rest = network.layers
        spec = MLPSpec(((W0, b0 - W0[:, :d] @ c), *rest), constant_input=network.constant_input,
                       functional=network.functional)
        low, high = model.input_bounds
        twin: SyntheticModel = MLPModel(f"{model.name}_shifted", spec, ground_truth=model.ground_truth,
                                        family=model.family, bounds=(np.add(low, c), np.add(high, c)))
    else:
        if "torch" not in model.forms:
            raise ValueError(f"input invariance needs a torch form with a first linear layer; {model.name} has none")

        def factory() -> Any:
            import torch
            from torch import nn

            module = copy.deepcopy(model.torch_module())
            first = next((m for m in module.modules() if isinstance(m, nn.Linear)), None)
            if first is None or first.bias is None:
                raise ValueError(f"{model.name}: no first nn.Linear with a bias to fold the shift into")
            with torch.no_grad():
                first.bias -= first.weight[:, :d] @ torch.as_tensor(c, dtype=first.weight.dtype)
            return module

        twin = FunctionModel(f"{model.name}_shifted", model.family, lambda X: model.predict(X - c),
                             model.feature_names, model.ground_truth, domain="continuous",
                             sampler=lambda n, rng: model.sample(n, rng) + c, torch_factory=factory,
                             spec={**model.spec(), "shift": c.tolist()})
    if verify:
        _verify(model, twin, c)
    return twin


def _verify(model: SyntheticModel, twin: SyntheticModel, c: np.ndarray) -> None:
    import torch

    X = model.sample(8, np.random.default_rng(0))
    want = model.predict(X)
    with torch.no_grad():
        got = twin.torch_module()(torch.as_tensor(X + c, dtype=torch.float64)).numpy().reshape(want.shape)
    if not np.allclose(got, want, rtol=1e-9, atol=1e-9) or not np.allclose(twin.predict(X + c), want):
        raise ValueError(f"shifted twin of {model.name} is not exact: max error {np.abs(got - want).max():.3g}")


class _InputInvariance(Check):
    """Input invariance (Kindermans et al. 2017); score = mean over rows of 1 within tolerance else
    max(0, 1 - max_j |a_j(f, x) - a_j(f', x + c)| / axiom_scale(f(x) - ref)) (module docstring)."""

    category = "axioms"
    threshold = 1.0
    version = 3
    citation = "Kindermans et al. 2017, The (un)reliability of saliency methods (arXiv:1711.00867)"
    #: Whether the twin's baseline and background move with the shift ``c``.
    shift_reference: bool = True
    #: Both variants judge the same placed models (``register_model(placed={"input_invariance": ...})``).
    placement_keys = ("input_invariance",)

    def cases(self) -> Sequence[Case]:
        """Placed models in ``(rank, name)`` order, every one drawing from one stream ``case_rng(0)``."""
        rng = case_rng(0)
        return placed_cases(self.placement_keys[0], lambda model, place: self._placed_case(model, place, rng))

    def _placed_case(self, model: SyntheticModel, place: "Placement", rng: np.random.Generator) -> Case | None:
        """A placed model with a torch form: its shifted twin, ``N_ROWS`` draws, zero baseline (moved with the data
        or not, ``shift_reference``)."""
        if "torch" not in model.forms:
            return None
        name = model.name
        c = np.resize(np.array(SHIFT), model.n_features)
        twin = shifted_twin(model, c)
        X, background = model.sample(N_ROWS, rng), model.sample(N_BACKGROUND, rng)
        b = np.zeros(model.n_features)
        moved = self.shift_reference
        return Case(self.name, name, model, X, baseline=b, background=background,
                    extra={"models": (twin,), "shift": c, "twin_baseline": b + c if moved else b,
                           "twin_background": background + c if moved else background,
                           "shift_baseline": moved},
                    tiers=place.tiers,
                    description=f"{name} vs f(x - c) at x + c, c={c.tolist()}, reference "
                                f"{'shifted with the data' if moved else 'fixed'}")

    def _measure(self, explainer: "Explainer", f: SyntheticModel, twin: SyntheticModel, X: np.ndarray,
                 c: np.ndarray, B: np.ndarray, twin_B: np.ndarray, background: np.ndarray | None,
                 twin_background: np.ndarray | None, target: int | None, seed: int) -> dict[str, Any]:
        A = explainer.explain(f, X, baseline=B, background=background, target=target, seed=seed)
        At = explainer.explain(twin, X + c, baseline=twin_B, background=twin_background, target=target, seed=seed)
        fx = f.predict_target(X, target)
        ref, _ = reference_output(explainer, f, X, B, background, target)
        err = np.abs(A - At).max(axis=1)
        scale = axiom_scale(fx - ref, f, target)
        return {"A": A, "At": At, "err": err, "scale": scale}

    @staticmethod
    def _line(explainer: "Explainer", f: SyntheticModel, x: np.ndarray, c: np.ndarray, b: np.ndarray,
              twin_b: np.ndarray, r: dict[str, Any], k: int) -> str:
        return (f"{explainer.name} on {f.spec().get('formula', f.name)} shifted by c={fmt(c)}: x={fmt(x)}, "
                f"baseline={fmt(b)} (twin baseline {fmt(twin_b)}), attribution={fmt(r['A'][k])} vs "
                f"shifted={fmt(r['At'][k])}")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        (twin,) = case.extra["models"]
        c = np.asarray(case.extra["shift"])
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        tB = np.broadcast_to(np.asarray(case.extra["twin_baseline"]), case.X.shape)
        r = self._measure(explainer, case.model, twin, case.X, c, B, tB, case.background,
                          case.extra.get("twin_background"), case.target, seed)

        def describe(k: int) -> str:
            return self._line(explainer, case.model, case.X[k], c, B[k], tB[k], r, k)

        def on_fail(k: int) -> tuple[Counterexample, dict[str, Any]]:
            return counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                case.model, case.X[k], B[k], r["A"][k], {"shifted_attributions": [float(v) for v in r["At"][k]]},
                describe(k)))

        extra = {"shift": c.tolist(), "twin_baseline": [float(v) for v in tB[0]],
                 "shifted_attributions": [[float(v) for v in row] for row in r["At"][:4]]}
        return exact_result(self, explainer, case, r["err"], r["scale"], INPUT_INVARIANCE_TOL, r["A"], describe,
                            extra, on_fail, error="max_j |a_j(f, x) - a_j(f', x + c)|")

    # ------------------------------------------------------------------------------------------- search
    def search_key(self, case: Case | None) -> bool:
        """The search space depends on the case only through whether the twin's baseline moves with ``c``."""
        return bool(case is not None and case.extra.get("shift_baseline", False))

    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]:
        """One-hidden-layer ReLU nets on 1-2 features, a non-zero integer shift ``c`` (carried by the twin's spec),
        integer x, zero baseline; the twin's baseline moves with ``c`` iff the case says ``shift_baseline``."""
        shift_baseline = self.search_key(case)

        shifts = st.sampled_from([1.0, -1.0, 2.0])

        @st.composite
        def examples(draw: st.DrawFn) -> Example:
            model = draw(st.one_of(relu_nets(d=draw(small_ints(1, 2))), random_mlps()))
            d = model.n_features
            c = np.array([draw(shifts) for _ in range(d)])
            twin = shifted_twin(model, c, verify=False)  # exact by construction; tested in the test suite
            twin.shift_baseline = shift_baseline  # type: ignore[attr-defined]
            twin.shift_vector = c  # type: ignore[attr-defined]  (an MLPModel twin's spec has its bias, not c)
            x = np.array([draw(small_floats()) for _ in range(d)])
            return Example(model, x, np.zeros(d), twin)

        return examples()

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None:
        twin = example.twin
        if twin is None:
            raise ValueError("input_invariance examples need the shifted twin")
        c = np.asarray(getattr(twin, "shift_vector", None) if hasattr(twin, "shift_vector") else twin.spec()["shift"])
        x, b = example.x[None, :], example.baseline[None, :]
        tb = b + c if getattr(twin, "shift_baseline", False) else b
        r = self._measure(explainer, example.model, twin, x, c, b, tb, b, tb, None, 0)
        if r["err"][0] <= INPUT_INVARIANCE_TOL.bound(r["scale"][0]):
            return None
        return fallback_counterexample(example.model, x, b, r["A"],
                                       {"shifted_attributions": [float(v) for v in r["At"][0]]},
                                       self._line(explainer, example.model, x[0], c, b[0], tb[0], r, 0))

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None


@register_check
class InputInvariance(_InputInvariance):
    """Gate. Input invariance with the reference shifted with the data (baseline b + c, background + c);
    score = mean over rows of the shared rule (class ``_InputInvariance``)."""

    name = "input_invariance"
    #: Necessary, not sufficient: zero, constant, identity x - b, split-equally and the gradient's sign all pass.
    role = "gate"
    shift_reference = True


@register_check
class InputInvarianceFixedReference(_InputInvariance):
    """Diagnostic. Input invariance with the reference fixed (same baseline b, same background); score = mean over
    rows of the shared rule: reference methods are right to change here, reference-free ones should not."""

    name = "input_invariance_fixed_reference"
    #: Shown, never scored: with a fixed reference the question changes, so changing is not a defect.
    role = "diagnostic"
    shift_reference = False
