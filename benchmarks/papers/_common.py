"""Small helpers shared by the paper reproductions (discrete distributions, explainer calls, Shapley oracles)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .claims import NotAvailable

__all__ = ["discrete_distribution", "explain", "max_abs_diff", "weighted_interventional_shapley"]


def discrete_distribution(model: Any, seed: int = 0, n_draws: int = 20000) -> tuple[np.ndarray, np.ndarray, str]:
    """``(support [m, d], probabilities [m], how)`` of a model with a discrete input distribution.

    Uses the model's declared ``support``/``probabilities`` when it has them, else the empirical distribution of
    ``n_draws`` seeded draws from ``model.sample`` (then exact for that empirical distribution).
    """
    support = getattr(model, "support", None)
    probs = getattr(model, "probabilities", None)
    if support is not None and probs is not None:
        return np.asarray(support, dtype=np.float64), np.asarray(probs, dtype=np.float64), "declared"
    draws = model.sample(n_draws, np.random.default_rng(seed))
    rows, counts = np.unique(draws, axis=0, return_counts=True)
    if rows.shape[0] > 4096:
        raise NotAvailable(f"model {model.name!r} does not have a small discrete distribution ({rows.shape[0]} values)")
    return rows, counts / counts.sum(), f"empirical ({n_draws} draws, seed {seed})"


def explain(explainer: Any, model: Any, X: np.ndarray, *, baseline: np.ndarray | None = None,
            background: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """``explainer.explain`` giving it only the references it declares it uses."""
    caps = explainer.capabilities
    return explainer.explain(model, X, baseline=baseline if caps.uses_baseline else None,
                             background=background if caps.uses_background else None, seed=seed)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def weighted_interventional_shapley(predict: Any, X: np.ndarray, support: np.ndarray,
                                    probabilities: np.ndarray) -> np.ndarray:
    """Exact interventional Shapley ``[n, d]`` for a weighted background: ``v(S) = Σ_z p_z f(x_S, z_{N\\S})``.

    Built from the project's oracles (``baseline_values`` per support row, ``shapley_weights``).
    """
    from xaicheck.synthetic_models.shapley import baseline_values, shapley_weights

    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    V = sum(p * baseline_values(predict, X, z) for z, p in zip(support, probabilities))
    return np.asarray(V) @ shapley_weights(X.shape[1])

