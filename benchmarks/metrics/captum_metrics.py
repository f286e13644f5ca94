"""captum 0.9's ``captum.metrics.infidelity`` and ``sensitivity_max``, called through captum.

- ``infidelity`` (Yeh et al. 2019, NeurIPS, eq. 1): ``INFD = E_I[(Iᵀ a - (f(x) - f(x - I)))²]`` over perturbations
  ``I``; lower is better. captum has no default perturbation: the ``default`` variant uses the one of captum's own
  documentation (``I ~ N(0, 0.003²)`` per feature, ``n_perturb_samples=10``, ``normalize=False``). With
  ``normalize=False`` the score grows with the attribution's norm (captum issue: an attribution scaled by 10 scores
  worse unless scaled back); the ``paper`` variant sets ``normalize=True``, captum's implementation of the paper's
  optimally scaled infidelity ``E[(β Iᵀa - Δf)²]`` with ``β = E[Iᵀa Δf] / E[(Iᵀa)²]`` (Yeh et al. 2019, sec. 6).
- ``sensitivity_max`` (Yeh et al. 2019, eq. 4): ``max_{‖δ‖∞ ≤ r} ‖Φ(x + δ) - Φ(x)‖ / ‖Φ(x)‖`` by sampling (captum
  divides by the explanation's norm); lower is better. captum's defaults: ``perturb_radius=0.02``,
  ``n_perturb_samples=10``, Frobenius norm; the explanation function is the cell's explainer, asked again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .context import MetricContext, seeded
from .spec import Metric

__all__ = ["captum_metrics", "DOC_NOISE", "infidelity_by_formula"]

#: The perturbation scale of captum's documented example perturbation function.
DOC_NOISE = 0.003
N_PERTURB = 10


def _infidelity(ctx: MetricContext, *, normalize: bool) -> np.ndarray:
    import torch
    from captum.metrics import infidelity

    seeded(ctx.seed)
    gen = torch.Generator().manual_seed(int(ctx.seed))

    def perturb(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(inputs.shape, generator=gen, dtype=inputs.dtype) * DOC_NOISE
        return noise, inputs - noise

    def forward(x: torch.Tensor) -> torch.Tensor:
        return ctx.base(x).reshape(-1)

    with torch.no_grad():
        out = infidelity(forward, perturb, torch.from_numpy(ctx.X.copy()), torch.from_numpy(ctx.A.copy()),
                         n_perturb_samples=N_PERTURB, normalize=normalize)
    return out.detach().numpy().astype(np.float64)


def infidelity_by_formula(f: Any, X: np.ndarray, A: np.ndarray, noises: np.ndarray) -> np.ndarray:
    """``mean_k (I_k·a - (f(x) - f(x - I_k)))²`` per row for given perturbations ``noises[k, n, d]`` (eq. 1)."""
    fx = f(X)
    terms = [((I * A).sum(axis=1) - (fx - f(X - I))) ** 2 for I in noises]
    return np.mean(terms, axis=0)


def _sensitivity_max(ctx: MetricContext) -> np.ndarray:
    import torch
    from captum.metrics import sensitivity_max

    seeded(ctx.seed)
    gen = torch.Generator().manual_seed(int(ctx.seed))

    def perturb(inputs: "tuple[torch.Tensor, ...]", perturb_radius: float = 0.02) -> "tuple[torch.Tensor, ...]":
        """captum's ``default_perturb_func`` (uniform in [-r, r], float32 draws, r = 0.02) from a generator of its
        own: the global one is also moved by whatever the first explain call of a process imports or starts, which
        made one value depend on the process's history (GradientSHAP x mlp_base: 0.602 first, 0.650 after)."""
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        return tuple(x + torch.empty(x.size(), dtype=torch.float32).uniform_(-perturb_radius, perturb_radius,
                                                                            generator=gen) for x in inputs)

    def explanation(inputs: "torch.Tensor | tuple[torch.Tensor, ...]") -> "tuple[torch.Tensor, ...]":
        x = inputs[0] if isinstance(inputs, tuple) else inputs  # captum passes its inputs as a tuple
        return (torch.from_numpy(ctx.explain(x.detach().numpy().astype(np.float64))),)

    out = sensitivity_max(explanation, torch.from_numpy(ctx.X.copy()), perturb_func=perturb)
    return out.detach().numpy().astype(np.float64)


def captum_metrics() -> list[Metric]:
    cite = "Yeh et al. 2019, On the (in)fidelity and sensitivity of explanations (NeurIPS)"
    base = {"perturbation": f"N(0,{DOC_NOISE}^2)", "n_perturb_samples": N_PERTURB}
    return [
        Metric("captum_infidelity", "captum", "faithfulness", -1, lambda c: _infidelity(c, normalize=False),
               "default", {**base, "normalize": False}, citation=cite),
        Metric("captum_infidelity", "captum", "faithfulness", -1, lambda c: _infidelity(c, normalize=True),
               "paper", {**base, "normalize": True}, citation=cite, note="optimally scaled (Yeh et al. sec. 6)"),
        Metric("captum_sensitivity_max", "captum", "robustness", -1, _sensitivity_max, "default",
               {"perturb_radius": 0.02, "n_perturb_samples": 10, "norm_ord": "fro"}, reexplains=True, citation=cite),
    ]
