"""Errors of a run's files, at the bottom of ``benchmarks`` (imported by the readers and writers, importing none)."""

from __future__ import annotations

__all__ = ["RecordError"]


class RecordError(ValueError):
    """A results file that does not hold what xaicheck writes: one line naming the file, the line and the problem."""
