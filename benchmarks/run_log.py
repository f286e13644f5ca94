"""Library output of a run goes to ``OUT/run.log``, not between the progress lines.

Explainer libraries print while cells run (shap: ``unrecognized nn.Module: PairwiseProducts`` once per cell, numba
and torch deprecation notes). Cells run in forked processes that inherit file descriptor 2, so
:func:`library_output_to` points descriptor 2 at the log for the duration of the run and hands back a ``console``
stream on a duplicate of the original descriptor for the run's own lines (progress, notes). On exit descriptor 2 is
restored. ``run.log`` is machine-dependent (``safe_io.MACHINE_DEPENDENT``): never part of the compared set.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

__all__ = ["LOG_NAME", "library_output_to", "count_lines"]

LOG_NAME = "run.log"


@contextmanager
def library_output_to(path: Path | str) -> Iterator[IO[str]]:
    """Descriptor 2 (and so ``sys.stderr`` and every forked cell's stderr) appends to ``path``; yields the console."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = os.dup(2)
    console = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    log = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log, 2)
    finally:
        os.close(log)
    try:
        yield console
    finally:
        try:
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - a replaced stream
            pass
        console.flush()
        os.dup2(saved, 2)
        os.close(saved)
        console.close()


def count_lines(path: Path | str) -> int:
    """Lines in the log (0 when it does not exist)."""
    try:
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 0
