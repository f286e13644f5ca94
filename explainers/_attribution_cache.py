"""Attributions shared, within one run, by cells that put the same first question to an explainer.

The six faithfulness checks (deletion and insertion curves, infidelity, PGI/PGU, sparsity, magnitude error) judge the
same attributions of the same rows (``axioms._faithfulness``: one draw per model, shared by the checks), and each
cell's first act is ``explainer.explain(model, X, baseline=b, background=B, target=t, seed=s)``. Run as six cells,
the explainer computed the same attribution six times (captum's KernelSHAP and LIME, guided IG: about 1 CPU-s each).

While a cell runs under :func:`sharing` (the runner hands each forked cell its run's directory as an argument), the
*first* ``explain`` call of the cell is looked up here and, when computed, stored:

- key: sha256 of the explainer (name, class, library, ``settings``), the model (class, name, ``spec()`` and a
  **probe**: ``f`` at ``PROBE_POINTS`` seeded hybrids of the rows and their references, so two models that differ
  where the explainer looks get different keys), the bytes and shapes of ``X``, ``baseline`` and ``background``,
  the target and the seed;
- value: the validated attribution array as an ``.npy`` file (exact round trip), written atomically (temporary file,
  ``os.replace``) in the run's own directory, deleted with the run's partial log. Two workers racing on one key
  compute the same array and either write wins.

Only first calls are shared, and only with first calls: a cell's first call is made from the same state as any other
cell's (every cell is a fresh process forked from the same parent), so a stored answer is exactly what the explainer would
have computed there, *provided it is a deterministic function of its inputs and seed* — the assumption every run
already makes (cells run in any order on any worker) and that the runner's determinism rerun tests: the rerun runs
with no sharing directory, so an explainer that gives another answer to the same question is still
caught. Runs outside the runner (``check_explainer``, the pytest plugin, a Dask engine's remote workers) never
share.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from xaicheck.core.cache_files import write_array

__all__ = ["PROBE_POINTS", "SWITCH_ENV", "sharing", "enabled", "active_directory", "take_first", "key_for", "load",
           "store", "stats"]

#: Points at which the model is evaluated to fingerprint the function itself.
PROBE_POINTS = 64
FORMAT = 1
#: ``XAICHECK_SHARE_ATTRIBUTIONS=0`` turns sharing off (a run then computes every attribution in its own cell).
SWITCH_ENV = "XAICHECK_SHARE_ATTRIBUTIONS"

class _Share:
    """The sharing of one cell: where answers live, whether the first call is still to come, hits and stores."""

    def __init__(self, directory: Path) -> None:
        self.dir, self.first, self.hits, self.stored = directory, True, 0, 0


#: The share of the cell running in this context (``None``: no sharing). Bound by :func:`sharing` for the extent
#: of one cell, from the directory the runner hands the cell as an argument (``axioms.isolation.CellContext``).
_CURRENT: contextvars.ContextVar["_Share | None"] = contextvars.ContextVar("xaicheck_attribution_share",
                                                                          default=None)


def enabled() -> bool:
    """``XAICHECK_SHARE_ATTRIBUTIONS=0`` in the environment keeps sharing off (every cell computes its own)."""
    return os.environ.get(SWITCH_ENV, "1").strip() not in ("0", "off", "false", "")


@contextmanager
def sharing(directory: Path | str | None) -> Iterator[None]:
    """Share first-call attributions through ``directory`` (created on first store) while the block runs: one
    cell. ``None`` (or sharing switched off, :func:`enabled`) shares nothing."""
    share = _Share(Path(directory)) if directory is not None and enabled() else None
    token = _CURRENT.set(share)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def active_directory() -> Path | None:
    share = _CURRENT.get()
    return None if share is None else share.dir


def take_first() -> bool:
    """Whether this call is the first of its cell while sharing is active (and mark it taken)."""
    share = _CURRENT.get()
    if share is None:
        return False
    first, share.first = share.first, False
    return first


def stats() -> dict[str, int]:
    """Hits and stores of the cell sharing in this context."""
    share = _CURRENT.get()
    return {"hits": 0, "stored": 0} if share is None else {"hits": share.hits, "stored": share.stored}


def _bytes(a: Any) -> bytes:
    if a is None:
        return b"none"
    arr = np.ascontiguousarray(a)
    return str(arr.dtype).encode() + str(arr.shape).encode() + arr.tobytes()


def _probe(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    rng = np.random.default_rng(20261204)
    ref = np.zeros((1, X.shape[1])) if reference is None else np.atleast_2d(np.asarray(reference, dtype=np.float64))
    rows = rng.integers(0, X.shape[0], PROBE_POINTS)
    refs = rng.integers(0, ref.shape[0], PROBE_POINTS)
    mask = rng.random((PROBE_POINTS, X.shape[1])) < 0.5  # hybrids: every value comes from a row or a reference
    return np.asarray(predict(np.where(mask, X[rows], ref[refs])), dtype=np.float64)


def key_for(explainer: Any, model: Any, X: np.ndarray, baseline: np.ndarray | None, background: np.ndarray | None,
            target: Any, seed: int) -> str:
    """sha256 of everything the first call's answer depends on (module docstring)."""
    reference = baseline if baseline is not None else background
    spec = getattr(model, "spec", None)
    head = json.dumps({"format": FORMAT,
                       "explainer": [explainer.name, f"{type(explainer).__module__}.{type(explainer).__qualname__}",
                                     getattr(explainer, "library", ""), getattr(explainer, "settings", None)],
                       "model": [f"{type(model).__module__}.{type(model).__qualname__}", str(getattr(model, "name", "")),
                                 spec() if callable(spec) else None],
                       "seed": int(seed)}, sort_keys=True, default=repr)
    digest = hashlib.sha256(head.encode())
    for part in (X, baseline, background, None if target is None else np.asarray(target),
                 _probe(model.predict, np.asarray(X, dtype=np.float64), reference)):
        digest.update(_bytes(part))
    return digest.hexdigest()


def load(key: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """The stored answer for ``key`` if it exists, reads cleanly and has ``shape``; else ``None``."""
    share = _CURRENT.get()
    if share is None:
        return None
    try:
        value = np.load(share.dir / f"{key}.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if value.shape != tuple(shape):
        return None
    share.hits += 1
    return value


def store(key: str, value: np.ndarray) -> None:
    """Write ``value`` under ``key`` atomically; a cache that cannot be written is no cache (nothing raised)."""
    share = _CURRENT.get()
    if share is not None and write_array(share.dir / f"{key}.npy", value):
        share.stored += 1
