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

``rank_correlation`` accepts a tolerance: values within ``atol`` of each other count as tied (mid-ranks), so
floating-point noise in an exact tie (e.g. ``[0.5, 0.5]`` vs ``[0.4999999, 0.5000001]``) does not flip ρ to -1.
Degenerate rows are defined, not NaN: both explanations constant -> ρ = 1 (identical rankings); exactly one constant
-> ρ = 0. Cosine: both zero -> 1, exactly one zero -> 0.
"""

from __future__ import annotations

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
