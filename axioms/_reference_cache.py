"""An on-disk cache of exact reference attributions, shared by the cells of a run and by later runs.

Every cell of a check judged against the exact Shapley attribution needs it, and a case's cells are spread over the
worker processes of a run (and over later runs), so a cache in one process's memory would still repeat it. At d = 16 one baseline-Shapley reference of a 32-row MLP case enumerates
2^16 coalitions per row, about 5 CPU-seconds, and the same reference was computed again for each of ~70 cells of the
case (about 370 s of the ~400 s a d = 16 MLP case cost). The reference depends on the explainer only through its
``reference_kind``, so it is stored once per (case content, kind) and read back by the other cells.

The key (sha256) holds everything the value depends on: the reference kind and target; the bytes of X, the baseline
and the data (background or training rows); the model's class, name and spec; a **probe** of the function itself
(``f`` at ``PROBE_POINTS`` seeded hybrids of the rows and their references — the points the enumeration evaluates —
so a user model edited under the same name and spec gets a new key); and ``_search_cache.code_fingerprint()`` (any
edit of the xaicheck sources or a library version invalidates every entry). Values are float64 ``.npy`` files, so a
stored reference is bit-identical to a recomputed one; written atomically (temporary file, ``os.replace``). Only
enumerations of ``MIN_FEATURES`` or more features are cached (below that, recomputing costs milliseconds).
``XAICHECK_CACHE_DIR=off`` turns it off with the search cache; the files live in ``references/`` beside the searches.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from xaicheck.core.cache_files import write_array

from ._search_cache import cache_dir, code_fingerprint

__all__ = ["MIN_FEATURES", "PROBE_POINTS", "cached_reference", "reference_key"]

#: Enumerations over fewer features are recomputed (2^9 coalitions x 32 rows take milliseconds). At d = 10 the
#: interventional reference of a trained booster over 16 background rows takes ~0.5 CPU-s, paid by ~25 cells a case.
MIN_FEATURES = 10
#: Hybrid points at which the model is evaluated to fingerprint the function itself.
PROBE_POINTS = 256
FORMAT = 1


def _directory() -> Path | None:
    root = cache_dir()
    return None if root is None else root / "references"


def _bytes(a: np.ndarray | None) -> bytes:
    return b"none" if a is None else np.ascontiguousarray(a, dtype=np.float64).tobytes() + str(np.shape(a)).encode()


def reference_key(kind: str, model: object, predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                  reference: np.ndarray, data: np.ndarray | None, target: int | None) -> str:
    """sha256 of everything the reference depends on (module docstring). ``reference`` [n, d] or [m, d] is what the
    missing features take (the baseline rows or the data)."""
    X = np.asarray(X, dtype=np.float64)
    ref = np.atleast_2d(np.asarray(reference, dtype=np.float64))
    rng = np.random.default_rng(20240612)
    rows = rng.integers(0, X.shape[0], PROBE_POINTS)
    refs = rng.integers(0, ref.shape[0], PROBE_POINTS)
    mask = rng.random((PROBE_POINTS, X.shape[1])) < 0.5
    probe = np.asarray(predict(np.where(mask, X[rows], ref[refs])), dtype=np.float64)
    spec = getattr(model, "spec", None)
    head = json.dumps({"format": FORMAT, "code": code_fingerprint(), "kind": kind, "target": target,
                       "class": f"{type(model).__module__}.{type(model).__qualname__}",
                       "name": str(getattr(model, "name", "")), "spec": spec() if callable(spec) else None},
                      sort_keys=True, default=repr)
    digest = hashlib.sha256(head.encode())
    for part in (X, ref, data, probe):
        digest.update(_bytes(part))
    return digest.hexdigest()


def _load(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        value = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return value if value.shape == shape and value.dtype == np.float64 else None


def cached_reference(kind: str, model: object, predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                     reference: np.ndarray, data: np.ndarray | None, target: int | None,
                     compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``compute()``, read from the cache when the same reference was stored before (module docstring)."""
    X = np.asarray(X)
    directory = _directory()
    if directory is None or X.ndim != 2 or X.shape[1] < MIN_FEATURES:
        return compute()
    path = directory / f"{reference_key(kind, model, predict, X, reference, data, target)}.npy"
    stored = _load(path, (X.shape[0], X.shape[1]))
    if stored is not None:
        return stored
    value = np.asarray(compute(), dtype=np.float64)
    if value.shape == X.shape and np.all(np.isfinite(value)):
        write_array(path, np.ascontiguousarray(value, dtype=np.float64))
    return value
