"""The hand-set attention token models compute what ``synthetic_models.text_attention`` claims, and their exact
token Shapley / Banzhaf values (enumeration) equal the closed forms of its docstring."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.synthetic_models.attention_net import layer_norm
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.shapley import baseline_banzhaf, baseline_shapley
from xaicheck.synthetic_models.text_attention import SCORES, TEXT_ATTENTION_MODELS, TEXT_VOCABULARY

ID = {t: i for i, t in enumerate(TEXT_VOCABULARY)}
NAMES = [s.name for s in TEXT_ATTENTION_MODELS]


def _sentences(model, n=200, seed=0, pad=0.3):
    rng = np.random.default_rng(seed)
    X = model.sample(n, rng)
    X[rng.random(X.shape) < pad] = 0.0  # masked positions: the [PAD] baseline token
    return X


@pytest.mark.parametrize("name", NAMES)
def test_network_computes_its_designed_function_in_numpy_and_torch(name):
    import torch

    model = get_model(name)
    X = _sentences(model)
    f = model.predict(X)
    np.testing.assert_allclose(f, model.ideal(X), atol=1e-12)
    with torch.no_grad():
        np.testing.assert_allclose(model.embedding_module()(torch.tensor(X)).numpy(), f, atol=1e-12)
    assert np.ptp(f) > 0.5  # the designed function varies over the sampled sentences


@pytest.mark.parametrize("name", NAMES)
def test_truncated_positions_are_exact_dummies(name):
    model = get_model(name)
    X = _sentences(model, n=64, seed=1)
    Y = X.copy()
    dummy = sorted(model.ground_truth.dummy)
    Y[:, dummy] = np.random.default_rng(2).integers(0, len(TEXT_VOCABULARY), size=(len(Y), len(dummy)))
    np.testing.assert_array_equal(model.predict(X), model.predict(Y))
    if dummy:  # a relevant position does move the output somewhere
        assert model.spec()["params"].get("T", model.n_features) == min(dummy)


def _closed_form(kind, p, row):
    """Per-token Shapley value of ``row`` against the all-[PAD] baseline (text_attention docstring)."""
    T = p.get("T", len(row))
    ids = row.astype(int)[:T]
    phi = np.zeros(len(row))
    if kind in ("keyword", "count"):
        hits = np.flatnonzero(ids == ID[p["k"]])
        if len(hits) >= p.get("K", 1):
            phi[hits] = p["w"] / len(hits)
    elif kind == "conjunction":
        a, b = np.flatnonzero(ids == ID[p["a"]]), np.flatnonzero(ids == ID[p["b"]])
        if len(a) and len(b):
            phi[a] = p["w"] * len(b) / ((len(a) + len(b)) * len(a))
            phi[b] = p["w"] * len(a) / ((len(a) + len(b)) * len(b))
    elif kind == "negation":
        s = SCORES[ids]
        neg = np.r_[False, ids[:-1] == ID["not"]]
        phi[:T] = s * (1.0 - neg)
        phi[:T - 1] -= (ids[:-1] == ID["not"]) * s[1:]
    elif kind == "additive":
        phi[:T] = SCORES[ids] * np.asarray(p.get("g", 1.0))
    else:
        raise KeyError(kind)
    return phi


@pytest.mark.parametrize("spec", [s for s in TEXT_ATTENTION_MODELS
                                  if s.kind in ("keyword", "count", "conjunction", "negation", "additive")],
                         ids=lambda s: s.name)
def test_exact_token_shapley_equals_the_closed_form(spec):
    model = get_model(spec.name)
    X = _sentences(model, n=12 if model.n_features > 10 else 24, seed=3, pad=0.15)
    R = baseline_shapley(model.predict, X, np.zeros(model.n_features))
    expected = np.array([_closed_form(spec.kind, spec.params, row) for row in X])
    np.testing.assert_allclose(R, expected, atol=1e-9)
    assert np.abs(expected).max() > 0  # not a vacuous match of zeros


def test_keyword_banzhaf_closed_form_and_declared_reference():
    model = get_model("attn_keyword_great_l8")
    X = _sentences(model, n=24, seed=4, pad=0.1)
    b = np.zeros(model.n_features)
    B = baseline_banzhaf(model.predict, X, b)
    hits = X.astype(int)[:, :7] == ID["great"]
    m = hits.sum(axis=1, keepdims=True)
    expected = np.zeros_like(X)
    expected[:, :7] = np.where(hits, 2.0 * 2.0 ** -(np.maximum(m, 1) - 1.0), 0.0)
    np.testing.assert_allclose(B, expected, atol=1e-9)
    np.testing.assert_allclose(model.ground_truth.reference(X, b), B, atol=1e-12)
    assert model.ground_truth.reference_kind == "banzhaf"


def test_attention_weights_are_as_designed():
    kw = get_model("attn_keyword_great_l8")
    x = np.array([[ID["the"], ID["great"], ID["plot"], ID["great"], ID["was"], ID["bad"], ID["fun"], ID["and"]]])
    (A,) = kw.attention_maps(x)  # [1, H, 7, 7]: every query splits its attention over the two 'great'
    np.testing.assert_allclose(A[0, 0][:, [1, 3]], 0.5, atol=1e-20)
    assert A[0, 0][:, [0, 2, 4, 5, 6]].max() < 1e-25
    neg = get_model("attn_negation_l8")
    (P,) = neg.attention_maps(x)  # previous-token head (position 0 attends to itself)
    expected = np.eye(7, k=-1)
    expected[0, 0] = 1.0
    np.testing.assert_allclose(P[0, 0], expected, atol=1e-20)
    two = get_model("attn2_unnegated_l8")
    assert len(two.attention_maps(x)) == 2 and two.attention_layers == 2
    assert get_model("emb_truncated_l8").attention_maps(x) == []


@pytest.mark.parametrize("name", ["attn_keyword_great_l8", "attn2_unnegated_l8"])
def test_layer_norms_act_as_the_identity_on_the_designed_stream(name):
    model = get_model(name)
    net = model.net
    X = _sentences(model, n=32, seed=5).astype(int)[:, :net.window]
    h = net.E[X] + net.P[None]
    first = net.layers[0]
    np.testing.assert_allclose(layer_norm(h, *first.ln), h, atol=1e-12)
    assert np.abs(first.ln[0] - 1.0).max() > 0.5  # a real, non-trivial LayerNorm, set to undo its normalisation


def test_models_declare_default_tier_cases_with_pad_baseline():
    default = [s for s in TEXT_ATTENTION_MODELS if "default" in get_model(s.name).declarations.tiers]
    assert len(default) == 24
    assert sum(get_model(s.name).attention_layers > 0 for s in default) == 21  # issue 24: at least half
    for s in default:
        m = get_model(s.name)
        assert m.domain == "tokens" and "torch" not in m.forms and "embedding" in m.forms
        np.testing.assert_array_equal(m.declarations.baseline_for(np.ones((2, m.n_features))), np.zeros(m.n_features))
