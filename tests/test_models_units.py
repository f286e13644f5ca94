"""Behaviour units (synthetic_models/behaviour_units.py): each answer proven by enumeration, closed form and
intervention, and each unit shown to break the method it is built to break."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.synthetic_models.behaviour_units import (SHATTER_AMPLITUDE, UNITS, unit_case_parts, unit_model)
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.shapley import baseline_shapley


def _grad(model, X: np.ndarray, target: int | None = None) -> np.ndarray:
    import torch

    x = torch.tensor(X, requires_grad=True)
    out = model.torch_module()(x)
    (out if target is None else out[:, target]).sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("unit", sorted(UNITS))
@pytest.mark.parametrize("d,seed", [(None, 0), (11, 1)])
def test_torch_form_and_dummies(unit: str, d: int | None, seed: int) -> None:
    import torch

    model = unit_model(unit, d, seed)
    X = model.sample(64, np.random.default_rng(0))
    with torch.no_grad():
        np.testing.assert_allclose(model.torch_module()(torch.tensor(X)).numpy(), model.predict(X), atol=1e-12)
    Z = X.copy()  # intervention: redraw the dummies, nothing moves
    dummy = sorted(model.ground_truth.dummy)
    Z[:, dummy] = model.sample(64, np.random.default_rng(1))[:, dummy] * 3.0
    np.testing.assert_allclose(model.predict(Z), model.predict(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("unit", ["conflicting", "pertinent_negative", "shattered", "interacting"])
@pytest.mark.parametrize("d,seed", [(None, 0), (11, 1)])
def test_closed_form_equals_enumeration(unit: str, d: int | None, seed: int) -> None:
    model = unit_model(unit, d, seed)
    rng = np.random.default_rng(2)
    X, b = model.sample(16, rng), model.sample(1, rng)[0]
    np.testing.assert_allclose(model.ground_truth.exact_attribution(X, b), baseline_shapley(model.predict, X, b),
                               rtol=0, atol=1e-10)


def test_conflicting_cancelled_pair_gets_opposite_halves_and_no_gradient() -> None:
    model = unit_model("conflicting")
    k = (model.n_features - 1) // 2
    x = np.zeros(model.n_features)
    x[0], x[k] = 1.5, 1.0  # x0 present, its cancel flag on
    phi = baseline_shapley(model.predict, x[None, :], np.zeros(model.n_features))[0]
    w0 = model.spec()["w"][0]
    assert phi[0] == pytest.approx(w0 * 1.5 / 2) and phi[k] == pytest.approx(-w0 * 1.5 / 2)
    assert model.predict(x[None, :])[0] == 0.0  # the contributions cancel
    assert _grad(model, x[None, :])[0, 0] == 0.0  # gradient x input calls x0 irrelevant


def test_pertinent_negative_matters_by_being_absent() -> None:
    name, model, X, b, _, _ = unit_case_parts("pertinent_negative")
    d = model.n_features
    flags = [i for i in range(d) if model.feature_names[i].startswith("z")]
    u = np.array(model.spec()["u"])
    assert np.all(X[:, flags] == 0.0) and np.all(b == 0.5)
    Y = X.copy()
    Y[:, flags[0]] = 1.0  # intervention: the flag present lowers f by u_0
    np.testing.assert_allclose(model.predict(X) - model.predict(Y), u[0])
    phi = baseline_shapley(model.predict, X, b)
    np.testing.assert_allclose(phi[:, flags], np.broadcast_to(u / 2, (len(X), len(flags))), atol=1e-12)
    assert np.all((X * _grad(model, X))[:, flags] == 0.0)  # gradient x input: exactly zero for the absent flag


def test_shattered_gradient_misleads() -> None:
    model = unit_model("shattered")
    X = model.sample(256, np.random.default_rng(3))
    b = np.zeros(model.n_features)
    phi = model.ground_truth.exact_attribution(X, b)
    w0 = model.spec()["w"][0]
    assert np.abs(phi[:, 0] - w0 * X[:, 0]).max() <= 2 * SHATTER_AMPLITUDE + 1e-12  # the oscillation is tiny
    G = _grad(model, X)
    assert np.mean(np.abs(G[:, 0]) > np.abs(G[:, 1:]).max(axis=1)) > 0.5  # yet dominates the gradient


def test_interacting_switch_picks_the_weight() -> None:
    model = unit_model("interacting")
    k = (model.n_features - 1) // 2
    p, q = np.array(model.spec()["p"]), np.array(model.spec()["q"])
    X = model.sample(32, np.random.default_rng(4))
    on, off = X.copy(), X.copy()
    on[:, k], off[:, k] = 1.0, 0.0
    np.testing.assert_allclose(model.predict(on) - model.predict(off), (q[0] - p[0]) * X[:, 0], atol=1e-12)
    assert frozenset({0, k}) in model.ground_truth.interactions


def test_uncertainty_shift_is_dummy_temperature_carries_the_doubt() -> None:
    name, model, X, b, background, target = unit_case_parts("uncertainty")
    d = model.n_features
    t, u = model.feature_names.index("temperature"), model.feature_names.index("shift")
    unsure = X.copy()
    unsure[:, t] = 1.0
    np.testing.assert_allclose(model.predict(unsure), 1.0 / 3.0, atol=1e-12)  # t = 1: uniform, fully unsure
    np.testing.assert_allclose(model.predict(b[None, :]), 1.0 / 3.0, atol=1e-12)
    phi = baseline_shapley(lambda Z: model.predict_target(Z, target), X, b)
    assert np.abs(phi[:, u]).max() <= 1e-12 and u in model.ground_truth.dummy
    # confident rows (t small) move class 0 away from 1/3: the temperature takes part of that move
    fx = model.predict_target(X, target)
    moved = np.abs(fx - 1.0 / 3.0) > 0.05
    assert np.all(np.abs(phi[moved, t]) > 1e-6) and np.allclose(phi.sum(axis=1), fx - 1.0 / 3.0)
    assert np.all(np.abs(_grad(model, X, target)[:, u]) < 1e-12)
    assert d == UNITS["uncertainty"]


def test_registered_and_seeded() -> None:
    assert get_model("unit_shattered") is unit_model("shattered")
    a, b = unit_case_parts("interacting", seed=0), unit_case_parts("interacting", seed=1)
    assert a[1].name == "unit_interacting" and b[1].name == "unit_interacting_s1"
    assert not np.array_equal(a[2], b[2])
    with pytest.raises(ValueError, match="unknown behaviour unit"):
        unit_model("nope")
