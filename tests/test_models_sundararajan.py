"""The networks of Sundararajan et al. 2017: 1 - relu(1 - x) and the functionally equivalent pair."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xaicheck.synthetic_models import get_model


def forward(name: str, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return get_model(name).torch_module()(torch.from_numpy(X)).numpy()


def gradient(name: str, X: np.ndarray) -> np.ndarray:
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    get_model(name).torch_module()(x).sum().backward()
    return x.grad.numpy()


def test_one_minus_relu_values_and_flat_gradient() -> None:
    model = get_model("one_minus_relu")
    X = np.array([[0.0], [0.5], [1.0], [2.0], [-1.0]])
    expected = 1.0 - np.maximum(1.0 - X[:, 0], 0.0)
    assert np.array_equal(model.predict(X), expected)
    assert np.array_equal(forward("one_minus_relu", X), expected)
    assert model.predict([[0.0]])[0] == 0.0 and model.predict([[2.0]])[0] == 1.0
    assert gradient("one_minus_relu", np.array([[2.0]]))[0, 0] == 0.0  # Sensitivity(a) fails for plain gradients
    assert gradient("one_minus_relu", np.array([[0.5]]))[0, 0] == 1.0
    sample = model.sample(500, np.random.default_rng(0))
    assert sample.min() >= 0.0 and sample.max() <= 2.0
    assert model.ground_truth.relevant == {0} and model.family == "sundararajan"


def closed_form_pair(X: np.ndarray) -> np.ndarray:
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    return relu(relu(X[:, 0]) - 1.0 - relu(X[:, 1]))


def test_pair_is_functionally_equivalent_everywhere() -> None:
    grid = np.stack(np.meshgrid(np.linspace(-2, 4, 61), np.linspace(-2, 3, 51)), -1).reshape(-1, 2)
    X = np.vstack([grid, np.random.default_rng(0).normal(scale=3.0, size=(1000, 2))])
    expected = closed_form_pair(X)  # equal in real arithmetic; float64 may round (x1 - 1) - x2 and x1 - x2 - 1 apart
    for name in ("sundararajan_pair_a", "sundararajan_pair_b"):
        assert np.allclose(get_model(name).predict(X), expected, rtol=0, atol=1e-12)
        assert np.allclose(forward(name, X), expected, rtol=0, atol=1e-12)
    assert get_model("sundararajan_pair_b").twin_of == "sundararajan_pair_a"
    assert get_model("sundararajan_pair_a").twin_of is None


def test_pair_differs_internally() -> None:
    """At x = (0.5, 0) the first hidden layers hold relu(x1) = 0.5 and relu(x1 - 1) = 0; both outputs are 0."""
    x = np.array([[0.5, 0.0]])
    hidden = {}
    for name in ("sundararajan_pair_a", "sundararajan_pair_b"):
        W, b = get_model(name).network.layers[0]
        hidden[name] = np.maximum(x @ W.T + b, 0.0)[0]
    assert hidden["sundararajan_pair_a"][0] == 0.5 and hidden["sundararajan_pair_b"][0] == 0.0
    assert get_model("sundararajan_pair_a").predict(x)[0] == get_model("sundararajan_pair_b").predict(x)[0] == 0.0


def test_pair_sampler_covers_the_nontrivial_region() -> None:
    model = get_model("sundararajan_pair_a")
    X = model.sample(2000, np.random.default_rng(1))
    assert X[:, 0].min() >= 0 and X[:, 0].max() <= 3 and X[:, 1].min() >= 0 and X[:, 1].max() <= 1
    assert 0.2 < np.mean(model.predict(X) > 0) < 0.8


@pytest.mark.parametrize("x", [[3.0, 1.0], [2.5, 0.2], [1.7, 0.4]])
def test_pair_gradient_path_integrals_agree(x: list[float]) -> None:
    """Gradients of equal functions agree off a null set, so a Riemann path integral (IG, baseline 0) agrees and
    sums to f(x) - f(0) (completeness) for both implementations."""
    alphas = (np.arange(2000) + 0.5) / 2000
    path = alphas[:, None] * np.asarray(x)[None, :]
    ig = {name: np.asarray(x) * gradient(name, path).mean(axis=0)
          for name in ("sundararajan_pair_a", "sundararajan_pair_b")}
    assert np.allclose(ig["sundararajan_pair_a"], ig["sundararajan_pair_b"], atol=1e-12)
    fx = closed_form_pair(np.array([x]))[0]
    assert ig["sundararajan_pair_a"].sum() == pytest.approx(fx, abs=2e-3)
