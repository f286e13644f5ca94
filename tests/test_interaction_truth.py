"""Exact Shapley-interaction indices (issue 25): equal to shapiq's ExactComputer on random games, efficient, the
Möbius transform inverts, and the closed forms (polynomials, trees) equal the enumeration."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.synthetic_models.interaction_indices import (EFFICIENT, INDICES, indices_from_values, mobius,
                                                           superset_sums)
from xaicheck.synthetic_models.interaction_subsets import popcounts, subsets
from xaicheck.synthetic_models.interaction_truth import interaction_truth
from xaicheck.synthetic_models.registry import get_model, model_names

shapiq = pytest.importorskip("shapiq")

#: 24 random games: d = 2..7, four seeds each.
GAMES = [(d, seed) for d in range(2, 8) for seed in range(4)]


def _table(d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(1000 * d + seed).normal(size=1 << d)


def _shapiq(table: np.ndarray, d: int, index: str, order: int) -> np.ndarray:
    def game(C: np.ndarray) -> np.ndarray:
        return table[(np.asarray(C).astype(np.int64) << np.arange(d)).sum(axis=1)]

    iv = shapiq.ExactComputer(game, n_players=d)(index, order=order)
    return np.array([iv.values[iv.interaction_lookup[S]] if S in iv.interaction_lookup else 0.0
                     for S in subsets(d, order)])


def _faith_shap_rational(table: np.ndarray, d: int, k: int) -> np.ndarray:
    """FSII by its definition (Tsai et al. 2023): the Shapley-kernel weighted least squares, constrained to
    v(∅) and v(N), solved exactly in rationals."""
    S_all = subsets(d, k)
    m = len(S_all)
    A = [[Fraction(0)] * (m + 1) for _ in range(m + 1)]
    b = [Fraction(0)] * (m + 1)
    base = Fraction(float(table[0]))
    for c in range(1, (1 << d) - 1):
        S = {i for i in range(d) if c >> i & 1}
        w = Fraction(d - 1, comb(d, len(S)) * len(S) * (d - len(S)))
        row = [1 if set(T) <= S else 0 for T in S_all]
        y = Fraction(float(table[c])) - base
        for i in range(m):
            if row[i]:
                b[i] += w * y
                for j in range(m):
                    if row[j]:
                        A[i][j] += w
    for i in range(m):
        A[i][m] = A[m][i] = Fraction(1)
    b[m] = Fraction(float(table[-1])) - base
    n = m + 1
    for i in range(n):
        p = next(r for r in range(i, n) if A[r][i] != 0)
        A[i], A[p], b[i], b[p] = A[p], A[i], b[p], b[i]
        for r in range(n):
            if r != i and A[r][i] != 0:
                f = A[r][i] / A[i][i]
                A[r] = [x - f * y for x, y in zip(A[r], A[i])]
                b[r] -= f * b[i]
    return np.array([float(b[i] / A[i][i]) for i in range(m)])


@pytest.mark.parametrize("d,seed", GAMES)
def test_indices_equal_shapiqs_exact_computer(d, seed):
    table = _table(d, seed)
    worst = 0.0
    for index in ("Moebius", "SII", "BII", "STII", "k-SII"):
        for order in range(1, min(3, d) + 1):
            ours = indices_from_values(table[None], index, order)[0]
            worst = max(worst, float(np.abs(ours - _shapiq(table, d, index, order)).max()))
    assert worst <= 1e-10


@pytest.mark.parametrize("d,seed", [(d, s) for d, s in GAMES if d <= 6 and s < 2])
def test_fsii_is_the_exact_faith_shap_solution_and_near_shapiqs_regression(d, seed):
    """shapiq computes FSII by a float least-squares solve (about 1e-9 off); ours is the closed form, equal to the
    rational solution of the defining regression to 1e-12."""
    table = _table(d, seed)
    for order in range(1, min(3, d - 1) + 1):
        ours = indices_from_values(table[None], "FSII", order)[0]
        assert np.abs(ours - _faith_shap_rational(table, d, order)).max() <= 1e-12
        assert np.abs(ours - _shapiq(table, d, "FSII", order)).max() <= 1e-7


@settings(max_examples=40, deadline=None)
@given(d=st.integers(2, 7), order=st.integers(1, 3), seed=st.integers(0, 2**31 - 1),
       index=st.sampled_from(sorted(EFFICIENT)))
def test_efficient_indices_sum_to_the_grand_coalition(d, order, seed, index):
    table = np.random.default_rng(seed).normal(size=(2, 1 << d))
    values = indices_from_values(table, index, order)
    assert np.allclose(values.sum(axis=1), table[:, -1] - table[:, 0], atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 8), seed=st.integers(0, 2**31 - 1))
def test_mobius_inversion_round_trip(d, seed):
    """v(S) = Σ_{T ⊆ S} m(T): summing the Möbius coefficients over subsets gives the game back."""
    V = np.random.default_rng(seed).normal(size=(3, 1 << d))
    m = mobius(V)
    size = popcounts(d)
    # Σ_{T ⊆ S} m(T) by the subset zeta transform, written with the superset transform on complements
    back = superset_sums(m[:, ::-1])[:, ::-1]
    assert np.allclose(back, V, atol=1e-10)
    assert np.allclose(m[:, size == 0], V[:, :1])


def test_order_one_is_the_shapley_value():
    from xaicheck.synthetic_models.shapley import shapley_weights

    table = _table(6, 0)[None]
    for index in ("SII", "k-SII", "STII", "FSII"):
        assert np.allclose(indices_from_values(table, index, 1), table @ shapley_weights(6), atol=1e-12)


#: Every registered interaction exam (``ia_*``: interaction_zoo, interaction_logic_zoo, interaction_trained).
IA_MODELS = [n for n in model_names() if n.startswith("ia_")]


def test_the_interaction_exam_is_registered_and_declares_its_axis():
    assert len(IA_MODELS) >= 15
    for name in IA_MODELS:
        model = get_model(name)
        assert "interaction" in model.declarations.axes and model.family == "interactions", name
        assert 4 <= model.n_features <= 16, name


@pytest.mark.parametrize("name", IA_MODELS)
def test_closed_forms_equal_the_enumeration(name):
    from xaicheck.synthetic_models.interaction_closed_forms import closed_form_interactions
    from xaicheck.synthetic_models.interaction_truth import references

    model = get_model(name)
    rng = np.random.default_rng(3)
    X, Z = model.sample(2, rng), model.sample(4, rng)
    b = model.declarations.baseline_for(X)
    if not hasattr(model, "multilinear_terms") and getattr(model, "sklearn_estimator", None) is None:
        # no declared closed form (a trained network): the truth is the enumeration, by the route itself
        assert closed_form_interactions(model, X, references(X, b, "baseline"), "k-SII", 2) is None
        return
    for game, ref in (("baseline", b), ("interventional", Z)):
        for index in INDICES:
            closed = interaction_truth(model, X, ref, game, index, 3)
            enumerated = interaction_truth(model, X, ref, game, index, 3, closed_form=False)
            assert np.abs(closed - enumerated).max() <= 1e-10, (game, index)
