"""An on-disk cache of fitted model parameters, so a suite's set-up does not train the same models on every run.

Training here is deterministic (seeded generators, one thread, fixed ``random_state``), so a fit is a function of
what it was given and of the code and libraries that ran it. Two kinds of fits are cached, each under a sha256 key
that holds the ``FORMAT``, ``code_fingerprint()`` (the path and bytes of every ``.py`` file of
``xaicheck.synthetic_models`` and the versions of python, numpy, torch, scikit-learn, xgboost and lightgbm: an edit
of any model file or a library upgrade invalidates every entry) and:

- ``fit_estimator(estimator, X, y)``, a drop-in for ``estimator.fit(X, y)`` (scikit-learn, xgboost, lightgbm): the
  estimator's class and ``get_params()`` and the bytes, shapes and dtypes of ``X`` and ``y``. Stored as a pickle of
  the fitted estimator, and only if the pickle round trip predicts bit-identically on ``X`` (else it is refitted
  every time). Estimators without an integer ``random_state`` are never cached.
- ``train_in_place(params, train, settings)``, which ``trained._adam`` calls: the final values of the torch
  ``params`` that ``train()`` updates in place. Keyed by the innermost ``@fit_scope`` function around the call (its
  module-qualified name and bound arguments, defaults applied), the index of the call within that scope, the
  ``settings`` (steps, learning rate, ...) and the bytes of the initial parameters. Stored as float arrays (``.npz``,
  no pickle) and copied back into the parameters, so the model object (closures, lambdas, torch modules) is rebuilt
  by its own code around exactly the trained values. Outside a ``fit_scope``, ``train()`` simply runs.

The files live in ``fits/`` of the cache root (``cache_root()``, shared with the search and reference caches of
``xaicheck.axioms``): ``XAICHECK_CACHE_DIR`` sets it, ``off`` or empty turns every cache off, the default is
``$XDG_CACHE_HOME/xaicheck/searches``. Written atomically (a temporary file in the same directory, then
``os.replace``); a file that cannot be read or does not match is ignored and the fit recomputed.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import inspect
import io
import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, TypeVar

import numpy as np

from xaicheck.core.cache_files import source_fingerprint, write_atomic

if TYPE_CHECKING:
    import torch

__all__ = ["CACHE_ENV", "FORMAT", "cache_root", "fits_dir", "code_fingerprint", "fit_key", "array_digest", "fit_scope",
           "fit_estimator", "train_in_place"]

CACHE_ENV = "XAICHECK_CACHE_DIR"
#: Bumped when the stored layout changes.
FORMAT = 1
_LIBRARIES = ("numpy", "torch", "scikit-learn", "xgboost", "xgboost-cpu", "lightgbm")
F = TypeVar("F", bound=Callable[..., Any])
#: The innermost ``fit_scope`` call: ``{"function", "args", "calls"}`` (``calls`` counts its trainings so far).
_SCOPE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("xaicheck_fit_scope", default=None)


def cache_root() -> Path | None:
    """The cache directory, or ``None`` when ``XAICHECK_CACHE_DIR`` is ``off`` / empty (module docstring)."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip() in ("", "off") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xaicheck" / "searches"


def fits_dir() -> Path | None:
    """``fits/`` under :func:`cache_root` (``None``: caching is off)."""
    root = cache_root()
    return None if root is None else root / "fits"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 of the ``synthetic_models`` sources (path and bytes of every ``.py`` file) and the library versions."""
    return source_fingerprint((__package__,), _LIBRARIES)


def fit_key(parts: Mapping[str, Any]) -> str:
    """sha256 of ``parts`` (JSON, sorted keys, ``repr`` for anything else), the format and the code fingerprint."""
    text = json.dumps({"format": FORMAT, "code": code_fingerprint(), **parts}, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def array_digest(*arrays: Any) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}\0".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------ estimators
def _predictions(estimator: Any, X: np.ndarray) -> list[np.ndarray]:
    out = [np.asarray(estimator.predict(X))]
    if hasattr(estimator, "predict_proba"):
        out.append(np.asarray(estimator.predict_proba(X)))
    return out


def fit_estimator(estimator: F, X: np.ndarray, y: np.ndarray) -> F:
    """``estimator.fit(X, y)``, or the fitted estimator stored by an earlier identical fit (module docstring)."""
    directory = fits_dir()
    params = estimator.get_params(deep=False)
    if directory is None or not isinstance(params.get("random_state"), (int, np.integer)):
        return estimator.fit(X, y)
    cls = type(estimator)
    key = fit_key({"kind": "estimator", "class": f"{cls.__module__}.{cls.__qualname__}",
                   "params": sorted((k, repr(v)) for k, v in params.items()), "data": array_digest(X, y)})
    path = directory / f"{key}.pkl"
    try:
        with path.open("rb") as handle:
            stored = pickle.load(handle)
        if type(stored) is cls:
            return stored
    except Exception:  # noqa: BLE001 - a missing, truncated or foreign file: fit again
        pass
    fitted = estimator.fit(X, y)
    data = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
    again = pickle.loads(data)
    if all(np.array_equal(a, b) for a, b in zip(_predictions(fitted, X), _predictions(again, X), strict=True)):
        write_atomic(path, data)
    return fitted


# ------------------------------------------------------------------------------------------------ torch training
def fit_scope(fn: F) -> F:
    """Decorator: trainings (:func:`train_in_place`) inside ``fn`` are cached under ``fn``'s name and arguments.

    Use it on a function whose trainings are determined by its arguments and the ``synthetic_models`` code."""
    signature = inspect.signature(fn)
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def scoped(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        named = {k: {"array": array_digest(v)} if isinstance(v, np.ndarray) else v for k, v in bound.arguments.items()}
        token = _SCOPE.set({"function": name, "args": named, "calls": 0})
        try:
            return fn(*args, **kwargs)
        finally:
            _SCOPE.reset(token)

    return scoped  # type: ignore[return-value]


def train_in_place(params: Sequence["torch.Tensor"], train: Callable[[], None], settings: Mapping[str, Any]) -> None:
    """Run ``train()`` (which updates ``params`` in place), or copy in the values an identical training stored."""
    import torch

    scope, directory = _SCOPE.get(), fits_dir()
    if scope is None or directory is None:
        train()
        return
    call = scope["calls"]
    scope["calls"] += 1
    initial = [p.detach().cpu().numpy() for p in params]
    key = fit_key({"kind": "torch_training", "function": scope["function"], "args": scope["args"], "call": call,
                   "settings": dict(settings), "initial": array_digest(*initial)})
    path = directory / f"{key}.npz"
    stored = _load_arrays(path, initial)
    if stored is not None:
        with torch.no_grad():
            for p, value in zip(params, stored):
                p.copy_(torch.from_numpy(value))
        return
    train()
    buffer = io.BytesIO()
    np.savez(buffer, *[p.detach().cpu().numpy() for p in params])
    write_atomic(path, buffer.getvalue())


def _load_arrays(path: Path, like: Sequence[np.ndarray]) -> list[np.ndarray] | None:
    """The arrays stored in ``path`` if they match ``like`` (count, shapes, dtypes), else ``None``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = [data[f"arr_{i}"] for i in range(len(data.files))]
    except Exception:  # noqa: BLE001 - a missing, truncated or foreign file: train again
        return None
    if len(arrays) != len(like) or any(a.shape != b.shape or a.dtype != b.dtype for a, b in zip(arrays, like)):
        return None
    return arrays
