"""Functionally equivalent networks: every transform and random compositions keep the function exactly."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.equivalence import TRANSFORMS, MLPModel, MLPSpec, compose, structural_dummies
from xaicheck.synthetic_models.equivalence_zoo import TWINS
from xaicheck.synthetic_models.strategies import build_from_spec, equivalent_twins, inputs_for, mlp_models, relu_mlps

RTOL = 1e-9
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


def assert_same_function(a: np.ndarray, b: np.ndarray) -> None:
    """Equal to 1e-9 relative to the output scale (|a - b| <= 1e-9 max(1, |a|))."""
    scale = np.maximum(1.0, np.abs(a))
    assert np.all(np.abs(a - b) <= RTOL * scale), float(np.max(np.abs(a - b)))


def probe_points(d: int, seed: int = 0) -> np.ndarray:
    grid = np.stack(np.meshgrid(*[np.linspace(-1.5, 1.5, 5)] * d), -1).reshape(-1, d)
    return np.vstack([grid, np.random.default_rng(seed).normal(scale=2.0, size=(200, d))])


def torch_forward(module: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


def source_spec() -> MLPSpec:
    return get_model("mlp_base").network


@pytest.mark.parametrize("name", sorted(TWINS))
def test_zoo_twin_equals_base(name: str) -> None:
    base, twin = get_model("mlp_base"), get_model(name)
    assert twin.twin_of == "mlp_base" and twin.transform == TWINS[name]
    assert twin.ground_truth.dummy == base.ground_truth.dummy == {3}
    X = probe_points(4)
    y = base.predict(X)
    assert_same_function(y, twin.predict(X))
    assert_same_function(y, torch_forward(twin.torch_module(), X))
    assert twin.spec()["twin_of"] == "mlp_base"


def test_base_has_dummy_by_zero_weights_and_live_units() -> None:
    base = get_model("mlp_base")
    W1 = base.network.layers[0][0]
    assert np.all(W1[:, 3] == 0) and np.all(W1[:, :3] != 0)
    assert structural_dummies(base.network) == {3}
    X = base.sample(4000, np.random.default_rng(0))
    h1 = np.maximum(X @ W1.T + base.network.layers[0][1], 0)
    h2 = np.maximum(h1 @ base.network.layers[1][0].T + base.network.layers[1][1], 0)
    assert np.all((h1 > 0).mean(0) > 0.1) and np.all((h2 > 0).mean(0) > 0.1)


def test_twins_differ_internally() -> None:
    base = get_model("mlp_base").network
    assert get_model("mlp_split").network.hidden_sizes == (6, 5)
    assert get_model("mlp_identity_layer").network.hidden_sizes[1:] != base.hidden_sizes[1:] or \
        len(get_model("mlp_identity_layer").network.layers) == len(base.layers) + 1
    assert not np.array_equal(get_model("mlp_permuted").network.layers[0][0], base.layers[0][0])
    dead = get_model("mlp_dead_units").network
    assert dead.hidden_sizes[0] + dead.hidden_sizes[1] == sum(base.hidden_sizes) + 2


def test_functional_twin_has_no_relu_modules() -> None:
    mods = list(get_model("mlp_functional_relu").torch_module().modules())
    assert not any(isinstance(m, torch.nn.ReLU) for m in mods)
    assert any(isinstance(m, torch.nn.ReLU) for m in get_model("mlp_base").torch_module().modules())


def test_bias_folded_twin_has_no_biases() -> None:
    twin = get_model("mlp_bias_folded")
    assert twin.network.constant_input and all(not np.any(b) for _, b in twin.network.layers)
    linears = [m for m in twin.torch_module().modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(m.bias is None for m in linears)


def test_torch_module_is_float64_and_picklable() -> None:
    module = get_model("mlp_base").torch_module()
    assert all(p.dtype == torch.float64 for p in module.parameters())
    clone = pickle.loads(pickle.dumps(module))
    X = probe_points(4)
    assert np.array_equal(torch_forward(clone, X), torch_forward(module, X))


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_transform_keeps_the_function(transform: str, seed: int) -> None:
    spec = source_spec()
    twin = TRANSFORMS[transform](spec, np.random.default_rng(seed))
    X = probe_points(4, seed)
    assert_same_function(spec.predict(X), twin.predict(X))
    assert_same_function(spec.predict(X), torch_forward(twin.to_torch(), X))


def test_functional_relu_keeps_the_weights_bitwise() -> None:
    spec, X = source_spec(), probe_points(4)
    twin = TRANSFORMS["functional_relu"](spec, np.random.default_rng(0))
    assert np.array_equal(torch_forward(twin.to_torch(), X), torch_forward(spec.to_torch(), X))


def test_unknown_transform_and_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="unknown transform 'nope'"):
        compose(source_spec(), ["nope"], np.random.default_rng(0))
    with pytest.raises(ValueError, match="expects 3 inputs"):
        MLPSpec(((np.ones((2, 4)), np.zeros(2)), (np.ones((1, 3)), np.zeros(1))))
    with pytest.raises(ValueError, match="shape"):
        source_spec().predict(np.ones((2, 3)))


@SETTINGS
@given(st.data())
def test_random_compositions_keep_the_function(data: st.DataObject) -> None:
    spec = data.draw(relu_mlps(max_inputs=3, max_hidden=4, max_layers=2))
    twin = data.draw(equivalent_twins(spec, max_transforms=4))
    X = probe_points(spec.n_inputs)
    assert_same_function(spec.predict(X), twin.predict(X))
    assert_same_function(spec.predict(X), torch_forward(twin.to_torch(), X))


@SETTINGS
@given(st.data())
def test_twin_models_round_trip_through_json(data: st.DataObject) -> None:
    model = data.draw(mlp_models(max_inputs=3, max_hidden=3))
    twin = data.draw(equivalent_twins(model))
    X = data.draw(inputs_for(twin))
    assert isinstance(twin, MLPModel) and twin.twin_of == "random_mlp"
    assert np.all(X >= -1) and np.all(X <= 1)
    rebuilt = build_from_spec(json.loads(json.dumps(twin.spec())))
    assert np.array_equal(rebuilt.predict(X), twin.predict(X))
    assert_same_function(model.predict(X), twin.predict(X))
