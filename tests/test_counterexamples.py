"""The counterexample search: finds known violations and reports the minimal (hypothesis-shrunk) one; finds none
for an explainer that provably satisfies the axiom; the model families it searches are exact."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import find, given, settings
from hypothesis import strategies as st

from xaicheck.axioms import get_check
from xaicheck.axioms._helpers import binary_points, formally_irrelevant
from xaicheck.axioms.counterexamples import (Example, boolean_nets, equivalent_pairs, find_counterexample, mlp_model,
                                    random_twins, relu_nets, search_skip_reason)
from xaicheck.axioms.input_invariance import shifted_twin
from xaicheck.explainers import Capabilities, FunctionExplainer, get_explainer
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.shapley import baseline_shapley, interventional_shapley

warnings.filterwarnings("ignore", message="Setting forward, backward hooks")
FAST = settings(max_examples=15, deadline=None, derandomize=True, database=None)


def _bshap(model, X, *, baseline, background, target, seed):
    return baseline_shapley(model.predict, X, baseline)


BSHAP = FunctionExplainer(_bshap, "test_bshap", family="oracle", capabilities=Capabilities(uses_baseline=True))
UNIFORM_SHAPLEY = FunctionExplainer(
    lambda model, X, *, background, **_: interventional_shapley(model.predict, X, background), "test_uniform_shapley",
    family="oracle", capabilities=Capabilities(uses_background=True))


def _torch_out(model, X):
    with torch.no_grad():
        return model.torch_module()(torch.as_tensor(X, dtype=torch.float64)).numpy()


# ------------------------------------------------------------------------------------------------ known violations
def test_gradient_violates_sensitivity_with_a_minimal_example():
    ce = find_counterexample("sensitivity", get_explainer("saliency"), budget=20)
    assert ce is not None
    x, b, a = np.array(ce.x[0]), np.array(ce.baseline[0]), np.array(ce.attributions[0])
    (i,) = np.flatnonzero(x != b)  # one differing feature ...
    assert a[i] == 0.0 and ce.expected["delta_f"] != 0.0  # ... that changes f but gets no attribution
    assert len(x) <= 2 and np.abs(x).max() <= 1 and np.abs(b).max() <= 1  # shrunk to a tiny example
    assert ce.line.startswith("saliency on f(x)=") and "attribution=" in ce.line


def test_deeplift_violates_implementation_invariance_at_the_papers_example():
    ce = find_counterexample("implementation_invariance", get_explainer("deeplift"), budget=20)
    assert ce is not None
    assert ce.x == [[3.0, 1.0]] and ce.baseline == [[0.0, 0.0]]  # Sundararajan et al. 2017, fig. / sec. 2.2
    assert ce.attributions == [[1.5, -0.5]] and ce.expected["twin_attributions"] == [2.0, -1.0]
    assert "relu(1*relu(x0) - 1*relu(x1) - 1)" in ce.line


def test_shapley_violates_formal_relevance_on_a_boolean_function():
    ce = find_counterexample("relevance", UNIFORM_SHAPLEY, budget=20)
    assert ce is not None
    x = np.array(ce.x[0])
    irrelevant = ce.expected["irrelevant"]
    assert irrelevant and len(x) == 2  # shrunk to two variables
    layers = [(np.array(W), np.array(b)) for W, b in ce.model_spec["layers"]]
    model = mlp_model(layers, ce.model_spec["formula"], domain="binary")
    assert sorted(formally_irrelevant(model.predict, x)) == irrelevant
    assert any(abs(ce.attributions[0][j]) > 1e-6 for j in irrelevant)  # HMS issue I1


@pytest.mark.parametrize("check", ["completeness", "dummy", "symmetry", "linearity"])
def test_no_counterexample_for_exact_bshap(check):
    assert find_counterexample(check, BSHAP, budget=20) is None


def test_no_counterexample_for_ig_on_equivalent_pairs():
    assert find_counterexample("implementation_invariance", get_explainer("integrated_gradients"), budget=8) is None


def test_search_arguments_are_validated():
    with pytest.raises(ValueError, match="budget=0"):
        find_counterexample("sensitivity", BSHAP, budget=0)
    with pytest.raises(KeyError, match="unknown check"):
        find_counterexample("no_such_check", BSHAP)
    stochastic = FunctionExplainer(lambda model, X, **_: X, "noisy", capabilities=Capabilities(stochastic=True))
    assert "stochastic" in search_skip_reason(stochastic)
    assert search_skip_reason(BSHAP) is None


# ------------------------------------------------------------------------------------------------ exact families
@FAST
@given(relu_nets(d=2), st.lists(st.integers(-3, 3), min_size=6, max_size=6))
def test_relu_nets_numpy_and_torch_agree(model, values):
    X = np.array(values, dtype=np.float64).reshape(3, 2)
    np.testing.assert_allclose(_torch_out(model, X), model.predict(X), atol=1e-12)


@FAST
@given(boolean_nets())
def test_boolean_nets_are_exact_on_the_cube(model):
    P = binary_points(model.n_features)
    out = model.predict(P)
    assert set(np.unique(out)) <= {0.0, 1.0}
    np.testing.assert_allclose(_torch_out(model, P), out, atol=1e-12)


@FAST
@given(equivalent_pairs(), st.lists(st.integers(-4, 4), min_size=8, max_size=8))
def test_equivalent_pairs_are_equal_everywhere(pair, values):
    f1, f2 = pair
    X = np.array(values, dtype=np.float64).reshape(4, 2) / 2.0
    np.testing.assert_allclose(f1.predict(X), f2.predict(X), atol=1e-12)
    np.testing.assert_allclose(_torch_out(f1, X), _torch_out(f2, X), atol=1e-12)


@pytest.mark.parametrize("name", ["mlp_base", "linear_dummy"])
def test_shifted_twin_is_exact(name):
    model = get_model(name)
    c = np.array([0.5, -1.0, 1.5, 1.0])
    twin = shifted_twin(model, c)  # verifies itself; check once more on fresh draws
    X = model.sample(5, np.random.default_rng(1))
    np.testing.assert_allclose(twin.predict(X + c), model.predict(X), atol=1e-12)
    np.testing.assert_allclose(_torch_out(twin, X + c).reshape(-1), model.predict(X), atol=1e-12)


@pytest.mark.parametrize("name", ["hms_irrelevant_nonzero", "hms_relevant_zero", "a_and_b_or_c", "cough_fever_10_90"])
def test_formal_irrelevance_by_enumeration_matches_the_model(name):
    model = get_model(name)
    for x in binary_points(model.n_features):
        assert formally_irrelevant(model.predict, x) == model.irrelevant_features(x), x


def test_hms_witness_irrelevant_feature():
    """f = x2 or (x0 and x1) at (1,1,0): the only AXp is {0,1}, so x2 is irrelevant (Huang & Marques-Silva 2023)."""
    model = get_model("hms_irrelevant_nonzero")
    assert formally_irrelevant(model.predict, np.array([1.0, 1.0, 0.0])) == frozenset({2})


def test_violation_verdict_on_a_hand_made_example():
    """saliency on f(x) = 1 - relu(1 - x) at x=2, b=0 (the IG paper's example) is a violation of sensitivity."""
    f = mlp_model([(np.array([[-1.0]]), np.array([1.0])), (np.array([[-1.0]]), np.array([1.0]))], "1-relu(1-x)")
    check = get_check("sensitivity")
    example = Example(f, np.array([2.0]), np.array([0.0]))
    assert check.violates(get_explainer("saliency"), example)
    assert not check.violates(BSHAP, example)


# ------------------------------------------------------------------------------------------------ shared strategies
def test_guided_backprop_violates_implementation_invariance_on_a_random_twin():
    """Random MLP x random equivalence transforms (``strategies.equivalent_twins``) finds what the paper pair does
    not: guided backprop differs on a twin with a cancelling pair of units. The counterexample re-builds from its
    specs (``strategies.build_from_spec``) and still violates."""
    from xaicheck.synthetic_models.strategies import build_from_spec

    gbp = get_explainer("guided_backprop")
    ce = find_counterexample("implementation_invariance", gbp, budget=20)
    assert ce is not None and ce.model_spec["kind"] == "mlp" and ce.expected["twin"]["transform"]
    source, twin = build_from_spec(ce.model_spec), build_from_spec(ce.expected["twin"])
    Z = source.sample(32, np.random.default_rng(0))
    np.testing.assert_allclose(twin.predict(Z), source.predict(Z), atol=1e-12)  # equal functions ...
    example = Example(source, np.array(ce.x[0]), np.array(ce.baseline[0]), twin)
    assert get_check("implementation_invariance").violates(gbp, example)  # ... different attributions
    assert f"[{twin.transform}]" in ce.line


@FAST
@given(random_twins(), st.lists(st.integers(-2, 2), min_size=2, max_size=2))
def test_gradient_methods_are_invariant_over_random_twins(pair, values):
    source, twin = pair
    x = np.array(values[: source.n_features], dtype=np.float64)
    check = get_check("implementation_invariance")
    for name in ("saliency", "integrated_gradients"):
        assert not check.violates(get_explainer(name), Example(source, x, np.zeros_like(x), twin)), name


@pytest.mark.parametrize("check", ["sensitivity", "dummy", "completeness", "symmetry", "linearity",
                                   "implementation_invariance", "input_invariance", "relevance"])
def test_search_spaces_reach_the_shared_strategies(check):
    """Every axiom's search space includes models drawn by ``xaicheck.synthetic_models.strategies`` (families ``random_*``)."""
    space = get_check(check).search_space(None)

    def drawn(example):
        models = [example.model, example.twin, *getattr(example.model, "parts", ())]
        return any(m is not None and str(m.family).startswith("random") for m in models)

    found = find(space, drawn, settings=settings(max_examples=200, derandomize=True, database=None, deadline=None))
    assert drawn(found)


# ------------------------------------------------------------------------------------------------ on-disk search cache
@pytest.fixture
def disk_cache(tmp_path, monkeypatch):
    from xaicheck.axioms import counterexamples as module

    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(module, "_FOUND", {})
    return tmp_path


def _no_search(*args, **kwargs):
    raise RuntimeError("the search ran")


def test_search_is_stored_once_and_reused_from_disk(disk_cache, monkeypatch):
    import json

    from xaicheck.axioms import counterexamples as module

    saliency = get_explainer("saliency")
    first = find_counterexample("sensitivity", saliency, budget=20)
    assert first is not None and len(list(disk_cache.glob("*.json"))) == 1
    monkeypatch.setattr(module, "_FOUND", {})  # a new worker / a new run: only the disk remembers
    monkeypatch.setattr(module, "find", _no_search)
    again = find_counterexample("sensitivity", saliency, budget=20)
    assert json.dumps(again.to_json(), sort_keys=True) == json.dumps(first.to_json(), sort_keys=True)
    with pytest.raises(RuntimeError, match="the search ran"):  # another budget is another search
        find_counterexample("sensitivity", saliency, budget=21)


def test_no_violation_is_cached_too(disk_cache, monkeypatch):
    from xaicheck.axioms import counterexamples as module

    oracle = get_explainer("exact_baseline_shapley")
    assert find_counterexample("sensitivity", oracle, budget=5) is None
    monkeypatch.setattr(module, "_FOUND", {})
    monkeypatch.setattr(module, "find", _no_search)
    assert find_counterexample("sensitivity", oracle, budget=5) is None


def test_cache_key_follows_check_version_and_code(disk_cache, monkeypatch):
    from xaicheck.axioms import _search_cache
    from xaicheck.axioms import counterexamples as module

    chk, saliency = get_check("sensitivity"), get_explainer("saliency")
    key = module._disk_key(chk, saliency, 20, None)
    monkeypatch.setattr(chk, "version", chk.version + 1, raising=False)
    assert module._disk_key(chk, saliency, 20, None) != key
    monkeypatch.undo()
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(disk_cache))
    monkeypatch.setattr(_search_cache, "code_fingerprint", lambda: "edited sources")
    assert module._disk_key(chk, saliency, 20, None) != key
    assert module._disk_key(chk, BSHAP, 20, None) is None  # an unregistered explainer is never cached on disk


def test_corrupt_or_disabled_cache_is_ignored(disk_cache, monkeypatch):
    from xaicheck.axioms import counterexamples as module

    saliency = get_explainer("saliency")
    first = find_counterexample("sensitivity", saliency, budget=20)
    (path,) = disk_cache.glob("*.json")
    path.write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(module, "_FOUND", {})
    assert find_counterexample("sensitivity", saliency, budget=20).line == first.line  # searched again ...
    assert path.read_text(encoding="utf-8").startswith("{")  # ... and rewritten
    path.unlink()
    monkeypatch.setenv("XAICHECK_CACHE_DIR", "off")
    monkeypatch.setattr(module, "_FOUND", {})
    find_counterexample("sensitivity", saliency, budget=20)
    assert not list(disk_cache.glob("*"))
