"""Benchmark your own models: a zoo of ``SyntheticModel`` objects becomes cases, from what each model declares.

A zoo is a Python module (``xaicheck run --models my_package.my_zoo``) defining ``MODELS`` (a list of models or of
zero-argument factories), or else every module-level ``SyntheticModel``. A model declares what is known about it in
its ``GroundTruth`` (relevant / dummy features, a closed-form attribution ``exact_attribution(X, B)``); the cases
follow from those declarations, never from a table:

- ``completeness``: every model (Σ_i a_i against f(x) - reference);
- ``dummy``: models that declare dummy features;
- ``symmetry``: models that declare symmetric feature groups (rows with equal values inside each group, an
  exchangeable background);
- ``ground_truth_agreement``: models with d ≤ ``MAX_EXACT_FEATURES`` (exact Shapley values by enumeration) or a
  declared closed form.

A declared truth is checked before it is used (``check_declared_truth``), on ``N_TRUTH_ROWS`` seeded draws against
a zero baseline: a closed form must be complete (Σ_i φ_i = f(x) - f(b), relative tolerance ``TRUTH_RTOL``) and, where
d ≤ ``MAX_EXACT_FEATURES``, equal to the enumerated baseline Shapley values; a declared dummy feature must leave f
unchanged when it is redrawn; swapping two members of a declared symmetric group must leave f unchanged. A wrong declaration raises ``DeclaredTruthError`` naming the model, the claim and the
error, so nothing is scored against it.

>>> suite = build_user_suite("my_package.my_zoo", "quick", explainers="integrated_gradients,shap_exact")
>>> run_suite(suite, "/tmp/my_zoo_results"); build_report("/tmp/my_zoo_results")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np

from xaicheck.axioms.base import TIERS, Case, get_check
from xaicheck.synthetic_models.base import SyntheticModel
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES, baseline_shapley

from .suite import SUITES, Suite, _select, parse_names

if TYPE_CHECKING:
    from xaicheck.axioms.base import Check

__all__ = ["DeclaredTruthError", "USER_CHECKS", "load_zoo", "check_declared_truth", "user_cases", "build_user_suite"]

N_TRUTH_ROWS = 8
TRUTH_RTOL = 1e-6
#: The checks whose cases follow from a user's declarations, and the builder of each.
USER_CHECKS: tuple[str, ...] = ("completeness", "dummy", "symmetry", "ground_truth_agreement")


class DeclaredTruthError(ValueError):
    """A model's declared ground truth does not hold for its own function."""


def load_zoo(spec: str | Iterable[Any]) -> list[SyntheticModel]:
    """The models of a zoo: a module name (its ``MODELS``, else its module-level models) or an iterable of models /
    zero-argument factories."""
    if isinstance(spec, str):
        try:
            module = importlib.import_module(spec)
        except ImportError as exc:
            raise ImportError(f"cannot import the model zoo {spec!r}: {exc}") from exc
        items = getattr(module, "MODELS", None)
        if items is None:
            items = [v for v in vars(module).values() if isinstance(v, SyntheticModel)]
        where = f"module {spec!r}"
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
    return models


def _scale(*parts: np.ndarray) -> float:
    return max([1.0] + [float(np.max(np.abs(p))) for p in parts if np.size(p)])


def check_declared_truth(model: SyntheticModel, seed: int = 0) -> dict[str, float]:
    """Check ``model``'s declared closed form and dummy features on seeded draws; returns the errors measured, or
    raises ``DeclaredTruthError``."""
    gt = model.ground_truth
    rng = np.random.default_rng(seed)
    X = model.sample(N_TRUTH_ROWS, rng)
    b = np.zeros(model.n_features)
    fx, fb = model.predict(X), model.predict(b[None])
    errors: dict[str, float] = {}
    if gt.exact_attribution is not None:
        phi = np.asarray(gt.exact_attribution(X, b), dtype=np.float64)
        gap = float(np.max(np.abs(phi.sum(axis=1) - (fx - fb))))
        errors["closed_form_completeness"] = gap
        if gap > TRUTH_RTOL * _scale(fx, fb, phi):
            raise DeclaredTruthError(f"model {model.name!r}: its closed-form attribution is not complete: "
                                     f"max |sum(phi) - (f(x) - f(0))| = {gap:.3g} over {N_TRUTH_ROWS} draws")
        if model.n_features <= MAX_EXACT_FEATURES:
            exact = baseline_shapley(model.predict, X, b)
            err = float(np.max(np.abs(phi - exact)))
            errors["closed_form_vs_enumeration"] = err
            if err > TRUTH_RTOL * _scale(exact, phi):
                raise DeclaredTruthError(f"model {model.name!r}: its closed-form attribution differs from the "
                                         f"enumerated Shapley values by up to {err:.3g}")
    if gt.dummy:
        Z = X.copy()
        dummy = sorted(gt.dummy)
        Z[:, dummy] = model.sample(N_TRUTH_ROWS, rng)[:, dummy]
        moved = float(np.max(np.abs(model.predict(Z) - fx)))
        errors["dummy_change"] = moved
        if moved > TRUTH_RTOL * _scale(fx):
            raise DeclaredTruthError(f"model {model.name!r}: declared dummy features {dummy} change f by up to "
                                     f"{moved:.3g} when redrawn")
    for group in gt.symmetric_groups:
        members = sorted(group)
        for i, j in zip(members, members[1:]):
            S = X.copy()
            S[:, [i, j]] = X[:, [j, i]]
            moved = float(np.max(np.abs(model.predict(S) - fx)))
            errors[f"swap_{i}_{j}"] = moved
            if moved > TRUTH_RTOL * _scale(fx):
                raise DeclaredTruthError(f"model {model.name!r}: swapping features {i} and {j} of a declared "
                                         f"symmetric group changes f by up to {moved:.3g}")
    return errors


def _inputs(model: SyntheticModel, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from xaicheck.axioms.completeness import case_inputs

    return case_inputs(model, seed)


def _completeness(check: "Check", model: SyntheticModel, tiers: frozenset[str]) -> Case | None:
    X, background = _inputs(model)
    return Case(check.name, model.name, model, X, baseline=np.zeros(model.n_features), background=background,
                tiers=tiers, description=f"user model {model.name}: sum of attributions vs f(x) - reference")


def _dummy(check: "Check", model: SyntheticModel, tiers: frozenset[str]) -> Case | None:
    if not model.ground_truth.dummy:
        return None
    X, background = _inputs(model)
    return Case(check.name, model.name, model, X, baseline=np.zeros(model.n_features), background=background,
                tiers=tiers, description=f"user model {model.name}: dummy features "
                                         f"{sorted(model.ground_truth.dummy)} must get 0")


def _symmetry(check: "Check", model: SyntheticModel, tiers: frozenset[str]) -> Case | None:
    from xaicheck.axioms.symmetry import symmetrise

    groups = model.ground_truth.symmetric_groups
    if not groups:
        return None
    rng = np.random.default_rng(0)
    if model.domain == "binary":
        from xaicheck.axioms._helpers import binary_points

        P = binary_points(model.n_features)[::-1]
        X = P[[p.any() and all(len(set(p[sorted(g)])) == 1 for g in groups) for p in P]][:4]
    else:
        X = model.sample(4, rng)
        for g in groups:
            members = sorted(g)
            X[:, members] = X[:, [members[0]]]
    if len(X) == 0:
        return None
    return Case(check.name, model.name, model, X, baseline=np.zeros(model.n_features),
                background=symmetrise(model.sample(4, rng), groups), tiers=tiers,
                extra={"symmetric_groups": tuple(groups)},
                description=f"user model {model.name}: symmetric groups {[sorted(g) for g in groups]}")


def _ground_truth(check: "Check", model: SyntheticModel, tiers: frozenset[str]) -> Case | None:
    from xaicheck.axioms.ground_truth_agreement import standard_case

    if model.n_features > MAX_EXACT_FEATURES and model.ground_truth.exact_attribution is None:
        return None
    return standard_case(check.name, model, tiers, description=f"user model {model.name}: exact attribution")


_BUILDERS: dict[str, Callable[["Check", SyntheticModel, frozenset[str]], Case | None]] = {
    "completeness": _completeness, "dummy": _dummy, "symmetry": _symmetry, "ground_truth_agreement": _ground_truth}


def user_cases(models: Sequence[SyntheticModel], checks: Sequence[str] = USER_CHECKS) -> list[Case]:
    """The cases the declarations of ``models`` give, for ``checks`` (each truth checked first); every tier."""
    unknown = [c for c in checks if c not in _BUILDERS]
    if unknown:
        raise KeyError(f"no cases from declarations for check {', '.join(map(repr, unknown))}; "
                       f"supported: {', '.join(USER_CHECKS)}")
    for model in models:
        check_declared_truth(model)
    tiers = frozenset(TIERS)
    out = []
    for name in checks:
        check = get_check(name)
        out.extend(c for c in (_BUILDERS[name](check, m, tiers) for m in models) if c is not None)
    return out


def build_user_suite(zoo: str | Iterable[Any], name: str = "quick", *, explainers: str | Sequence[str] | None = None,
                     checks: str | Sequence[str] | None = None, base_seed: int = 0) -> Suite:
    """A suite over the registered explainers (optionally filtered) and the cases of the user's ``zoo`` only."""
    from xaicheck.explainers.base import explainer_names, get_explainer

    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    models = load_zoo(zoo)
    exp_names = _select("explainer", parse_names(explainers), explainer_names())
    chk_names = _select("check", parse_names(checks), list(USER_CHECKS))
    cases = user_cases(models, chk_names)
    return Suite(name, {n: get_explainer(n) for n in exp_names}, {n: get_check(n) for n in chk_names},
                 {c.id: c for c in cases}, base_seed)
