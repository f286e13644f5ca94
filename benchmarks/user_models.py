"""Benchmark your own models: a zoo of ``SyntheticModel`` objects becomes a suite, from what each model declares.

A zoo is a Python module (``xaicheck run --models my_package.my_zoo``) defining ``MODELS`` (a list of models or of
zero-argument factories), or else every module-level ``SyntheticModel`` (``synthetic_models.zoo.load_zoo``; wrap a
torch module, a fitted estimator or a function with ``wrap_model``). Which checks each model joins follows from its
declarations (``axioms.declared_cases``: dummy features -> dummy, a torch form -> model randomisation, a mask ->
localisation, a reference of its own kind -> reference_agreement, ...; the suite sets the rows per case), and every
declared truth is checked before it is used (``synthetic_models.zoo``).

>>> suite = build_user_suite("my_package.my_zoo", "quick", explainers="integrated_gradients,shap_exact")
>>> run_suite(suite, "/tmp/my_zoo_results"); build_report("/tmp/my_zoo_results")
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from xaicheck.axioms.base import get_check
from xaicheck.axioms.declared_cases import declaring_checks, user_cases
from xaicheck.core.errors import DeclaredTruthError
from xaicheck.synthetic_models.zoo import check_declared_truth, load_zoo, wrap_model

from .suite import SUITES, Suite, _select, parse_names

__all__ = ["DeclaredTruthError", "declaring_checks", "load_zoo", "wrap_model", "check_declared_truth", "user_cases",
           "build_user_suite"]


def build_user_suite(zoo: str | Iterable[Any], name: str = "quick", *, explainers: str | Sequence[str] | None = None,
                     checks: str | Sequence[str] | None = None, base_seed: int = 0) -> Suite:
    """A suite over the registered explainers (optionally filtered) and the cases of the user's ``zoo`` only."""
    from xaicheck.explainers.base import explainer_names, get_explainer

    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    models = load_zoo(zoo)
    exp_names = _select("explainer", parse_names(explainers), explainer_names())
    chk_names = _select("check", parse_names(checks), declaring_checks())
    cases = user_cases(models, chk_names, suite=name)
    return Suite(name, {n: get_explainer(n) for n in exp_names}, {n: get_check(n) for n in chk_names},
                 {c.id: c for c in cases}, base_seed)
