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

Integrated Gradients is run as a configured explainer, ``integrated_gradients.with_settings(n_steps=IG_STEPS)``
(recorded in the evidence): on this ReLU network the integrand is piecewise constant, so every quadrature rule has
an O(1/n_steps) error; at captum's 64 Gauss-Legendre nodes IG misses its own definition by 0.021 on the original
network (max over features and inputs), at 500 it is within 1e-3. The definition's value is computed exactly by
``exact_integrated_gradients`` (the path is cut at every kink, where some ReLU changes state, and the constant
gradient integrated on each piece).

Citation: P.-J. Kindermans, S. Hooker, J. Adebayo, M. Alber, K. T. Schütt, S. Dähne, D. Erhan, B. Kim, "The
(un)reliability of saliency methods", arXiv:1711.00867 (2017); in Explainable AI, LNCS 11700 (2019).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import explain, max_abs_diff
from .claims import Claim, Measurement, NotAvailable, Paper, fmt, measures, need_explainer, need_model

__all__ = ["PAPER", "CLAIMS", "IG_STEPS", "shifted_twin", "exact_integrated_gradients", "kindermans_inputs"]

#: Base models tried in order (a ReLU network first, as in the paper; a linear model is the one-layer case).
BASE_MODELS: tuple[str, ...] = ("mlp_base", "linear_dummy")
SHIFT = -1.0
N_INPUTS = 4
SEED = 0
#: Attributions are "the same" when max |a1 - a2| <= RTOL * (1 + max |a1|).
RTOL = 1e-6
#: IG's number of steps here (captum's default rule, Gauss-Legendre): enough for 1e-3 on the ReLU example.
IG_STEPS = 500

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


def exact_integrated_gradients(model: Any, X: np.ndarray, baseline: np.ndarray, *, grid: int = 64,
                               tol: float = 1e-12) -> np.ndarray:
    """IG by its definition, (x_i - b_i) ∫_0^1 ∂f/∂x_i(b + α(x - b)) dα, exactly for a piecewise-linear torch model.

    Along the path f is piecewise linear in α and its gradient piecewise constant. The path is cut into ``grid``
    cells; a cell whose two ends have the same gradient contributes gradient x width; in a cell whose ends differ,
    the kink α* where the two linear pieces meet is solved from f and the slopes at the ends, and kept if the
    gradient just left / right of α* is the ends' (one kink); otherwise the cell is halved. Exact to ``tol``."""
    import torch

    module = model.torch_module().to(torch.float64).eval()

    def f_and_grad(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        P = torch.tensor(np.atleast_2d(points), dtype=torch.float64, requires_grad=True)
        y = module(P).reshape(-1)
        (g,) = torch.autograd.grad(y.sum(), P)
        return y.detach().numpy(), g.numpy()

    out = []
    for x, b in zip(np.atleast_2d(X), np.broadcast_to(baseline, np.shape(np.atleast_2d(X)))):
        path = lambda a: b + np.atleast_1d(np.asarray(a, dtype=np.float64))[:, None] * (x - b)  # noqa: E731
        total = np.zeros(x.shape, dtype=np.float64)
        edges = np.linspace(0.0, 1.0, grid + 1)
        stack = list(zip(edges[:-1], edges[1:]))
        while stack:
            lo, hi = stack.pop()
            _, g = f_and_grad(path([lo + tol, hi - tol]))
            if np.array_equal(g[0], g[1]) or hi - lo <= 4 * tol:
                total += (hi - lo) * (g[0] + g[1]) / 2
                continue
            y, _ = f_and_grad(path([lo, hi]))
            s0, s1 = g[0] @ (x - b), g[1] @ (x - b)  # df/dα on each side
            if s0 != s1:
                kink = (y[1] - y[0] - s1 * hi + s0 * lo) / (s0 - s1)
                if lo + 2 * tol < kink < hi - 2 * tol:
                    _, gk = f_and_grad(path([kink - tol, kink + tol]))
                    if np.array_equal(gk[0], g[0]) and np.array_equal(gk[1], g[1]):
                        total += (kink - lo) * g[0] + (hi - kink) * g[1]
                        continue
            stack += [(lo, (lo + hi) / 2), ((lo + hi) / 2, hi)]
        out.append((x - b) * total)
    return np.asarray(out)


def kindermans_inputs(base: Any) -> np.ndarray:
    """The ``N_INPUTS`` seeded inputs of the experiment."""
    return base.sample(N_INPUTS, np.random.default_rng(SEED))


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
    X1 = kindermans_inputs(base)
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
        if name == "integrated_gradients":
            exp = exp.with_settings(n_steps=IG_STEPS)
        a1 = explain(exp, base, X1, baseline=b1)
        a2 = explain(exp, twin, X2, baseline=b2)
        diff = max_abs_diff(a1, a2)
        tol = RTOL * (1.0 + float(np.max(np.abs(a1))))
        invariant = diff <= tol
        ref = "" if not exp.capabilities.uses_baseline else f", baselines {b1.tolist()} / {b2.tolist()}"
        out.append(Measurement(cid, invariant == want_invariant,
                               {"max_abs_diff": diff, "tolerance": tol, "model": base.name, "explainer": exp.name,
                                "settings": dict(exp.settings),
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
          f"attributions compared at corresponding inputs x and x + m; Integrated Gradients with n_steps={IG_STEPS}.",
)
