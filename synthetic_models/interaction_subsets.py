"""The layout of an interaction vector: one value per feature subset ``S`` with ``1 <= |S| <= k``.

Subsets are ordered by size, then lexicographically (``itertools.combinations(range(d), s)`` for ``s = 1..k``): the
order of shapiq's ``interaction_lookup`` without its empty set. ``M(d, k) = Σ_{s=1..k} C(d, s)`` values per row
(d = 16, k = 3: 696). A subset's code is ``Σ_{i ∈ S} 2^i`` (the coalition code of ``shapley.coalitions``).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

__all__ = ["MAX_ORDER", "subsets", "n_subsets", "subset_codes", "subset_sizes", "order_of_width", "popcounts"]

#: The highest interaction order the project computes (the truth, the explainers, the checks).
MAX_ORDER = 3


@lru_cache(maxsize=64)
def subsets(d: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Every subset of ``range(d)`` with ``1 <= size <= k``, by size then lexicographically."""
    if d < 1 or k < 1:
        raise ValueError(f"an interaction vector needs d >= 1 and order k >= 1; got d={d}, k={k}")
    return tuple(S for s in range(1, min(k, d) + 1) for S in combinations(range(d), s))


def n_subsets(d: int, k: int) -> int:
    """``M(d, k) = Σ_{s=1..min(k,d)} C(d, s)``: the width of an order-``k`` interaction vector."""
    return sum(comb(d, s) for s in range(1, min(k, d) + 1))


@lru_cache(maxsize=64)
def subset_codes(d: int, k: int) -> np.ndarray:
    """``[M]`` coalition codes ``Σ_{i ∈ S} 2^i`` of ``subsets(d, k)``."""
    out = np.array([sum(1 << i for i in S) for S in subsets(d, k)], dtype=np.int64)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=64)
def subset_sizes(d: int, k: int) -> np.ndarray:
    """``[M]`` sizes ``|S|`` of ``subsets(d, k)``."""
    out = np.array([len(S) for S in subsets(d, k)], dtype=np.int64)
    out.setflags(write=False)
    return out


def order_of_width(d: int, width: int) -> int:
    """The order ``k`` with ``M(d, k) == width``; ``ValueError`` when no order has that width."""
    for k in range(1, d + 1):
        if n_subsets(d, k) == width:
            return k
    raise ValueError(f"{width} values is no interaction order over {d} features")


@lru_cache(maxsize=32)
def popcounts(d: int) -> np.ndarray:
    """``[2^d]`` sizes of the coalitions with codes ``0 .. 2^d - 1``."""
    codes = np.arange(1 << d, dtype=np.int64)
    out = ((codes[:, None] >> np.arange(d)) & 1).sum(axis=1)
    out.setflags(write=False)
    return out
