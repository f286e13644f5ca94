"""input_invariance (Kindermans et al. 2017): the same two regimes for every explainer, a gate and a diagnostic."""

from __future__ import annotations

import numpy as np
import pytest

from _check_doubles import DOUBLES  # tests/ is on sys.path (rootdir-relative test modules)
from xaicheck.axioms import counterexamples
from xaicheck.axioms.base import cases_of, get_check
from xaicheck.explainers.base import get_explainer


@pytest.fixture(autouse=True)
def _no_search(monkeypatch):
    monkeypatch.setattr(counterexamples, "SEARCH_BUDGET", 0)


def _case(check: str, name: str = "mlp_base"):
    return next(c for c in cases_of(get_check(check)) if c.name == name)


def test_both_regimes_move_baseline_and_background_together():
    shifted, fixed = _case("input_invariance"), _case("input_invariance_fixed_reference")
    c = np.asarray(shifted.extra["shift"])
    np.testing.assert_allclose(shifted.extra["twin_baseline"], shifted.baseline + c)
    np.testing.assert_allclose(shifted.extra["twin_background"], shifted.background + c)
    np.testing.assert_allclose(fixed.extra["twin_baseline"], fixed.baseline)
    np.testing.assert_allclose(fixed.extra["twin_background"], fixed.background)
    assert get_check("input_invariance").role == "gate"
    assert get_check("input_invariance_fixed_reference").role == "diagnostic"


def test_baseline_and_background_shapley_get_the_same_verdict_in_each_regime():
    """Issue 11: with the unshifted background interventional SHAP changes exactly like baseline Shapley, yet
    version 2 gave shap_exact 1.0 and exact_baseline_shapley 0.60. Now both sit the same regimes."""
    for check, expected in (("input_invariance", True), ("input_invariance_fixed_reference", False)):
        for name in ("shap_exact", "exact_interventional_shapley", "exact_baseline_shapley", "integrated_gradients"):
            res = get_check(check).run(get_explainer(name), _case(check))
            assert res.passed is expected, res.message
    # gradients have no reference: invariant in both regimes; gradient x input in neither
    for check in ("input_invariance", "input_invariance_fixed_reference"):
        assert get_check(check).run(get_explainer("saliency"), _case(check)).passed
        assert not get_check(check).run(get_explainer("input_x_gradient"), _case(check)).passed


def test_degenerate_explanations_meet_the_gate_which_is_why_it_is_a_gate():
    gate = get_check("input_invariance")
    for name in ("zero", "constant", "identity", "split_equally", "gradient_sign"):
        assert gate.run(DOUBLES[name], _case("input_invariance")).passed, name
    assert not gate.run(DOUBLES["random"], _case("input_invariance")).passed


@pytest.mark.parametrize("alpha,c", [(1e-3, 5.0), (40.0, -300.0)])
def test_input_invariance_scale_is_in_the_models_units(alpha, c):
    from dataclasses import replace

    from xaicheck.synthetic_models.affine import affine

    check = get_check("input_invariance")
    case = _case("input_invariance")
    moved = replace(case, model=affine(case.model, alpha, c),
                    extra={**case.extra, "models": tuple(affine(m, alpha, c) for m in case.extra["models"])})
    for name in ("input_x_gradient", "integrated_gradients"):
        exp = get_explainer(name)
        assert check.run(exp, moved).score == pytest.approx(check.run(exp, case).score, abs=1e-6), name
