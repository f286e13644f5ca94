"""Which output is explained: one column for every row, or a column per row (a classifier at each row's prediction).

A *target* is ``None`` (a one-output model), an ``int`` (that output column for every row) or a per-row integer
array ``[n]`` (row r explained at column ``t_r``; e.g. ``argmax f(x_r)``, the predicted class). Explainers and exact
oracles take one column at a time, so a per-row target is served by grouping the rows by their column
(``by_target``) and running each group at its scalar target (``per_target``).

A model declares what it wants explained in ``SyntheticModel.explained_output``: ``None`` (one output), a column, or
``"predicted"`` (each row's argmax); ``resolve_target`` turns that into the target of given rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, Union

import numpy as np

if TYPE_CHECKING:
    from .base import SyntheticModel

__all__ = ["Target", "PREDICTED", "is_per_row", "row_targets", "by_target", "per_target", "resolve_target",
           "select_column"]

Target = Union[int, np.ndarray, None]
#: ``explained_output`` value: explain each row at its predicted class (argmax of the outputs).
PREDICTED = "predicted"


def is_per_row(target: Any) -> bool:
    """Whether ``target`` gives a column per row (a 1-d sequence) rather than one column for all rows."""
    return target is not None and np.ndim(target) == 1


def row_targets(target: Any, n: int) -> np.ndarray:
    """``target`` as an ``[n]`` int array; a per-row target must have ``n`` non-negative integer entries."""
    arr = np.asarray(target)
    if arr.ndim == 0:
        return np.full(n, int(arr), dtype=np.int64)
    if arr.shape != (n,):
        raise ValueError(f"a per-row target needs one entry per row: got shape {arr.shape} for {n} rows")
    if arr.size and (not np.all(np.equal(np.mod(arr, 1), 0)) or arr.min() < 0):
        raise ValueError(f"a per-row target holds output columns (non-negative integers); got {arr.tolist()}")
    return arr.astype(np.int64)


def by_target(target: Target, n: int) -> Iterator[tuple[int | None, np.ndarray]]:
    """``(scalar target, row indices)`` groups: one group for a scalar target, one per distinct column otherwise."""
    if not is_per_row(target):
        yield target if target is None else int(target), np.arange(n)
        return
    t = row_targets(target, n)
    for value in np.unique(t):
        yield int(value), np.flatnonzero(t == value)


def per_target(fn: Callable[..., np.ndarray], X: np.ndarray, target: Target, *row_arrays: Any) -> np.ndarray:
    """``fn(X_g, *arrays_g, t)`` over the groups of ``by_target``, reassembled in row order (``[n, ...]``).

    ``row_arrays``: arrays with one row per row of ``X`` (sliced per group), or ``[d]`` / ``None`` (passed whole).
    """
    X = np.asarray(X)
    n = len(X)
    if not is_per_row(target):
        return fn(X, *row_arrays, target)
    out: np.ndarray | None = None
    for t, idx in by_target(target, n):
        parts = [a[idx] if a is not None and np.ndim(a) == 2 and len(a) == n else a for a in row_arrays]
        res = np.asarray(fn(X[idx], *parts, t))
        if out is None:
            out = np.zeros((n, *res.shape[1:]), dtype=res.dtype)
        out[idx] = res
    return np.zeros((0,)) if out is None else out


def select_column(out: np.ndarray, target: Target, name: str) -> np.ndarray:
    """The explained output of ``out`` (``[n]`` or ``[n, k]``): its only column, column ``target``, or per row."""
    if out.ndim == 1:
        return out
    if target is None and out.shape[1] == 1:  # an [n, 1] output is one output: accepted everywhere
        return out[:, 0]
    if target is None:
        raise ValueError(f"model {name!r} has {out.shape[1]} outputs: a target is required")
    if is_per_row(target):
        t = row_targets(target, out.shape[0])
        return out[np.arange(out.shape[0]), t]
    return out[:, target]


def resolve_target(model: "SyntheticModel", X: np.ndarray) -> Target:
    """The target of rows ``X`` that ``model.explained_output`` declares (``"predicted"``: each row's argmax)."""
    declared = getattr(model, "explained_output", None)
    if declared is None:
        if model.n_outputs > 1:
            raise ValueError(f"model {model.name!r} has {model.n_outputs} outputs: declare explained_output "
                             f"(a column, or {PREDICTED!r} for each row's predicted class)")
        return None
    if isinstance(declared, str):
        if declared != PREDICTED:
            raise ValueError(f"model {model.name!r}: explained_output={declared!r}; give a column or {PREDICTED!r}")
        out = np.asarray(model.predict(X), dtype=np.float64)
        if out.ndim != 2 or out.shape[1] < 2:
            raise ValueError(f"model {model.name!r}: explained_output={PREDICTED!r} needs several outputs")
        return np.argmax(out, axis=1).astype(np.int64)
    if not 0 <= int(declared) < max(model.n_outputs, 1):
        raise ValueError(f"model {model.name!r}: explained_output={declared!r} is not one of its "
                         f"{model.n_outputs} outputs")
    return int(declared)
