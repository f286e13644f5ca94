"""Trained family: trees reproduce truth tables; Lundberg 2018 Fig. 1 numbers; fitted models keep exact dummies."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.shapley import baseline_shapley, interventional_shapley
from xaicheck.synthetic_models.trained import TRUTH_TABLE, _train_mlp, fit_exact_tree, regression_error

TREES = ["tree_cough_fever", "tree_cough_fever_10_90"]
ALL = TREES + ["gbm_additive", "mlp_trained_additive"]


def _saabas(tree, x: np.ndarray) -> np.ndarray:
    """Path attribution (Saabas): each split on the decision path credits its feature with the change of node mean."""
    t = tree.tree_
    phi = np.zeros(t.n_features)
    node = 0
    while t.children_left[node] != -1:
        f = t.feature[node]
        child = t.children_left[node] if x[f] <= t.threshold[node] else t.children_right[node]
        phi[f] += t.value[child].item() - t.value[node].item()
        node = child
    return phi


@pytest.mark.parametrize("name", TREES)
def test_trees_reproduce_truth_tables(name: str) -> None:
    model = get_model(name)
    np.testing.assert_array_equal(model.predict(TRUTH_TABLE), model.true_function(TRUTH_TABLE))
    assert model.is_tree_model and model.forms >= {"tree", "sklearn"}
    assert model.model_error["mse"] == 0.0
    assert model.feature_names == ("cough", "fever")


@pytest.mark.parametrize("name", TREES)
def test_trees_match_the_logic_zoo_functions(name: str) -> None:
    from xaicheck.synthetic_models import model_names

    logic_name = name.removeprefix("tree_")
    if logic_name not in model_names():
        pytest.skip(f"logic_zoo model {logic_name!r} not registered")
    logic = get_model(logic_name)
    assert logic.feature_names == get_model(name).feature_names
    np.testing.assert_array_equal(get_model(name).predict(TRUTH_TABLE), logic.predict(TRUTH_TABLE))


def test_split_order_matches_lundberg_fig1() -> None:
    assert get_model("tree_cough_fever").sklearn_estimator.tree_.feature[0] == 1  # Fever at the root (model A)
    assert get_model("tree_cough_fever_10_90").sklearn_estimator.tree_.feature[0] == 0  # Cough at the root (B)


def test_saabas_inconsistency_and_shap_values_of_fig1() -> None:
    x = np.array([1.0, 1.0])
    tree_a = get_model("tree_cough_fever")
    tree_b = get_model("tree_cough_fever_10_90")
    np.testing.assert_allclose(_saabas(tree_a.sklearn_estimator, x), [40.0, 20.0])  # (cough, fever)
    np.testing.assert_allclose(_saabas(tree_b.sklearn_estimator, x), [25.0, 40.0])  # cough drops: inconsistent
    np.testing.assert_allclose(interventional_shapley(tree_a.predict, x, TRUTH_TABLE), [[30.0, 30.0]])
    np.testing.assert_allclose(interventional_shapley(tree_b.predict, x, TRUTH_TABLE), [[35.0, 30.0]])


@pytest.mark.parametrize("name", TREES)
def test_tree_closed_form_equals_oracle_on_binary_inputs(name: str) -> None:
    model = get_model(name)
    for b in TRUTH_TABLE:
        expected = baseline_shapley(model.predict, TRUTH_TABLE, b)
        np.testing.assert_allclose(model.ground_truth.exact_attribution(TRUTH_TABLE, b), expected, atol=1e-12)
        np.testing.assert_allclose(baseline_shapley(model.true_function, TRUTH_TABLE, b), expected, atol=1e-12)


def test_fit_exact_tree_refuses_impossible_root() -> None:
    y = 80 * TRUTH_TABLE[:, 0] * TRUTH_TABLE[:, 1] + 10 * TRUTH_TABLE[:, 0]
    with pytest.raises(RuntimeError, match="root"):
        fit_exact_tree(y, root_feature=1, max_seeds=8)  # Fever is strictly worse at the root of model B


def test_gbm_additive_dummy_and_error() -> None:
    model = get_model("gbm_additive")
    assert model.ground_truth.dummy == frozenset({3}) and model.ground_truth.relevant == frozenset({0, 1, 2})
    rng = np.random.default_rng(0)
    X = model.sample(50, rng)
    Y = X.copy()
    Y[:, 3] = rng.uniform(-2, 2, size=50)
    np.testing.assert_array_equal(model.predict(Y), model.predict(X))
    assert model.model_error["r2"] > 0.9
    truth = model.true_function(X)
    assert regression_error(model.predict(X), truth)["mse"] < 0.2
    np.testing.assert_allclose(model.true_ground_truth.exact_attribution(X[:3], X[3]),
                               baseline_shapley(model.true_function, X[:3], X[3]), atol=1e-12)


def test_mlp_trained_additive_torch_form_dummy_and_determinism() -> None:
    model = get_model("mlp_trained_additive")
    X = model.sample(64, np.random.default_rng(1))
    module = model.torch_module()
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.as_tensor(X)).numpy(), model.predict(X), atol=1e-12)
    first = next(m for m in module.modules() if isinstance(m, torch.nn.Linear))
    assert torch.all(first.weight[:, 3] == 0)
    assert model.model_error["r2"] > 0.99
    again = _train_mlp(0, 256, 300, 16)
    with torch.no_grad():
        np.testing.assert_array_equal(again(torch.as_tensor(X)).numpy(), model.predict(X))
    module(torch.as_tensor(X)).sum().backward()  # a fresh copy: gradients flow, the cached model is untouched
    assert model.torch_module() is not module


@pytest.mark.parametrize("name", ALL)
def test_spec_and_error_are_json(name: str) -> None:
    model = get_model(name)
    json.dumps({"spec": model.spec(), "model_error": model.model_error})
