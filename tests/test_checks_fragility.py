"""model_randomisation (Adebayo et al. 2018), fooling and scaffold_shapley (Slack et al. 2020)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from xaicheck.axioms.base import Case, Status
from xaicheck.axioms.fooling import Fooling, top_feature_share
from xaicheck.axioms.model_randomisation import (
    ModelRandomisation,
    change_alignment,
    parameterised_layers,
    randomise_top_layers,
    randomised_cascade,
)
from xaicheck.explainers.base import Capabilities, FunctionExplainer
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth, uniform_sampler
from xaicheck.synthetic_models.shapley import baseline_shapley

from _check_doubles import DOUBLES  # tests/ is on sys.path (rootdir-relative test modules)

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
    """Known-good: the exact attribution (1.0) and a noisy estimate of it; known-bad: every explainer that ignores
    the model (Adebayo et al.'s edge detector, a fixed random map), and the degenerate doubles, at or below the
    stated floor. (Gradients on the registered cases: ``test_real_explainers_on_registered_cases``.)"""
    check, case = ModelRandomisation(), randomisation_case()
    oracle = check.run(FunctionExplainer(exact, "t_exact", capabilities=Capabilities(uses_baseline=True)), case)
    assert oracle.passed and oracle.score == pytest.approx(1.0), oracle.message
    noisy = FunctionExplainer(lambda m, X, *, baseline, seed, **kw: exact(m, X, baseline=baseline, background=None,
                              target=None, seed=seed) + 0.02 * np.random.default_rng(seed).normal(size=X.shape),
                              "t_noisy_estimate", capabilities=Capabilities(uses_baseline=True))
    estimate = check.run(noisy, case)
    assert estimate.passed, estimate.message
    independent = {
        "input_only": FunctionExplainer(lambda m, X, **kw: X.copy(), "t_input_only"),  # an 'edge detector'
        "constant": FunctionExplainer(lambda m, X, **kw: np.ones_like(X), "t_constant"),
        "fixed_random": FunctionExplainer(lambda m, X, *, seed, **kw: np.random.default_rng(seed).normal(
            size=X.shape), "t_fixed_random"),
    }
    DOUBLES["memoiser"].explain(mlp_model(), np.zeros_like(case.X), baseline=case.baseline)  # first answer elsewhere
    for kind, exp in {**independent, **DOUBLES}.items():
        res = check.run(exp, case)
        assert res.status is Status.OK and not res.passed, f"{kind}: {res.message}"
        assert res.score <= check.floor, f"{kind}: {res.message}"
        if kind in independent:  # no change at all: exactly 0
            assert res.score == 0.0 and res.evidence["mean_cos"] == 0.0


def test_change_alignment_by_hand():
    R, R_s = np.array([[1.0, 2.0, 3.0]]), np.array([[3.0, 2.0, 1.0]])  # centred change of |R|: (2, 0, -2)
    cos, judged = change_alignment(np.zeros((1, 3)), 5 * (R_s - R), R, R_s)  # |.| of 5*(2,0,-2) -> (10,0,10): flat
    assert judged[0] and cos[0] == pytest.approx(0.0)
    cos, _ = change_alignment(R, R_s * 7, R, R_s)  # the change of |a|: (21, 14, 7) - (1, 2, 3) = (20, 12, 4)
    assert cos[0] == pytest.approx(np.corrcoef([20, 12, 4], [2, 0, -2])[0, 1])
    cos, _ = change_alignment(R, R + np.array([[0.0, 1.0, 0.0]]), R, R_s)  # moved the feature the truth kept
    assert cos[0] == pytest.approx(np.corrcoef([0, 1, 0], [2, 0, -2])[0, 1])
    cos, judged = change_alignment(R, R + 1, R, R + 1)  # a uniform change is no change of relative importance
    assert not judged[0]


@pytest.mark.parametrize("alpha,c", [(1e-3, 0.0), (50.0, -7.0)])
def test_randomisation_is_invariant_to_units(alpha, c):
    case = randomisation_case()

    def scaled(m):
        return FunctionModel(m.name + "_scaled", "test", lambda X: alpha * m.predict(X) + c, m.feature_names,
                             m.ground_truth, sampler=m.sample)

    scaled_case = Case(check=case.check, name="scaled", model=scaled(case.model), X=case.X, baseline=case.baseline,
                       background=case.background, extra={"models": tuple(scaled(t) for t in case.extra["models"])})
    noisy = FunctionExplainer(lambda m, X, *, baseline, **kw: exact(m, X, baseline=baseline, background=None,
                                                                    target=None, seed=0) * (1 + 0.1 * np.cos(3 * X)),
                              "t_noisy", capabilities=Capabilities(uses_baseline=True))
    check = ModelRandomisation()
    assert check.run(noisy, scaled_case).score == pytest.approx(check.run(noisy, case).score, abs=1e-9)


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


def test_two_truths_are_two_checks_on_both_scaffolds():
    """Slack et al.: on the data the scaffold reads race only (fooling, a gate); as implemented its exact Shapley
    values spread over the innocuous feature and the proxies (scaffold_shapley, scored). Never averaged."""
    from xaicheck.axioms.base import cases_of, get_check
    from xaicheck.explainers import get_explainer

    gate, truth = get_check("fooling"), get_check("scaffold_shapley")
    assert gate.role == "gate" and truth.role == "score" and gate.category != truth.category
    assert {c.name for c in cases_of(gate)} == {c.name for c in cases_of(truth)} == {
        "fooling_scaffold", "fooling_scaffold_torch"}
    torch_case = {c.name: c for c in cases_of(gate)}["fooling_scaffold_torch"]
    torch_truth = {c.name: c for c in cases_of(truth)}["fooling_scaffold_torch"]
    # gradient methods now sit the scaffold: the gradient at a data point reads race alone (not fooled) ...
    saliency = gate.run(get_explainer("saliency"), torch_case)
    assert saliency.status is Status.OK and saliency.passed and saliency.score == 1.0, saliency.message
    # ... and perturbation/smoothing methods that query off the manifold are (Slack et al.)
    for name in ("lime_tabular", "smoothgrad"):
        assert not gate.run(get_explainer(name), torch_case).passed, name
    # on the other axis the exact Shapley values are right by definition and the on-data reading is wrong
    exact = truth.run(get_explainer("exact_interventional_shapley"), torch_truth)
    assert exact.score == pytest.approx(1.0) and exact.passed
    assert not gate.run(get_explainer("exact_interventional_shapley"), torch_case).passed
    assert truth.run(get_explainer("saliency"), torch_truth).score <= truth.floor


def test_scaffold_shapley_puts_the_degenerate_doubles_at_or_below_its_floor():
    from xaicheck.axioms.base import cases_of, get_check

    from xaicheck.synthetic_models import get_model

    truth = get_check("scaffold_shapley")
    DOUBLES["memoiser"].explain(get_model("pairwise_interactions"), np.ones((6, 6)), baseline=np.zeros(6))
    for case in cases_of(truth):
        assert case.model.n_features == 6  # padded: "exact when d <= 4" is not exact here
        for name, exp in DOUBLES.items():
            res = truth.run(exp, case)
            assert res.status is Status.OK and res.score <= truth.floor and not res.passed, (name, res.message)


def test_real_explainers_on_registered_cases():
    from xaicheck.axioms.base import cases_of, get_check
    from xaicheck.explainers import get_explainer

    check = get_check("model_randomisation")
    cases = {c.name: c for c in cases_of(check)}
    if "mlp_base" not in cases:
        pytest.skip("mlp_base not registered yet")
    assert check.run(get_explainer("exact_baseline_shapley"), cases["mlp_base"]).score == pytest.approx(1.0)
    assert not check.run(get_explainer("constant"), cases["mlp_base"]).passed
    # Adebayo et al. 2018: gradients change with the model, guided backprop much less
    saliency = check.run(get_explainer("saliency"), cases["mlp_trained_additive"]).score
    guided = check.run(get_explainer("guided_backprop"), cases["mlp_trained_additive"]).score
    assert saliency > 0.75 and guided < saliency - 0.2, (saliency, guided)
    fooling = {c.name: c for c in cases_of(get_check("fooling"))}
    for name in ("fooling_scaffold", "fooling_scaffold_torch"):  # Slack et al. 2020: LIME is fooled by both
        res = get_check("fooling").run(get_explainer("lime_tabular"), fooling[name])
        assert res.status is Status.OK and not res.passed, res.message


def test_random_control_fails_model_randomisation():
    """Random redrawn per model changes under randomisation, but not the way the truth does (version 2)."""
    from xaicheck.axioms.base import cases_of, get_check
    from xaicheck.explainers import get_explainer

    check = get_check("model_randomisation")
    cases = {c.name: c for c in cases_of(check)}
    for name in ("random", "constant", "zero", "identity", "split_equally"):
        res = check.run(get_explainer(name), cases["mlp_base"])
        assert not res.passed and res.score <= check.floor, res.message
