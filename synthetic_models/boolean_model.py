"""``BooleanModel``: a boolean formula as a synthetic model, with ground truth read off its truth table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from .abductive import (MAX_BOOLEAN_FEATURES, formal_relevance, minimal_sufficient_sets, point_codes, sufficient_sets,
                        truth_table_inputs)
from .base import GroundTruth, SyntheticModel, as_batch, binary_sampler
from .boolean import Formula, compile_network, formula_from_json

if TYPE_CHECKING:
    import torch

__all__ = ["BooleanModel", "MAX_RELEVANCE_TABLE"]

#: Up to this d the relevance of every feature at every point is tabulated (4^d booleans); above, per instance.
MAX_RELEVANCE_TABLE = 10


class BooleanModel(SyntheticModel):
    """A formula over ``n_vars`` variables plus ``n_dummies`` unused ones, inputs uniform on {0,1}^d.

    ``predict`` evaluates the formula on binary rows and the compiled ReLU network elsewhere (its continuous
    extension), so the numpy and torch forms agree everywhere. Ground truth is read off the truth table;
    ``formally_irrelevant`` is tabulated for d <= ``MAX_RELEVANCE_TABLE`` (else ``None``).
    """

    def __init__(self, name: str, formula: Formula, *, n_vars: int | None = None, n_dummies: int = 0,
                 feature_names: Sequence[str] | None = None, family: str = "logic", notes: str = "") -> None:
        n_vars = max(formula.variables(), default=-1) + 1 if n_vars is None else int(n_vars)
        if formula.variables() and max(formula.variables()) >= n_vars:
            raise ValueError(f"formula uses variable {max(formula.variables())} but n_vars={n_vars}")
        d = n_vars + int(n_dummies)
        if not 1 <= d <= MAX_BOOLEAN_FEATURES:
            raise ValueError(f"a boolean model needs 1..{MAX_BOOLEAN_FEATURES} features; got d={d}")
        self.name, self.family, self.domain = name, family, "binary"
        self.formula, self.n_vars, self.n_dummies = formula, n_vars, int(n_dummies)
        self.feature_names = tuple(feature_names or (f"x{i}" for i in range(d)))
        if len(self.feature_names) != d:
            raise ValueError(f"expected {d} feature names but got {list(self.feature_names)}")
        self.network = compile_network(formula, d)
        self._X, self._y = truth_table_inputs(d), formula.evaluate(truth_table_inputs(d))
        self._relevance = formal_relevance(self._y) if d <= MAX_RELEVANCE_TABLE else None
        self.ground_truth = self._ground_truth(notes)

    def _ground_truth(self, notes: str) -> GroundTruth:
        d, y, codes = self.n_features, self._y, np.arange(len(self._y))
        flips = [y != y[codes ^ (1 << i)] for i in range(d)]
        relevant = frozenset(i for i in range(d) if flips[i].any())
        parent = list(range(d))

        def find(i: int) -> int:
            while parent[i] != i:
                i = parent[i]
            return i

        for i in range(d):
            for j in range(i + 1, d):
                swapped = codes & ~((1 << i) | (1 << j)) | ((codes >> i & 1) << j) | ((codes >> j & 1) << i)
                if np.array_equal(y, y[swapped]):
                    parent[find(j)] = find(i)
        groups = {}
        for i in range(d):
            groups.setdefault(find(i), set()).add(i)
        interactions = []
        for i in range(d):
            for j in range(i + 1, d):
                bi, bj = 1 << i, 1 << j
                base = codes[(codes & (bi | bj)) == 0]
                if np.any(y[base | bi | bj] - y[base | bi] - y[base | bj] + y[base] != 0):
                    interactions.append(frozenset({i, j}))
        formally_irrelevant = None
        if self._relevance is not None:
            formally_irrelevant = frozenset(i for i in range(d) if not self._relevance[:, i].any())
        return GroundTruth(relevant=relevant, dummy=frozenset(range(d)) - relevant,
                           symmetric_groups=tuple(frozenset(g) for g in groups.values() if len(g) > 1),
                           interactions=tuple(interactions), formally_irrelevant=formally_irrelevant,
                           notes=notes or f"f = {self.formula.text(self.feature_names)}")

    def _predict(self, X: np.ndarray) -> np.ndarray:
        binary = np.all((X == 0) | (X == 1), axis=1)
        out = np.empty(X.shape[0])
        out[binary] = self.formula.evaluate(X[binary])
        if not binary.all():
            out[~binary] = self.network.predict(X[~binary])
        return out

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return binary_sampler(self.n_features)(n, rng)

    def torch_module(self) -> "torch.nn.Module":
        return self.network.to_torch()

    def truth_table(self) -> tuple[np.ndarray, np.ndarray]:
        """All inputs ``[2^d, d]`` (row c = bits of c) and the outputs ``[2^d]``."""
        return self._X.copy(), self._y.copy()

    def abductive_explanations(self, x: Sequence[float]) -> list[frozenset[int]]:
        """All AXps (subset-minimal sufficient feature sets) of the instance ``x``."""
        p = point_codes(as_batch(x, self.n_features))
        minimal = minimal_sufficient_sets(sufficient_sets(self._y, p))[0]
        return [frozenset(i for i in range(self.n_features) if S >> i & 1) for S in np.flatnonzero(minimal)]

    def irrelevant_features(self, x: Sequence[float]) -> frozenset[int]:
        """Features in no AXp of ``x`` (formally irrelevant at x, Huang & Marques-Silva 2023)."""
        p = point_codes(as_batch(x, self.n_features))
        rel = self._relevance[p[0]] if self._relevance is not None else formal_relevance(self._y, p)[0]
        return frozenset(i for i in range(self.n_features) if not rel[i])

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "kind": "boolean", "formula": self.formula.text(self.feature_names),
                "formula_json": self.formula.to_json(), "n_vars": self.n_vars, "n_dummies": self.n_dummies,
                "feature_names": list(self.feature_names)}

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "BooleanModel":
        return cls(spec["name"], formula_from_json(spec["formula_json"]), n_vars=spec["n_vars"],
                   n_dummies=spec["n_dummies"], feature_names=spec.get("feature_names"),
                   family=spec.get("family", "logic"))
