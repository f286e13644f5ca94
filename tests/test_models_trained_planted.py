"""Trained tabular models with planted truth (synthetic_models/trained_tabular.py): deterministic training, a good fit
of the generating function, and exact Shapley values of the trained model (enumeration) that recover the planted
relevant set."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.synthetic_models.shapley import interventional_shapley
from xaicheck.synthetic_models.trained_tabular import (PLANTED_D, PLANTED_RELEVANT, planted_function, planted_model,
                                                       trained_gbm, trained_mlp)


@pytest.mark.parametrize("kind,min_r2,max_ratio", [("mlp", 0.95, 0.1), ("gbm", 0.8, 0.25)])
def test_trained_model_carries_the_planted_truth(kind: str, min_r2: float, max_ratio: float) -> None:
    model = planted_model(kind, 0)
    assert model.model_error["r2"] >= min_r2
    assert model.true_ground_truth.relevant == PLANTED_RELEVANT and model.true_function is planted_function
    rng = np.random.default_rng(0)
    X, background = model.sample(48, rng), model.sample(16, rng)
    phi = interventional_shapley(model.predict, X, background)  # exact: 2^10 coalitions
    np.testing.assert_allclose(phi.sum(axis=1), model.predict(X) - model.predict(background).mean(), atol=1e-9)
    importance = np.abs(phi).mean(axis=0)
    relevant, irrelevant = sorted(PLANTED_RELEVANT), sorted(set(range(PLANTED_D)) - PLANTED_RELEVANT)
    assert importance[irrelevant].max() <= max_ratio * importance[relevant].min()


def test_training_is_deterministic_and_seeded() -> None:
    X = np.random.default_rng(1).uniform(-2, 2, (64, PLANTED_D))
    a, b = trained_mlp(0, steps=50), trained_mlp(0, steps=50)
    assert a.predict(X).tobytes() == b.predict(X).tobytes()
    assert not np.array_equal(trained_mlp(1, steps=50).predict(X), a.predict(X))
    g = planted_model("gbm", 0)
    assert g.predict(X).tobytes() == trained_gbm(0).predict(X).tobytes() and "tree" in g.forms
    assert "torch" in planted_model("mlp", 0).forms
