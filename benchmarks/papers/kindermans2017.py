"""Kindermans et al. 2017: input invariance under a constant mean shift of the input.

Two networks that compute the same function of their own inputs, ``f2(x + m) = f1(x)`` (the shift is absorbed in
the first layer's bias, ``b2 = b1 - W m``), should get the same attributions at corresponding inputs (their
"input invariance"). Their findings on the shifted pair:

- the gradient is invariant;
- gradient x input is not (it multiplies by the shifted input);
- Integrated Gradients with a zero baseline is not; IG with the baseline shifted along (``x2' = x1' + m``) is
  (the reference point must move with the data).

We build the shifted twin of a project model as ``f2(x) = f1(x - m)`` (torch: a fixed shift in front of the same
module, identical to folding the shift into the first bias), with ``m = -1`` per feature as in their [0,1] ->
[-1, 0] pixel shift, and use the registered explainers ``saliency``, ``input_x_gradient``, ``integrated_gradients``.

Citation: P.-J. Kindermans, S. Hooker, J. Adebayo, M. Alber, K. T. Schütt, S. Dähne, D. Erhan, B. Kim, "The
(un)reliability of saliency methods", arXiv:1711.00867 (2017); in Explainable AI, LNCS 11700 (2019).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import explain, max_abs_diff
from .claims import Claim, Measurement, NotAvailable, Paper, fmt, measures, need_explainer, need_model

__all__ = ["PAPER", "CLAIMS", "shifted_twin"]

#: Base models tried in order (a ReLU network first, as in the paper; a linear model is the one-layer case).
BASE_MODELS: tuple[str, ...] = ("mlp_base", "linear_dummy")
SHIFT = -1.0
N_INPUTS = 4
SEED = 0
#: Attributions are "the same" when max |a1 - a2| <= RTOL * (1 + max |a1|).
RTOL = 1e-6

CLAIMS: tuple[Claim, ...] = (
    Claim("gradient_invariant", "The gradient is input invariant: identical attributions for the original and the "
          "mean-shifted network.", "input invariance experiment (mean shift)", "invariant"),
    Claim("input_x_gradient_not_invariant", "Gradient x input is not input invariant.",
          "input invariance experiment (mean shift)",
          "not invariant"),
    Claim("ig_zero_baseline_not_invariant", "Integrated Gradients with a zero baseline for both networks is not input "
          "invariant.", "reference-point discussion", "not invariant"),
    Claim("ig_shifted_baseline_invariant", "Integrated Gradients is input invariant when the baseline is shifted with "
          "the input (x2' = x1' + m).", "reference-point discussion", "invariant"),
)


def shifted_twin(base: Any, shift: np.ndarray) -> Any:
    """The model ``f2(x) = f1(x - shift)`` with an exact torch form (a fixed shift before ``base``'s module)."""
    from xaicheck.synthetic_models import FunctionModel

    shift = np.asarray(shift, dtype=np.float64)
    if base.torch_module() is None:
        raise NotAvailable(f"model {base.name!r} has no torch form; gradient explainers cannot run")

    def factory() -> Any:
        import torch

        class Shifted(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = base.torch_module()
                self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float64))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.inner(x - self.shift)

        return Shifted()

    return FunctionModel(f"{base.name}_shifted", base.family, lambda X: base.predict(X - shift), base.feature_names,
                         base.ground_truth, domain=base.domain, torch_factory=factory,
                         spec={"shifted_from": base.name, "shift": shift.tolist()})


def _base() -> Any:
    for name in BASE_MODELS:
        try:
            model = need_model(name)
        except NotAvailable:
            continue
        if "torch" in model.forms:
            return model
    raise NotAvailable(f"depends on one of the models {list(BASE_MODELS)} with a torch form, none available")


@measures("gradient_invariant", "input_x_gradient_not_invariant", "ig_zero_baseline_not_invariant",
          "ig_shifted_baseline_invariant")
def _measure() -> list[Measurement]:
    base = _base()
    d = base.n_features
    m = np.full(d, SHIFT)
    twin = shifted_twin(base, m)
    X1 = base.sample(N_INPUTS, np.random.default_rng(SEED))
    X2 = X1 + m
    gap = max_abs_diff(base.predict(X1), twin.predict(X2))
    if gap > 1e-9:
        raise ValueError(f"shifted twin is not equivalent: max |f1(x) - f2(x + m)| = {gap}")
    zero = np.zeros(d)
    runs = {
        "gradient_invariant": ("saliency", zero, zero, True),
        "input_x_gradient_not_invariant": ("input_x_gradient", zero, zero, False),
        "ig_zero_baseline_not_invariant": ("integrated_gradients", zero, zero, False),
        "ig_shifted_baseline_invariant": ("integrated_gradients", zero, zero + m, True),
    }
    out = []
    for cid, (name, b1, b2, want_invariant) in runs.items():
        exp = need_explainer(name)
        a1 = explain(exp, base, X1, baseline=b1)
        a2 = explain(exp, twin, X2, baseline=b2)
        diff = max_abs_diff(a1, a2)
        tol = RTOL * (1.0 + float(np.max(np.abs(a1))))
        invariant = diff <= tol
        ref = "" if not exp.capabilities.uses_baseline else f", baselines {b1.tolist()} / {b2.tolist()}"
        out.append(Measurement(cid, invariant == want_invariant,
                               {"max_abs_diff": diff, "tolerance": tol, "model": base.name,
                                "attributions_original": a1[:2].tolist(), "attributions_shifted": a2[:2].tolist()},
                               f"{name} on {base.name} vs its twin shifted by m={SHIFT} ({N_INPUTS} inputs{ref}): "
                               f"max |a1 - a2| = {fmt(diff)} ({'invariant' if invariant else 'not invariant'} at "
                               f"tolerance {fmt(tol)})"))
    return out


PAPER = Paper(
    name="kindermans2017",
    title="The (un)reliability of saliency methods",
    citation="Kindermans et al., arXiv:1711.00867, 2017",
    claims=CLAIMS,
    measure_fns=(_measure,),
    setup=f"A project model and its twin f2(x) = f1(x - m), m = {SHIFT} per feature; {N_INPUTS} seeded inputs; "
          "attributions compared at corresponding inputs x and x + m.",
)
