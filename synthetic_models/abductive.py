"""Formal relevance on truth tables (Huang & Marques-Silva 2023, "The inadequacy of Shapley values for explainability").

An abductive explanation (AXp) of a point x is a subset-minimal S such that f(z) = f(x) for every z agreeing with x
on S; a feature is *irrelevant* at x if it is in no AXp. Computed by enumeration with a subset-OR (zeta) transform,
vectorised over truth tables and points. For numeric functions the same definition is applied to the output value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_BOOLEAN_FEATURES", "truth_table_inputs", "sufficient_sets", "minimal_sufficient_sets",
           "formal_relevance", "point_codes"]

#: Truth tables are enumerated up to this many features.
MAX_BOOLEAN_FEATURES = 16


def truth_table_inputs(d: int) -> np.ndarray:
    """All of {0,1}^d as float64 ``[2^d, d]``; row c has x_i = bit i of c (the ``shapley.coalitions`` order)."""
    if d > MAX_BOOLEAN_FEATURES:
        raise ValueError(f"truth tables are enumerated up to d={MAX_BOOLEAN_FEATURES}; got d={d}")
    return ((np.arange(1 << d)[:, None] >> np.arange(d)) & 1).astype(np.float64)


def sufficient_sets(y: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``suff[..., p, S]``: f(z) = f(x_p) for every z with z_S = (x_p)_S. ``y[..., 2^d]`` (truth tables, any leading
    batch), ``points`` integer codes ``[P]``. Uses h[T] = OR{f(z) != f(x) : z xor x subset of T} (subset-OR zeta
    transform, O(d 2^d)); S is sufficient iff h[N minus S] is false."""
    y = np.asarray(y)
    c = y.shape[-1]
    d = c.bit_length() - 1
    codes = np.arange(c)
    points = np.asarray(points, dtype=np.int64)
    bad = y[..., None, :] != y[..., points][..., None]  # [..., P, z]
    h = np.take_along_axis(bad, np.broadcast_to(codes[None, :] ^ points[:, None], bad.shape), axis=-1)
    h = h.copy()  # h[.., p, T] = bad[.., p, T xor x_p]  (T = the coordinates where z differs from x)
    for i in range(d):
        bit = 1 << i
        hi = codes[codes & bit != 0]
        h[..., hi] |= h[..., hi ^ bit]
    return ~h[..., (c - 1) ^ codes]


def minimal_sufficient_sets(suff: np.ndarray) -> np.ndarray:
    """AXps: sufficient S with no sufficient S minus {i} (sufficiency is monotone, so this is subset-minimal)."""
    c = suff.shape[-1]
    codes = np.arange(c)
    minimal = suff.copy()
    for i in range((c - 1).bit_length()):
        has = codes & (1 << i) != 0
        minimal[..., has] &= ~suff[..., codes[has] ^ (1 << i)]
    return minimal


def formal_relevance(y: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
    """``relevant[..., p, i]``: feature i is in some AXp of point p (Huang & Marques-Silva 2023)."""
    c = np.asarray(y).shape[-1]
    d = c.bit_length() - 1
    points = np.arange(c) if points is None else points
    minimal = minimal_sufficient_sets(sufficient_sets(y, points)).astype(np.float32)
    masks = ((np.arange(c)[:, None] >> np.arange(d)) & 1).astype(np.float32)
    return (minimal @ masks) > 0


def point_codes(X: np.ndarray) -> np.ndarray:
    if not np.all((X == 0) | (X == 1)):
        raise ValueError(f"formal relevance is defined on {{0,1}}^d; got non-binary values {np.unique(X)[:5]}")
    return (X.astype(np.int64) << np.arange(X.shape[1])).sum(axis=1)
