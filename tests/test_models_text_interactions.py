"""The negation/intensifier token model (synthetic_models/text_interactions.py): per-token truth exact by enumeration,
the hand-derived two-token games, interventions, and the text interface."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.shapley import baseline_shapley
from xaicheck.synthetic_models.text_interactions import NEGATION_VOCABULARY, negation_case_parts


def _phi(model, text: str) -> dict[str, float]:
    x = model.vectorize([text])
    phi = baseline_shapley(model.predict, x, np.zeros(model.n_features))[0]
    return {t: float(p) for t, p in zip(NEGATION_VOCABULARY, phi) if x[0, NEGATION_VOCABULARY.index(t)]}


def test_two_token_games_by_hand() -> None:
    model = get_model("token_negation")
    assert _phi(model, "not good") == pytest.approx({"not": -1.0, "good": 0.0})
    assert _phi(model, "very good") == pytest.approx({"very": 0.5, "good": 1.5})
    assert _phi(model, "the good movie") == pytest.approx({"good": 1.0, "the": 0.0, "movie": 0.0})


def test_interventions_flip_and_double() -> None:
    model = get_model("token_negation")
    base = model.predict_text(["great plot but boring actor"])[0]
    assert base == pytest.approx(1.5)
    assert model.predict_text(["not great plot but boring actor"])[0] == pytest.approx(-base)
    assert model.predict_text(["very great plot but boring actor"])[0] == pytest.approx(2 * base)


def test_exact_truth_is_efficient_and_neutral_words_are_dummies() -> None:
    name, model, X, b, background = negation_case_parts()
    assert X.shape == (32, 12) and X[:, :6].any(axis=1).all()
    phi = baseline_shapley(model.predict, X, b)
    np.testing.assert_allclose(phi.sum(axis=1), model.predict(X) - model.predict(b[None, :])[0], atol=1e-12)
    assert np.abs(phi[:, sorted(model.ground_truth.dummy)]).max() <= 1e-12
    # context changes the sign of a word's truth: some present sentiment word is painted against its own weight
    w = np.array([2.0, 1.0, 0.5, -0.5, -1.0, -2.0])
    present = X[:, :6] > 0
    assert np.any(present & (np.sign(phi[:, :6]) == -np.sign(w)))


def test_torch_form_matches() -> None:
    import torch

    name, model, X, _, _ = negation_case_parts(seed=3)
    with torch.no_grad():
        np.testing.assert_allclose(model.torch_module()(torch.tensor(X)).numpy(), model.predict(X), atol=1e-12)
    assert "text" in model.forms and "linear" not in model.forms
