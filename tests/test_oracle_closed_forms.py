"""Closed forms for linear and additive models equal the enumeration to 1e-12 (Shapley and Banzhaf, baseline and
interventional games), and the additive form is refused by the facts when f has an interaction."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.synthetic_models import get_model, shapley
from xaicheck.synthetic_models.closed_forms import additive_values, linear_values, linear_weights
from xaicheck.synthetic_models.strategies import inputs_for, linear_models

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.max(np.abs(a - b), initial=0.0) <= 1e-12 * max(1.0, float(np.max(np.abs(b), initial=0.0))))


def all_four(predict, X: np.ndarray, b: np.ndarray, Z: np.ndarray) -> dict[str, np.ndarray]:
    return {"baseline shapley": shapley.baseline_shapley(predict, X, b),
            "baseline banzhaf": shapley.baseline_banzhaf(predict, X, b),
            "interventional shapley": shapley.interventional_shapley(predict, X, Z),
            "interventional banzhaf": shapley.interventional_banzhaf(predict, X, Z)}


@SETTINGS
@given(st.data())
def test_linear_closed_form_equals_enumeration(data: st.DataObject) -> None:
    model = data.draw(linear_models(max_features=6))
    w = linear_weights(model, None)
    assert w is not None
    X, b = data.draw(inputs_for(model)), data.draw(inputs_for(model, max_rows=1))[0]
    Z = data.draw(inputs_for(model, min_rows=1, max_rows=6))
    for game, phi in all_four(model.predict, X, b, Z).items():
        ref = b[None, None, :] if game.startswith("baseline") else Z[None]
        assert close(linear_values(w, X, ref), phi), game


@SETTINGS
@given(st.data())
def test_additive_closed_form_equals_enumeration(data: st.DataObject) -> None:
    """f = Σ_i c_i g_i(x_i) with random coefficients over a few nonlinear g."""
    d = data.draw(st.integers(1, 6))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    coef = rng.normal(size=(3, d))
    f = lambda Z: (coef[0] * np.sin(Z) + coef[1] * np.abs(Z) + coef[2] * Z**3).sum(axis=1) + 0.7  # noqa: E731
    X, b, Z = rng.normal(size=(3, d)), rng.normal(size=d), rng.normal(size=(data.draw(st.integers(1, 5)), d))
    per_row = rng.normal(size=(3, d))
    for game, phi in all_four(f, X, b, Z).items():
        ref = b[None, None, :] if game.startswith("baseline") else Z[None]
        assert close(additive_values(f, X, ref), phi), game
    assert close(additive_values(f, X, per_row[:, None, :]), shapley.baseline_shapley(f, X, per_row))


def test_registry_additive_models() -> None:
    for name in ("additive_nonlinear", "linear_dummy", "symmetric_sum"):
        model = get_model(name)
        X, Z = model.sample(5, np.random.default_rng(0)), model.sample(4, np.random.default_rng(1))
        assert close(additive_values(model.predict, X, Z[None]), shapley.interventional_shapley(model.predict, X, Z))
        assert close(additive_values(model.predict, X, Z[:1][None]), shapley.baseline_shapley(model.predict, X, Z[0]))


def test_additive_form_wrong_for_an_interaction() -> None:
    """f = x0 x1 is not additive: the shortcut gives (x0 - b0) b1 where BShap gives (x0 - b0)(x1 + b1)/2."""
    f = lambda Z: Z[:, 0] * Z[:, 1]  # noqa: E731
    X, b = np.array([[2.0, 3.0]]), np.array([1.0, 1.0])
    assert np.allclose(shapley.baseline_shapley(f, X, b), [[2.0, 3.0]])
    assert np.allclose(additive_values(f, X, b[None, None, :]), [[1.0, 2.0]])


def test_linear_weights_only_from_a_declared_form() -> None:
    assert linear_weights(get_model("additive_nonlinear"), None) is None
    assert np.array_equal(linear_weights(get_model("linear_dummy"), None), [2.0, -1.0, 0.5, 0.0])
    assert linear_weights(get_model("linear_dummy"), 1) is None


def test_oracle_dispatch_uses_exact_shortcuts_above_threshold(monkeypatch) -> None:
    """Above ``SHORTCUT_ROWS`` the oracle explainers take the linear / tree route: same values (1e-12), and the
    linear route never calls the model."""
    from xaicheck.explainers import oracles

    monkeypatch.setattr(oracles, "SHORTCUT_ROWS", 0)
    for name in ("linear_dummy", "gbm_additive", "tree_cough_fever_10_90"):
        model = get_model(name)
        X, Z = model.sample(4, np.random.default_rng(0)), model.sample(5, np.random.default_rng(1))
        for game, ref, index, oracle in (("baseline", Z[:1], "shapley", shapley.baseline_shapley),
                                         ("baseline", Z[:4], "banzhaf", shapley.baseline_banzhaf),
                                         ("interventional", Z, "shapley", shapley.interventional_shapley)):
            fast = oracles.exact_values(model, X, ref, game=game, index=index, target=None)
            assert close(fast, oracle(model.predict, X, ref[0] if len(ref) == 1 else ref)), (name, game, index)
    model = get_model("linear_dummy")
    monkeypatch.setattr(model, "predict_target", lambda *a: (_ for _ in ()).throw(AssertionError("called")))
    oracles.exact_values(model, np.ones((2, 4)), np.zeros((1, 4)), game="baseline", index="shapley", target=None)
