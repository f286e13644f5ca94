"""Closed-form Shapley and Banzhaf values of linear and additive models (no enumeration).

If ``f(x) = c + Σ_i g_i(x_i)`` (additive; linear is ``g_i(x_i) = w_i x_i``), then in the game
``v(S) = mean_j f(x_S, r_{j, N\\S})`` the marginal contribution of ``i`` is the same for every coalition:

    v(S ∪ {i}) - v(S) = mean_j [g_i(x_i) - g_i(r_{j,i})] = mean_j [f(r_j with x_i) - f(r_j)],

so Shapley (weights summing to 1 over ``S ∌ i``) and Banzhaf (``2^{-(d-1)}`` times ``2^{d-1}`` equal terms) both equal
it (Sundararajan & Najmi 2020, Prop. for additive games; Janzing et al. 2020 for the interventional game):

    linear:    φ_i = β_i = w_i (x_i - mean_j r_{j,i})
    additive:  φ_i = β_i = mean_j f(r_j with x_i) - mean_j f(r_j)     (d + 1 model rows per reference row)

The reference set ``R[1 or n, m, d]`` is a baseline (``m = 1``) or a background. ``tests/test_oracle_closed_forms.py``
proves both equal to the enumeration.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .enumeration import BLOCK_ROWS, Predict

__all__ = ["linear_weights", "linear_values", "additive_values"]


def linear_weights(model: Any, target: int | None) -> np.ndarray | None:
    """The weight vector ``w[d]`` of the explained output of a model declaring ``linear_coefficients = (w, c)``,
    or ``None`` when it declares none."""
    coefficients = getattr(model, "linear_coefficients", None)
    if coefficients is None:
        return None
    w = np.asarray(coefficients[0], dtype=np.float64)
    if w.ndim == 1:
        return w if target in (None, 0) else None
    if w.ndim == 2 and target is not None and 0 <= target < w.shape[0]:
        return w[target]
    return None


def linear_values(w: np.ndarray, X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``φ = β = w · (x - mean_j r_j)`` ``[n, d]``."""
    return np.asarray(w, dtype=np.float64) * (np.asarray(X, dtype=np.float64) - R.mean(axis=1))


def additive_values(predict: Predict, X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``φ_i = β_i = mean_j f(r_j with x_i) - mean_j f(r_j)`` ``[n, d]``; exact only for additive ``f``. Rows are
    evaluated in blocks of at most ``BLOCK_ROWS`` (``m`` reference rows × ``d + 1`` variants)."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    m = R.shape[1]
    out = np.empty((n, d))
    step = max(1, BLOCK_ROWS // (m * (d + 1)))
    eye = np.eye(d, dtype=bool)
    for k in range(0, n, step):
        xs = X[k:k + step]
        refs = R[k:k + step] if R.shape[0] > 1 else np.broadcast_to(R, (xs.shape[0], m, d))
        rows = np.repeat(refs[:, None, :, :], d + 1, axis=1)  # [nk, d+1, m, d]; variant d = r_j itself
        rows[:, :d] = np.where(eye[None, :, None, :], xs[:, None, None, :], rows[:, :d])
        f = np.asarray(predict(rows.reshape(-1, d)), dtype=np.float64).reshape(xs.shape[0], d + 1, m).mean(axis=2)
        out[k:k + step] = f[:, :d] - f[:, d:]
    return out
