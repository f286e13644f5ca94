"""Fooling scaffold (Slack et al. 2020): biased on the data, innocuous off it; detector accuracy documented."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.adversarial import PERTURBATIONS, manifold_membership


@pytest.fixture(scope="module")
def scaffold():
    return get_model("fooling_scaffold")


def test_detector_accuracy_is_documented_and_high(scaffold) -> None:
    acc = scaffold.detector_accuracy
    # measured at seed 0: real 0.986; every off-manifold perturbation detected (1.0); agreement >= 0.99
    assert acc["real"] >= 0.95
    for kind in PERTURBATIONS:
        assert acc[f"{kind}_off_manifold"] >= 0.95, (kind, acc)
        assert acc[f"{kind}_agreement"] >= 0.95, (kind, acc)
    json.dumps(scaffold.spec())


def test_biased_on_the_data(scaffold) -> None:
    X = scaffold.sample(400, np.random.default_rng(10))
    assert manifold_membership(X).all()
    fidelity = np.mean(scaffold.predict(X) == X[:, scaffold.sensitive_feature])
    assert fidelity >= 0.95


@pytest.mark.parametrize("kind", list(PERTURBATIONS))
def test_innocuous_off_the_manifold(scaffold, kind: str) -> None:
    rng = np.random.default_rng(11)
    P = PERTURBATIONS[kind](scaffold.sample(400, rng), rng)
    off = ~manifold_membership(P)
    assert off.sum() > 50
    out = scaffold.predict(P[off])
    assert np.mean(out == P[off, scaffold.innocuous_feature]) >= 0.95
    assert np.mean(scaffold.on_manifold(P[off])) < 0.05


def test_ground_truth_and_forms(scaffold) -> None:
    assert scaffold.sensitive_feature == 0 and scaffold.innocuous_feature == 1
    assert scaffold.ground_truth.relevant == frozenset({0})
    assert scaffold.forms == frozenset({"callable"})
    assert scaffold.torch_module() is None


def test_deterministic(scaffold) -> None:
    from xaicheck.synthetic_models.adversarial import fooling_scaffold

    again = fooling_scaffold()
    rng = np.random.default_rng(12)
    X = np.vstack([scaffold.sample(50, rng), rng.normal(size=(50, 4))])
    np.testing.assert_array_equal(again.predict(X), scaffold.predict(X))
    assert again.detector_accuracy == scaffold.detector_accuracy


def test_differentiable_scaffold_is_exact_in_torch_and_fools_off_the_manifold() -> None:
    import torch

    from xaicheck.synthetic_models.adversarial import gate_numpy

    model = get_model("fooling_scaffold_torch")
    rng = np.random.default_rng(13)
    X = model.sample(300, rng)
    assert np.all(gate_numpy(X) == 1.0) and np.array_equal(model.predict(X), X[:, 0])  # race on the data
    assert model.on_manifold(X).all()
    module = model.torch_module()
    assert module is not model.torch_module()  # a fresh module per call
    assert {"gate", "biased", "innocuous"} <= {n for n, _ in module.named_children()}
    for kind, fn in PERTURBATIONS.items():
        P = fn(X, rng)
        with torch.no_grad():
            np.testing.assert_allclose(module(torch.from_numpy(P)).numpy(), model.predict(P), atol=1e-12)
        off = ~manifold_membership(P)
        assert np.mean(gate_numpy(P[off]) < 1.0) >= 0.99, kind  # off-manifold perturbations leave the gate
        assert np.mean(model.predict(P[off]) == P[off, 1]) >= 0.5, kind  # mostly the innocuous feature
    Xt = torch.from_numpy(X[:5]).requires_grad_(True)
    module(Xt).sum().backward()
    np.testing.assert_allclose(Xt.grad.numpy(), np.eye(4)[[0] * 5])  # the gradient on the data reads race only
