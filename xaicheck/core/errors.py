"""The exception classes that cross layers: raised in one (say ``axioms``) and caught in another (``benchmarks``).

Defined here, in the bottom layer, so that catching one never makes a lower layer import a higher one. The layer
that raises each re-exports it under its historical public path (``explainers.base.ExplainerError``,
``axioms.pytest_api.SelectionError``, ...), so user code keeps working.
"""

from __future__ import annotations

__all__ = [
    "RegistryError",
    "NameTakenError",
    "ExpectedFailureError",
    "SelectionError",
    "did_you_mean",
    "CellError",
    "CellTimeout",
    "DeclaredTruthError",
    "ExplainerError",
    "ExplainerOutputError",
    "MissingInputError",
]


class RegistryError(RuntimeError):
    """A registry could not load (a module or entry point raised at import), or a name is taken by another object.

    The message names the registry, the module or entry point that failed and its exception.
    """


class NameTakenError(RegistryError, ValueError):
    """A different item offered under a name that is already registered (names both)."""


class ExpectedFailureError(ValueError):
    """An explainer declares an expected failure for a check or case that does not exist (names both)."""


def did_you_mean(name: str, known: "list[str] | tuple[str, ...]", n: int = 3) -> str:
    """`` (did you mean 'a' or 'b'?)`` for the closest known names (``difflib`` ratio >= 0.6 and within 0.05 of the
    best one, at most ``n``), else ``""``."""
    import difflib

    def ratio(k: str) -> float:
        return difflib.SequenceMatcher(None, str(name), k).ratio()

    close = difflib.get_close_matches(str(name), list(known), n=n, cutoff=0.6)
    close = [c for c in close if ratio(c) >= ratio(close[0]) - 0.05] if close else []
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


class SelectionError(KeyError, ValueError):
    """An unknown name or an empty selection; the message names the known values."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CellError(RuntimeError):
    """A cell ended in error or timeout: a broken run, never mistaken for an (expected) axiom violation."""


class CellTimeout(BaseException):
    """Raised by the alarm inside a cell. A ``BaseException`` so a check's ``except Exception`` cannot swallow it."""


class DeclaredTruthError(ValueError):
    """A model's declared ground truth does not hold for its own function."""


class ExplainerError(RuntimeError):
    """An explainer could not produce a valid explanation; the message names the explainer."""


class ExplainerOutputError(ExplainerError):
    """The explainer returned something of the wrong shape, or non-finite values."""


class MissingInputError(ExplainerError, ValueError):
    """A required baseline / background / target was not given."""
