"""Formal relevance: irrelevant features get zero attribution, relevant features get a non-zero one.

Huang & Marques-Silva 2023, "The inadequacy of Shapley values for explainability" (arXiv:2302.08160): for a
boolean classifier and an instance ``x``, an abductive explanation (AXp) is a subset-minimal set of features whose
values in ``x`` fix the prediction; a feature is *relevant* iff it is in some AXp. They show exact Shapley values
can give non-zero weight to irrelevant features (issue I1) and zero weight to relevant ones (issue I2), so the
exact Shapley oracle is EXPECTED to fail this check on ``hms_irrelevant_nonzero`` / ``hms_relevant_zero``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.registry import get_model

from ._helpers import (binary_points, fallback_counterexample, fmt, irrelevant_features, message,
                       pct, rows)
from .base import Case, Check, CheckResult, Counterexample, Tolerance, register_check
from .counterexamples import Example, bit_lists, boolean_nets, counterexample_for, model_formula, random_booleans

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["Relevance", "RELEVANCE_TOL"]

#: ``a_j`` counts as zero iff ``|a_j| <= atol + rtol * scale``, scale = max(max f - min f over {0,1}^d, sum |a|).
RELEVANCE_TOL = Tolerance(rtol=1e-3, atol=1e-10)

CASE_MODELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hms_irrelevant_nonzero", ("quick", "default", "full")),
    ("hms_relevant_zero", ("quick", "default", "full")),
    ("a_and_b_or_c", ("default", "full")),
    ("cough_fever_10_90", ("default", "full")),
)
MAX_ROWS = 8


def _instances(model: "SyntheticModel") -> np.ndarray:
    """The model's witness instance (if it has one) first, then the corners of {0,1}^d, at most ``MAX_ROWS``."""
    P = binary_points(model.n_features)
    witness = getattr(model, "witness_x", None)
    if witness is not None:
        w = np.asarray(witness, dtype=np.float64)[None, :]
        P = np.vstack([w, P[~np.all(P == w, axis=1)]])
    return np.ascontiguousarray(P[:MAX_ROWS])


@register_check
class Relevance(Check):
    """Formal relevance (Huang & Marques-Silva 2023).

    For row ``k``, ``I_k`` = formally irrelevant features of ``x_k`` (in no AXp; ``model.irrelevant_features``
    or enumeration of all subsets). Feature ``j`` is classified correctly iff (``j in I_k`` and ``a_kj`` is zero) or
    (``j not in I_k`` and ``a_kj`` is non-zero), zero meaning ``|a_kj| <= atol + rtol * scale_k`` with
    scale_k = max(max f - min f over {0,1}^d, sum_j |a_kj|).
    row score = share of features classified correctly; score = mean over rows; passed iff score == 1.
    evidence ``measured`` = score (pass iff >= ``threshold`` = 1). Background = uniform {0,1}^d (HMS's
    distribution); baseline = the opposite corner ``1 - x`` per row, so that no feature gets a zero attribution
    merely because its value equals the baseline's (a reference artefact, not a relevance judgement).
    """

    name = "relevance"
    category = "axioms"
    threshold = 1.0
    version = 2
    citation = "Huang & Marques-Silva 2023, The inadequacy of Shapley values for explainability (arXiv:2302.08160)"

    def cases(self) -> Sequence[Case]:
        out = []
        for name, tiers in CASE_MODELS:
            model = get_model(name)
            if model.domain != "binary":
                continue
            X = _instances(model)
            out.append(Case(self.name, name, model, X, baseline=1.0 - X,
                            background=binary_points(model.n_features), tiers=frozenset(tiers),
                            description="formally irrelevant features ~0, relevant ones non-zero"))
        return out

    def _measure(self, explainer: "Explainer", model: "SyntheticModel", X: np.ndarray, B: np.ndarray,
                 background: np.ndarray, target: int | None, seed: int) -> dict[str, Any]:
        A = explainer.explain(model, X, baseline=B, background=background, target=target, seed=seed)
        values = model.predict_target(binary_points(model.n_features), target)
        f_range = float(values.max() - values.min())
        scale = np.maximum(np.maximum(f_range, np.abs(A).sum(axis=1)), 1e-12)
        zero = np.abs(A) <= RELEVANCE_TOL.bound(scale)[:, None]
        irrelevant, source = zip(*(irrelevant_features(model, x) for x in X))
        should_be_zero = np.array([[j in irr for j in range(model.n_features)] for irr in irrelevant])
        correct = zero == should_be_zero
        return {"A": A, "zero": zero, "irrelevant": irrelevant, "source": source[0], "correct": correct,
                "row_score": correct.mean(axis=1), "scale": scale}

    @staticmethod
    def _line(explainer: "Explainer", model: "SyntheticModel", x: np.ndarray, r: dict[str, Any], k: int) -> str:
        wrong = [int(j) for j in np.flatnonzero(~r["correct"][k])]
        irr = sorted(r["irrelevant"][k])
        what = model_formula(model)
        detail = ", ".join(f"x{j} {'irrelevant' if j in irr else 'relevant'} got {fmt(r['A'][k, j])}" for j in wrong)
        return (f"{explainer.name} on {what}: x={fmt(x)}, irrelevant={irr}, attribution={fmt(r['A'][k])}"
                + (f" ({detail})" if detail else ""))

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        background = case.background if case.background is not None else binary_points(case.model.n_features)
        r = self._measure(explainer, case.model, case.X, B, background, case.target, seed)
        score = float(r["row_score"].mean())
        worst = int(np.argmin(r["row_score"]))
        line = self._line(explainer, case.model, case.X[worst], r, worst)
        evidence: dict[str, Any] = {
            "measured": score, "threshold": float(self.threshold),
            "measured_is": "score = mean over rows of the share of features classified correctly (zero iff irrelevant)",
            "pass_if": "every feature of every row classified correctly (score == 1)",
            "tolerance": {"rtol": RELEVANCE_TOL.rtol, "atol": RELEVANCE_TOL.atol},
            "irrelevant_source": r["source"],
            "irrelevant": [sorted(int(j) for j in irr) for irr in r["irrelevant"]],
            "zero": [[bool(v) for v in row] for row in r["zero"]],
            "per_row_score": [float(v) for v in r["row_score"]],
            "per_row_scale": [float(v) for v in r["scale"]],
            "worst_row": worst, "instances": rows(case.X, MAX_ROWS, 1), "attributions": rows(r["A"]),
            "worst_attribution": rows(r["A"][worst], 1),
        }
        counterexample = None
        if score < self.threshold:
            expected = {"irrelevant": sorted(int(j) for j in r["irrelevant"][worst])}
            counterexample, found = counterexample_for(self, explainer, case, lambda: fallback_counterexample(
                case.model, case.X[worst], B[worst], r["A"][worst], expected, line))
            evidence.update(found)
        wrong = ~r["correct"]
        n_irr_nonzero = int((wrong & ~r["zero"]).sum())
        n_rel_zero = int((wrong & r["zero"]).sum())
        summary = (f"{int(wrong.sum())} of {wrong.size} feature judgements wrong in {int(wrong.any(axis=1).sum())} of "
                   f"{len(wrong)} rows ({n_irr_nonzero} irrelevant features got non-zero, {n_rel_zero} relevant "
                   f"features got zero; zero: |a_j| <= {pct(RELEVANCE_TOL.rtol)} of scale); worst row {worst}: "
                   f"row score {r['row_score'][worst]:.3g}")
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
        if r["correct"].all():
            return None
        return fallback_counterexample(example.model, x, b, r["A"], {"irrelevant": sorted(r["irrelevant"][0])},
                                       self._line(explainer, example.model, x[0], r, 0))

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None
