"""Two-class logistic model: torch form, dummy feature, logit closed form; certainty ratio and near/far groups."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.classification import boundary_distance_groups, certainty_ratio
from xaicheck.synthetic_models.shapley import baseline_shapley


@pytest.fixture(scope="module")
def model():
    return get_model("logistic_two_class")


def test_probabilities_and_torch_form(model) -> None:
    X = np.vstack([model.sample(64, np.random.default_rng(0)), [[40.0, -40.0, 0.0], [-40.0, 40.0, 3.0]]])
    P = model.predict(X)
    assert P.shape == (len(X), 2) and model.n_outputs == 2
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-15)
    with torch.no_grad():
        np.testing.assert_allclose(model.torch_module()(torch.as_tensor(X)).numpy(), P, atol=1e-12)
    np.testing.assert_allclose(np.log(P[:-2, 1] / P[:-2, 0]), model.logit(X[:-2]), atol=1e-9)
    with pytest.raises(ValueError, match="target"):
        model.predict_target(X)
    json.dumps(model.spec())


def test_dummy_feature_and_logit_closed_form(model) -> None:
    rng = np.random.default_rng(1)
    X = model.sample(16, rng)
    Y = X.copy()
    Y[:, 2] = rng.normal(size=16) * 10
    np.testing.assert_array_equal(model.predict(Y), model.predict(X))
    assert model.ground_truth.dummy == frozenset({2})
    B = model.sample(1, rng)[0]
    np.testing.assert_allclose(model.logit_attribution(X, B), baseline_shapley(model.logit, X, B), atol=1e-12)


def test_certainty_ratio_values() -> None:
    np.testing.assert_allclose(certainty_ratio(np.array([[0.5, 0.5], [0.2, 0.8], [1.0, 0.0]])), [1.0, 0.25, 0.0])
    np.testing.assert_allclose(certainty_ratio(np.array([[0.2, 0.5, 0.3]])), [0.6])
    with pytest.raises(ValueError, match=r"\[n, k>=2\]"):
        certainty_ratio(np.array([0.5, 0.5]))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.001, 1.0), min_size=2, max_size=5))
def test_certainty_ratio_in_unit_interval_and_scale_free(p: list[float]) -> None:
    P = np.array([p])
    r = certainty_ratio(P)
    assert 0.0 <= r[0] <= 1.0
    np.testing.assert_allclose(certainty_ratio(P / P.sum()), r)


def test_boundary_groups(model) -> None:
    X = np.array([[-1.0 / 6.0, 0.0, 0.0], [1.0, -1.0, 0.5], [-1.0, 1.0, 0.0]])  # z = 0, z = 3.75, z = -3.25
    np.testing.assert_array_equal(boundary_distance_groups(model, X), ["near", "far", "far"])
    groups = boundary_distance_groups(model, model.sample(200, np.random.default_rng(2)))
    assert {"near", "far"} == set(groups.tolist())
    with pytest.raises(ValueError, match="needs class probabilities"):
        boundary_distance_groups(get_model("linear_dummy"), np.zeros((1, 4)))
    with pytest.raises(ValueError, match="threshold=0"):
        boundary_distance_groups(model, X, threshold=0)
