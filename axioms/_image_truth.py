"""Exact truths of image models at scale: patch Shapley values and closed forms averaged over a background.

- A model that declares ``patches`` (``synthetic_models.patches``) is judged patch by patch: an explainer's pixel map
  is summed over each patch (``sum_per_patch``) and compared with the exact patch Shapley values, baseline
  (``v(S) = f(x on S, b elsewhere)``) or interventional (the mean of the baseline values at each background row),
  enumerated over the ``2^P`` coalitions. Stored in the run's reference cache (``_reference_cache``) as an ``[n, d]``
  array holding ``Φ`` in its first ``P`` columns (zeros after), read back bit for bit.
- A model with a pixel-level closed form ``exact_attribution(X, B)`` and ``d > MAX_EXACT_FEATURES``: the
  interventional value is ``mean_z exact_attribution(X, z)`` over the background rows (the Shapley value is linear in
  the game, and the interventional game is the mean of the baseline games at the background rows; Janzing et al.
  2020, Sundararajan & Najmi 2020).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.patches import baseline_patch_shapley, interventional_patch_shapley
from xaicheck.synthetic_models.targets import is_per_row

from ._reference_cache import cached_reference

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["patches_of", "patch_reference", "closed_form_interventional"]


def patches_of(model: "SyntheticModel") -> np.ndarray | None:
    """The model's declared patch ids ``[d]`` (image models only), or ``None``."""
    patches = getattr(model, "patches", None)
    return None if patches is None or model.domain != "image" else np.asarray(patches, dtype=np.int64)


def patch_reference(kind: str, model: "SyntheticModel", X: np.ndarray, *, baseline: np.ndarray | None,
                    background: np.ndarray | None, target: "int | None" = None) -> np.ndarray:
    """``[n, P]`` exact patch Shapley values: ``kind`` ``"baseline_shapley"`` at ``baseline`` (``[d]`` or ``[n, d]``),
    else interventional over ``background``."""
    patches = patches_of(model)
    if patches is None:
        raise ValueError(f"{model.name} declares no patches")
    if is_per_row(target):
        raise ValueError(f"{model.name}: patch references take one explained output per case")
    X = np.asarray(X, dtype=np.float64)
    P = int(patches.max()) + 1

    def predict(Z: np.ndarray) -> np.ndarray:
        return model.predict_target(Z, target)

    if kind == "baseline_shapley":
        if baseline is None:
            raise ValueError("the baseline patch Shapley reference needs a baseline; the case has none")
        B = np.broadcast_to(np.asarray(baseline, dtype=np.float64), X.shape)
        ref, data = B, None
        compute = lambda: baseline_patch_shapley(predict, X, B, patches)  # noqa: E731
    else:
        if background is None:
            raise ValueError("the interventional patch Shapley reference needs background data; the case has none")
        ref = data = np.asarray(background, dtype=np.float64)
        compute = lambda: interventional_patch_shapley(predict, X, data, patches)  # noqa: E731

    def padded() -> np.ndarray:
        out = np.zeros(X.shape)
        out[:, :P] = compute()
        return out

    return cached_reference(f"patch_{kind}", model, predict, X, ref, data, target, padded)[:, :P]


def closed_form_interventional(model: "SyntheticModel", X: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``[n, d]``: ``mean_z exact_attribution(X, z)`` over the background rows ``z``."""
    exact = model.ground_truth.exact_attribution
    if exact is None:
        raise ValueError(f"{model.name} declares no closed form")
    X = np.asarray(X, dtype=np.float64)
    return np.mean([np.asarray(exact(X, np.broadcast_to(z, X.shape)), dtype=np.float64)
                    for z in np.atleast_2d(background)], axis=0)
