"""Meta-tests of the axiom checks (part A): each check FAILS on a deliberately broken explainer and PASSES on one
that provably satisfies it; scores are continuous, in [0, 1], and re-derivable from the evidence."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from xaicheck.axioms._helpers import formally_irrelevant
from xaicheck.axioms import TIERS, Status, cases_of, get_check
from xaicheck.axioms.base import all_checks
from xaicheck.explainers import Capabilities, FunctionExplainer, get_explainer
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.shapley import baseline_shapley, interventional_shapley

warnings.filterwarnings("ignore", message="Setting forward, backward hooks")

MINE = ("sensitivity", "dummy", "completeness", "symmetry", "linearity", "implementation_invariance",
        "input_invariance", "relevance")
BASELINE = Capabilities(uses_baseline=True)


# ------------------------------------------------------------------------------------------------ test explainers
def _bshap(model, X, *, baseline, background, target, seed):
    """Exact baseline Shapley (BShap): satisfies completeness, dummy, symmetry, linearity, sensitivity(a)."""
    return baseline_shapley(lambda Z: model.predict_target(Z, target), X, baseline)


ORACLE = FunctionExplainer(_bshap, "test_bshap", family="oracle", capabilities=BASELINE)
CONSTANT = FunctionExplainer(lambda model, X, **_: np.ones_like(X), "test_constant", family="control")
SIGN_FLIPPED = FunctionExplainer(lambda model, X, **kw: -_bshap(model, X, **kw), "test_sign_flipped",
                                 capabilities=BASELINE)
SHUFFLED = FunctionExplainer(lambda model, X, **kw: np.roll(_bshap(model, X, **kw), 1, axis=1), "test_shuffled",
                             capabilities=BASELINE)
INDEX_WEIGHTED = FunctionExplainer(lambda model, X, **kw: _bshap(model, X, **kw) * (1.0 + np.arange(X.shape[1])),
                                   "test_index_weighted", capabilities=BASELINE)
NORMALISED = FunctionExplainer(
    lambda model, X, **kw: (lambda A: A / np.maximum(np.abs(A).sum(axis=1, keepdims=True), 1e-12))(
        _bshap(model, X, **kw)), "test_normalised", capabilities=BASELINE)


def _weight_norm(model, X, **kw):
    """Architecture-dependent: BShap times the Frobenius norm of the first linear layer of the torch form."""
    import torch

    first = next(m for m in model.torch_module().modules() if isinstance(m, torch.nn.Linear))
    return _bshap(model, X, **kw) * float(first.weight.detach().norm())


WEIGHT_NORM = FunctionExplainer(_weight_norm, "test_weight_norm", capabilities=Capabilities(
    requires="torch", uses_baseline=True))


def _formal(model, X, *, baseline, background, target, seed):
    """1 for formally relevant features, 0 for irrelevant ones (the relevance check's ideal), by enumeration of the
    abductive explanations through the callable (the sealed model carries no ground truth)."""
    return np.array([[0.0 if j in formally_irrelevant(model.predict, x) else 1.0 for j in range(X.shape[1])] for x in X])


FORMAL = FunctionExplainer(_formal, "test_formal_relevance", family="oracle")


def _uniform_shapley(model, X, *, baseline, background, target, seed):
    return interventional_shapley(lambda Z: model.predict_target(Z, target), X, background)


UNIFORM_SHAPLEY = FunctionExplainer(_uniform_shapley, "test_uniform_shapley", family="oracle",
                                    capabilities=Capabilities(uses_background=True))


def _case(check: str, name: str):
    for case in cases_of(get_check(check)):
        if case.name == name:
            return case
    raise KeyError(f"{check}/{name} not among {[c.name for c in cases_of(get_check(check))]}")


def _run(explainer, check: str, case: str):
    result = get_check(check).run(explainer, _case(check, case), seed=0)
    assert result.status is Status.OK, result.message + (result.traceback or "")
    return result


# ------------------------------------------------------------------------------------------------ contracts
@pytest.mark.parametrize("name", MINE)
def test_check_metadata_and_cases(name):
    check = get_check(name)
    assert check.category == "axioms" and 0 < check.threshold <= 1 and check.version >= 1 and check.citation
    assert "score" in type(check).__doc__  # the formula is documented
    cases = cases_of(check)
    assert cases, f"{name} has no case"
    assert len({c.id for c in cases}) == len(cases)
    assert any("quick" in c.tiers for c in cases)
    for c in cases:
        assert c.tiers <= frozenset(TIERS) and c.check == name and len(c.X) <= 64  # scaled cases: 32 rows


@pytest.mark.parametrize("name", MINE)
def test_evidence_and_message_conventions(name):
    check = get_check(name)
    case = next(c for c in cases_of(check) if "quick" in c.tiers)
    explainer = FORMAL if name == "relevance" else CONSTANT
    result = check.run(explainer, case, seed=0)
    assert result.status is Status.OK, result.message
    assert 0.0 <= result.score <= 1.0
    ev = result.evidence
    assert {"measured", "threshold", "attributions"} <= set(ev) and len(ev["attributions"]) <= 4
    json.dumps(ev)  # JSON-serialisable
    # measured is the score and threshold the pass threshold, so the message and the evidence say the same thing
    assert ev["measured"] == pytest.approx(result.score) and ev["threshold"] == check.threshold
    assert result.passed == (ev["measured"] >= ev["threshold"])
    relation = ">=" if result.passed else "<"
    assert result.message.startswith(f"{explainer.name} {name} on {case.name}: score ")
    assert f" {relation} 1.00 (pass threshold): " in result.message and "; worst: " in result.message
    assert "tolerance" in result.message or "zero:" in result.message  # the tolerance is named, not mistaken for it
    if not result.passed:
        assert result.counterexample is not None and result.counterexample.line
        json.dumps(result.counterexample.to_json())


# ------------------------------------------------------------------------------------------------ pass / fail
PASSES = [
    (ORACLE, "sensitivity", "one_minus_relu"), (ORACLE, "sensitivity", "and"), (ORACLE, "sensitivity", "linear_dummy"),
    (ORACLE, "dummy", "linear_dummy"), (ORACLE, "dummy", "and_with_dummy"), (ORACLE, "dummy", "mlp_base"),
    (ORACLE, "completeness", "linear_dummy"), (ORACLE, "completeness", "mlp_base"),
    (ORACLE, "completeness", "sundararajan_pair_a"), (ORACLE, "completeness", "and"),
    (ORACLE, "symmetry", "symmetric_sum"), (ORACLE, "symmetry", "and"), (ORACLE, "symmetry", "majority3"),
    (ORACLE, "linearity", "linear_dummy+mlp_base"), (ORACLE, "linearity", "and+xor"),
    (ORACLE, "implementation_invariance", "ig_paper_pair"), (ORACLE, "implementation_invariance", "mlp_rescaled"),
    (ORACLE, "input_invariance", "mlp_base"),
    (FORMAL, "relevance", "hms_irrelevant_nonzero"), (FORMAL, "relevance", "hms_relevant_zero"),
    (FORMAL, "relevance", "a_and_b_or_c"),
]
FAILS = [
    (SHUFFLED, "sensitivity", "and"), (CONSTANT, "dummy", "linear_dummy"), (SHUFFLED, "dummy", "mlp_base"),
    (SIGN_FLIPPED, "completeness", "linear_dummy"), (CONSTANT, "completeness", "and"),
    (WEIGHT_NORM, "completeness", "mlp_base"), (INDEX_WEIGHTED, "symmetry", "symmetric_sum"),
    (INDEX_WEIGHTED, "symmetry", "and"), (NORMALISED, "linearity", "linear_dummy+mlp_base"),
    (WEIGHT_NORM, "implementation_invariance", "mlp_rescaled"), (WEIGHT_NORM, "implementation_invariance", "mlp_cancelling"),
    (ORACLE, "input_invariance_fixed_reference", "mlp_base"), (CONSTANT, "relevance", "hms_irrelevant_nonzero"),
    (UNIFORM_SHAPLEY, "relevance", "hms_irrelevant_nonzero"), (UNIFORM_SHAPLEY, "relevance", "hms_relevant_zero"),
]


@pytest.mark.parametrize("explainer,check,case", PASSES, ids=[f"{e.name}-{c}/{k}" for e, c, k in PASSES])
def test_passes_on_explainer_that_satisfies_it(explainer, check, case):
    result = _run(explainer, check, case)
    assert result.passed and result.score == 1.0, result.message
    assert result.counterexample is None


@pytest.mark.parametrize("explainer,check,case", FAILS, ids=[f"{e.name}-{c}/{k}" for e, c, k in FAILS])
def test_fails_on_broken_explainer(explainer, check, case):
    result = _run(explainer, check, case)
    assert not result.passed and result.score < 1.0, result.message
    assert result.counterexample is not None


def test_completeness_score_is_rederivable_from_evidence():
    result = _run(SIGN_FLIPPED, "completeness", "linear_dummy")
    ev = result.evidence
    err, scale = np.array(ev["per_row_error"]), np.array(ev["per_row_scale"])
    tol = ev["tolerance"]
    within = err <= tol["atol"] + tol["rtol"] * scale
    rows = np.where(within, 1.0, np.clip(1 - err / scale, 0, 1))
    assert result.score == pytest.approx(rows.mean())
    assert ev["measured"] == pytest.approx(result.score)
    assert ev["worst_normalised_error"] == pytest.approx((err / scale).max())
    # sign flip: sum a = -(f(x) - f(b)), so err = 2 |f(x) - f(b)|: scores are continuous, not 0/1
    np.testing.assert_allclose(ev["sum_attributions"], -(np.array(ev["f_x"]) - ev["f_reference"]))


def test_relevance_reproduces_huang_marques_silva_witnesses():
    """Uniform (interventional) Shapley at the HMS witnesses (padded with two dummies, which get 0):
    phi = (7,7,-5)/24 shows I1 (x2 irrelevant, non-zero); (-1/4, 0, 0) shows I3 (x1, x2 relevant, zero) and I2
    (the zero dummies tie with them)."""
    for name, issues in (("hms_irrelevant_nonzero", ["I1"]), ("hms_relevant_zero", ["I2", "I3"])):
        result = _run(UNIFORM_SHAPLEY, "relevance", name)
        model = get_model(name)
        np.testing.assert_allclose(result.evidence["attributions"][0], [*model.witness_shapley, 0.0, 0.0], atol=1e-6)
        assert result.evidence["per_row_score"][0] == 0.0  # the witness row (row 0) shows the paper's issue
        assert result.evidence["issues_per_row"][0] == issues


# ------------------------------------------------------------------------------------------------ paper claims
def test_saliency_fails_sensitivity_on_one_minus_relu_and_ig_passes():
    saliency = _run(get_explainer("saliency"), "sensitivity", "one_minus_relu")
    assert not saliency.passed and saliency.evidence["a_i"] == [0.0] and saliency.evidence["delta_f"] == [1.0]
    assert _run(get_explainer("integrated_gradients"), "sensitivity", "one_minus_relu").passed


def test_deeplift_fails_ig_paper_pair_while_ig_passes():
    deeplift = _run(get_explainer("deeplift"), "implementation_invariance", "ig_paper_pair")
    assert not deeplift.passed
    np.testing.assert_allclose(deeplift.evidence["attributions"][0], [1.5, -0.5], atol=1e-6)
    np.testing.assert_allclose(deeplift.evidence["twin_attributions"][0], [2.0, -1.0], atol=1e-6)
    assert _run(get_explainer("integrated_gradients"), "implementation_invariance", "ig_paper_pair").passed


def test_input_invariance_kindermans(monkeypatch):
    monkeypatch.setattr("xaicheck.axioms.counterexamples.SEARCH_BUDGET", 0)  # IG searches are slow; tested elsewhere
    ig, grad = get_explainer("integrated_gradients"), get_explainer("saliency")
    assert not _run(ig, "input_invariance_fixed_reference", "mlp_base").passed
    assert _run(ig, "input_invariance", "mlp_base").passed
    assert _run(grad, "input_invariance_fixed_reference", "mlp_base").passed
    assert _run(grad, "input_invariance", "mlp_base").passed
    assert not _run(get_explainer("input_x_gradient"), "input_invariance", "mlp_base").passed


def test_stochastic_explainer_gets_case_counterexample_without_search():
    noisy = FunctionExplainer(lambda model, X, seed, **_: np.random.default_rng(seed).normal(size=X.shape),
                              "test_noise", capabilities=Capabilities(stochastic=True))
    result = _run(noisy, "completeness", "linear_dummy")
    assert not result.passed
    assert result.evidence["counterexample_source"] == "case"
    assert "stochastic" in result.evidence["counterexample_search"]
    assert result.counterexample.line.startswith("test_noise on linear_dummy: x=")


# ------------------------------------------------------------------------------------------------ trees and globals
GLOBAL_ONES = FunctionExplainer(lambda model, X, **_: np.ones((1, X.shape[1])), "test_global_ones", family="global",
                                capabilities=Capabilities(scope="global"))


def test_dummy_judges_global_importances():
    """A dummy's global importance must be ~0 relative to the largest; other axioms still refuse global output."""
    impurity = _run(get_explainer("impurity_importance"), "dummy", "gbm_additive")
    assert impurity.passed and impurity.evidence["scope"] == "global"
    assert impurity.evidence["attributions"][0][3] == 0.0  # x3 was constant in training: no tree splits on it
    ones = _run(GLOBAL_ONES, "dummy", "gbm_additive")
    assert not ones.passed and ones.score == 0.0 and "global importance of dummy features [3]" in ones.message
    assert _run(get_explainer("permutation_importance"), "dummy", "linear_dummy").passed
    ok, why = get_check("completeness").applies(GLOBAL_ONES, _case("completeness", "gbm_additive"))
    assert not ok and "global" in why


def test_treeshap_is_complete_on_trees_and_saabas_is_held_to_the_baseline():
    for case in ("tree_cough_fever", "tree_cough_fever_10_90", "gbm_additive"):
        result = _run(get_explainer("shap_tree"), "completeness", case)
        assert result.passed and result.evidence["reference"] == "mean f(background)", result.message
    saabas = _run(get_explainer("saabas"), "completeness", "tree_cough_fever")  # no reference: held to f(b)
    assert not saabas.passed and saabas.evidence["reference"] == "f(baseline)"
    assert not _run(SIGN_FLIPPED, "completeness", "tree_cough_fever").passed
    assert _run(ORACLE, "symmetry", "tree_cough_fever").passed
    assert not _run(INDEX_WEIGHTED, "symmetry", "tree_cough_fever").passed


def test_every_tree_explainer_is_scored_in_the_quick_suite():
    from xaicheck.explainers import all_explainers

    trees = [e for e in all_explainers() if e.capabilities.requires == "tree"]
    assert {"shap_tree", "saabas", "impurity_importance"} <= {e.name for e in trees}
    for explainer in trees:
        # a tree interaction index (shap_tree_interactions, shapiq_tree) is judged by the interaction checks, on the
        # default suite's forest (the quick suite keeps its interaction cases to callables)
        checks, tier = (MINE, "quick") if explainer.capabilities.interaction_order < 2 else (
            [c.name for c in all_checks() if c.name.startswith("interaction_")], "default")
        judged = [case.id for name in checks for case in cases_of(get_check(name))
                  if tier in case.tiers and get_check(name).applies(explainer, case)[0]]
        assert judged, f"{explainer.name} gets no quick axiom case"
