"""Shared pieces of the cases checks derive from a model's declarations (``Check.cases_for``).

Rows: ``declarations.rows[suite]`` of them. Binary models (``domain="binary"``) use the corners of the declared
values ``{off, on}^d``, all-on first, never the all-off corner; other models use seeded draws of their own sampler.
The baseline is the declared one (``declarations.baseline``: zero, a constant, a vector or one per row), the
background further draws, the explained output the declared one (``explained_output``), the suites the declared
ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xaicheck.synthetic_models.seeding import case_rng
from xaicheck.synthetic_models.targets import resolve_target

from ._helpers import binary_points
from .base import Case

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["declared_case", "declared_inputs", "corners", "full_only_for_images", "image_gate_skipped"]


def corners(model: "SyntheticModel") -> np.ndarray:
    """Every corner of ``{off, on}^d`` in the declared values, all-on first (``binary_points`` reversed)."""
    return model.declarations.corners(binary_points(model.n_features)[::-1])


def declared_inputs(model: "SyntheticModel", suite: str, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, background)``: ``rows[suite]`` rows (binary: the first corners after all-on, never all-off; else seeded
    draws, stream ``offset`` shifted by the case seed) and as many further draws as background."""
    n = model.declarations.n_rows(suite)
    rng = case_rng(offset)
    if model.domain == "binary":
        X = corners(model)[:-1][:n]
    else:
        X = model.sample(n, rng)
    return np.ascontiguousarray(X, dtype=np.float64), model.sample(n, rng)


def declared_case(check: str, model: "SyntheticModel", X: np.ndarray, what: str, **kw: Any) -> Case:
    """A case of ``check`` on ``model`` at rows ``X`` with the declared baseline, target and suites."""
    kw.setdefault("baseline", model.declarations.baseline_for(X))
    return Case(check, model.name, model, np.ascontiguousarray(X, dtype=np.float64),
                target=resolve_target(model, X), tiers=model.declarations.tiers,
                description=f"{model.name}: {what}", **kw)


def full_only_for_images(cases: "list[Case]") -> "list[Case]":
    """The gate cases of image models belong to the ``full`` suite only: an image case costs every explainer a
    pixel map (issue 24 keeps the default suite's image track to its scored cases: localisation and exact truth)."""
    from dataclasses import replace

    return [replace(c, tiers=c.tiers & frozenset({"full"})) if c.model.domain == "image" else c for c in cases]


def image_gate_skipped(model: "SyntheticModel", suite: str) -> bool:
    """Whether a gate check builds no case for ``model`` in ``suite``: an image model outside ``full`` (see
    ``full_only_for_images``; skipping early spares building cases that would be dropped)."""
    return model.domain == "image" and suite != "full"
