"""Distribution family: the documented closed forms equal the exact conditional / interventional oracles."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.distributions import janzing_conditional_shapley, janzing_support
from xaicheck.synthetic_models.shapley import baseline_shapley, conditional_shapley, interventional_shapley

NAMES = ["janzing_independent", "janzing_dependent", "janzing_correlated", "copy_feature"]


def _weighted_background(model) -> np.ndarray:
    """The distribution as an equally weighted background set (probabilities are multiples of 0.05)."""
    counts = np.rint(model.probabilities * 20).astype(int)
    np.testing.assert_allclose(counts / 20, model.probabilities)
    return np.repeat(model.support, counts, axis=0)


@pytest.mark.parametrize("name", NAMES)
def test_conditional_closed_form_equals_oracle(name: str) -> None:
    model = get_model(name)
    X = model.support
    oracle = conditional_shapley(model.predict, X, model.support, model.probabilities)
    np.testing.assert_allclose(model.conditional_attribution(X), oracle, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_interventional_closed_form_equals_oracle(name: str) -> None:
    model = get_model(name)
    X = np.array([[a, b, c][: model.n_features] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=float)
    oracle = interventional_shapley(model.predict, X, _weighted_background(model))
    np.testing.assert_allclose(model.interventional_attribution(X), oracle, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_baseline_closed_form_and_torch_form(name: str) -> None:
    model = get_model(name)
    rng = np.random.default_rng(0)
    X, B = rng.normal(size=(5, model.n_features)), rng.normal(size=model.n_features)
    np.testing.assert_allclose(model.ground_truth.exact_attribution(X, B), baseline_shapley(model.predict, X, B),
                               atol=1e-12)
    with torch.no_grad():
        out = model.torch_module()(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(out, model.predict(X), atol=1e-12)
    json.dumps(model.spec())


def test_documented_values_at_the_off_diagonal_point() -> None:
    dep = get_model("janzing_dependent")
    x = np.array([[1.0, 0.0]])
    np.testing.assert_allclose(dep.conditional_attribution(x), [[0.9, -0.9]])
    np.testing.assert_allclose(dep.interventional_attribution(x), [[0.5, -0.5]])
    np.testing.assert_allclose(get_model("janzing_independent").conditional_attribution(x), [[0.5, -0.5]])
    with pytest.raises(ValueError, match="zero probability"):  # (1, 0) is off the support of x1 = x0
        corr = get_model("janzing_correlated")
        conditional_shapley(corr.predict, x, corr.support, corr.probabilities)


def test_copy_feature_separates_the_two_value_functions() -> None:
    model = get_model("copy_feature")
    x = np.array([[1.0, 1.0, 1.0]])
    np.testing.assert_allclose(model.interventional_attribution(x), [[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(model.conditional_attribution(x), [[0.25, 0.5, 0.25]])
    assert model.ground_truth.dummy == frozenset({2})


@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 0.75, 1.0])
def test_general_q_formula(q: float) -> None:
    support, p = janzing_support(q)
    oracle = conditional_shapley(lambda X: X[:, 0] + X[:, 1], support, support, p)
    np.testing.assert_allclose(janzing_conditional_shapley(support, q), oracle, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_sampler_draws_from_the_support(name: str) -> None:
    model = get_model(name)
    X = model.sample(4000, np.random.default_rng(1))
    rows = {tuple(r) for r in model.support.tolist()}
    assert all(tuple(r) in rows for r in X.tolist())
    freq = np.array([np.all(X == s, axis=1).mean() for s in model.support])
    np.testing.assert_allclose(freq, model.probabilities, atol=0.03)


def test_bad_q_rejected() -> None:
    with pytest.raises(ValueError, match="q=1.5"):
        janzing_support(1.5)
