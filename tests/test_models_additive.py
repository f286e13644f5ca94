"""Additive family: closed-form ground truth against the exact Shapley oracle; numpy and torch forms agree."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.additive import PAIRWISE_TERMS, linear_model
from xaicheck.synthetic_models.shapley import baseline_shapley

NAMES = ["linear_dummy", "additive_nonlinear", "product_x0x1", "min_max", "pairwise_interactions", "symmetric_sum"]


def _torch_predict(model, X: np.ndarray) -> np.ndarray:
    module = model.torch_module()
    with torch.no_grad():
        return module(torch.as_tensor(X, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("name", NAMES)
def test_torch_form_equals_numpy(name: str) -> None:
    model = get_model(name)
    X = model.sample(64, np.random.default_rng(0))
    X = np.vstack([X, 3.0 * X[:8]])  # also outside the sampling range
    out = _torch_predict(model, X)
    assert out.shape == (X.shape[0],)
    np.testing.assert_allclose(out, model.predict(X), rtol=0, atol=1e-9)
    assert "torch" in model.forms


@pytest.mark.parametrize("name", NAMES)
def test_closed_form_equals_exact_baseline_shapley(name: str) -> None:
    model = get_model(name)
    rng = np.random.default_rng(1)
    X = model.sample(6, rng)
    for B in (model.sample(1, rng)[0], model.sample(6, rng)):  # one shared baseline, and one per row
        oracle = baseline_shapley(model.predict, X, B)
        np.testing.assert_allclose(model.ground_truth.exact_attribution(X, B), oracle, atol=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_dummy_features_never_change_the_output(name: str) -> None:
    model = get_model(name)
    gt = model.ground_truth
    assert gt.relevant | gt.dummy == frozenset(range(model.n_features))
    rng = np.random.default_rng(2)
    X = model.sample(32, rng)
    for j in gt.dummy:
        Y = X.copy()
        Y[:, j] = rng.normal(size=len(Y)) * 5
        np.testing.assert_array_equal(model.predict(Y), model.predict(X))
    for j in gt.relevant:
        Y = X.copy()
        Y[:, j] = rng.uniform(-1, 1, size=len(Y))
        assert np.any(model.predict(Y) != model.predict(X)), f"feature {j} of {name} never matters"


@pytest.mark.parametrize("name", NAMES)
def test_symmetric_groups_are_symmetries(name: str) -> None:
    model = get_model(name)
    X = model.sample(32, np.random.default_rng(3))
    for group in model.ground_truth.symmetric_groups:
        i, j = sorted(group)[:2]
        Y = X.copy()
        Y[:, [i, j]] = X[:, [j, i]]
        np.testing.assert_allclose(model.predict(Y), model.predict(X), atol=1e-12)
    json.dumps(model.spec())


def test_linear_dummy_is_exactly_as_agreed() -> None:
    model = get_model("linear_dummy")
    w, b = model.linear_coefficients
    np.testing.assert_array_equal(w, [2.0, -1.0, 0.5, 0.0])
    assert b == 0.3
    assert model.ground_truth.dummy == frozenset({3})
    assert model.forms >= {"callable", "torch", "linear"}
    np.testing.assert_allclose(model.predict(np.ones((1, 4))), [1.8])
    module = model.torch_module()
    assert any(isinstance(m, torch.nn.Linear) for m in module.modules())


def test_symmetric_sum_group() -> None:
    model = get_model("symmetric_sum")
    assert model.ground_truth.symmetric_groups == (frozenset({0, 1}),)
    assert model.n_features == 3


def test_interactions_declared() -> None:
    assert set(get_model("pairwise_interactions").ground_truth.interactions) == {frozenset(p) for p in PAIRWISE_TERMS}
    assert get_model("product_x0x1").ground_truth.interactions == (frozenset({0, 1}),)


def test_min_max_torch_uses_relu_modules() -> None:
    module = get_model("min_max").torch_module()
    assert any(isinstance(m, torch.nn.ReLU) for m in module.modules())


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    w=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=5),
    b=st.floats(-2, 2, allow_nan=False),
)
def test_linear_model_factory(w: list[float], b: float) -> None:
    model = linear_model(w, b, name="tmp_linear")
    rng = np.random.default_rng(4)
    X, B = model.sample(4, rng), model.sample(1, rng)[0]
    np.testing.assert_allclose(model.ground_truth.exact_attribution(X, B), baseline_shapley(model.predict, X, B),
                               atol=1e-9)
    np.testing.assert_allclose(_torch_predict(model, X), model.predict(X), atol=1e-9)
    assert model.ground_truth.dummy == frozenset(i for i, wi in enumerate(w) if wi == 0)


def test_linear_model_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="weight"):
        linear_model([np.nan, 1.0], name="bad")
    with pytest.raises(ValueError, match="feature names"):
        linear_model([1.0, 2.0], name="bad", feature_names=["a"])
