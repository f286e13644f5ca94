"""Exact interventional Shapley and Banzhaf values of tree ensembles, leaf by leaf (interventional TreeSHAP).

For one tree, an instance ``x`` and a reference row ``z``, the game ``v(S) = f(x_S, z_{N\\S})`` (Janzing et al. 2020;
Lundberg et al. 2020's interventional TreeSHAP) is a sum over leaves. Along the path to leaf ``ℓ`` each feature ``f``
is confined to an interval ``(lo, hi]``; the hybrid row reaches ``ℓ`` iff, for every ``f`` on the path, the source it
takes (``x_f`` if ``f ∈ S``, else ``z_f``) lies in the interval. With ``A`` = features where only ``x`` fits and
``B`` = features where only ``z`` fits (the leaf is unreachable if some feature fits neither),

    v(S) = Σ_ℓ value_ℓ · [A_ℓ ⊆ S] · [B_ℓ ∩ S = ∅],

and each term is a game with closed-form values (``a = |A|``, ``b = |B|``):

    Shapley  φ_i = value · (a-1)! b! / (a+b)!   (i ∈ A),     -value · a! (b-1)! / (a+b)!   (i ∈ B)
    Banzhaf  β_i = ± value · 2^{-(a+b-1)}                     (+ for i ∈ A, - for i ∈ B)

(count the coalitions ``S ∌ i`` where adding ``i`` switches the indicator). Both are linear in the game, so an
ensemble ``c + Σ_t s_t · tree_t`` gets ``Σ_t s_t · φ(tree_t)`` and the interventional game the mean over ``z``.
Exact up to float rounding; ``tests/test_oracle_tree.py`` proves it equal to the enumeration. sklearn compares
``float32(x_f) <= threshold`` (it casts inputs to float32), and so do we.
"""

from __future__ import annotations

from math import factorial
from typing import Any, Literal

import numpy as np

__all__ = ["TREE_BLOCK_CELLS", "tree_terms", "tree_values"]

#: Cells of the ``[instances, references, leaves, d]`` reachability tensor held at once (bool/float: <= 64 MiB).
TREE_BLOCK_CELLS = 1 << 22

Index = Literal["shapley", "banzhaf"]


def tree_terms(estimator: Any) -> list[tuple[Any, float]] | None:
    """``[(sklearn tree_, scale)]`` with ``predict(X) = const + Σ scale · tree_.predict(X)``, or ``None`` when the
    estimator is not a single-output regression tree, random forest or squared-error gradient boosting."""
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor

    if isinstance(estimator, DecisionTreeRegressor) and estimator.n_outputs_ == 1:
        return [(estimator.tree_, 1.0)]
    if isinstance(estimator, RandomForestRegressor) and estimator.n_outputs_ == 1:
        return [(t.tree_, 1.0 / len(estimator.estimators_)) for t in estimator.estimators_]
    if isinstance(estimator, GradientBoostingRegressor) and estimator.loss == "squared_error":
        return [(t.tree_, float(estimator.learning_rate)) for t in estimator.estimators_.ravel()]
    return None


def _leaf_boxes(tree: Any, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per leaf: ``lo[L, d]``, ``hi[L, d]`` (float32 comparisons: ``lo < v <= hi``), ``on_path[L, d]``, ``value[L]``."""
    left, right = tree.children_left, tree.children_right
    lo, hi, on, val = [], [], [], []
    stack = [(0, np.full(d, -np.inf), np.full(d, np.inf), np.zeros(d, dtype=bool))]
    while stack:
        node, l, h, p = stack.pop()
        if left[node] == right[node]:  # leaf
            lo.append(l), hi.append(h), on.append(p), val.append(float(tree.value[node].reshape(-1)[0]))
            continue
        f, t = int(tree.feature[node]), float(tree.threshold[node])
        p2 = p.copy()
        p2[f] = True
        hl, lr = h.copy(), l.copy()
        hl[f] = min(h[f], t)
        lr[f] = max(l[f], t)
        stack.append((int(right[node]), lr, h, p2))
        stack.append((int(left[node]), l, hl, p2))
    return np.array(lo), np.array(hi), np.array(on), np.array(val)


def _weights(d: int, index: Index) -> tuple[np.ndarray, np.ndarray]:
    """``wa[a, b]`` and ``wb[a, b]``: the value of a feature in ``A`` / in ``B`` for a unit leaf."""
    wa, wb = np.zeros((d + 1, d + 1)), np.zeros((d + 1, d + 1))
    for a in range(d + 1):
        for b in range(d + 1 - a):
            if index == "shapley":
                if a:
                    wa[a, b] = factorial(a - 1) * factorial(b) / factorial(a + b)
                if b:
                    wb[a, b] = -factorial(a) * factorial(b - 1) / factorial(a + b)
            elif a + b:
                wa[a, b], wb[a, b] = 2.0 ** -(a + b - 1), -(2.0 ** -(a + b - 1))
    return wa, wb


def _one_tree(tree: Any, X: np.ndarray, R: np.ndarray, index: Index) -> np.ndarray:
    """``[n, d]``: mean over the references of each instance of the leaf-sum formula, in blocks of instances."""
    n, d = X.shape
    lo, hi, on, value = _leaf_boxes(tree, d)
    wa, wb = _weights(d, index)
    x32, r32 = X.astype(np.float32), R.astype(np.float32)
    out = np.zeros((n, d))
    m, L = R.shape[1], lo.shape[0]
    step = max(1, TREE_BLOCK_CELLS // max(m * L * d, 1))
    for k in range(0, n, step):
        xs = x32[k:k + step, None, None, :]  # [nk, 1, 1, d]
        rs = r32[k:k + step, :, None, :] if R.shape[0] > 1 else r32[:1, :, None, :]  # [nk|1, m, 1, d]
        fx = (lo < xs) & (xs <= hi) | ~on  # [nk, 1, L, d]
        fz = (lo < rs) & (rs <= hi) | ~on  # [nk|1, m, L, d]
        only_x, only_z = fx & ~fz, fz & ~fx
        reach = np.all(fx | fz, axis=3)  # [nk, m, L]
        a, b = only_x.sum(axis=3), only_z.sum(axis=3)
        scale = np.where(reach, value, 0.0)  # [nk, m, L]
        contrib = (scale * wa[a, b])[..., None] * only_x + (scale * wb[a, b])[..., None] * only_z
        out[k:k + step] = contrib.sum(axis=2).mean(axis=1)
    return out


def tree_values(
    terms: list[tuple[Any, float]], X: np.ndarray, R: np.ndarray, index: Index = "shapley"
) -> np.ndarray:
    """Exact interventional Shapley / Banzhaf values ``[n, d]`` of ``const + Σ scale · tree`` for instances ``X``
    and references ``R[1 or n, m, d]`` (the baseline game is ``m = 1``)."""
    X = np.asarray(X, dtype=np.float64)
    out = np.zeros(X.shape)
    for tree, scale in terms:
        out += scale * _one_tree(tree, X, np.asarray(R, dtype=np.float64), index)
    return out
