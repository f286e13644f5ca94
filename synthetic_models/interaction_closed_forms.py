"""Closed-form Möbius transforms of models that declare a product structure: polynomials and trees.

A model ``f = c + Σ_t c_t Π_{i ∈ T_t} g_{t,i}(x_i)`` (a multilinear polynomial: ``g = identity``; products, AND as a
product of bits, OR = ``x_a + x_b - x_a x_b``, XOR = ``x_a + x_b - 2 x_a x_b`` on {0,1} or ``x_a x_b`` on ±1, pairwise
models; a regression tree: one term per leaf, ``g_{ℓ,i} = 1[lo_{ℓ,i} < x_i <= hi_{ℓ,i}]`` on its path) has, in the
game ``v(S) = mean_j f(x_S, r_{j,N\\S})`` (baseline: one row ``r = b``; interventional: the background), the
Möbius transform (expand ``g(x_i) = g(r_i) + (g(x_i) - g(r_i))`` for ``i ∈ S`` in each product)

    m(U) = Σ_{t : U ⊆ T_t} c_t · mean_j Π_{i ∈ U} (g_{t,i}(x_i) - g_{t,i}(r_{j,i})) · Π_{i ∈ T_t \\ U} g_{t,i}(r_{j,i})

for ``U ≠ ∅`` (Grabisch 1997 for the Möbius transform of a product game), without the ``2^d`` enumeration: a term
of ``|T|`` features costs ``2^|T|`` products. The indices follow from ``interaction_indices.indices_from_mobius``.
A model declares the polynomial as ``multilinear_terms = {(i, j, ...): c}`` (an attribute: the checks read it, an
explainer never sees it); a tree needs nothing but its fitted estimator (``tree_shapley.tree_terms``; sklearn
compares ``float32(x) <= threshold``, and so do we). ``tests/test_interaction_truth.py`` proves both equal to the
enumeration to 1e-10.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Mapping

import numpy as np

from .interaction_indices import indices_from_mobius
from .tree_shapley import _leaf_boxes, tree_terms

__all__ = ["term_mobius", "polynomial_mobius", "tree_mobius", "declared_mobius", "closed_form_interactions"]

Mobius = dict[tuple[int, ...], np.ndarray]


def term_mobius(out: Mobius, coef: float, T: tuple[int, ...], gx: np.ndarray, gr: np.ndarray) -> None:
    """Add the Möbius coefficients of ``coef · Π_{i ∈ T} g_i`` to ``out``: ``gx[n, |T|]`` = ``g_i(x_i)``,
    ``gr[n or 1, m, |T|]`` = ``g_i(r_{j,i})``."""
    delta = gx[:, None, :] - gr  # [n, m, |T|]
    for s in range(1, len(T) + 1):
        for pos in combinations(range(len(T)), s):
            rest = [p for p in range(len(T)) if p not in pos]
            prod = np.prod(delta[:, :, list(pos)], axis=2) * np.prod(gr[:, :, rest], axis=2)
            key = tuple(T[p] for p in pos)
            val = coef * prod.mean(axis=1)
            out[key] = out[key] + val if key in out else val


def polynomial_mobius(terms: Mapping[tuple[int, ...], float], X: np.ndarray, R: np.ndarray) -> Mobius:
    """Möbius ``{U: [n]}`` of ``Σ_T c_T Π_{i ∈ T} x_i`` at rows ``X[n, d]``, references ``R[1 or n, m, d]``."""
    out: Mobius = {}
    for T, c in terms.items():
        T = tuple(sorted(int(i) for i in T))
        if T:
            term_mobius(out, float(c), T, X[:, list(T)], R[:, :, list(T)])
    return out


def tree_mobius(estimator: Any, X: np.ndarray, R: np.ndarray) -> Mobius | None:
    """Möbius ``{U: [n]}`` of a regression tree / forest / squared-error boosting (``tree_terms``), or ``None``."""
    terms = tree_terms(estimator)
    if terms is None:
        return None
    d = X.shape[1]
    x32, r32 = X.astype(np.float32), R.astype(np.float32)
    out: Mobius = {}
    for tree, scale in terms:
        lo, hi, on, value = _leaf_boxes(tree, d)
        for leaf in range(value.shape[0]):
            T = tuple(int(i) for i in np.flatnonzero(on[leaf]))
            if not T or value[leaf] == 0.0:
                continue
            lo_l, hi_l = lo[leaf, list(T)].astype(np.float32), hi[leaf, list(T)].astype(np.float32)
            gx = ((x32[:, list(T)] > lo_l) & (x32[:, list(T)] <= hi_l)).astype(np.float64)
            gr = ((r32[:, :, list(T)] > lo_l) & (r32[:, :, list(T)] <= hi_l)).astype(np.float64)
            term_mobius(out, scale * float(value[leaf]), T, gx, gr)
    return out


def declared_mobius(model: Any, X: np.ndarray, R: np.ndarray) -> Mobius | None:
    """The closed-form Möbius transform ``model`` declares (``multilinear_terms`` or a fitted tree), or ``None``."""
    terms = getattr(model, "multilinear_terms", None)
    if terms is not None:
        return polynomial_mobius(terms, X, R)
    if getattr(model, "is_tree_model", False) and getattr(model, "n_outputs", 1) == 1:
        return tree_mobius(getattr(model, "sklearn_estimator", None), X, R)
    return None


def closed_form_interactions(model: Any, X: np.ndarray, R: np.ndarray, index: str, order: int) -> np.ndarray | None:
    """``index`` of order ``order`` ``[n, M]`` from the declared structure, or ``None`` when none is declared."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    m = declared_mobius(model, X, np.asarray(R, dtype=np.float64))
    if m is None:
        return None
    return indices_from_mobius(m, X.shape[1], index, order, X.shape[0])
