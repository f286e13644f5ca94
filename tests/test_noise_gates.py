"""Gates that deterministic noise fails (issue 23 item 3).

``seeded_noise`` draws normal noise in the model's units from a generator seeded only by the bytes of X and the
baseline: deterministic and seed-free, so it passes a rerun. ``implementation_invariance`` (with its ``c f``
companion) and ``sensitivity`` ((a) paired with (b)) must fail it on every quick case, and keep passing
integrated gradients and exact Shapley (shap_exact).
"""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms import counterexamples
from xaicheck.axioms.base import Status, cases_of, get_check
from xaicheck.axioms.implementation_invariance import COMPANION_C
from xaicheck.explainers.base import get_explainer
from xaicheck.explainers.degenerate import DEGENERATE_PANEL
from xaicheck.synthetic_models import get_model

GATES = ("implementation_invariance", "sensitivity")


@pytest.fixture(autouse=True)
def _no_search(monkeypatch):
    monkeypatch.setattr(counterexamples, "SEARCH_BUDGET", 0)


def quick_results(check_name: str, explainer_name: str):
    check, explainer = get_check(check_name), get_explainer(explainer_name)
    out = [(case, check.run(explainer, case, seed=0)) for case in cases_of(check) if "quick" in case.tiers]
    out = [(case, r) for case, r in out if r.status is not Status.NOT_APPLICABLE]
    assert out, f"{explainer_name} has no quick case of {check_name}"
    for case, r in out:
        assert r.status is Status.OK, f"{explainer_name} on {case.id}: {r.message}"
    return out


def test_seeded_noise_is_a_deterministic_seed_free_control():
    assert "seeded_noise" in DEGENERATE_PANEL
    noise = get_explainer("seeded_noise")
    assert noise.family == "control" and not noise.capabilities.stochastic
    model = get_model("mlp_base")
    X = model.sample(3, np.random.default_rng(1))
    b = np.zeros(model.n_features)
    a0 = noise.explain(model, X, baseline=b, seed=0)
    assert np.array_equal(a0, noise.explain(model, X, baseline=b, seed=0))
    assert np.array_equal(a0, noise.explain(model, X, baseline=b, seed=12345))  # the seed is ignored
    assert not np.array_equal(a0, noise.explain(model, X + 0.5, baseline=b, seed=0))  # a new input, a new draw
    assert not np.array_equal(a0, noise.explain(model, X, baseline=b + 0.5, seed=0))  # the baseline is hashed too
    assert np.all(a0 != 0) and np.std(a0) > 0


@pytest.mark.parametrize("check_name", GATES)
def test_seeded_noise_fails_both_gates_on_every_quick_case(check_name):
    for case, r in quick_results(check_name, "seeded_noise"):
        assert not r.passed and r.score < 0.5, f"{case.id}: {r.message}"


@pytest.mark.parametrize("check_name", GATES)
@pytest.mark.parametrize("member", ["random", "constant", "identity"])
def test_the_controls_that_passed_now_fail(check_name, member):
    results = quick_results(check_name, member)
    assert not any(r.passed for _, r in results), [(c.id, r.message) for c, r in results if r.passed]


@pytest.mark.parametrize("check_name", GATES)
@pytest.mark.parametrize("explainer_name", ["integrated_gradients", "shap_exact"])
def test_exact_methods_pass_both_gates(check_name, explainer_name):
    for case, r in quick_results(check_name, explainer_name):
        assert r.passed and r.score == 1.0, f"{case.id}: {r.message}"


def test_the_companion_error_is_in_the_evidence():
    for case, r in quick_results("implementation_invariance", "integrated_gradients"):
        ev = r.evidence
        assert ev["companion_c"] == COMPANION_C < 0
        assert len(ev["companion_error"]) == len(case.X) and max(ev["companion_error"]) < 1e-8
        assert len(ev["invariance_error"]) == len(case.X)
        # the row error is the larger of the two, and the score is re-derivable from it
        assert ev["per_row_error"] == [max(a, b) for a, b in zip(ev["invariance_error"], ev["companion_error"])]
    for case, r in quick_results("implementation_invariance", "seeded_noise"):
        comp = np.array(r.evidence["companion_error"])
        assert np.all(comp > np.array(r.evidence["per_row_scale"]) * 1e-3), case.id  # the companion catches it
        inv = np.array(r.evidence["invariance_error"])
        assert np.all(inv <= 1e-8 * np.array(r.evidence["per_row_scale"])), case.id  # the twins alone do not


def test_sensitivity_b_is_reported_and_explains_the_failure():
    for case, r in quick_results("sensitivity", "identity"):
        ev = r.evidence
        assert ev["score_a"] == 1.0 and ev["score_b"] == 0.0 and r.score == 0.0
        assert ev["sensitivity_b"]["dummies"] and not any(ev["sensitivity_b"]["within"])
        assert r.counterexample is not None
    for case, r in quick_results("sensitivity", "integrated_gradients"):
        assert r.evidence["score_a"] == 1.0 and r.evidence["score_b"] == 1.0
