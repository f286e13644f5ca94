"""Patches of an image model: a partition of its pixels into ``P <= 16`` players, and the exact patch games.

An image model may declare ``patches``: an int array ``[d]`` giving each flattened feature (channel, row, column
order) the id ``0..P-1`` of its patch, a rectangular block of a ``rows x cols`` grid taken over every channel
(``grid_patches``). The patch is then the unit of every question about the image:

- the **patch game** of a row ``x`` against a reference ``r``: ``v(S) = f(r + (x - r) ⊙ 1[patch ∈ S])`` (pixels of the
  patches in ``S`` take ``x``'s values, the others ``r``'s);
- **exact baseline patch Shapley** ``Φ_p = Σ_{S ⊆ P\\{p}} |S|!(P-|S|-1)!/P! [v(S ∪ {p}) - v(S)]`` with ``r = b``, by
  enumeration of the ``2^P`` coalitions (Shapley 1953; the baseline game of Sundararajan & Najmi 2020 with the patches
  as players, the "superpixel" games of LIME and KernelSHAP, Ribeiro et al. 2016, Lundberg & Lee 2017);
- **exact interventional patch Shapley** ``Φ_p = mean_z Φ_p(x; r = z)`` over background rows ``z``: the Shapley value
  is linear in the game and ``v_int(S) = mean_z v_z(S)`` (Janzing et al. 2020), so the mean of the baseline values at
  each background row is the interventional value exactly;
- a pixel map is compared with them after **summing over each patch** (``sum_per_patch``): a gradient map of a
  faithful method sums to the patch's share; a black-box method is given the patches as its players and its patch
  value is spread evenly over the patch's pixels (``spread_per_patch``), so its sum is its own patch value.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .shapley import shapley_weights

__all__ = ["MAX_PATCHES", "grid_patches", "sum_per_patch", "spread_per_patch", "patch_values",
           "baseline_patch_shapley", "interventional_patch_shapley"]

#: At most this many patches (2^16 = 65,536 model calls per row for the exact values).
MAX_PATCHES = 16
#: Images evaluated per model call while enumerating coalitions.
_CHUNK = 4096

Predict = Callable[[np.ndarray], np.ndarray]


def grid_patches(shape: tuple[int, int, int], rows: int, cols: int) -> np.ndarray:
    """``[C*H*W]`` patch ids of a ``rows x cols`` grid of blocks (row-major ids; each block spans every channel). The
    block edges are ``round(k * H / rows)``, so unequal sizes differ by at most one pixel."""
    c, h, w = shape
    if rows * cols > MAX_PATCHES or rows < 1 or cols < 1 or rows > h or cols > w:
        raise ValueError(f"Expected a grid of at most {MAX_PATCHES} patches within {h}x{w} but got {rows}x{cols}")
    r_of = np.searchsorted(np.round(np.arange(1, rows) * h / rows), np.arange(h), side="right")
    c_of = np.searchsorted(np.round(np.arange(1, cols) * w / cols), np.arange(w), side="right")
    ids = r_of[:, None] * cols + c_of[None, :]
    return np.broadcast_to(ids, (c, h, w)).reshape(-1).astype(np.int64)


def _onehot(patches: np.ndarray) -> np.ndarray:
    """``M[P, d]``: row p is the indicator of patch p."""
    patches = np.asarray(patches, dtype=np.int64)
    return (patches[None, :] == np.arange(int(patches.max()) + 1)[:, None]).astype(np.float64)


def sum_per_patch(A: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """``[n, P]``: each row of the pixel map ``A [n, d]`` summed over each patch."""
    return np.atleast_2d(np.asarray(A, dtype=np.float64)) @ _onehot(patches).T


def spread_per_patch(Phi: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """``[n, d]``: each patch value of ``Phi [n, P]`` shared evenly by the patch's pixels (``sum_per_patch`` inverts
    it)."""
    M = _onehot(patches)
    return np.atleast_2d(np.asarray(Phi, dtype=np.float64)) @ (M / M.sum(axis=1, keepdims=True))


def _masks(P: int) -> np.ndarray:
    codes = np.arange(1 << P, dtype=np.int64)
    return ((codes[:, None] >> np.arange(P)) & 1).astype(np.float64)


def patch_values(predict: Predict, x: np.ndarray, reference: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """``v[2^P]``: ``v[S] = f(r + (x - r) ⊙ 1[patch ∈ S])``, bit ``p`` of ``S`` = patch ``p`` present."""
    M = _onehot(patches)
    P = M.shape[0]
    if P > MAX_PATCHES:
        raise ValueError(f"Expected at most {MAX_PATCHES} patches but got {P}")
    S = _masks(P)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    r = np.asarray(reference, dtype=np.float64).reshape(-1)
    out = np.empty(len(S))
    for k in range(0, len(S), _CHUNK):
        keep = S[k:k + _CHUNK] @ M  # [c, d] pixel indicators
        out[k:k + _CHUNK] = np.asarray(predict(r[None, :] + (x - r)[None, :] * keep), dtype=np.float64).reshape(-1)
    return out


def baseline_patch_shapley(predict: Predict, X: np.ndarray, baseline: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """``[n, P]`` exact baseline Shapley values of the patches; ``baseline`` ``[d]`` or ``[n, d]``."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    B = np.broadcast_to(np.asarray(baseline, dtype=np.float64), X.shape)
    W = shapley_weights(int(np.max(patches)) + 1)
    return np.stack([patch_values(predict, x, b, patches) @ W for x, b in zip(X, B)])


def interventional_patch_shapley(predict: Predict, X: np.ndarray, background: np.ndarray,
                                 patches: np.ndarray) -> np.ndarray:
    """``[n, P]`` exact interventional Shapley values of the patches: the mean over background rows ``z`` of the
    baseline values at ``z`` (linearity of the Shapley value in the game)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    Z = np.atleast_2d(np.asarray(background, dtype=np.float64))
    return np.mean([baseline_patch_shapley(predict, X, z, patches) for z in Z], axis=0)
