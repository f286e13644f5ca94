"""Scale in every family: boolean, additive/interaction, equivalent-network and distribution models in d features.

Every family is a function of ``(d, seed)``: the seed draws the weights, clauses, dummy positions and correlations,
so a case seed (``seeding.case_seed``) varies the models themselves, not only the rows. A quarter of the features
(at least one) are dummies at seed-drawn positions. Ground truths:

- ``boolean``:  f = Σ_c w_c · AND(literals of clause c) over disjoint clauses of 2-3 relevant variables (some negated);
  relevant / dummy / symmetric groups / interactions read off the truth table (``BooleanModel``); exact Shapley by
  enumeration of the ``2^d`` coalitions (``shapley.py``); exact ReLU network (``boolean.compile_network``).
- ``additive``: f = Σ_i w_i x_i + Σ_(i,j) c_ij x_i x_j over disjoint pairs; closed-form baseline Shapley
  ``w_i (x_i - b_i) + Σ c_ij (x_i - b_i)(x_j + b_j)/2`` (``additive.product_shapley``), so it also holds above d=16.
- ``mlp``: a ReLU MLP d -> 2d -> d -> 1 (He-scaled normal weights, dummy columns zeroed) and its twin ``mlp_twin``
  (permuted + rescaled + split unit: the same function, other internals; Sundararajan et al. 2017, sec. 2.2).
- ``correlated``: a linear f = w·x whose dummy features are each a noisy copy of a relevant one (ρ = 0.9,
  x ~ N(0, Σ)); baseline Shapley ``w (x - b)`` gives the copies exactly 0, while conditional-expectation methods
  credit them (Janzing et al. 2020, "Feature relevance quantification in explainable AI: a causal problem").

``SCALE_GRID`` says which ``(family, d)`` run in which suite and with how many rows; ``scaled_case_parts`` draws a
case's model, rows, baseline and background from the case seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .additive import linear_model, product_shapley
from .base import FunctionModel, GroundTruth, SyntheticModel, uniform_sampler
from .boolean import And, Formula, Not, Var, WeightedSum
from .boolean_model import BooleanModel
from .equivalence import MLPModel, MLPSpec, compose
from .registry import register_model
from .seeding import case_seed

if TYPE_CHECKING:
    import torch

__all__ = ["FAMILIES", "SCALE_DIMS", "FULL_DIMS", "GridPoint", "SCALE_GRID", "EXACT_GRID", "scaled_model",
           "scaled_case_parts", "scaled_twin", "n_dummies", "UNIT_CHANGES", "scaled_units",
           "grid_for"]

FAMILIES: tuple[str, ...] = ("boolean", "additive", "mlp", "correlated")
#: Feature counts of the default suite (the exact oracle enumerates 2^16 = 65,536 coalitions at most).
SCALE_DIMS: tuple[int, ...] = (4, 8, 12, 16)
_OFFSET = {"boolean": 1201, "additive": 1202, "mlp": 1203, "correlated": 1204, "rows": 1299}


def n_dummies(d: int) -> int:
    """A quarter of the features, at least one."""
    return max(1, d // 4)


def _rng(family: str, d: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([_OFFSET[family], d, seed])


def _split_features(rng: np.random.Generator, d: int) -> tuple[list[int], list[int]]:
    """(relevant, dummy) positions: ``n_dummies(d)`` dummies at seed-drawn positions."""
    perm = [int(i) for i in rng.permutation(d)]
    k = n_dummies(d)
    return sorted(perm[k:]), sorted(perm[:k])


def _name(family: str, d: int, seed: int) -> str:
    return f"{family}_d{d}" if seed == 0 else f"{family}_d{d}_s{seed}"


# ------------------------------------------------------------------------------------------------ families
def _boolean(d: int, seed: int) -> BooleanModel:
    rng = _rng("boolean", d, seed)
    relevant, _ = _split_features(rng, d)
    order = [relevant[i] for i in rng.permutation(len(relevant))]
    clauses: list[list[int]] = []
    while order:
        size = 3 if len(order) in (3, 5) or (len(order) > 3 and rng.random() < 0.4) else 2
        size = min(size, len(order))
        clauses.append(order[:size])
        order = order[size:]
    if len(clauses[-1]) == 1:  # a lone variable joins the previous clause
        clauses[-2].extend(clauses.pop())
    terms: list[tuple[float, Formula]] = []
    for clause in clauses:
        lits = [Not(Var(i)) if rng.random() < 0.25 else Var(i) for i in clause]
        terms.append((float(rng.integers(1, 4)), And(*lits)))
    return BooleanModel(_name("boolean", d, seed), WeightedSum(tuple(terms), 0.0), n_vars=d, family="scaled_boolean",
                        notes=f"sum of weighted AND clauses over {len(relevant)} of {d} variables")


def _additive(d: int, seed: int) -> FunctionModel:
    rng = _rng("additive", d, seed)
    relevant, dummy = _split_features(rng, d)
    w = np.zeros(d)
    w[relevant] = rng.choice([-1.0, 1.0], size=len(relevant)) * rng.uniform(0.5, 2.0, size=len(relevant))
    paired = [relevant[i] for i in rng.permutation(len(relevant))][: 2 * (len(relevant) // 3)]
    pairs = {(min(a, b), max(a, b)): float(rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 3.0))
             for a, b in zip(paired[::2], paired[1::2])}
    w.setflags(write=False)

    def fn(X: np.ndarray) -> np.ndarray:
        out = X @ w
        for (i, j), c in pairs.items():
            out = out + c * X[:, i] * X[:, j]
        return out

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        Bb = np.broadcast_to(np.asarray(B, dtype=np.float64), X.shape)
        return w * (X - Bb) + product_shapley(pairs, X, Bb)

    def torch_factory() -> "torch.nn.Module":
        import torch
        from torch import nn

        class LinearPlusProducts(nn.Module):
            """``w·x + Σ c_ij x_i x_j`` (exact tensor ops)."""

            def __init__(self) -> None:
                super().__init__()
                self.register_buffer("w", torch.tensor(w.tolist(), dtype=torch.float64))
                self.register_buffer("left", torch.tensor([i for i, _ in pairs], dtype=torch.long))
                self.register_buffer("right", torch.tensor([j for _, j in pairs], dtype=torch.long))
                self.register_buffer("coef", torch.tensor(list(pairs.values()), dtype=torch.float64))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x @ self.w + (x[:, self.left] * x[:, self.right] * self.coef).sum(dim=1)

        return LinearPlusProducts().eval()

    gt = GroundTruth(relevant=frozenset(relevant), dummy=frozenset(dummy),
                     interactions=tuple(frozenset(p) for p in pairs), exact_attribution=exact,
                     notes=f"linear + {len(pairs)} pairwise products over {len(relevant)} of {d} features")
    return FunctionModel(_name("additive", d, seed), "scaled_additive", fn, tuple(f"x{i}" for i in range(d)), gt,
                         sampler=uniform_sampler(d, -1.0, 1.0), torch_factory=torch_factory,
                         spec={"kind": "linear_plus_products", "w": w.tolist(),
                               "pairs": [[i, j, c] for (i, j), c in pairs.items()], "seed": seed})


def _mlp_spec(d: int, seed: int) -> tuple[MLPSpec, list[int], list[int]]:
    rng = _rng("mlp", d, seed)
    relevant, dummy = _split_features(rng, d)
    sizes = (d, 2 * d, d, 1)
    layers = [(rng.normal(scale=np.sqrt(2.0 / n_in), size=(n_out, n_in)), rng.normal(scale=0.1, size=n_out))
              for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    layers[0][0][:, dummy] = 0.0
    return MLPSpec(tuple(layers)), relevant, dummy


def _mlp_gt(relevant: list[int], dummy: list[int], d: int) -> GroundTruth:
    return GroundTruth(relevant=frozenset(relevant), dummy=frozenset(dummy),
                       notes=f"ReLU MLP {d}-{2 * d}-{d}-1; dummy features {dummy} have zero first-layer weights")


def _mlp(d: int, seed: int) -> MLPModel:
    spec, relevant, dummy = _mlp_spec(d, seed)
    return MLPModel(_name("mlp", d, seed), spec, ground_truth=_mlp_gt(relevant, dummy, d), family="scaled_mlp")


def _mlp_twin(d: int, seed: int) -> MLPModel:
    spec, relevant, dummy = _mlp_spec(d, seed)
    twin = compose(spec, ("permuted", "rescaled", "split"), np.random.default_rng([_OFFSET["mlp"], d, seed, 1]))
    return MLPModel(_name("mlp_twin", d, seed), twin, ground_truth=_mlp_gt(relevant, dummy, d), family="scaled_mlp",
                    twin_of=_name("mlp", d, seed), transform="permuted+rescaled+split")


def _correlated(d: int, seed: int) -> FunctionModel:
    rng = _rng("correlated", d, seed)
    relevant, dummy = _split_features(rng, d)
    w = np.zeros(d)
    w[relevant] = rng.choice([-1.0, 1.0], size=len(relevant)) * rng.uniform(0.5, 2.0, size=len(relevant))
    source = {j: int(rng.choice(relevant)) for j in dummy}  # each dummy copies one relevant feature
    rho = 0.9

    def sampler(n: int, g: np.random.Generator) -> np.ndarray:
        X = g.normal(size=(n, d))
        for j, i in source.items():
            X[:, j] = rho * X[:, i] + np.sqrt(1.0 - rho**2) * X[:, j]
        return X

    return linear_model(w, 0.0, name=_name("correlated", d, seed), family="scaled_correlated", sampler=sampler,
                        notes=f"linear f on {len(relevant)} of {d} features; dummies copy {source} with rho={rho}",
                        spec_extra={"copies": {str(j): i for j, i in source.items()}, "rho": rho, "seed": seed})


_BUILDERS = {"boolean": _boolean, "additive": _additive, "mlp": _mlp, "mlp_twin": _mlp_twin,
             "correlated": _correlated}


@lru_cache(maxsize=256)
def scaled_model(family: str, d: int, seed: int = 0) -> SyntheticModel:
    """The ``family`` model in ``d`` features drawn from ``seed`` (cached: same arguments, same object)."""
    if family not in _BUILDERS:
        raise ValueError(f"unknown scaled family {family!r}; known: {', '.join(_BUILDERS)}")
    if d < 2:
        raise ValueError(f"a scaled model needs d >= 2; got d={d}")
    return _BUILDERS[family](int(d), int(seed))




# ------------------------------------------------------------------------------------------------ the grid
_Q, _D, _F = frozenset({"quick", "default", "full"}), frozenset({"default", "full"}), frozenset({"full"})


@dataclass(frozen=True)
class GridPoint:
    """One scaled case: ``family`` in ``d`` features with ``rows`` inputs, in the suites ``tiers``."""

    family: str
    d: int
    rows: int
    tiers: frozenset[str]


#: Feature counts only the ``full`` suite runs (checks that need no enumeration; boolean models stop at 16).
FULL_DIMS: tuple[int, ...] = (24, 32)
#: Cost (CPU-seconds through the runner: one thread per cell, 2 workers, all explainers and seeds, 32 rows): the
#: exact reference of a d=16 MLP case is computed once per case and kind (``axioms._reference_cache``; 0.3 s for
#: baseline, 2.3 s for interventional Shapley), and a ground-truth case costs 15 CPU-s at d=12 and 20-32 at d=16,
#: ~140 for the seven cases d in {12, 16} adds; captum's KernelSHAP and LIME (256 samples per row, three seeds) are
#: half of it. The default suite runs the checks judged against the exact oracle at every d in ``SCALE_DIMS``. The
#: checks that need no enumeration (the dummy, completeness and implementation-invariance gates: pass/fail, never
#: ranked) run d in {4, 8} by default: at d in {12, 16} they would add ~320 CPU-s (16 cases, the failing cells'
#: counterexample searches included) to a suite of ~1,100 for no ranking, so they run d in {12, 16, 24, 32} in
#: ``full``.
_DEFAULT_DIMS = {True: SCALE_DIMS, False: (4, 8)}


def _grid(exact: bool) -> tuple[GridPoint, ...]:
    out = []
    for family in FAMILIES:
        for d in SCALE_DIMS + (() if exact or family == "boolean" else FULL_DIMS):
            if (family, d) == ("additive", 8) and not exact:  # quick: one scaled case, where no oracle is enumerated
                tiers = _Q
            elif d in _DEFAULT_DIMS[exact]:
                tiers = _D
            else:
                tiers = _F
            out.append(GridPoint(family, d, 32, tiers))
    return tuple(out)


#: Scaled cases of checks that need no enumeration (dummy, completeness, invariance): every family at d in {4, 8}
#: in ``default`` (``quick``: additive at d=8), d in {12, 16, 24, 32} in ``full``; 32 rows each.
SCALE_GRID: tuple[GridPoint, ...] = _grid(exact=False)
#: Scaled cases of checks judged against the exact oracle (ground truth; none in ``quick``): every family at d in
#: {4, 8, 12, 16} in ``default`` and ``full``; 32 rows each.
EXACT_GRID: tuple[GridPoint, ...] = _grid(exact=True)


def grid_for(families: tuple[str, ...] = FAMILIES, *, exact: bool = False) -> tuple[GridPoint, ...]:
    """The grid points of the given families (``exact``: the grid of checks that enumerate the oracle)."""
    return tuple(p for p in (EXACT_GRID if exact else SCALE_GRID) if p.family in families)


def scaled_twin(point: GridPoint, seed: int | None = None) -> SyntheticModel:
    """The functionally equivalent twin of the ``mlp`` model of ``point`` (same seed rule as ``scaled_case_parts``)."""
    if point.family != "mlp":
        raise ValueError(f"only the mlp family has twins; got family {point.family!r}")
    return scaled_model("mlp_twin", point.d, case_seed() if seed is None else int(seed))


#: The scaled MLP in other units (issue 12): ``(label, alpha, c)`` for ``f -> alpha f + c`` written into the output
#: layer's weights and bias, so every explainer sees an ordinary ReLU network (no wrapper module). Every check's score
#: is unit-invariant, so a method whose attributions follow the units (``alpha a``, blind to ``c``) scores exactly
#: what it scores on the plain MLP; measured at d=8 (ground truth, seed 0), the changes separate what the
#: permuted/rescaled/split twin (``scaled_twin``: only ε-LRP moves) cannot: ``small_units`` (answers in
#: thousands) sinks ε-LRP's absolute ε = 0.25 (0.56 -> 0.05) and zeroes permutation importance; ``offset``
#: (a 10^6 intercept, as prices have) costs captum's KernelSHAP and LIME their float32 precision (0.88 -> 0.83,
#: 0.85 -> 0.80) and LRP-0 its bias-absorbed relevance (0.48 -> 0.40).
UNIT_CHANGES: tuple[tuple[str, float, float], ...] = (("small_units", 1e-3, 0.0), ("offset", 1.0, 1e6))


def scaled_units(d: int, label: str, seed: int | None = None) -> MLPModel:
    """The ``mlp`` model in ``d`` features in the units ``label`` of ``UNIT_CHANGES`` (same seed rule as the grid)."""
    changes = {name: (alpha, c) for name, alpha, c in UNIT_CHANGES}
    if label not in changes:
        raise ValueError(f"unknown unit change {label!r}; known: {', '.join(changes)}")
    alpha, c = changes[label]
    seed = case_seed() if seed is None else int(seed)
    spec, relevant, dummy = _mlp_spec(d, seed)
    W, b = spec.layers[-1]
    network = MLPSpec((*spec.layers[:-1], (W * alpha, b * alpha + c)))
    return MLPModel(f"{_name('mlp', d, seed)}_{label}", network, ground_truth=_mlp_gt(relevant, dummy, d),
                    family="scaled_mlp")


def scaled_case_parts(point: GridPoint, seed: int | None = None, *, n_background: int | None = None
                      ) -> tuple[str, SyntheticModel, np.ndarray, np.ndarray, np.ndarray]:
    """``(case name, model, X, baseline, background)`` for ``point`` under ``seed`` (default: the case seed).

    Rows and background (16 rows, 8 above d=12: the interventional oracle costs rows x background x 2^d) are
    draws of the model's distribution (binary rows are redrawn until non-zero, so the
    zero baseline differs from every row); the baseline is zero.
    """
    seed = case_seed() if seed is None else int(seed)
    n_background = (16 if point.d <= 12 else 8) if n_background is None else n_background
    model = scaled_model(point.family, point.d, seed)
    rng = np.random.default_rng([_OFFSET["rows"], point.d, FAMILIES.index(point.family), seed])
    X = model.sample(point.rows, rng)
    if model.domain == "binary":
        zero = ~X.any(axis=1)
        while zero.any():
            X[zero] = model.sample(int(zero.sum()), rng)
            zero = ~X.any(axis=1)
    background = model.sample(n_background, rng)
    return f"{point.family}_d{point.d}", model, X, np.zeros(point.d), background


#: Places of scaled models in checks' curated cases (``register_model(placed=)``), by (family, d).
_PLACED: dict[tuple[str, int], dict[str, str]] = {("mlp", 8): {"model_randomisation": "default", "robustness": "default"}}

for _family in _BUILDERS:  # the seed-0 draw of every family and size, by name (``xaicheck list models``)
    for _d in SCALE_DIMS + FULL_DIMS:
        if not (_family == "boolean" and _d > 16):
            register_model(_name(_family, _d, 0), placed=_PLACED.get((_family, _d)))(
                lambda f=_family, d=_d: scaled_model(f, d, 0))
