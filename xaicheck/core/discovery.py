"""Discovery, not lists: the modules of a package, found by walking it (scikit-learn's ``utils/discovery.py``), and
the plug-ins of an entry-point group.

Every registry (models, explainers, checks, papers) loads its built-ins by importing the public modules of its own
package, so a new module joins by existing: there is no hand-kept list to forget. Modules whose name starts with
``_`` are private and skipped. Third-party plug-ins join through an entry-point group (``xaicheck.explainers``,
``xaicheck.checks``, ``xaicheck.models``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
from collections.abc import Collection

__all__ = ["public_modules", "import_public_modules", "entry_points_of"]


def public_modules(package: str, *, skip: Collection[str] = ()) -> list[str]:
    """Dotted names of ``package``'s public modules and subpackages (not ``_``-prefixed, not in ``skip``), sorted."""
    pkg = importlib.import_module(package)
    return sorted(f"{package}.{info.name}" for info in pkgutil.iter_modules(pkg.__path__)
                  if not info.name.startswith("_") and info.name not in skip)


def import_public_modules(package: str, *, skip: Collection[str] = ()) -> list[str]:
    """Import every public module of ``package`` (their import registers what they define); returns their names.

    An import error propagates: a broken module is an error naming it, never silently missing plug-ins.
    """
    names = public_modules(package, skip=skip)
    for name in names:
        importlib.import_module(name)
    return names


def entry_points_of(group: str) -> list[importlib.metadata.EntryPoint]:
    """The entry points of ``group`` in every installed distribution (third-party plug-ins), sorted by name."""
    return sorted(importlib.metadata.entry_points(group=group), key=lambda ep: (ep.name, ep.value))
