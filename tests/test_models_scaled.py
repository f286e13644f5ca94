"""The scaled families (synthetic_models/scaled.py): ground truth proven by intervention and enumeration, torch
forms exact, twins equivalent, and cases drawn from the case seed."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms.base import cases_of, get_check
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.scaled import (EXACT_GRID, FAMILIES, SCALE_DIMS, SCALE_GRID, GridPoint, n_dummies,
                                              scaled_case_parts, scaled_model, scaled_twin)
from xaicheck.synthetic_models.seeding import case_seed, using_case_seed
from xaicheck.synthetic_models.shapley import baseline_shapley

PAIRS = [(f, d) for f in FAMILIES for d in SCALE_DIMS]


def _torch_out(model, X: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model.torch_module()(torch.tensor(X)).numpy()


@pytest.mark.parametrize("family,d", PAIRS)
def test_dummies_never_move_f_and_relevant_features_do(family: str, d: int) -> None:
    """Intervention: redrawing the dummy features never changes f; each relevant feature changes f somewhere."""
    model = scaled_model(family, d, 0)
    gt = model.ground_truth
    assert len(gt.dummy) == n_dummies(d) and gt.relevant | gt.dummy == frozenset(range(d))
    rng = np.random.default_rng(1)
    X = model.sample(256, rng)
    Z = X.copy()
    Z[:, sorted(gt.dummy)] = model.sample(256, rng)[:, sorted(gt.dummy)]
    np.testing.assert_array_equal(model.predict(X), model.predict(Z))
    for i in sorted(gt.relevant):
        Y = X.copy()
        Y[:, i] = 1.0 - Y[:, i] if model.domain == "binary" else model.sample(256, rng)[:, i]
        assert np.abs(model.predict(Y) - model.predict(X)).max() > 1e-9, f"feature {i} of {model.name} is inert"


@pytest.mark.parametrize("family,d", [(f, d) for f, d in PAIRS if d <= 12])
def test_torch_form_is_exact(family: str, d: int) -> None:
    model = scaled_model(family, d, 0)
    X = model.sample(64, np.random.default_rng(2))
    np.testing.assert_allclose(_torch_out(model, X), model.predict(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("family", ["additive", "correlated"])
@pytest.mark.parametrize("d", [4, 8, 12])
def test_closed_form_equals_enumeration(family: str, d: int) -> None:
    """The closed-form baseline Shapley equals the exact 2^d enumeration."""
    model = scaled_model(family, d, 3)
    rng = np.random.default_rng(3)
    X, b = model.sample(8, rng), model.sample(1, rng)[0]
    exact = baseline_shapley(model.predict, X, b)
    np.testing.assert_allclose(model.ground_truth.exact_attribution(X, b), exact, rtol=0, atol=1e-10)


def test_boolean_ground_truth_matches_its_clauses() -> None:
    """Relevant = the variables the clauses use, read off the truth table; interactions lie within clauses."""
    model = scaled_model("boolean", 12, 0)
    used = model.formula.variables()
    assert model.ground_truth.relevant == used
    clause_of = {i: k for k, (_, f) in enumerate(model.formula.terms) for i in f.variables()}
    for pair in model.ground_truth.interactions:
        i, j = sorted(pair)
        assert clause_of[i] == clause_of[j]


@pytest.mark.parametrize("d", SCALE_DIMS)
def test_mlp_twin_is_the_same_function_with_other_weights(d: int) -> None:
    point = GridPoint("mlp", d, 32, frozenset({"default"}))
    _, source, X, _, _ = scaled_case_parts(point)
    twin = scaled_twin(point)
    assert twin.twin_of == source.name
    assert twin.network.hidden_sizes != source.network.hidden_sizes
    Z = np.vstack([X, source.sample(512, np.random.default_rng(4)) * 3.0])  # also off the domain
    np.testing.assert_allclose(twin.predict(Z), source.predict(Z), rtol=1e-12, atol=1e-12)


def test_correlated_dummies_are_copies() -> None:
    model = scaled_model("correlated", 16, 0)
    X = model.sample(20000, np.random.default_rng(5))
    C = np.corrcoef(X.T)
    for j in sorted(model.ground_truth.dummy):
        assert np.abs(C[j, sorted(model.ground_truth.relevant)]).max() > 0.85


def test_same_seed_same_bytes_other_seed_other_model() -> None:
    a, b, c = scaled_model("additive", 8, 0), scaled_model("additive", 8, 0), scaled_model("additive", 8, 1)
    assert a is b and a.name == "additive_d8" and c.name == "additive_d8_s1"
    assert a.spec()["w"] != c.spec()["w"]
    point = GridPoint("boolean", 8, 32, frozenset({"default"}))
    first, again = scaled_case_parts(point, 0), scaled_case_parts(point, 0)
    assert first[2].tobytes() == again[2].tobytes() and not first[2].any(axis=1).__invert__().any()
    assert get_model("additive_d8") is a


def test_case_seed_regenerates_cases() -> None:
    """cases_of(check, seed) builds the cases under that case seed: the scaled cases change with it, the ids do not."""
    check = get_check("ground_truth_agreement")
    zero = {c.name: c for c in cases_of(check, 0)}
    one = {c.name: c for c in cases_of(check, 1)}
    assert zero.keys() == one.keys()
    assert zero["mlp_d8"].model.name == "mlp_d8" and one["mlp_d8"].model.name == "mlp_d8_s1"
    assert not np.array_equal(zero["mlp_d8"].X, one["mlp_d8"].X)
    assert not np.array_equal(zero["janzing_dependent"].background, one["janzing_dependent"].background)
    assert cases_of(check, 0)[0] is cases_of(check, 0)[0]
    assert case_seed() == 0
    with using_case_seed(7):
        assert case_seed() == 7
    with pytest.raises(ValueError, match="case seed"):
        with using_case_seed(-1):
            pass


def test_grids_keep_the_exact_oracle_feasible() -> None:
    assert all(p.d <= 16 and p.rows >= 32 for p in EXACT_GRID)
    every = {(f, d) for f in FAMILIES for d in SCALE_DIMS}
    assert SCALE_DIMS == (4, 8, 12, 16)  # issue 12: the default suite judges d in {4, 8, 12, 16} in every family
    assert {(p.family, p.d) for p in EXACT_GRID if "default" in p.tiers} == every
    assert {(p.family, p.d) for p in SCALE_GRID if "default" in p.tiers} == {(f, d) for f in FAMILIES for d in (4, 8)}
    assert {(p.family, p.d) for p in EXACT_GRID} == {(f, d) for f in FAMILIES for d in SCALE_DIMS}
    assert {(p.family, p.d) for p in SCALE_GRID} >= {(f, d) for f in FAMILIES for d in SCALE_DIMS}
    assert {(p.family, p.d) for p in SCALE_GRID if "quick" in p.tiers} == {("additive", 8)}
    assert not any("quick" in p.tiers for p in EXACT_GRID)
