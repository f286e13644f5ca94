"""The interaction exams compute what their docstrings claim: each boolean model equals its boolean function written
directly (AND/OR/XOR/majority on {0,1} or {-1,1}) on every corner, up to the constant its polynomial leaves out;
declared dummies are exact; the trained ones fit their target and carry its strongest pair."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

from xaicheck.synthetic_models.interaction_truth import interaction_truth
from xaicheck.synthetic_models.interaction_subsets import subsets
from xaicheck.synthetic_models.registry import get_model, model_names


def _on(x: np.ndarray, off: float) -> np.ndarray:
    return x != off  # the "true" bit of a {0,1} or {-1,1} feature


def _bool_and(*c): return np.logical_and.reduce(c)
def _bool_or(*c): return np.logical_or.reduce(c)
def _bool_xor(*c): return np.logical_xor.reduce(c)
def _maj(*c): return np.sum(c, axis=0) >= 2


#: model -> (off value, the boolean function of its true bits, written without the polynomial)
BOOLEAN = {
    "ia_and_or_pm1_d4": (-1.0, lambda b: _bool_and(b[0], b[1]) + 1.0 * _bool_or(b[2], b[3])),
    "ia_xor3_d8": (0.0, lambda b: 1.0 * _bool_xor(b[0], b[1], b[2]) + _bool_and(b[3], b[4])),
    "ia_or3_d10": (0.0, lambda b: 1.0 * _bool_or(b[0], b[1], b[2]) + _bool_xor(b[3], b[4]) + 0.5 * b[5]),
    # ±1-valued majority and XOR (2 [bit] - 1): the constants drop out
    "ia_majority_pm1_d12": (-1.0, lambda b: 2.0 * _maj(b[0], b[1], b[2]) + 2.0 * _bool_xor(b[3], b[4])),
    "ia_and_or_d6": (0.0, lambda b: 1.0 * _bool_and(b[0], b[1], b[2]) + _bool_or(b[3], b[4])),
    "ia_bool_d16": (0.0, lambda b: 1.0 * _bool_and(b[0], b[1]) + _bool_and(b[2], b[3], b[4]) + _bool_xor(b[5], b[6])
                    + _bool_or(b[7], b[8]) + b[9]),
}


@pytest.mark.parametrize("name", sorted(BOOLEAN))
def test_boolean_models_equal_their_boolean_function_on_every_corner(name):
    off, g = BOOLEAN[name]
    model = get_model(name)
    lo, hi = model.declarations.domain_values
    assert (lo, hi) == (off, 1.0) and model.domain == "binary"
    k = 10  # the relevant bits are the first <= 10; the rest are dummies (checked below)
    corners = np.array(list(product((lo, hi), repeat=k)))
    X = np.hstack([corners, np.full((len(corners), model.n_features - k), lo)]) if model.n_features > k else \
        corners[:, :model.n_features]
    X = np.unique(X, axis=0)
    f = model.predict(X)
    want = np.asarray(g([_on(X[:, i], off) for i in range(min(k, model.n_features))]), dtype=np.float64)
    np.testing.assert_allclose(f - f[0], want - want[0], atol=1e-12)  # equal up to a constant
    assert np.ptp(want) >= 1.0


IA_MODELS = [n for n in model_names() if n.startswith("ia_")]


@pytest.mark.parametrize("name", IA_MODELS)
def test_declared_dummies_are_exact_and_relevant_features_matter(name):
    model = get_model(name)
    rng = np.random.default_rng(11)
    X = model.sample(64, rng)
    Y = X.copy()
    dummy = sorted(model.ground_truth.dummy)
    Y[:, dummy] = model.sample(64, rng)[:, dummy]
    np.testing.assert_array_equal(model.predict(X), model.predict(Y))
    b = model.declarations.baseline_for(X[:4])
    T = interaction_truth(model, X[:4], b, "baseline", "k-SII", 1)
    for i in sorted(model.ground_truth.relevant):
        assert np.abs(T[:, i]).max() > 0 or np.abs(model.predict(X) - model.predict(np.where(
            np.arange(model.n_features) == i, model.sample(64, rng), X))).max() > 0, (name, i)


@pytest.mark.parametrize("name", ["ia_gbm_d8", "ia_mlp_d6"])
def test_trained_interaction_models_fit_and_carry_the_generating_pair(name):
    model = get_model(name)
    assert model.model_error["r2"] > 0.75
    X = model.sample(8, np.random.default_rng(5))
    T = interaction_truth(model, X, model.sample(16, np.random.default_rng(6)), "interventional", "SII", 2)
    pairs = [S for S in subsets(model.n_features, 2) if len(S) == 2]
    cols = [i for i, S in enumerate(subsets(model.n_features, 2)) if len(S) == 2]
    mean_abs = np.abs(T[:, cols]).mean(axis=0)
    top = pairs[int(np.argmax(mean_abs))]
    assert tuple(sorted(top)) in ((0, 1), (2, 3))  # a generating pair is the fitted model's strongest
