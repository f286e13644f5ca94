"""The tree zoo's two declared truths: path-dependent Shapley values (leaf-by-leaf closed form) equal the
enumeration of the cover-weighted game and shap's tree_path_dependent output; the last feature is an exact dummy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.tree_path_shapley import _shapley_from_game, path_dependent_game, path_dependent_shapley
from xaicheck.synthetic_models.tree_zoo import TREE_ZOO

DEFAULT = [s.name for s in TREE_ZOO if "default" in s.tiers]


def _small_ensembles():
    from lightgbm import LGBMRegressor
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
    from xgboost import XGBRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 5))
    y = X[:, 0] * X[:, 1] + np.sin(3 * X[:, 2]) + 0.3 * X[:, 3]
    yc = (y > 0).astype(int)
    return X, [XGBRegressor(n_estimators=8, max_depth=3, n_jobs=1, random_state=0).fit(X, y),
               LGBMRegressor(n_estimators=8, num_leaves=8, verbose=-1, random_state=0).fit(X, y),
               RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0).fit(X, y),
               RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, yc),
               GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0).fit(X, yc)]


def test_closed_form_equals_enumeration_of_the_cover_weighted_game():
    X, ests = _small_ensembles()
    for est in ests:
        P = path_dependent_shapley(est, X[:6])
        G = _shapley_from_game(path_dependent_game(est, X[:6]), 5)
        np.testing.assert_allclose(P, G, atol=1e-12, err_msg=type(est).__name__)
        assert np.abs(P).max() > 0.05


@pytest.mark.parametrize("name", DEFAULT)
def test_zoo_truths_match_shap_path_dependent_and_differ_from_interventional(name):
    import shap

    from xaicheck.synthetic_models.shapley import interventional_shapley

    model = get_model(name)
    X = model.sample(4, np.random.default_rng(0))
    P = model.path_dependent_shapley(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sv = np.asarray(shap.TreeExplainer(model.sklearn_estimator,
                                           feature_perturbation="tree_path_dependent").shap_values(X))
    sv = sv[..., 1] if sv.ndim == 3 else sv
    np.testing.assert_allclose(P, sv, atol=1e-6 * np.abs(P).max())  # xgboost: float32 leaves
    # efficiency: the path-dependent values sum to f(x) - E_cover[f]
    I = interventional_shapley(model.predict, X, model.sample(4, np.random.default_rng(1)))
    assert np.abs(P - I).max() > 0.05 * np.abs(P).max()  # two different truths, hence two axes


@pytest.mark.parametrize("name", DEFAULT)
def test_last_feature_is_an_exact_dummy_and_the_fit_is_deterministic(name):
    from xaicheck.synthetic_models.tree_zoo import fit_tree_model

    model = get_model(name)
    X = model.sample(32, np.random.default_rng(3))
    Y = X.copy()
    Y[:, -1] = np.random.default_rng(4).uniform(-5, 5, len(X))
    np.testing.assert_array_equal(model.predict(X), model.predict(Y))
    assert model.n_features - 1 in model.ground_truth.dummy
    again = fit_tree_model(next(s for s in TREE_ZOO if s.name == name))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
