"""The degenerate panel: explainers that play a trick instead of explaining (family ``control``).

Each member passes some naive check without measuring anything about the model's reasoning, so a check that scores
one of them above its stated ``floor`` does not discriminate (issue 11). ``DEGENERATE_PANEL`` names them all:

- ``zero``, ``constant``: ignore the model (zero trivially satisfies dummy; constant satisfies symmetry);
- ``random``: normal noise in the model's units (scaled by the largest change of ``f`` when one feature of ``x`` is
  set to 0 or 1), redrawn per model and input (the seed is mixed with a hash of ``X`` and of the model's unit-free
  response around ``X``), the reference a method must beat (Adebayo et al. 2018);
- ``identity``: ``x - b`` (what ``multiplies_by_input`` methods get for free);
- ``gradient_sign``: ``sign(∂f/∂x)`` by central finite differences through the callable (runs on every model);
- ``split_equally``: ``(f(x) - f(b)) / k`` on each of the ``k`` features with ``x_i != b_i`` (complete, symmetric,
  linear, sensitive, implementation invariant — and says nothing about which feature matters);
- ``huge_feature``: noise plus ``1e4`` on feature 0 (breaks unit-free partial credit scaled by Σ|a|);
- ``exact_if_small``: exact baseline Shapley when ``d <= 4`` else random (games a suite of small cases);
- ``memoiser``: one model-blind answer per input, returned for every model at that input (a memo of its first answer)
  (implementation invariance, randomisation and linearity explain several models at the same X);
- ``seeded_noise``: normal noise in the model's units (as ``random``) from a generator seeded only by a hash of the
  bytes of ``X`` and of the baseline: it ignores ``seed``, so it is deterministic and passes a rerun (issue 23);
- ``ground_truth_reader``: reads ``model.ground_truth`` (exact values, relevant set, mask, token weights, twins)
  when the model leaks it; on a sealed model it finds nothing and returns zeros.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from xaicheck.synthetic_models import shapley

from .base import Capabilities, Explainer, register
from .torch_utils import predict_fn

__all__ = [
    "DEGENERATE_PANEL",
    "input_rng",
    "ZeroControl",
    "ConstantControl",
    "RandomControl",
    "IdentityControl",
    "GradientSignControl",
    "SplitEquallyControl",
    "HugeFeatureControl",
    "ExactIfSmallControl",
    "MemoisingControl",
    "GroundTruthReader",
    "SeededNoiseControl",
]

#: Features up to which ``exact_if_small`` enumerates (every tabular case of the old suite had d <= 4).
SMALL_D = 4
#: The one huge feature of ``huge_feature``.
HUGE = 1e4


def _response(model: Any, X: np.ndarray, target: int | None) -> tuple[np.ndarray, float]:
    """``f`` at ``X`` and at ``X`` with each single feature set to 0 and to 1, minus ``f(X)``, and the unit: the
    largest such change (1 when ``f`` does not move). Both transform with ``f -> alpha f + c`` as ``alpha``, ``1``."""
    n, d = X.shape
    f = predict_fn(model, target)
    Z = np.repeat(X[:, None, :], 2 * d, axis=1)
    idx = np.arange(d)
    Z[:, idx, idx] = 0.0
    Z[:, d + idx, idx] = 1.0
    change = f(Z.reshape(n * 2 * d, d)).reshape(n, 2 * d) - f(X)[:, None]
    unit = float(np.abs(change).max())
    return change, unit if unit > 0 else 1.0


def input_rng(model: Any, X: np.ndarray, target: int | None, seed: int) -> tuple[np.random.Generator, float]:
    """A generator seeded by ``seed`` mixed with a hash of ``X`` and of the model's (unit-free) response around
    ``X``, and the model's output unit there. A different model or input gives a fresh draw; the same call, or the
    same model in other units (``alpha f + c``), gives the same bytes, so ``unit * draw`` is in the model's units."""
    change, unit = _response(model, X, target)
    h = hashlib.blake2b(digest_size=8)
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.round(change / unit, 6).tobytes())  # rounded: float noise across machines must not change the draw
    rng = np.random.default_rng([int(seed) % (2**63), int.from_bytes(h.digest(), "little")])
    return rng, unit


class _Control(Explainer):
    family = "control"
    library = "xaicheck"


class ZeroControl(_Control):
    """All-zero attributions: trivially satisfies dummy."""

    name = "zero"
    capabilities = Capabilities(requires="callable")
    settings = {"value": 0.0}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return np.zeros(X.shape)


class ConstantControl(_Control):
    """All-ones attributions: trivially satisfies symmetry."""

    name = "constant"
    capabilities = Capabilities(requires="callable")
    settings = {"value": 1.0}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return np.ones(X.shape)


class RandomControl(_Control):
    """Normal noise in the model's units, redrawn per model and input (seed mixed with a hash of X and f around X)."""

    name = "random"
    capabilities = Capabilities(requires="callable", stochastic=True)
    settings = {"distribution": "normal(0, unit)", "seeded_by": "seed,X,f around X"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        rng, unit = input_rng(model, X, target, seed)
        return unit * rng.standard_normal(X.shape)


class IdentityControl(_Control):
    """``x - b``: the input itself, whatever the model."""

    name = "identity"
    capabilities = Capabilities(requires="callable", uses_baseline=True, multiplies_by_input=True)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return X - baseline


class GradientSignControl(_Control):
    """``sign(∂f/∂x_i)`` by central finite differences (step 1e-4): direction without magnitude."""

    name = "gradient_sign"
    capabilities = Capabilities(requires="callable")
    settings = {"step": 1e-4}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        f = predict_fn(model, target)
        n, d = X.shape
        h = 1e-4
        eye = np.eye(d) * h
        Zp = (X[:, None, :] + eye[None]).reshape(n * d, d)
        Zm = (X[:, None, :] - eye[None]).reshape(n * d, d)
        grad = (f(Zp) - f(Zm)).reshape(n, d) / (2 * h)
        return np.sign(np.where(np.abs(grad) < 1e-9, 0.0, grad))


class SplitEquallyControl(_Control):
    """``f(x) - f(b)`` split equally over the features where ``x != b``: complete, symmetric and linear for free."""

    name = "split_equally"
    capabilities = Capabilities(requires="callable", uses_baseline=True)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        f = predict_fn(model, target)
        delta = f(X) - f(baseline)
        changed = X != baseline
        k = np.maximum(changed.sum(axis=1), 1)
        return changed * (delta / k)[:, None]


class HugeFeatureControl(_Control):
    """Standard normal noise plus ``1e4`` on feature 0: swamps any tolerance scaled by the explainer's Σ|a|."""

    name = "huge_feature"
    capabilities = Capabilities(requires="callable", stochastic=True)
    settings = {"huge": HUGE, "feature": 0}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        out = input_rng(model, X, target, seed)[0].standard_normal(X.shape)
        out[:, 0] += HUGE
        return out


class ExactIfSmallControl(_Control):
    """Exact baseline Shapley when ``d <= 4``, random noise otherwise: games a suite made of small cases."""

    name = "exact_if_small"
    capabilities = Capabilities(requires="callable", uses_baseline=True, stochastic=True)
    settings = {"small_d": SMALL_D}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        if X.shape[1] <= SMALL_D:
            return shapley.baseline_shapley(predict_fn(model, target), X, baseline)
        rng, unit = input_rng(model, X, target, seed)
        return unit * rng.standard_normal(X.shape)


class MemoisingControl(_Control):
    """One answer per input, whatever the model: what a memo of its first answer returns for every later model at the
    same X (identical outputs on twins, randomised and combined models for free). The answer is a model-blind draw
    seeded by the input's bytes, so the trick is measured alone (an answer from the model's gradient made it a
    gradient heuristic: 0.68 on image localisation) and, holding no state, it does not depend on which model a worker
    happened to see first (a stateful memo made ``scores.csv`` depend on the cell order and the machine)."""

    name = "memoiser"
    capabilities = Capabilities(requires="callable")

    def reset(self) -> None:
        """Nothing to forget: the answer is a function of the input alone (kept for callers that reset it)."""

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        h = hashlib.blake2b(np.ascontiguousarray(X, dtype=np.float64).tobytes(), digest_size=8)
        rng = np.random.default_rng([int(seed) % (2**63), int.from_bytes(h.digest(), "little")])
        return rng.standard_normal(X.shape)


class SeededNoiseControl(_Control):
    """Deterministic noise: ``unit * z`` with ``z ~ N(0, I)`` from a generator seeded only by a hash of the bytes of
    ``X`` and of the baseline (when given), ``unit`` the model's output unit around ``X`` as for ``random``
    (``_response``). It ignores ``seed``: the same call always returns the same bytes, so it passes the determinism
    rerun, and any gate that asks only "same answer for the same function at the same input" (issue 23)."""

    name = "seeded_noise"
    capabilities = Capabilities(requires="callable")
    settings = {"distribution": "normal(0, unit)", "seeded_by": "hash(X, baseline) only"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        h = hashlib.blake2b(np.ascontiguousarray(X, dtype=np.float64).tobytes(), digest_size=8)
        if baseline is not None:
            h.update(np.ascontiguousarray(np.broadcast_to(baseline, X.shape), dtype=np.float64).tobytes())
        rng = np.random.default_rng(int.from_bytes(h.digest(), "little"))
        _, unit = _response(model, X, target)
        return unit * rng.standard_normal(X.shape)


class GroundTruthReader(_Control):
    """Reads the ground truth off the model it is handed (exact values, relevant set, mask, token weights, twin);
    on a sealed model nothing is there and it returns zeros."""

    name = "ground_truth_reader"
    capabilities = Capabilities(requires="callable")

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        gt = getattr(model, "ground_truth", None)
        if gt is None:
            for attr in ("case", "twin", "twins", "_model", "model", "inner"):
                gt = getattr(getattr(model, attr, None), "ground_truth", None)
                if gt is not None:
                    break
        if gt is None:
            return np.zeros(X.shape)
        exact = getattr(gt, "exact_attribution", None)
        if exact is not None:
            b = np.zeros(X.shape[1]) if baseline is None else baseline
            return np.asarray(exact(X, b), dtype=np.float64)
        for attr in ("token_weights", "mask"):
            v = getattr(gt, attr, None)
            if v is not None:
                return np.broadcast_to(np.asarray(v, dtype=np.float64), X.shape).copy()
        relevant = sorted(getattr(gt, "relevant", ()))
        out = np.zeros(X.shape)
        out[:, relevant] = 1.0
        return out


_PANEL_CLASSES = (ZeroControl, ConstantControl, RandomControl, IdentityControl, GradientSignControl,
                  SplitEquallyControl, HugeFeatureControl, ExactIfSmallControl, MemoisingControl, GroundTruthReader,
                  SeededNoiseControl)

#: Names of the degenerate panel, run in every suite; every ``score`` check must keep them at or below its floor.
DEGENERATE_PANEL: tuple[str, ...] = tuple(cls.name for cls in _PANEL_CLASSES)

for _cls in _PANEL_CLASSES:
    register(_cls())
