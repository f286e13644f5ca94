"""relevance (Huang & Marques-Silva 2023 issues I1-I5): labels by hand, the paper's witnesses, the degenerate panel,
noise, and units."""

from __future__ import annotations

import numpy as np
import pytest

from _check_doubles import DOUBLES  # tests/ is on sys.path (rootdir-relative test modules)
from xaicheck.axioms.base import cases_of, get_check
from xaicheck.axioms.relevance import ISSUES, N_DUMMIES, relevance_issues, zero_tolerance
from xaicheck.explainers.base import Capabilities, FunctionExplainer
from xaicheck.synthetic_models.base import FunctionModel
from xaicheck.synthetic_models.shapley import interventional_shapley

BACKGROUND = Capabilities(uses_background=True)


def _uniform(model, X, *, baseline, background, target, seed):
    return interventional_shapley(lambda Z: model.predict_target(Z, target), X, background)


UNIFORM = FunctionExplainer(_uniform, "t_uniform_shapley", capabilities=BACKGROUND)


def _formal(model, X, *, baseline, background, target, seed):
    from xaicheck.axioms._helpers import formally_irrelevant

    return np.array([[0.0 if j in formally_irrelevant(model.predict, x) else 1.0 for j in range(X.shape[1])]
                     for x in X])


FORMAL = FunctionExplainer(_formal, "t_formal")


def cases() -> dict[str, object]:
    return {c.name: c for c in cases_of(get_check("relevance"))}


def test_issue_labels_by_hand():
    irr = np.array([[True, False, False]])  # feature 0 irrelevant, 1 and 2 relevant
    tau = 0.01
    label = lambda a: [k for k, v in relevance_issues(np.array([a]), irr, tau).items() if v[0]]  # noqa: E731
    assert label([0.0, 1.0, 2.0]) == []                       # clean
    assert label([0.5, 1.0, 2.0]) == ["I1"]                   # irrelevant non-zero, ranked below the relevant ones
    assert label([1.0, 1.0, 2.0]) == ["I1", "I2"]             # ... and tied with a relevant one: at or above
    assert label([0.0, 0.0, 2.0]) == ["I2", "I3"]             # a relevant zero, tied with the irrelevant zero
    assert label([0.5, 0.0, 2.0]) == ["I1", "I2", "I3", "I4"]  # irrelevant non-zero while a relevant one is zero
    assert label([3.0, 1.0, 2.0]) == ["I1", "I2", "I5"]       # the irrelevant feature has the strictly largest |a|
    assert label([0.005, 1.0, -2.0]) == []                    # |a_0| <= tau counts as zero
    assert list(ISSUES) == ["I1", "I2", "I3", "I4", "I5"]


def test_zero_tolerance_is_half_the_shapley_quantum():
    assert zero_tolerance(1.0, 3) == pytest.approx(1 / 96)  # uniform Shapley values of 0/1 functions: k / 48
    assert zero_tolerance(80.0, 2) == pytest.approx(80 / 16)


def test_formal_oracle_passes_and_uniform_shapley_fails_the_witnesses():
    for name, c in cases().items():
        assert c.model.n_features >= 5 and c.extra["n_dummies"] == N_DUMMIES
        good = get_check("relevance").run(FORMAL, c)
        assert good.passed and good.score == 1.0, good.message
    for name in ("hms_irrelevant_nonzero", "hms_relevant_zero"):
        bad = get_check("relevance").run(UNIFORM, cases()[name])
        assert not bad.passed and bad.evidence["per_row_score"][0] == 0.0, bad.message


@pytest.mark.parametrize("name", ["zero", "constant", "random", "identity", "split_equally", "huge_feature",
                                  "exact_if_small"])
def test_degenerate_doubles_fail_every_row(name):
    for c in cases().values():
        res = get_check("relevance").run(DOUBLES[name], c)
        assert res.score == 0.0 and not res.passed, res.message


def test_noise_does_not_beat_the_exact_value_it_estimates():
    """Noise lifts relevant zeros out of I3 on hms_relevant_zero but puts the dummies into I1 on every row."""
    noisy = FunctionExplainer(lambda m, X, *, seed, **kw: _uniform(m, X, seed=seed, **kw) + 0.01 *
                              np.random.default_rng(seed).standard_normal(X.shape), "t_noisy",
                              capabilities=BACKGROUND)
    for c in cases().values():
        check = get_check("relevance")
        assert check.run(noisy, c).score <= check.run(UNIFORM, c).score
        assert check.run(noisy, c).score == 0.0


@pytest.mark.parametrize("alpha,c", [(80.0, 10.0), (1e-3, -5.0)])
def test_relevance_is_invariant_to_units(alpha, c):
    check = get_check("relevance")
    case = cases()["a_and_b_or_c"]
    m = case.model
    scaled = FunctionModel("t_scaled", "test", lambda X: alpha * m.predict(X) + c, m.feature_names, m.ground_truth,
                           domain="binary", sampler=m.sample)
    scaled.irrelevant_features = m.irrelevant_features  # type: ignore[attr-defined]  (same AXps: f is a bijection)
    from dataclasses import replace

    for exp in (UNIFORM, FORMAL):
        base_r = check.run(exp, case)
        scaled_r = check.run(exp if exp is UNIFORM else FunctionExplainer(
            lambda mm, X, **kw: _formal(m, X, **kw), "t_formal_same"), replace(case, model=scaled))
        assert scaled_r.score == pytest.approx(base_r.score), exp.name
