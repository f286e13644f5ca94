"""PAIR saliency adapters (Guided IG, Blur IG, XRAI) against closed forms on linear models."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from xaicheck import explainers
from xaicheck.explainers.saliency_adapters import _to_hwc, gradient_fn, xrai_segments
from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth, uniform_sampler

SHAPE = (1, 8, 8)


def linear_image_model() -> tuple[FunctionModel, np.ndarray]:
    """f(x) = w·x on 8x8 images with a seeded weight image w (a torch nn.Linear)."""
    import torch

    w = np.random.default_rng(3).normal(size=64)

    def factory() -> torch.nn.Module:
        layer = torch.nn.Linear(64, 1).double()
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(w)[None])
            layer.bias.zero_()
        return torch.nn.Sequential(layer, torch.nn.Flatten(0))

    model = FunctionModel("linear_image", "test", lambda X: X @ w, [f"p{i}" for i in range(64)],
                          GroundTruth(relevant=frozenset(range(64))), domain="image",
                          sampler=uniform_sampler(64), torch_factory=factory, input_shape=SHAPE)
    return model, w


def test_the_field_libraries_are_registered():
    names = set(explainers.explainer_names())
    assert {"guided_ig", "blur_ig", "xrai"} <= names
    assert explainers.get_explainer("guided_ig").library_version not in ("not installed", "dev")


def test_guided_ig_is_w_times_x_minus_b_on_a_linear_model():
    """Any monotone path from b to x integrates a constant gradient w to w ⊙ (x - b) (Kapishnikov et al. 2021)."""
    model = get_model("linear_dummy")
    w, _ = model.linear_coefficients
    X = model.sample(3, np.random.default_rng(0))
    b = np.full(4, -0.5)
    A = explainers.get_explainer("guided_ig").explain(model, X, baseline=b)
    np.testing.assert_allclose(A, w * (X - b), atol=1e-9)


def test_guided_ig_path_differs_from_the_straight_line_on_a_relu_model():
    """On a non-linear model Guided IG still completes (Σa = f(x) - f(b)) but is not IG: the path is adapted."""
    model = get_model("image_patch")
    X = model.sample(2, np.random.default_rng(1))
    b = np.zeros(64)
    A = explainers.get_explainer("guided_ig").explain(model, X, baseline=b)
    gap = model.predict(X) - model.predict(b[None])
    np.testing.assert_allclose(A.sum(axis=1), gap, rtol=0.03)
    assert np.all(A[:, ~model.ground_truth.mask] == 0.0)


def test_blur_ig_is_w_times_x_minus_its_blur_on_a_linear_image_model():
    """Blur IG integrates along σ ↦ G_σ * x from σ = max_sigma to 0, so on f = w·x it gives w ⊙ (x - G_max * x)
    (Xu et al. 2020), up to the Riemann sum and the finite-difference step in σ."""
    model, w = linear_image_model()
    exp = explainers.get_explainer("blur_ig")
    X = model.sample(2, np.random.default_rng(2))
    A = exp.explain(model, X)
    sigma = float(exp.settings["max_sigma"])
    blurred = np.stack([ndimage.gaussian_filter(x.reshape(8, 8), sigma=sigma, mode="constant").reshape(-1)
                        for x in X])
    expected = w * (X - blurred)
    np.testing.assert_allclose(A, expected, atol=0.02 * np.abs(expected).max())
    assert not explainers.get_explainer("blur_ig").can_explain(get_model("linear_dummy"))[0]


def test_xrai_gives_each_segment_the_mean_integrated_gradient_on_it():
    """On f = w·x IG is w ⊙ (x - b) exactly; with disjoint segments XRAI's greedy region growth gives every pixel the
    attribution density of its segment: the mean of IG over it (Kapishnikov et al. 2019)."""
    model, w = linear_image_model()
    X = model.sample(2, np.random.default_rng(4))
    b = np.zeros(64)
    A = explainers.get_explainer("xrai").explain(model, X, baseline=b)
    for x, a in zip(X, A):
        segments = xrai_segments(_to_hwc(x, SHAPE), float(explainers.get_explainer("xrai").settings[
            "felzenszwalb_scale"]))
        assert len(segments) > 1
        ig = (w * (x - b)).reshape(8, 8)
        expected = np.zeros((8, 8))
        for seg in segments:
            expected[seg] = ig[seg].mean()
        # saliency's IG runs in float32 inside XRAI: agreement to float32 precision
        np.testing.assert_allclose(a.reshape(8, 8), expected, atol=1e-5 * np.abs(ig).max())


def test_gradient_bridge_uses_channel_first_order():
    """saliency passes [b, H, W, C] batches; the model takes C, H, W order; gradients come back in H, W, C."""
    import saliency.core as sc

    model = get_model("image_patch")
    X = model.sample(2, np.random.default_rng(10))
    call = gradient_fn(model, None, model.input_shape)
    hwc = X.reshape((2,) + model.input_shape).transpose(0, 2, 3, 1)
    grads = call(hwc)[sc.base.INPUT_OUTPUT_GRADIENTS]
    expected = explainers.get_explainer("saliency").explain(model, X)
    np.testing.assert_allclose(grads.transpose(0, 3, 1, 2).reshape(2, -1), expected, atol=1e-12)


@pytest.mark.parametrize("name", ["guided_ig", "xrai"])
def test_baseline_is_required(name):
    model, _ = linear_image_model()
    with pytest.raises(explainers.MissingInputError):
        explainers.get_explainer(name).explain(model, np.ones((1, 64)))
