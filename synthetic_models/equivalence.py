"""ReLU MLPs as plain data, and transforms that change a network's internals but not its function.

Implementation invariance (Sundararajan et al. 2017, "Axiomatic Attribution for Deep Networks", sec. 2.2): two
networks are *functionally equivalent* if their outputs are equal for all inputs; an attribution method should give
them equal attributions. Each transform below maps an ``MLPSpec`` to an equivalent one (``(spec, rng) -> spec``):

- ``permuted``: permute the hidden units of every hidden layer (rows of W_l, b_l and columns of W_{l+1});
- ``rescaled``: positive rescaling across a ReLU, relu(c z)/c = relu(z) for c > 0 (row * c, next column / c);
- ``split``: split a unit into two, relu(a z) + relu((1-a) z) = relu(z) for 0 < a < 1;
- ``dead_units``: add units that never contribute (zero in-weights with bias -1, or zero out-weights);
- ``cancelling``: add a pair of identical units with out-weights u and -u;
- ``identity_layer``: insert z = relu(z) - relu(-z) (a layer of 2m units and a [I, -I] layer);
- ``bias_folded``: biases become weights of a constant-1 input carried through every hidden layer (relu(1) = 1);
- ``functional_relu``: the torch form uses ``torch.relu`` in ``forward`` instead of ``nn.ReLU`` modules.

All of them are exact in real arithmetic; in float64 the outputs agree to rounding (~1e-15 relative).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from .base import GroundTruth, SyntheticModel

if TYPE_CHECKING:
    import torch

__all__ = [
    "MLPSpec",
    "MLPModel",
    "TRANSFORMS",
    "permute_hidden",
    "rescale",
    "split_unit",
    "add_dead_units",
    "add_cancelling_pair",
    "insert_identity_layer",
    "fold_biases",
    "use_functional_relu",
    "compose",
    "structural_dummies",
]

Layer = tuple[np.ndarray, np.ndarray]


def _layer(W: Any, b: Any) -> Layer:
    W = np.array(W, dtype=np.float64, ndmin=2)
    b = np.array(b, dtype=np.float64, ndmin=1)
    if W.shape[0] != b.shape[0]:
        raise ValueError(f"layer weight of shape {W.shape} does not match bias of shape {b.shape}")
    W.setflags(write=False)
    b.setflags(write=False)
    return W, b


#: Rows per block of ``MLPSpec.predict``.
PREDICT_BLOCK = 1 << 14


@dataclass(frozen=True, eq=False)
class MLPSpec:
    """A ReLU MLP: ``a_0 = x`` (with a trailing 1 if ``constant_input``), ``a_l = relu(W_l a_{l-1} + b_l)``,
    output ``W_L a_{L-1} + b_L`` (no ReLU). ``W_l`` has torch's shape ``[out, in]``. One output gives ``[n]``."""

    layers: tuple[Layer, ...]
    constant_input: bool = False
    functional: bool = False

    def __post_init__(self) -> None:
        layers = tuple(_layer(W, b) for W, b in self.layers)
        if not layers:
            raise ValueError("an MLPSpec needs at least one layer")
        for l in range(1, len(layers)):
            if layers[l][0].shape[1] != layers[l - 1][0].shape[0]:
                raise ValueError(f"layer {l} expects {layers[l][0].shape[1]} inputs but layer {l - 1} "
                                 f"has {layers[l - 1][0].shape[0]} units")
        object.__setattr__(self, "layers", layers)

    @property
    def n_inputs(self) -> int:
        return self.layers[0][0].shape[1] - int(self.constant_input)

    @property
    def n_outputs(self) -> int:
        return self.layers[-1][0].shape[0]

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return tuple(W.shape[0] for W, _ in self.layers[:-1])

    def _augment(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"Expected X of shape [n, {self.n_inputs}] but got shape {X.shape}")
        return np.hstack([X, np.ones((X.shape[0], 1))]) if self.constant_input else X

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The forward pass, in blocks of ``PREDICT_BLOCK`` rows (activations stay in cache; each row's arithmetic
        is the same whatever the block, so the result does not depend on the batch)."""
        X = self._augment(X)
        out = np.empty((X.shape[0], self.n_outputs))
        for start in range(0, X.shape[0], PREDICT_BLOCK):
            a = X[start:start + PREDICT_BLOCK].T  # activations as columns: W @ a is the fast BLAS layout
            for l, (W, b) in enumerate(self.layers):
                a = W @ a + b[:, None]
                if l < len(self.layers) - 1:
                    np.maximum(a, 0.0, out=a)
            out[start:start + PREDICT_BLOCK] = a.T
        return out[:, 0] if self.n_outputs == 1 else out

    def to_torch(self, functional: bool | None = None) -> "torch.nn.Module":
        """A float64 ``MLPModule``; ``functional=None`` follows ``self.functional``."""
        return _module_class()(self, self.functional if functional is None else functional)

    def to_json(self) -> dict[str, Any]:
        return {"layers": [{"W": W.tolist(), "b": b.tolist()} for W, b in self.layers],
                "constant_input": self.constant_input, "functional": self.functional}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "MLPSpec":
        return cls(tuple((np.array(layer["W"], dtype=np.float64), np.array(layer["b"], dtype=np.float64))
                         for layer in data["layers"]),
                   constant_input=bool(data.get("constant_input", False)),
                   functional=bool(data.get("functional", False)))


_MODULE_CLASS: type | None = None


def _module_class() -> type:
    """Define ``MLPModule`` on first use (torch is imported lazily); it is importable from this module for pickle."""
    global _MODULE_CLASS
    if _MODULE_CLASS is not None:
        return _MODULE_CLASS
    import torch
    from torch import nn

    class MLPModule(nn.Module):
        """Linear/ReLU stack of an ``MLPSpec``: ``nn.Sequential`` with ``nn.ReLU`` modules, or ``torch.relu``
        calls in ``forward`` when ``functional``. Output ``[n]`` for one output, else ``[n, k]``."""

        def __init__(self, spec: MLPSpec, functional: bool = False) -> None:
            super().__init__()
            self.functional = functional
            self.constant_input = spec.constant_input
            self.squeeze = spec.n_outputs == 1
            linears = []
            for W, b in spec.layers:
                no_bias = spec.constant_input and not np.any(b)
                lin = nn.Linear(W.shape[1], W.shape[0], bias=not no_bias).double()
                with torch.no_grad():
                    lin.weight.copy_(torch.from_numpy(np.array(W)))
                    if lin.bias is not None:
                        lin.bias.copy_(torch.from_numpy(np.array(b)))
                linears.append(lin)
            if functional:
                self.linears = nn.ModuleList(linears)
            else:
                mods: list[nn.Module] = []
                for l, lin in enumerate(linears):
                    mods.append(lin)
                    if l < len(linears) - 1:
                        mods.append(nn.ReLU())
                self.net = nn.Sequential(*mods)

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            if self.constant_input:
                x = torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
            if self.functional:
                for l, lin in enumerate(self.linears):
                    x = lin(x)
                    if l < len(self.linears) - 1:
                        x = torch.relu(x)
            else:
                x = self.net(x)
            return x[:, 0] if self.squeeze else x

    MLPModule.__module__ = __name__
    MLPModule.__qualname__ = "MLPModule"
    _MODULE_CLASS = MLPModule
    return MLPModule


def __getattr__(name: str) -> Any:  # ``xaicheck.synthetic_models.equivalence.MLPModule`` without importing torch eagerly
    if name == "MLPModule":
        return _module_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------------- transforms
def _hidden(spec: MLPSpec, rng: np.random.Generator, what: str) -> int:
    if len(spec.layers) < 2:
        raise ValueError(f"{what} needs a hidden layer; the network has layer sizes {spec.hidden_sizes}")
    return int(rng.integers(len(spec.layers) - 1))


def _with_unit(spec: MLPSpec, l: int, w_in: np.ndarray, b_in: float, w_out: np.ndarray) -> MLPSpec:
    """Append a unit to hidden layer ``l`` with in-weights ``w_in``, bias ``b_in`` and out-weights ``w_out``."""
    layers = list(spec.layers)
    W, b = layers[l]
    layers[l] = (np.vstack([W, w_in[None, :]]), np.append(b, b_in))
    W2, b2 = layers[l + 1]
    layers[l + 1] = (np.hstack([W2, w_out[:, None]]), b2)
    return replace(spec, layers=tuple(layers))


def permute_hidden(spec: MLPSpec, rng: np.random.Generator) -> MLPSpec:
    """Permute the units of every hidden layer."""
    layers = [(np.array(W), np.array(b)) for W, b in spec.layers]
    for l in range(len(layers) - 1):
        perm = rng.permutation(layers[l][0].shape[0])
        layers[l] = (layers[l][0][perm], layers[l][1][perm])
        layers[l + 1] = (layers[l + 1][0][:, perm], layers[l + 1][1])
    return replace(spec, layers=tuple(layers))


def rescale(spec: MLPSpec, rng: np.random.Generator) -> MLPSpec:
    """Scale every hidden unit's in-weights and bias by c > 0 (log-uniform in [1/4, 4]) and its out-weights by 1/c."""
    layers = [(np.array(W), np.array(b)) for W, b in spec.layers]
    for l in range(len(layers) - 1):
        c = np.exp(rng.uniform(np.log(0.25), np.log(4.0), size=layers[l][0].shape[0]))
        layers[l] = (layers[l][0] * c[:, None], layers[l][1] * c)
        layers[l + 1] = (layers[l + 1][0] / c[None, :], layers[l + 1][1])
    return replace(spec, layers=tuple(layers))


def split_unit(spec: MLPSpec, rng: np.random.Generator) -> MLPSpec:
    """Split one hidden unit into relu(a z) + relu((1-a) z) with a in [1/4, 3/4], both with its out-weights."""
    l = _hidden(spec, rng, "split")
    W, b = spec.layers[l]
    j = int(rng.integers(W.shape[0]))
    a = float(rng.uniform(0.25, 0.75))
    W = np.array(W)
    b = np.array(b)
    w_in, b_in = W[j] * (1.0 - a), b[j] * (1.0 - a)
    W[j] *= a
    b[j] *= a
    layers = list(spec.layers)
    layers[l] = (W, b)
    spec = replace(spec, layers=tuple(layers))
    return _with_unit(spec, l, w_in, b_in, np.array(spec.layers[l + 1][0][:, j]))


def add_dead_units(spec: MLPSpec, rng: np.random.Generator) -> MLPSpec:
    """Add two units to a hidden layer: relu(0 x - 1) = 0 with random out-weights, and a random unit with
    zero out-weights. Neither ever changes the output (on any input, not only the domain)."""
    l = _hidden(spec, rng, "dead units")
    n_in, n_out = spec.layers[l][0].shape[1], spec.layers[l + 1][0].shape[0]
    spec = _with_unit(spec, l, np.zeros(n_in), -1.0, rng.normal(size=n_out))
    return _with_unit(spec, l, rng.normal(size=n_in), float(rng.normal()), np.zeros(n_out))


def add_cancelling_pair(spec: MLPSpec, rng: np.random.Generator) -> MLPSpec:
    """Add two identical random units to a hidden layer with out-weights u and -u: u h - u h = 0."""
    l = _hidden(spec, rng, "cancelling pair")
    n_in, n_out = spec.layers[l][0].shape[1], spec.layers[l + 1][0].shape[0]
    w_in, b_in, u = rng.normal(size=n_in), float(rng.normal()), rng.normal(size=n_out)
    spec = _with_unit(spec, l, w_in, b_in, u)
    return _with_unit(spec, l, w_in, b_in, -u)


def insert_identity_layer(spec: MLPSpec, rng: np.random.Generator) -> MLPSpec:
    """Replace a layer's pre-activation z = W a + b by relu(z) - relu(-z): layers ([W; -W], [b; -b]) then
    ([I, -I], 0). relu(z) - relu(-z) is exact in floating point (one term is 0); the wider matmul may round
    differently."""
    p = int(rng.integers(len(spec.layers)))
    W, b = spec.layers[p]
    m = W.shape[0]
    eye = np.eye(m)
    layers = list(spec.layers)
    layers[p:p + 1] = [(np.vstack([W, -W]), np.concatenate([b, -b])), (np.hstack([eye, -eye]), np.zeros(m))]
    return replace(spec, layers=tuple(layers))


def fold_biases(spec: MLPSpec, rng: np.random.Generator | None = None) -> MLPSpec:
    """Move every bias into a weight on a constant-1 unit: the input gets a trailing 1 and each hidden layer a unit
    relu(1) = 1 carrying it. All biases become 0 (the torch form has ``bias=False`` linears)."""
    layers = [(np.array(W), np.array(b)) for W, b in spec.layers]
    if not spec.constant_input:
        layers[0] = (np.hstack([layers[0][0], np.zeros((layers[0][0].shape[0], 1))]), layers[0][1])
    const = layers[0][0].shape[1] - 1  # index of the constant unit in the layer below
    out: list[Layer] = []
    for l, (W, b) in enumerate(layers):
        if W.shape[1] < const + 1:  # the layer below gained a constant unit
            W = np.hstack([W, np.zeros((W.shape[0], const + 1 - W.shape[1]))])
        W = W.copy()
        W[:, const] += b
        b = np.zeros(W.shape[0])
        if l < len(layers) - 1:
            carry = np.zeros(W.shape[1])
            carry[const] = 1.0
            W, b = np.vstack([W, carry[None, :]]), np.zeros(W.shape[0] + 1)
            const = W.shape[0] - 1
        out.append((W, b))
    return replace(spec, layers=tuple(out), constant_input=True)


def use_functional_relu(spec: MLPSpec, rng: np.random.Generator | None = None) -> MLPSpec:
    """Same weights; the torch form calls ``torch.relu`` instead of holding ``nn.ReLU`` modules."""
    return replace(spec, functional=True)


#: Transform name -> ``(spec, rng) -> spec``; the names are the ``transform`` of the ``mlp_*`` twins.
TRANSFORMS: dict[str, Callable[[MLPSpec, np.random.Generator], MLPSpec]] = {
    "permuted": permute_hidden,
    "rescaled": rescale,
    "split": split_unit,
    "dead_units": add_dead_units,
    "cancelling": add_cancelling_pair,
    "identity_layer": insert_identity_layer,
    "bias_folded": fold_biases,
    "functional_relu": use_functional_relu,
}


def compose(spec: MLPSpec, names: Sequence[str], rng: np.random.Generator) -> MLPSpec:
    """Apply the named transforms in order."""
    for name in names:
        if name not in TRANSFORMS:
            raise ValueError(f"unknown transform {name!r}; known: {', '.join(TRANSFORMS)}")
        spec = TRANSFORMS[name](spec, rng)
    return spec


def structural_dummies(spec: MLPSpec) -> frozenset[int]:
    """Inputs with no path of non-zero weights to the output (certainly dummy; others may still be dummy)."""
    reach = np.ones(spec.n_outputs, dtype=bool)
    for W, _ in reversed(spec.layers):
        reach = (np.abs(W[reach]) > 0).any(axis=0)
    return frozenset(i for i in range(spec.n_inputs) if not reach[i])


# ---------------------------------------------------------------------------------------------------- model
Bounds = tuple[tuple[float, ...], tuple[float, ...]]


class MLPModel(SyntheticModel):
    """A synthetic model given by an ``MLPSpec``: ``predict`` is the numpy forward pass, ``torch_module`` its torch
    form; inputs uniform on the box ``input_bounds``. Twins carry ``twin_of`` and ``transform``."""

    def __init__(self, name: str, network: MLPSpec, *, ground_truth: GroundTruth | None = None,
                 family: str = "equivalence", bounds: tuple[Sequence[float], Sequence[float]] | None = None,
                 twin_of: str | None = None, transform: str | None = None,
                 feature_names: Sequence[str] | None = None) -> None:
        self.name = name
        self.family = family
        self.domain = "continuous"
        self.network = network
        d = network.n_inputs
        self.feature_names = tuple(feature_names or (f"x{i}" for i in range(d)))
        if len(self.feature_names) != d:
            raise ValueError(f"network has {d} inputs but got {len(self.feature_names)} feature names")
        self.n_outputs = network.n_outputs
        if ground_truth is None:
            dummy = structural_dummies(network)
            ground_truth = GroundTruth(relevant=frozenset(range(d)) - dummy, dummy=dummy,
                                       notes="relevant = connected to the output by non-zero weights (upper bound)")
        self.ground_truth = ground_truth
        low, high = bounds if bounds is not None else ((-1.0,) * d, (1.0,) * d)
        self.input_bounds: Bounds = (tuple(np.broadcast_to(np.asarray(low, float), d).tolist()),
                                     tuple(np.broadcast_to(np.asarray(high, float), d).tolist()))
        self.twin_of = twin_of
        self.transform = transform

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self.network.predict(X)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        low, high = (np.asarray(b) for b in self.input_bounds)
        return rng.uniform(low, high, size=(n, self.n_features))

    def torch_module(self) -> "torch.nn.Module":
        return self.network.to_torch()

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "kind": "mlp", "network": self.network.to_json(),
                "bounds": [list(self.input_bounds[0]), list(self.input_bounds[1])],
                "twin_of": self.twin_of, "transform": self.transform,
                "relevant": sorted(self.ground_truth.relevant), "dummy": sorted(self.ground_truth.dummy)}

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "MLPModel":
        gt = GroundTruth(relevant=frozenset(spec["relevant"]), dummy=frozenset(spec["dummy"]))
        return cls(spec["name"], MLPSpec.from_json(spec["network"]), ground_truth=gt, family=spec["family"],
                   bounds=(spec["bounds"][0], spec["bounds"][1]), twin_of=spec.get("twin_of"),
                   transform=spec.get("transform"))
