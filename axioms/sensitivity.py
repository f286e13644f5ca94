"""Sensitivity(a) and (b): a feature that alone changes the output gets a non-zero attribution, and a feature the
function does not depend on gets zero.

Sundararajan, Taly & Yan 2017, "Axiomatic attribution for deep networks", section 2.1: "if for every input and
baseline that differ in one feature but have different predictions then the differing feature should be given a
non-zero attribution". Gradients violate it on ``f(x) = 1 - ReLU(1 - x)`` at ``x = 2, b = 0`` (gradient 0, output
change 1). Sensitivity(b), same section: "if the function implemented by the deep network does not depend
(mathematically) on some variable, then the attribution to that variable is always zero". The two are stated as a
pair: (a) alone is met by any explainer that gives every feature that moved a non-zero value (``x - b``, a constant,
noise), (b) alone by zeros; together they ask the attribution to follow what f depends on (issue 23).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from hypothesis import strategies as st

from xaicheck.synthetic_models.behaviour_units import unit_case_parts
from xaicheck.synthetic_models.registry import get_model

from ._helpers import (axiom_scale, binary_points, fallback_counterexample, fmt, message, output_range, pct,
                       reference_output, rows)
from ._padding import padded
from ._declared import declared_case, full_only_for_images, image_gate_skipped
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Counterexample, Tolerance, register_check
from .counterexamples import (Example, bit_lists, boolean_nets, counterexample_for, model_formula, random_booleans,
                              relu_nets, small_floats, small_ints)

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["Sensitivity", "SENSITIVITY_TOL", "one_flip_pairs"]

#: ``a_i`` counts as non-zero when ``|a_i| > atol + rtol * |f(x) - f(b)|``; a pair is eligible when
#: ``|f(x) - f(b)| > atol + rtol * (output range of f)`` (units of f, never |f(x)|: an offset must not change it).
SENSITIVITY_TOL = Tolerance(rtol=1e-3, atol=1e-10)
#: Sensitivity(b): ``max_{j in D} |a_j| <= atol + rtol * scale``, scale = ``axiom_scale`` (as ``dummy.DUMMY_TOL``).
SENSITIVITY_B_TOL = Tolerance(rtol=1e-3, atol=1e-8)
#: Draws of the model's sampler from which the moved dummy values are taken (fixed seed).
N_DUMMY_DRAWS = 64
DUMMY_SEED = 2017

def one_flip_pairs(model: "SyntheticModel", max_pairs: int = 8) -> tuple[np.ndarray, np.ndarray] | None:
    """For a boolean model: the baseline ``b`` in {0,1}^d with the most one-feature flips that change ``f``, and
    those flipped inputs ``X`` (``[k, d]``), or ``None`` when no flip changes ``f``."""
    P = binary_points(model.n_features)
    f = model.predict(P)
    best: tuple[np.ndarray, np.ndarray] | None = None
    for b, fb in zip(P, f):
        flips = np.repeat(b[None, :], model.n_features, axis=0)
        flips[np.arange(model.n_features), np.arange(model.n_features)] = 1.0 - b
        X = flips[np.abs(model.predict(flips) - fb) > 0][:max_pairs]
        if len(X) and (best is None or len(X) > len(best[1])):
            best = (b, X)
    return best


@register_check
class Sensitivity(Check):
    """Sensitivity(a), Sundararajan et al. 2017.

    For each case row ``k``, ``x_k`` and the baseline ``b_k`` differ in exactly one feature ``i_k``. Rows with
    ``|f(x_k) - f(b_k)| > atol + rtol * range f`` are eligible; row ``k`` is satisfied iff
    ``|a_{k,i_k}| > atol + rtol * |f(x_k) - f(b_k)|``.
    score = (# satisfied eligible rows) / (# eligible rows); passed iff score == 1.
    evidence ``measured`` = score (pass iff >= ``threshold`` = 1);
    ``worst_ratio`` = min_k |a_{k,i_k}| / |f(x_k) - f(b_k)|.
    Explainers without a baseline are judged on the same pairs; background explainers get the baseline as their
    one-row background.

    Sensitivity(b) on the same rows: ``D`` = the features the model declares dummy (``ground_truth.dummy``, seen by
    the check only); a model with none gets one appended (``_padding.padded``, ``f'(x, z) = f(x)``; not for image
    inputs, nor when the explainer cannot run on the padded model: then (b) is reported as not testable and the score
    is (a)'s). Row ``x'_k`` = ``x_k`` with every dummy moved to a value of the sampler other than ``b_k``'s (so
    ``x - b`` is non-zero there), baseline ``b_k``; row ``k`` holds iff
    ``max_{j in D} |a_j(x'_k)| <= atol + rtol * scale_k``, ``scale_k`` = ``axiom_scale(f(x'_k) - ref_k)``
    (``SENSITIVITY_B_TOL``, the dummy check's rule). ``score_b`` = share of rows that hold;
    **score = min(score_a, score_b)**; passed iff both are 1. Evidence: ``score_a``, ``score_b``,
    ``sensitivity_b`` (dummies, rows, errors, scales or why not testable). The counterexample search looks for (a)
    violations; a (b) failure is reported from the worst dummy-moved row.
    """

    name = "sensitivity"
    category = "axioms"
    threshold = 1.0
    version = 4
    #: A gate: a necessary condition, pass/fail. (a) alone was passed by identity, constant, random, noise seeded by
    #: the input and split_equally (issues 11, 23); with (b) each of those fails on every quick case, and exact
    #: baseline Shapley passes both by construction.
    role = "gate"
    citation = "Sundararajan, Taly, Yan 2017, Axiomatic attribution for deep networks (ICML), sec. 2.1"

    def cases(self) -> Sequence[Case]:
        out: list[Case] = []
        out.append(self._case("one_minus_relu", get_model("one_minus_relu"), np.array([[2.0]]), np.array([0.0]),
                              ("quick", "default", "full"), "f(x)=1-ReLU(1-x) at x=2, b=0: gradient is 0, f(x)-f(b)=1"))
        out += placed_cases(self.name, self._placed_case)
        m = get_model("linear_dummy")
        relevant = sorted(m.ground_truth.relevant)
        X = np.zeros((len(relevant), m.n_features))
        X[np.arange(len(relevant)), relevant] = 1.5
        out.append(self._case("linear_dummy", m, X, np.zeros(m.n_features), ("default", "full"),
                              "each relevant feature moved alone from 0 to 1.5"))
        _, m, X, b, _, _ = unit_case_parts("pertinent_negative")  # behaviour_units.py: absent flags matter
        moved = sorted(m.ground_truth.relevant)
        X = np.repeat(b[None, :], len(moved), axis=0)
        X[np.arange(len(moved)), moved] = [1.0 if i < (m.n_features - 1) // 2 else 0.0 for i in moved]
        out.append(self._case("unit_pertinent_negative", m, X, b, ("default", "full"),
                              "each relevant feature moved alone from the data mean 0.5 (flags to 0: absent)"))
        return out

    def _placed_case(self, model: "SyntheticModel", place: "Placement") -> Case | None:
        """A placed binary model ({0, 1}^d) with a one-feature flip that changes f: the baseline corner with the
        most such flips, and those flips (``one_flip_pairs``)."""
        if model.domain != "binary":
            return None
        pairs = one_flip_pairs(model)
        if pairs is None:
            return None
        return self._case(model.name, model, pairs[1], pairs[0], tuple(place.tiers), "one-feature flips that change f")

    def _case(self, name: str, model: "SyntheticModel", X: np.ndarray, b: np.ndarray, tiers: Sequence[str],
              description: str) -> Case:
        diff = (X != b[None, :]).sum(axis=1)
        if not np.all(diff == 1):
            raise ValueError(f"sensitivity/{name}: every row must differ from the baseline in one feature; got {diff}")
        return Case(self.name, name, model, X, baseline=b, background=b[None, :], tiers=frozenset(tiers),
                    description=description)

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Models that declare relevant features: each one moved alone from the declared baseline ``b`` (its first
        row for a per-row baseline) to a value that changes f -- binary: the other declared value; else the first of
        ``rows`` draws --, kept where the explained output moves by more than the tolerance."""
        if image_gate_skipped(model, suite):
            return []
        from xaicheck.synthetic_models.targets import resolve_target

        decl = model.declarations
        n = decl.n_rows(suite)
        draws = model.sample(max(n, 8), np.random.default_rng(3))
        b = np.array(np.broadcast_to(decl.baseline_for(draws[:1]), (1, model.n_features))[0])
        target0 = resolve_target(model, b[None])
        fb = model.predict_target(b[None], target0)[0]
        tol = SENSITIVITY_TOL.bound(output_range(model, target0))
        rows_: list[np.ndarray] = []
        for i in sorted(model.ground_truth.relevant):
            if len(rows_) >= n:
                break
            if model.domain == "binary":
                values = [v for v in decl.domain_values if v != b[i]]
            else:
                values = [v for v in draws[:, i] if v != b[i]]
            for v in values:
                x = b.copy()
                x[i] = v
                if abs(model.predict_target(x[None], target0)[0] - fb) > tol:
                    rows_.append(x)
                    break
        if not rows_:
            return []  # the explained output moves on no single-feature change: nothing to judge
        X = np.array(rows_)
        return full_only_for_images([declared_case(self.name, model, X, "each relevant feature moved alone from the "
                                                   "declared baseline", baseline=b, background=b[None])])

    # ------------------------------------------------------------------------------------------- scoring
    def _measure(self, explainer: "Explainer", model: "SyntheticModel", X: np.ndarray, B: np.ndarray,
                 background: np.ndarray | None, target: int | None, seed: int) -> dict[str, Any]:
        B = np.broadcast_to(B, X.shape)
        A = explainer.explain(model, X, baseline=B, background=background, target=target, seed=seed)
        feature = np.argmax(X != B, axis=1)
        fx, fb = model.predict_target(X, target), model.predict_target(B, target)
        delta = fx - fb
        eligible = np.abs(delta) > SENSITIVITY_TOL.bound(output_range(model, target))
        a_i = A[np.arange(len(X)), feature]
        ok = np.abs(a_i) > SENSITIVITY_TOL.bound(delta)
        ratio = np.abs(a_i) / np.maximum(np.abs(delta), 1e-300)
        return {"A": A, "feature": feature, "delta": delta, "eligible": eligible, "a_i": a_i, "ok": ok,
                "ratio": ratio}

    @staticmethod
    def _moved_dummies(model: "SyntheticModel", X: np.ndarray, B: np.ndarray, dummies: Sequence[int]
                       ) -> np.ndarray | None:
        """``X`` with each dummy in ``dummies`` set to the first of ``N_DUMMY_DRAWS`` sampler draws that differs from
        the baseline's value there (``None`` when some row has no such draw)."""
        draws = model.sample(N_DUMMY_DRAWS, np.random.default_rng(DUMMY_SEED))
        Xb = np.array(X, dtype=np.float64)
        for k in range(len(X)):
            for j in dummies:
                other = draws[:, j][draws[:, j] != B[k, j]]
                if other.size == 0:
                    return None
                Xb[k, j] = other[0]
        return Xb

    def _sensitivity_b(self, explainer: "Explainer", case: Case, B: np.ndarray, seed: int) -> dict[str, Any]:
        """Sensitivity(b) on the case's rows (class docstring): ``{"testable": False, "why": ...}`` or the rows'
        errors, scales, within-tolerance flags and the share that holds (``score_b``)."""
        model, X, background = case.model, case.X, case.background
        dummies = sorted(model.ground_truth.dummy)
        how = "declared dummies (ground_truth.dummy)"
        if not dummies:
            if model.input_shape is not None:
                return {"testable": False, "why": f"{model.name} declares no dummy and has an input shape: no "
                                                  "dummy can be appended"}
            d = model.n_features
            model = padded(model, d + 1)
            dummies, how = [d], "one dummy appended (_padding.padded): f'(x, z) = f(x)"
            pad = model.sample(N_DUMMY_DRAWS, np.random.default_rng(DUMMY_SEED))[0, d]
            X = np.hstack([X, np.full((len(X), 1), pad)])
            B = np.hstack([B, np.full((len(B), 1), pad)])
            if background is not None:
                background = np.hstack([background, np.full((len(background), 1), pad)])
            from xaicheck.explainers.base import applicability  # asked of the sealed view

            ok, why = applicability(explainer, model)
            if not ok:
                return {"testable": False, "why": f"padded model: {why}"}
        Xb = self._moved_dummies(model, X, B, dummies)
        if Xb is None:
            return {"testable": False, "why": "the sampler gives no other value for a dummy"}
        A = explainer.explain(model, Xb, baseline=B, background=background, target=case.target, seed=seed)
        ref, _ = reference_output(explainer, model, Xb, B, background, case.target)
        scale = axiom_scale(model.predict_target(Xb, case.target) - ref, model, case.target)
        err = np.abs(A[:, dummies]).max(axis=1)
        within = err <= SENSITIVITY_B_TOL.bound(scale)
        return {"testable": True, "dummies": [int(j) for j in dummies], "how": how, "model": model, "X": Xb, "B": B,
                "A": A, "err": err, "scale": scale, "within": within, "score_b": float(within.mean())}

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        r = self._measure(explainer, case.model, case.X, np.asarray(case.baseline), case.background, case.target,
                          seed)
        idx = np.flatnonzero(r["eligible"])
        if idx.size == 0:
            raise ValueError(f"sensitivity/{case.name}: no row has f(x) != f(b)")
        ok = r["ok"][idx]
        score_a = float(ok.mean())
        worst = int(idx[np.argmin(r["ratio"][idx])])
        B = np.broadcast_to(np.asarray(case.baseline), case.X.shape)
        rb = self._sensitivity_b(explainer, case, np.array(B, dtype=np.float64), seed)
        score = min(score_a, rb["score_b"]) if rb["testable"] else score_a
        evidence: dict[str, Any] = {
            "measured": score, "threshold": float(self.threshold), "score_a": score_a,
            "score_b": rb["score_b"] if rb["testable"] else None,
            "measured_is": "score = min(score_a, score_b); score_a = share of eligible one-feature pairs whose "
                           "differing feature got |a_i| > atol + rtol*|f(x)-f(b)|; score_b = share of rows with "
                           "the dummies moved whose max_{j in D} |a_j| <= atol_b + rtol_b*scale",
            "pass_if": "every eligible row: |a_i| > atol + rtol*|f(x)-f(b)|, and every dummy-moved row: "
                       "max_{j in D} |a_j| <= atol_b + rtol_b*scale",
            "tolerance": {"rtol": SENSITIVITY_TOL.rtol, "atol": SENSITIVITY_TOL.atol},
            "tolerance_b": {"rtol": SENSITIVITY_B_TOL.rtol, "atol": SENSITIVITY_B_TOL.atol},
            "sensitivity_b": ({"dummies": rb["dummies"], "how": rb["how"], "x": rows(rb["X"]),
                               "per_row_error": [float(v) for v in rb["err"]],
                               "per_row_scale": [float(v) for v in rb["scale"]],
                               "within": [bool(v) for v in rb["within"]], "attributions": rows(rb["A"])}
                              if rb["testable"] else {"not_testable": rb["why"]}),
            "worst_ratio": float(r["ratio"][worst]),
            "eligible_rows": [int(k) for k in idx], "differing_feature": [int(i) for i in r["feature"]],
            "delta_f": [float(v) for v in r["delta"]], "a_i": [float(v) for v in r["a_i"]],
            "satisfied": [bool(v) for v in r["ok"]], "worst_row": worst, "attributions": rows(r["A"]),
        }
        line = self._line(explainer, case.model, case.X[worst], B[worst], r["delta"][worst], r["A"][worst])
        counterexample = None
        if not ok.all():
            fallback = lambda: fallback_counterexample(  # noqa: E731
                case.model, case.X[worst], B[worst], r["A"][worst],
                {"feature": int(r["feature"][worst]), "nonzero": True, "delta_f": float(r["delta"][worst])}, line)
            counterexample, found = counterexample_for(self, explainer, case, fallback)
            evidence.update(found)
        summary = (f"(a) {int(ok.sum())} of {idx.size} one-feature pairs with f(x) != f(b) got a non-zero attribution "
                   f"on the differing feature (non-zero: |a_i| > {pct(SENSITIVITY_TOL.rtol)} of |f(x)-f(b)|); "
                   f"worst row {worst}: |a_{int(r['feature'][worst])}| = {pct(float(r['ratio'][worst]))} of "
                   f"|f(x)-f(b)|")
        if rb["testable"]:
            wb = int(np.argmax(rb["err"] / rb["scale"]))
            summary += (f"; (b) {int(rb['within'].sum())} of {rb['within'].size} rows with the dummies "
                        f"{rb['dummies']} moved gave them |a_j| <= {pct(SENSITIVITY_B_TOL.rtol)} of scale; worst row "
                        f"{wb}: max |a_j| = {fmt(rb['err'][wb])}, scale {fmt(rb['scale'][wb])}")
            if ok.all() and not rb["within"].all():
                line = self._line(explainer, rb["model"], rb["X"][wb], rb["B"][wb],
                                  float(rb["model"].predict_target(rb["X"][wb:wb + 1], case.target)[0]
                                        - rb["model"].predict_target(rb["B"][wb:wb + 1], case.target)[0]),
                                  rb["A"][wb])
                counterexample = fallback_counterexample(rb["model"], rb["X"][wb], rb["B"][wb], rb["A"][wb],
                                                         {"dummy": rb["dummies"], "zero": True}, line)
        else:
            summary += f"; (b) not testable: {rb['why']}"
        msg = message(explainer, self.name, case, score, self.threshold, summary, line)
        return CheckResult.scored(score, self.threshold, msg, evidence, counterexample)

    @staticmethod
    def _line(explainer: "Explainer", model: "SyntheticModel", x: np.ndarray, b: np.ndarray, delta: float,
              a: np.ndarray) -> str:
        what = model_formula(model)
        return (f"{explainer.name} on {what}: x={fmt(x)}, baseline={fmt(b)}, f(x)-f(b)={fmt(delta)}, "
                f"attribution={fmt(a)}")

    # ------------------------------------------------------------------------------------------- search
    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]:
        """1-d ReLU nets with integer x, b (differing), and boolean functions (exact ReLU nets, then random truth
        tables from ``strategies.boolean_models``) with a one-feature flip."""

        @st.composite
        def relu_pairs(draw: st.DrawFn) -> Example:
            model = draw(relu_nets(d=1, max_hidden=2))
            x = draw(small_floats())
            b = draw(small_floats())
            b = x + 1.0 if b == x else b
            return Example(model, np.array([x]), np.array([b]))

        @st.composite
        def boolean_flips(draw: st.DrawFn, models: st.SearchStrategy[Any] = boolean_nets()) -> Example:
            model = draw(models)
            d = model.n_features
            b = np.array(draw(bit_lists(d)), dtype=np.float64)
            i = draw(small_ints(0, d - 1))
            x = b.copy()
            x[i] = 1.0 - x[i]
            return Example(model, x, b)

        return st.one_of(relu_pairs(), boolean_flips(), boolean_flips(random_booleans(3, False)))

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None:
        x, b = example.x[None, :], example.baseline[None, :]
        r = self._measure(explainer, example.model, x, b, b, None, 0)
        if not r["eligible"][0] or r["ok"][0]:
            return None
        line = self._line(explainer, example.model, x[0], b[0], r["delta"][0], r["A"][0])
        return fallback_counterexample(example.model, x, b, r["A"],
                                       {"feature": int(r["feature"][0]), "nonzero": True,
                                        "delta_f": float(r["delta"][0])}, line)

    def violates(self, explainer: "Explainer", example: Example) -> bool:
        return self.violation(explainer, example) is not None
