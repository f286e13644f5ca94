"""The token-model adapters (layer integrated gradients, gradient x activation on the embedding, raw attention,
attention rollout) on the hand-set attention models of ``synthetic_models.text_attention``."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.explainers import get_explainer
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.shapley import baseline_shapley

EMBEDDING = ("layer_integrated_gradients", "layer_gradient_x_activation", "attention_raw", "attention_rollout")


def _rows(model, n=4):
    return model.sample(n, np.random.default_rng(7))


def test_layer_ig_is_complete_against_the_pad_sentence():
    model = get_model("attn_saturating_l8")
    X, b = _rows(model), np.zeros(model.n_features)
    A = get_explainer("layer_integrated_gradients").explain(model, X, baseline=b)
    # the clip's kinks make the path integrand piecewise: a quadrature error of a few percent at 64 nodes
    np.testing.assert_allclose(A.sum(axis=1), model.predict(X) - model.predict(b[None]), atol=0.1)
    assert np.all(A[:, 7] == 0.0)  # the truncated position gets nothing


def test_layer_ig_is_exact_on_an_additive_model_and_grad_x_activation_is_not_baseline_relative():
    model = get_model("emb_early_double_l8")
    X, b = _rows(model), np.zeros(model.n_features)
    R = baseline_shapley(model.predict, X, b)
    np.testing.assert_allclose(get_explainer("layer_integrated_gradients").explain(model, X, baseline=b), R,
                               atol=1e-6)
    G = get_explainer("layer_gradient_x_activation").explain(model, X)
    assert G.shape == X.shape and np.all(np.isfinite(G))


@pytest.mark.parametrize("name", ["attention_raw", "attention_rollout"])
def test_attention_scores_are_a_distribution_over_read_positions(name):
    model = get_model("attn_keyword_great_l8")
    X = _rows(model)
    A = get_explainer(name).explain(model, X)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(A >= 0) and np.all(A[:, 7] == 0.0)


def test_raw_attention_points_at_the_keyword():
    model = get_model("attn_keyword_great_l8")
    x = np.array([[1, 8, 3, 4, 5, 6, 11, 2]], dtype=float)  # 'great' at position 1
    A = get_explainer("attention_raw").explain(model, x)
    assert int(np.argmax(A[0])) == 1 and A[0, 1] > 0.99


@pytest.mark.parametrize("name", EMBEDDING)
def test_not_applicable_without_an_embedding_form(name):
    ok, why = get_explainer(name).can_explain(get_model("token_sentiment"))
    assert not ok and "embedding" in why


@pytest.mark.parametrize("name", ["attention_raw", "attention_rollout"])
def test_attention_methods_refuse_a_model_without_attention(name):
    ok, why = get_explainer(name).can_explain(get_model("emb_truncated_l8"))
    assert not ok and "attention" in why
