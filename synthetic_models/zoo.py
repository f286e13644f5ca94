"""A researcher's own zoo: load it, wrap a torch module / fitted estimator / callable, and check what it declares.

A zoo is a Python module defining ``MODELS`` (models or zero-argument factories), or else module-level
``SyntheticModel`` objects; or an iterable of the same (``load_zoo``). ``wrap_model`` turns a ``torch.nn.Module``, a
fitted scikit-learn / xgboost estimator or a plain vectorised function into a ``SyntheticModel`` with the
``GroundTruth`` its author knows (relevant / dummy features, symmetric groups, a mask, a closed form).

A declared truth is checked before anything is scored against it (``check_declared_truth``), on ``N_TRUTH_ROWS``
seeded draws against a zero baseline, on the output that is explained (``explained_output``; per row for
``"predicted"``): a closed form must be complete (Σ_i φ_i = f(x) - f(b), relative tolerance ``TRUTH_RTOL``) and,
where d ≤ ``MAX_EXACT_FEATURES``, equal to the enumerated baseline Shapley values; a declared dummy feature must leave
f unchanged when redrawn; swapping two members of a declared symmetric group must leave f unchanged; pixels outside a
declared mask must leave f unchanged when redrawn. A wrong declaration raises ``DeclaredTruthError`` naming the
model, the claim and the error.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import os
import sys
from typing import Any, Callable, Iterable

import numpy as np

from xaicheck.core.errors import DeclaredTruthError

from .base import Domain, FunctionModel, GroundTruth, Sampler, SyntheticModel
from .declarations import SUITE_ORDER, BaselineSpec, Declarations, ROWS
from .shapley import MAX_EXACT_FEATURES, baseline_shapley
from .targets import per_target, resolve_target

__all__ = ["DeclaredTruthError", "N_TRUTH_ROWS", "TRUTH_RTOL", "load_zoo", "wrap_model", "check_declared_truth",
           "in_every_suite"]

N_TRUTH_ROWS = 8
TRUTH_RTOL = 1e-6


# DeclaredTruthError (a model's declared ground truth does not hold for its own function) is defined in
# ``xaicheck.core.errors`` (the benchmarks layer catches it) and re-exported here, its public home.


def load_zoo(spec: str | Iterable[Any]) -> list[SyntheticModel]:
    """The models of a zoo: a module name (its ``MODELS``, else its module-level models; imported with the working
    directory on ``sys.path``, as ``python -m`` would) or an iterable of models / zero-argument factories."""
    if isinstance(spec, str):
        if os.getcwd() not in sys.path and "" not in sys.path:  # as `python -m`: a zoo in the working directory
            sys.path.insert(0, os.getcwd())  # imports from a console script (`xaicheck run --models my_zoo`)
        try:
            module = importlib.import_module(spec)
        except ImportError as exc:
            raise ImportError(f"cannot import the model zoo {spec!r}: {exc}") from exc
        items = getattr(module, "MODELS", None)
        if items is None:
            items = [v for v in vars(module).values() if isinstance(v, SyntheticModel)]
        where = f"module {spec!r}"
    elif isinstance(spec, SyntheticModel):
        items, where = [spec], "the given zoo"
    else:
        items, where = list(spec), "the given zoo"
    models = [m() if callable(m) and not isinstance(m, SyntheticModel) else m for m in items]
    bad = [repr(m) for m in models if not isinstance(m, SyntheticModel)]
    if bad:
        raise TypeError(f"Expected SyntheticModel objects in {where} but got {', '.join(bad)}")
    if not models:
        raise ValueError(f"{where} defines no models (give a MODELS list or module-level SyntheticModel objects)")
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"model names in {where} are not unique: {names}")
    return [in_every_suite(m) for m in models]


def in_every_suite(model: SyntheticModel) -> SyntheticModel:
    """``model``, declared into every suite when it declares none (a zoo is an explicit request to judge it)."""
    if not model.declarations.tiers:
        model.declarations = dataclasses.replace(model.declarations, tiers=frozenset(SUITE_ORDER))
    return model


class WrappedEstimator(FunctionModel):
    """A fitted scikit-learn (or xgboost / lightgbm) estimator: ``sklearn_estimator`` is offered to the explainers
    that need it (``forms``: ``sklearn``, and ``tree`` for tree ensembles)."""

    sklearn_estimator: Any = None
    is_tree_model: bool = False


def _torch_predict(module: Any) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    def predict(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = module(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))).numpy()
        return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out

    return predict


def wrap_model(obj: Any, truth: GroundTruth, *, name: str, n_features: int | None = None,
               feature_names: Iterable[str] | None = None, domain: Domain = "continuous",
               sampler: Sampler | None = None, n_outputs: int = 1, explained_output: int | str | None = None,
               family: str = "user", tiers: Iterable[str] = SUITE_ORDER,
               domain_values: tuple[float, float] = (0.0, 1.0), baseline: BaselineSpec = None,
               baselines: dict[str, BaselineSpec] | None = None, rows: dict[str, int] | None = None
               ) -> SyntheticModel:
    """``obj`` as a ``SyntheticModel`` carrying ``truth`` and its declarations (``synthetic_models.declarations``).

    ``obj``: a ``torch.nn.Module`` (run in float64; its torch form is offered, so gradient methods and the
    randomisation check apply), a fitted estimator with ``predict`` / ``predict_proba`` (``predict_proba`` when
    ``n_outputs > 1``: a classifier's class probabilities), or a vectorised function ``[n, d] -> [n]`` (or ``[n, k]``).
    ``sampler(n, rng)``: the input distribution (default uniform on [0, 1]^d, or fair coins over ``domain_values``
    for ``domain="binary"``). ``tiers``: the suites the model's cases join (default all); ``domain_values``: a binary
    feature's two values, e.g. ``(-1, 1)``; ``baseline``: zero (``None``), a constant, a ``[d]`` vector or a per-row
    function ``X -> [n, d]``; ``baselines``: further named baselines to compare; ``rows``: rows per case by suite.
    """
    names = tuple(feature_names) if feature_names is not None else None
    if names is None:
        if n_features is None:
            raise ValueError(f"wrap_model({name!r}): give n_features or feature_names")
        names = tuple(f"x{i}" for i in range(n_features))
    declarations = Declarations(tiers=frozenset(tiers), domain_values=tuple(domain_values),  # type: ignore[arg-type]
                                baseline=baseline, baselines=dict(baselines or {}), rows=dict(rows or ROWS))
    common = dict(domain=domain, sampler=sampler, n_outputs=n_outputs, explained_output=explained_output,
                  declarations=declarations)
    try:
        import torch

        is_module = isinstance(obj, torch.nn.Module)
    except ImportError:  # pragma: no cover - torch is a dependency
        is_module = False
    if is_module:
        module = copy.deepcopy(obj).double().eval()
        return FunctionModel(name, family, _torch_predict(module), names, truth,
                             torch_factory=lambda: copy.deepcopy(module), **common)
    if hasattr(obj, "predict") and hasattr(obj, "fit"):
        fn = obj.predict_proba if n_outputs > 1 else obj.predict
        model = WrappedEstimator(name, family, lambda X: np.asarray(fn(X), dtype=np.float64), names, truth, **common)
        model.sklearn_estimator = obj
        model.is_tree_model = hasattr(obj, "estimators_") or hasattr(obj, "get_booster") or hasattr(obj, "tree_")
        return model
    if callable(obj):
        return FunctionModel(name, family, obj, names, truth, **common)
    raise TypeError(f"wrap_model({name!r}): expected a torch.nn.Module, a fitted estimator or a function; got {obj!r}")


def _scale(*parts: np.ndarray) -> float:
    return max([1.0] + [float(np.max(np.abs(p))) for p in parts if np.size(p)])


def _unchanged(model: SyntheticModel, X: np.ndarray, Z: np.ndarray, claim: str) -> float:
    fx = model.predict(X)
    moved = float(np.max(np.abs(model.predict(Z) - fx)))
    if moved > TRUTH_RTOL * _scale(fx):
        raise DeclaredTruthError(f"model {model.name!r}: {claim} change f by up to {moved:.3g}")
    return moved


def check_declared_truth(model: SyntheticModel, seed: int = 0) -> dict[str, float]:
    """Check ``model``'s declared closed form, dummy features, symmetric groups and mask on seeded draws; returns the
    errors measured, or raises ``DeclaredTruthError``."""
    gt = model.ground_truth
    rng = np.random.default_rng(seed)
    X = model.sample(N_TRUTH_ROWS, rng)
    try:
        b = model.declarations.baseline_for(X)
    except ValueError as exc:
        raise DeclaredTruthError(f"model {model.name!r}: its declared baseline is invalid: {exc}") from exc
    B = np.broadcast_to(b, X.shape)
    target = resolve_target(model, X)
    errors: dict[str, float] = {}
    if gt.reference is not None:
        R = np.asarray(gt.reference(X, b), dtype=np.float64)
        if R.shape != X.shape or not np.all(np.isfinite(R)):
            raise DeclaredTruthError(f"model {model.name!r}: its declared reference {gt.reference_kind!r} must "
                                     f"return finite values of shape {X.shape}; got shape {R.shape}")
    if gt.exact_attribution is not None:
        fx, fb = model.predict_target(X, target), model.predict_target(np.array(B), target)
        phi = np.asarray(gt.exact_attribution(X, b), dtype=np.float64)
        gap = float(np.max(np.abs(phi.sum(axis=1) - (fx - fb))))
        errors["closed_form_completeness"] = gap
        if gap > TRUTH_RTOL * _scale(fx, fb, phi):
            raise DeclaredTruthError(f"model {model.name!r}: its closed-form attribution is not complete: "
                                     f"max |sum(phi) - (f(x) - f(b))| = {gap:.3g} over {N_TRUTH_ROWS} draws")
        if model.n_features <= MAX_EXACT_FEATURES:
            exact = per_target(lambda X_g, b_g, t: baseline_shapley(lambda Z: model.predict_target(Z, t), X_g, b_g),
                               X, target, b)
            err = float(np.max(np.abs(phi - exact)))
            errors["closed_form_vs_enumeration"] = err
            if err > TRUTH_RTOL * _scale(exact, phi):
                raise DeclaredTruthError(f"model {model.name!r}: its closed-form attribution differs from the "
                                         f"enumerated Shapley values by up to {err:.3g}")
    if gt.dummy:
        dummy = sorted(gt.dummy)
        Z = X.copy()
        Z[:, dummy] = model.sample(N_TRUTH_ROWS, rng)[:, dummy]
        errors["dummy_change"] = _unchanged(model, X, Z, f"declared dummy features {dummy} (redrawn)")
    for group in gt.symmetric_groups:
        members = sorted(group)
        for i, j in zip(members, members[1:]):
            S = X.copy()
            S[:, [i, j]] = X[:, [j, i]]
            errors[f"swap_{i}_{j}"] = _unchanged(model, X, S, f"swapping features {i} and {j} of a declared "
                                                             f"symmetric group")
    if gt.mask is not None:
        outside = ~np.asarray(gt.mask, dtype=bool)
        Z = X.copy()
        Z[:, outside] = model.sample(N_TRUTH_ROWS, rng)[:, outside]
        errors["outside_mask_change"] = _unchanged(model, X, Z, "the features outside the declared mask (redrawn)")
    return errors
