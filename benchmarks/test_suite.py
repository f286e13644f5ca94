"""What ``pytest benchmarks`` collects: one item per applicable cell of the suite chosen with ``--xaicheck-suite``.

The ``xaicheck`` pytest plugin parametrizes ``xaicheck_cell`` (ids ``<explainer>-<check>-<case>[-seed<N>]``, marks
per category, ``slow``, strict ``xfail`` for known violations) and writes the results at session end:

    pytest benchmarks --xaicheck-suite quick --xaicheck-out results -k "sensitivity and not slow"
"""

from __future__ import annotations

from typing import Any


def test_cell(xaicheck_cell: Any, xaicheck_session: Any) -> None:
    """Run one cell; fails with explainer, check, case, measured value, threshold and counterexample line."""
    __tracebackhide__ = True
    xaicheck_session.check(xaicheck_cell)
