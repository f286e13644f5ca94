"""Checks that score an explainer on a case: axioms, ground-truth fidelity, stability, agreement, fragility."""

from .base import (
    CATEGORIES,
    TIERS,
    Case,
    Check,
    CheckResult,
    Counterexample,
    Status,
    Tolerance,
    all_cases,
    all_checks,
    cases_of,
    check_names,
    get_check,
    register_check,
)
from .pytest_api import check_explainer, parametrize_with_checks

__all__ = [
    "CATEGORIES",
    "TIERS",
    "Case",
    "Check",
    "CheckResult",
    "Counterexample",
    "Status",
    "Tolerance",
    "all_cases",
    "all_checks",
    "cases_of",
    "check_explainer",
    "check_names",
    "get_check",
    "parametrize_with_checks",
    "register_check",
]
