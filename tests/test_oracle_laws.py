"""The exact Shapley/Banzhaf oracles obey the Shapley axioms on random boolean functions and random ReLU MLPs,
and match closed forms (Shapley 1953; Sundararajan & Najmi 2020 for the baseline / interventional games)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.boolean import Table
from xaicheck.synthetic_models.boolean_model import BooleanModel
from xaicheck.synthetic_models.equivalence import MLPModel
from xaicheck.synthetic_models.shapley import baseline_banzhaf, baseline_shapley, interventional_shapley
from xaicheck.synthetic_models.strategies import boolean_models, inputs_for, linear_models, mlp_models, relu_mlps

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
TOL = 1e-9


def close(a: np.ndarray, b: np.ndarray, scale: float | np.ndarray = 1.0) -> bool:
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) <= TOL * np.maximum(1.0, np.abs(scale))))


def binary_rows(n: int, d: int) -> st.SearchStrategy[np.ndarray]:
    return st.lists(st.integers(0, 1), min_size=n * d, max_size=n * d).map(
        lambda bits: np.asarray(bits, dtype=np.float64).reshape(n, d))


# ------------------------------------------------------------------------------------------------ boolean functions
@SETTINGS
@given(st.data())
def test_boolean_efficiency_dummy_symmetry(data: st.DataObject) -> None:
    model = data.draw(boolean_models(max_vars=3))
    d = model.n_features
    X = data.draw(inputs_for(model))
    b = data.draw(binary_rows(1, d))[0]
    table, y = model.truth_table()
    phi_b = baseline_shapley(model.predict, X, b)
    phi_i = interventional_shapley(model.predict, X, table)
    beta = baseline_banzhaf(model.predict, X, b)
    fx = model.predict(X)
    assert close(phi_b.sum(axis=1), fx - model.predict(b)[0])  # efficiency, baseline game
    assert close(phi_i.sum(axis=1), fx - y.mean())  # efficiency, interventional game
    for i in model.ground_truth.dummy:  # dummy
        assert close(phi_b[:, i], 0) and close(phi_i[:, i], 0) and close(beta[:, i], 0)
    for group in model.ground_truth.symmetric_groups:  # symmetry: equal inputs (and baselines) get equal values
        for i in group:
            for j in group:
                rows = X[:, i] == X[:, j]
                assert close(phi_i[rows, i], phi_i[rows, j])
                if b[i] == b[j]:
                    assert close(phi_b[rows, i], phi_b[rows, j]) and close(beta[rows, i], beta[rows, j])


@SETTINGS
@given(st.data())
def test_boolean_linearity(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 3))
    f, g = (data.draw(st.lists(st.integers(0, 1), min_size=1 << n, max_size=1 << n)) for _ in range(2))
    a, c = data.draw(st.integers(-3, 3)), data.draw(st.integers(-3, 3))
    mf, mg = BooleanModel("f", Table(range(n), f)), BooleanModel("g", Table(range(n), g))
    combo = BooleanModel("af+cg", Table(range(n), a * np.array(f, float) + c * np.array(g, float)))
    X = data.draw(binary_rows(2, n))
    b = data.draw(binary_rows(1, n))[0]
    table = mf.truth_table()[0]
    for oracle, ref in ((baseline_shapley, b), (interventional_shapley, table), (baseline_banzhaf, b)):
        lhs = oracle(combo.predict, X, ref)
        assert close(lhs, a * oracle(mf.predict, X, ref) + c * oracle(mg.predict, X, ref))


# ------------------------------------------------------------------------------------------------ random ReLU MLPs
@SETTINGS
@given(st.data())
def test_mlp_efficiency_and_dummy(data: st.DataObject) -> None:
    model = data.draw(mlp_models(max_inputs=4, max_hidden=4))
    X, b = data.draw(inputs_for(model)), data.draw(inputs_for(model, max_rows=1))[0]
    background = data.draw(inputs_for(model, min_rows=1, max_rows=5))
    phi_b = baseline_shapley(model.predict, X, b)
    phi_i = interventional_shapley(model.predict, X, background)
    fx = model.predict(X)
    assert close(phi_b.sum(axis=1), fx - model.predict(b)[0], fx)
    assert close(phi_i.sum(axis=1), fx - model.predict(background).mean(), fx)
    for i in model.ground_truth.dummy:
        assert close(phi_b[:, i], 0) and close(phi_i[:, i], 0)


@SETTINGS
@given(st.data())
def test_mlp_symmetry_of_tied_inputs(data: st.DataObject) -> None:
    """Give inputs 0 and 1 the same first-layer weights: f is symmetric in them, so equal x_i = x_j and
    b_i = b_j must give phi_i = phi_j."""
    spec = data.draw(relu_mlps(max_inputs=4, max_hidden=4))
    W0 = np.array(spec.layers[0][0])
    if W0.shape[1] < 2:
        W0 = np.hstack([W0, W0])
    W0[:, 1] = W0[:, 0]
    model = MLPModel("tied", type(spec)(((W0, spec.layers[0][1]),) + spec.layers[1:]))
    X = data.draw(inputs_for(model))
    X[:, 1] = X[:, 0]
    b = data.draw(inputs_for(model, max_rows=1))[0]
    b[1] = b[0]
    phi = baseline_shapley(model.predict, X, b)
    assert close(phi[:, 0], phi[:, 1], model.predict(X))


@SETTINGS
@given(st.data())
def test_mlp_linearity(data: st.DataObject) -> None:
    d = data.draw(st.integers(1, 3))
    f = MLPModel("f", data.draw(relu_mlps(max_hidden=3, n_inputs=d)))
    g = MLPModel("g", data.draw(relu_mlps(max_hidden=3, n_inputs=d)))
    a, c = data.draw(st.sampled_from([-2.0, -0.5, 0.0, 1.0, 3.0])), data.draw(st.sampled_from([-1.0, 0.5, 2.0]))
    X, b = data.draw(inputs_for(f)), data.draw(inputs_for(f, max_rows=1))[0]
    combo = lambda Z: a * f.predict(Z) + c * g.predict(Z)  # noqa: E731
    scale = np.abs(a * f.predict(X)) + np.abs(c * g.predict(X))
    lhs = baseline_shapley(combo, X, b)
    rhs = a * baseline_shapley(f.predict, X, b) + c * baseline_shapley(g.predict, X, b)
    assert close(lhs, rhs, scale[:, None])


# ------------------------------------------------------------------------------------------------ closed forms
@SETTINGS
@given(st.data())
def test_linear_closed_form(data: st.DataObject) -> None:
    """phi_i = w_i (x_i - b_i) (baseline) and w_i (x_i - mean z_i) (interventional)."""
    model = data.draw(linear_models(max_features=5))
    w, _ = model.linear_coefficients
    X, b = data.draw(inputs_for(model)), data.draw(inputs_for(model, max_rows=1))[0]
    Z = data.draw(inputs_for(model, min_rows=1, max_rows=6))
    assert close(baseline_shapley(model.predict, X, b), w * (X - b), 10.0)
    assert close(model.ground_truth.exact_attribution(X, b), w * (X - b))
    assert close(interventional_shapley(model.predict, X, Z), w * (X - Z.mean(axis=0)), 10.0)


def product(X: np.ndarray) -> np.ndarray:
    return X[:, 0] * X[:, 1]


@SETTINGS
@given(st.data())
def test_product_closed_form(data: st.DataObject) -> None:
    """f = x0 x1. Baseline game: v(0)=b0b1, v({0})=x0b1, v({1})=b0x1, v(N)=x0x1, so
    phi_0 = ((x0b1 - b0b1) + (x0x1 - b0x1))/2 = (x0 - b0)(x1 + b1)/2 and phi_1 = (x1 - b1)(x0 + b0)/2.
    Interventional game over Z: phi_0 = (x0 E z1 - E z0z1 + x0x1 - x1 E z0)/2, phi_1 symmetric."""
    floats = st.floats(-3, 3, allow_nan=False)
    X = np.array(data.draw(st.lists(st.tuples(floats, floats), min_size=1, max_size=4)))
    b = np.array(data.draw(st.tuples(floats, floats)))
    Z = np.array(data.draw(st.lists(st.tuples(floats, floats), min_size=1, max_size=5)))
    x0, x1 = X[:, 0], X[:, 1]
    expected = np.stack([(x0 - b[0]) * (x1 + b[1]) / 2, (x1 - b[1]) * (x0 + b[0]) / 2], axis=1)
    assert close(baseline_shapley(product, X, b), expected, 10.0)
    m0, m1, m01 = Z[:, 0].mean(), Z[:, 1].mean(), (Z[:, 0] * Z[:, 1]).mean()
    expected = np.stack([(x0 * m1 - m01 + x0 * x1 - x1 * m0) / 2, (x1 * m0 - m01 + x0 * x1 - x0 * m1) / 2], axis=1)
    assert close(interventional_shapley(product, X, Z), expected, 10.0)


def test_cough_fever_closed_forms() -> None:
    """Lundberg et al. 2018 model A at x = (1, 1), baseline 0: phi = (40, 40); model B: phi = (50, 40)."""
    for name, expected in (("cough_fever", [40.0, 40.0]), ("cough_fever_10_90", [50.0, 40.0])):
        model = get_model(name)
        assert np.allclose(baseline_shapley(model.predict, np.ones((1, 2)), np.zeros(2))[0], expected, atol=1e-12)


@pytest.mark.parametrize("name", ["hms_irrelevant_nonzero", "hms_relevant_zero"])
def test_hms_examples_documented_values(name: str) -> None:
    model = get_model(name)
    table = model.truth_table()[0]
    phi = interventional_shapley(model.predict, model.witness_x, table)[0]
    assert np.allclose(phi, model.witness_shapley, atol=1e-12)
