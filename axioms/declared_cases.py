"""Cases of a user's own models, from what each model declares: the same path as the built-in declared models.

Every check decides for itself which cases a model's declarations give it (``Check.cases_for(model, suite)``; see
each check's docstring): ``completeness`` every model; ``dummy`` models that declare dummy features; ``symmetry``
symmetric groups; ``sensitivity`` relevant features (each moved alone from the declared baseline);
``relevance`` binary models with d ≤ 8; ``ground_truth_agreement`` d ≤ 16 or a declared closed form;
``model_randomisation`` a torch form with a ``Linear`` / ``Conv`` layer; ``localisation`` a mask or token weights;
``reference_agreement`` a declared reference of another kind (its own truth axis). The declarations
(``synthetic_models.declarations``) set the suites, the binary values (``{0, 1}`` or ``{-1, 1}``), the baseline
(zero, a constant, a vector, one per row) and the rows per suite. Each model's declared truth is checked first
(``synthetic_models.zoo.check_declared_truth``). A zoo model that declares no suite joins every suite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from xaicheck.synthetic_models.zoo import check_declared_truth, in_every_suite

from .base import TIERS, Case, Check, all_checks, declared_cases, get_check

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["declaring_checks", "user_cases"]


def declaring_checks() -> list[str]:
    """The registered checks that derive cases from declarations (they implement ``cases_for``), in check order."""
    return [c.name for c in all_checks() if type(c).cases_for is not Check.cases_for]


def user_cases(models: Sequence["SyntheticModel"], checks: Sequence[str] | None = None,
               suite: str = "quick") -> list[Case]:
    """The cases the declarations of ``models`` give in ``suite``, for ``checks`` (default every check that derives
    cases from declarations; each model's truth is checked first), in check order then model order."""
    if suite not in TIERS:
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join(TIERS)}")
    names = declaring_checks() if checks is None else list(checks)
    unknown = [c for c in names if c not in declaring_checks()]
    if unknown:
        raise KeyError(f"no cases from declarations for check {', '.join(map(repr, unknown))}; "
                       f"those that have them: {', '.join(declaring_checks())}")
    models = [in_every_suite(m) for m in models]
    for model in models:
        check_declared_truth(model)
    return [case for name in names for case in declared_cases(get_check(name), models, suite)]
