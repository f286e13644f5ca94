"""model_randomisation (Adebayo et al. 2018) and fooling (Slack et al. 2020)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from xaicheck.axioms.base import Case, Status
from xaicheck.axioms.fooling import Fooling, top_feature_share
from xaicheck.axioms.model_randomisation import (
    ModelRandomisation,
    parameterised_layers,
    randomise_top_layers,
    randomised_cascade,
)
from xaicheck.explainers.base import Capabilities, FunctionExplainer
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth, uniform_sampler
from xaicheck.synthetic_models.shapley import baseline_shapley

D = 5


def _net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(D, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 1), nn.Flatten(0))
    return net.double().eval()


def mlp_model() -> FunctionModel:
    net = _net()

    def predict(X):
        with torch.no_grad():
            return net(torch.from_numpy(X)).numpy()

    return FunctionModel("t_mlp", "test", predict, [f"x{i}" for i in range(D)],
                         GroundTruth(relevant=frozenset(range(D))), sampler=uniform_sampler(D, -1.0, 1.0),
                         torch_factory=_net)


def randomisation_case() -> Case:
    model = mlp_model()
    rng = np.random.default_rng(0)
    return Case(check="model_randomisation", name=model.name, model=model, X=model.sample(8, rng),
                baseline=np.zeros(D), background=model.sample(8, rng),
                extra={"models": tuple(randomised_cascade(model))})


def exact(model, X, *, baseline, background, target, seed):
    return baseline_shapley(lambda Z: model.predict_target(Z, target), X, baseline)


def gradient(model, X, *, baseline, background, target, seed):
    Xt = torch.from_numpy(X).requires_grad_(True)
    model.torch_module()(Xt).sum().backward()
    return Xt.grad.numpy()


def test_cascade_randomises_from_the_top_and_is_seeded():
    model = mlp_model()
    original = model.torch_module()
    layers = parameterised_layers(original)
    assert len(layers) == 3
    twin = randomise_top_layers(original, 1, seed=3)
    new_layers = parameterised_layers(twin)
    assert torch.equal(new_layers[0].weight, layers[0].weight) and torch.equal(new_layers[1].weight, layers[1].weight)
    assert not torch.equal(new_layers[2].weight, layers[2].weight)
    assert torch.equal(parameterised_layers(randomise_top_layers(original, 1, seed=3))[2].weight, new_layers[2].weight)
    cascade = randomised_cascade(model)
    assert [m.spec()["top_layers"] for m in cascade] == [1, 2, 3]
    X = model.sample(4, np.random.default_rng(1))
    for m in cascade:  # numpy and torch forms of each randomised twin agree
        with torch.no_grad():
            np.testing.assert_allclose(m.predict(X), m.torch_module()(torch.from_numpy(X)).numpy())
        assert not np.allclose(m.predict(X), model.predict(X))
    with pytest.raises(ValueError, match="n_top=4"):
        randomise_top_layers(original, 4, seed=0)


def test_randomisation_passes_faithful_explainers_and_fails_model_independent_ones():
    check, case = ModelRandomisation(), randomisation_case()
    oracle = check.run(FunctionExplainer(exact, "t_exact", capabilities=Capabilities(uses_baseline=True)), case)
    assert oracle.passed and oracle.score == pytest.approx(1.0), oracle.message
    grad = check.run(FunctionExplainer(gradient, "t_gradient", capabilities=Capabilities(requires="torch")), case)
    assert grad.status is Status.OK and grad.passed, grad.message
    independent = {
        "input_only": FunctionExplainer(lambda m, X, **kw: X.copy(), "t_input_only"),  # an 'edge detector'
        "constant": FunctionExplainer(lambda m, X, **kw: np.ones_like(X), "t_constant"),
        "random": FunctionExplainer(lambda m, X, *, seed, **kw: np.random.default_rng(seed).normal(size=X.shape),
                                    "t_random"),
    }
    for kind, exp in independent.items():
        res = check.run(exp, case)
        assert res.status is Status.OK and not res.passed, f"{kind}: {res.message}"
        assert len(res.evidence["rho_per_stage"]) == 3 and res.evidence["rho_per_stage"][0] == pytest.approx(1.0)


# --- fooling ------------------------------------------------------------------------------------------------------

def scaffold_model() -> FunctionModel:
    """On the manifold (x2 == x1) f = x0 (sensitive); off it f = x1 (innocuous)."""

    def f(X):
        on = np.abs(X[:, 2] - X[:, 1]) < 1e-9
        return np.where(on, X[:, 0], X[:, 1])

    def sample(n, rng):
        x0 = (rng.random(n) < 0.5).astype(float)
        x1 = rng.uniform(0, 1, n)
        return np.stack([x0, x1, x1, rng.uniform(0, 1, n)], axis=1)

    model = FunctionModel("t_scaffold", "test", f, ["race", "innocuous", "copy", "noise"],
                          GroundTruth(relevant=frozenset({0})), sampler=sample)
    model.sensitive_feature, model.innocuous_feature = 0, 1  # type: ignore[attr-defined]
    return model


def test_fooling_scores_the_share_of_inputs_with_the_sensitive_feature_first():
    model = scaffold_model()
    rng = np.random.default_rng(0)
    case = Case(check="fooling", name=model.name, model=model, X=model.sample(6, rng), baseline=np.zeros(4),
                background=model.sample(16, rng))
    check = Fooling()
    onehot = lambda j: FunctionExplainer(lambda m, X, **kw: np.eye(4)[[j] * len(X)], f"t_feature{j}")  # noqa: E731
    honest = check.run(onehot(0), case)
    assert honest.passed and honest.score == 1.0
    fooled = check.run(onehot(1), case)
    assert not fooled.passed and fooled.score == 0.0 and fooled.evidence["innocuous_top_share"] == [1.0] * 6
    constant = check.run(FunctionExplainer(lambda m, X, **kw: np.ones_like(X), "t_constant"), case)
    assert constant.score == pytest.approx(1 / 4) and not constant.passed
    assert "'race' ranked 1 of 4" in honest.message and "PASS" in honest.message
    assert "FAIL" in fooled.message and "< pass threshold 0.75" in fooled.message


def test_top_feature_share_ties():
    A = np.array([[2.0, -2.0, 1.0], [0.0, 3.0, 0.0]])
    np.testing.assert_allclose(top_feature_share(A, 0), [0.5, 0.0])
    with pytest.raises(ValueError, match="feature=3"):
        top_feature_share(A, 3)


def test_real_explainers_on_registered_cases():
    from xaicheck.axioms.base import cases_of, get_check
    from xaicheck.explainers import get_explainer

    check = get_check("model_randomisation")
    cases = {c.name: c for c in cases_of(check)}
    if "mlp_base" not in cases:
        pytest.skip("mlp_base not registered yet")
    assert check.run(get_explainer("exact_baseline_shapley"), cases["mlp_base"]).score == pytest.approx(1.0)
    assert not check.run(get_explainer("constant"), cases["mlp_base"]).passed
    fooling = {c.name: c for c in cases_of(get_check("fooling"))}
    if "fooling_scaffold" in fooling:
        # Slack et al. 2020: LIME is fooled by the scaffold
        res = get_check("fooling").run(get_explainer("lime_tabular"), fooling["fooling_scaffold"])
        assert res.status is Status.OK and not res.passed, res.message


@pytest.mark.xfail(reason="random is now redrawn per model and input (issue 11), so its map changes under randomisation "
                          "like a faithful one; model_randomisation is redesigned on branch checks", strict=False)
def test_random_control_fails_model_randomisation():
    from xaicheck.axioms.base import cases_of, get_check
    from xaicheck.explainers import get_explainer

    check = get_check("model_randomisation")
    cases = {c.name: c for c in cases_of(check)}
    assert not check.run(get_explainer("random"), cases["mlp_base"]).passed
