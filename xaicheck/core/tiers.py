"""The suites (tiers) a case can belong to, smallest first; each contains the ones before it."""

from __future__ import annotations

__all__ = ["TIERS"]

#: Suites, smallest first; each contains the ones before it (``quick`` is in ``default``, both are in ``full``).
TIERS: tuple[str, ...] = ("quick", "default", "full")
