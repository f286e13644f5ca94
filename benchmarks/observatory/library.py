"""Which registered explainers belong to a library (the observatory runs every one of them per release)."""

from __future__ import annotations

__all__ = ["library_explainers"]


def library_explainers(library: str) -> list[str]:
    """Names of the registered explainers whose ``library`` is ``library``."""
    from xaicheck.explainers.base import all_explainers

    return sorted(e.name for e in all_explainers() if e.library == library)
