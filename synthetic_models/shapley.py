"""Exact Shapley and Banzhaf values by enumeration of all ``2^d`` coalitions, vectorised.

For a value function ``v`` over coalitions ``S ⊆ N = {0..d-1}``:

    Shapley  φ_i = Σ_{S ⊆ N\\{i}} |S|! (d-|S|-1)! / d! · [v(S ∪ {i}) - v(S)]      (Shapley 1953)
    Banzhaf  β_i = 2^{-(d-1)} Σ_{S ⊆ N\\{i}} [v(S ∪ {i}) - v(S)]                    (Banzhaf 1965)

Both are linear in ``v``, so for a batch we build ``V[n, 2^d]`` (each instance's coalition values) and return
``V @ W`` with a fixed weight matrix ``W[2^d, d]``. The values are evaluated by ``enumeration`` in blocks of 8k rows
in a reused buffer, in instance chunks of bounded size (memory bound ``enumeration.WORKING_BYTES``), and through a
corner table when every input is 0/1; the result equals the one-call enumeration bit for bit.

The value functions (Sundararajan & Najmi 2020, "The many Shapley values for model explanation"):

- baseline (BShap):        v(S) = f(x_S, b_{N\\S})
- interventional (marginal, "RBShap" / Janzing et al. 2020):  v(S) = E_{z ~ background} f(x_S, z_{N\\S})
- conditional (observational, CES): v(S) = E[f(Z) | Z_S = x_S] for a known discrete distribution of Z.

Efficiency holds by construction: Σ_i φ_i = v(N) - v(∅), i.e. ``f(x) - f(b)`` (baseline), ``f(x) - E f(z)``
(interventional) and ``f(x) - E f(Z)`` (conditional, when ``x`` is in the support).
"""

from __future__ import annotations

from functools import lru_cache
from math import factorial

import numpy as np

from .enumeration import VALUE_CELLS, Predict, game_attributions, game_values

__all__ = [
    "MAX_EXACT_FEATURES",
    "coalitions",
    "shapley_weights",
    "banzhaf_weights",
    "baseline_values",
    "interventional_values",
    "conditional_values",
    "baseline_shapley",
    "interventional_shapley",
    "conditional_shapley",
    "baseline_banzhaf",
    "interventional_banzhaf",
    "conditional_banzhaf",
]

#: Above this many features, enumeration (``2^d`` model calls per instance) is refused with a clear error.
MAX_EXACT_FEATURES = 16


def _check_d(d: int) -> None:
    if d > MAX_EXACT_FEATURES:
        raise ValueError(f"exact enumeration needs 2^d coalitions; d={d} exceeds MAX_EXACT_FEATURES={MAX_EXACT_FEATURES}")


@lru_cache(maxsize=32)
def coalitions(d: int) -> np.ndarray:
    """Boolean ``[2^d, d]`` matrix; row ``c`` is the coalition whose bit ``i`` of ``c`` says whether ``i ∈ S``."""
    _check_d(d)
    codes = np.arange(1 << d, dtype=np.int64)
    out = ((codes[:, None] >> np.arange(d)) & 1).astype(bool)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=32)
def shapley_weights(d: int) -> np.ndarray:
    """``W[2^d, d]`` with ``φ = V @ W``: ``W[S, i] = w(|S|-1)`` if ``i ∈ S`` else ``-w(|S|)``, w(s)=s!(d-s-1)!/d!."""
    masks = coalitions(d)
    size = masks.sum(axis=1)
    w = np.array([factorial(s) * factorial(d - s - 1) / factorial(d) for s in range(d)] + [0.0])
    out = np.where(masks, w[np.maximum(size - 1, 0)][:, None], -w[size][:, None])
    out.setflags(write=False)
    return out


@lru_cache(maxsize=32)
def banzhaf_weights(d: int) -> np.ndarray:
    """``W[2^d, d]`` with ``β = V @ W``: ``±2^{-(d-1)}`` by whether ``i ∈ S``."""
    masks = coalitions(d)
    out = np.where(masks, 1.0, -1.0) / float(1 << (d - 1))
    out.setflags(write=False)
    return out


def _as_2d(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return X[None, :] if X.ndim == 1 else X


def _scalar_output(out: np.ndarray, rows: int) -> np.ndarray:
    out = np.asarray(out, dtype=np.float64)
    if out.shape != (rows,):
        raise ValueError(f"value function needs a scalar output per row: predict returned shape {out.shape}")
    return out


def _references(X: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """The baseline game's reference set ``[1 or n, 1, d]`` (one row shared, or one row per instance)."""
    B = np.asarray(baseline, dtype=np.float64)
    if B.ndim == 1 or B.shape[0] == 1:
        return np.broadcast_to(B.reshape(1, 1, -1), (1, 1, X.shape[1]))
    return np.broadcast_to(B, X.shape)[:, None, :]


def baseline_values(predict: Predict, X: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """``V[n, 2^d]`` with ``V[k, S] = f(x_k on S, baseline on N\\S)``; baseline ``[d]`` or ``[n, d]``."""
    X = _as_2d(X)
    return game_values(predict, X, _references(X, baseline), coalitions(X.shape[1]))


def interventional_values(predict: Predict, X: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``V[n, 2^d]`` with ``V[k, S] = mean_z f(x_k on S, z on N\\S)`` over the background rows ``z``."""
    X = _as_2d(X)
    return game_values(predict, X, _as_2d(background)[None], coalitions(X.shape[1]))


def conditional_values(
    predict: Predict, X: np.ndarray, support: np.ndarray, probabilities: np.ndarray
) -> np.ndarray:
    """``V[n, 2^d]`` with ``V[k, S] = E[f(Z) | Z_S = x_S]`` for ``Z`` on ``support`` (``[m, d]``) with ``probabilities``.

    Computed in coalition blocks holding at most ``VALUE_CELLS`` cells of the ``[n, m, block]`` agreement tensor.
    Raises if some ``x_S`` has zero probability (the conditional expectation is undefined there).
    """
    X = _as_2d(X)
    P = _as_2d(support)
    p = np.asarray(probabilities, dtype=np.float64)
    if p.shape != (P.shape[0],) or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError("probabilities must be a non-negative vector over the support rows, summing to 1")
    n, d = X.shape
    masks = coalitions(d)
    c = masks.shape[0]
    f_support = _scalar_output(predict(P), P.shape[0])
    mismatch = (X[:, None, :] != P[None, :, :]).astype(np.float64)  # [n, m, d]
    V = np.empty((n, c))
    step = max(1, VALUE_CELLS // max(n * P.shape[0], 1))
    for s in range(0, c, step):
        block = masks[s:s + step].astype(np.float64)
        agrees = (mismatch @ block.T) == 0  # [n, m, block]: support row agrees with x on S
        mass = np.einsum("nmc,m->nc", agrees, p)
        if np.any(mass <= 0):
            raise ValueError("conditional expectation undefined: some x_S has zero probability under the distribution")
        V[:, s:s + step] = np.einsum("nmc,m->nc", agrees, p * f_support) / mass
    return V


def baseline_shapley(predict: Predict, X: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Exact baseline Shapley values ``[n, d]`` (BShap, Sundararajan & Najmi 2020)."""
    X = _as_2d(X)
    d = X.shape[1]
    return game_attributions(predict, X, _references(X, baseline), coalitions(d), shapley_weights(d))


def interventional_shapley(predict: Predict, X: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Exact interventional (marginal) Shapley values ``[n, d]`` over a background set (Janzing et al. 2020)."""
    X = _as_2d(X)
    d = X.shape[1]
    return game_attributions(predict, X, _as_2d(background)[None], coalitions(d), shapley_weights(d))


def conditional_shapley(
    predict: Predict, X: np.ndarray, support: np.ndarray, probabilities: np.ndarray
) -> np.ndarray:
    """Exact conditional (observational) Shapley values ``[n, d]`` for a known discrete distribution."""
    V = conditional_values(predict, X, support, probabilities)
    return V @ shapley_weights(_as_2d(X).shape[1])


def baseline_banzhaf(predict: Predict, X: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Exact Banzhaf values ``[n, d]`` for the baseline value function."""
    X = _as_2d(X)
    d = X.shape[1]
    return game_attributions(predict, X, _references(X, baseline), coalitions(d), banzhaf_weights(d))


def interventional_banzhaf(predict: Predict, X: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Exact Banzhaf values ``[n, d]`` for the interventional value function."""
    X = _as_2d(X)
    d = X.shape[1]
    return game_attributions(predict, X, _as_2d(background)[None], coalitions(d), banzhaf_weights(d))


def conditional_banzhaf(
    predict: Predict, X: np.ndarray, support: np.ndarray, probabilities: np.ndarray
) -> np.ndarray:
    """Exact Banzhaf values ``[n, d]`` for the conditional value function."""
    V = conditional_values(predict, X, support, probabilities)
    return V @ banzhaf_weights(_as_2d(X).shape[1])
