"""An on-disk cache of counterexample searches, shared by the workers of a run and by later runs.

A search (``counterexamples.find_counterexample``) is deterministic given the code that runs it: hypothesis with
``derandomize=True`` and no database, a deterministic explainer, a fixed budget. So its answer is stored under a key
of everything it depends on:

- the check (name, class, ``version``), the search budget, ``MAX_PREDICATE_CALLS`` and the search-space key;
- the explainer (name, class, library and its version, ``settings``);
- a fingerprint of the code: the sha256 of every ``.py`` file of the packages a search can run (``xaicheck``'s
  facade, ``axioms``, ``explainers``, ``synthetic_models``: any edit there invalidates the cache, so a stale answer
  cannot survive a code change even when no version was bumped) and the versions of python, hypothesis, numpy,
  torch, captum, shap, lime and scikit-learn. ``xaicheck.benchmarks`` (runner, reports, command line) is left out:
  the lower layers never import it (``DESIGN.md``), so its edits cannot change a search and no longer cost a cold
  cache.

One JSON file per key in ``cache_dir()``, written atomically (a temporary file in the same directory, then
``os.replace``), so concurrent workers never read half a file; two workers racing on one key compute the same answer
and either write wins. A value is stored only if its JSON round trip is exact; an unreadable file is ignored.
``XAICHECK_CACHE_DIR`` sets the directory (``off`` or empty turns the cache off); by default
``$XDG_CACHE_HOME/xaicheck/searches`` (``~/.cache/...``).

``XAICHECK_SEARCH_LOG=FILE`` (used by ``benchmarks/bench_suite.py``) appends one JSON line per
``find_counterexample`` call: how it was answered (``memory``, ``disk`` or ``searched``), which search
(``check/explainer``) and its wall and CPU seconds, so a suite's search cost can be told apart from the rest of its cells. Unset: nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from xaicheck.core.cache_files import source_fingerprint, write_atomic
from xaicheck.synthetic_models._fit_cache import cache_root

from .base import Counterexample

__all__ = ["CACHE_ENV", "LOG_ENV", "FORMAT", "cache_dir", "code_fingerprint", "key_for", "load", "store",
           "is_missing", "SearchClock"]

CACHE_ENV = "XAICHECK_CACHE_DIR"
LOG_ENV = "XAICHECK_SEARCH_LOG"
#: Bumped when the stored layout changes.
FORMAT = 1
_LIBRARIES = ("hypothesis", "numpy", "torch", "captum", "shap", "lime", "scikit-learn")
#: The packages whose code a search runs (never ``xaicheck.benchmarks``: see the module docstring).
_PACKAGES = ("xaicheck", "xaicheck.axioms", "xaicheck.explainers", "xaicheck.synthetic_models")
_MISSING = object()


def cache_dir() -> Path | None:
    """The cache directory, or ``None`` when ``XAICHECK_CACHE_DIR`` is ``off`` / empty (the root shared with the
    fitted-model cache, ``synthetic_models._fit_cache.cache_root``)."""
    return cache_root()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 of the xaicheck sources (path and bytes of every ``.py`` file) and the library versions."""
    return source_fingerprint(_PACKAGES, _LIBRARIES)


def key_for(parts: Mapping[str, Any]) -> str:
    """A file-name-safe key: sha256 of ``parts`` (JSON, sorted keys), the format and the code fingerprint."""
    text = json.dumps({"format": FORMAT, "code": code_fingerprint(), **parts}, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _encode(value: Counterexample | None) -> dict[str, Any]:
    if value is None:
        return {"found": False}
    return {"found": True, "model_spec": dict(value.model_spec), "x": value.x, "attributions": value.attributions,
            "expected": value.expected, "line": value.line, "baseline": value.baseline}


def _decode(data: Mapping[str, Any]) -> Counterexample | None:
    if not data["found"]:
        return None
    return Counterexample(model_spec=data["model_spec"], x=data["x"], attributions=data["attributions"],
                          expected=data["expected"], line=data["line"], baseline=data["baseline"])


def load(key: str) -> Any:
    """The stored answer (a ``Counterexample`` or ``None``), or the module's ``_MISSING`` sentinel."""
    directory = cache_dir()
    if directory is None:
        return _MISSING
    try:
        return _decode(json.loads((directory / f"{key}.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return _MISSING


def store(key: str, value: Counterexample | None) -> bool:
    """Write the answer atomically; ``False`` (nothing written) if caching is off, the directory cannot be written
    or the value does not survive a JSON round trip unchanged."""
    directory = cache_dir()
    if directory is None:
        return False
    try:
        text = json.dumps(_encode(value), sort_keys=True, allow_nan=True)
        if json.dumps(_encode(_decode(json.loads(text))), sort_keys=True) != text:
            return False
    except (TypeError, ValueError):
        return False
    return write_atomic(directory / f"{key}.json", text.encode("utf-8"))


def is_missing(value: Any) -> bool:
    return value is _MISSING


class SearchClock:
    """Wall and CPU seconds since construction, appended to ``$XAICHECK_SEARCH_LOG`` by :meth:`log` (one JSON line,
    one ``O_APPEND`` write, so the workers of a run can share the file). Does nothing when the variable is unset."""

    def __init__(self) -> None:
        self.path = os.environ.get(LOG_ENV) or None
        self.wall, self.cpu = (time.perf_counter(), time.process_time()) if self.path else (0.0, 0.0)

    def log(self, answered: str, search: str = "") -> None:
        """Append ``{"answered", "search", "wall", "cpu"}``; ``search`` names it (``check/explainer``)."""
        if self.path is None:
            return
        line = json.dumps({"answered": answered, "search": search, "wall": round(time.perf_counter() - self.wall, 6),
                           "cpu": round(time.process_time() - self.cpu, 6)}) + "\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        except OSError:
            pass
