"""What to use on your model: one recommendation per use (tabular d ≤ 16, tabular at scale, images, text, trees,
interactions, ...), read off the track rankings (:mod:`xaicheck.benchmarks.ranking`) without re-ranking anything.

Rule, per formed track with ranked members ``R`` (rank range ``[lo_i, hi_i]`` from the pairwise tests of
:mod:`xaicheck.benchmarks.ranking`):

- **scales** = not an exact enumeration: the explainer's recorded ``enumerates_up_to`` (``describe()``; from
  ``Explainer.enumeration_limit``) is empty and its family is not ``oracle`` (an oracle enumerates ``2^d`` coalitions and stops at ``d = 16``). Exact enumerations at rank 1 are
  shown as the *reference*, never as the pick (except on the ``d ≤ 16`` track, where exact is a usable answer).
- **uninformative** = an interval spanning every rank (``lo = 1`` and ``hi = |R| > 1``): the data cannot place
  the method, so it is never a pick (counted, not listed).
- **picks** = the informative scaling members that no other informative scaling member is resolved above
  (``TrackResult.beaten_by``: the 95% pairwise test that declares the ranks), ordered by
  ``(declared rank, lo + hi, -overall, name)``; at most ``MAX_PICKS`` shown. (Overlapping ranges are not enough:
  two members resolved apart can have touching ranges, e.g. ``1–3`` and ``3–4``.)
- a track with fewer than ``MIN_TRACK_CASES`` cases declares no rank: the highest-scoring scaling member is named as
  "highest score, not a ranking".
- controls (family ``control``) are summarised as a count plus any that is not below every ranked method.

A use whose track was not formed gets one sentence saying why (:func:`unformed`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .ranking import MIN_TRACK_CASES, TRACKS, CaseInfo, TrackResult

__all__ = ["Pick", "Use", "USE_LABELS", "MAX_PICKS", "enumerates", "recommend", "unformed", "use_text", "terminal_line",
           "with_feature_limits"]

#: At most this many picks are named per use (the rest are counted).
MAX_PICKS = 3

#: The user's question each track answers (order = display order); other tracks keep their own title.
USE_LABELS: dict[str, str] = {
    "tabular_exact": "Tabular model, up to 16 features",
    "tabular_baseline": "Tabular model at scale (more than 16 features), explained against a baseline",
    "tabular_background": "Tabular model at scale (more than 16 features), explained against background data",
    "image": "Image model",
    "text": "Text model (tokens)",
    "trees": "Tree ensemble",
    "generating_tabular": "Trained network: which features drive the learned function",
    "generating_trees": "Trained tree ensemble: which features drive the learned function",
    "interactions": "Feature interactions (pairs)",
}

#: What each fixed track needs, for the sentence saying why it was not formed.
_KIND: dict[str, str] = {
    "tabular_exact": "tabular case with d ≤ 16 (not a tree)", "tabular_baseline": "tabular case (not a tree)",
    "tabular_background": "tabular case (not a tree)", "image": "image case", "text": "token (text) case",
    "trees": "tree-model case", "generating_tabular": "trained-network case with a generating-function truth",
    "generating_trees": "trained-tree case with a generating-function truth",
    "interactions": "tabular case with an interaction truth",
}


@dataclass(frozen=True)
class Pick:
    """One named method: its rank interval (``""`` when the track declares none), what it fails, its cost."""

    name: str
    interval: str
    fails: str
    seconds_per_cell: float
    overall: float


@dataclass
class Use:
    """The answer for one use (one formed track)."""

    track: str
    label: str
    cases: int
    resolved: bool
    picks: list[Pick] = field(default_factory=list)
    more: int = 0  # further picks not named
    reference: list[Pick] = field(default_factory=list)  # exact enumerations at rank 1 (d ≤ 16 only)
    exact_is_usable: bool = False  # the d ≤ 16 track: the exact reference is itself a usable answer
    uninformative: int = 0  # members whose interval spans every rank
    controls: int = 0
    controls_above: list[str] = field(default_factory=list)  # controls not below every ranked method
    max_d: int | None = None  # largest d among the track's cases (when the case facts are known)
    below_controls: list[str] = field(default_factory=list)  # members no higher than the track's best control


def enumerates(meta: Mapping[str, Any]) -> bool:
    """Whether an explainer (its ``describe()`` record) is an exact enumeration that stops at some ``d``."""
    limit = meta.get("enumerates_up_to", "")
    return meta.get("family") == "oracle" or (limit not in ("", None) and not (isinstance(limit, float)
                                                                               and math.isnan(limit)))


def _int(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


def _pick(row: Mapping[str, Any], seconds: Mapping[str, float], resolved: bool) -> Pick:
    lo, hi = _int(row.get("rank_lo")), _int(row.get("rank_hi"))
    interval = f"{lo}–{hi}" if resolved and lo is not None and hi is not None else ""
    return Pick(str(row["explainer"]), interval, str(row.get("fails", "") or "") or "nothing",
                float(seconds.get(row["explainer"], math.nan)), float(row.get("overall", math.nan)))


def recommend(scores: Any, meta: Mapping[str, Mapping[str, Any]],
              case_info: Mapping[str, CaseInfo] | None = None) -> list[Use]:
    """One :class:`Use` per formed track that has a ranked member (``USE_LABELS`` order, then the others)."""
    seconds = {r["explainer"]: float(r["seconds_per_cell"]) for r in scores.explainers.to_dict("records")}
    order = {name: i for i, name in enumerate(USE_LABELS)}
    out = []
    for res in sorted(scores.tracks, key=lambda t: (order.get(t.track.name, len(order)), t.track.name)):
        use = _use(res, meta, seconds, case_info)
        if use is not None:
            out.append(use)
    return out


def _use(res: TrackResult, meta: Mapping[str, Mapping[str, Any]], seconds: Mapping[str, float],
         case_info: Mapping[str, CaseInfo] | None) -> Use | None:
    ranked = res.ranked.to_dict("records")
    if not ranked:
        return None
    use = Use(res.track.name, USE_LABELS.get(res.track.name, res.track.title), len(res.cases), res.resolved,
              exact_is_usable=res.track.name == "tabular_exact")
    if case_info:
        ds = [case_info[c].d for c in res.cases if c in case_info]
        use.max_d = max(ds) if ds else None
    controls = res.controls.to_dict("records")
    use.controls = len(controls)
    use.controls_above = [str(r["explainer"]) for r in controls if not r.get("below_all_ranked", True)]
    use.below_controls = [str(r["explainer"]) for r in res.table.to_dict("records") if r["kind"] == "below_controls"]
    scaling = [r for r in ranked if not enumerates(meta.get(r["explainer"], {}))]
    if not res.resolved:
        if scaling:
            best = sorted(scaling, key=lambda r: (-float(r["overall"]), str(r["explainer"])))[0]
            use.picks = [_pick(best, seconds, False)]
        return use
    n = len(ranked)
    use.reference = [_pick(r, seconds, True) for r in ranked
                     if enumerates(meta.get(r["explainer"], {})) and _int(r.get("rank")) == 1]

    def spans_all(r: Mapping[str, Any]) -> bool:
        return n > 1 and _int(r.get("rank_lo")) == 1 and (_int(r.get("rank_hi")) or 0) >= n

    informative = [r for r in scaling if not spans_all(r)]
    use.uninformative = len(scaling) - len(informative)
    if informative:
        # the top among those that scale: every informative method no other informative method is resolved above
        names = {str(r["explainer"]) for r in informative}
        top = sorted((r for r in informative if not (res.beaten_by.get(str(r["explainer"]), frozenset()) & names)),
                     key=lambda r: (_int(r["rank"]) or n, (_int(r["rank_lo"]) or n) + (_int(r["rank_hi"]) or n),
                                    -float(r["overall"]), str(r["explainer"])))
        use.picks = [_pick(r, seconds, True) for r in top[:MAX_PICKS]]
        use.more = max(0, len(top) - MAX_PICKS)
    return use


def unformed(scores: Any, case_info: Mapping[str, CaseInfo] | None) -> list[tuple[str, str]]:
    """``(use label, why)`` for each fixed track this run did not form, one sentence each (none when the case
    facts are unknown)."""
    if case_info is None:
        return []
    formed = {t.track.name for t in scores.tracks}
    with_ranked = {t.track.name for t in scores.tracks if len(t.ranked)}
    out = []
    for track in TRACKS:
        if track.name in formed and track.name in with_ranked:
            continue
        label = USE_LABELS.get(track.name, track.title)
        kind = _KIND.get(track.name, "case of this kind")
        n = sum(1 for c in case_info.values() if track.cases(c))
        if n == 0:
            why = f"the run has no {kind}"
        elif track.truth:
            why = (f"no case of the run is scored against this truth by an admitted explainer that answers at least "
                   f"half of them (it needs a {kind})")
        else:
            why = (f"no admitted explainer (not a control) answers at least half of its {n} case(s) with a scored "
                   "check")
        out.append((label, why))
    return out


def _cost(p: Pick) -> str:
    """Seconds per cell on the machine that ran it (empty when the run kept no timings)."""
    ok = math.isfinite(p.seconds_per_cell) and p.seconds_per_cell > 0
    return f", {p.seconds_per_cell:.3f} s/cell" if ok else ""


def use_text(use: Use, esc: Callable[[str], str] = str, bold: Callable[[str], str] = str) -> tuple[str, list[str]]:
    """A use as a headline and its detail lines (``esc`` escapes names and messages, ``bold`` marks names)."""
    head = f"{bold(esc(use.label))} ({use.cases} cases"
    head += f", up to {use.max_d} features)" if use.max_d is not None else ")"
    lines = []
    if not use.resolved:
        if use.picks:
            p = use.picks[0]
            lines.append(f"too few cases (< {MIN_TRACK_CASES}) to rank, so no pick: highest score among methods that "
                         f"scale, not a ranking: {bold(esc(p.name))} (overall {p.overall:.3f}{_cost(p)}); fails: "
                         f"{esc(p.fails)}")
        else:
            lines.append(f"too few cases (< {MIN_TRACK_CASES}) to rank, and every ranked method is an exact "
                         "enumeration")
    else:
        if use.exact_is_usable and use.reference:
            lines.append("exact (enumerates 2^d coalitions, usable up to d = 16): " + "; ".join(
                f"{bold(esc(p.name))} (rank {p.interval}{_cost(p)}); fails: {esc(p.fails)}" for p in use.reference))
        for i, p in enumerate(use.picks):
            what = ("use" if not use.exact_is_usable else "scales beyond 16 features") if i == 0 else "also at the top"
            lines.append(f"{what}: {bold(esc(p.name))} (rank {p.interval}{_cost(p)}); fails: {esc(p.fails)}")
        if use.more:
            lines.append(f"{use.more} more method(s) that scale share the top interval")
        if not use.picks:
            lines.append("no method that scales has an informative rank interval here")
        if use.reference and not use.exact_is_usable:
            lines.append("exact reference, not a pick (enumerates 2^d coalitions, stops at d = 16): "
                         + ", ".join(f"{esc(p.name)} (rank {p.interval})" for p in use.reference))
        if use.max_d is not None and use.max_d <= 16 and "more than 16 features" in use.label:
            lines.append(f"measured on cases up to d = {use.max_d}: no larger case in this run; the pick is the best "
                         "method that does not enumerate")
        if use.uninformative:
            lines.append(f"{use.uninformative} method(s) whose rank interval spans every rank: not placed, not listed")
    if use.controls:
        lines.append(f"controls: {use.controls} excluded, "
                     + (bold(f"NOT below every ranked method: {esc(', '.join(use.controls_above))}")
                        if use.controls_above
                        else "all below every ranked method"))
    if use.below_controls:
        lines.append(bold("do not use here") + " (no higher than a degenerate control, so not ranked): "
                     + ", ".join(esc(n) for n in use.below_controls))
    return head, lines


def terminal_line(use: Use) -> str:
    """One line per use for the terminal summary: the pick(s) with their rank intervals."""
    if not use.resolved:
        best = use.picks[0].name if use.picks else "-"
        return f"{use.label}: too few cases to rank (highest score, not a pick: {best})"
    names = [f"{p.name} [{p.interval}]" for p in use.picks] + ([f"+{use.more}"] if use.more else [])
    exact = [f"{p.name} [{p.interval}]" for p in use.reference] if use.exact_is_usable else []
    text = ", ".join(exact) + ("; scales: " if exact and names else "") + ", ".join(names)
    return f"{use.label}: {text or 'no informative pick'}"


def with_feature_limits(recorded: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The run's explainer records, each with ``enumerates_up_to``: as recorded, else (a run recorded before the
    field existed) the installed explainer's of the same name, else left out (then only family ``oracle`` counts as
    an enumeration)."""
    out = {k: dict(v) for k, v in recorded.items()}
    missing = [k for k, v in out.items() if "enumerates_up_to" not in v]
    if missing:
        from xaicheck.explainers.base import all_explainers

        installed = {e.name: e for e in all_explainers()}
        for k in missing:
            if k in installed:
                limit = installed[k].enumeration_limit()
                out[k]["enumerates_up_to"] = "" if limit is None else int(limit)
    return out
