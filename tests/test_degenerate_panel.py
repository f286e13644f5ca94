"""The degenerate panel sits at the floor of every scored check (issue 11 item 3).

For every registered check with ``role == "score"``, every panel member's mean score over the check's quick cases is
at most the check's stated ``floor``; checks that a panel member passes outright are gates (``role = "gate"``).
Checks redesigned on another branch that have no floor yet, or still exceed it, are xfails naming their owner.
Also: each member plays its trick (one test per trick), and the exact axioms are gates because a member passes them.
"""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms import counterexamples
from xaicheck.axioms.base import Status, cases_of, check_names, get_check
from xaicheck.explainers.base import get_explainer
from xaicheck.explainers.degenerate import DEGENERATE_PANEL, HUGE, SMALL_D
from xaicheck.synthetic_models import get_model

#: Checks owned by another engineer this round: check -> branch.
OWNERS: dict[str, str] = {}  # branch checks stated its floors / roles (tests/test_checks_floors.py)


@pytest.fixture(autouse=True)
def _no_search(monkeypatch):
    monkeypatch.setattr(counterexamples, "SEARCH_BUDGET", 0)


def mean_quick_score(check_name: str, member: str) -> float | None:
    """Mean score of ``member`` over the check's quick cases it can be judged on (``None`` if none)."""
    check = get_check(check_name)
    explainer = get_explainer(member)
    scores = []
    for case in cases_of(check):
        if "quick" not in case.tiers:
            continue
        if hasattr(explainer, "reset"):
            explainer.reset()
        result = check.run(explainer, case, seed=0)
        assert result.status is not Status.ERROR, f"{member} on {case.id}: {result.message}"
        if result.status is Status.OK:
            scores.append(result.score)
    return float(np.mean(scores)) if scores else None


def _params():
    out = []
    for name in check_names():
        if get_check(name).role != "score":
            continue
        marks = []
        if name in OWNERS:
            marks.append(pytest.mark.xfail(reason=f"{name}: floor to be stated, redesigned on branch {OWNERS[name]}",
                                           strict=False))
        out.append(pytest.param(name, id=name, marks=marks))
    return out


@pytest.mark.parametrize("check_name", _params())
def test_panel_at_or_below_the_floor(check_name):
    check = get_check(check_name)
    assert check.floor is not None, f"{check_name} is scored but states no floor"
    assert 0.0 <= check.floor < check.threshold, f"{check_name}: a floor at or above the pass threshold is no floor"
    scores = {m: mean_quick_score(check_name, m) for m in DEGENERATE_PANEL}
    above = {m: round(s, 4) for m, s in scores.items() if s is not None and s > check.floor}
    assert not above, f"{check_name}: panel members above the floor {check.floor}: {above}"


@pytest.mark.parametrize("check_name,member", [
    ("completeness", "split_equally"), ("symmetry", "split_equally"), ("linearity", "split_equally"),
    ("dummy", "zero"), ("sensitivity", "exact_if_small"), ("implementation_invariance", "zero"),
    ("implementation_invariance", "split_equally"),
])
def test_an_axiom_a_degenerate_member_passes_is_a_gate(check_name, member):
    assert mean_quick_score(check_name, member) == pytest.approx(1.0)
    assert get_check(check_name).role == "gate"


def test_the_panel_is_registered_as_controls():
    assert {"zero", "constant", "random"} <= set(DEGENERATE_PANEL) and len(DEGENERATE_PANEL) >= 10
    for name in DEGENERATE_PANEL:
        exp = get_explainer(name)
        assert exp.family == "control" and exp.description or type(exp).__doc__, name


def _inputs(name="linear_dummy", n=3):
    model = get_model(name)
    rng = np.random.default_rng(3)
    return model, model.sample(n, rng), model.sample(1, rng)[0]


def test_tricks():
    model, X, b = _inputs()
    f = model.predict
    run = {name: get_explainer(name).explain(model, X, baseline=b, seed=0) for name in DEGENERATE_PANEL}
    np.testing.assert_array_equal(run["zero"], 0.0)
    np.testing.assert_array_equal(run["constant"], 1.0)
    np.testing.assert_array_equal(run["identity"], X - b)
    np.testing.assert_allclose(run["split_equally"].sum(axis=1), f(X) - f(b[None, :]))
    assert np.ptp(run["split_equally"], axis=1).max() < 1e-12  # equal shares
    w = model.linear_coefficients[0]
    np.testing.assert_array_equal(run["gradient_sign"], np.broadcast_to(np.sign(w), X.shape))
    assert np.all(run["huge_feature"][:, 0] > HUGE - 10)
    assert model.n_features <= SMALL_D
    np.testing.assert_allclose(run["exact_if_small"], get_explainer("exact_baseline_shapley").explain(
        model, X, baseline=b), atol=1e-12)
    np.testing.assert_array_equal(run["ground_truth_reader"], 0.0)  # sealed: nothing to read


def test_random_is_redrawn_per_model_and_input_and_in_the_models_units():
    model, X, b = _inputs()
    other, _, _ = _inputs("symmetric_sum")
    rnd = get_explainer("random")
    a = rnd.explain(model, X, seed=0)
    np.testing.assert_array_equal(a, rnd.explain(model, X, seed=0))
    assert not np.array_equal(a, rnd.explain(model, X[::-1], seed=0)[::-1])  # same rows, other order: new draw
    from xaicheck.synthetic_models.affine import affine

    np.testing.assert_allclose(rnd.explain(affine(model, 4.0, 9.0), X, seed=0), 4.0 * a, rtol=1e-9)
    Xo = other.sample(3, np.random.default_rng(3))
    same_x = np.zeros((1, 3))
    assert not np.array_equal(rnd.explain(other, same_x, seed=0), rnd.explain(get_model("product_x0x1"), same_x,
                                                                                 seed=0))
    assert rnd.explain(other, Xo, seed=0).shape == Xo.shape


def test_memoiser_answers_every_model_at_the_same_input_with_its_first_answer():
    memo = get_explainer("memoiser")
    memo.reset()
    model, X, b = _inputs()
    first = memo.explain(model, X, seed=0)
    twin = get_model("symmetric_sum")
    X3 = X[:, :3]
    np.testing.assert_array_equal(memo.explain(get_model("product_x0x1"), X3, seed=0),
                                  memo.explain(twin, X3, seed=0))
    np.testing.assert_array_equal(memo.explain(get_model("linear_dummy"), X, seed=0), first)
    memo.reset()
