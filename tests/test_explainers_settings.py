"""Settings a researcher needs: IG's steps and integration rule, LRP's rules (captum's), each against a closed form."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck import explainers
from xaicheck.benchmarks.papers.kindermans2017 import exact_integrated_gradients, kindermans_inputs
from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth


def test_ig_at_500_steps_matches_kindermans_relu_example_where_64_misses():
    """Kindermans et al. 2017's ReLU network (``mlp_base``, their seeded inputs, zero reference): IG by its definition
    (exact piecewise integral) against captum's Gauss-Legendre rule at 64 and 500 steps."""
    model = get_model("mlp_base")
    X, b = kindermans_inputs(model), np.zeros(model.n_features)
    exact = exact_integrated_gradients(model, X, b)
    np.testing.assert_allclose(exact.sum(axis=1), model.predict(X) - model.predict(b[None]), atol=1e-12)
    ig = explainers.get_explainer("integrated_gradients")
    miss_64 = np.abs(ig.with_settings(n_steps=64).explain(model, X, baseline=b) - exact).max()
    miss_500 = np.abs(ig.with_settings(n_steps=500).explain(model, X, baseline=b) - exact).max()
    assert 0.015 < miss_64 < 0.03  # 0.021
    assert miss_500 < 1e-3  # 6.4e-4


def test_exact_ig_is_the_closed_form_on_a_one_kink_function():
    """f(x) = relu(x0 + x1 - 1) from 0 to (1, 1): the kink is at α = 1/2, so IG = (x_i) ∫_{1/2}^1 1 dα = (1/2, 1/2)."""
    import torch

    def factory() -> torch.nn.Module:
        layer = torch.nn.Linear(2, 1).double()
        with torch.no_grad():
            layer.weight.fill_(1.0)
            layer.bias.fill_(-1.0)
        return torch.nn.Sequential(layer, torch.nn.ReLU(), torch.nn.Flatten(0))

    model = FunctionModel("relu_and", "test", lambda X: np.maximum(X.sum(axis=1) - 1, 0), ("a", "b"),
                          GroundTruth(relevant=frozenset({0, 1})), torch_factory=factory)
    np.testing.assert_allclose(exact_integrated_gradients(model, np.ones((1, 2)), np.zeros(2)), [[0.5, 0.5]],
                               atol=1e-12)


def test_settings_are_recorded_and_validated():
    ig = explainers.get_explainer("integrated_gradients")
    custom = ig.with_settings(n_steps=500, method="riemann_trapezoid")
    assert custom.name == "integrated_gradients[method=riemann_trapezoid,n_steps=500]"
    assert custom.describe()["settings"] == "method=riemann_trapezoid,n_steps=500"
    assert ig.settings == {"n_steps": 64, "method": "gausslegendre"}  # the registered explainer is unchanged
    assert ig.with_settings(name="ig_500", n_steps=500).name == "ig_500"
    with pytest.raises(ValueError, match="riemann_trapezoid"):
        ig.with_settings(method="simpson")
    with pytest.raises(ValueError, match="no setting 'steps'"):
        ig.with_settings(steps=500)
    with pytest.raises(ValueError, match="n_steps"):
        ig.with_settings(n_steps=1)
    model = get_model("linear_dummy")
    X = model.sample(2, np.random.default_rng(0))
    w, _ = model.linear_coefficients
    middle = ig.with_settings(n_steps=7, method="riemann_middle")
    np.testing.assert_allclose(middle.explain(model, X, baseline=np.zeros(4)), w * X, atol=1e-12)
    # captum 0.9's trapezoid rule: nodes linspace(0, 1, n) but weights 1/n (ends halved), summing to 1 - 1/n, so even
    # on a linear model IG falls short by the factor (n - 1)/n (a library pitfall the setting exposes)
    np.testing.assert_allclose(custom.explain(model, X, baseline=np.zeros(4)), (1 - 1 / 500) * w * X, atol=1e-12)


def _linear_case():
    model = get_model("linear_dummy")  # nn.Linear(4, 1): f = w·x + b, w = (2, -1, 0.5, 0), b = 0.3
    w, b = model.linear_coefficients
    return model, np.asarray(w), float(b), model.sample(3, np.random.default_rng(5))


def test_lrp_rules_on_one_linear_layer_are_their_closed_forms():
    """R_i = a_i w'_i / (z' + ε sign z') · f(x) (Montavon et al. 2019): LRP-0 without bias z' = Σ a_i w_i;
    ε-rule z' = Σ a_i w_i + b with ε = 0.25; γ-rule w' = w + γ w⁺, z' = Σ a_i w'_i + b, γ = 0.25."""
    model, w, b, X = _linear_case()
    f = X @ w + b
    z0 = X @ w
    np.testing.assert_allclose(explainers.get_explainer("lrp_0").explain(model, X), X * w * (f / z0)[:, None],
                               rtol=1e-7)
    eps = explainers.get_explainer("lrp_epsilon").settings["epsilon"]
    np.testing.assert_allclose(explainers.get_explainer("lrp_epsilon").explain(model, X),
                               X * w * (f / (f + eps * np.sign(f)))[:, None], rtol=1e-7)
    gamma = explainers.get_explainer("lrp_gamma").settings["gamma"]
    wg = w + gamma * np.maximum(w, 0)
    zg = X @ wg + b
    np.testing.assert_allclose(explainers.get_explainer("lrp_gamma").explain(model, X),
                               X * wg * (f / zg)[:, None], rtol=1e-7)
    # LRP-0 conserves f(x) exactly; the bias-in-denominator rules do not
    np.testing.assert_allclose(explainers.get_explainer("lrp_0").explain(model, X).sum(axis=1), f, rtol=1e-7)


def test_lrp_0_is_gradient_times_input_on_a_bias_free_relu_network():
    import torch

    def factory() -> torch.nn.Module:
        gen = torch.Generator().manual_seed(1)
        net = torch.nn.Sequential(torch.nn.Linear(3, 5, bias=False), torch.nn.ReLU(), torch.nn.Linear(5, 1, bias=False),
                                  torch.nn.Flatten(0)).double()
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
        return net

    net = factory()
    model = FunctionModel("relu_nobias", "test", lambda X: net(torch.as_tensor(X)).detach().numpy(),
                          ("a", "b", "c"), GroundTruth(relevant=frozenset({0, 1, 2})), torch_factory=factory)
    X = np.random.default_rng(2).uniform(-1, 1, size=(4, 3))
    np.testing.assert_allclose(explainers.get_explainer("lrp_0").explain(model, X),
                               explainers.get_explainer("input_x_gradient").explain(model, X), atol=1e-9)
