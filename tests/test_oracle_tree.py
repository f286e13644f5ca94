"""Interventional TreeSHAP (leaf by leaf) equals the enumeration to 1e-12: Shapley and Banzhaf, baseline and
interventional games, on random regression trees, forests and gradient boosting, and on the registry's tree models."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.synthetic_models import get_model, shapley
from xaicheck.synthetic_models.tree_shapley import tree_terms, tree_values

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.max(np.abs(a - b), initial=0.0) <= 1e-12 * max(1.0, float(np.max(np.abs(b), initial=0.0))))


def enumerated(predict, X: np.ndarray, R: np.ndarray, index: str) -> np.ndarray:
    W = shapley.shapley_weights if index == "shapley" else shapley.banzhaf_weights
    if R.shape[0] == 1:
        V = shapley.interventional_values(predict, X, R[0])
    else:
        V = np.concatenate([shapley.interventional_values(predict, X[k:k + 1], R[k]) for k in range(X.shape[0])])
    return V @ W(X.shape[1])


def fitted(kind: str, d: int, seed: int, integer: bool):
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(60, d)).astype(float) if integer else rng.normal(size=(60, d))
    y = np.sin(X @ rng.normal(size=d)) + X[:, 0] * X[:, -1]
    est = {"tree": DecisionTreeRegressor(max_depth=5, random_state=seed),
           "forest": RandomForestRegressor(n_estimators=4, max_depth=4, random_state=seed),
           "gbm": GradientBoostingRegressor(n_estimators=6, max_depth=3, random_state=seed)}[kind]
    return est.fit(X, y), rng


@pytest.mark.parametrize("kind", ["tree", "forest", "gbm"])
@pytest.mark.parametrize("index", ["shapley", "banzhaf"])
def test_tree_values_equal_enumeration(kind: str, index: str) -> None:
    @SETTINGS
    @given(st.integers(1, 5), st.integers(0, 2**16), st.booleans())
    def run(d: int, seed: int, integer: bool) -> None:
        est, rng = fitted(kind, d, seed, integer)
        terms = tree_terms(est)
        assert terms is not None
        draw = (lambda *s: rng.integers(0, 3, size=s).astype(float)) if integer else (lambda *s: rng.normal(size=s))
        X, Z = draw(3, d), draw(5, d)
        X[0] = Z[0]  # an instance equal to a reference row: ties on every threshold
        for R in (Z[None], draw(3, d)[:, None, :], Z[:1][None]):  # background, baseline per row, one baseline
            assert close(tree_values(terms, X, R, index), enumerated(est.predict, X, R, index))

    run()


@pytest.mark.parametrize("name", ["tree_cough_fever", "tree_cough_fever_10_90", "gbm_additive"])
def test_registry_tree_models(name: str) -> None:
    model = get_model(name)
    terms = tree_terms(model.sklearn_estimator)
    assert terms is not None
    X = model.sample(6, np.random.default_rng(0))
    Z = model.sample(7, np.random.default_rng(1))
    assert close(tree_values(terms, X, Z[None]), shapley.interventional_shapley(model.predict, X, Z))
    assert close(tree_values(terms, X, Z[:1][None]), shapley.baseline_shapley(model.predict, X, Z[0]))


def test_lundberg_model_a_tree() -> None:
    """Lundberg et al. 2018, model A as a tree: x = (1, 1), baseline 0 -> phi = (40, 40)."""
    model = get_model("tree_cough_fever")
    phi = tree_values(tree_terms(model.sklearn_estimator), np.ones((1, 2)), np.zeros((1, 1, 2)))
    assert np.allclose(phi, [[40.0, 40.0]], atol=1e-12)


def test_classifiers_are_not_tree_sums() -> None:
    from sklearn.tree import DecisionTreeClassifier

    clf = DecisionTreeClassifier().fit(np.eye(3), [0, 1, 1])
    assert tree_terms(clf) is None
