"""The interaction checks (issue 25): each fails on a known-bad explainer and passes on a known-good one; the
per-feature checks and the interaction checks never judge the other kind; a run forms and ranks an interactions
track with every control below every ranked method."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from xaicheck.axioms.base import Status, cases_of, get_check
from xaicheck.explainers.base import Capabilities, get_explainer
from xaicheck.explainers.interaction_base import InteractionAttribution, InteractionExplainer
from xaicheck.explainers.shap_interaction_adapters import to_ksii
from xaicheck.synthetic_models.interaction_subsets import n_subsets, subsets
from xaicheck.synthetic_models.interaction_truth import interaction_truth
from xaicheck.synthetic_models.registry import get_model

pytest.importorskip("shapiq")

CHECKS = ("interaction_efficiency", "interaction_dummy", "interaction_symmetry", "interaction_recovery",
          "interaction_agreement", "interaction_order_consistency")


class _Perturbed(InteractionExplainer):
    """Exact k-SII plus a fixed offset on one subset holding a dummy / a symmetric feature (known-bad)."""

    name = "ksii_perturbed"
    family = "user"
    capabilities = Capabilities(uses_baseline=True, interaction_order=2)

    def __init__(self, column_of) -> None:
        self.column_of = column_of

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        T = get_explainer("exact_ksii").explain(model, X, baseline=baseline)
        T[:, self.column_of(model.n_features)] += 1.0
        return T


def _case(check: str, model: str = "ia_pairwise_d8"):
    return next(c for c in cases_of(get_check(check), 0, "quick") if c.name == model)


def _score(check: str, explainer, model: str = "ia_pairwise_d8") -> float:
    result = get_check(check).run(explainer, _case(check, model), seed=0)
    assert result.status is Status.OK, result.message
    return float(result.score)


@pytest.mark.parametrize("check", CHECKS)
def test_each_check_passes_the_exact_oracle(check):
    c = get_check(check)
    assert c.truth == "interaction" and c.interactions and c.citation
    for model in ("ia_and_or_d6", "ia_pairwise_d8", "ia_parity_pm1_d6"):
        result = c.run(get_explainer("exact_ksii"), _case(check, model), seed=0)
        assert result.status is Status.OK and result.passed, (model, result.message)


def test_efficiency_fails_on_random_and_on_zero_off_the_baseline():
    for bad in ("interaction_random", "interaction_zero"):
        result = get_check("interaction_efficiency").run(get_explainer(bad), _case("interaction_efficiency"), 0)
        assert result.status is Status.OK and not result.passed and result.counterexample is not None


def test_dummy_fails_when_a_dummy_gets_an_interaction():
    col = lambda d: subsets(d, 2).index((0, 7))  # x7 is a dummy of ia_pairwise_d8  # noqa: E731
    assert _score("interaction_dummy", _Perturbed(col)) < 1.0
    assert not get_check("interaction_dummy").run(get_explainer("interaction_random"),
                                                  _case("interaction_dummy"), 0).passed


def test_symmetry_fails_when_a_swap_changes_the_values():
    col = lambda d: subsets(d, 2).index((0, 4))  # (0,4) vs its swap (0,5): x4, x5 symmetric  # noqa: E731
    result = get_check("interaction_symmetry").run(_Perturbed(col), _case("interaction_symmetry"), 0)
    assert result.status is Status.OK and not result.passed and "swap" in result.message


def test_recovery_and_agreement_fail_on_the_controls_and_sit_at_their_floor():
    for check in ("interaction_recovery", "interaction_agreement"):
        c = get_check(check)
        for bad in ("interaction_zero", "interaction_random", "interaction_main_product"):
            scores = [c.run(get_explainer(bad), case, 0).score for case in cases_of(c, 0, "quick")
                      if "quick" in case.tiers]
            assert np.mean(scores) <= c.floor < c.threshold, (check, bad, scores)
            assert not all(c.run(get_explainer(bad), case, 0).passed for case in cases_of(c, 0, "quick")
                           if "quick" in case.tiers)


def test_agreement_separates_a_small_budget_from_a_large_one():
    low = _score("interaction_agreement", get_explainer("shapiq_permutation_b128"))
    assert low < get_check("interaction_agreement").threshold
    assert _score("interaction_agreement", get_explainer("shapiq_kernelshapiq_b512")) > 0.99


def test_the_two_kinds_of_checks_and_explainers_never_meet():
    case = next(iter(cases_of(get_check("completeness"), 0, "quick")))
    ok, why = get_check("completeness").applies(get_explainer("exact_ksii"), case)
    assert not ok and "interaction" in why
    ok, why = get_check("interaction_agreement").applies(get_explainer("exact_baseline_shapley"),
                                                        _case("interaction_agreement"))
    assert not ok


def test_interaction_models_join_only_the_interaction_checks():
    for name in ("completeness", "dummy", "symmetry", "ground_truth_agreement", "sensitivity"):
        for suite in ("quick", "default"):
            assert not [c for c in cases_of(get_check(name), 0, suite) if c.name.startswith("ia_")], (name, suite)


def test_attribution_type_carries_the_order_and_shap_matrices_are_2sii():
    model = get_model("ia_forest_d6")
    X = model.sample(2, np.random.default_rng(0))
    att = get_explainer("shapiq_tree").interactions(model, X)
    assert isinstance(att, InteractionAttribution) and att.order == 2 and att.values.shape == (2, n_subsets(6, 2))
    assert att.of_size(2).shape == (2, 15)
    shap_ksii = get_explainer("shap_tree_interactions").explain(model, X)
    assert np.allclose(shap_ksii, att.values, atol=1e-8)  # two libraries, one path-dependent 2-SII
    phi = np.zeros((1, 3, 3))
    phi[0] = [[1.0, 0.25, 0.0], [0.25, 2.0, -0.5], [0.0, -0.5, 3.0]]
    assert np.allclose(to_ksii(phi), [[1.0, 2.0, 3.0, 0.5, 0.0, -1.0]])


def test_the_oracles_equal_the_truth():
    model = get_model("ia_poly3_d10")
    X = model.sample(2, np.random.default_rng(1))
    Z = model.sample(5, np.random.default_rng(2))
    b = np.zeros(10)
    assert np.allclose(get_explainer("exact_fsii").explain(model, X, baseline=b),
                       interaction_truth(model, X, b, "baseline", "FSII", 2), atol=1e-12)
    assert np.allclose(get_explainer("exact_ksii_interventional").explain(model, X, background=Z),
                       interaction_truth(model, X, Z, "interventional", "k-SII", 2), atol=1e-12)


def test_a_run_ranks_an_interactions_track_with_every_control_below(tmp_path):
    from xaicheck.benchmarks import cli

    exps = ("exact_ksii,exact_fsii,shapiq_kernelshapiq_b512,shapiq_permutation_b128,"
            "interaction_zero,interaction_random,interaction_main_product")
    out = tmp_path / "out"
    code = cli.main(["run", "--suite", "quick", "--checks", ",".join(CHECKS), "--explainers", exps,
                     "--out", str(out), "--jobs", "1", "--quiet"])
    assert code == 0
    with open(out / "leaderboard_tracks.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["track"] == "interactions"]
    ranked = [r for r in rows if r["kind"] == "ranked"]
    controls = [r for r in rows if r["kind"] == "control"]
    assert {r["explainer"] for r in ranked} == {"exact_ksii", "exact_fsii", "shapiq_kernelshapiq_b512",
                                                 "shapiq_permutation_b128"}
    assert {r["explainer"] for r in controls} == {"interaction_zero", "interaction_random",
                                                   "interaction_main_product"}
    assert all(r["rank"] for r in ranked) and int(ranked[0]["cases"]) >= 6
    floor = min(float(r["overall"]) for r in ranked)
    assert all(float(r["overall"]) < floor for r in controls)


def test_shapiq_tree_is_not_applicable_to_estimators_shapiq_cannot_convert():
    """shapiq's TreeExplainer raises 'Unsupported model type' on scikit-learn gradient boosting: the adapter says so
    up front (a not-applicable cell with the reason), and still explains the forests it converts."""
    from xaicheck.synthetic_models.base import seal

    tree = get_explainer("shapiq_tree")
    ok, why = tree.can_explain(seal(get_model("ia_gbm_d8")))
    assert not ok and "GradientBoostingRegressor" in why
    assert tree.can_explain(seal(get_model("ia_forest_d6"))) == (True, "")
