"""The case seed: which draw of the model zoo a run asks its questions about.

Explainer seeds vary an explainer's own randomness; the **case seed** varies the cases themselves (the weights of a
seeded model family, the rows explained, the background), so an interval over seeds covers case variation too
(issue 11, item 5). The suite sets it once while its cases are built (``axioms.base.cases_of(check, seed)``) and the
case builders read it; seed 0 reproduces the historical cases byte for byte (every builder adds the case seed to its
own fixed offset, ``default_rng(offset + case_seed())``).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

import numpy as np

__all__ = ["case_seed", "using_case_seed", "case_rng"]

_CASE_SEED: ContextVar[int] = ContextVar("xaicheck_case_seed", default=0)


def case_seed() -> int:
    """The case seed in force (0 outside ``using_case_seed``)."""
    return _CASE_SEED.get()


@contextmanager
def using_case_seed(seed: int) -> Iterator[int]:
    """Build cases under case seed ``seed`` (restored on exit)."""
    if int(seed) != seed or seed < 0:
        raise ValueError(f"Expected a non-negative integer case seed but got seed={seed!r}")
    token = _CASE_SEED.set(int(seed))
    try:
        yield int(seed)
    finally:
        _CASE_SEED.reset(token)


def case_rng(offset: int) -> np.random.Generator:
    """``default_rng(offset + case_seed())``: a builder's own stream, shifted by the case seed."""
    return np.random.default_rng(int(offset) + case_seed())
