"""xgboost / lightgbm model forms and their explainers: importances re-derived from the tree dumps, Tree SHAP
(interventional and path-dependent) against the exact Shapley oracle, and the importances judged against it."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck import explainers
from xaicheck.axioms.base import cases_of, get_check
from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.shapley import interventional_shapley
from xaicheck.synthetic_models.trained import TRUTH_TABLE

BOOSTED = ["xgboost_mixed", "lightgbm_mixed", "xgboost_cough_fever_10_90", "lightgbm_cough_fever_10_90"]


def gt_case(model_name: str):
    return next(c for c in cases_of(get_check("ground_truth_agreement")) if c.name == model_name)


@pytest.mark.parametrize("name", BOOSTED)
def test_boosted_models_fit_their_function_and_keep_the_dummy(name):
    model = get_model(name)
    assert model.forms >= {"callable", "sklearn", "tree"}
    assert model.model_error["r2"] > 0.99
    if name.endswith("mixed"):
        assert model.ground_truth.dummy == frozenset({3})  # x3 constant in training: never split on
        X = model.sample(50, np.random.default_rng(0))
        X2 = X.copy()
        X2[:, 3] = -X2[:, 3]
        np.testing.assert_array_equal(model.predict(X), model.predict(X2))


def test_boosted_models_are_deterministic():
    from xaicheck.synthetic_models.boosted import _mixed

    X = get_model("xgboost_mixed").sample(20, np.random.default_rng(1))
    for library in ("xgboost", "lightgbm"):
        assert _mixed(library).predict(X).tobytes() == get_model(f"{library}_mixed").predict(X).tobytes()


def test_xgboost_importances_match_the_tree_dump():
    """weight = #splits on i, total_gain = Σ split gains, gain = mean gain, (total_)cover likewise (Chen & Guestrin
    2016), re-derived from ``trees_to_dataframe``; features never split on get 0."""
    model = get_model("xgboost_mixed")
    df = model.sklearn_estimator.get_booster().trees_to_dataframe()
    splits = df[df["Feature"] != "Leaf"]
    by = splits.groupby("Feature")
    expected = {
        "weight": by.size(), "total_gain": by["Gain"].sum(), "gain": by["Gain"].mean(),
        "total_cover": by["Cover"].sum(), "cover": by["Cover"].mean(),
    }
    X = model.sample(3, np.random.default_rng(0))
    for kind, series in expected.items():
        A = explainers.get_explainer(f"xgboost_{kind}").explain(model, X)
        ref = np.array([series.get(f"f{i}", 0.0) for i in range(4)], dtype=np.float64)
        np.testing.assert_allclose(A[0], ref, rtol=1e-5, err_msg=kind)
        assert A[0, 3] == 0.0


def test_lightgbm_importances_match_the_tree_dump():
    model = get_model("lightgbm_mixed")
    df = model.sklearn_estimator.booster_.trees_to_dataframe()
    splits = df[df["split_feature"].notna()]
    by = splits.groupby("split_feature")
    X = model.sample(3, np.random.default_rng(0))
    for kind, series in {"split": by.size(), "gain": by["split_gain"].sum()}.items():
        A = explainers.get_explainer(f"lightgbm_{kind}").explain(model, X)
        ref = np.array([series.get(f"Column_{i}", 0.0) for i in range(4)], dtype=np.float64)
        np.testing.assert_allclose(A[0], ref, rtol=1e-9, err_msg=kind)


def test_importances_only_apply_to_their_own_library():
    assert not explainers.get_explainer("xgboost_gain").can_explain(get_model("lightgbm_mixed"))[0]
    assert not explainers.get_explainer("lightgbm_gain").can_explain(get_model("gbm_additive"))[0]
    assert not explainers.get_explainer("saabas").can_explain(get_model("lightgbm_mixed"))[0]
    assert explainers.get_explainer("xgboost_weight").library_version not in ("not installed", "dev")


@pytest.mark.parametrize("name", BOOSTED)
def test_interventional_tree_shap_is_the_exact_shapley_value_of_the_trees(name):
    """shap's interventional Tree SHAP on the booster equals Shapley values by enumeration of every coalition of
    ``v(S) = mean_z f(x_S, z_~S)`` (the project's oracle), up to the booster's float32 predictions."""
    model = get_model(name)
    rng = np.random.default_rng(2)
    X, bg = (TRUTH_TABLE, TRUTH_TABLE) if model.domain == "binary" else (model.sample(6, rng), model.sample(12, rng))
    A = explainers.get_explainer("shap_tree").explain(model, X, background=bg)
    R = interventional_shapley(model.predict, X, bg)
    np.testing.assert_allclose(A, R, atol=1e-5 * np.abs(R).max())


@pytest.mark.parametrize("name", ["xgboost_cough_fever_10_90", "lightgbm_cough_fever_10_90"])
def test_path_dependent_tree_shap_is_interventional_shapley_over_uniform_training_data(name):
    """Boosted on the uniform truth table, node covers are the uniform distribution, so path-dependent Tree SHAP
    (Lundberg, Erion & Lee 2018) equals interventional Shapley over the truth table."""
    model = get_model(name)
    A = explainers.get_explainer("shap_tree_path_dependent").explain(model, TRUTH_TABLE)
    np.testing.assert_allclose(A, interventional_shapley(model.predict, TRUTH_TABLE, TRUTH_TABLE), atol=1e-3)


def test_path_dependent_tree_shap_is_not_interventional_off_the_training_distribution():
    """On the mixed models the trees' covers come from training data where x3 = 0 and x0, x1, x2 vary; against
    a fresh background the two games differ (they are two different Shapley values, not one estimate)."""
    model = get_model("xgboost_mixed")
    rng = np.random.default_rng(3)
    X, bg = model.sample(4, rng), model.sample(16, rng)
    A = explainers.get_explainer("shap_tree_path_dependent").explain(model, X)
    assert np.abs(A - interventional_shapley(model.predict, X, bg)).max() > 0.01
    assert np.all(A[:, 3] == 0.0)


def test_gain_is_inconsistent_where_exact_shapley_is_not_lundberg_model_b():
    """Lundberg 2018 model B, boosted: Cough matters more (mean |φ| 25 vs 20) but gain ranks Fever first, so
    ``xgboost_gain`` / ``lightgbm_gain`` score 0 and the split count (a tie) 0; cover and Tree SHAP score 1."""
    check = get_check("ground_truth_agreement")
    for library, bad, good in (("xgboost", ("gain", "total_gain", "weight"), ("cover", "total_cover")),
                               ("lightgbm", ("gain", "split"), ())):
        case = gt_case(f"{library}_cough_fever_10_90")
        for kind in bad:
            res = check.run(explainers.get_explainer(f"{library}_{kind}"), case)
            assert not res.passed and res.score == 0.0, res.message
        for kind in good:
            res = check.run(explainers.get_explainer(f"{library}_{kind}"), case)
            assert res.passed and res.score == pytest.approx(1.0), res.message
        for name in ("shap_tree", "shap_tree_path_dependent"):
            res = check.run(explainers.get_explainer(name), case)
            assert res.passed and res.score == pytest.approx(1.0), res.message


def test_split_count_ranks_a_binary_feature_below_continuous_ones():
    """xgboost_mixed: x0 (binary) has the largest mean |φ| but one split per tree; weight ranks it last, total gain
    ranks it first (and passes)."""
    check = get_check("ground_truth_agreement")
    case = gt_case("xgboost_mixed")
    weight = explainers.get_explainer("xgboost_weight").explain(get_model("xgboost_mixed"), case.X)[0]
    assert np.argmin(weight[:3]) == 0
    assert check.run(explainers.get_explainer("xgboost_total_gain"), case).passed
    assert not check.run(explainers.get_explainer("xgboost_weight"), case).passed
