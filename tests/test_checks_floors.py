"""Issue 11 item 3-4 for the checks redesigned on branch ``checks``: each is scored with a stated floor that every
member of the degenerate panel sits at or below (mean over the default suite's cases), or it is a gate / diagnostic.
Also the dummy-padded case models that keep "exact when d <= 4" from being exact."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms import counterexamples
from xaicheck.axioms._padding import PAD_TO, padded
from xaicheck.axioms.base import Status, cases_of, get_check
from xaicheck.explainers.base import get_explainer
from xaicheck.explainers.degenerate import DEGENERATE_PANEL
from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.shapley import baseline_shapley

SCORED = ("robustness", "model_randomisation", "scaffold_shapley")
ROLES = {"relevance": "gate", "input_invariance": "gate", "fooling": "gate",
         "explainer_agreement": "diagnostic", "baseline_sensitivity": "diagnostic",
         "input_invariance_fixed_reference": "diagnostic", **{name: "score" for name in SCORED}}


@pytest.fixture(autouse=True)
def _no_search(monkeypatch):
    monkeypatch.setattr(counterexamples, "SEARCH_BUDGET", 0)


def test_roles():
    for name, role in ROLES.items():
        assert get_check(name).role == role, name
        if role == "score":
            assert 0.0 < get_check(name).floor < get_check(name).threshold, name


@pytest.mark.parametrize("check_name", SCORED)
def test_degenerate_panel_at_or_below_the_floor_and_the_exact_oracle_above_it(check_name):
    check = get_check(check_name)
    cases = [c for c in cases_of(check) if "default" in c.tiers]
    assert all(c.model.n_features >= PAD_TO for c in cases)

    def mean_score(name: str) -> float:
        results = [check.run(get_explainer(name), c, seed=0) for c in cases]
        assert all(r.status is Status.OK for r in results), [r.message for r in results]
        return float(np.mean([r.score for r in results]))

    oracle = "exact_interventional_shapley" if check_name == "scaffold_shapley" else "exact_baseline_shapley"
    assert mean_score(oracle) >= 0.99
    measured = {name: mean_score(name) for name in DEGENERATE_PANEL}
    assert all(v <= check.floor for v in measured.values()), measured


def test_padded_model_is_the_same_function_with_dummies():
    import torch

    model = get_model("mlp_base")
    twin = padded(model)
    assert twin.n_features == PAD_TO and padded(twin) is twin
    assert twin.ground_truth.dummy >= frozenset(range(model.n_features, PAD_TO))
    X = twin.sample(5, np.random.default_rng(0))
    np.testing.assert_allclose(twin.predict(X), model.predict(X[:, :4]))
    with torch.no_grad():
        np.testing.assert_allclose(twin.torch_module()(torch.from_numpy(X)).numpy().ravel(), twin.predict(X))
    phi = baseline_shapley(twin.predict, X, np.zeros(PAD_TO))
    np.testing.assert_allclose(phi[:, 4:], 0.0, atol=1e-12)
    np.testing.assert_allclose(phi[:, :4], baseline_shapley(model.predict, X[:, :4], np.zeros(4)), atol=1e-12)
