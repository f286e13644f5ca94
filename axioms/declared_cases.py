"""Cases that follow from what a model declares, never from a table (``user_cases``; the zoo: ``synthetic_models.zoo``).

Which checks a model joins, and why:

- ``completeness``: every model (Σ_i a_i against f(x) - reference);
- ``dummy``: models that declare dummy features;
- ``symmetry``: models that declare symmetric feature groups (rows with equal values inside each group, an
  exchangeable background);
- ``sensitivity``: models that declare relevant features: each relevant feature moved alone from the zero baseline to
  a drawn value, kept where that changes f (Sundararajan et al. 2017's sensitivity(a));
- ``relevance``: binary models with d ≤ ``MAX_RELEVANCE_FEATURES`` and one explained output (formal relevance is
  enumerated, Huang & Marques-Silva 2023; the baseline is the opposite corner, as in the built-in cases);
- ``ground_truth_agreement``: models with d ≤ ``MAX_EXACT_FEATURES`` (exact Shapley values by enumeration) or a
  declared closed form;
- ``model_randomisation``: models with a torch form that has a ``Linear`` / ``Conv`` layer and d ≤
  ``MAX_EXACT_FEATURES`` (the randomised twins' exact attributions are enumerated);
- ``localisation``: models that declare a ``mask`` (the features the output depends on) or token weights.

Every case explains the output the model declares (``explained_output``: one column, or ``"predicted"``: each row at
its argmax, a per-row target). Each model's declared truth is checked first (``synthetic_models.zoo``). Cases carry
every tier, so they run in any suite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES
from xaicheck.synthetic_models.targets import is_per_row, resolve_target
from xaicheck.synthetic_models.zoo import check_declared_truth

from .base import TIERS, Case, get_check

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["USER_CHECKS", "MAX_RELEVANCE_FEATURES", "user_cases"]

#: The checks whose cases follow from a user's declarations, in the order they are built.
USER_CHECKS: tuple[str, ...] = ("completeness", "dummy", "symmetry", "sensitivity", "relevance",
                                "ground_truth_agreement", "model_randomisation", "localisation")
#: Formal relevance enumerates 2^d subsets x 2^d corners per row.
MAX_RELEVANCE_FEATURES = 8
_ALL = frozenset(TIERS)


def _case(check: str, model: "SyntheticModel", X: np.ndarray, what: str, **kw: object) -> Case:
    kw.setdefault("baseline", np.zeros(model.n_features))
    return Case(check, model.name, model, X, target=resolve_target(model, X), tiers=_ALL,
                description=f"user model {model.name}: {what}", **kw)  # type: ignore[arg-type]


def _inputs(model: "SyntheticModel") -> tuple[np.ndarray, np.ndarray]:
    from .completeness import case_inputs

    return case_inputs(model, 0)


def _completeness(model: "SyntheticModel") -> Case | None:
    X, background = _inputs(model)
    return _case("completeness", model, X, "sum of attributions vs f(x) - reference", background=background)


def _dummy(model: "SyntheticModel") -> Case | None:
    if not model.ground_truth.dummy:
        return None
    X, background = _inputs(model)
    return _case("dummy", model, X, f"dummy features {sorted(model.ground_truth.dummy)} must get 0",
                 background=background)


def _symmetry(model: "SyntheticModel") -> Case | None:
    from .symmetry import symmetrise

    groups = model.ground_truth.symmetric_groups
    if not groups:
        return None
    rng = np.random.default_rng(0)
    if model.domain == "binary":
        from ._helpers import binary_points

        P = binary_points(model.n_features)[::-1]
        X = P[[p.any() and all(len(set(p[sorted(g)])) == 1 for g in groups) for p in P]][:4]
    else:
        X = model.sample(4, rng)
        for g in groups:
            members = sorted(g)
            X[:, members] = X[:, [members[0]]]
    if len(X) == 0:
        return None
    return _case("symmetry", model, X, f"symmetric groups {[sorted(g) for g in groups]}",
                 background=symmetrise(model.sample(4, rng), groups), extra={"symmetric_groups": tuple(groups)})


def _sensitivity(model: "SyntheticModel") -> Case | None:
    """Each declared relevant feature moved alone from 0 to the first of 8 draws that changes f (all its outputs)."""
    from ._helpers import output_range
    from .sensitivity import SENSITIVITY_TOL

    b = np.zeros(model.n_features)
    draws = model.sample(8, np.random.default_rng(3))
    fb = model.predict(b[None])[0]
    tol = SENSITIVITY_TOL.bound(output_range(model, None if model.n_outputs == 1 else 0))
    rows = []
    for i in sorted(model.ground_truth.relevant)[:8]:
        X = np.repeat(b[None], len(draws), axis=0)
        X[:, i] = draws[:, i]
        moved = (X[:, i] != 0) & (np.abs(model.predict(X) - fb).reshape(len(X), -1).max(axis=1) > tol)
        if moved.any():
            rows.append(X[np.argmax(moved)])
    if not rows:
        return None
    X = np.array(rows)
    case = _case("sensitivity", model, X, "each relevant feature moved alone from 0", background=b[None])
    if np.all(np.abs(case.model.predict_target(X, case.target) - case.model.predict_target(
            np.repeat(b[None], len(X), 0), case.target)) <= tol):
        return None  # the explained output moves on no row: nothing to judge
    return case


def _relevance(model: "SyntheticModel") -> Case | None:
    from ._helpers import binary_points

    d = model.n_features
    if model.domain != "binary" or d > MAX_RELEVANCE_FEATURES:
        return None
    P = binary_points(d)[::-1][:-1]
    X = P[:: max(1, len(P) // 8)][:8]
    if is_per_row(resolve_target(model, X)):
        return None  # the zero tolerance is set by one output's range over {0,1}^d
    return _case("relevance", model, X, "no Huang & Marques-Silva issue I1-I5 at any row", baseline=1.0 - X,
                 background=binary_points(d))


def _ground_truth(model: "SyntheticModel") -> Case | None:
    from .ground_truth_agreement import standard_case

    if model.n_features > MAX_EXACT_FEATURES and model.ground_truth.exact_attribution is None:
        return None
    base = standard_case("ground_truth_agreement", model, _ALL)
    return _case("ground_truth_agreement", model, base.X, "exact attribution", background=base.background)


def _model_randomisation(model: "SyntheticModel") -> Case | None:
    from .ground_truth_agreement import standard_case
    from .model_randomisation import parameterised_layers, randomised_cascade

    module = model.torch_module()
    if module is None or model.n_features > MAX_EXACT_FEATURES or not parameterised_layers(module):
        return None
    base = standard_case("model_randomisation", model, _ALL, n=8, seed=2)
    cascade = randomised_cascade(model)
    return _case("model_randomisation", model, base.X, f"cascading randomisation of {len(cascade)} layers",
                 background=base.background, extra={"models": tuple(cascade)})


def _localisation(model: "SyntheticModel") -> Case | None:
    """Rows with the largest gain f(x) - f(0) of the explained output (so a faithful map has positive mass)."""
    gt = model.ground_truth
    if gt.mask is None and gt.token_weights is None:
        return None
    if gt.mask is not None and int(np.sum(gt.mask)) > MAX_EXACT_FEATURES:
        return None  # the rank inside the mask needs the mask's exact Shapley values
    rng = np.random.default_rng(5)
    pool = model.sample(32, rng)
    b = np.zeros(model.n_features)
    target = resolve_target(model, pool)
    gain = model.predict_target(pool, target) - model.predict_target(np.repeat(b[None], len(pool), 0), target)
    X = pool[np.argsort(-gain, kind="stable")[:4]]
    return _case("localisation", model, X, "attribution inside the declared mask / on the weighted tokens",
                 background=model.sample(8, rng))


_BUILDERS: dict[str, Callable[["SyntheticModel"], Case | None]] = {
    "completeness": _completeness, "dummy": _dummy, "symmetry": _symmetry, "sensitivity": _sensitivity,
    "relevance": _relevance, "ground_truth_agreement": _ground_truth, "model_randomisation": _model_randomisation,
    "localisation": _localisation}


def user_cases(models: Sequence["SyntheticModel"], checks: Sequence[str] | None = None) -> list[Case]:
    """The cases the declarations of ``models`` give, for ``checks`` (default ``USER_CHECKS``; each model's truth is
    checked first), in check order then model order; every tier."""
    checks = USER_CHECKS if checks is None else tuple(checks)
    unknown = [c for c in checks if c not in _BUILDERS]
    if unknown:
        raise KeyError(f"no cases from declarations for check {', '.join(map(repr, unknown))}; "
                       f"supported: {', '.join(USER_CHECKS)}")
    for model in models:
        check_declared_truth(model)
    out = []
    for name in checks:
        get_check(name)  # registered (and loaded) before its cases are used
        out.extend(c for c in (_BUILDERS[name](m) for m in models) if c is not None)
    return out
