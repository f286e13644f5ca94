"""Cases from declarations (issue 22): a model joins every applicable check by what it declares, no check edited; a
user's ±1 model with a non-zero baseline is judged at its declared baseline; rows follow the suite; a reference of
another kind is its own truth axis."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import numpy as np
import pytest

from xaicheck.axioms import base as axioms_base
from xaicheck.axioms.base import Status, cases_of, check_names, get_check
from xaicheck.axioms.declared_cases import declaring_checks, user_cases
from xaicheck.explainers.base import get_explainer
from xaicheck.explainers.degenerate import DEGENERATE_PANEL
from xaicheck.synthetic_models import registry
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth
from xaicheck.synthetic_models.declarations import Declarations, resolve_baseline, tiers_from
from xaicheck.synthetic_models.zoo import DeclaredTruthError, wrap_model

MODULE = textwrap.dedent('''
    """A model family that carries only declarations: no check names it."""
    import numpy as np
    from xaicheck.synthetic_models.base import FunctionModel, GroundTruth
    from xaicheck.synthetic_models.declarations import Declarations
    from xaicheck.synthetic_models.registry import register_model

    @register_model("declared_only_or3", exam=True)
    def declared_only_or3():
        truth = GroundTruth(relevant=frozenset({0, 1}), dummy=frozenset({2}), symmetric_groups=(frozenset({0, 1}),))
        return FunctionModel("declared_only_or3", "test", lambda X: np.maximum(X[:, 0], X[:, 1]),
                             ["a", "b", "c"], truth, domain="binary",
                             declarations=Declarations(tiers=frozenset({"default"})))
''')


@pytest.fixture
def declared_module(tmp_path):
    """Import a new model module from a temporary file; unregister it and drop cached cases afterwards."""
    path = tmp_path / "declared_only_models.py"
    path.write_text(MODULE)
    spec = importlib.util.spec_from_file_location("declared_only_models", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["declared_only_models"] = module
    axioms_base._CASES.clear()
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("declared_only_models", None)
        registry._unregister("declared_only_or3")
        axioms_base._CASES.clear()


def test_a_model_module_with_only_declarations_joins_every_applicable_check(declared_module):
    # a binary OR with a dummy and a symmetric pair: complete, dummy, symmetric, sensitive, formally relevant, exact
    expected = {"completeness", "dummy", "symmetry", "sensitivity", "relevance", "ground_truth_agreement"}
    for suite in ("quick", "default", "full"):
        joined = {name for name in check_names() for case in cases_of(get_check(name), 0, suite)
                  if case.model.name == "declared_only_or3" and suite in case.tiers}
        assert joined == (set() if suite == "quick" else expected), suite
    case = next(c for c in cases_of(get_check("dummy"), 0, "full") if c.name == "declared_only_or3")
    assert case.tiers == frozenset({"default", "full"})


PLACED_MODULE = textwrap.dedent('''
    """A model family placed in checks' curated cases from its own registration: no check names it."""
    import numpy as np
    from xaicheck.synthetic_models.base import FunctionModel, GroundTruth
    from xaicheck.synthetic_models.declarations import Placement
    from xaicheck.synthetic_models.registry import register_model

    @register_model("placed_only_or3", placed={"completeness": "default", "dummy": "quick",
                                               "symmetry": Placement("full", params={}),
                                               "relevance": "quick", "model_randomisation": "quick"})
    def placed_only_or3():
        truth = GroundTruth(relevant=frozenset({0, 1}), dummy=frozenset({2}), symmetric_groups=(frozenset({0, 1}),))
        return FunctionModel("placed_only_or3", "test", lambda X: np.maximum(X[:, 0], X[:, 1]),
                             ["a", "b", "c"], truth, domain="binary")
''')


def _import_module(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_a_model_placed_at_registration_joins_the_curated_cases_its_facts_allow(tmp_path):
    """Placed under five keys; relevance (not a boolean formula) and model randomisation (no torch form) decide
    from the model's facts that no case follows; the others follow in the declared suites."""
    axioms_base._CASES.clear()
    try:
        _import_module(tmp_path, "placed_only_models", PLACED_MODULE)
        want = {"quick": {"dummy"}, "default": {"dummy", "completeness"},
                "full": {"dummy", "completeness", "symmetry"}}
        for suite, expected in want.items():
            joined = {name for name in check_names() for case in cases_of(get_check(name), 0, suite)
                      if case.model.name == "placed_only_or3" and suite in case.tiers}
            assert joined == expected, suite
        case = next(c for c in cases_of(get_check("completeness"), 0, "full") if c.name == "placed_only_or3")
        assert case.tiers == frozenset({"default", "full"}) and case.X.shape == (4, 3)
        assert not np.any(np.all(case.X == 0, axis=1))  # non-zero corners, all-ones first
    finally:
        sys.modules.pop("placed_only_models", None)
        registry._unregister("placed_only_or3")
        axioms_base._CASES.clear()


def test_a_placement_under_a_key_no_check_reads_is_an_error_naming_the_model():
    from xaicheck.axioms._placed import validate_placements
    from xaicheck.synthetic_models.declarations import Placement

    registry.register_model("misplaced_model", placed={"dumy": "quick"})(lambda: None)
    axioms_base._CASES.clear()
    try:
        with pytest.raises(ValueError, match=r"'dumy' \(misplaced_model\)"):
            validate_placements()
        with pytest.raises(ValueError, match="dumy"):
            cases_of(get_check("dummy"), 0, "quick")
    finally:
        registry._unregister("misplaced_model")
        axioms_base._CASES.clear()
    with pytest.raises(ValueError, match="suite"):
        Placement("huge")
    with pytest.raises(TypeError, match="Placement"):
        registry.register_model("bad_placement", placed={"dummy": 3})


def test_placed_models_come_in_rank_then_name_order():
    """Checks that draw every case from one stream depend on it: the paper's pair first, then the twins in order."""
    names = [m.name for m, _ in registry.placed_models("implementation_invariance")]
    assert names[0] == "sundararajan_pair_b" and names[1:3] == ["mlp_permuted", "mlp_rescaled"]
    assert [m.name for m, _ in registry.placed_models("symmetry")][0] == "symmetric_sum"
    ids = [c.name for c in cases_of(get_check("implementation_invariance"), 0, "quick") if "quick" in c.tiers]
    assert ids[:3] == ["ig_paper_pair", "mlp_permuted", "mlp_rescaled"]


def test_declared_cases_of_the_built_in_suites_do_not_move_quick_or_default():
    """The built-in declared examples declare ``full`` only: the quick and default suites keep their case lists."""
    for suite in ("quick", "default"):
        names = {c.model.name for n in check_names() for c in cases_of(get_check(n), 0, suite) if suite in c.tiers}
        assert not names & {"weighted_majority_pm1", "interacting_banzhaf"}


def _pm1_model():
    """f = x0 OR x1 = 1[x0 + x1 > -2] on {-1, 1}^3 (x2 a dummy), declared baseline the all-off corner -1."""
    truth = GroundTruth(relevant=frozenset({0, 1}), dummy=frozenset({2}), symmetric_groups=(frozenset({0, 1}),))
    return wrap_model(lambda X: (X[:, 0] + X[:, 1] > -2).astype(float), truth, name="or_pm1", n_features=3,
                      domain="binary", domain_values=(-1, 1), baseline=-1.0)


def test_a_pm1_model_with_a_nonzero_baseline_gets_its_declared_cases():
    model = _pm1_model()
    assert set(np.unique(model.sample(64, np.random.default_rng(0)))) == {-1.0, 1.0}
    cases = {c.check: c for c in user_cases([model], suite="quick")}
    assert {"completeness", "dummy", "symmetry", "relevance", "sensitivity", "ground_truth_agreement"} <= set(cases)
    for check in ("completeness", "dummy", "symmetry", "ground_truth_agreement"):
        assert np.array_equal(cases[check].baseline, -np.ones(3)), check
        assert set(np.unique(cases[check].X)) <= {-1.0, 1.0}
    rel = cases["relevance"]
    assert np.array_equal(rel.baseline, -rel.X)  # the opposite corner in {-1, 1}
    sens = cases["sensitivity"]
    assert np.all((sens.X != sens.baseline).sum(axis=1) == 1) and np.array_equal(sens.baseline, -np.ones(3))


def test_relevance_on_pm1_values_finds_the_same_irrelevant_features_as_on_01():
    """Formal relevance does not depend on how the two values are labelled: x2 is irrelevant everywhere."""
    model = _pm1_model()
    case = next(c for c in user_cases([model], suite="quick") if c.check == "relevance")
    result = get_check("relevance").run(get_explainer("exact_baseline_shapley"), case, seed=0)
    assert result.status is Status.OK
    assert all(2 in irr for irr in result.evidence["irrelevant"])
    assert result.evidence["irrelevant"][0] == [2]  # at (1, 1, 1): AXps {x0} and {x1}; x2 in none


def test_rows_follow_the_suite():
    model = wrap_model(lambda X: X @ np.arange(1.0, 5.0), GroundTruth(relevant=frozenset(range(4))), name="lin4",
                       n_features=4)
    for suite, n in (("quick", 4), ("default", 16), ("full", 32)):
        case = next(c for c in user_cases([model], suite=suite) if c.check == "ground_truth_agreement")
        assert case.X.shape == (n, 4), suite


def test_declared_baselines_resolve_and_bad_ones_are_refused():
    X = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(resolve_baseline(None, X), np.zeros(3))
    assert np.array_equal(resolve_baseline(2.5, X), np.full(3, 2.5))
    assert np.array_equal(resolve_baseline(lambda Z: Z - 1, X), X - 1)
    with pytest.raises(ValueError, match="shape"):
        resolve_baseline([1.0, 2.0], X)
    with pytest.raises(ValueError, match="finite"):
        resolve_baseline(np.nan, X)
    with pytest.raises(ValueError, match="tiers"):
        Declarations(tiers=frozenset({"huge"}))
    with pytest.raises(ValueError, match="domain_values"):
        Declarations(domain_values=(1.0, 1.0))
    assert Declarations(tiers=frozenset({"default"})).tiers == tiers_from("default") == {"default", "full"}
    bad = wrap_model(lambda X: X.sum(axis=1), GroundTruth(relevant=frozenset({0, 1})), name="bad_b", n_features=2,
                     baseline=[1.0, 2.0, 3.0])
    with pytest.raises(DeclaredTruthError, match="baseline"):
        user_cases([bad])


def test_a_reference_of_another_kind_is_its_own_axis_and_separates_explainers():
    check = get_check("reference_agreement")
    assert check.truth == "declared_reference" and "reference_agreement" in declaring_checks()
    case = next(c for c in cases_of(check, 0, "full") if c.name == "interacting_banzhaf")
    score = {n: check.run(get_explainer(n), case, seed=0).score for n in (*DEGENERATE_PANEL, "exact_banzhaf",
                                                                         "exact_baseline_shapley")}
    assert score["exact_banzhaf"] == pytest.approx(1.0)
    assert score["exact_baseline_shapley"] < 1.0  # right about Shapley, not about Banzhaf on the product term
    above = {n: s for n in DEGENERATE_PANEL if (s := score[n]) is not None and s > check.floor}
    assert not above, f"degenerate explainers above the floor {check.floor}: {above}"


def test_a_reference_without_its_kind_is_refused():
    with pytest.raises(ValueError, match="reference_kind"):
        GroundTruth(relevant=frozenset({0}), reference=lambda X, b: X - b)
    model = FunctionModel("ref_bad_shape", "t", lambda X: X[:, 0], ["a", "b"],
                          GroundTruth(relevant=frozenset({0}), reference=lambda X, b: X[:, :1], reference_kind="mine"))
    with pytest.raises(DeclaredTruthError, match="reference"):
        user_cases([model])


PM1_ZOO = textwrap.dedent('''
    """A user zoo of ±1 boolean models with a declared non-zero baseline (the all-off corner -1)."""
    import numpy as np
    from xaicheck import GroundTruth, wrap_model

    def _model(name, fn, d, relevant, dummy=(), groups=()):
        truth = GroundTruth(relevant=frozenset(relevant), dummy=frozenset(dummy),
                            symmetric_groups=tuple(frozenset(g) for g in groups))
        return wrap_model(fn, truth, name=name, n_features=d, domain="binary", domain_values=(-1, 1), baseline=-1.0)

    MODELS = [
        _model("or_pm1", lambda X: (X[:, 0] + X[:, 1] > -2).astype(float), 3, {0, 1}, {2}, [{0, 1}]),
        _model("vote_pm1", lambda X: (2 * X[:, 0] + X[:, 1] + X[:, 2] + X[:, 3] > -4).astype(float), 5,
               {0, 1, 2, 3}, {4}, [{1, 2, 3}]),
        _model("linear_pm1", lambda X: X @ np.array([3.0, -2.0, 1.0, 0.0]), 4, {0, 1, 2}, {3}),
        _model("xor_pm1", lambda X: (X[:, 0] * X[:, 1] > 0).astype(float), 3, {0, 1}, {2}, [{0, 1}]),
    ]
''')


def test_a_pm1_zoo_with_a_nonzero_baseline_is_ranked_at_its_declared_baseline(tmp_path):
    import csv
    import json

    from xaicheck.benchmarks import cli

    (tmp_path / "pm1_zoo.py").write_text(PM1_ZOO, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    sys.modules.pop("pm1_zoo", None)
    out = tmp_path / "out"
    try:
        code = cli.main(["run", "--models", "pm1_zoo", "--suite", "quick", "--explainers",
                         "exact_baseline_shapley,occlusion,captum_kernel_shap,zero,random", "--out", str(out),
                         "--jobs", "1", "--quiet"])
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("pm1_zoo", None)
    assert code == 0
    with open(out / "leaderboard_tracks.csv", newline="", encoding="utf-8") as fh:
        tracks = list(csv.DictReader(fh))
    ranked = [r for r in tracks if r["kind"] == "ranked" and r["rank"]]
    assert ranked, "no ranked row"
    controls = {r["explainer"] for r in tracks if r["kind"] == "control"}
    assert controls == {"zero", "random"}
    cases = json.loads((out / "provenance.json").read_text(encoding="utf-8"))["cases"]
    for cid, facts in cases.items():
        if cid.split("/")[0] in ("completeness", "dummy", "ground_truth_agreement", "symmetry", "sensitivity"):
            assert facts["baseline"] == [-1.0] * facts["d"], cid  # the declared baseline, not zero
    assert {"relevance", "sensitivity"} <= {cid.split("/")[0] for cid in cases}  # a ±1 model loses no case
    html = (out / "report.html").read_text(encoding="utf-8")
    trust = html[html.index('id="trust-title"'):html.index('id="tracks-title"')]
    assert "<li data-track=" in trust
    assert "No track could be scored" not in html and "No control explainer" not in html


def test_localisation_judges_each_row_against_its_own_declared_baseline():
    """A per-row baseline (here x - 1 on the first two features: their differences are 1 and 1, so the exact values
    are w_i; judged against row 0's baseline instead they would not rank the mask like the exact attribution)."""
    mask = np.array([True, True, False, False])

    def per_row(X):
        B = X.copy()
        B[:, :2] -= np.array([1.0, 1.0])
        return B

    model = wrap_model(lambda X: X @ np.array([1.0, 3.0, 0.0, 0.0]),
                       GroundTruth(relevant=frozenset({0, 1}), dummy=frozenset({2, 3}), mask=mask),
                       name="mask_per_row", n_features=4, baseline=per_row)
    case = next(c for c in user_cases([model], suite="quick") if c.check == "localisation")
    assert case.baseline.shape == case.X.shape
    check = get_check("localisation")
    good = check.run(get_explainer("exact_baseline_shapley"), case, seed=0)
    bad = check.run(get_explainer("random"), case, seed=0)
    assert good.status is Status.OK and good.score == pytest.approx(1.0)
    assert bad.status is Status.OK and bad.score < check.threshold
