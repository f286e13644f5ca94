"""relevance: the ranking defects I1-I5 of Huang & Marques-Silva 2023, judged on formally (ir)relevant features.

Huang & Marques-Silva 2023, "The inadequacy of Shapley values for explainability" (arXiv:2302.08160), sec. 4: for a
boolean classifier f and an instance x, an abductive explanation (AXp) is a subset-minimal set of features whose
values in x fix f; feature i is *relevant* iff it is in some AXp, else *irrelevant*. A feature-importance score Sv is
defective at (f, x) when (the paper's labels):

- **I1**  some irrelevant feature has a non-zero score:                 ∃i. Irr(i) ∧ Sv(i) ≠ 0
- **I2**  some irrelevant feature is ranked at or above a relevant one:  ∃i, j. Irr(i) ∧ Rel(j) ∧ |Sv(i)| ≥ |Sv(j)|
- **I3**  some relevant feature has score zero:                         ∃j. Rel(j) ∧ Sv(j) = 0
- **I4**  an irrelevant feature is non-zero while a relevant one is zero: ∃i, j. Irr(i) ∧ Rel(j) ∧ Sv(i) ≠ 0 ∧ Sv(j) = 0
- **I5**  an irrelevant feature has the strictly largest |score|:          ∃i. Irr(i) ∧ ∀j ≠ i. |Sv(j)| < |Sv(i)|

(The relabelling of version 2's issues: a relevant feature scored zero is I3, not I2; I2 is a ranking defect.
I4 implies I1 and I3, I5 implies I1 and I2: they are reported for the paper's bookkeeping, and a row is clean iff
none of I1-I5 occurs, i.e. iff none of I1, I2, I3 does. I2 counts ties as "at or above": a tie leaves the user no
way to tell the irrelevant feature from the relevant one. The definitions were taken from the paper's section 4 as
we read it; the search tool did not return the paper's text to quote, so the labels are checked against the paper's
own examples in the tests: ``hms_irrelevant_nonzero``'s witness shows I1, ``hms_relevant_zero``'s shows I3.)

    row clean  <=>  no I1, I2, I3 at x           score = share of clean rows       passed <=> score == 1

A score is *zero* when ``|a_j| <= τ = Δf / (2 · d! · 2^d)`` with ``Δf = max f - min f`` over {0,1}^d: the exact
Shapley values of a boolean function, for the uniform distribution and for any corner baseline, are multiples of
``Δf / (d! · 2^d)``, so half of that quantum separates zero from the smallest value any exact attribution takes. It
scales with the function (invariant to f -> αf + c), never with the explainer's own output, and a noisy estimate
whose noise exceeds it gives irrelevant features non-zero scores - which is I1, as the paper would judge it; so
noise cannot buy relevant features out of I3 without paying in I1 elsewhere.

Why it cannot be gamed by "everything non-zero": every case adds ``N_DUMMIES`` = 2 dummy features to the paper's
functions, so every row has an irrelevant feature; a constant, random, identity (x - b with b = 1 - x),
noise-plus-a-huge-feature or "split f(x) - f(b) equally" explanation gives it a non-zero score (I1) or scores every
feature zero (I3): all measured at 0. The dummies also bring d to 5, so "exact when d <= 4" is not exact here.

Role ``gate``: being free of I1-I5 is a necessary condition for a feature-importance score (HMS's argument), not a
measure of its quality: the formal-relevance indicator (1 on relevant features, 0 on irrelevant ones) passes it
while saying nothing about how much each feature matters, and so, wherever a ReLU network's local support coincides
with formal relevance, does the sign of the gradient (measured 1.0 on ``hms_relevant_zero``, 0.44 over the cases,
above the exact Shapley values' 0.25). So the check is shown as pass/fail beside the ranking and kept out of the
scored overall; the exact uniform Shapley oracle fails it, as the paper shows (I1 on most rows of
``hms_irrelevant_nonzero``, ``a_and_b_or_c`` and ``majority3``; I2 + I3 on ``hms_relevant_zero``).

Background = uniform {0,1}^d (HMS's distribution); baseline = the opposite corner ``1 - x`` per row, so that no
feature gets a zero attribution merely because its value equals the baseline's.
"""

from __future__ import annotations

from math import factorial
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.boolean_model import BooleanModel

from ._helpers import (binary_points, fallback_counterexample, fmt, formally_irrelevant, irrelevant_features, message,
                       rows)
from ._declared import corners, declared_case
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Counterexample, register_check
from .counterexamples import Example, bit_lists, boolean_nets, counterexample_for, model_formula, random_booleans

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["Relevance", "ISSUES", "N_DUMMIES", "zero_tolerance", "relevance_issues"]

#: The paper's issue labels, in order.
ISSUES: tuple[str, ...] = ("I1", "I2", "I3", "I4", "I5")
#: Dummy features added to each case's function (every row then has an irrelevant feature; d >= 5).
N_DUMMIES = 2
MAX_ROWS = 8
#: Formal relevance enumerates 2^d subsets x 2^d corners per row: declared models join up to this d.
MAX_RELEVANCE_FEATURES = 8


def zero_tolerance(f_range: float, d: int) -> float:
    """``τ = Δf / (2 d! 2^d)``: half the quantum of exact Shapley values of a boolean function (docstring)."""
    return float(f_range) / (2.0 * factorial(d) * 2.0**d)


def relevance_issues(A: np.ndarray, irrelevant: np.ndarray, tau: float) -> dict[str, np.ndarray]:
    """``{label: [n] bool}`` for I1-I5 (module docstring) from attributions ``A [n, d]`` and an irrelevance mask."""
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    irr = np.atleast_2d(np.asarray(irrelevant, dtype=bool))
    rel = ~irr
    mag = np.abs(A)
    zero = mag <= tau
    big = np.inf
    max_irr = np.where(irr, mag, -big).max(axis=1)
    min_rel = np.where(rel, mag, big).min(axis=1)
    i1 = (irr & ~zero).any(axis=1)
    i2 = irr.any(axis=1) & rel.any(axis=1) & (max_irr + tau >= min_rel)
    i3 = (rel & zero).any(axis=1)
    i4 = i1 & i3
    top = np.argmax(mag, axis=1)
    others = np.where(np.eye(A.shape[1], dtype=bool)[top], -big, mag).max(axis=1)
    i5 = irr[np.arange(len(A)), top] & (others + tau < mag[np.arange(len(A)), top])
    return {"I1": i1, "I2": i2, "I3": i3, "I4": i4, "I5": i5}


def _padded(base: BooleanModel) -> BooleanModel:
    """The boolean model with ``N_DUMMIES`` dummy features appended (its witness padded with ones)."""
    name = base.name
    names = (*base.feature_names, *(f"dummy{k}" for k in range(N_DUMMIES)))
    model = BooleanModel(f"{name}+{N_DUMMIES}dummies", base.formula, n_vars=base.n_features, n_dummies=N_DUMMIES,
                         feature_names=names, notes=f"{name} with {N_DUMMIES} dummy features (relevance check)")
    witness = getattr(base, "witness_x", None)
    if witness is not None:
        model.witness_x = np.concatenate([np.asarray(witness, dtype=np.float64), np.ones(N_DUMMIES)])
    return model


def _instances(model: "SyntheticModel") -> np.ndarray:
    """The witness (if any) first, then corners of {0,1}^d whose dummy bits vary with the row; ``MAX_ROWS`` rows."""
    d = model.n_features
    P = binary_points(d)
    P = P[np.argsort(-(P[:, : d - N_DUMMIES].sum(axis=1) * 4 + P[:, d - N_DUMMIES:] @ [2.0, 1.0]), kind="stable")]
    witness = getattr(model, "witness_x", None)
    if witness is not None:
        w = np.asarray(witness, dtype=np.float64)[None, :]
        P = np.vstack([w, P[~np.all(P == w, axis=1)]])
    picked = [P[0]]
    seen = {tuple(P[0, : d - N_DUMMIES])}
    for p in P[1:]:  # one row per setting of the function's own variables, dummies cycling through their values
        key = tuple(p[: d - N_DUMMIES])
        if key not in seen and len(picked) < MAX_ROWS:
            seen.add(key)
            p = p.copy()
            p[d - N_DUMMIES:] = [(len(picked) >> k) & 1 for k in range(N_DUMMIES)]
            picked.append(p)
    return np.ascontiguousarray(picked)


@register_check
class Relevance(Check):
    """Gate: score = share of rows free of Huang & Marques-Silva's issues I1-I5 (zero: |a_j| <= Δf / (2 d! 2^d))."""

    name = "relevance"
    category = "axioms"
    threshold = 1.0
    version = 3
    #: A necessary condition, not quality: a 0/1 relevance indicator (and the gradient's sign) can pass it.
    role = "gate"
    citation = "Huang & Marques-Silva 2023, The inadequacy of Shapley values for explainability (arXiv:2302.08160)"

    def cases(self) -> Sequence[Case]:
        return placed_cases(self.name, self._placed_case)

    def _placed_case(self, base: "SyntheticModel", place: "Placement") -> Case | None:
        """A placed boolean formula (``BooleanModel``) with ``N_DUMMIES`` dummies appended: ``_instances`` rows (its
        witness first), baseline the opposite corner, background every corner."""
        if not isinstance(base, BooleanModel):
            return None
        name = base.name
        model = _padded(base)
        X = _instances(model)
        return Case(self.name, name, model, X, baseline=1.0 - X, background=binary_points(model.n_features),
                    tiers=place.tiers, extra={"n_dummies": N_DUMMIES},
                    description=f"{name} + {N_DUMMIES} dummies: no HMS issue I1-I5 at any row")

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Binary models with d <= ``MAX_RELEVANCE_FEATURES`` and one explained output per case: corners of the
        declared values (all-on first, not all-off; ``rows`` of them, spread over the cube), baseline the opposite
        corner (Huang & Marques-Silva's setting), background every corner."""
        from xaicheck.synthetic_models.targets import is_per_row, resolve_target

        d = model.n_features
        if model.domain != "binary" or d > MAX_RELEVANCE_FEATURES:
            return []
        n = model.declarations.n_rows(suite)
        P = corners(model)[:-1]
        X = P[:: max(1, len(P) // n)][:n]
        if is_per_row(resolve_target(model, X)):
            return []  # the zero tolerance is set by one output's range over the cube
        return [declared_case(self.name, model, X, "no Huang & Marques-Silva issue I1-I5 at any row",
                              baseline=model.declarations.opposite(X), background=corners(model),
                              extra={"domain_values": model.declarations.domain_values})]

    def _measure(self, explainer: "Explainer", model: "SyntheticModel", X: np.ndarray, B: np.ndarray,
                 background: np.ndarray, target: int | None, seed: int,
                 domain_values: tuple[float, float] = (0.0, 1.0)) -> dict[str, Any]:
        A = explainer.explain(model, X, baseline=B, background=background, target=target, seed=seed)
        lo, hi = domain_values
        values = model.predict_target(lo + (hi - lo) * binary_points(model.n_features), target)
        tau = zero_tolerance(float(values.max() - values.min()), model.n_features)
        if (lo, hi) == (0.0, 1.0):
            irrelevant, source = zip(*(irrelevant_features(model, x) for x in X))
        else:  # formal relevance on the {0,1} codes of the declared values (a relabelling changes no AXp)
            coded = lambda Z: model.predict(lo + (hi - lo) * np.asarray(Z))  # noqa: E731
            irrelevant = tuple(formally_irrelevant(coded, (x - lo) / (hi - lo)) for x in X)
            source = ("enumeration of abductive explanations",)
        mask = np.array([[j in irr for j in range(model.n_features)] for irr in irrelevant])
        issues = relevance_issues(A, mask, tau)
        clean = ~(issues["I1"] | issues["I2"] | issues["I3"])
        return {"A": A, "irrelevant": irrelevant, "source": source[0], "issues": issues, "clean": clean, "tau": tau}

    @staticmethod
    def _line(explainer: "Explainer", model: "SyntheticModel", x: np.ndarray, r: dict[str, Any], k: int) -> str:
        found = [lab for lab in ISSUES if r["issues"][lab][k]]
        irr = sorted(int(j) for j in r["irrelevant"][k])
        return (f"{explainer.name} on {model_formula(model)}: x={fmt(x)}, irrelevant={irr}, attribution="
                f"{fmt(r['A'][k])}, issues {'+'.join(found) if found else 'none'} (zero: |a| <= {r['tau']:.3g})")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        background = case.background if case.background is not None else binary_points(case.model.n_features)
        r = self._measure(explainer, case.model, case.X, B, background, case.target, seed,
                          tuple(case.extra.get("domain_values", (0.0, 1.0))))
        score = float(r["clean"].mean())
        worst = int(np.argmin(r["clean"])) if not r["clean"].all() else 0
        line = self._line(explainer, case.model, case.X[worst], r, worst)
        counts = {lab: int(r["issues"][lab].sum()) for lab in ISSUES}
        evidence: dict[str, Any] = {
            "measured": score, "threshold": float(self.threshold),
            "measured_is": "share of rows with none of Huang & Marques-Silva's issues I1-I5",
            "pass_if": "no issue at any row (score == 1)",
            "zero_tolerance": r["tau"], "irrelevant_source": r["source"],
            "irrelevant": [sorted(int(j) for j in irr) for irr in r["irrelevant"]],
            "issues_per_row": [[lab for lab in ISSUES if r["issues"][lab][k]] for k in range(len(case.X))],
            "issue_counts": counts,
            "per_row_score": [float(v) for v in r["clean"]],
            "worst_row": worst, "instances": rows(case.X, MAX_ROWS, 1), "attributions": rows(r["A"]),
        }
        counterexample = None
        if score < self.threshold:
            expected = {"irrelevant": sorted(int(j) for j in r["irrelevant"][worst])}
            counterexample, found = counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                case.model, case.X[worst], B[worst], r["A"][worst], expected, line))
            evidence.update(found)
        n_bad = int((~r["clean"]).sum())
        summary = (f"{n_bad} of {len(r['clean'])} rows show an issue ("
                   + ", ".join(f"{lab} {c}" for lab, c in counts.items()) + f"; zero: |a_j| <= {r['tau']:.3g})")
        msg = message(explainer, self.name, case, score, self.threshold, summary, line)
        return CheckResult.scored(score, self.threshold, msg, evidence, counterexample)

    # ------------------------------------------------------------------------------------------- search
    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]:
        """Boolean functions of 2-3 variables (exact ReLU nets), then random truth tables of 1-3 variables with dummies
        (``strategies.boolean_models``), at a corner x of {0,1}^d, baseline ``1 - x``."""

        @st.composite
        def examples(draw: st.DrawFn, models: st.SearchStrategy[Any] = boolean_nets()) -> Example:
            model = draw(models)
            d = model.n_features
            bits = np.array(draw(bit_lists(d)), dtype=np.float64)
            return Example(model, bits, 1.0 - bits)

        return st.one_of(examples(), examples(random_booleans(3, True)))

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None:
        d = example.model.n_features
        x, b = example.x[None, :], example.baseline[None, :]
        r = self._measure(explainer, example.model, x, b, binary_points(d), None, 0)
        if r["clean"].all():
            return None
        return fallback_counterexample(example.model, x, b, r["A"], {"irrelevant": sorted(r["irrelevant"][0])},
                                       self._line(explainer, example.model, x[0], r, 0))

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None
