"""The search cache's code fingerprint covers exactly the code a search can run: every package but
``xaicheck.benchmarks``, which no lower layer imports (so its edits cannot change a search's answer)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from xaicheck.axioms import _search_cache

LOWER = ("xaicheck.axioms", "xaicheck.explainers", "xaicheck.synthetic_models")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level >= 2:  # from ..benchmarks import x
            names.add("xaicheck." + (node.module or ""))
    return names


def test_fingerprint_packages_are_the_lower_layers() -> None:
    assert set(_search_cache._PACKAGES) == {"xaicheck", *LOWER}


def test_no_lower_layer_imports_benchmarks() -> None:
    offenders = []
    for package in LOWER:
        for root in importlib.import_module(package).__path__:
            for path in sorted(Path(root).rglob("*.py")):
                if any(n == "xaicheck.benchmarks" or n.startswith("xaicheck.benchmarks.") for n in _imports(path)):
                    offenders.append(str(path))
    assert offenders == []
