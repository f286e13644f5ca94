"""Black-box explainers on an image model that declares patches: the patches are their players (feature mask).

A model may declare ``patches`` (``synthetic_models.patches``: an int ``[d]`` array, each pixel's patch id, ``P <= 16``
patches). An explainer that sees the model only as a callable (``requires="callable"``, local) then perturbs whole
patches, as LIME's superpixels and captum's ``feature_mask`` do, instead of single pixels: for each explained row
``x`` it explains the ``P``-feature game

    g(s) = f(r + (x - r) ⊙ M s),   s ∈ [0, 1]^P,  M[d, P] the patch indicators,

at ``s = 1`` against ``s = 0`` (its baseline) and, as background, ``s = 0`` once. The reference ``r`` is the case's
baseline row when the explainer takes one; for a background explainer ``g`` averages over the background rows
(``g(s) = mean_z f(z + (x - z) ⊙ M s)``, so ``g(1_S) - g(0)`` is the interventional patch game); otherwise the
baseline if given, else zero. Its patch values are spread evenly over each patch's pixels (``spread_per_patch``): the
map sums per patch to the explainer's own patch value, which is what the checks compare with the exact patch Shapley
values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from xaicheck.synthetic_models.base import FunctionModel, GroundTruth
from xaicheck.synthetic_models.patches import spread_per_patch

if TYPE_CHECKING:
    from .base import Explainer

__all__ = ["patches_of", "uses_patches", "players", "explain_by_patches"]


def patches_of(model: Any) -> np.ndarray | None:
    """The model's declared patch ids ``[d]``, or ``None``."""
    patches = getattr(model, "patches", None)
    return None if patches is None else np.asarray(patches, dtype=np.int64)


def uses_patches(explainer: "Explainer", model: Any) -> bool:
    """Whether ``explainer`` explains ``model`` patch by patch: a local black box on a model that declares patches."""
    caps = explainer.capabilities
    return caps.requires == "callable" and caps.scope == "local" and patches_of(model) is not None


def players(explainer: "Explainer", model: Any) -> int:
    """How many features ``explainer`` plays on ``model``: its patches when it explains patch by patch, else ``d``."""
    return int(patches_of(model).max()) + 1 if uses_patches(explainer, model) else int(model.n_features)


def _patch_game(model: Any, x: np.ndarray, refs: np.ndarray, M: np.ndarray, target: Any, i: int) -> FunctionModel:
    """The ``P``-feature game of row ``x`` against the reference rows ``refs`` (their mean game)."""
    diff = x[None, :] - refs  # [m, d]

    def g(S: np.ndarray) -> np.ndarray:
        S = np.asarray(S, dtype=np.float64)
        keep = S @ M.T  # [k, d]
        Z = refs[None, :, :] + diff[None, :, :] * keep[:, None, :]  # [k, m, d]
        out = model.predict_target(Z.reshape(-1, x.size), target)
        return out.reshape(len(S), len(refs)).mean(axis=1)

    P = M.shape[1]
    return FunctionModel(f"{model.name}_patches_row{i}", "patch_game", g, tuple(f"patch_{p}" for p in range(P)),
                         GroundTruth(relevant=frozenset(range(P))), domain="binary")


def explain_by_patches(explainer: "Explainer", model: Any, X: np.ndarray, baseline: np.ndarray | None,
                       background: np.ndarray | None, target: Any, seed: int, *,
                       ask: Callable[..., Any]) -> np.ndarray:
    """``[n, d]``: the explainer's patch values of each row's patch game, spread over the patch pixels. ``ask``
    puts one question to the explainer (``Explainer._ask``: the game's sealed view, in the field process)."""
    patches = patches_of(model)
    assert patches is not None
    P = int(patches.max()) + 1
    M = (patches[:, None] == np.arange(P)[None, :]).astype(np.float64)
    caps = explainer.capabilities
    ones, zeros = np.ones((1, P)), np.zeros((1, P))
    rows = []
    for i, x in enumerate(X):
        if caps.uses_baseline or (baseline is not None and not caps.uses_background):
            refs = np.asarray(baseline[i], dtype=np.float64)[None, :]
        elif background is not None:
            refs = np.asarray(background, dtype=np.float64)
        else:
            refs = np.zeros((1, X.shape[1]))
        game = _patch_game(model, np.asarray(x, dtype=np.float64), refs, M, target, i)
        out = ask(game, ones, baseline=zeros if caps.uses_baseline else None,  # the field, like any question
                  background=zeros if caps.uses_background else None, target=None, seed=seed)
        rows.append(np.asarray(out, dtype=np.float64).reshape(-1))
    return spread_per_patch(np.vstack(rows), patches)
