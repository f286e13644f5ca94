"""What scoring, tracks, plots and the report need to know of a case, written into the run when it executes.

``case_facts(check, case)`` is the one place these facts are read off the live objects; the runner writes them into
``provenance.json`` under ``cases`` (case id -> facts) and everything downstream of a run reads them from there, so a
finished run's leaderboard is a pure function of its folder (a case id of a user's own zoo resolves like any other).

Per case: its check, the model's ``domain``, model ``forms``, ``d`` (features), the check's ``role`` and ``truth``
axis, the truth kinds the model carries (``GroundTruth.carries()``), ``n`` (explained rows), and for image and token
models what their plots draw: ``input_shape``, the declared mask (indices of its true pixels), and for tokens the
token names, the first explained row and the declared token weights; the baseline of the first row (d <= 64).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np

from .ranking import CaseInfo

__all__ = ["CaseFacts", "case_facts", "facts_from_json"]


@dataclass(frozen=True)
class CaseFacts:
    """The recorded facts of one case (see the module docstring); ``None`` where a domain has no such fact."""

    check: str
    domain: str
    forms: tuple[str, ...]
    d: int
    role: str
    truth: str
    truth_kinds: tuple[str, ...]
    n: int
    input_shape: tuple[int, ...] | None = None
    mask: tuple[int, ...] | None = None
    feature_names: tuple[str, ...] | None = None
    first_row: tuple[float, ...] | None = None
    token_weights: tuple[float, ...] | None = None
    #: The baseline of the first explained row (the declared one; ``None`` when the case has none or d > 64).
    baseline: tuple[float, ...] | None = None

    @property
    def info(self) -> CaseInfo:
        """What a track needs: domain, forms, d."""
        return CaseInfo(self.domain, frozenset(self.forms), self.d)

    def to_json(self) -> dict[str, Any]:
        """A JSON object (tuples as lists; ``None`` facts left out)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v is not None}


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(values, dtype=float).ravel())


def case_facts(check: Any, case: Any) -> CaseFacts:
    """The facts of ``case`` (a ``Case`` of ``check``) from its model, inputs and check (see the module docstring)."""
    model = case.model
    X = np.asarray(case.X)
    truth = getattr(model, "ground_truth", None)
    domain = str(model.domain)
    image, tokens = domain == "image", domain == "tokens"
    shape = getattr(model, "input_shape", None)
    mask = getattr(truth, "mask", None) if image else None
    weights = getattr(truth, "token_weights", None) if tokens else None
    return CaseFacts(
        check=str(check.name), domain=domain, forms=tuple(sorted(getattr(model, "forms", ()) or ())),
        d=int(X.shape[1]), role=str(getattr(check, "role", "score")), truth=str(getattr(check, "truth", "") or ""),
        truth_kinds=tuple(truth.carries()) if truth is not None else (), n=int(X.shape[0]),
        input_shape=tuple(int(s) for s in shape) if image and shape is not None else None,
        mask=tuple(int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool).ravel())) if mask is not None else None,
        feature_names=tuple(str(f) for f in model.feature_names) if tokens else None,
        first_row=_floats(X[0]) if tokens and len(X) else None,
        token_weights=_floats(weights) if weights is not None else None,
        baseline=(_floats(np.atleast_2d(case.baseline)[0]) if getattr(case, "baseline", None) is not None
                  and X.shape[1] <= 64 else None))


def facts_from_json(obj: Mapping[str, Any]) -> CaseFacts:
    """A :class:`CaseFacts` from its JSON object (``KeyError``/``TypeError``/``ValueError`` when malformed)."""
    def tup(key: str, kind: type) -> tuple[Any, ...] | None:
        value = obj.get(key)
        return None if value is None else tuple(kind(v) for v in value)

    return CaseFacts(
        check=str(obj["check"]), domain=str(obj["domain"]), forms=tup("forms", str) or (), d=int(obj["d"]),
        role=str(obj["role"]), truth=str(obj.get("truth", "")), truth_kinds=tup("truth_kinds", str) or (),
        n=int(obj["n"]), input_shape=tup("input_shape", int), mask=tup("mask", int),
        feature_names=tup("feature_names", str), first_row=tup("first_row", float),
        token_weights=tup("token_weights", float), baseline=tup("baseline", float))
