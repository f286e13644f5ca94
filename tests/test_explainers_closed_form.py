"""Every registered explainer against closed forms: the linear model ``linear_dummy`` and the boolean ``and``.

Linear f(x) = w·x + b (w = [2, -1, 0.5, 0]): baseline methods must give w (x - b'), background methods
w (x - mean(background)) (the interventional Shapley value), gradients w, x-times-gradient and LRP-ε w x.
Deterministic methods must match to 1e-6; sampling methods within 5 standard deviations of their Monte-Carlo error
(derived per method below) or a stated absolute tolerance (LIME).

Boolean AND = relu(x0 + x1 - 1) at x = (1, 1), baseline (0, 0), background = the four corners:
baseline Shapley (0.5, 0.5), interventional Shapley (0.375, 0.375), leave-one-out (1, 1), gradient (1, 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck import explainers
from xaicheck.explainers.degenerate import input_rng
from xaicheck.synthetic_models import get_model

LINEAR = "linear_dummy"

# explainer -> (closed form, tolerance rule); "mc:<n>:<noise>" = Monte-Carlo tolerance, see _tolerance
LINEAR_EXPECTED: dict[str, tuple[str, str]] = {
    "exact_baseline_shapley": ("baseline", "exact"),
    "exact_banzhaf": ("baseline", "exact"),
    "integrated_gradients": ("baseline", "exact"),
    "deeplift": ("baseline", "exact"),
    "occlusion": ("baseline", "float32"),
    "feature_ablation": ("baseline", "exact"),
    "shapley_value_sampling": ("baseline", "float32"),  # exact for additive f whatever the permutations
    "captum_kernel_shap": ("baseline", "float32"),  # linear in the binary coalition vector: regression exact
    "captum_lime": ("baseline", "float32"),  # unregularised least squares on an exactly linear response
    "smoothgrad_ig": ("baseline", "mc_input_noise"),
    "exact_interventional_shapley": ("background", "exact"),
    "deeplift_shap": ("background", "exact"),
    "feature_permutation": ("background", "exact"),  # all 16 background rows are used (<= max_draws)
    "shap_exact": ("background", "exact"),
    "shap_permutation": ("background", "exact"),
    "shap_partition": ("background", "exact"),  # Owen values = Shapley values for additive f
    "shap_kernel": ("background", "exact"),
    "shap_linear": ("background", "exact"),
    "shap_deep": ("background", "exact"),
    "gradient_shap": ("background", "mc_background"),
    "shap_gradient": ("background", "mc_background"),
    "lime_tabular": ("background", "lime"),
    "saliency": ("gradient", "exact"),
    "guided_backprop": ("gradient", "exact"),
    "deconvolution": ("gradient", "exact"),
    "smoothgrad": ("gradient", "exact"),  # the gradient of a linear f is constant
    "input_x_gradient": ("x_gradient", "exact"),
    "lrp": ("x_gradient", "exact"),  # epsilon rule: the bias absorbs its share, R_i = w_i x_i
    # LRP-0 without bias in the denominator: R_i = w_i x_i f / (w·x); the other rules: tests/test_explainers_settings
    "lrp_0": ("x_gradient_rescaled", "exact"),
    "lrp_epsilon": ("lrp_epsilon", "exact"),
    "lrp_gamma": ("lrp_gamma", "exact"),
    "guided_ig": ("baseline", "exact"),  # any monotone path integrates a constant gradient to w (x - b)
    "zero": ("zero", "exact"),
    "constant": ("ones", "exact"),
    "identity": ("identity", "exact"),
    "exact_if_small": ("baseline", "exact"),  # d = 4: the exact branch
}
#: Degenerate controls whose output is noise or a trick rather than a closed form (tested in test_degenerate_panel).
NO_CLOSED_FORM = {"random", "seeded_noise", "huge_feature", "memoiser", "ground_truth_reader", "gradient_sign",
                  "split_equally"}
#: LIME's surrogate is fitted on 1000 random neighbours with Ridge(alpha=1): measured error ~5e-3 on this model.
LIME_TOL = 0.05
EXACT_TOL = 1e-6
#: captum casts the Lime/KernelSHAP regression data to float32 (captum/attr/_core/lime.py, ``.float()``) and
#: accumulates some perturbation results in float32: measured errors up to ~6e-7 on this model.
FLOAT32_TOL = 1e-5


@pytest.fixture(scope="module")
def linear_case():
    model = get_model(LINEAR)
    rng = np.random.default_rng(7)
    background = model.sample(16, rng)
    X = model.sample(2, rng)
    baseline = model.sample(1, rng)[0]
    w, _ = model.linear_coefficients
    return model, X, baseline, background, np.asarray(w)


def _expected(form: str, X, baseline, background, w) -> np.ndarray:
    B = get_model(LINEAR).linear_coefficients[1]
    return {
        "baseline": w * (X - baseline),
        "background": w * (X - background.mean(axis=0)),
        "gradient": np.broadcast_to(w, X.shape),
        "x_gradient": w * X,
        "x_gradient_rescaled": w * X * ((X @ w + B) / (X @ w))[:, None],
        "lrp_epsilon": w * X * ((X @ w + B) / (X @ w + B + 0.25 * np.sign(X @ w + B)))[:, None],
        "lrp_gamma": (w + 0.25 * np.maximum(w, 0)) * X
        * ((X @ w + B) / (X @ (w + 0.25 * np.maximum(w, 0)) + B))[:, None],
        "zero": np.zeros(X.shape),
        "ones": np.ones(X.shape),
        "identity": X - baseline,
    }[form]


def _tolerance(name: str, rule: str, X, background, w) -> np.ndarray | float:
    exp = explainers.get_explainer(name)
    if rule == "exact":
        return EXACT_TOL
    if rule == "float32":
        return FLOAT32_TOL
    if rule == "lime":
        return LIME_TOL
    if rule == "mc_background":  # mean over n draws z ~ background of w (x - z): sd = |w| sd(z) / sqrt(n)
        n = exp.settings.get("n_samples", exp.settings.get("nsamples"))
        return 5 * np.abs(w) * background.std(axis=0) / np.sqrt(n) + EXACT_TOL
    if rule == "mc_input_noise":  # mean over n noisy copies of w (x + eps - b): sd = |w| stdev / sqrt(n)
        return 5 * np.abs(w) * exp.settings["stdevs"] / np.sqrt(exp.settings["nt_samples"]) + EXACT_TOL
    raise AssertionError(rule)


def test_every_applicable_local_explainer_has_a_linear_closed_form(linear_case):
    model = linear_case[0]
    local = {e.name for e in explainers.all_explainers()
             if e.can_explain(model)[0] and e.capabilities.scope == "local" and e.name not in NO_CLOSED_FORM
             and e.capabilities.interaction_order < 2}  # interaction indices: tests/test_interaction_checks.py
    assert local == set(LINEAR_EXPECTED)


@pytest.mark.parametrize("name", sorted(LINEAR_EXPECTED))
def test_linear_closed_form(name, linear_case):
    model, X, baseline, background, w = linear_case
    form, rule = LINEAR_EXPECTED[name]
    got = explainers.get_explainer(name).explain(model, X, baseline=baseline, background=background, seed=3)
    err = np.abs(got - _expected(form, X, baseline, background, w))
    tol = _tolerance(name, rule, X, background, w)
    assert np.all(err <= tol), f"{name}: max error {err.max():.3g} > tolerance {np.max(tol):.3g}\n{got}"


def test_random_control_is_seeded_standard_normal(linear_case):
    model, X, *_ = linear_case
    exp = explainers.get_explainer("random")
    a, b = exp.explain(model, X, seed=11), exp.explain(model, X, seed=11)
    np.testing.assert_array_equal(a, b)
    rng, unit = input_rng(model, X, None, 11)
    np.testing.assert_array_equal(a, unit * rng.standard_normal(X.shape))
    assert not np.array_equal(a, exp.explain(model, X, seed=12))
    assert not np.array_equal(a, exp.explain(model, X + 0.5, seed=11)[:, :])  # redrawn per input, not per shape


def test_permutation_importance_on_linear(linear_case):
    """E[I_i] = 2 w_i^2 Var(z_i) m/(m-1): zero for the dummy, ordered like w_i^2 Var(z_i) here."""
    model, X, baseline, background, w = linear_case
    got = explainers.get_explainer("permutation_importance").explain(model, X, background=background, seed=0)
    assert got.shape == (1, 4)
    assert got[0, 3] == 0.0
    expected = 2 * w**2 * background.var(axis=0) * 16 / 15
    assert np.argsort(-got[0])[:3].tolist() == np.argsort(-expected)[:3].tolist()
    np.testing.assert_allclose(got[0], expected, rtol=0.6, atol=1e-12)


AND_X = np.array([[1.0, 1.0]])
AND_BASELINE = np.zeros(2)
AND_BACKGROUND = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND_EXPECTED: dict[str, tuple[float, float]] = {  # (value per feature, tolerance)
    "exact_baseline_shapley": (0.5, 1e-9),
    "exact_banzhaf": (0.5, 1e-9),
    "deeplift": (0.5, 1e-9),  # rescale rule: Δrelu / Δinput = 1/2 per unit path
    "integrated_gradients": (0.5, 0.02),  # piecewise-constant integrand: quadrature error O(1/n_steps)
    "smoothgrad_ig": (0.5, 0.1),
    "captum_kernel_shap": (0.5, 0.05),
    "shapley_value_sampling": (0.5, 0.3),  # a fraction k/32 of the two orders; sum is exact (below)
    "occlusion": (1.0, 1e-9),
    "feature_ablation": (1.0, 1e-9),
    "saliency": (1.0, 1e-9),
    "input_x_gradient": (1.0, 1e-9),
    "guided_backprop": (1.0, 1e-9),
    "deconvolution": (1.0, 1e-9),
    "lrp": (1.0, 1e-6),  # z = x0 + x1 - 1 = 1: R_i = x_i w_i / z * f = 1 (the bias's share is not conserved)
    "smoothgrad": (1.0, 0.1),
    "exact_interventional_shapley": (0.375, 1e-9),
    "shap_exact": (0.375, 1e-9),
    "shap_permutation": (0.375, 1e-9),
    "shap_partition": (0.375, 1e-9),
    "shap_kernel": (0.375, 1e-9),
    "deeplift_shap": (0.375, 1e-9),  # mean of DeepLift over the 4 corners: (.5,.5),(1,0),(0,1),(0,0)
    "shap_deep": (0.375, 1e-9),
    "gradient_shap": (0.375, 0.25),  # expected gradients; per-draw values in {0, 1}: sd <= 0.5/sqrt(64)*...
    "shap_gradient": (0.375, 0.2),
    "feature_permutation": (0.5, 1e-9),  # f(1,1) - mean_z f(z_i, 1) = 1 - 0.5
}


@pytest.mark.parametrize("name", sorted(AND_EXPECTED))
def test_boolean_and(name):
    model = get_model("and")
    value, tol = AND_EXPECTED[name]
    got = explainers.get_explainer(name).explain(model, AND_X, baseline=AND_BASELINE, background=AND_BACKGROUND,
                                                 seed=0)
    np.testing.assert_allclose(got, [[value, value]], atol=tol, err_msg=name)


@pytest.mark.parametrize("name", ["shapley_value_sampling", "captum_kernel_shap"])
def test_sampled_shapley_is_efficient_on_and(name):
    """Every sampled permutation (and KernelSHAP's fit) distributes exactly f(x) - f(b) = 1."""
    got = explainers.get_explainer(name).explain(get_model("and"), AND_X, baseline=AND_BASELINE, seed=5)
    assert got.sum() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("name", ["lime_tabular", "captum_lime"])
def test_lime_on_and_is_positive_and_nearly_symmetric(name):
    got = explainers.get_explainer(name).explain(get_model("and"), AND_X, baseline=AND_BASELINE,
                                                 background=AND_BACKGROUND, seed=0)
    assert np.all(got > 0.1), got
    assert abs(got[0, 0] - got[0, 1]) < 0.15, got
