"""OpenXAI's faithfulness and stability metrics (Agarwal et al. 2022, "OpenXAI: Towards a transparent evaluation of
model explanations", NeurIPS Datasets & Benchmarks), implemented here from the paper's formulas.

Faithfulness, with ``T_k`` the ``k`` features of largest ``|a|`` and ``x'`` = ``x`` plus Gaussian noise
``N(0, σ²)`` on a set of features (``PERTURB_STD``), expectations over ``n_samples`` draws:

    PGI = E |f(x) - f(x')|, noise on T_k (higher is better: the important features matter),
    PGU = E |f(x) - f(x')|, noise on the complement of T_k (lower is better).

Stability (Agarwal et al. 2022, "Rethinking stability for attribution-based explanations"), over ``n_samples``
neighbours ``x' = x + N(0, σ_s²)``, ``p = 2``, ``e`` the explainer's attribution asked again at ``x'``:

    RIS = max_x' ‖(e_x - e_x')/e_x‖ / max(‖(x - x')/x‖, ε_min),
    RRS = max_x' ‖(e_x - e_x')/e_x‖ / max(‖(L_x - L_x')/L_x‖, ε_min),
    ROS = max_x' ‖(e_x - e_x')/e_x‖ / max(‖(f(x) - f(x'))/f(x)‖, ε_min),

lower is better. Differences from the paper, by necessity or choice:
- the cases are regressions: ``f`` is the model's output where the paper uses the predicted probability, and the
  stability metrics keep every neighbour (the paper keeps those with the same predicted label);
- ``L`` (RRS) is the input of the last ``nn.Linear`` of the torch form (the paper: an internal representation, e.g.
  the logits' inputs); a model with one linear layer (or none) has no hidden representation and uses ``f`` (RRS = ROS);
- elementwise ratios divide by ``max(|v|, ε)`` with ``v``'s sign (``RATIO_EPS``; the paper does not say how a zero
  coordinate is handled), ``ε_min = EPS_MIN``;
- perturbations are continuous noise on every domain (OpenXAI flips categorical features with a probability);
- ``k = ceil(d/4)`` (OpenXAI's top-k fraction), ``σ = 0.1``, ``σ_s = 0.05``, 100 / 50 draws (``quick``: 8).
"""

from __future__ import annotations

import math

import numpy as np

from .context import MetricContext
from .spec import Metric

__all__ = ["openxai_metrics", "pgi_pgu", "stability_ratios", "top_k_mask", "PERTURB_STD", "STABILITY_STD",
           "EPS_MIN", "RATIO_EPS"]

PERTURB_STD = 0.1
STABILITY_STD = 0.05
EPS_MIN = 1e-4
RATIO_EPS = 1e-6
CITATION = "Agarwal et al. 2022, OpenXAI (NeurIPS D&B); Agarwal et al. 2022, Rethinking stability (arXiv:2203.06877)"


def top_k_mask(A: np.ndarray, k: int) -> np.ndarray:
    """``[n, d]`` boolean: the ``k`` largest ``|a|`` per row (ties: the lower index first, stable sort)."""
    order = np.argsort(-np.abs(A), axis=1, kind="stable")[:, :k]
    mask = np.zeros(A.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask


def pgi_pgu(f, X: np.ndarray, A: np.ndarray, k: int, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(PGI, PGU)`` per row for given noise draws ``noise[m, n, d]`` (the formulas of the module docstring)."""
    top = top_k_mask(A, k)
    fx = f(X)
    pgi = np.mean([np.abs(fx - f(X + z * top)) for z in noise], axis=0)
    pgu = np.mean([np.abs(fx - f(X + z * ~top)) for z in noise], axis=0)
    return pgi, pgu


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``‖(a - b)/a‖₂`` per row, dividing by ``sign(a) max(|a|, RATIO_EPS)``."""
    den = np.where(a < 0, -1.0, 1.0) * np.maximum(np.abs(a), RATIO_EPS)
    return np.sqrt((((a - b) / den) ** 2).sum(axis=-1))


def stability_ratios(E: np.ndarray, E_p: np.ndarray, X: np.ndarray, X_p: np.ndarray, L: np.ndarray,
                     L_p: np.ndarray, F: np.ndarray, F_p: np.ndarray) -> dict[str, np.ndarray]:
    """RIS, RRS, ROS per row from neighbours ``X_p[m, n, d]`` and their explanations ``E_p``, representations
    ``L_p[m, n, r]`` and outputs ``F_p[m, n]`` (``F`` and ``F_p`` as ``[.., 1]`` vectors)."""
    num = _ratio(E[None], E_p)
    out = {}
    for name, a, b in (("ris", X, X_p), ("rrs", L, L_p), ("ros", F, F_p)):
        out[name] = (num / np.maximum(_ratio(a[None], b), EPS_MIN)).max(axis=0)
    return out


def _representation(ctx: MetricContext, X: np.ndarray) -> np.ndarray:
    import torch
    from torch import nn

    linears = [m for m in ctx.base.modules() if isinstance(m, nn.Linear)]
    if len(linears) < 2:
        return ctx.predict(X)[:, None]
    seen: list[torch.Tensor] = []
    handle = linears[-1].register_forward_hook(lambda m, inp, out: seen.append(inp[0].detach()))
    try:
        with torch.no_grad():
            ctx.base(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64)))
    finally:
        handle.remove()
    return seen[-1].reshape(len(X), -1).numpy().astype(np.float64)


def _pg(ctx: MetricContext, which: str, n_samples: int) -> np.ndarray:
    key = f"pg{n_samples}"
    if key not in ctx.memo:
        rng = np.random.default_rng([int(ctx.seed), 1])
        noise = rng.normal(0.0, PERTURB_STD, (n_samples, *ctx.X.shape))
        ctx.memo[key] = pgi_pgu(ctx.predict, ctx.X, ctx.A, max(1, math.ceil(ctx.d / 4)), noise)
    return ctx.memo[key][0 if which == "pgi" else 1]


def _stability(ctx: MetricContext, which: str, n_samples: int) -> np.ndarray:
    key = f"stab{n_samples}"
    if key not in ctx.memo:
        rng = np.random.default_rng([int(ctx.seed), 2])
        X_p = ctx.X[None] + rng.normal(0.0, STABILITY_STD, (n_samples, *ctx.X.shape))
        E_p = ctx.explain(X_p.reshape(-1, ctx.d)).reshape(X_p.shape)
        flat = X_p.reshape(-1, ctx.d)
        L, L_p = _representation(ctx, ctx.X), _representation(ctx, flat).reshape(n_samples, ctx.n, -1)
        F, F_p = ctx.predict(ctx.X)[:, None], ctx.predict(flat).reshape(n_samples, ctx.n, 1)
        ctx.memo[key] = stability_ratios(ctx.A, E_p, ctx.X, X_p, L, L_p, F, F_p)
    return ctx.memo[key][which]


def openxai_metrics(*, quick: bool = False) -> list[Metric]:
    n_pg, n_st = (8, 8) if quick else (100, 50)
    pg = {"k": "ceil(d/4)", "noise_std": PERTURB_STD, "n_samples": n_pg}
    st = {"noise_std": STABILITY_STD, "n_samples": n_st, "eps_min": EPS_MIN, "p": 2}
    return [
        Metric("openxai_pgi", "openxai (this package)", "faithfulness", 1, lambda c: _pg(c, "pgi", n_pg), "paper",
               pg, citation=CITATION),
        Metric("openxai_pgu", "openxai (this package)", "faithfulness", -1, lambda c: _pg(c, "pgu", n_pg), "paper",
               pg, citation=CITATION),
        *[Metric(f"openxai_{w}", "openxai (this package)", "robustness", -1,
                 lambda c, w=w: _stability(c, w, n_st), "paper", st, reexplains=True, citation=CITATION)
          for w in ("ris", "rrs", "ros")],
    ]
