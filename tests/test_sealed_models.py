"""Explainers see a sealed model and their own read-only inputs (issue 11 item 1, issue 15, issue 17 item 1).

- the ground-truth reader finds nothing to read on any registered model (it returns zeros);
- the sealed view offers the callable, a fresh torch module, a private estimator copy, names, domain, output count,
  and none of ground truth, spec, sample, twins;
- an explainer that edits the module's weights, refits the estimator or writes into X / baseline / background cannot
  change a later cell (the write fails loudly, naming the explainer);
- a user's float32 module is not converted in place; a model with an ``[n, 1]`` output works everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms.base import get_check
from xaicheck.explainers.base import Capabilities, ExplainerError, FunctionExplainer, get_explainer
from xaicheck.synthetic_models import get_model
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth, SealedModel, seal
from xaicheck.synthetic_models.registry import model_names

FORBIDDEN = ("ground_truth", "case", "twin", "twins", "twin_of", "mask", "token_weights", "spec", "describe",
             "sample", "_fn", "_sampler", "network")


def _inputs(model, n=3):
    rng = np.random.default_rng(0)
    return model.sample(n, rng), model.sample(1, rng)[0], model.sample(8, rng)


@pytest.mark.parametrize("name", model_names())
def test_ground_truth_reader_finds_nothing(name):
    model = get_model(name)
    X, b, bg = _inputs(model)
    target = 0 if model.n_outputs > 1 else None
    out = get_explainer("ground_truth_reader").explain(model, X, baseline=b, background=bg, target=target)
    np.testing.assert_array_equal(out, np.zeros(X.shape))


@pytest.mark.parametrize("name", ["linear_dummy", "tree_cough_fever", "token_sentiment", "image_patch", "mlp_base"])
def test_sealed_view_offers_the_field_and_hides_the_truth(name):
    if name not in model_names():
        pytest.skip(f"no model {name}")
    model = get_model(name)
    view = seal(model)
    assert seal(view) is view
    for attr in FORBIDDEN:
        assert not hasattr(view, attr), attr
    assert view.forms == model.forms and view.n_features == model.n_features and view.domain == model.domain
    X, *_ = _inputs(model)
    np.testing.assert_array_equal(view.predict(X), model.predict(X))
    if "torch" in model.forms:
        assert view.torch_module() is not view.torch_module()
    if "sklearn" in model.forms:
        assert view.sklearn_estimator is not model.sklearn_estimator
    with pytest.raises(AttributeError):
        view.ground_truth = model.ground_truth  # type: ignore[misc]


def _vandal(kind: str) -> FunctionExplainer:
    def fn(model, X, *, baseline, background, target, seed):
        import torch

        if kind == "weights":
            with torch.no_grad():
                for p in model.torch_module().parameters():
                    p.mul_(-7.0)
        elif kind == "refit":
            est = model.sklearn_estimator
            rng = np.random.default_rng(0)
            est.fit(rng.random((20, model.n_features)), rng.random(20))
        elif kind == "X":
            X[:] = 0.0
        elif kind == "background":
            background += 1.0
        return np.zeros(X.shape)

    return FunctionExplainer(fn, f"vandal_{kind}", capabilities=Capabilities(uses_background=True))


@pytest.mark.parametrize("kind,model_name,victim", [
    ("weights", "linear_dummy", "integrated_gradients"),
    ("refit", "tree_cough_fever", "shap_tree"),
    ("X", "linear_dummy", "integrated_gradients"),
    ("background", "linear_dummy", "shap_exact"),
])
def test_a_vandal_cannot_change_a_later_cell(kind, model_name, victim):
    model = get_model(model_name)
    X, b, bg = _inputs(model)
    X0, bg0 = X.copy(), bg.copy()
    clean = get_explainer(victim)
    before = clean.explain(model, X, baseline=b, background=bg)
    if kind in ("X", "background"):
        with pytest.raises(ExplainerError, match=f"vandal_{kind} wrote into its input"):
            _vandal(kind).explain(model, X, baseline=b, background=bg)
    else:
        _vandal(kind).explain(model, X, baseline=b, background=bg)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(bg, bg0)
    np.testing.assert_array_equal(clean.explain(model, X, baseline=b, background=bg), before)


def _user_model(module, n_outputs: int = 1) -> FunctionModel:
    import torch

    def predict(X):
        with torch.no_grad():
            return module(torch.as_tensor(np.asarray(X), dtype=next(module.parameters()).dtype)).double().numpy()

    return FunctionModel("user_net", "user", predict, ["a", "b", "c"], GroundTruth(relevant=frozenset({0, 1, 2})),
                         torch_factory=lambda: module, n_outputs=n_outputs)


def test_editing_weights_of_a_shared_module_cannot_change_a_later_cell():
    """The user's factory hands out the same module every time; the sealed view still gives each call a copy."""
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).double()
    model = _user_model(module)
    X = np.random.default_rng(1).random((2, 3))
    ig = get_explainer("integrated_gradients")
    before = ig.explain(model, X, baseline=np.zeros(3))
    _vandal("weights").explain(model, X, background=X)
    np.testing.assert_array_equal(ig.explain(model, X, baseline=np.zeros(3)), before)


def test_a_users_float32_module_is_not_converted_in_place():
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    model = _user_model(module)
    X = np.random.default_rng(1).random((2, 3))
    out = get_explainer("saliency").explain(model, X)
    assert out.shape == (2, 3) and np.all(np.isfinite(out))
    assert next(module.parameters()).dtype == torch.float32
    module(torch.zeros(1, 3))  # the user's float32 code still runs


def test_an_n_by_1_output_works_for_explainers_and_model_randomisation():
    import torch

    from xaicheck.axioms.base import Case

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).double()
    model = _user_model(module)
    X = np.random.default_rng(1).random((4, 3))
    assert model.predict(X).shape == (4, 1) and model.predict_target(X).shape == (4,)
    for name in ("saliency", "integrated_gradients", "occlusion", "random"):
        out = get_explainer(name).explain(model, X, baseline=np.zeros(3))
        assert out.shape == (4, 3), name
    from xaicheck.axioms.model_randomisation import randomised_cascade

    check = get_check("model_randomisation")
    case = Case(check=check.name, name="user_net", model=model, X=X, baseline=np.zeros(3),
                extra={"models": tuple(randomised_cascade(model))})
    result = check.run(get_explainer("saliency"), case)
    assert result.status.value == "ok", result.message


def test_sealed_model_is_not_a_synthetic_model():
    view = seal(get_model("linear_dummy"))
    assert isinstance(view, SealedModel)
    assert view.predict_target(np.zeros((1, 4))).shape == (1,)
