"""Krishna et al. 2022 agreement metrics (pure functions) and the explainer_agreement check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import rankdata, spearmanr

from xaicheck.axioms.agreement_metrics import (
    cosine_similarity,
    feature_agreement,
    pairwise_rank_agreement,
    rank_agreement,
    rank_correlation,
    sign_agreement,
    signed_rank_agreement,
    tolerant_ranks,
    top_k,
    top_k_membership,
)
from xaicheck.axioms.base import Case
from xaicheck.axioms.explainer_agreement import ExplainerAgreement, agreement_matrix, pair_agreement
from xaicheck.explainers.base import Capabilities, FunctionExplainer
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth, uniform_sampler
from xaicheck.synthetic_models.shapley import baseline_shapley

FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None)
TOPK = (feature_agreement, rank_agreement, sign_agreement, signed_rank_agreement)


@st.composite
def attribution_pairs(draw):
    n = draw(st.integers(1, 4))
    d = draw(st.integers(1, 6))
    elems = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
    A = draw(hnp.arrays(np.float64, (n, d), elements=elems))
    B = draw(hnp.arrays(np.float64, (n, d), elements=elems))
    k = draw(st.integers(1, d))
    return A, B, k


@FAST
@given(attribution_pairs())
def test_identical_explanations_agree_fully(pair):
    A, _, k = pair
    for metric in TOPK:
        np.testing.assert_allclose(metric(A, A, k), 1.0)
    np.testing.assert_allclose(rank_correlation(A, A), 1.0)
    np.testing.assert_allclose(pairwise_rank_agreement(A, A), 1.0)
    np.testing.assert_allclose(cosine_similarity(A, A), 1.0)
    np.testing.assert_allclose(pair_agreement(A, A), 1.0)


@FAST
@given(attribution_pairs())
def test_ranges_and_nesting(pair):
    A, B, k = pair
    fa, ra, sa, sra = (m(A, B, k) for m in TOPK)
    for v in (fa, ra, sa, sra, pairwise_rank_agreement(A, B), pair_agreement(A, B)):
        assert v.shape == (A.shape[0],) and np.all((v >= 0) & (v <= 1))
    for v in (rank_correlation(A, B), cosine_similarity(A, B)):
        assert np.all((v >= -1) & (v <= 1))
    # sign agreement counts a subset of the common features; signed rank a subset of rank agreement
    assert np.all(sa <= fa + 1e-12) and np.all(sra <= ra + 1e-12) and np.all(ra <= fa + 1e-12)
    np.testing.assert_allclose(feature_agreement(A, B, k), feature_agreement(B, A, k))
    np.testing.assert_allclose(rank_correlation(A, B), rank_correlation(B, A))
    member = top_k_membership(A, k)
    assert np.all((member >= 0) & (member <= 1 + 1e-12))
    np.testing.assert_allclose(member.sum(axis=1), k)


@FAST
@given(hnp.arrays(np.float64, (3, 5), elements=st.floats(-5, 5, allow_nan=False)))
def test_tolerant_ranks_match_scipy_average_ranks(V):
    np.testing.assert_allclose(tolerant_ranks(V, 0.0), rankdata(V, axis=1, method="average"))


def test_rank_correlation_matches_scipy_spearman_on_untied_data():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    expected = [spearmanr(np.abs(a), np.abs(b)).statistic for a, b in zip(A, B)]
    np.testing.assert_allclose(rank_correlation(A, B), expected)
    expected_signed = [spearmanr(a, b).statistic for a, b in zip(A, B)]
    np.testing.assert_allclose(rank_correlation(A, B, absolute=False), expected_signed)


def test_hand_computed_topk_metrics():
    A = np.array([[3.0, -2.0, 1.0, 0.0]])
    B = np.array([[3.0, 1.0, -2.0, 0.0]])
    np.testing.assert_array_equal(top_k(A, 2), [[0, 1]])
    np.testing.assert_array_equal(top_k(B, 2), [[0, 2]])
    assert feature_agreement(A, B, 2)[0] == 0.5  # {0,1} ∩ {0,2}
    assert rank_agreement(A, B, 2)[0] == 0.5  # rank 0 matches
    assert sign_agreement(A, B, 2)[0] == 0.5  # feature 0 positive in both
    assert signed_rank_agreement(-A, B, 2)[0] == 0.0  # same feature at rank 0 but opposite sign
    assert feature_agreement(A, B, 4)[0] == 1.0
    # |A| = [3,2,1,0], |B| = [3,1,2,0]: pairs (1,2) disagree out of 6
    assert pairwise_rank_agreement(A, B)[0] == pytest.approx(5 / 6)


def test_tolerance_ties_floating_point_noise_and_degenerate_rows():
    exact = np.array([[0.5, 0.5, 0.0]])
    noisy = np.array([[0.4999999, 0.5000001, 0.0]])
    assert rank_correlation(exact, noisy, atol=1e-6)[0] == pytest.approx(1.0)
    assert rank_correlation(np.ones((1, 3)), np.ones((1, 3)))[0] == 1.0
    assert rank_correlation(np.ones((1, 3)), np.array([[1.0, 2.0, 3.0]]))[0] == 0.0
    assert cosine_similarity(np.zeros((1, 3)), np.zeros((1, 3)))[0] == 1.0
    assert cosine_similarity(np.zeros((1, 3)), np.ones((1, 3)))[0] == 0.0
    np.testing.assert_allclose(top_k_membership(np.array([[1.0, 1.0, 1.0, 0.0]]), 2), [[2 / 3, 2 / 3, 2 / 3, 0.0]])


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="k=5"):
        feature_agreement(np.ones((1, 4)), np.ones((1, 4)), 5)
    with pytest.raises(ValueError, match=r"\(1, 4\) and \(1, 3\)"):
        rank_correlation(np.ones((1, 4)), np.ones((1, 3)))


# --- the explainer_agreement check, with a custom panel of test doubles --------------------------------------------

W = np.array([2.0, -1.0, 0.5, 0.0])


def _linear() -> FunctionModel:
    return FunctionModel("t_linear", "test", lambda X: X @ W + 0.3, [f"x{i}" for i in range(4)],
                         GroundTruth(relevant=frozenset({0, 1, 2}), dummy=frozenset({3})),
                         sampler=uniform_sampler(4, -1.0, 1.0))


def _double(name: str, transform) -> FunctionExplainer:
    def fn(model, X, *, baseline, background, target, seed):
        return transform(baseline_shapley(model.predict, X, baseline), X, seed)

    return FunctionExplainer(fn, name, capabilities=Capabilities(uses_baseline=True))


GOOD = _double("t_exact", lambda A, X, s: A)
SCALED = _double("t_scaled", lambda A, X, s: 3.0 * A)
NOISY = _double("t_noisy", lambda A, X, s: A + 0.01 * np.random.default_rng(s).normal(size=A.shape))
FLIPPED = _double("t_flipped", lambda A, X, s: -A)
RANDOM = _double("t_random", lambda A, X, s: np.random.default_rng(s + 1).normal(size=A.shape))
CONSTANT = _double("t_constant", lambda A, X, s: np.ones_like(A))
SHUFFLED = _double("t_shuffled", lambda A, X, s: A[:, [3, 2, 0, 1]])


def _case() -> Case:
    model = _linear()
    rng = np.random.default_rng(0)
    return Case(check="explainer_agreement", name="t_linear", model=model, X=model.sample(6, rng),
                baseline=np.zeros(4), background=model.sample(8, rng), extra={"panel": (GOOD, SCALED, NOISY)})


def test_agreement_check_separates_agreeing_from_broken_explainers():
    check, case = ExplainerAgreement(), _case()
    good = check.run(GOOD, case, seed=0)
    assert good.passed and good.score == pytest.approx(1.0, abs=1e-9)
    assert set(good.evidence["per_member"]) == {"t_scaled", "t_noisy"}  # itself excluded
    for broken in (FLIPPED, RANDOM, CONSTANT, SHUFFLED):
        res = check.run(broken, case, seed=0)
        assert res.status.value == "ok" and not res.passed, res.message
        assert res.evidence["measured"] == res.score and "attributions" in res.evidence
        assert res.message.startswith(f"{broken.name} explainer_agreement on explainer_agreement/t_linear: FAIL")
        assert f"{res.score:.3f} < pass threshold 0.6" in res.message
    assert check.run(FLIPPED, case, seed=0).score == 0.0  # same ranking, every sign opposite


def test_agreement_matrix_is_symmetric_with_unit_diagonal():
    names, M = agreement_matrix([GOOD, SCALED, FLIPPED, RANDOM], _case(), seed=0)
    assert names == ["t_exact", "t_scaled", "t_flipped", "t_random"]
    np.testing.assert_allclose(M, M.T)
    np.testing.assert_allclose(np.diag(M), 1.0)
    assert M[0, 1] == pytest.approx(1.0) and M[0, 2] == 0.0


def test_expected_agreement_equals_enumeration_over_shared_tie_breaking_orders():
    """Feature / sign agreement@k with ties broken by one random order shared by A and B, checked against all d!
    orders on vectors with many ties (values in {-2..2}); identical rows agree fully, constant vs untied gets k/d."""
    from itertools import permutations

    from xaicheck.axioms.agreement_metrics import expected_feature_agreement, expected_sign_agreement

    def top(v, k, order):
        kth = sorted(np.abs(v), reverse=True)[k - 1]
        bucket = [0 if abs(x) > kth else (1 if abs(x) == kth else 2) for x in v]
        return set(sorted(range(v.size), key=lambda i: (bucket[i], order.index(i)))[:k])

    rng = np.random.default_rng(0)
    for _ in range(40):
        d = int(rng.integers(2, 6))
        k = int(rng.integers(1, d + 1))
        a, b = rng.integers(-2, 3, size=d).astype(float), rng.integers(-2, 3, size=d).astype(float)
        orders = list(permutations(range(d)))
        fa = np.mean([len(top(a, k, o) & top(b, k, o)) / k for o in orders])
        sa = np.mean([sum(np.sign(a[i]) == np.sign(b[i]) for i in top(a, k, o) & top(b, k, o)) / k for o in orders])
        assert expected_feature_agreement(a, b, k)[0] == pytest.approx(fa, abs=1e-12), (a, b, k)
        assert expected_sign_agreement(a, b, k)[0] == pytest.approx(sa, abs=1e-12), (a, b, k)
        assert expected_feature_agreement(a, a, k)[0] == pytest.approx(1.0)
    assert expected_feature_agreement(np.ones(4), np.array([4.0, 3, 2, 1]), 2)[0] == pytest.approx(2 / 4)
