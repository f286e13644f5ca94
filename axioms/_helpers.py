"""Scoring helpers shared by the axiom checks: references, scales, per-row scores, evidence and messages.

The exact axioms (completeness, dummy, symmetry, linearity, invariances) share one scoring rule so every score can
be re-derived by hand from its evidence:

    e_k = err_k / scale_k                                   (normalised error of row k)
    s_k = 1                 if err_k <= tol.atol + tol.rtol * scale_k      (within the named tolerance)
        = max(0, 1 - e_k)   otherwise
    score = mean_k s_k,     passed  <=>  every row within tolerance  <=>  score == 1

``scale_k`` is the size of what the axiom is about (``axiom_scale``): the output difference the attributions explain,
``|f(x_k) - ref_k|``, floored at ``RANGE_SHARE`` of the model's output range over its domain (``output_range``).
Never ``|f(x)|`` (an offset c would buy tolerance) nor the explainer's own Σ|a| (a huge attribution would). Under
``f -> alpha f + c`` (alpha > 0) errors and scales of an explainer in the model's units both scale by alpha, so every
score is unchanged (issue 11; ``tests/test_unit_invariance.py``).

Evidence and messages (all eight axiom checks): ``evidence['measured']`` is the score and ``evidence['threshold']``
the check's pass threshold (1.0), so ``passed <=> measured >= threshold``; the tolerance is reported separately
(``evidence['tolerance']``, and ``worst_normalised_error`` = max_k e_k). The message reads
``<explainer> <check> on <case>: score S < T (pass threshold): <how many rows failed, under which tolerance, the worst
error>; worst: <the worst instance: x, baseline, f values, attributions>``.
"""

from __future__ import annotations

import weakref
from itertools import product
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from xaicheck.synthetic_models.targets import is_per_row, row_targets

from .base import Case, CheckResult, Counterexample, Tolerance

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = [
    "MAX_EVIDENCE_ROWS",
    "TINY",
    "reference_output",
    "output_scale",
    "RANGE_SHARE",
    "output_range",
    "axiom_scale",
    "row_scores",
    "rows",
    "fmt",
    "pct",
    "score_text",
    "message",
    "exact_result",
    "binary_points",
    "formally_irrelevant",
    "irrelevant_features",
    "fallback_counterexample",
]

#: At most this many attribution rows go into evidence (shared evidence convention).
MAX_EVIDENCE_ROWS = 4
#: Floor of every scale, so an all-zero output never divides by zero.
TINY = 1e-12


def _broadcast(ref: np.ndarray | None, X: np.ndarray) -> np.ndarray | None:
    return None if ref is None else np.broadcast_to(np.asarray(ref, dtype=np.float64), X.shape)


def reference_output(explainer: "Explainer", model: "SyntheticModel", X: np.ndarray, baseline: np.ndarray | None,
                     background: np.ndarray | None, target: int | None = None) -> tuple[np.ndarray, str]:
    """The output the attributions are measured from, per row, and which reference it is.

    ``f(baseline)`` for explainers with ``uses_baseline`` or with neither reference; ``mean f(background)`` for
    explainers with ``uses_background`` and not ``uses_baseline`` (Lundberg & Lee 2017's ``E f(z)``).
    """
    caps = explainer.capabilities
    if caps.uses_background and not caps.uses_baseline:
        if background is None:
            raise ValueError(f"{explainer.name} uses background data but the case has none")
        if is_per_row(target):  # each row's own output, averaged over the background
            t = row_targets(target, X.shape[0])
            means = {int(c): float(np.mean(model.predict_target(background, int(c)))) for c in np.unique(t)}
            return np.array([means[int(c)] for c in t]), "mean f(background)"
        value = float(np.mean(model.predict_target(background, target)))
        return np.full(X.shape[0], value), "mean f(background)"
    if baseline is None:
        raise ValueError(f"{explainer.name}: the case has no baseline to measure f(x) - f(b) from")
    return model.predict_target(_broadcast(baseline, X), target), "f(baseline)"


def output_scale(*parts: np.ndarray) -> np.ndarray:
    """Row-wise magnitude ``max_k(|part|)`` over the given ``[n]`` arrays, floored at ``TINY``."""
    stacked = np.abs(np.stack([np.asarray(p, dtype=np.float64) for p in parts]))
    return np.maximum(stacked.max(axis=0), TINY)


#: Share of the model's output range that floors every axiom scale: a row with f(x) = f(b) is judged against 1% of
#: the range, so a non-zero sum or dummy attribution there costs credit in the model's own units.
RANGE_SHARE = 1e-2
#: Draws of the input distribution (fixed seed) that estimate the output range; binary domains use every corner.
N_RANGE = 256
RANGE_SEED = 20171
_RANGES: "weakref.WeakKeyDictionary[Any, dict[int | None, float]]" = weakref.WeakKeyDictionary()


def output_range(model: "SyntheticModel", target: Any = None) -> Any:
    """``max f - min f`` over the model's domain: every corner of ``{0,1}^d`` (binary, d <= 12), else ``N_RANGE``
    draws of ``model.sample`` with a fixed seed. Transforms as ``alpha`` under ``f -> alpha f + c``. A per-row target
    gives an ``[n]`` array: each row's own output's range."""
    if is_per_row(target):
        t = np.asarray(target, dtype=np.int64)
        return np.array([output_range(model, int(c)) for c in t])
    cache = _RANGES.setdefault(model, {})
    if target not in cache:
        d = model.n_features
        if model.domain == "binary" and d <= 12:
            Z = binary_points(d)
        else:
            Z = model.sample(N_RANGE, np.random.default_rng(RANGE_SEED))
        y = model.predict_target(Z, target)
        cache[target] = float(np.max(y) - np.min(y))
    return cache[target]


def axiom_scale(delta: np.ndarray, model: "SyntheticModel", target: int | None = None,
                *extra: np.ndarray) -> np.ndarray:
    """Row-wise ``max(|delta_k|, |extra_k|..., RANGE_SHARE * output_range(model))``, floored at ``TINY``: the size of
    the output change the axiom is about, in the model's units (module docstring)."""
    floor = RANGE_SHARE * output_range(model, target)
    parts = [np.abs(np.asarray(delta, dtype=np.float64))] + [np.abs(np.asarray(e, dtype=np.float64)) for e in extra]
    return np.maximum(np.maximum(np.max(np.stack(parts), axis=0), floor), TINY)


def row_scores(err: np.ndarray, scale: np.ndarray, tol: Tolerance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(e, within, s)``: normalised errors, within-tolerance flags and per-row scores (module docstring rule)."""
    err = np.abs(np.asarray(err, dtype=np.float64))
    scale = np.asarray(scale, dtype=np.float64)
    e = err / scale
    within = err <= tol.bound(scale)
    s = np.where(within, 1.0, np.clip(1.0 - e, 0.0, 1.0))
    return e, within, s


def rows(A: np.ndarray | None, k: int = MAX_EVIDENCE_ROWS, digits: int = 6) -> list[list[float]]:
    """At most ``k`` rows of ``A`` as rounded JSON lists."""
    if A is None:
        return []
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    return [[round(float(v), digits) for v in row] for row in A[:k]]


def fmt(v: Any, digits: int = 4) -> str:
    """Compact text for a number or vector: ``0.5`` / ``[1, 0.5]``."""
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim == 0:
        return f"{float(arr):.{digits}g}"
    return "[" + ", ".join(f"{float(x):.{digits}g}" for x in arr.ravel()) + "]"


def score_text(score: float, threshold: float) -> str:
    """``score 0.75 < 1.00 (pass threshold)``: as many digits as it takes for ``<`` / ``>=`` to be visibly true."""
    passed = score >= threshold
    for digits in range(2, 10):
        s, t = f"{score:.{digits}f}", f"{threshold:.{digits}f}"
        if passed or float(s) != float(t):
            break
    return f"score {s} {'>=' if passed else '<'} {t} (pass threshold)"


def message(explainer: "Explainer", check: str, case: Case | str, score: float, threshold: float,
            summary: str, worst: str) -> str:
    """The one-line message every axiom check writes (the score is what ``evidence['measured']`` holds)::

        <explainer> <check> on <case>: score S < T (pass threshold): <what failed, with its tolerance>; worst: <...>
    """
    name = case.name if isinstance(case, Case) else case
    return f"{explainer.name} {check} on {name}: {score_text(score, threshold)}: {summary}; worst: {worst}"


def pct(rtol: float) -> str:
    """A relative tolerance as a percentage: ``0.001`` -> ``0.1%``."""
    return f"{100.0 * rtol:.4g}%"


def exact_result(check: Any, explainer: "Explainer", case: Case, err: np.ndarray, scale: np.ndarray,
                 tol: Tolerance, attributions: np.ndarray, describe_row: Callable[[int], str],
                 extra: dict[str, Any] | None = None,
                 on_fail: Callable[[int], tuple[Counterexample, dict[str, Any]]] | None = None,
                 *, error: str = "error", unit: str = "rows") -> CheckResult:
    """A ``CheckResult`` under the shared rule (module docstring).

    Evidence ``measured`` is the score itself (mean row score) and ``threshold`` the check's pass threshold, so
    ``passed <=> measured >= threshold``; the tolerance, the per-row errors and scales and the worst normalised
    error sit beside them. ``error`` names what ``err`` measures (e.g. ``|sum a - (f(x) - f(b))|``) for the message.
    ``on_fail(worst_row)`` is called only when some row is outside tolerance; it returns the counterexample and
    the evidence of how it was found.
    """
    e, within, s = row_scores(err, scale, tol)
    if e.size == 0:
        raise ValueError(f"{check.name} on {case.name}: no row to judge")
    worst = int(np.argmax(np.where(within, -1.0, e) if not within.all() else e))
    score = float(s.mean()) if not within.all() else 1.0
    evidence: dict[str, Any] = {
        "measured": score,
        "threshold": float(check.threshold),
        "measured_is": "score = mean over rows of (1 if error <= atol + rtol*scale else max(0, 1 - error/scale))",
        "pass_if": "every row: error <= atol + rtol * scale (score = mean row score == 1)",
        "tolerance": {"rtol": tol.rtol, "atol": tol.atol},
        "rows_within_tolerance": int(within.sum()),
        "rows_judged": int(within.size),
        "worst_normalised_error": float(e.max()),
        "per_row_error": [float(x) for x in err],
        "per_row_scale": [float(x) for x in scale],
        "per_row_score": [float(x) for x in s],
        "worst_row": worst,
        "attributions": rows(attributions),
        **(extra or {}),
    }
    counterexample = None
    if not within.all() and on_fail is not None:
        counterexample, found = on_fail(worst)
        evidence.update(found)
    n_bad = int((~within).sum())
    summary = (f"{n_bad} of {within.size} {unit} outside tolerance ({error} <= {pct(tol.rtol)} of scale); "
               f"worst row {worst}: {error} = {fmt(err[worst])} = {pct(float(e[worst]))} of scale {fmt(scale[worst])}")
    msg = message(explainer, check.name, case, score, check.threshold, summary, describe_row(worst))
    return CheckResult.scored(score, check.threshold, msg, evidence, counterexample)


def binary_points(d: int) -> np.ndarray:
    """All ``2^d`` points of ``{0,1}^d`` as float rows, in lexicographic order."""
    return np.array(list(product((0.0, 1.0), repeat=d)), dtype=np.float64)


def _is_sufficient(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, fixed: Iterable[int]) -> bool:
    """Whether fixing ``x`` on ``fixed`` fixes ``f(x)`` for every completion of the other features in {0,1}."""
    fixed_set = {int(i) for i in fixed}
    free = [i for i in range(x.size) if i not in fixed_set]
    if not free:
        return True
    Z = np.repeat(x[None, :], 1 << len(free), axis=0)
    Z[:, free] = binary_points(len(free))
    return bool(np.all(predict(Z) == predict(x[None, :])[0]))


def formally_irrelevant(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> frozenset[int]:
    """Features of ``x`` in no abductive explanation (AXp) of a boolean function (Huang & Marques-Silva 2023).

    An AXp is a subset-minimal set ``S`` of features such that fixing ``x_S`` fixes ``f`` over all of ``{0,1}^d``;
    a feature is irrelevant when it belongs to no AXp. Computed by enumerating all ``2^d`` subsets (``d <= 10``).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    d = x.size
    if d > 10:
        raise ValueError(f"formal relevance by enumeration needs d <= 10; got d={d}")
    points = binary_points(d)
    sufficient = [frozenset(int(i) for i in np.flatnonzero(mask))
                  for mask in points.astype(bool) if _is_sufficient(predict, x, np.flatnonzero(mask))]
    minimal = [s for s in sufficient if not any(t < s for t in sufficient)]
    relevant = frozenset().union(*minimal) if minimal else frozenset()
    return frozenset(range(d)) - relevant


def irrelevant_features(model: "SyntheticModel", x: np.ndarray) -> tuple[frozenset[int], str]:
    """``model.irrelevant_features(x)`` when the model offers it, else the enumeration above; with the source."""
    method = getattr(model, "irrelevant_features", None)
    if callable(method):
        return frozenset(int(i) for i in method(np.asarray(x, dtype=np.float64))), "model.irrelevant_features"
    return formally_irrelevant(model.predict, x), "enumeration of abductive explanations"


def fallback_counterexample(model: "SyntheticModel", x: np.ndarray, baseline: np.ndarray | None,
                            attributions: np.ndarray, expected: Any, line: str) -> Counterexample:
    """A counterexample from the case's own worst row (used when the search is skipped or finds nothing)."""
    return Counterexample(
        model_spec=model.spec(),
        x=rows(x, 1, 12),
        attributions=rows(attributions, 1, 12),
        expected=expected,
        line=line,
        baseline=None if baseline is None else rows(baseline, 1, 12),
    )

