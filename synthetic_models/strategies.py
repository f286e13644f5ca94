"""Hypothesis strategies for model families and their inputs (composed, never subclassed).

Every model drawn here has ``spec()`` returning JSON-serialisable data and ``build_from_spec(spec)`` re-builds it, so
a shrunk counterexample can be printed and re-run. Weights are drawn as small multiples of 1/2 so that they shrink
towards 0 and a minimal failing network reads well.

- ``boolean_models(max_vars, dummies)``: random truth tables (``Table`` formulas) -> ``BooleanModel``;
- ``relu_mlps(max_inputs, max_hidden, max_layers)`` -> ``MLPSpec``; ``mlp_models`` -> ``MLPModel``;
- ``equivalent_twins(spec_or_model)`` -> an equivalent network from a random composition of transforms;
- ``linear_models(max_features)`` -> ``FunctionModel`` with ``linear_coefficients = (w, b)`` and an ``nn.Linear``;
- ``inputs_for(model)`` -> float64 ``[n, d]`` arrays from the model's domain.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from hypothesis import strategies as st

from .base import FunctionModel, GroundTruth, SyntheticModel
from .boolean import Table
from .boolean_model import BooleanModel
from .equivalence import TRANSFORMS, MLPModel, MLPSpec, compose

__all__ = [
    "boolean_models",
    "relu_mlps",
    "mlp_models",
    "equivalent_twins",
    "linear_model",
    "linear_models",
    "inputs_for",
    "build_from_spec",
]

_HALVES = st.integers(-4, 4).map(lambda k: k / 2.0)


def _check_positive(**kwargs: int) -> None:
    for key, value in kwargs.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"Expected a positive int but got {key}={value!r}")


@st.composite
def boolean_models(draw: st.DrawFn, max_vars: int = 4, dummies: bool = True) -> BooleanModel:
    """A ``BooleanModel`` of a random truth table over 1..max_vars variables, plus 0..2 dummies if ``dummies``."""
    _check_positive(max_vars=max_vars)
    n = draw(st.integers(1, max_vars))
    values = draw(st.lists(st.integers(0, 1), min_size=1 << n, max_size=1 << n))
    n_dummies = draw(st.integers(0, 2)) if dummies else 0
    return BooleanModel("random_boolean", Table(range(n), values), n_vars=n, n_dummies=n_dummies,
                        family="random_boolean")


@st.composite
def relu_mlps(draw: st.DrawFn, max_inputs: int = 4, max_hidden: int = 6, max_layers: int = 2,
              n_inputs: int | None = None) -> MLPSpec:
    """A ReLU MLP with 1..max_inputs inputs (exactly ``n_inputs`` if given), 1..max_layers hidden layers of
    1..max_hidden units, one output."""
    _check_positive(max_inputs=max_inputs, max_hidden=max_hidden, max_layers=max_layers)
    if n_inputs is not None:
        _check_positive(n_inputs=n_inputs)
    sizes = [n_inputs or draw(st.integers(1, max_inputs))]
    sizes += draw(st.lists(st.integers(1, max_hidden), min_size=1, max_size=max_layers))
    sizes.append(1)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = draw(st.lists(_HALVES, min_size=n_in * n_out, max_size=n_in * n_out))
        b = draw(st.lists(_HALVES, min_size=n_out, max_size=n_out))
        layers.append((np.reshape(W, (n_out, n_in)), np.array(b)))
    return MLPSpec(tuple(layers))


def mlp_models(max_inputs: int = 4, max_hidden: int = 6, max_layers: int = 2) -> st.SearchStrategy[MLPModel]:
    """``relu_mlps`` wrapped as ``MLPModel`` (inputs uniform on [-1, 1]^d)."""
    return relu_mlps(max_inputs, max_hidden, max_layers).map(lambda s: MLPModel("random_mlp", s, family="random_mlp"))


@st.composite
def equivalent_twins(draw: st.DrawFn, source: MLPSpec | MLPModel, max_transforms: int = 3) -> Any:
    """A network equal in function to ``source`` from 1..max_transforms random transforms (``TRANSFORMS``).
    An ``MLPSpec`` gives an ``MLPSpec``; an ``MLPModel`` gives an ``MLPModel`` twin whose ``transform`` lists them."""
    names = draw(st.lists(st.sampled_from(sorted(TRANSFORMS)), min_size=1, max_size=max_transforms))
    seed = draw(st.integers(0, 2**32 - 1))
    spec = source.network if isinstance(source, MLPModel) else source
    twin = compose(spec, names, np.random.default_rng(seed))
    if isinstance(source, MLPModel):
        return MLPModel(f"{source.name}_twin", twin, ground_truth=source.ground_truth, family=source.family,
                        bounds=source.input_bounds, twin_of=source.name, transform="+".join(names))
    return twin


def linear_model(w: Sequence[float], b: float = 0.0, name: str = "random_linear") -> FunctionModel:
    """f(x) = w . x + b on [-1, 1]^d, with ``linear_coefficients``, an ``nn.Linear`` torch form and the closed form
    attribution w * (x - baseline) (every Shapley value of a linear model, Lundberg & Lee 2017)."""
    w = np.asarray(w, dtype=np.float64).copy()
    b = float(b)
    d = w.shape[0]
    groups: dict[float, set[int]] = {}
    for i, wi in enumerate(w):
        groups.setdefault(float(wi), set()).add(i)
    gt = GroundTruth(relevant=frozenset(np.flatnonzero(w).tolist()), dummy=frozenset(np.flatnonzero(w == 0).tolist()),
                     symmetric_groups=tuple(frozenset(g) for g in groups.values() if len(g) > 1),
                     exact_attribution=lambda x, base: w * (np.asarray(x, float) - np.asarray(base, float)),
                     notes="linear: phi_i = w_i (x_i - b_i)")
    network = MLPSpec(((w[None, :], np.array([b])),))
    model = FunctionModel(name, "random_linear", lambda X: X @ w + b, [f"x{i}" for i in range(d)], gt,
                          sampler=lambda n, rng: rng.uniform(-1.0, 1.0, size=(n, d)),
                          torch_factory=network.to_torch, spec={"kind": "linear", "w": w.tolist(), "b": b})
    model.linear_coefficients = (w, b)
    model.input_bounds = ((-1.0,) * d, (1.0,) * d)
    return model


@st.composite
def linear_models(draw: st.DrawFn, max_features: int = 5) -> FunctionModel:
    """``linear_model`` with 1..max_features weights and a bias in {-2, -1.5, .., 2}."""
    _check_positive(max_features=max_features)
    d = draw(st.integers(1, max_features))
    return linear_model(draw(st.lists(_HALVES, min_size=d, max_size=d)), draw(_HALVES))


def _bounds(model: SyntheticModel) -> tuple[np.ndarray, np.ndarray]:
    d = model.n_features
    bounds = getattr(model, "input_bounds", None)
    if bounds is None:
        sample = model.sample(256, np.random.default_rng(0))
        return sample.min(axis=0), sample.max(axis=0)
    return (np.broadcast_to(np.asarray(bounds[0], float), d), np.broadcast_to(np.asarray(bounds[1], float), d))


@st.composite
def inputs_for(draw: st.DrawFn, model: SyntheticModel, min_rows: int = 1, max_rows: int = 4) -> np.ndarray:
    """Float64 inputs ``[n, d]``: points of {0,1}^d for binary models, else floats in the model's ``input_bounds``
    (or the range of 256 draws of its sampler)."""
    n = draw(st.integers(min_rows, max_rows))
    d = model.n_features
    if model.domain == "binary":
        bits = draw(st.lists(st.integers(0, 1), min_size=n * d, max_size=n * d))
        return np.asarray(bits, dtype=np.float64).reshape(n, d)
    low, high = _bounds(model)
    cols = [st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False) for lo, hi in zip(low, high)]
    rows = draw(st.lists(st.tuples(*cols), min_size=n, max_size=n))
    return np.asarray(rows, dtype=np.float64).reshape(n, d)


def build_from_spec(spec: Mapping[str, Any]) -> SyntheticModel:
    """Re-build a model drawn here (or a ``BooleanModel`` / ``MLPModel``) from its ``spec()``."""
    kind = spec.get("kind")
    if kind == "boolean":
        return BooleanModel.from_spec(spec)
    if kind == "mlp":
        return MLPModel.from_spec(spec)
    if kind == "linear":
        return linear_model(spec["w"], spec["b"], name=spec["name"])
    raise ValueError(f"cannot build a model from a spec of kind {kind!r}; expected 'boolean', 'mlp' or 'linear'")
