"""Local test doubles of the degenerate panel (issue 11), used by the redesigned checks' tests until the shared
``explainers/degenerate.py`` lands: each plays one trick instead of explaining."""

from __future__ import annotations

import hashlib

import numpy as np

from xaicheck.explainers.base import Capabilities, FunctionExplainer
from xaicheck.synthetic_models.shapley import baseline_shapley, interventional_shapley

__all__ = ["DOUBLES", "double", "exact_baseline", "exact_interventional"]


def _f(model, target):
    return lambda Z: model.predict_target(Z, target)


def _rng(model, X, target, seed):
    h = hashlib.blake2b(digest_size=8)
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.round(np.asarray(model.predict_target(X, target), dtype=np.float64), 9).tobytes())
    return np.random.default_rng([seed, int.from_bytes(h.digest(), "little")])


def _zero(model, X, *, baseline, background, target, seed):
    return np.zeros(X.shape)


def _constant(model, X, *, baseline, background, target, seed):
    return np.ones(X.shape)


def _random(model, X, *, baseline, background, target, seed):
    return _rng(model, X, target, seed).standard_normal(X.shape)


def _identity(model, X, *, baseline, background, target, seed):
    return X - baseline


def _gradient_sign(model, X, *, baseline, background, target, seed):
    f, (n, d), h = _f(model, target), X.shape, 1e-4
    eye = np.eye(d) * h
    g = (f((X[:, None] + eye).reshape(-1, d)) - f((X[:, None] - eye).reshape(-1, d))).reshape(n, d) / (2 * h)
    return np.sign(np.where(np.abs(g) < 1e-9, 0.0, g))


def _split(model, X, *, baseline, background, target, seed):
    f = _f(model, target)
    changed = X != baseline
    return changed * ((f(X) - f(baseline)) / np.maximum(changed.sum(axis=1), 1))[:, None]


def _huge(model, X, *, baseline, background, target, seed):
    A = _rng(model, X, target, seed).standard_normal(X.shape)
    A[:, 0] += 1e4
    return A


def _exact_if_small(model, X, *, baseline, background, target, seed):
    if X.shape[1] <= 4:
        return baseline_shapley(_f(model, target), X, baseline)
    return _random(model, X, baseline=baseline, background=background, target=target, seed=seed)


_MEMO: dict[tuple[int, ...], np.ndarray] = {}


def _memoiser(model, X, *, baseline, background, target, seed):
    key = X.shape
    if key not in _MEMO:
        _MEMO[key] = baseline_shapley(_f(model, target), X, baseline)
    return _MEMO[key]


def exact_baseline(model, X, *, baseline, background, target, seed):
    return baseline_shapley(_f(model, target), X, baseline)


def exact_interventional(model, X, *, baseline, background, target, seed):
    return interventional_shapley(_f(model, target), X, background)


_B = Capabilities(uses_baseline=True)
DOUBLES: dict[str, FunctionExplainer] = {
    name: FunctionExplainer(fn, f"t_{name}", family="control", capabilities=caps)
    for name, fn, caps in (
        ("zero", _zero, Capabilities()), ("constant", _constant, Capabilities()),
        ("random", _random, Capabilities(stochastic=True)), ("identity", _identity, _B),
        ("gradient_sign", _gradient_sign, Capabilities()), ("split_equally", _split, _B),
        ("huge_feature", _huge, Capabilities(stochastic=True)), ("exact_if_small", _exact_if_small, _B),
        ("memoiser", _memoiser, _B),
    )
}


def double(name: str) -> FunctionExplainer:
    return DOUBLES[name]
