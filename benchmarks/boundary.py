"""The decision-boundary view (issue 12): each check's score near and far from a classifier's decision boundary.

Checks that judge classification cases write ``evidence["near_boundary"]`` and ``evidence["far_from_boundary"]``
(``synthetic_models.classification.boundary_split``: a row is *near* when the certainty ratio, second-highest over
highest class probability, is at least 0.5). This module averages those per (explainer, check) over cases and seeds
and renders the table the report shows: a method that is faithful only far from the boundary, where the model is
saturated and every order looks alike, is told apart from one that is faithful where decisions are made.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Iterable

import numpy as np

from .records import CellRecord

__all__ = ["boundary_scores", "boundary_html"]

_KEYS = (("near_boundary", "near"), ("far_from_boundary", "far"))


def boundary_scores(records: Iterable[CellRecord]) -> dict[tuple[str, str], dict[str, float]]:
    """``{(explainer, check): {"near": mean, "far": mean, "cells": k}}`` over ok cells whose evidence has the split."""
    acc: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: {"near": [], "far": []})
    for r in records:
        if r.status != "ok" or not isinstance(r.evidence, dict):
            continue
        for key, side in _KEYS:
            part = r.evidence.get(key)
            if isinstance(part, dict) and part.get("score") is not None and np.isfinite(float(part["score"])):
                acc[(r.explainer, r.check)][side].append(float(part["score"]))
    out: dict[tuple[str, str], dict[str, float]] = {}
    for k, sides in acc.items():
        if sides["near"] or sides["far"]:
            out[k] = {"near": float(np.mean(sides["near"])) if sides["near"] else float("nan"),
                      "far": float(np.mean(sides["far"])) if sides["far"] else float("nan"),
                      "cells": float(max(len(sides["near"]), len(sides["far"])))}
    return out


def _cell(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{v:.2f}"


def boundary_html(records: Iterable[CellRecord]) -> str:
    """One table, explainers × checks, each cell ``near / far``; sorted by the largest near-far gap first."""
    table = boundary_scores(records)
    if not table:
        return "<p>No check in this run reports a decision-boundary split.</p>"
    checks = sorted({c for _, c in table})

    def largest_gap(e: str) -> float:
        gaps = [abs(table[(e, c)]["far"] - table[(e, c)]["near"]) for c in checks if (e, c) in table]
        return max((g for g in gaps if np.isfinite(g)), default=0.0)

    explainers = sorted({e for e, _ in table}, key=lambda e: (-largest_gap(e), e))
    head = "".join(f"<th>{escape(c)}<br>near / far</th>" for c in checks)
    body = []
    for e in explainers:
        cells = "".join(f"<td>{_cell(table[(e, c)]['near'])} / {_cell(table[(e, c)]['far'])}</td>" if (e, c) in table
                        else "<td></td>" for c in checks)
        body.append(f"<tr><td>{escape(e)}</td>{cells}</tr>")
    return (f'<table class="board"><thead><tr><th>explainer</th>{head}</tr></thead><tbody>{"".join(body)}'
            "</tbody></table>")
