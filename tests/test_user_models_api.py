"""Your own models through the one-line APIs (``models=``), per-row targets, the case cache per class, and the cases
each declaration brings (issue 13, section 3)."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck import FunctionExplainer, GroundTruth, check_explainer, get_explainer, wrap_model
from xaicheck.axioms.base import Case, cases_of, get_check
from xaicheck.axioms.completeness import Completeness
from xaicheck.axioms.declared_cases import user_cases
from xaicheck.axioms.pytest_api import SelectionError, iter_cells, parametrize_with_checks
from xaicheck.explainers.base import ExplainerError
from xaicheck.synthetic_models.base import FunctionModel
from xaicheck.synthetic_models.shapley import baseline_shapley
from xaicheck.synthetic_models.zoo import DeclaredTruthError, check_declared_truth


def linear(name: str = "lin", w=(2.0, -1.0, 0.0)) -> FunctionModel:
    w = np.asarray(w, dtype=np.float64)
    gt = GroundTruth(relevant=frozenset(int(i) for i in np.flatnonzero(w)),
                     dummy=frozenset(int(i) for i in np.flatnonzero(w == 0)))
    return FunctionModel(name, "test", lambda X: X @ w, [f"x{i}" for i in range(len(w))], gt)


def classifier():
    """A 3-class logistic regression on 4 features whose last feature is a dummy (its coefficients zeroed)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    y = np.argmax(X[:, :3] + 0.1 * rng.normal(size=(90, 3)), axis=1)
    est = LogisticRegression().fit(X, y)
    est.coef_[:, 3] = 0.0
    return wrap_model(est, GroundTruth(relevant=frozenset({0, 1, 2}), dummy=frozenset({3})), name="logreg3",
                      n_features=4, n_outputs=3, explained_output="predicted",
                      sampler=lambda n, r: r.normal(size=(n, 4)))


# ---------------------------------------------------------------------------------------------- models= (item 1)
def test_check_explainer_runs_on_the_given_models_only():
    df = check_explainer("exact_baseline_shapley", models=[linear, linear("lin2", (1.0, 1.0, 1.0))], timeout=0)
    assert set(df["case"]) == {"lin", "lin2"}  # the built-in cases are not run
    assert set(df[df["case"] == "lin"]["check"]) == {"completeness", "dummy", "sensitivity",
                                                      "ground_truth_agreement"}
    assert "dummy" not in set(df[df["case"] == "lin2"]["check"])  # lin2 declares no dummy
    assert (df["status"] == "ok").all() and np.allclose(df["score"], 1.0)
    only = check_explainer("zero", models=[linear], checks=["ground_truth_agreement/lin"], timeout=0)
    assert list(only["case"]) == ["lin"] and only["score"].iloc[0] == 0.0  # and a bad explainer scores 0
    with pytest.raises(SelectionError, match="no cases from model declarations"):
        check_explainer("zero", models=[linear], checks=["fooling"])
    with pytest.raises(SelectionError, match="unknown case"):
        check_explainer("zero", models=[linear], checks=["completeness/and"])  # a built-in case, not in the zoo


def test_parametrize_with_checks_takes_models(tmp_path, monkeypatch):
    (tmp_path / "tiny_zoo.py").write_text(
        "import numpy as np\nfrom xaicheck import FunctionModel, GroundTruth\n"
        "MODELS = [FunctionModel('tiny', 'zoo', lambda X: X[:, 0] * 3.0, ['a', 'b'],\n"
        "                        GroundTruth(relevant=frozenset({0}), dummy=frozenset({1})))]\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    mark = parametrize_with_checks(["exact_baseline_shapley"], models="tiny_zoo")
    ids = {p.id for p in mark.args[1]}
    assert ids == {f"exact_baseline_shapley-{c}-tiny" for c in
                   ("completeness", "dummy", "sensitivity", "ground_truth_agreement")}
    for param in mark.args[1]:
        explainer, check = param.values
        assert check(explainer).passed


# ----------------------------------------------------------------------------------------- per-row targets (item 2)
def test_a_classifier_is_explained_at_each_rows_predicted_class():
    model = classifier()
    cases = {c.check: c for c in user_cases([model])}
    case = cases["ground_truth_agreement"]
    assert np.array_equal(case.target, np.argmax(model.predict(case.X), axis=1))
    assert len(set(case.target.tolist())) > 1  # the rows really are explained at different classes
    exp = get_explainer("shap_exact")
    A = case.explain(exp, seed=0)
    for t in set(case.target.tolist()):  # each row's attribution is the one of its own class
        rows = case.target == t
        At = exp.explain(model, case.X[rows], baseline=case.baseline, background=case.background, target=t)
        np.testing.assert_allclose(A[rows], At)
    # the exact answer is per row too: Σ_i φ_i = f_{t_r}(x_r) - f_{t_r}(b)
    phi = np.vstack([baseline_shapley(lambda Z, t=t: model.predict_target(Z, t), x[None], case.baseline)
                     for x, t in zip(case.X, case.target)])
    f = model.predict(case.X)[np.arange(len(case.X)), case.target]
    fb = model.predict(np.zeros((1, 4)))[0, case.target]
    np.testing.assert_allclose(phi.sum(axis=1), f - fb, atol=1e-12)


def test_per_row_targets_are_scored_per_row():
    model = classifier()
    good = check_explainer("exact_baseline_shapley", models=[model], timeout=0,
                           checks=["completeness", "dummy", "ground_truth_agreement"])
    assert (good["status"] == "ok").all() and np.allclose(good["score"], 1.0)

    def class0(model, X, *, baseline, background, target, seed):
        """Exact Shapley values of class 0, whatever the row's target."""
        return baseline_shapley(lambda Z: model.predict_target(Z, 0), X, baseline)

    wrong = check_explainer(class0, models=[model], timeout=0, uses_baseline=True,
                            checks=["completeness", "ground_truth_agreement"]).set_index("check")["score"]
    assert wrong["completeness"] < 1.0 and wrong["ground_truth_agreement"] < 1.0
    with pytest.raises(ExplainerError, match="global"):  # one importance vector cannot follow a per-row target
        get_explainer("permutation_importance").explain(model, np.zeros((2, 4)), background=np.zeros((3, 4)),
                                                        target=np.array([0, 1]))
    case = next(c for c in user_cases([model]) if c.check == "dummy")
    ok, why = get_check("dummy").applies(get_explainer("permutation_importance"), case)
    assert not ok and "own output" in why
    with pytest.raises(ExplainerError, match="one entry per row"):
        get_explainer("shap_exact").explain(model, np.zeros((2, 4)), background=np.zeros((3, 4)), target=[0, 1, 2])


# ------------------------------------------------------------------------------------------ case cache (item 3)
def test_a_subclass_with_its_own_cases_runs_them_not_the_cached_built_ins():
    builtin = cases_of(get_check("completeness"))  # cached under the name "completeness" first
    model = linear()

    class MyCompleteness(Completeness):
        def cases(self):
            return [Case(self.name, "mine", model, np.ones((2, 3)), baseline=np.zeros(3))]

    from xaicheck.axioms.base import DEFAULT_SUITE, declared_cases
    from xaicheck.synthetic_models.registry import declared_models

    # its own curated cases replace the built-in curated ones; the models that declare themselves still bring theirs
    declared = [c.name for c in declared_cases(MyCompleteness(), declared_models(), DEFAULT_SUITE)]
    curated_builtin = {c.name for c in builtin} - set(declared)
    mine = cases_of(MyCompleteness())
    assert curated_builtin and [c.name for c in mine] == ["mine", *declared]
    assert [c.name for c in cases_of(get_check("completeness"))] == [c.name for c in builtin]
    cells = [cell for cell, _ in iter_cells(["exact_baseline_shapley"], checks=[MyCompleteness()])]
    names = [cell.case.name for cell in cells]
    assert names[0] == "mine" and not curated_builtin & set(names)


# ------------------------------------------------------------------------------- cases from declarations (item 4)
def test_a_torch_form_with_layers_brings_model_randomisation():
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    model = wrap_model(net, GroundTruth(relevant=frozenset({0, 1, 2})), name="mlp", n_features=3)
    case = next(c for c in user_cases([model]) if c.check == "model_randomisation")
    assert len(case.extra["models"]) == 2  # one randomised twin per Linear layer
    df = check_explainer("exact_baseline_shapley", models=[model], checks=["model_randomisation"], timeout=0)
    assert df["score"].iloc[0] == pytest.approx(1.0)
    assert not [c for c in user_cases([linear()]) if c.check == "model_randomisation"]  # no torch form


def patch_model(mask_idx=(1, 2)) -> FunctionModel:
    """f = Σ_{i in patch} w_i x_i on 6 'pixels'; the patch is declared as the mask."""
    mask = np.zeros(6, dtype=bool)
    mask[[1, 2]] = True
    declared = np.zeros(6, dtype=bool)
    declared[list(mask_idx)] = True
    w = np.where(mask, [0, 3.0, 1.0, 0, 0, 0], 0.0)
    gt = GroundTruth(relevant=frozenset({1, 2}), dummy=frozenset({0, 3, 4, 5}), mask=declared)
    return FunctionModel("patch", "test", lambda X: X @ w, [f"p{i}" for i in range(6)], gt, domain="image")


def test_a_declared_mask_brings_localisation_and_is_checked():
    case = next(c for c in user_cases([patch_model()]) if c.check == "localisation")
    assert case.X.shape == (4, 6)
    scores = check_explainer("exact_baseline_shapley", models=[patch_model()], checks=["localisation"], timeout=0)
    assert scores["score"].iloc[0] == pytest.approx(1.0)
    flat = FunctionExplainer(lambda model, X, **kw: np.ones(X.shape), "flat")
    assert check_explainer(flat, models=[patch_model()], checks=["localisation"], timeout=0)["score"].iloc[0] < 0.5
    with pytest.raises(DeclaredTruthError, match="outside the declared mask"):
        check_declared_truth(patch_model(mask_idx=(1,)))


def test_relevant_features_bring_sensitivity_and_binary_models_relevance():
    case = next(c for c in user_cases([linear()]) if c.check == "sensitivity")
    assert np.all((case.X != 0).sum(axis=1) == 1)  # each row moves one feature away from the zero baseline
    assert set(np.argmax(case.X != 0, axis=1).tolist()) == {0, 1}  # the relevant ones; the dummy is not moved
    gt = GroundTruth(relevant=frozenset({0, 1}), dummy=frozenset({2}))
    or_ = FunctionModel("or_dummy", "test", lambda X: np.maximum(X[:, 0], X[:, 1]), ("a", "b", "d"), gt,
                        domain="binary")
    and_ = FunctionModel("and_dummy", "test", lambda X: X[:, 0] * X[:, 1], ("a", "b", "d"), gt, domain="binary")
    assert {"relevance", "sensitivity", "dummy"} <= {c.check for c in user_cases([or_])}
    # a AND b: no single feature moved from 0 changes f, so sensitivity(a) has nothing to ask
    assert "sensitivity" not in {c.check for c in user_cases([and_])}
    assert "relevance" not in {c.check for c in user_cases([linear()])}  # continuous: formal relevance undefined
    df = check_explainer("exact_baseline_shapley", models=[or_], checks=["relevance", "sensitivity"], timeout=0)
    assert (df["status"] == "ok").all() and df.set_index("check")["score"]["sensitivity"] == 1.0


def test_sensitivity_fails_an_explainer_blind_to_a_relevant_feature():
    def first_only(model, X, *, baseline, background, target, seed):
        """Credits feature 0 alone with the whole change (misses feature 1)."""
        out = np.zeros(X.shape)
        out[:, 0] = model.predict(X) - model.predict(np.broadcast_to(baseline, X.shape))
        return out

    df = check_explainer(first_only, models=[linear()], checks=["sensitivity"], timeout=0, uses_baseline=True)
    assert df["score"].iloc[0] == pytest.approx(0.5)  # one of the two one-feature moves got no credit
