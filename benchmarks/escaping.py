"""Escaping for text outputs: names and messages written into Markdown (leaderboard.md, counterexamples.md).

An explainer, check or case name and a message are data, never markup: ``md_escape`` makes them print literally in
GitHub-flavoured Markdown, inside or outside a table (issue 17: a ``|`` must not shift a table, ``<script>`` or an
``onerror=`` attribute must not become HTML, a backtick must not open a code span).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["md_escape"]

_MD_SPECIAL = re.compile(r"([\\`*\[\]|])")


def md_escape(value: Any) -> str:
    """``value`` as literal Markdown text on one line: ``&``, ``<``, ``>`` become entities; ``\\ ` * [ ] |`` are
    backslash-escaped (no code span, emphasis, link or table cell can start); line breaks become spaces."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)
