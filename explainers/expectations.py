"""Known axiom violations of explainers, as each adapter declares them (``Explainer.expected_failures``): read and
validated here.

An adapter declares its violations where it registers the explainer (a class attribute ``expected_failures``, or the
``expected_failures=`` argument of ``CaptumGradientExplainer`` / ``FunctionExplainer`` / ``@explainer``), each with a
reason and citation (shared reason templates: ``explainers._expected_reasons``). Only violations a paper proves (or
constructs) on the exact model of a case are declared, never a run that happened to fail. They become *strict*
expected failures (``pytest.mark.xfail(strict=True)``) in ``pytest benchmarks`` and in ``parametrize_with_checks``: a
library upgrade that changes one of these outcomes fails the run and names the cell.

Validated, never skipped (the hooks are installed by ``axioms.base``, the layer that knows the checks): an expected
failure naming a check that is not registered is an ``ExpectedFailureError`` when the check registry loads, or when
the explainer registers if the checks have loaded already (``validate_check_names``); one naming an unknown case
when that check's cases are built, or when the explainer registers after they were (``validate_case_names``). Both
name the explainer and the bad key.
"""

from __future__ import annotations

from typing import Collection, Iterable

from xaicheck.core.errors import ExpectedFailureError

from .base import EXPLAINERS, ExpectedFailure, Explainer

__all__ = ["expected_failures_of", "declared_expectations", "validate_check_names", "validate_case_names"]


def expected_failures_of(name: str) -> tuple[ExpectedFailure, ...]:
    """The expected failures the registered explainer ``name`` declares (empty if none, or if no such explainer)."""
    try:
        return tuple(EXPLAINERS.get(name).expected_failures)
    except KeyError:
        return ()


def declared_expectations(explainers: Iterable[Explainer] | None = None) -> list[tuple[str, ExpectedFailure]]:
    """``(explainer name, expected failure)`` of ``explainers`` (default: every explainer registered so far; the
    registry is not loaded by this)."""
    chosen = EXPLAINERS.registered().values() if explainers is None else explainers
    return [(exp.name, ef) for exp in chosen for ef in exp.expected_failures]


def validate_check_names(known: Collection[str], explainers: Iterable[Explainer] | None = None) -> None:
    """Raise ``ExpectedFailureError`` if an expected failure names a check not in ``known``."""
    for name, ef in declared_expectations(explainers):
        if ef.check not in known:
            raise ExpectedFailureError(f"explainer {name!r} declares an expected failure of unknown check "
                                       f"{ef.check!r}; known checks: {', '.join(sorted(known))}")


def validate_case_names(check: str, cases: Collection[str], explainers: Iterable[Explainer] | None = None) -> None:
    """Raise ``ExpectedFailureError`` if an expected failure of ``check`` names a case not in ``cases``."""
    for name, ef in declared_expectations(explainers):
        if ef.check == check and ef.case is not None and ef.case not in cases:
            raise ExpectedFailureError(f"explainer {name!r} declares an expected failure of unknown case "
                                       f"{check}/{ef.case!r}; {check} has: {', '.join(sorted(cases))}")
