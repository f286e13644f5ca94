"""Agreement between two explanations, as pure numpy functions over ``[n, d]`` attribution arrays.

The six metrics of Krishna et al. 2022, "The disagreement problem in explainable machine learning: a practitioner's
perspective" (arXiv:2202.01602, sec. 3.1), each returned per row (shape ``[n]``, values in [0, 1] unless stated),
plus cosine similarity. Features are ranked by importance ``|a_i|``; ``top_k`` breaks ties by the lower feature
index (a fixed, documented order, so identical inputs always agree fully).

- feature agreement@k        |top_k(A) ∩ top_k(B)| / k
- rank agreement@k           #{j < k : top_k(A)[j] = top_k(B)[j]} / k         (same feature at the same rank)
- sign agreement@k           |{i ∈ top_k(A) ∩ top_k(B) : sign A_i = sign B_i}| / k
- signed rank agreement@k    #{j < k : same feature at rank j and same sign} / k
- rank correlation           Spearman's ρ of the importance values over a feature set F (in [-1, 1])
- pairwise rank agreement    share of pairs i < j in F ordered the same way by both explanations

``expected_feature_agreement`` / ``expected_sign_agreement`` are the same two quantities with ties at the k-th place
broken by one uniformly random order of the features, shared by A and B, and averaged over that order (exactly):
``E_π |top_k(A; π) ∩ top_k(B; π)| / k`` (sign: only features with equal signs). The index order is arbitrary, so a
constant explanation should not collect agreement because the important features happen to come first (against an
untied B it gets k/d); the order is shared so that identical explanations still agree fully.

``rank_correlation`` accepts a tolerance: values within ``atol`` of each other count as tied (mid-ranks), so
floating-point noise in an exact tie (e.g. ``[0.5, 0.5]`` vs ``[0.4999999, 0.5000001]``) does not flip ρ to -1.
Degenerate rows are defined, not NaN: both explanations constant -> ρ = 1 (identical rankings); exactly one constant
-> ρ = 0. Cosine: both zero -> 1, exactly one zero -> 0.
"""

from __future__ import annotations

from math import comb

import numpy as np

__all__ = [
    "top_k",
    "feature_agreement",
    "rank_agreement",
    "sign_agreement",
    "signed_rank_agreement",
    "rank_correlation",
    "pairwise_rank_agreement",
    "cosine_similarity",
    "top_k_membership",
    "tolerant_ranks",
    "expected_feature_agreement",
    "expected_sign_agreement",
]


def _pair(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    A = A[None, :] if A.ndim == 1 else A
    B = B[None, :] if B.ndim == 1 else B
    if A.ndim != 2 or A.shape != B.shape:
        raise ValueError(f"Expected two attribution arrays of equal shape [n, d] but got {A.shape} and {B.shape}")
    return A, B


def _check_k(k: int, d: int) -> int:
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= d:
        raise ValueError(f"Expected k to be an integer in [1, d={d}] but got k={k!r}")
    return int(k)


def _row_tol(atol: float | np.ndarray, n: int) -> np.ndarray:
    tol = np.broadcast_to(np.asarray(atol, dtype=np.float64), (n,))
    if np.any(tol < 0):
        raise ValueError(f"Expected a non-negative tolerance but got atol={atol!r}")
    return tol


def top_k(A: np.ndarray, k: int) -> np.ndarray:
    """Indices ``[n, k]`` of the ``k`` largest ``|A|`` per row, largest first; ties broken by the lower index."""
    A = np.asarray(A, dtype=np.float64)
    A = A[None, :] if A.ndim == 1 else A
    k = _check_k(k, A.shape[1])
    return np.argsort(-np.abs(A), axis=1, kind="stable")[:, :k]


def _member(idx: np.ndarray, d: int) -> np.ndarray:
    out = np.zeros((idx.shape[0], d), dtype=bool)
    np.put_along_axis(out, idx, True, axis=1)
    return out


def feature_agreement(A: np.ndarray, B: np.ndarray, k: int) -> np.ndarray:
    """Feature agreement@k: share of the top-k features (by ``|a|``) the two explanations have in common."""
    A, B = _pair(A, B)
    k = _check_k(k, A.shape[1])
    both = _member(top_k(A, k), A.shape[1]) & _member(top_k(B, k), A.shape[1])
    return both.sum(axis=1) / k


def rank_agreement(A: np.ndarray, B: np.ndarray, k: int) -> np.ndarray:
    """Rank agreement@k: share of the k rank positions holding the same feature in both explanations."""
    A, B = _pair(A, B)
    k = _check_k(k, A.shape[1])
    return (top_k(A, k) == top_k(B, k)).mean(axis=1)


def sign_agreement(A: np.ndarray, B: np.ndarray, k: int) -> np.ndarray:
    """Sign agreement@k: share of k for features in both top-k sets that also carry the same sign."""
    A, B = _pair(A, B)
    k = _check_k(k, A.shape[1])
    d = A.shape[1]
    both = _member(top_k(A, k), d) & _member(top_k(B, k), d) & (np.sign(A) == np.sign(B))
    return both.sum(axis=1) / k


def signed_rank_agreement(A: np.ndarray, B: np.ndarray, k: int) -> np.ndarray:
    """Signed rank agreement@k: share of the k rank positions with the same feature and the same sign."""
    A, B = _pair(A, B)
    k = _check_k(k, A.shape[1])
    ia, ib = top_k(A, k), top_k(B, k)
    same_sign = np.sign(np.take_along_axis(A, ia, axis=1)) == np.sign(np.take_along_axis(B, ib, axis=1))
    return ((ia == ib) & same_sign).mean(axis=1)


def tolerant_ranks(V: np.ndarray, atol: float | np.ndarray = 0.0) -> np.ndarray:
    """Mid-ranks ``[n, d]`` (1-based) where values within ``atol`` of each other are tied.

    ``rank_i = 1 + #{j : v_j < v_i - atol} + (#{j : |v_j - v_i| <= atol} - 1) / 2``; with ``atol = 0`` this is the
    usual average rank (``scipy.stats.rankdata(method="average")``).
    """
    V = np.asarray(V, dtype=np.float64)
    V = V[None, :] if V.ndim == 1 else V
    tol = _row_tol(atol, V.shape[0])[:, None, None]
    diff = V[:, None, :] - V[:, :, None]  # [n, i, j] = v_j - v_i
    lower = (diff < -tol).sum(axis=2)
    tied = (np.abs(diff) <= tol).sum(axis=2)
    return 1.0 + lower + (tied - 1) / 2.0


def _subset(A: np.ndarray, features: np.ndarray | list[int] | None) -> np.ndarray:
    if features is None:
        return A
    idx = np.asarray(features, dtype=np.int64)
    if idx.ndim != 1 or idx.size == 0 or np.any(idx < 0) or np.any(idx >= A.shape[1]):
        raise ValueError(f"Expected a non-empty list of feature indices in [0, {A.shape[1]}) but got {features!r}")
    return A[:, idx]


def rank_correlation(
    A: np.ndarray,
    B: np.ndarray,
    *,
    features: np.ndarray | list[int] | None = None,
    absolute: bool = True,
    atol: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Spearman's ρ per row between the importance rankings (``|a|`` if ``absolute``) over ``features``, in [-1, 1].

    ``atol`` (scalar or per row) ties values closer than it. Both rows constant -> 1; exactly one constant -> 0.
    """
    A, B = _pair(A, B)
    A, B = _subset(A, features), _subset(B, features)
    if absolute:
        A, B = np.abs(A), np.abs(B)
    ra = tolerant_ranks(A, atol)
    rb = tolerant_ranks(B, atol)
    ra = ra - ra.mean(axis=1, keepdims=True)
    rb = rb - rb.mean(axis=1, keepdims=True)
    na = np.sqrt((ra**2).sum(axis=1))
    nb = np.sqrt((rb**2).sum(axis=1))
    flat_a, flat_b = na <= 1e-12, nb <= 1e-12
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (ra * rb).sum(axis=1) / (na * nb)
    rho = np.where(flat_a & flat_b, 1.0, np.where(flat_a | flat_b, 0.0, rho))
    return np.clip(rho, -1.0, 1.0)


def pairwise_rank_agreement(
    A: np.ndarray,
    B: np.ndarray,
    *,
    features: np.ndarray | list[int] | None = None,
    absolute: bool = True,
) -> np.ndarray:
    """Share of feature pairs ``i < j`` (in ``features``) whose relative order (``<``, ``=``, ``>``) agrees."""
    A, B = _pair(A, B)
    A, B = _subset(A, features), _subset(B, features)
    if absolute:
        A, B = np.abs(A), np.abs(B)
    d = A.shape[1]
    if d < 2:
        return np.ones(A.shape[0])
    i, j = np.triu_indices(d, k=1)
    return (np.sign(A[:, i] - A[:, j]) == np.sign(B[:, i] - B[:, j])).mean(axis=1)


def cosine_similarity(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Cosine of the angle between the two attribution vectors per row, in [-1, 1] (both zero -> 1, one -> 0)."""
    A, B = _pair(A, B)
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
    zero_a, zero_b = na == 0, nb == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (A * B).sum(axis=1) / (na * nb)
    cos = np.where(zero_a & zero_b, 1.0, np.where(zero_a | zero_b, 0.0, cos))
    return np.clip(cos, -1.0, 1.0)


def top_k_membership(A: np.ndarray, k: int | np.ndarray, atol: float | np.ndarray = 0.0) -> np.ndarray:
    """Probability ``[n, d]`` that each feature is among the top-k by ``|a|`` when ties are broken at random.

    Features whose ``|a|`` exceeds the k-th largest value by more than ``atol`` get 1, those within ``atol`` of it
    share the remaining slots equally, the rest get 0. Each row sums to ``k``. ``k`` may differ per row.
    """
    A = np.abs(np.asarray(A, dtype=np.float64))
    A = A[None, :] if A.ndim == 1 else A
    n, d = A.shape
    ks = np.broadcast_to(np.asarray(k), (n,))
    tol = _row_tol(atol, n)
    out = np.zeros((n, d))
    for r in range(n):
        kr = _check_k(int(ks[r]), d)
        kth = np.sort(A[r])[::-1][kr - 1]
        above = A[r] > kth + tol[r]
        tied = np.abs(A[r] - kth) <= tol[r]
        out[r] = above + tied * (kr - above.sum()) / tied.sum()
    return out


def _top_k_sets(v: np.ndarray, k: int, tol: float) -> tuple[np.ndarray, np.ndarray, int]:
    """``(sure, tied, slots)`` of one row: features surely in the top-k by |v|, those tied at the k-th place, and
    how many of the tied ones get in."""
    mag = np.abs(v)
    kth = np.sort(mag)[::-1][k - 1]
    sure = mag > kth + tol
    tied = np.abs(mag - kth) <= tol
    return sure, tied, k - int(sure.sum())


def _both_tied(c: int, a: int, b: int, m_a: int, m_b: int) -> float:
    """P(feature i gets one of the first ``m_a`` slots of its tie in A and of the first ``m_b`` in B) under ONE uniform
    random order of the tied features, shared by A and B; ``c`` other features are tied in both, ``a`` only in A,
    ``b`` only in B. The set preceding i is uniform given its size p (probability p! (u-1-p)! / u!, u = a+b+c+1)."""
    u = a + b + c + 1
    total = 0.0
    for x in range(min(c, m_a - 1, m_b - 1) + 1):
        for y in range(min(a, m_a - 1 - x) + 1):
            for z in range(min(b, m_b - 1 - x) + 1):
                p = x + y + z
                total += comb(c, x) * comb(a, y) * comb(b, z) / (comb(u - 1, p) * u)
    return total


def _expected_overlap(A: np.ndarray, B: np.ndarray, k: int, atol_a: float | np.ndarray, atol_b: float | np.ndarray,
                      same_sign: bool) -> np.ndarray:
    A, B = _pair(A, B)
    n, d = A.shape
    k = _check_k(k, d)
    tol_a, tol_b = _row_tol(atol_a, n), _row_tol(atol_b, n)
    out = np.zeros(n)
    for r in range(n):
        sure_a, tied_a, m_a = _top_k_sets(A[r], k, tol_a[r])
        sure_b, tied_b, m_b = _top_k_sets(B[r], k, tol_b[r])
        p_a = sure_a + tied_a * m_a / tied_a.sum()
        p_b = sure_b + tied_b * m_b / tied_b.sum()
        for i in range(d):
            if same_sign and np.sign(A[r, i]) != np.sign(B[r, i]):
                continue
            if tied_a[i] and tied_b[i]:
                c = int((tied_a & tied_b).sum()) - 1
                out[r] += _both_tied(c, int((tied_a & ~tied_b).sum()), int((tied_b & ~tied_a).sum()), m_a, m_b)
            else:  # at most one side is random: the events are independent
                out[r] += p_a[i] * p_b[i]
    return out / k


def expected_feature_agreement(A: np.ndarray, B: np.ndarray, k: int, atol_a: float | np.ndarray = 0.0,
                               atol_b: float | np.ndarray = 0.0) -> np.ndarray:
    """Feature agreement@k with ties at the k-th place broken at random (expectation; module docstring)."""
    return _expected_overlap(A, B, k, atol_a, atol_b, same_sign=False)


def expected_sign_agreement(A: np.ndarray, B: np.ndarray, k: int, atol_a: float | np.ndarray = 0.0,
                            atol_b: float | np.ndarray = 0.0) -> np.ndarray:
    """Sign agreement@k with ties at the k-th place broken at random (expectation; module docstring)."""
    return _expected_overlap(A, B, k, atol_a, atol_b, same_sign=True)
