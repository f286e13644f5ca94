"""What a model declares about the questions it can be asked: suites, domain values, baselines, rows per suite.

A check never names the models it runs on: it reads these declarations (``Check.cases_for(model, suite)``) and decides
which cases follow (scikit-learn's estimator tags play the same part for ``parametrize_with_checks``). A model joins
the cases of every check whose conditions its declarations meet, in every suite of ``tiers``:

- ``tiers``: the suites the model's declared cases belong to (``quick`` ⊂ ``default`` ⊂ ``full``; a smaller suite
  implies the larger ones). Empty: the model is a part (a twin, a component) and makes no case of its own. A user's
  zoo model defaults to every suite; a registered built-in model to none unless it declares them.
- ``domain_values``: for ``domain="binary"``, the two values a feature takes, ``(off, on)``: ``(0, 1)`` by default,
  ``(-1, 1)`` for a ±1 boolean model. Corners, opposite corners and flips use them.
- ``baseline``: the reference point explainers are given: ``None`` (zero), a number (that constant in every feature),
  a ``[d]`` vector, or a function ``X [n, d] -> [n, d]`` (one baseline per row). Always explicit in a case.
- ``baselines``: further named baselines the model wants compared (baseline sensitivity), same forms.
- ``rows``: rows explained per case in each suite (``ROWS`` by default): a declared case grows with the suite.
- ``axes``: the truth axes (``Check.truth``) whose checks the model is an exam for; empty (the default): every
  check. A model declaring ``{"interaction"}`` joins the interaction checks only, so adding it moves no other score.

A registered model can also take a place in a check's *curated* cases (the built-in exam, whose rows and baselines
each check fixes for itself): ``register_model(name, placed={"dummy": "quick", "completeness": "default"})``. A
:class:`Placement` says in which suites (the smallest one), in what order among the check's models (``rank``: only
checks that draw every case from one random stream depend on it) and with which check-specific parameters
(``params``, e.g. a linear combination's partner). The check still decides from the model's facts (ground truth,
domain, forms, twins) whether a case follows; the placement never names a model from the check's side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Union

import numpy as np

__all__ = ["BaselineSpec", "Declarations", "Placement", "ROWS", "SUITE_ORDER", "placement", "resolve_baseline",
           "tiers_from"]

#: Suites smallest first; each contains the ones before it (the same order as ``axioms.base.TIERS``).
SUITE_ORDER: tuple[str, ...] = ("quick", "default", "full")
#: Rows explained per declared case, by suite.
ROWS: Mapping[str, int] = MappingProxyType({"quick": 4, "default": 16, "full": 32})

#: A baseline declaration: zero (``None``), a constant, a ``[d]`` vector or a per-row function ``X -> [n, d]``.
BaselineSpec = Union[None, float, int, np.ndarray, list, tuple, Callable[[np.ndarray], np.ndarray]]


def tiers_from(suite: str | None) -> frozenset[str]:
    """The suites that contain ``suite`` (``"default"`` -> {default, full}); ``None`` -> no suite."""
    if suite is None:
        return frozenset()
    if suite not in SUITE_ORDER:
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join(SUITE_ORDER)}")
    return frozenset(SUITE_ORDER[SUITE_ORDER.index(suite):])


def resolve_baseline(spec: BaselineSpec, X: np.ndarray, *, name: str = "baseline") -> np.ndarray:
    """The declared baseline for the rows of ``X``: a ``[d]`` vector (zero, constant or given) or, for a per-row
    function, its ``[n, d]`` answer; raises a ``ValueError`` quoting the bad shape or values."""
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    if spec is None:
        return np.zeros(d)
    if callable(spec):
        B = np.asarray(spec(X.copy()), dtype=np.float64)
        if B.shape != X.shape:
            raise ValueError(f"Expected the per-row {name} function to return shape {X.shape} but got {B.shape}")
    elif np.ndim(spec) == 0:
        B = np.full(d, float(spec))  # type: ignore[arg-type]
    else:
        B = np.asarray(spec, dtype=np.float64)
        if B.shape != (d,):
            raise ValueError(f"Expected a {name} of shape ({d},) but got shape {B.shape}")
    if not np.all(np.isfinite(B)):
        raise ValueError(f"Expected a finite {name} but got {B!r}")
    return B


@dataclass(frozen=True)
class Declarations:
    """A model's declarations (see the module docstring). Immutable; ``replace`` to derive."""

    tiers: frozenset[str] = frozenset()
    domain_values: tuple[float, float] = (0.0, 1.0)
    baseline: BaselineSpec = None
    baselines: Mapping[str, BaselineSpec] = field(default_factory=dict)
    rows: Mapping[str, int] = field(default_factory=lambda: dict(ROWS))
    axes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        tiers = frozenset(self.tiers)
        bad = sorted(tiers - set(SUITE_ORDER))
        if bad:
            raise ValueError(f"Expected tiers among {SUITE_ORDER} but got {bad}")
        # a smaller suite implies the larger ones: {"quick"} means quick, default and full
        closed = frozenset(t for t in SUITE_ORDER if any(SUITE_ORDER.index(t) >= SUITE_ORDER.index(s) for s in tiers))
        object.__setattr__(self, "tiers", closed)
        lo, hi = (float(v) for v in self.domain_values)
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo == hi:
            raise ValueError(f"Expected two distinct finite domain_values but got {self.domain_values!r}")
        object.__setattr__(self, "domain_values", (lo, hi))
        missing = [s for s in SUITE_ORDER if s not in self.rows]
        if missing or any(int(self.rows[s]) < 1 for s in SUITE_ORDER if s in self.rows):
            raise ValueError(f"Expected rows >= 1 for every suite {SUITE_ORDER} but got {dict(self.rows)!r}")
        object.__setattr__(self, "rows", MappingProxyType({s: int(self.rows[s]) for s in SUITE_ORDER}))
        object.__setattr__(self, "baselines", MappingProxyType(dict(self.baselines)))
        object.__setattr__(self, "axes", frozenset(self.axes))

    def n_rows(self, suite: str) -> int:
        """Rows explained per case in ``suite``."""
        return self.rows[suite]

    def joins(self, suite: str) -> bool:
        """Whether the model's declared cases belong to ``suite``."""
        return suite in self.tiers

    def examines(self, truth: str) -> bool:
        """Whether the model is an exam for the checks of truth axis ``truth`` (``axes``; empty: every axis)."""
        return not self.axes or truth in self.axes

    def corners(self, bits: np.ndarray) -> np.ndarray:
        """{0,1} codes -> the declared values (``off + (on - off) * bits``)."""
        lo, hi = self.domain_values
        return lo + (hi - lo) * np.asarray(bits, dtype=np.float64)

    def opposite(self, X: np.ndarray) -> np.ndarray:
        """The opposite corner of each binary row (``off + on - x``)."""
        lo, hi = self.domain_values
        return lo + hi - np.asarray(X, dtype=np.float64)

    def baseline_for(self, X: np.ndarray) -> np.ndarray:
        """The declared baseline for the rows of ``X`` (``[d]``, or ``[n, d]`` for a per-row function)."""
        return resolve_baseline(self.baseline, X)


@dataclass(frozen=True)
class Placement:
    """A registered model's place in one check's curated cases (module docstring).

    suite: the smallest suite the case belongs to (``tiers`` are it and the larger ones).
    rank: the model's position among the check's placed models, which are ordered by ``(rank, name)``.
    params: check-specific facts of the case (read by the check that owns the key; documented there).
    """

    suite: str
    rank: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tiers_from(self.suite)  # raises on an unknown suite
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def tiers(self) -> frozenset[str]:
        """The suites of the case: ``suite`` and every larger one."""
        return tiers_from(self.suite)


def placement(value: "str | Placement") -> Placement:
    """A ``Placement`` from a suite name or a ``Placement``; anything else is a ``TypeError``."""
    if isinstance(value, Placement):
        return value
    if isinstance(value, str):
        return Placement(value)
    raise TypeError(f"Expected a suite name or a Placement but got {value!r}")
