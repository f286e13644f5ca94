"""Adapter behaviour beyond closed forms: library pitfalls, trees, text, images, targets, seeds, registry."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck import explainers
from xaicheck.explainers import MissingInputError
from xaicheck.explainers.captum_gradient import explained_module
from xaicheck.explainers.torch_utils import as_tensor, to_numpy
from xaicheck.synthetic_models import get_model

AGREED = """saliency input_x_gradient integrated_gradients deeplift deeplift_shap gradient_shap guided_backprop
deconvolution lrp occlusion feature_ablation feature_permutation shapley_value_sampling captum_kernel_shap captum_lime
smoothgrad smoothgrad_ig guided_gradcam layer_gradcam shap_exact shap_permutation shap_partition shap_kernel shap_tree
saabas shap_linear shap_deep shap_gradient lime_tabular lime_text permutation_importance impurity_importance
exact_baseline_shapley exact_interventional_shapley exact_banzhaf random constant zero""".split()


def test_every_agreed_name_is_registered_with_consistent_tags():
    names = set(explainers.explainer_names())
    assert set(AGREED) <= names
    for name in AGREED:
        exp = explainers.get_explainer(name)
        assert exp.library in ("captum", "shap", "lime", "scikit-learn", "xaicheck"), name
        caps = exp.capabilities
        assert not (caps.uses_baseline and caps.uses_background), name
        if caps.stochastic:
            assert exp.settings, f"{name} is stochastic but records no sample budget"


@pytest.mark.parametrize("name", ["integrated_gradients", "occlusion", "exact_baseline_shapley"])
def test_missing_baseline_is_an_error_not_a_silent_zero(name):
    with pytest.raises(MissingInputError, match="baseline"):
        explainers.get_explainer(name).explain(get_model("linear_dummy"), np.ones((1, 4)))


@pytest.mark.parametrize("name", ["shap_kernel", "deeplift_shap", "lime_tabular", "exact_interventional_shapley"])
def test_missing_background_is_an_error(name):
    with pytest.raises(MissingInputError, match="background"):
        explainers.get_explainer(name).explain(get_model("linear_dummy"), np.ones((1, 4)), baseline=np.zeros(4))


STOCHASTIC_ON_LINEAR = ["gradient_shap", "smoothgrad", "smoothgrad_ig", "shapley_value_sampling",
                        "captum_kernel_shap", "captum_lime", "feature_permutation", "shap_permutation", "shap_kernel",
                        "shap_gradient", "lime_tabular", "permutation_importance", "random"]


@pytest.mark.parametrize("name", STOCHASTIC_ON_LINEAR)
def test_stochastic_explainers_are_reproducible_for_a_seed(name):
    """Same seed -> identical output, on a nonlinear model where sampling matters (mlp_base)."""
    model = get_model("mlp_base")
    rng = np.random.default_rng(0)
    X, background, baseline = model.sample(2, rng), model.sample(40, rng), np.zeros(4)
    exp = explainers.get_explainer(name)
    assert exp.capabilities.stochastic
    run = lambda seed: exp.explain(model, X, baseline=baseline, background=background, seed=seed)  # noqa: E731
    np.testing.assert_array_equal(run(4), run(4))


def test_deeplift_is_complete_on_module_relus():
    """captum's own convergence delta is ~0 on an MLP built from nn.ReLU modules (Rescale rule applied)."""
    from captum.attr import DeepLift

    model = get_model("mlp_base")
    rng = np.random.default_rng(1)
    X, baseline = model.sample(4, rng), model.sample(1, rng)
    _, delta = DeepLift(explained_module(model, None)).attribute(
        as_tensor(X, requires_grad=True), baselines=as_tensor(np.repeat(baseline, 4, 0)),
        return_convergence_delta=True)
    assert np.max(np.abs(to_numpy(delta))) < 1e-10
    ours = explainers.get_explainer("deeplift").explain(model, X, baseline=baseline[0])
    np.testing.assert_allclose(ours.sum(1), model.predict(X) - model.predict(baseline), atol=1e-10)


def test_deeplift_on_functional_relu_silently_becomes_gradient_times_delta():
    """Same function, functional torch.relu: captum cannot hook the nonlinearity, so DeepLift returns
    ∇f(x) ⊙ (x - b) (the gradient at x, not the Rescale multipliers) and completeness breaks."""
    base, functional = get_model("mlp_base"), get_model("mlp_functional_relu")
    rng = np.random.default_rng(1)
    X, baseline = base.sample(6, rng), base.sample(1, rng)[0]
    np.testing.assert_allclose(functional.predict(X), base.predict(X), atol=1e-12)
    deeplift = explainers.get_explainer("deeplift")
    a_func = deeplift.explain(functional, X, baseline=baseline)
    grad = explainers.get_explainer("saliency").explain(functional, X)
    np.testing.assert_allclose(a_func, grad * (X - baseline), atol=1e-10)
    gap = np.abs(a_func.sum(1) - (functional.predict(X) - functional.predict(baseline)))
    assert gap.max() > 1e-3, "expected a completeness violation on the functional-relu twin"
    assert np.abs(deeplift.explain(base, X, baseline=baseline) - a_func).max() > 1e-3


def test_shap_deep_keeps_float64_and_matches_captum_deeplift_shap():
    """Both are DeepLIFT-Rescale averaged over the background: agreement to 1e-9 (float32 would leave ~1e-7)."""
    model = get_model("mlp_base")
    rng = np.random.default_rng(2)
    X, background = model.sample(3, rng), model.sample(8, rng)
    a = explainers.get_explainer("shap_deep").explain(model, X, background=background)
    b = explainers.get_explainer("deeplift_shap").explain(model, X, background=background)
    np.testing.assert_allclose(a, b, atol=1e-9)
    np.testing.assert_allclose(a.sum(1), model.predict(X) - model.predict(background).mean(), atol=1e-9)


def test_lrp_passes_relevance_through_reshape_modules():
    """image_patch ends in Flatten/Unflatten modules; relevance stays inside the known patch."""
    model = get_model("image_patch")
    X = model.sample(2, np.random.default_rng(3))
    a = explainers.get_explainer("lrp").explain(model, X)
    assert np.all(a[:, ~model.ground_truth.mask] == 0)
    assert np.all(np.abs(a[:, model.ground_truth.mask]).sum(1) > 0)


@pytest.mark.parametrize("model_name, module_type", [("logistic_two_class", "Softmax"),
                                                     ("product_x0x1", "PairwiseProducts")])
def test_lrp_refuses_modules_captum_has_no_rule_for(model_name, module_type):
    """captum's LRP would raise on these leaves; the cell is not applicable (named type), never a run-time error."""
    import torch
    from captum.attr import LRP

    model, lrp = get_model(model_name), explainers.get_explainer("lrp")
    X = model.sample(2, np.random.default_rng(0))
    with pytest.raises(TypeError, match="no rule defined"):  # what captum itself does on this module
        LRP(explained_module(model, 1 if model.n_outputs > 1 else None, fresh=True)).attribute(
            torch.as_tensor(X, dtype=torch.float64))
    assert lrp.can_explain(model) == (False, f"captum LRP has no rule for {module_type} in {model_name}")
    assert lrp.can_explain(model) is lrp.can_explain(model)  # cached per model name
    for ok_name in ("mlp_base", "image_patch"):  # ReLU MLP, and an image net with conv + reshape modules
        assert lrp.can_explain(get_model(ok_name)) == (True, "")
    assert explainers.get_explainer("saliency").can_explain(model) == (True, "")  # only LRP is restricted


def test_gradcam_is_upsampled_flattened_and_guided_gradcam_stays_in_patch():
    model = get_model("image_patch")
    X = model.sample(2, np.random.default_rng(4))
    cam = explainers.get_explainer("layer_gradcam").explain(model, X)
    assert cam.shape == (2, 64) and np.all(cam >= 0)
    guided = explainers.get_explainer("guided_gradcam").explain(model, X)
    assert np.all(guided[:, ~model.ground_truth.mask] == 0)  # guided backprop is zero off the patch
    ok, why = explainers.get_explainer("layer_gradcam").can_explain(get_model("linear_dummy"))
    assert not ok and "gradcam_layer_name" in why


def test_tree_explainers_on_cough_fever():
    """Lundberg et al. 2018, model A: shap_tree gives the symmetric function equal credit (and equals the exact
    interventional oracle); Saabas does not, but still sums to f(x) minus the root's mean."""
    model = get_model("tree_cough_fever")
    X = np.array([[1.0, 1.0]])
    background = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    tree = explainers.get_explainer("shap_tree").explain(model, X, background=background)
    oracle = explainers.get_explainer("exact_interventional_shapley").explain(model, X, background=background)
    np.testing.assert_allclose(tree, oracle, atol=1e-9)
    np.testing.assert_allclose(tree, [[30.0, 30.0]], atol=1e-9)  # 80 - 20 shared equally
    saabas = explainers.get_explainer("saabas").explain(model, X)
    root_mean = float(model.sklearn_estimator.tree_.value[0].ravel()[0])
    assert saabas.sum() == pytest.approx(80.0 - root_mean)
    assert abs(saabas[0, 0] - saabas[0, 1]) > 1.0


def test_impurity_importance_is_the_estimators_own():
    model = get_model("tree_cough_fever_10_90")
    got = explainers.get_explainer("impurity_importance").explain(model, np.zeros((3, 2)))
    np.testing.assert_array_equal(got, model.sklearn_estimator.feature_importances_[None, :])
    assert got.sum() == pytest.approx(1.0)


def test_permutation_importance_runs_on_a_tree_model():
    model = get_model("gbm_additive")
    background = model.sample(32, np.random.default_rng(5))
    got = explainers.get_explainer("permutation_importance").explain(model, background[:2], background=background)
    assert got.shape == (1, 4) and got[0, 3] == 0.0 and np.all(got[0, :3] > 0)


def test_lime_text_recovers_token_weights():
    """Removing a present token changes f by exactly its weight; absent tokens get 0."""
    model = get_model("token_sentiment")
    X = model.sample(2, np.random.default_rng(6))
    w, _ = model.linear_coefficients
    got = explainers.get_explainer("lime_text").explain(model, X, seed=0)
    np.testing.assert_allclose(got, np.asarray(w) * X, atol=0.05)
    assert np.all(got[X == 0] == 0)


@pytest.mark.parametrize("name", ["integrated_gradients", "occlusion", "shap_exact", "exact_baseline_shapley"])
def test_target_selects_the_output(name):
    """P(class 0) = 1 - P(class 1), so attributions of the two targets are exact negatives."""
    model = get_model("logistic_two_class")
    rng = np.random.default_rng(8)
    X, background, baseline = model.sample(2, rng), model.sample(4, rng), np.zeros(3)
    exp = explainers.get_explainer(name)
    with pytest.raises(MissingInputError, match="target"):
        exp.explain(model, X, baseline=baseline, background=background)
    a1 = exp.explain(model, X, baseline=baseline, background=background, target=1)
    a0 = exp.explain(model, X, baseline=baseline, background=background, target=0)
    np.testing.assert_allclose(a0, -a1, atol=1e-8)
    assert np.abs(a1).max() > 1e-3


def test_library_limits_are_not_applicable_with_a_reason():
    one_d, image = get_model("one_minus_relu"), get_model("image_patch")
    for name, model in [("captum_kernel_shap", one_d), ("shap_partition", one_d), ("shap_exact", image),
                        ("exact_baseline_shapley", image)]:
        ok, why = explainers.get_explainer(name).can_explain(model)
        assert not ok and why, name


@pytest.mark.parametrize("name", ["deeplift_shap", "shap_partition", "shap_exact", "shap_kernel"])
def test_one_row_background_equals_that_baseline(name):
    """A one-row background is a baseline: captum's DeepLiftShap (which refuses one row) and shap's correlation
    clustering (undefined on one row) must still give the baseline Shapley values of AND (0.5, 0.5)."""
    got = explainers.get_explainer(name).explain(get_model("and"), np.array([[1.0, 1.0]]),
                                                 background=np.array([[0.0, 0.0]]))
    np.testing.assert_allclose(got, [[0.5, 0.5]], atol=1e-9)


def test_partition_clustering_falls_back_to_feature_index_only_when_undefined():
    from xaicheck.explainers.shap_adapters import partition_clustering

    rng = np.random.default_rng(9)
    _, kind = partition_clustering(rng.uniform(size=(20, 3)), seed=0)
    assert kind == "correlation"
    link, kind = partition_clustering(np.zeros((1, 3)), seed=0)
    assert kind == "feature_index" and link.shape == (2, 4) and np.all(np.isfinite(link))


def test_captum_lime_similarity_is_captums_bit_for_bit() -> None:
    """``exp_cosine_similarity`` gives the very float captum's default LIME kernel gives, draw after draw."""
    import torch
    from captum.attr._core.lime import get_exp_kernel_similarity_function

    from xaicheck.explainers.captum_perturbation import exp_cosine_similarity

    rng = np.random.default_rng(0)
    for d in (1, 2, 5, 16, 64):
        ours, theirs = exp_cosine_similarity(), get_exp_kernel_similarity_function()
        for scale in (1e-3, 1.0, 1e3):
            x = torch.tensor(rng.normal(size=(1, d)) * scale, dtype=torch.float64)
            for _ in range(50):
                keep = torch.tensor(rng.integers(0, 2, size=(1, d)), dtype=torch.float64)
                z = keep * x + (1 - keep) * torch.tensor(rng.normal(size=(1, d)), dtype=torch.float64)
                assert ours(x, z, None) == theirs(x, z, None)
