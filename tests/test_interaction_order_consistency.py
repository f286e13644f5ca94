"""Consistency between orders (issue 25): the Shapley projection of k-SII, STII and FSII is the exact Shapley value on
any game (that of SII and BII is not); the check passes the exact oracles and the tree explainers (in their own
path-dependent game), fails the random control with a one-row counterexample, and is not applicable to Banzhaf."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.axioms.base import Status, cases_of, get_check
from xaicheck.axioms.interaction_order_consistency import shapley_projection
from xaicheck.explainers.base import Capabilities, get_explainer
from xaicheck.explainers.interaction_base import InteractionExplainer
from xaicheck.synthetic_models.interaction_indices import indices_from_values
from xaicheck.synthetic_models.interaction_subsets import subsets
from xaicheck.synthetic_models.shapley import shapley_weights

pytest.importorskip("shapiq")

CHECK = "interaction_order_consistency"


def _case(model: str = "ia_pairwise_d8"):
    return next(c for c in cases_of(get_check(CHECK), 0, "quick") if c.name == model)


@settings(max_examples=60, deadline=None)
@given(d=st.integers(2, 8), order=st.integers(1, 3), seed=st.integers(0, 2**31 - 1),
       index=st.sampled_from(["k-SII", "STII", "FSII"]))
def test_the_projection_of_exact_ksii_stii_and_fsii_is_the_shapley_value(d, order, seed, index):
    """On random games (values iid normal on every coalition): Σ_{S ∋ i} I(S)/|S| = φ_i to 1e-10, φ by the Shapley
    weights (not through any interaction index)."""
    V = np.random.default_rng(seed).normal(size=(3, 1 << d))
    phi = V @ shapley_weights(d)
    proj = shapley_projection(indices_from_values(V, index, order), d, order)
    assert np.max(np.abs(proj - phi)) <= 1e-10


def test_the_projection_of_banzhaf_and_of_sii_is_not_the_shapley_value():
    """Why Banzhaf is not applicable and SII is judged on its singletons only: on a random game the projection misses
    φ by far more than rounding."""
    d = 5
    V = np.random.default_rng(3).normal(size=(1, 1 << d))
    phi = V @ shapley_weights(d)
    for index in ("BII", "SII"):
        assert np.max(np.abs(shapley_projection(indices_from_values(V, index, 2), d, 2) - phi)) > 1e-3
    assert np.max(np.abs(indices_from_values(V, "SII", 2)[:, :d] - phi)) <= 1e-10


def test_shapley_projection_splits_each_subset_among_its_members():
    d = 3
    values = np.array([[1.0, 2.0, 3.0, 0.5, -1.0, 4.0]])  # (0), (1), (2), (0,1), (0,2), (1,2)
    assert subsets(d, 2) == ((0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
    assert np.allclose(shapley_projection(values, d, 2), [[1.0 + 0.25 - 0.5, 2.0 + 0.25 + 2.0, 3.0 - 0.5 + 2.0]])


@pytest.mark.parametrize("model", ["ia_and_or_d6", "ia_pairwise_d8", "ia_parity_pm1_d6"])
@pytest.mark.parametrize("explainer", ["exact_ksii", "exact_ksii_interventional", "exact_fsii"])
def test_the_exact_oracles_pass(model, explainer):
    result = get_check(CHECK).run(get_explainer(explainer), _case(model), seed=0)
    assert result.status is Status.OK and result.score == 1.0 and result.passed, result.message
    assert result.evidence["max_error"] <= 1e-8 and result.counterexample is None


def test_the_random_control_fails_with_a_one_row_counterexample():
    result = get_check(CHECK).run(get_explainer("interaction_random"), _case(), seed=0)
    assert result.status is Status.OK and not result.passed and result.score < 1.0
    cx = result.counterexample
    assert cx is not None and len(cx.x) == 1 and "Shapley" in cx.line
    assert result.evidence["max_error"] > result.evidence["scale"] * 1e-2


class _ShapleyOnSingletons(InteractionExplainer):
    """Exact k-SII with the pairs moved onto nothing (singletons kept): breaks the projection unless no pair
    interacts (known-bad on ia_pairwise_d8)."""

    name = "ksii_pairs_dropped"
    family = "user"
    capabilities = Capabilities(uses_baseline=True, interaction_order=2)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        T = get_explainer("exact_ksii").explain(model, X, baseline=baseline)
        T[:, [j for j, S in enumerate(subsets(X.shape[1], 2)) if len(S) == 2]] = 0.0
        return T


def test_dropping_the_pairs_of_exact_ksii_fails():
    result = get_check(CHECK).run(_ShapleyOnSingletons(), _case(), seed=0)
    assert result.status is Status.OK and not result.passed, result.message


def test_banzhaf_is_not_applicable():
    from xaicheck.explainers.interaction_oracles import ExactInteractions

    result = get_check(CHECK).run(ExactInteractions("exact_bii_test", "BII", "baseline"), _case(), seed=0)
    assert result.status is Status.NOT_APPLICABLE and "BII" in result.message


def test_tree_explainers_pass_in_their_own_path_dependent_game():
    c = get_check(CHECK)
    case = next(c for c in cases_of(get_check(CHECK), 0, "default") if c.name == "ia_forest_d6")
    for name in ("shap_tree_interactions", "shapiq_tree"):
        result = c.run(get_explainer(name), case, seed=0)
        assert result.status is Status.OK and result.passed, (name, result.message)
        assert result.evidence["game"] == "path-dependent"
