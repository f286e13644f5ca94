"""Boolean formulas, their exact ReLU networks, formal relevance and the logic zoo."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.boolean import (And, AtLeast, Const, Majority, Not, Or, Parity, Table, Var, WeightedSum, Xor,
                                      compile_network, formula_from_json)
from xaicheck.synthetic_models.boolean_model import BooleanModel
from xaicheck.synthetic_models.logic_zoo import hms_witnesses, shapley_relevance_issues
from xaicheck.synthetic_models.shapley import interventional_shapley
from xaicheck.synthetic_models.strategies import boolean_models, build_from_spec

LOGIC_MODELS = ["and", "or", "xor", "a_and_b_or_c", "cough_fever", "cough_fever_10_90", "majority3", "parity3",
                "and_with_dummy", "hms_irrelevant_nonzero", "hms_relevant_zero"]
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
x0, x1, x2, x3 = Var(0), Var(1), Var(2), Var(3)


def torch_outputs(model: BooleanModel, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.torch_module()(torch.from_numpy(X)).numpy()


def brute_force_irrelevant(model: BooleanModel, x: np.ndarray) -> frozenset[int]:
    """Features in no subset-minimal sufficient set, by checking every subset directly."""
    X, y = model.truth_table()
    fx = y[(x.astype(int) << np.arange(len(x))).sum()]
    d = len(x)
    sufficient = {S for r in range(d + 1) for S in itertools.combinations(range(d), r)
                  if np.all(y[np.all(X[:, list(S)] == x[list(S)], axis=1)] == fx)}
    minimal = [S for S in sufficient if not any(set(T) < set(S) for T in sufficient)]
    return frozenset(range(d)) - frozenset(i for S in minimal for i in S)


@pytest.mark.parametrize("name", LOGIC_MODELS)
def test_zoo_truth_table_numpy_equals_torch_exactly(name: str) -> None:
    model = get_model(name)
    X, y = model.truth_table()
    assert np.array_equal(model.predict(X), y)
    assert np.array_equal(torch_outputs(model, X), y)
    assert any(isinstance(m, torch.nn.ReLU) for m in model.torch_module().modules())
    assert model.domain == "binary" and model.forms >= {"callable", "torch"}
    json.dumps(model.spec())


@pytest.mark.parametrize("name, table", [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]),
    ("a_and_b_or_c", [0, 0, 0, 1, 0, 1, 0, 1]), ("majority3", [0, 0, 0, 1, 0, 1, 1, 1]),
    ("parity3", [0, 1, 1, 0, 1, 0, 0, 1]), ("and_with_dummy", [0, 0, 0, 1, 0, 0, 0, 1]),
    ("cough_fever", [0, 0, 0, 80]), ("cough_fever_10_90", [0, 10, 0, 90]),
])
def test_zoo_functions(name: str, table: list[int]) -> None:
    assert get_model(name).truth_table()[1].tolist() == table


def test_every_operator_compiles_exactly() -> None:
    formulas = [Not(x0), Const(True), And(x0, x1, x2, x3), Or(x0, Not(x1), x3), Xor(x0, x1, x2),
                AtLeast(2, x0, Not(x1), x2 ^ x3), AtLeast(0, x0), AtLeast(5, x0, x1), Majority(x0, x1, x2, x3),
                Parity(x0, x1, x2, x3), Table([3, 1], [0.5, -1.0, 3.0, 2.0]), (x0 & x1) ^ (x2 | ~x0) ^ x3,
                80 * (x0 & x1) + 10 * x0 + 3.5, Majority(And(x0, x1), Or(x2, x3), Xor(x0, x3))]
    X = BooleanModel("probe", x0, n_vars=4).truth_table()[0]
    for formula in formulas:
        model = BooleanModel("f", formula, n_vars=4, n_dummies=1)
        Xd, y = model.truth_table()
        assert np.array_equal(y, formula.evaluate(Xd)), formula
        assert np.array_equal(torch_outputs(model, Xd), y), formula
        assert np.array_equal(compile_network(formula, 4).predict(X), formula.evaluate(X)), formula
        assert formula_from_json(json.loads(json.dumps(formula.to_json()))).to_json() == formula.to_json()


def test_operators_match_python_logic() -> None:
    X = BooleanModel("probe", x0, n_vars=3).truth_table()[0].astype(int)
    a, b, c = X.T
    cases = {And(x0, x1, x2): a & b & c, Or(x0, x1, x2): a | b | c, Xor(x0, x1, x2): a ^ b ^ c,
             Majority(x0, x1, x2): (a + b + c >= 2), Parity(x0, x1, x2): (a + b + c) % 2,
             AtLeast(1, x0, x1, x2): (a + b + c >= 1), Not(x0): 1 - a}
    for formula, expected in cases.items():
        assert np.array_equal(formula.evaluate(X.astype(float)), expected.astype(float)), formula


def test_numeric_formula_cannot_feed_a_gate() -> None:
    with pytest.raises(TypeError, match="boolean"):
        And(x0, WeightedSum(((2.0, x1),)))


def test_gradients_flow_through_relu_modules() -> None:
    """Inside the cube (off the kinks that table points sit on) every input of a AND (b OR c) gets gradient 1,
    including a, which is carried through a layer as relu(a + 1) - 1."""
    model = get_model("a_and_b_or_c")
    x = torch.tensor([[0.9, 0.4, 0.2]], dtype=torch.float64, requires_grad=True)
    model.torch_module()(x).sum().backward()
    assert x.grad is not None and torch.equal(x.grad[0], torch.ones(3, dtype=torch.float64))


def test_off_table_predict_is_the_network() -> None:
    model = get_model("majority3")
    X = np.array([[0.5, 0.2, 0.9], [1.0, 0.3, 1.0]])
    assert np.allclose(model.predict(X), torch_outputs(model, X), rtol=0, atol=1e-12)


def test_ground_truth_of_zoo() -> None:
    gt = get_model("and_with_dummy").ground_truth
    assert gt.relevant == {0, 1} and gt.dummy == {2} and gt.formally_irrelevant == {2}
    assert frozenset({0, 1}) in gt.symmetric_groups
    assert frozenset({0, 1, 2}) in get_model("majority3").ground_truth.symmetric_groups
    abc = get_model("a_and_b_or_c").ground_truth
    assert abc.symmetric_groups == (frozenset({1, 2}),) and abc.formally_irrelevant == frozenset()
    assert frozenset({0, 1}) in abc.interactions
    assert get_model("cough_fever_10_90").ground_truth.symmetric_groups == ()


@pytest.mark.parametrize("name, x, axps, irrelevant", [
    ("and", (0, 0), [{0}, {1}], set()),
    ("and", (0, 1), [{0}], {1}),
    ("and", (1, 1), [{0, 1}], set()),
    ("or", (1, 1), [{0}, {1}], set()),
    ("xor", (1, 0), [{0, 1}], set()),
    ("a_and_b_or_c", (1, 1, 1), [{0, 1}, {0, 2}], set()),
    ("a_and_b_or_c", (0, 1, 1), [{0}], {1, 2}),
    ("a_and_b_or_c", (1, 0, 0), [{1, 2}], {0}),
    ("and_with_dummy", (1, 1, 0), [{0, 1}], {2}),
    ("cough_fever_10_90", (1, 0, 1), [{0, 1}], set()),
    ("cough_fever_10_90", (0, 1, 0), [{0}], {1}),
])
def test_formal_relevance_known_cases(name: str, x: tuple, axps: list, irrelevant: set) -> None:
    model = get_model(name)
    x = np.asarray(x[:model.n_features], dtype=float)
    assert sorted(map(sorted, model.abductive_explanations(x))) == sorted(map(sorted, axps))
    assert model.irrelevant_features(x) == irrelevant


def test_formal_relevance_needs_binary_input() -> None:
    with pytest.raises(ValueError, match="binary"):
        get_model("and").irrelevant_features([0.5, 1.0])


@SETTINGS
@given(boolean_models(max_vars=3))
def test_random_tables_relevance_and_forms(model: BooleanModel) -> None:
    X, y = model.truth_table()
    assert np.array_equal(torch_outputs(model, X), y)
    for x in X:
        assert model.irrelevant_features(x) == brute_force_irrelevant(model, x)
    assert model.ground_truth.formally_irrelevant == model.ground_truth.dummy  # Huang & Marques-Silva 2023, Prop.
    rebuilt = build_from_spec(json.loads(json.dumps(model.spec())))
    assert np.array_equal(rebuilt.truth_table()[1], y)


@pytest.mark.parametrize("name", ["hms_irrelevant_nonzero", "hms_relevant_zero"])
def test_hms_witnesses_documented_values(name: str) -> None:
    model = get_model(name)
    X, _ = model.truth_table()
    phi = interventional_shapley(model.predict, model.witness_x, X)[0]
    assert np.allclose(phi, model.witness_shapley, atol=1e-12)
    irrelevant = model.irrelevant_features(model.witness_x)
    if name == "hms_irrelevant_nonzero":
        assert irrelevant == {2} and abs(phi[2]) == pytest.approx(5 / 24)
    else:
        assert irrelevant == frozenset() and np.allclose(phi[1:], 0.0, atol=1e-12)
    assert model.ground_truth.dummy == frozenset()


def test_hms_witness_search() -> None:
    top = hms_witnesses("irrelevant_nonzero", 3)[0]
    assert abs(top["phi"][top["feature"]]) == pytest.approx(5 / 24)
    table = get_model("hms_irrelevant_nonzero").truth_table()[1].astype(int)
    assert top["table"] == (1 - table).tolist()  # the registered model is the complement (same relevance, -phi)
    zero = hms_witnesses("relevant_zero", 3)
    table = get_model("hms_relevant_zero").truth_table()[1].astype(int).tolist()
    assert any(w["table"] == table and w["x"] == [1, 0, 0] for w in zero)


def test_shapley_relevance_issue_counts() -> None:
    assert shapley_relevance_issues(2) == {"n": 2, "functions": 16, "irrelevant_nonzero": 8, "relevant_zero": 0,
                                           "irrelevant_dominates": 0, "any": 8}
    three = shapley_relevance_issues(3)
    assert (three["irrelevant_nonzero"], three["relevant_zero"], three["any"]) == (232, 32, 240)
