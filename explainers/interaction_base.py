"""Interaction explainers: the same ``explain`` contract, one value per feature subset up to an order.

An interaction explainer declares ``Capabilities(interaction_order=k)`` and the ``index`` it estimates (shapiq's names:
``k-SII``, ``STII``, ``FSII``, ``SII``, ``BII``; ``synthetic_models.interaction_indices``). ``explain`` returns
``[n, M(d, k)]``: column ``j`` is the subset ``interaction_subsets.subsets(d, k)[j]`` (sizes ``1..k``, by size then
lexicographically); ``interactions`` wraps the same answer as an :class:`InteractionAttribution` that carries the
order, the index and the subsets. Interaction checks (``Check.interactions``) judge only these explainers, and the
per-feature checks never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from xaicheck.synthetic_models.interaction_subsets import n_subsets, subsets

from .base import Explainer

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["InteractionAttribution", "InteractionExplainer", "from_lookup", "pair_matrix"]


@dataclass(frozen=True)
class InteractionAttribution:
    """Interaction values ``[n, M(d, order)]`` of ``index``, one column per subset of ``subsets(d, order)``."""

    values: np.ndarray
    d: int
    order: int
    index: str

    def __post_init__(self) -> None:
        if self.values.shape[-1] != n_subsets(self.d, self.order):
            raise ValueError(f"{self.values.shape[-1]} columns is not order {self.order} over {self.d} features "
                             f"({n_subsets(self.d, self.order)} subsets)")

    @property
    def subsets(self) -> tuple[tuple[int, ...], ...]:
        return subsets(self.d, self.order)

    def of_size(self, s: int) -> np.ndarray:
        """The columns of the subsets of size ``s`` ``[n, C(d, s)]``."""
        return self.values[:, [j for j, S in enumerate(self.subsets) if len(S) == s]]


def pair_matrix(values: np.ndarray, d: int, order: int) -> np.ndarray:
    """``[n, d, d]``: order-1 values on the diagonal, pair values off it (symmetric)."""
    out = np.zeros((values.shape[0], d, d))
    for j, S in enumerate(subsets(d, order)):
        if len(S) == 1:
            out[:, S[0], S[0]] = values[:, j]
        elif len(S) == 2:
            out[:, S[0], S[1]] = out[:, S[1], S[0]] = values[:, j]
    return out


def from_lookup(values: np.ndarray, lookup: dict[tuple[int, ...], int], d: int, order: int) -> np.ndarray:
    """``[M]`` in our subset order from a shapiq ``InteractionValues``' ``values`` and ``interaction_lookup``
    (a subset it does not report is 0)."""
    return np.array([float(values[lookup[S]]) if S in lookup else 0.0 for S in subsets(d, order)])


class InteractionExplainer(Explainer):
    """Base class of interaction explainers: set ``index`` and ``capabilities.interaction_order``."""

    index: str = "k-SII"

    @property
    def order(self) -> int:
        return int(self.capabilities.interaction_order)

    def output_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        n, d = shape
        return (1 if self.capabilities.scope == "global" else n, n_subsets(d, self.order))

    def interactions(self, model: "SyntheticModel", X: np.ndarray, **kw: Any) -> InteractionAttribution:
        """``explain`` as an :class:`InteractionAttribution` (same arguments)."""
        values = self.explain(model, X, **kw)
        return InteractionAttribution(values, model.n_features, self.order, self.index)
