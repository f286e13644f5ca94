"""The exact interaction index of a model at given rows, by the fastest exact route (the truth the checks use).

``interaction_truth(model, X, reference, game, index, order, target)``: the baseline game (``reference`` = the
baseline, ``[d]`` or ``[n, d]``) or the interventional game (``reference`` = the background ``[m, d]``) of the
explained output, then ``interaction_indices``. Route: the declared closed form (``interaction_closed_forms``: a
polynomial's ``multilinear_terms`` or a fitted tree) when the model declares one and the target is its only output,
else the blocked enumeration (``d <= 16``). Both are exact and proven equal in ``tests/test_interaction_truth.py``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .interaction_closed_forms import closed_form_interactions
from .interaction_indices import indices_from_values
from .shapley import MAX_EXACT_FEATURES, baseline_values, interventional_values

__all__ = ["Game", "references", "interaction_truth"]

Game = Literal["baseline", "interventional"]


def references(X: np.ndarray, reference: np.ndarray, game: Game) -> np.ndarray:
    """The reference rows ``R[1 or n, m, d]`` of ``game``: the baseline (one row, or one per instance) or the
    background shared by every instance."""
    ref = np.atleast_2d(np.asarray(reference, dtype=np.float64))
    if game == "interventional":
        return ref[None]
    return ref[:1, None, :] if ref.shape[0] == 1 else np.broadcast_to(ref, X.shape)[:, None, :]


def interaction_truth(model: Any, X: np.ndarray, reference: np.ndarray, game: Game, index: str, order: int,
                      target: int | None = None, *, closed_form: bool = True) -> np.ndarray:
    """Exact ``index`` of order ``order`` ``[n, M]`` of ``model``'s explained output (module docstring)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if game not in ("baseline", "interventional"):
        raise ValueError(f"game must be 'baseline' or 'interventional'; got {game!r}")
    if closed_form and target in (None, 0) and getattr(model, "n_outputs", 1) == 1:
        out = closed_form_interactions(model, X, references(X, reference, game), index, order)
        if out is not None:
            return out
    if X.shape[1] > MAX_EXACT_FEATURES:
        raise ValueError(f"{getattr(model, 'name', 'model')}: no declared closed form and d={X.shape[1]} > "
                         f"{MAX_EXACT_FEATURES} (exact enumeration refused)")

    def f(Z: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_target(Z, target), dtype=np.float64)

    V = (baseline_values(f, X, reference) if game == "baseline" else interventional_values(f, X, reference))
    return indices_from_values(V, index, order)
