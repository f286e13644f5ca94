"""Exact path-dependent Shapley values of tree ensembles from xgboost, lightgbm and scikit-learn, leaf by leaf.

The path-dependent game (Lundberg, Erion & Lee 2018, "Consistent individualized feature attribution for tree
ensembles", Algorithm 1's value function) is ``v(S) = Σ_t s_t E_t[tree_t(x) | x_S]`` where the conditional
expectation is read off the node covers: at a node splitting on ``f``, ``f ∈ S`` follows ``x``; ``f ∉ S`` averages the
children weighted by ``cover(child) / cover(node)``. For one leaf ``ℓ`` with value ``w`` the weight it gets is a
product over the features ``F`` tested on its path:

    g_ℓ(S) = w Π_{f ∈ F} (f ∈ S ? q_f : p_f),   q_f = [x satisfies every test on f along the path],
                                                  p_f = Π (cover ratios of the path's nodes on f),

and the Shapley value of such a product game, with ``δ_i = q_i - p_i`` and ``e_t`` the coefficients of
``Π_{f ∈ F \\ i} (p_f + q_f z)``, is ``φ_i = w δ_i Σ_t e_t t! (k - 1 - t)! / k!`` (``k = |F|``; features off the path
are dummies of the term). Linear in the game: the ensemble's value is the scaled sum over trees and leaves.

Node covers and comparisons are each library's own: xgboost ``Cover`` (hessian sums) and ``float32(x) < split``;
lightgbm ``internal_count`` / ``leaf_count`` and ``x <= threshold``; scikit-learn ``weighted_n_node_samples`` and
``float32(x) <= threshold``. These are the statistics shap's TreeExplainer reads, so its ``tree_path_dependent``
output estimates exactly this game; here it is computed independently and checked against the enumeration of
``v(S)`` over every coalition (``tests/test_models_tree_zoo.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import factorial
from typing import Any

import numpy as np

__all__ = ["Tree", "ensemble_trees", "path_dependent_shapley", "path_dependent_game"]


@dataclass(frozen=True)
class Tree:
    """Flat arrays per node (``left == -1`` marks a leaf); ``strict``: ``x < threshold`` goes left, else ``<=``;
    ``float32``: inputs are cast to float32 before comparing."""

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    cover: np.ndarray
    value: np.ndarray
    scale: float
    strict: bool
    float32: bool

    def goes_left(self, node: int, X: np.ndarray) -> np.ndarray:
        x = X[:, self.feature[node]]
        x = x.astype(np.float32).astype(np.float64) if self.float32 else x
        return x < self.threshold[node] if self.strict else x <= self.threshold[node]


def _xgboost_trees(est: Any) -> list[Tree]:
    df = est.get_booster().trees_to_dataframe()
    names = est.get_booster().feature_names
    out = []
    for _, t in df.groupby("Tree", sort=True):
        ids = {i: k for k, i in enumerate(t["ID"])}
        leaf = (t["Feature"] == "Leaf").to_numpy()
        feat = [(-1 if lf else (names.index(f) if names else int(str(f)[1:]))) for f, lf in zip(t["Feature"], leaf)]
        out.append(Tree(np.array([-1 if lf else ids[y] for y, lf in zip(t["Yes"], leaf)]),
                        np.array([-1 if lf else ids[n] for n, lf in zip(t["No"], leaf)]),
                        np.array(feat), np.where(leaf, 0.0, t["Split"].to_numpy(float)), t["Cover"].to_numpy(float),
                        np.where(leaf, t["Gain"].to_numpy(float), 0.0), 1.0, True, True))
    return out


def _lightgbm_trees(est: Any) -> list[Tree]:
    out = []
    for info in est.booster_.dump_model()["tree_info"]:
        rows: list[list[Any]] = []

        def walk(node: dict) -> int:
            k = len(rows)
            rows.append([-1, -1, -1, 0.0, 0.0, 0.0])
            if "leaf_value" in node:
                rows[k][4:] = [float(node.get("leaf_count", 0)), float(node["leaf_value"])]
                return k
            if node.get("decision_type", "<=") != "<=":
                raise ValueError(f"unsupported lightgbm split {node.get('decision_type')!r}")
            rows[k][2:5] = [int(node["split_feature"]), float(node["threshold"]), float(node["internal_count"])]
            rows[k][0] = walk(node["left_child"])
            rows[k][1] = walk(node["right_child"])
            return k

        walk(info["tree_structure"])
        a = np.array(rows, dtype=np.float64)
        out.append(Tree(a[:, 0].astype(int), a[:, 1].astype(int), a[:, 2].astype(int), a[:, 3], a[:, 4], a[:, 5],
                        1.0, False, False))
    return out


def _sklearn_tree(tree: Any, scale: float, column: int) -> Tree:
    value = tree.value[:, 0, column] if tree.value.shape[2] > 1 else tree.value[:, 0, 0]
    return Tree(tree.children_left.copy(), tree.children_right.copy(), tree.feature.copy(), tree.threshold.copy(),
                tree.weighted_n_node_samples.astype(np.float64), value.astype(np.float64), scale, False, True)


def ensemble_trees(est: Any) -> list[Tree]:
    """The trees of a fitted regressor / binary classifier, scaled so that the explained output (regression value,
    raw margin of a booster, class-1 probability of a forest) is a constant plus ``Σ scale · tree``."""
    module = type(est).__module__
    if module.startswith("xgboost"):
        return _xgboost_trees(est)
    if module.startswith("lightgbm"):
        return _lightgbm_trees(est)
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier,
                                  RandomForestRegressor)

    if isinstance(est, (RandomForestRegressor, RandomForestClassifier)):
        col = 1 if isinstance(est, RandomForestClassifier) else 0
        return [_sklearn_tree(t.tree_, 1.0 / len(est.estimators_), col) for t in est.estimators_]
    if isinstance(est, (GradientBoostingRegressor, GradientBoostingClassifier)):
        return [_sklearn_tree(t.tree_, float(est.learning_rate), 0) for t in est.estimators_.ravel()]
    raise ValueError(f"unsupported tree ensemble {type(est).__name__}")


def _leaves(tree: Tree) -> list[tuple[float, dict[int, list[tuple[int, bool]]], dict[int, float]]]:
    """Per leaf: value, the tests on its path by feature ``{f: [(node, went_left)]}``, and ``p_f``."""
    out = []
    stack: list[tuple[int, dict[int, list[tuple[int, bool]]], dict[int, float]]] = [(0, {}, {})]
    while stack:
        node, tests, p = stack.pop()
        if tree.left[node] < 0:
            out.append((float(tree.value[node]), tests, p))
            continue
        f = int(tree.feature[node])
        for child, left in ((int(tree.left[node]), True), (int(tree.right[node]), False)):
            t2 = {**tests, f: tests.get(f, []) + [(node, left)]}
            ratio = tree.cover[child] / tree.cover[node] if tree.cover[node] > 0 else 0.0
            stack.append((child, t2, {**p, f: p.get(f, 1.0) * ratio}))
    return out


def path_dependent_shapley(est: Any, X: np.ndarray) -> np.ndarray:
    """Exact path-dependent Shapley values ``[n, d]`` of the fitted ensemble ``est`` at the rows of ``X``."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    out = np.zeros((n, d))
    for tree in ensemble_trees(est):
        for value, tests, p in _leaves(tree):
            feats = sorted(tests)
            k = len(feats)
            if k == 0 or value == 0.0:
                continue
            q = {f: np.all([tree.goes_left(node, X) == left for node, left in tests[f]], axis=0).astype(np.float64)
                 for f in feats}
            w = np.array([factorial(t) * factorial(k - 1 - t) / factorial(k) for t in range(k)])
            for i in feats:
                coef = np.zeros((n, k))
                coef[:, 0] = 1.0
                for f in feats:
                    if f == i:
                        continue
                    coef[:, 1:] = coef[:, 1:] * p[f] + coef[:, :-1] * q[f][:, None]
                    coef[:, 0] *= p[f]
                out[:, i] += tree.scale * value * (q[i] - p[i]) * (coef @ w)
    return out


def _expected(tree: Tree, X: np.ndarray, S: frozenset[int]) -> np.ndarray:
    """``E[tree(x) | x_S]`` under the cover weights, by recursion over the nodes."""
    def rec(node: int, weight: np.ndarray) -> np.ndarray:
        if tree.left[node] < 0:
            return weight * tree.value[node]
        f = int(tree.feature[node])
        if f in S:
            go = tree.goes_left(node, X)
            return rec(int(tree.left[node]), weight * go) + rec(int(tree.right[node]), weight * ~go)
        c = tree.cover[node]
        return (rec(int(tree.left[node]), weight * tree.cover[tree.left[node]] / c)
                + rec(int(tree.right[node]), weight * tree.cover[tree.right[node]] / c))

    return rec(0, np.ones(X.shape[0]))


def path_dependent_game(est: Any, X: np.ndarray) -> np.ndarray:
    """``v(S)`` for every coalition (bit ``i`` of the column index = feature ``i`` in S): ``[n, 2^d]``, by
    recursion through every tree (a brute-force check of :func:`path_dependent_shapley`; small d only)."""
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    trees = ensemble_trees(est)
    V = np.zeros((X.shape[0], 1 << d))
    for code in range(1 << d):
        S = frozenset(i for i in range(d) if code >> i & 1)
        V[:, code] = sum(t.scale * _expected(t, X, S) for t in trees)
    return V


def _shapley_from_game(V: np.ndarray, d: int) -> np.ndarray:
    """Shapley values from a full game table ``[n, 2^d]`` (tests)."""
    phi = np.zeros((V.shape[0], d))
    for i in range(d):
        others = [j for j in range(d) if j != i]
        for size in range(d):
            w = factorial(size) * factorial(d - size - 1) / factorial(d)
            for T in combinations(others, size):
                code = sum(1 << j for j in T)
                phi[:, i] += w * (V[:, code | 1 << i] - V[:, code])
    return phi
