"""An adversarial scaffold that hides a biased model from perturbation-based explainers.

Slack, Hilgard, Jia, Singh & Lakkaraju 2020, "Fooling LIME and SHAP: Adversarial attacks on post hoc explanation
methods" (AIES). The scaffold is ``e(x) = f(x)`` if a detector says ``x`` is real data, else ``ψ(x)``:

- real data (``sample``): ``x0`` "race" ~ Bernoulli(½) (the sensitive feature), ``x1`` "unrelated" ~ Bernoulli(½)
  (the innocuous feature, independent of everything), ``x2 = x0 + 0.1·ε`` ("zip_score", a proxy of x0),
  ``x3 = x1 + 0.1·ε``. The data therefore lie near four points; perturbations break the x0–x2 / x1–x3 ties.
- ``f(x) = x0`` (biased: on the data the model reads race only); ``ψ(x) = x1`` (innocuous, for off-manifold queries).
- detector: sklearn ``RandomForestClassifier`` (seeded) trained on real rows (label 1) against the perturbations the
  explainers make (label 0), as in Slack et al.: LIME-like Gaussian noise ``x + N(0, 1)``, KernelSHAP-like hybrids
  (a random non-empty proper subset of features replaced by another real row's values) and LIME-tabular-like
  independent per-feature resampling; ``class_weight="balanced"``. About half the hybrids (and a quarter of the
  resampled rows) land back on the manifold by chance, so the detector is scored against the true manifold
  (``manifold_membership``): ``detector_accuracy`` holds, on held-out draws, the share of real rows called real and,
  per perturbation kind, the share of off-manifold rows called fake and the overall agreement with the truth
  (seed 0: real 0.986; off-manifold detected 1.0 for all three kinds; agreement >= 0.99).

Callable only (no torch form: the detector is a forest). Ground truth is ON-MANIFOLD: ``relevant = {0}``; no feature
is a global dummy (off the manifold the output reads x1, and the detector reads all four). Attributes
``sensitive_feature = 0``, ``innocuous_feature = 1``, ``on_manifold(X)``, ``biased_function``, ``innocuous_function``.

``fooling_scaffold_torch``: the same attack in a form gradient and path methods can sit (a torch module, exact and
piecewise linear). The detector is a gate computed from the manifold's own definition instead of a learned forest:

    D(x) = max(β(x0) / B, β(x1) / B, |x2 - x0| / P, |x3 - x1| / P),   β(t) = min(|t|, |t - 1|),  B = 0.05,  P = 0.5
    g(x) = clamp(2 - D(x), 0, 1)                       (1 on the data, 0 once any coordinate is off by 2x its band)
    e(x) = g(x) · f(x) + (1 - g(x)) · ψ(x)             f = x0 (race), ψ = x1 (unrelated)

each of f, ψ and the gate an ``nn.Module`` (``ScaffoldNet``: ``biased``, ``innocuous`` are fixed ``nn.Linear``
read-outs, ``gate`` is ``ManifoldGate``), and ``predict`` the same formula in numpy. On the data (binary x0, x1,
|x2 - x0| = 0.1|ε| < P) g = 1 with zero gradient, so the gradient at a data point reads x0 alone; perturbations
(Gaussian noise, hybrids with another row, resampled marginals) and straight paths from a baseline off the binary
corners (the data mean 0.5) meet g = 0, where the output reads x1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._fit_cache import fit_estimator
from .base import FunctionModel, GroundTruth
from .registry import register_model

__all__ = [
    "ScaffoldModel",
    "real_sampler",
    "manifold_membership",
    "perturb_gaussian",
    "perturb_hybrid",
    "perturb_independent",
    "PERTURBATIONS",
    "fooling_scaffold",
    "gate_numpy",
    "fooling_scaffold_torch",
]

FAMILY = "adversarial"
D = 4
NOISE = 0.1
SENSITIVE, INNOCUOUS = 0, 1
#: Bands of the differentiable detector: binary features within BAND_BINARY of {0, 1}, proxies within BAND_PROXY.
BAND_BINARY, BAND_PROXY = 0.05, 0.5


def real_sampler(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of the data distribution (see module docstring)."""
    x0 = (rng.random(n) < 0.5).astype(np.float64)
    x1 = (rng.random(n) < 0.5).astype(np.float64)
    eps = rng.normal(size=(n, 2)) * NOISE
    return np.stack([x0, x1, x0 + eps[:, 0], x1 + eps[:, 1]], axis=1)


def manifold_membership(X: np.ndarray) -> np.ndarray:
    """True data manifold (used to score the detector): binary x0, x1 and ``|x2 - x0|, |x3 - x1| < 0.5`` (5σ)."""
    X = np.asarray(X, dtype=np.float64)
    binary = np.isin(X[:, 0], (0.0, 1.0)) & np.isin(X[:, 1], (0.0, 1.0))
    return binary & (np.abs(X[:, 2] - X[:, 0]) < 0.5) & (np.abs(X[:, 3] - X[:, 1]) < 0.5)


def perturb_gaussian(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """LIME-style: ``x + N(0, 1)`` on every feature."""
    return X + rng.normal(size=X.shape)


def perturb_hybrid(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """KernelSHAP-style: a random non-empty proper subset of each row's features taken from another real row."""
    n, d = X.shape
    codes = rng.integers(1, (1 << d) - 1, size=n)
    mask = ((codes[:, None] >> np.arange(d)) & 1).astype(bool)
    donors = X[rng.integers(0, n, size=n)]
    return np.where(mask, donors, X)


def perturb_independent(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """LIME-tabular-style: each feature resampled independently from its empirical marginal."""
    n, d = X.shape
    return X[rng.integers(0, n, size=(n, d)), np.arange(d)]


PERTURBATIONS = {"gaussian": perturb_gaussian, "hybrid": perturb_hybrid, "independent": perturb_independent}


class ScaffoldModel(FunctionModel):
    """``where(detector(x) == real, biased(x), innocuous(x))`` (or the gated blend of ``fooling_scaffold_torch``)."""

    sensitive_feature: int = SENSITIVE
    innocuous_feature: int = INNOCUOUS
    detector: Any
    detector_accuracy: dict[str, float]

    def on_manifold(self, X: np.ndarray) -> np.ndarray:
        """Boolean ``[n]``: the detector's verdict that each row is real data."""
        from .base import as_batch

        X = as_batch(X, self.n_features)
        if self.detector is None:  # the differentiable scaffold: its gate is the detector
            return gate_numpy(X) >= 1.0
        return self.detector.predict(X) == 1

    @staticmethod
    def biased_function(X: np.ndarray) -> np.ndarray:
        """``f(x) = x0`` (race)."""
        return X[:, SENSITIVE].copy()

    @staticmethod
    def innocuous_function(X: np.ndarray) -> np.ndarray:
        """``ψ(x) = x1`` (unrelated)."""
        return X[:, INNOCUOUS].copy()


def _train_detector(n_real: int, seed: int) -> tuple[Any, dict[str, float]]:
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    real = real_sampler(n_real, rng)
    fakes = [fn(real, rng) for fn in PERTURBATIONS.values()]
    X = np.vstack([real, *fakes])
    y = np.concatenate([np.ones(n_real), np.zeros(n_real * len(fakes))])
    forest = fit_estimator(RandomForestClassifier(n_estimators=50, min_samples_leaf=10, class_weight="balanced",
                                                  random_state=seed, n_jobs=1), X, y)
    test_rng = np.random.default_rng(seed + 1)
    real_test = real_sampler(n_real, test_rng)
    accuracy = {"real": float(np.mean(forest.predict(real_test) == 1))}
    for kind, fn in PERTURBATIONS.items():
        fake = fn(real_test, test_rng)
        called_real = forest.predict(fake) == 1
        truth = manifold_membership(fake)
        accuracy[f"{kind}_off_manifold"] = float(np.mean(~called_real[~truth]))
        accuracy[f"{kind}_agreement"] = float(np.mean(called_real == truth))
    return forest, accuracy


@register_model("fooling_scaffold", placed={"fooling": "quick"})
def fooling_scaffold(n_real: int = 500, seed: int = 0) -> ScaffoldModel:
    """Slack et al. 2020 scaffold: race on the data, an unrelated feature for off-manifold perturbations."""
    detector, accuracy = _train_detector(n_real, seed)

    def fn(X: np.ndarray) -> np.ndarray:
        real = detector.predict(X) == 1
        return np.where(real, ScaffoldModel.biased_function(X), ScaffoldModel.innocuous_function(X))

    gt = GroundTruth(
        relevant=frozenset({SENSITIVE}),
        notes="on-manifold f = x0 (race); off-manifold (detector) f = x1; no global dummy",
    )
    model = ScaffoldModel(
        "fooling_scaffold", FAMILY, fn, ("race", "unrelated", "zip_score", "unrelated_proxy"), gt,
        sampler=real_sampler,
        spec={"kind": "fooling_scaffold", "biased": "x0", "innocuous": "x1", "n_real": n_real, "seed": seed,
              "detector": "RandomForestClassifier(n_estimators=50, min_samples_leaf=10, balanced)",
              "perturbations": list(PERTURBATIONS)},
    )
    model.detector = detector
    model.detector_accuracy = accuracy
    model._spec["detector_accuracy"] = accuracy
    return model


def gate_numpy(X: np.ndarray) -> np.ndarray:
    """``g(x) = clamp(2 - D(x), 0, 1)`` of ``fooling_scaffold_torch`` (module docstring), ``[n]``."""
    X = np.asarray(X, dtype=np.float64)

    def beta(t: np.ndarray) -> np.ndarray:
        return np.minimum(np.abs(t), np.abs(t - 1.0))

    dist = np.max(np.stack([beta(X[:, 0]) / BAND_BINARY, beta(X[:, 1]) / BAND_BINARY,
                            np.abs(X[:, 2] - X[:, 0]) / BAND_PROXY, np.abs(X[:, 3] - X[:, 1]) / BAND_PROXY]), axis=0)
    return np.clip(2.0 - dist, 0.0, 1.0)


def _scaffold_net() -> Any:
    import torch
    from torch import nn

    class ManifoldGate(nn.Module):
        """``g(x) = clamp(2 - D(x), 0, 1)``: 1 on the data manifold, 0 off it (piecewise linear)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            def beta(t: torch.Tensor) -> torch.Tensor:
                return torch.minimum(t.abs(), (t - 1.0).abs())

            dist = torch.stack([beta(x[:, 0]) / BAND_BINARY, beta(x[:, 1]) / BAND_BINARY,
                                (x[:, 2] - x[:, 0]).abs() / BAND_PROXY, (x[:, 3] - x[:, 1]).abs() / BAND_PROXY])
            return torch.clamp(2.0 - dist.max(dim=0).values, 0.0, 1.0)

    def readout(j: int) -> nn.Linear:
        layer = nn.Linear(D, 1, bias=False).double()
        with torch.no_grad():
            layer.weight.zero_()
            layer.weight[0, j] = 1.0
        layer.weight.requires_grad_(False)
        return layer

    class ScaffoldNet(nn.Module):
        """``g(x) · biased(x) + (1 - g(x)) · innocuous(x)``."""

        def __init__(self) -> None:
            super().__init__()
            self.gate, self.biased, self.innocuous = ManifoldGate(), readout(SENSITIVE), readout(INNOCUOUS)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            g = self.gate(x)
            return g * self.biased(x)[:, 0] + (1.0 - g) * self.innocuous(x)[:, 0]

    return ScaffoldNet().double().eval()


@register_model("fooling_scaffold_torch", placed={"fooling": "quick"})
def fooling_scaffold_torch() -> ScaffoldModel:
    """Slack et al. 2020 scaffold as an exact torch module: race on the data, an unrelated feature off it."""

    def fn(X: np.ndarray) -> np.ndarray:
        g = gate_numpy(X)
        return g * ScaffoldModel.biased_function(X) + (1.0 - g) * ScaffoldModel.innocuous_function(X)

    gt = GroundTruth(relevant=frozenset({SENSITIVE}),
                     notes="on-manifold f = x0 (race); off-manifold (gate) f = x1; no global dummy")
    model = ScaffoldModel(
        "fooling_scaffold_torch", FAMILY, fn, ("race", "unrelated", "zip_score", "unrelated_proxy"), gt,
        sampler=real_sampler, torch_factory=_scaffold_net,
        spec={"kind": "fooling_scaffold_torch", "biased": "x0", "innocuous": "x1",
              "gate": f"clamp(2 - max(beta(x0)/{BAND_BINARY}, beta(x1)/{BAND_BINARY}, |x2-x0|/{BAND_PROXY}, "
                      f"|x3-x1|/{BAND_PROXY}), 0, 1)"},
    )
    model.detector = None
    model.detector_accuracy = {}
    return model
