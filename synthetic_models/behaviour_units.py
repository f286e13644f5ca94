"""Behaviour units that break attribution methods, each with its exact answer (after the units of XAI-Units,
Lee et al. 2025, "XAI-Units: benchmarking explainability methods with unit tests"; designs and code are our own).

Every unit is a function of ``(d, seed)`` (the seed draws its weights; ``d`` its size), has an exact float64 torch
form and a closed-form baseline Shapley value (BShap, Sundararajan & Najmi 2020), built from two facts: Shapley
values are additive over terms, and a two-feature term h(x_i, x_j) gives
``φ_i = ½[h(x_i, b_j) - h(b_i, b_j)] + ½[h(x_i, x_j) - h(b_i, x_j)]`` (``additive.pair_term_shapley``). The last
feature of every unit is a dummy.

- ``conflicting``: f = Σ_k w_k x_k (1 - c_k): a binary *cancel* feature c_k switches x_k's contribution off. On a
  cancelled pair φ_x = w x/2 and φ_c = -w x/2 (conflicting, summing to 0), while ∂f/∂x_k = 0: gradient × input and
  saliency call a feature that matters irrelevant.
- ``pertinent_negative``: f = Σ_i w_i x_i + Σ_j u_j relu(1 - z_j) with binary z_j: z_j matters by being *absent*
  (z_j = 0 adds u_j). The case baseline is the data mean (½ on z), so φ_{z_j} = u_j (1 - relu(1 - b_j)) = u_j/2 at
  z_j = 0, where every method with an implicit zero reference (x ⊙ ∂f/∂x, LRP) gives exactly 0.
- ``shattered``: f = Σ_i w_i x_i + A sin(ω x_0) with A = 0.05, ω = 200: a steep oscillation that changes f by at
  most 2A but makes |∂f/∂x_0| up to Aω = 10; φ_0 = w_0 (x_0 - b_0) + A (sin ω x_0 - sin ω b_0). Gradients mislead;
  path integrals alias unless they take many steps (Balduzzi et al. 2017, "The shattered gradients problem").
- ``interacting``: f = Σ_k x_k (p_k + (q_k - p_k) s_k) with a binary switch s_k choosing x_k's weight p_k or q_k;
  pair-term Shapley as above.
- ``uncertainty``: 3-class softmax over logits (1 - t)·(W x_R) + u·1: the *shift* u adds the same to every logit,
  so it never moves a probability (a dummy of every output), while the *temperature* t in [0, 1] flattens the
  prediction to uniform as t -> 1 (the model grows unsure). The exact answer of the explained class probability is
  computed by enumeration (d = 8); the attribution should credit t with the lost confidence and u with nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from .additive import pair_term_shapley
from .base import FunctionModel, GroundTruth
from .registry import register_model
from .seeding import case_seed

if TYPE_CHECKING:
    import torch

__all__ = ["UNITS", "unit_model", "unit_case_parts", "SHATTER_AMPLITUDE", "SHATTER_FREQUENCY"]

SHATTER_AMPLITUDE = 0.05
SHATTER_FREQUENCY = 200.0
_OFFSET = 1301


def _bcast(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(B, dtype=np.float64), np.shape(X))


def _signed(rng: np.random.Generator, n: int, low: float = 0.5, high: float = 2.0) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=n) * rng.uniform(low, high, size=n)


def _module(forward: Callable[["torch.Tensor"], "torch.Tensor"], relu: bool = False) -> "torch.nn.Module":
    from torch import nn

    class Unit(nn.Module):
        """A behaviour unit as tensor ops (``nn.ReLU`` as a module where one is used, for DeepLift/LRP rules)."""

        def __init__(self) -> None:
            super().__init__()
            if relu:
                self.relu = nn.ReLU()

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            return forward(self, x)

    return Unit().eval()


# ------------------------------------------------------------------------------------------------ conflicting
def _conflicting(d: int, seed: int) -> FunctionModel:
    k = (d - 1) // 2
    w = _signed(np.random.default_rng([_OFFSET, 1, d, seed]), k)
    xs, cs = np.arange(k), np.arange(k, 2 * k)

    def fn(X: np.ndarray) -> np.ndarray:
        return (w * X[:, xs] * (1.0 - X[:, cs])).sum(axis=1)

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        B = _bcast(X, B)
        out = np.zeros(np.shape(X))
        for t in range(k):
            h = lambda a, c, wt=w[t]: wt * a * (1.0 - c)  # noqa: E731
            out[:, xs[t]], out[:, cs[t]] = pair_term_shapley(h, X[:, xs[t]], X[:, cs[t]], B[:, xs[t]], B[:, cs[t]])
        return out

    def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
        return np.hstack([rng.uniform(0.5, 2.0, (n, k)), (rng.random((n, k)) < 0.5).astype(float),
                          rng.uniform(0.5, 2.0, (n, d - 2 * k))])

    def torch_factory() -> "torch.nn.Module":
        import torch

        wt = torch.tensor(w.tolist(), dtype=torch.float64)
        return _module(lambda self, x: (wt * x[:, :k] * (1.0 - x[:, k:2 * k])).sum(dim=1))

    gt = GroundTruth(relevant=frozenset(range(2 * k)), dummy=frozenset(range(2 * k, d)),
                     interactions=tuple(frozenset({int(a), int(c)}) for a, c in zip(xs, cs)), exact_attribution=exact,
                     notes=f"f = sum_k w_k x_k (1 - c_k), k={k}: cancelled pairs get +-w x/2, gradient 0")
    return FunctionModel(_name("conflicting", d, seed), "behaviour_unit", fn, _names(k, "x", "c", d), gt,
                         sampler=sampler, torch_factory=torch_factory, spec={"kind": "conflicting", "w": w.tolist()})


def _names(k: int, a: str, b: str, d: int) -> tuple[str, ...]:
    return tuple([f"{a}{i}" for i in range(k)] + [f"{b}{i}" for i in range(k)]
                 + [f"dummy{i}" for i in range(d - 2 * k)])


# ------------------------------------------------------------------------------------------------ pertinent negatives
def _pertinent_negative(d: int, seed: int) -> FunctionModel:
    rng = np.random.default_rng([_OFFSET, 2, d, seed])
    k = (d - 1) // 2  # continuous features; then d - 1 - k pertinent-negative flags; then one dummy
    m = d - 1 - k
    w, u = _signed(rng, k), rng.uniform(1.0, 3.0, size=m)
    zs = np.arange(k, k + m)

    def terms(X: np.ndarray) -> np.ndarray:
        return np.hstack([w * X[:, :k], u * np.maximum(1.0 - X[:, zs], 0.0), np.zeros((X.shape[0], d - k - m))])

    def fn(X: np.ndarray) -> np.ndarray:
        return terms(X).sum(axis=1)

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        return terms(np.asarray(X, dtype=np.float64)) - terms(np.array(_bcast(X, B)))

    def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
        return np.hstack([rng.uniform(0.0, 1.0, (n, k)), (rng.random((n, m)) < 0.5).astype(float),
                          rng.uniform(0.0, 1.0, (n, d - k - m))])

    def torch_factory() -> "torch.nn.Module":
        import torch

        wt, ut = torch.tensor(w.tolist(), dtype=torch.float64), torch.tensor(u.tolist(), dtype=torch.float64)
        return _module(lambda self, x: x[:, :k] @ wt + self.relu(1.0 - x[:, k:k + m]) @ ut, relu=True)

    gt = GroundTruth(relevant=frozenset(range(k + m)), dummy=frozenset(range(k + m, d)), exact_attribution=exact,
                     notes="f = w.x + sum_j u_j relu(1 - z_j): z_j = 0 (absent) adds u_j; baseline = data mean")
    names = tuple([f"x{i}" for i in range(k)] + [f"z{j}" for j in range(m)] + [f"dummy{i}" for i in range(d - k - m)])
    return FunctionModel(_name("pertinent_negative", d, seed), "behaviour_unit", fn, names, gt, sampler=sampler,
                         torch_factory=torch_factory,
                         spec={"kind": "pertinent_negative", "w": w.tolist(), "u": u.tolist()})


# ------------------------------------------------------------------------------------------------ shattered gradients
def _shattered(d: int, seed: int) -> FunctionModel:
    w = _signed(np.random.default_rng([_OFFSET, 3, d, seed]), d - 1)
    w[0] = 0.3  # the shattered feature: small true effect, huge gradient
    A, omega = SHATTER_AMPLITUDE, SHATTER_FREQUENCY

    def terms(X: np.ndarray) -> np.ndarray:
        T = np.hstack([w * X[:, :d - 1], np.zeros((X.shape[0], 1))])
        T[:, 0] += A * np.sin(omega * X[:, 0])
        return T

    def fn(X: np.ndarray) -> np.ndarray:
        return terms(X).sum(axis=1)

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        return terms(np.asarray(X, dtype=np.float64)) - terms(np.array(_bcast(X, B)))

    def torch_factory() -> "torch.nn.Module":
        import torch

        wt = torch.tensor(w.tolist(), dtype=torch.float64)
        return _module(lambda self, x: x[:, :d - 1] @ wt + A * torch.sin(omega * x[:, 0]))

    gt = GroundTruth(relevant=frozenset(range(d - 1)), dummy=frozenset({d - 1}), exact_attribution=exact,
                     notes=f"f = w.x + {A} sin({omega:g} x0): |df/dx0| up to {A * omega:g}, true effect of x0 small")
    return FunctionModel(_name("shattered", d, seed), "behaviour_unit", fn, tuple(f"x{i}" for i in range(d)), gt,
                         sampler=lambda n, rng: rng.uniform(-1.0, 1.0, (n, d)), torch_factory=torch_factory,
                         spec={"kind": "shattered", "w": w.tolist(), "amplitude": A, "frequency": omega})


# ------------------------------------------------------------------------------------------------ interacting
def _interacting(d: int, seed: int) -> FunctionModel:
    rng = np.random.default_rng([_OFFSET, 4, d, seed])
    k = (d - 1) // 2
    p, q = _signed(rng, k), _signed(rng, k)
    xs, ss = np.arange(k), np.arange(k, 2 * k)

    def fn(X: np.ndarray) -> np.ndarray:
        return (X[:, xs] * (p + (q - p) * X[:, ss])).sum(axis=1)

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        B = _bcast(X, B)
        out = np.zeros(np.shape(X))
        for t in range(k):
            h = lambda a, s, pt=p[t], qt=q[t]: a * (pt + (qt - pt) * s)  # noqa: E731
            out[:, xs[t]], out[:, ss[t]] = pair_term_shapley(h, X[:, xs[t]], X[:, ss[t]], B[:, xs[t]], B[:, ss[t]])
        return out

    def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
        return np.hstack([rng.uniform(-1.0, 1.0, (n, k)), (rng.random((n, k)) < 0.5).astype(float),
                          rng.uniform(-1.0, 1.0, (n, d - 2 * k))])

    def torch_factory() -> "torch.nn.Module":
        import torch

        pt, qt = torch.tensor(p.tolist(), dtype=torch.float64), torch.tensor(q.tolist(), dtype=torch.float64)
        return _module(lambda self, x: (x[:, :k] * (pt + (qt - pt) * x[:, k:2 * k])).sum(dim=1))

    gt = GroundTruth(relevant=frozenset(range(2 * k)), dummy=frozenset(range(2 * k, d)),
                     interactions=tuple(frozenset({int(a), int(s)}) for a, s in zip(xs, ss)), exact_attribution=exact,
                     notes="f = sum_k x_k (p_k + (q_k - p_k) s_k): switch s_k picks x_k's weight")
    return FunctionModel(_name("interacting", d, seed), "behaviour_unit", fn, _names(k, "x", "s", d), gt,
                         sampler=sampler, torch_factory=torch_factory,
                         spec={"kind": "interacting", "p": p.tolist(), "q": q.tolist()})


# ------------------------------------------------------------------------------------------------ uncertainty
def _uncertainty(d: int, seed: int) -> FunctionModel:
    rng = np.random.default_rng([_OFFSET, 5, d, seed])
    r = d - 3  # signal features, then the temperature t, the shift u, one dummy
    W = rng.normal(scale=2.0, size=(3, r))
    t_idx, u_idx = r, r + 1

    def logits(X: np.ndarray) -> np.ndarray:
        return (1.0 - X[:, [t_idx]]) * (X[:, :r] @ W.T) + X[:, [u_idx]]

    def fn(X: np.ndarray) -> np.ndarray:
        z = logits(X)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
        return np.hstack([rng.uniform(-1.0, 1.0, (n, r)), rng.uniform(0.0, 1.0, (n, 1)),
                          rng.uniform(-2.0, 2.0, (n, 1)), rng.uniform(-1.0, 1.0, (n, d - r - 2))])

    def torch_factory() -> "torch.nn.Module":
        import torch

        Wt = torch.tensor(W.tolist(), dtype=torch.float64)
        return _module(lambda self, x: torch.softmax((1.0 - x[:, r:r + 1]) * (x[:, :r] @ Wt.T) + x[:, r + 1:r + 2],
                                                     dim=1))

    gt = GroundTruth(relevant=frozenset(range(r + 1)), dummy=frozenset({u_idx, *range(r + 2, d)}),
                     notes="softmax((1 - t) W x + u): the shift u never moves a probability (dummy of every "
                           "class); the temperature t flattens the prediction (unsure as t -> 1)")
    return FunctionModel(_name("uncertainty", d, seed), "behaviour_unit", fn,
                         tuple([f"x{i}" for i in range(r)] + ["temperature", "shift"]
                               + [f"dummy{i}" for i in range(d - r - 2)]),
                         gt, sampler=sampler, torch_factory=torch_factory, n_outputs=3,
                         spec={"kind": "uncertainty", "W": W.tolist()})


# ------------------------------------------------------------------------------------------------ registry
_BUILDERS = {"conflicting": _conflicting, "pertinent_negative": _pertinent_negative, "shattered": _shattered,
             "interacting": _interacting, "uncertainty": _uncertainty}
#: Unit name -> default feature count.
UNITS: dict[str, int] = {"conflicting": 9, "pertinent_negative": 8, "shattered": 8, "interacting": 9,
                         "uncertainty": 8}


def _name(unit: str, d: int, seed: int) -> str:
    base = f"unit_{unit}" if d == UNITS[unit] else f"unit_{unit}_d{d}"
    return base if seed == 0 else f"{base}_s{seed}"


_CACHE: dict[tuple[str, int, int], FunctionModel] = {}


def unit_model(unit: str, d: int | None = None, seed: int = 0) -> FunctionModel:
    """The behaviour unit ``unit`` in ``d`` features (default ``UNITS[unit]``) drawn from ``seed`` (cached)."""
    if unit not in _BUILDERS:
        raise ValueError(f"unknown behaviour unit {unit!r}; known: {', '.join(_BUILDERS)}")
    d = UNITS[unit] if d is None else int(d)
    if d < 5:
        raise ValueError(f"behaviour unit {unit!r} needs d >= 5; got d={d}")
    key = (unit, d, int(seed))
    if key not in _CACHE:
        _CACHE[key] = _BUILDERS[unit](d, int(seed))
    return _CACHE[key]


def unit_case_parts(unit: str, rows: int = 32, seed: int | None = None, *, n_background: int = 16
                    ) -> tuple[str, FunctionModel, np.ndarray, np.ndarray, np.ndarray, int | None]:
    """``(case name, model, X, baseline, background, target)`` for ``unit`` under ``seed`` (default: case seed).

    Baselines: the data mean for ``pertinent_negative`` (so an absent flag differs from it), the point of maximal
    uncertainty t = 1 (uniform prediction) with x = 0 for ``uncertainty``, else 0 (``conflicting``: x = 0, no
    cancel). Rows of ``pertinent_negative`` have every flag absent (0); ``uncertainty`` explains class 0.
    """
    seed = case_seed() if seed is None else int(seed)
    model = unit_model(unit, None, seed)
    d = model.n_features
    rng = np.random.default_rng([_OFFSET, 99, list(_BUILDERS).index(unit), seed])
    X = model.sample(rows, rng)
    background = model.sample(n_background, rng)
    baseline = np.zeros(d)
    target = None
    if unit == "pertinent_negative":
        flags = sorted(set(range(d)) - set(range((d - 1) // 2)) - model.ground_truth.dummy)
        X[:, flags] = 0.0
        baseline = np.full(d, 0.5)
    elif unit == "uncertainty":
        baseline[d - 3] = 1.0
        target = 0
    return f"unit_{unit}", model, X, baseline, background, target


#: Places of behaviour units in checks' curated cases (``register_model(placed=)``), by unit.
_PLACED: dict[str, dict[str, str]] = {"shattered": {"robustness": "default"}}

for _unit in _BUILDERS:
    register_model(_name(_unit, UNITS[_unit], 0), placed=_PLACED.get(_unit))(lambda u=_unit: unit_model(u))
