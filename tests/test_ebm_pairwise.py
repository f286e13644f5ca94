"""The EBM pairwise-terms explainer (issue 25): order-2 values from interpret's GA2M surrogate, close to the exact
k-SII on a model that is exactly pairwise, the same for a seed, and not applicable (never a crash) without
interpret."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from xaicheck.axioms.base import Status, cases_of, get_check
from xaicheck.explainers.base import get_explainer
from xaicheck.explainers.ebm_adapters import mobius_order2, product_sample
from xaicheck.synthetic_models.interaction_indices import interventional_interactions
from xaicheck.synthetic_models.interaction_subsets import n_subsets, subsets
from xaicheck.synthetic_models.registry import get_model


def _case(check: str, model: str = "ia_pairwise_d8"):
    return next(c for c in cases_of(get_check(check), 0, "quick") if c.name == model)


def test_without_interpret_it_is_not_applicable(monkeypatch):
    monkeypatch.setitem(sys.modules, "interpret", None)  # `import interpret.glassbox` raises ImportError
    monkeypatch.setitem(sys.modules, "interpret.glassbox", None)
    ok, why = get_explainer("ebm_pairwise").can_explain(get_model("ia_pairwise_d8"))
    assert not ok and "interpret is not installed" in why
    result = get_check("interaction_agreement").run(get_explainer("ebm_pairwise"), _case("interaction_agreement"), 0)
    assert result.status is Status.NOT_APPLICABLE and "interpret" in result.message


def test_product_sample_draws_each_column_from_the_background():
    B = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]])
    Z = product_sample(B, 200, np.random.default_rng(0))
    assert Z.shape == (200, 2) and set(Z[:, 0]) == {0.0, 1.0, 2.0} and set(Z[:, 1]) == {10.0, 20.0, 30.0}
    assert len({tuple(r) for r in Z}) > 3  # the columns are drawn independently, not whole rows


def test_mobius_order2_is_the_exact_interventional_ksii_of_a_pairwise_function():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 6))

    def g(Z):  # one- and two-feature terms only, non-linear
        return np.sin(Z) @ np.arange(1.0, 7.0) + np.einsum("ni,ij,nj->n", np.tanh(Z), np.triu(W, 1), Z ** 2)

    X, B = rng.normal(size=(3, 6)), rng.normal(size=(5, 6))
    assert np.allclose(mobius_order2(g, X, B), interventional_interactions(g, X, B, "k-SII", 2), atol=1e-10)


@pytest.mark.parametrize("name", ["ebm_pairwise", "ebm_pairwise_mobius"])
def test_pair_terms_on_an_exactly_pairwise_model(name):
    pytest.importorskip("interpret")
    e = get_explainer(name)
    case = _case("interaction_agreement")
    A = e.explain(case.model, case.X, background=case.background, seed=0)
    assert A.shape == (case.X.shape[0], n_subsets(8, 2))
    assert e.capabilities.stochastic  # the seed is its random_state: one seed, one answer
    assert np.array_equal(A, e.explain(case.model, case.X, background=case.background, seed=0))
    result = get_check("interaction_agreement").run(e, case, 0)
    assert result.status is Status.OK, result.message
    # f = x0 + x0 x1 - 0.5 x2 x3 + 2 x4 x5: the largest pair is (4, 5) on both rows it explains
    pairs = [j for j, S in enumerate(subsets(8, 2)) if len(S) == 2]
    T = np.array(result.evidence["pair_true"])
    E = np.array(result.evidence["pair_estimated"])
    assert np.sign(E[4, 5]) == np.sign(T[4, 5]) != 0
    assert result.score > (0.8 if name == "ebm_pairwise_mobius" else 0.5), result.score
    assert np.abs(A[:, pairs]).max() > 0


def test_the_library_version_names_the_installed_distribution():
    """interpret is installed as the distribution ``interpret-core``: the version must be found under that name."""
    import importlib.metadata

    from xaicheck.explainers import get_explainer

    pytest.importorskip("interpret")
    assert get_explainer("ebm_pairwise").library_version == importlib.metadata.version("interpret-core")
