"""The curated cases of registered models placed in a check (``register_model(name, placed={...})``).

A model declares, at registration, where it is examined: per placement key (a check's name, or a case family that
several checks share, ``Check.placement_keys``) the smallest suite, a rank and check-specific parameters
(``synthetic_models.declarations.Placement``). A check asks ``placed_cases`` for its models and builds each case
from the model's facts (ground truth, domain, forms, twins); a builder returns ``None`` where the facts rule the
case out. The check never names a model, and a misspelt key is an error, not a silently empty list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from xaicheck.synthetic_models.registry import placed_models, placement_keys

from .base import CHECKS, Case

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["placed_cases", "validate_placements"]

#: A check's case (or cases) for one placed model, or ``None`` when the model's facts rule it out.
Builder = Callable[["SyntheticModel", "Placement"], "Case | Sequence[Case] | None"]


def validate_placements() -> None:
    """Raise ``ValueError`` naming the models whose placement key no registered check reads."""
    known = {key for check in CHECKS.items().values() for key in check.placement_keys or (check.name,)}
    unknown = {key: models for key, models in placement_keys().items() if key not in known}
    if unknown:
        raise ValueError("models placed under keys no check reads: "
                         + "; ".join(f"{key!r} ({', '.join(models)})" for key, models in sorted(unknown.items()))
                         + f"; known keys: {', '.join(sorted(known))}")


def placed_cases(key: str, build: Builder) -> list[Case]:
    """``build(model, placement)`` for every model placed under ``key``, in ``(rank, name)`` order (a case, a list
    of cases, or ``None``: none); placement keys are validated first."""
    validate_placements()
    out = []
    for model, place in placed_models(key):
        made = build(model, place)
        if isinstance(made, Case):
            out.append(made)
        elif made is not None:
            out.extend(made)
    return out
