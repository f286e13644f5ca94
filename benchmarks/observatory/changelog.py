"""The changelog line a release's installed package carries for itself, or ``"not shipped"``.

Looked for, in order, in the release's target directory: a file named ``CHANGELOG*``, ``CHANGES*``, ``NEWS*`` or
``HISTORY*`` in its ``*.dist-info`` folder or its package folder, then the long description in ``METADATA``. The line
returned is the first non-heading line after a line that names the release (``0.47.2``); nothing is invented.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["NOT_SHIPPED", "changelog_line", "line_after_release"]

NOT_SHIPPED = "not shipped"
_NAMES = ("CHANGELOG", "CHANGES", "NEWS", "HISTORY")


def line_after_release(text: str, release: str) -> str | None:
    """The first substantive line after the first line naming ``release`` as a whole word (None: not named)."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(release)}(?![\w]|\.\d)")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if pattern.search(line):
            for nxt in lines[i + 1: i + 20]:
                s = nxt.strip().lstrip("-*#=~ ").strip()
                if s and not set(s) <= set("-=~#*"):
                    return s[:200]
            return line.strip()[:200]
    return None


def changelog_line(target: Path, import_name: str, release: str) -> str:
    """See the module docstring; ``target`` is the release's install directory."""
    target = Path(target)
    candidates: list[Path] = []
    for folder in [*sorted(target.glob("*.dist-info")), target / import_name]:
        if folder.is_dir():
            candidates += [p for p in sorted(folder.iterdir())
                           if p.is_file() and p.name.upper().startswith(_NAMES)]
    candidates += sorted(target.glob("*.dist-info/METADATA"))
    for path in candidates:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.name == "METADATA":
            text = text.split("\n\n", 1)[1] if "\n\n" in text else ""  # the description, not the headers
        found = line_after_release(text, release)
        if found:
            return f"{found} ({path.relative_to(target)})"
    return NOT_SHIPPED
