"""The blocked enumeration and the binary corner table equal the plain enumeration (every hybrid row built at once,
one ``predict`` call) to 1e-12, in every block regime, for Shapley and Banzhaf, baseline, interventional and
conditional games (Sundararajan & Najmi 2020; Janzing et al. 2020)."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xaicheck.synthetic_models import enumeration, shapley
from xaicheck.synthetic_models.equivalence import MLPModel
from xaicheck.synthetic_models.strategies import relu_mlps

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
TOL = 1e-12


def plain_values(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """The definition, unblocked: ``V[k, S] = mean_j f(x_k on S, z_j on N\\S)`` from one call on all hybrids."""
    n, d = X.shape
    masks = shapley.coalitions(d)
    hybrid = np.where(masks[None, :, None, :], X[:, None, None, :], Z[None, None, :, :]).reshape(-1, d)
    return predict(hybrid).reshape(n, masks.shape[0], Z.shape[0]).mean(axis=2)


def plain_conditional(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, P: np.ndarray,
                      p: np.ndarray) -> np.ndarray:
    """``E[f(Z) | Z_S = x_S]`` coalition by coalition, straight from the definition."""
    masks = shapley.coalitions(X.shape[1])
    f = predict(P)
    V = np.empty((X.shape[0], masks.shape[0]))
    for k, x in enumerate(X):
        for s, S in enumerate(masks):
            agree = np.all(P[:, S] == x[S], axis=1)
            V[k, s] = (p[agree] * f[agree]).sum() / p[agree].sum()
    return V


def close(a: np.ndarray, b: np.ndarray) -> bool:
    scale = np.maximum(1.0, np.max(np.abs(b), initial=0.0))
    return bool(np.max(np.abs(a - b), initial=0.0) <= TOL * scale)


@pytest.fixture(params=[1 << 13, 40, 7, 2], ids=["default", "coalition-blocks", "instance-1", "split-reference"])
def block_rows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Small blocks force every regime of ``enumeration.blocks`` (whole instances, coalition blocks, reference
    pieces) on small problems."""
    monkeypatch.setattr(enumeration, "BLOCK_ROWS", request.param)
    monkeypatch.setattr(enumeration, "GATHER_ROWS", request.param)
    monkeypatch.setattr(enumeration, "VALUE_CELLS", max(request.param, 4))
    yield request.param


def mlp_problem(data: st.DataObject, binary: bool) -> tuple[Callable, np.ndarray, np.ndarray, np.ndarray]:
    d = data.draw(st.integers(1, 5))
    model = MLPModel("m", data.draw(relu_mlps(max_hidden=4, n_inputs=d)))
    n, m = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 6))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    draw = (lambda *s: rng.integers(0, 2, size=s).astype(np.float64)) if binary else (lambda *s: rng.normal(size=s))
    return model.predict, draw(n, d), draw(n, d), draw(m, d)


@pytest.mark.parametrize("binary", [False, True], ids=["real", "binary"])
def test_games_equal_plain_enumeration(block_rows: int, binary: bool) -> None:
    @SETTINGS
    @given(st.data())
    def run(data: st.DataObject) -> None:
        f, X, B, Z = mlp_problem(data, binary)
        d = X.shape[1]
        for ref, game in ((B[:1], "one baseline"), (B, "baseline per row")):
            V = plain_values(f, X, ref) if ref.shape[0] == 1 else np.concatenate(
                [plain_values(f, X[k:k + 1], ref[k:k + 1]) for k in range(X.shape[0])])
            assert close(shapley.baseline_values(f, X, ref), V), game
            assert close(shapley.baseline_shapley(f, X, ref), V @ shapley.shapley_weights(d)), game
            assert close(shapley.baseline_banzhaf(f, X, ref), V @ shapley.banzhaf_weights(d)), game
        V = plain_values(f, X, Z)
        assert close(shapley.interventional_values(f, X, Z), V)
        assert close(shapley.interventional_shapley(f, X, Z), V @ shapley.shapley_weights(d))
        assert close(shapley.interventional_banzhaf(f, X, Z), V @ shapley.banzhaf_weights(d))

    run()


def test_corner_table_is_bit_identical_to_enumeration() -> None:
    """On {0,1}^d the corner table evaluates the same rows through the same reduction: equal bits, not just close."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=6)
    f = lambda Z: np.tanh(Z @ w) * np.sin(Z[:, 0] + 2 * Z[:, 3])  # noqa: E731
    X = rng.integers(0, 2, size=(5, 6)).astype(np.float64)
    Z = rng.integers(0, 2, size=(9, 6)).astype(np.float64)
    R = Z[None]
    masks = shapley.coalitions(6)
    table = enumeration.corner_table(f, 6, masks)
    gathered = enumeration._gathered(table, X, R, np.arange(64))
    enumerated = enumeration._enumerated(f, X, R, masks, np.empty((enumeration.BLOCK_ROWS, 6)))
    assert np.array_equal(gathered, enumerated)
    assert np.array_equal(gathered, plain_values(f, X, Z))


def test_corner_table_evaluates_only_the_corners() -> None:
    calls: list[int] = []

    def f(Z: np.ndarray) -> np.ndarray:
        calls.append(len(Z))
        return Z[:, 0] * Z[:, 1] + Z[:, 2]

    X = np.array([[1.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    table = np.array(list(np.ndindex(2, 2, 2, 2)), dtype=np.float64)
    shapley.interventional_shapley(f, X, table)
    assert sum(calls) == 16  # 2^4 corners, against 2 * 16 * 16 hybrid rows by enumeration


@SETTINGS
@given(st.data())
def test_conditional_equals_definition(data: st.DataObject) -> None:
    """Conditional values, Shapley and Banzhaf on a random discrete distribution over a random support that
    contains the explained rows (so every ``x_S`` has positive mass)."""
    d = data.draw(st.integers(1, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    P = np.unique(rng.integers(0, 3, size=(data.draw(st.integers(1, 12)), d)).astype(np.float64), axis=0)
    p = rng.uniform(0.1, 1.0, size=P.shape[0])
    p /= p.sum()
    X = P[rng.integers(0, P.shape[0], size=data.draw(st.integers(1, 3)))]
    w = rng.normal(size=d)
    f = lambda Z: np.sin(Z @ w) + Z[:, 0] ** 2  # noqa: E731
    V = plain_conditional(f, X, P, p)
    assert close(shapley.conditional_values(f, X, P, p), V)
    assert close(shapley.conditional_shapley(f, X, P, p), V @ shapley.shapley_weights(d))
    assert close(shapley.conditional_banzhaf(f, X, P, p), V @ shapley.banzhaf_weights(d))


def test_conditional_blocks_equal_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    P = np.array(list(np.ndindex(2, 2, 2)), dtype=np.float64)
    p = rng.dirichlet(np.ones(8))
    f = lambda Z: Z[:, 0] * Z[:, 1] - Z[:, 2]  # noqa: E731
    whole = shapley.conditional_values(f, P, P, p)
    monkeypatch.setattr(shapley, "VALUE_CELLS", 3)
    assert close(shapley.conditional_values(f, P, P, p), whole)


def test_blocks_cover_the_grid_once() -> None:
    for n, c, m, rows in ((3, 8, 5, 7), (2, 4, 1, 64), (2, 2, 9, 4), (5, 16, 1, 16)):
        seen = np.zeros((n, c, m), dtype=int)
        for ks, cs, js in enumeration.blocks(n, c, m, rows):
            block = seen[ks, cs, js]
            assert block.size <= rows
            seen[ks, cs, js] += 1
        assert np.all(seen == 1)


def test_templated_blocks_are_bit_identical() -> None:
    """Rewriting only the changed high-bit columns between blocks gives the very rows of a full rebuild."""
    rng = np.random.default_rng(2)
    f = lambda Z: np.sin(Z * np.arange(1, 9)).sum(axis=1)  # noqa: E731
    X, Z = rng.normal(size=(3, 8)), rng.normal(size=(3, 8))
    masks = shapley.coalitions(8)
    templated = enumeration._templated(f, X, Z[None], masks, np.empty((64, 8)))
    per_row = enumeration._templated(f, X, Z[:, None, :], masks, np.empty((16, 8)))
    assert np.array_equal(templated, plain_values(f, X, Z))
    assert np.array_equal(per_row, np.concatenate([plain_values(f, X[k:k + 1], Z[k:k + 1]) for k in range(3)]))
