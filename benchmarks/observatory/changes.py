"""Cells whose status or score changed between consecutive releases.

Releases are ordered as given; a pair is two consecutive releases **that produced scores** (a release that did not
install or import sits between them and is named in the pair's ``skipped`` field, so a change is never attributed to a
release that did not run). Cells are joined on (explainer, check, case, seed) as in ``xaicheck diff``; a change counts
when the status differs or ``|after - before| > tol``. ``size`` is ``|after - before|`` for two scores, and ``status``
when only the status moved (a score appeared or vanished).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

__all__ = ["CHANGE_COLUMNS", "DEFAULT_TOL", "release_pairs", "consecutive_changes"]

DEFAULT_TOL = 1e-9
CHANGE_COLUMNS = ("before_release", "after_release", "skipped", "explainer", "check", "case", "seed", "kind",
                  "status_before", "score_before", "status_after", "score_after", "delta", "size", "message_before",
                  "message_after")

Key = tuple[str, str, str, int]


def release_pairs(releases: Sequence[str], ran: Mapping[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Consecutive pairs ``(before, after, skipped)`` over the releases in ``ran``, in the order of ``releases``;
    ``skipped`` are the releases between them that did not run."""
    pairs, last, gap = [], None, []
    for rel in releases:
        if rel not in ran:
            if last is not None:
                gap.append(rel)
            continue
        if last is not None:
            pairs.append((last, rel, tuple(gap)))
        last, gap = rel, []
    return pairs


def _index(rows: Sequence[Mapping[str, Any]]) -> dict[Key, Mapping[str, Any]]:
    return {(r["explainer"], r["check"], r["case"], int(r["seed"])): r for r in rows}


def _fmt(score: float | None) -> str:
    return "" if score is None else f"{score:.6g}"


def consecutive_changes(releases: Sequence[str], scores: Mapping[str, Sequence[Mapping[str, Any]]],
                        tol: float = DEFAULT_TOL) -> list[dict[str, Any]]:
    """One row per changed cell per consecutive pair (columns :data:`CHANGE_COLUMNS`), attributed to the later
    release of the pair. ``scores`` maps a release that ran to its rows (``records.read_scores`` dicts)."""
    out: list[dict[str, Any]] = []
    for before, after, skipped in release_pairs(releases, scores):
        a, b = _index(scores[before]), _index(scores[after])
        for key in sorted(a.keys() | b.keys()):
            x, y = a.get(key), b.get(key)
            if x is not None and y is not None:
                sx, sy = x.get("score"), y.get("score")
                same_score = (sx is None and sy is None) or (
                    sx is not None and sy is not None and abs(float(sy) - float(sx)) <= tol)
                if x["status"] == y["status"] and same_score:
                    continue
                kind = "changed"
            else:
                kind = "added" if x is None else "removed"
            sx = None if x is None else x.get("score")
            sy = None if y is None else y.get("score")
            both = sx is not None and sy is not None
            delta = float(sy) - float(sx) if both else None
            out.append({
                "before_release": before, "after_release": after, "skipped": " ".join(skipped),
                "explainer": key[0], "check": key[1], "case": key[2], "seed": key[3], "kind": kind,
                "status_before": "" if x is None else x["status"], "score_before": _fmt(sx),
                "status_after": "" if y is None else y["status"], "score_after": _fmt(sy),
                "delta": "" if delta is None else f"{delta:+.6g}",
                "size": f"{abs(delta):.6g}" if delta is not None else "status",
                "message_before": "" if x is None else str(x.get("message", "")),
                "message_after": "" if y is None else str(y.get("message", "")),
            })
    return out
