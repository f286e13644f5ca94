"""Image patch model: output invariant outside the mask, sensitive inside; token model: text == vector interface."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.image import patch_mask
from xaicheck.synthetic_models.shapley import baseline_shapley
from xaicheck.synthetic_models.text import TOKEN_WEIGHTS, VOCABULARY, tokenize


@pytest.fixture(scope="module")
def image():
    return get_model("image_patch")


@pytest.fixture(scope="module")
def text():
    return get_model("token_sentiment")


def test_image_torch_form_equals_numpy(image) -> None:
    X = image.sample(32, np.random.default_rng(0))
    X = np.vstack([X, 4.0 * X[:4] - 2.0])  # also outside [0, 1], both sides of the ReLU kink
    module = image.torch_module()
    with torch.no_grad():
        flat = module(torch.as_tensor(X)).numpy()
        folded = module(torch.as_tensor(X).reshape(-1, *image.input_shape)).numpy()
    np.testing.assert_allclose(flat, image.predict(X), atol=1e-9)
    np.testing.assert_array_equal(flat, folded)
    assert flat.shape == (X.shape[0],)


def test_image_invariant_outside_mask_and_sensitive_inside(image) -> None:
    mask = image.ground_truth.mask
    assert mask.shape == (64,) and mask.sum() == 9 and image.input_shape == (1, 8, 8)
    assert np.array_equal(mask.reshape(8, 8)[2:5, 3:6], np.ones((3, 3), bool))
    rng = np.random.default_rng(1)
    X = image.sample(32, rng)
    Y = X.copy()
    Y[:, ~mask] = rng.uniform(-5, 5, size=(32, int((~mask).sum())))
    np.testing.assert_array_equal(image.predict(Y), image.predict(X))
    for j in np.flatnonzero(mask):
        Z = X.copy()
        Z[:, j] += 0.1
        assert np.all(image.predict(Z) != image.predict(X)), f"pixel {j} in the patch does not matter"
    assert image.ground_truth.relevant == frozenset(np.flatnonzero(mask).tolist())


def test_image_gradients_vanish_outside_mask(image) -> None:
    module = image.torch_module()
    x = torch.as_tensor(image.sample(4, np.random.default_rng(2)), dtype=torch.float64).requires_grad_(True)
    module(x).sum().backward()
    grad = x.grad.numpy()
    assert np.all(grad[:, ~patch_mask()] == 0) and np.all(grad[:, patch_mask()] != 0)


def test_image_gradcam_layer_is_a_conv(image) -> None:
    module = image.torch_module()
    layer = getattr(module, image.gradcam_layer_name)
    assert isinstance(layer, torch.nn.Conv2d)
    assert any(isinstance(m, torch.nn.ReLU) for m in module.modules())
    json.dumps(image.spec())


def test_text_predict_text_equals_predict_of_vectorize(text) -> None:
    docs = ["Great movie, the plot was GOOD", "awful awful actor", "", "boring but fun!", "nothing known here"]
    X = text.vectorize(docs)
    np.testing.assert_array_equal(text.predict_text(docs), text.predict(X))
    np.testing.assert_allclose(text.predict_text(docs), [3.0, -2.0, 0.0, 0.0, 0.0])
    assert text.vectorize(["great great"]).sum() == 1.0  # presence, not counts


def test_text_render_roundtrip_and_token_weights(text) -> None:
    X = text.sample(16, np.random.default_rng(3))
    np.testing.assert_array_equal(text.vectorize(text.render(X)), X)
    np.testing.assert_array_equal(text.ground_truth.token_weights, TOKEN_WEIGHTS)
    w, b = text.linear_coefficients
    np.testing.assert_array_equal(w, TOKEN_WEIGHTS)
    assert text.vocabulary == VOCABULARY and text.feature_names == VOCABULARY
    assert text.ground_truth.dummy == frozenset(i for i, wi in enumerate(TOKEN_WEIGHTS) if wi == 0)
    assert text.forms >= {"text", "linear", "torch"}
    assert text.token_index("GREAT") == VOCABULARY.index("great") == 1 and text.token_index("unknown") is None
    json.dumps(text.spec())


def test_text_exact_attribution_and_torch(text) -> None:
    X = text.sample(6, np.random.default_rng(4))
    B = np.zeros(len(VOCABULARY))
    np.testing.assert_allclose(text.ground_truth.exact_attribution(X, B), baseline_shapley(text.predict, X, B),
                               atol=1e-12)
    with torch.no_grad():
        np.testing.assert_allclose(text.torch_module()(torch.as_tensor(X)).numpy(), text.predict(X), atol=1e-12)


def test_text_bad_inputs(text) -> None:
    with pytest.raises(TypeError, match="single str"):
        text.vectorize("great")
    with pytest.raises(ValueError, match="presence rows"):
        text.render(np.full((1, len(VOCABULARY)), 0.5))
    assert tokenize("It's GREAT!") == ["it's", "great"]
