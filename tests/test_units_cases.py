"""The scaled MLP in other units (``scaled.UNIT_CHANGES``, issue 12): the same network with ``alpha f + c`` written
into its output layer, judged by ground_truth_agreement. Unit-covariant methods score as on the plain MLP; methods
with an absolute ε or float32 arithmetic do not, which is what makes the cases separate methods."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms import counterexamples
from xaicheck.axioms.base import cases_of, get_check
from xaicheck.explainers.base import get_explainer
from xaicheck.synthetic_models.scaled import UNIT_CHANGES, scaled_model, scaled_units

CHECK = get_check("ground_truth_agreement")


@pytest.fixture(autouse=True)
def _no_search(monkeypatch):
    monkeypatch.setattr(counterexamples, "SEARCH_BUDGET", 0)


@pytest.mark.parametrize("label,alpha,c", UNIT_CHANGES)
def test_units_model_is_alpha_f_plus_c_in_its_weights(label, alpha, c):
    import torch

    base, model = scaled_model("mlp", 8, 0), scaled_units(8, label, 0)
    X = base.sample(16, np.random.default_rng(0))
    np.testing.assert_allclose(model.predict(X), alpha * base.predict(X) + c, rtol=1e-12, atol=1e-9)
    kinds = [[type(m).__name__ for m in net.torch_module().modules()] for net in (model, base)]
    assert kinds[0] == kinds[1]  # a plain ReLU network, no wrapper
    with torch.no_grad():
        np.testing.assert_allclose(model.torch_module()(torch.from_numpy(X)).numpy().ravel(), model.predict(X))
    assert model.ground_truth.dummy == base.ground_truth.dummy


def _scores(name):
    cases = {c.name: c for c in cases_of(CHECK)}
    return {k: CHECK.run(get_explainer(name), cases[k], seed=0).score
            for k in ("mlp_d8", "mlp_d8_small_units", "mlp_d8_offset")}


def test_covariant_methods_score_the_same_in_any_units_and_an_epsilon_does_not():
    for name in ("exact_baseline_shapley", "integrated_gradients", "occlusion"):
        s = _scores(name)
        assert s["mlp_d8_small_units"] == pytest.approx(s["mlp_d8"], abs=1e-9), (name, s)
        assert s["mlp_d8_offset"] == pytest.approx(s["mlp_d8"], abs=1e-9), (name, s)
    eps = _scores("lrp_epsilon")  # ε = 0.25 is absolute: in small units it swamps every pre-activation
    assert eps["mlp_d8_small_units"] < eps["mlp_d8"] - 0.3
