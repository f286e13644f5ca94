"""Exact Shapley-interaction indices up to order 3, from the Möbius transform of a coalition game.

For a game ``v`` over ``N = {0..d-1}`` the **Möbius transform** (Harsanyi dividends; Rota 1964, Grabisch 1997) is

    m(T) = Σ_{L ⊆ T} (-1)^{|T|-|L|} v(L),        v(S) = Σ_{T ⊆ S} m(T),

and every index below is a linear map of ``m``: ``I(S) = Σ_{T ⊇ S} ω(|T|, |S|) m(T)`` (Grabisch 1997; Fumagalli et
al. 2023, "SHAP-IQ", table of Möbius representations), with ``t = |T|``, ``s = |S|``, ``k`` the order:

- ``Moebius``:  ω = [t = s]
- ``SII`` (Shapley interaction index, Grabisch & Roubens 1999):  ω = 1 / (t - s + 1)
- ``BII`` (Banzhaf interaction index, Roubens 1996):             ω = 2^{-(t - s)}
- ``STII`` (Shapley-Taylor, Sundararajan et al. 2020):  s < k: ω = [t = s];  s = k: ω = 1 / C(t, k)
- ``FSII`` (Faith-Shap, Tsai et al. 2023, Thm. 19):  ω = [t = s] + [t > k] (-1)^{k-s} s/(k+s) C(k,s) C(t-1,k)/C(t+k-1,k+s)
- ``k-SII`` (Bordt & von Luxburg 2023): ``k-SII(S) = Σ_{l=0}^{k-s} B_l Σ_{T ⊇ S, |T| = s+l} SII(T)`` with the
  Bernoulli numbers ``B_0 = 1, B_1 = -1/2, B_2 = 1/6``.

k-SII, STII and FSII are efficient: ``Σ_{1<=|S|<=k} I(S) = v(N) - v(∅)``; at ``k = 1`` each is the Shapley value
(SII and BII at order 1 are the Shapley and Banzhaf values). The games are the project's: baseline
``v(S) = f(x_S, b_{N\\S})`` and interventional ``v(S) = mean_z f(x_S, z_{N\\S})`` (Sundararajan & Najmi 2020),
whose values ``V[n, 2^d]`` come from ``shapley.baseline_values`` / ``interventional_values`` (the blocked enumeration).

Dense path (``2^d`` values): the Möbius transform is ``d`` in-place butterflies on ``V`` seen as ``[n, 2, ..., 2]``;
for each size ``s`` the weighted superset sum ``Σ_{T ⊇ S} ω(|T|, s) m(T)`` is ``d`` more butterflies on
``ω(|·|, s) · m``, read at the subsets of size ``s``: ``O((k + 1) d 2^d)`` per row. Sparse path (a closed-form Möbius
of few terms, ``interaction_closed_forms``): the same ``ω`` summed over each term's subsets.
``tests/test_interaction_truth.py`` matches shapiq's ``ExactComputer`` to 1e-10.
"""

from __future__ import annotations

from math import comb
from typing import Literal, Mapping

import numpy as np

from .enumeration import Predict
from .interaction_subsets import MAX_ORDER, popcounts, subset_codes, subset_sizes, subsets
from .shapley import _check_d, baseline_values, interventional_values

__all__ = ["INDICES", "EFFICIENT", "Index", "weight", "mobius", "superset_sums", "indices_from_values",
           "indices_from_mobius", "baseline_interactions", "interventional_interactions"]

Index = Literal["Moebius", "SII", "BII", "STII", "FSII", "k-SII"]
#: The indices computed here (shapiq's names).
INDICES: tuple[str, ...] = ("Moebius", "SII", "BII", "STII", "FSII", "k-SII")
#: The efficient ones: ``Σ_{1<=|S|<=k} I(S) = v(N) - v(∅)`` (Moebius too, at order d).
EFFICIENT: frozenset[str] = frozenset({"STII", "FSII", "k-SII"})
#: Bernoulli numbers ``B_0, B_1, B_2`` (``B_1 = -1/2``) for the k-SII aggregation.
BERNOULLI: tuple[float, ...] = (1.0, -0.5, 1.0 / 6.0)


def _check(index: str, order: int) -> None:
    if index not in INDICES:
        raise ValueError(f"unknown interaction index {index!r}; known: {', '.join(INDICES)}")
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"interaction order must be in 1..{MAX_ORDER}; got {order}")


def weight(index: str, t: int, s: int, k: int) -> float:
    """``ω(t, s)``: the share of the Möbius coefficient of a ``t``-set in the index of an ``s``-subset (order ``k``).
    ``k-SII`` has none of its own (it aggregates SII)."""
    if t < s:
        return 0.0
    if index == "Moebius":
        return float(t == s)
    if index == "SII":
        return 1.0 / (t - s + 1)
    if index == "BII":
        return 2.0 ** -(t - s)
    if index == "STII":
        return float(t == s) if s < k else 1.0 / comb(t, k)
    if index == "FSII":
        w = float(t == s)
        if t > k:
            w += (-1) ** (k - s) * s / (k + s) * comb(k, s) * comb(t - 1, k) / comb(t + k - 1, k + s)
        return w
    raise ValueError(f"index {index!r} has no Möbius weight of its own")


def _butterfly(a: np.ndarray, d: int, *, subtract: bool, superset: bool) -> np.ndarray:
    """In place over the ``d`` bit axes of ``a[n, 2, ..., 2]``: Möbius (``subtract``, subsets) or superset sums."""
    for ax in range(1, d + 1):
        lo = [slice(None)] * (d + 1)
        hi = list(lo)
        lo[ax], hi[ax] = 0, 1
        if superset:
            a[tuple(lo)] += a[tuple(hi)]
        elif subtract:
            a[tuple(hi)] -= a[tuple(lo)]
        else:
            a[tuple(hi)] += a[tuple(lo)]
    return a


def mobius(V: np.ndarray) -> np.ndarray:
    """``m[n, 2^d]``: the Möbius transform of game values ``V[n, 2^d]`` (code ``c``: bit ``i`` = feature ``i``)."""
    V = np.asarray(V, dtype=np.float64)
    n, c = V.shape
    d = c.bit_length() - 1
    if c != 1 << d:
        raise ValueError(f"game values need 2^d columns; got {c}")
    a = V.copy().reshape((n,) + (2,) * d)
    return _butterfly(a, d, subtract=True, superset=False).reshape(n, c)


def superset_sums(g: np.ndarray) -> np.ndarray:
    """``G[n, 2^d]`` with ``G[S] = Σ_{T ⊇ S} g[T]``."""
    n, c = g.shape
    d = c.bit_length() - 1
    a = np.array(g, dtype=np.float64).reshape((n,) + (2,) * d)
    return _butterfly(a, d, subtract=False, superset=True).reshape(n, c)


def _aggregate_ksii(sii: np.ndarray, d: int, k: int) -> np.ndarray:
    """k-SII ``[n, M]`` from SII ``[n, M]`` on the same subsets (Bernoulli aggregation, module docstring)."""
    S_all = subsets(d, k)
    pos = {S: j for j, S in enumerate(S_all)}
    out = sii.copy()
    for j, S in enumerate(S_all):
        for T, jt in pos.items():
            extra = len(T) - len(S)
            if extra > 0 and set(S) <= set(T):
                out[:, j] += BERNOULLI[extra] * sii[:, jt]
    return out


def indices_from_mobius_dense(m: np.ndarray, index: str, order: int) -> np.ndarray:
    """``I[n, M(d, order)]`` from a dense Möbius transform ``m[n, 2^d]`` (weighted superset sums per size)."""
    _check(index, order)
    n, c = m.shape
    d = c.bit_length() - 1
    if index == "k-SII":
        return _aggregate_ksii(indices_from_mobius_dense(m, "SII", order), d, order)
    size = popcounts(d)
    codes, sizes = subset_codes(d, order), subset_sizes(d, order)
    out = np.empty((n, codes.shape[0]))
    for s in range(1, min(order, d) + 1):
        w = np.array([weight(index, t, s, order) for t in range(d + 1)])[size]
        sel = sizes == s
        if index == "Moebius" or (index == "STII" and s < order):
            out[:, sel] = m[:, codes[sel]]  # ω = [t = s]: no sum
        else:
            out[:, sel] = superset_sums(m * w[None, :])[:, codes[sel]]
    return out


def indices_from_values(V: np.ndarray, index: str, order: int) -> np.ndarray:
    """``I[n, M(d, order)]`` of the games with values ``V[n, 2^d]``."""
    return indices_from_mobius_dense(mobius(V), index, order)


def indices_from_mobius(terms: Mapping[tuple[int, ...], np.ndarray], d: int, index: str, order: int,
                        n: int) -> np.ndarray:
    """``I[n, M(d, order)]`` from a sparse Möbius transform ``{T: m_T [n]}`` (sets absent have ``m = 0``):
    ``I(S) = Σ_{T ⊇ S} ω(|T|, |S|) m(T)`` over the given ``T`` and their subsets ``S`` of size ``<= order``."""
    _check(index, order)
    if index == "k-SII":
        return _aggregate_ksii(indices_from_mobius(terms, d, "SII", order, n), d, order)
    pos = {S: j for j, S in enumerate(subsets(d, order))}
    out = np.zeros((n, len(pos)))
    from itertools import combinations

    for T, mT in terms.items():
        T = tuple(sorted(T))
        for s in range(1, min(order, len(T)) + 1):
            w = weight(index, len(T), s, order)
            if w == 0.0:
                continue
            for S in combinations(T, s):
                out[:, pos[S]] += w * np.asarray(mT, dtype=np.float64)
    return out


def baseline_interactions(predict: Predict, X: np.ndarray, baseline: np.ndarray, index: str = "k-SII",
                          order: int = 2) -> np.ndarray:
    """Exact ``index`` of order ``order`` ``[n, M]`` in the baseline game ``v(S) = f(x_S, b_{N\\S})``."""
    _check(index, order)
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    _check_d(X.shape[1])
    return indices_from_values(baseline_values(predict, X, baseline), index, order)


def interventional_interactions(predict: Predict, X: np.ndarray, background: np.ndarray, index: str = "k-SII",
                                order: int = 2) -> np.ndarray:
    """Exact ``index`` of order ``order`` ``[n, M]`` in the interventional game ``v(S) = mean_z f(x_S, z_{N\\S})``."""
    _check(index, order)
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    _check_d(X.shape[1])
    return indices_from_values(interventional_values(predict, X, background), index, order)
