"""A truth-free evaluation metric as this package runs it: one callable, its library, direction and settings.

``compute(ctx) -> values``: per-row values (``[n]``) or one value for the case (``[1]``), in the metric's own
units; ``direction`` says which way is better (``+1``: higher, ``-1``: lower), so a case ranks explainers by
``direction * mean(values)``. ``applies(ctx) -> reason`` (``""``: applies) states why a metric cannot run on a cell
(e.g. no layers to randomise, no mask), which is recorded, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from .context import MetricContext

__all__ = ["Metric", "always"]


def always(ctx: MetricContext) -> str:
    return ""


@dataclass(frozen=True)
class Metric:
    """One metric in one setting (``variant``: ``default`` = the library's defaults, changed only where a tabular
    input forces it, each change listed in ``settings``; ``paper`` / ``reference`` = the setting named in ``note``)."""

    name: str
    library: str
    category: str
    direction: int
    compute: Callable[[MetricContext], Any]
    variant: str = "default"
    settings: Mapping[str, Any] = field(default_factory=dict)
    reexplains: bool = False
    applies: Callable[[MetricContext], str] = always
    citation: str = ""
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}[{self.variant}]"

    def settings_text(self) -> str:
        return ";".join(f"{k}={v}" for k, v in sorted(self.settings.items()))

    def value(self, ctx: MetricContext) -> float:
        """The case-level value: the mean of the finite per-row values (NaN when none is finite)."""
        out = np.asarray(self.compute(ctx), dtype=np.float64).reshape(-1)
        finite = out[np.isfinite(out)]
        return float(finite.mean()) if finite.size else float("nan")
