"""The three original controls (``zero``, ``constant``, ``random``), kept importable from here; they now live with
the rest of the degenerate panel in ``degenerate.py`` (registered there once)."""

from __future__ import annotations

from .degenerate import ConstantControl, RandomControl, ZeroControl

__all__ = ["RandomControl", "ConstantControl", "ZeroControl"]
