"""What to use on your model (``benchmarks/recommend.py``): picks are methods that scale, exact enumerations are the
reference, an interval spanning every rank is never a pick, controls are a count (issue 27)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from xaicheck.benchmarks.ranking import TRACKS, CaseInfo, TrackResult
from xaicheck.benchmarks.recommend import enumerates, recommend, terminal_line, unformed, use_text

TRACK = {t.name: t for t in TRACKS}
META = {"oracle": {"family": "oracle", "enumerates_up_to": 16}, "shap_exact": {"family": "shapley", "enumerates_up_to": 16},
        "fast": {"family": "shapley", "enumerates_up_to": ""}, "slow": {"family": "path", "enumerates_up_to": ""},
        "wide": {"family": "gradient", "enumerates_up_to": ""}, "low": {"family": "gradient", "enumerates_up_to": ""},
        "zero": {"family": "control"}, "random": {"family": "control"}}


def _row(name, rank, lo, hi, overall, kind="ranked", fails="", below=True):
    return {"explainer": name, "kind": kind, "rank": rank, "rank_lo": lo, "rank_hi": hi, "overall": overall,
            "fails": fails, "below_all_ranked": below}


def _scores(track="tabular_baseline", resolved=True, rows=None):
    rows_default = rows is None
    rows = rows if rows is not None else [
        _row("oracle", 1, 1, 1, 0.99), _row("shap_exact", 1, 1, 2, 0.98),
        _row("fast", 2, 2, 4, 0.90, fails="infidelity (1/5 cells)"), _row("slow", 2, 3, 4, 0.91),
        _row("wide", 2, 1, 6, 0.95), _row("low", 5, 5, 6, 0.50),
        _row("zero", None, None, None, 0.0, kind="control"), _row("random", None, None, None, 0.2, kind="control")]
    if not resolved:
        rows = [{**r, "rank": None, "rank_lo": None, "rank_hi": None} for r in rows]
    # the pairwise resolutions the ranks come from (rank = 1 + the members resolved above)
    beaten_by = {"fast": {"oracle"}, "slow": {"oracle", "shap_exact"},
                 "low": {"oracle", "shap_exact", "fast", "slow"}} if resolved and rows_default else {}
    res = TrackResult(TRACK[track], [f"c/{i}" for i in range(10 if resolved else 2)], pd.DataFrame(rows),
                      resolved=resolved, beaten_by={k: frozenset(v) for k, v in beaten_by.items()})
    explainers = pd.DataFrame([{"explainer": n, "seconds_per_cell": 0.01, "group": "broad"} for n in META])
    return SimpleNamespace(tracks=[res], explainers=explainers)


def test_enumerations_are_the_reference_and_never_the_pick() -> None:
    assert enumerates(META["oracle"]) and enumerates(META["shap_exact"]) and not enumerates(META["fast"])
    (use,) = recommend(_scores(), META)
    assert [p.name for p in use.reference] == ["oracle", "shap_exact"]
    # wide (1-6) spans every rank of 6: not placed; among fast, slow, low: fast and slow are resolved above low,
    # nothing that scales is resolved above them; both at declared rank 2: the narrower-placed range first (6 < 7)
    assert [p.name for p in use.picks] == ["fast", "slow"] and use.uninformative == 1 and use.more == 0
    assert use.controls == 2 and use.controls_above == []
    head, lines = use_text(use)
    assert head.startswith("Tabular model at scale (more than 16 features), explained against a baseline (10 cases")
    assert lines[0] == "use: fast (rank 2–4, 0.010 s/cell); fails: infidelity (1/5 cells)"
    assert lines[1] == "also at the top: slow (rank 3–4, 0.010 s/cell); fails: nothing"
    assert any(line.startswith("exact reference, not a pick") and "oracle (rank 1–1)" in line for line in lines)
    assert "controls: 2 excluded, all below every ranked method" in lines
    assert not any("wide" in line or "zero" in line for line in lines)  # neither the spanning one nor a control list
    assert terminal_line(use).endswith("fast [2–4], slow [3–4]")


def test_the_small_tabular_use_offers_exact_and_a_method_that_scales() -> None:
    (use,) = recommend(_scores("tabular_exact"), META)
    _, lines = use_text(use)
    assert lines[0].startswith("exact (enumerates 2^d coalitions, usable up to d = 16): oracle (rank 1–1")
    assert lines[1].startswith("scales beyond 16 features: fast (rank 2–4")


def test_a_control_above_a_ranked_method_is_named() -> None:
    s = _scores()
    t = s.tracks[0]
    t.table.loc[t.table["explainer"] == "zero", "below_all_ranked"] = False
    (use,) = recommend(s, META)
    assert use.controls_above == ["zero"]
    assert "controls: 2 excluded, NOT below every ranked method: zero" in use_text(use)[1]


def test_too_few_cases_names_no_pick_and_no_rank() -> None:
    (use,) = recommend(_scores("image", resolved=False), META)
    head, lines = use_text(use)
    assert not use.resolved and [p.name for p in use.picks] == ["wide"]  # highest overall among those that scale
    assert lines[0].startswith("too few cases (< 3) to rank, so no pick: highest score among methods that scale, "
                               "not a ranking: wide (overall 0.950")
    assert not any("rank " in line and "–" in line for line in lines)


def test_unformed_uses_say_why_in_one_sentence() -> None:
    s = _scores()
    info = {"c/0": CaseInfo("continuous", frozenset({"callable"}), 4)}
    why = dict(unformed(s, info))
    assert why["Image model"] == "the run has no image case"
    assert why["Tabular model, up to 16 features"].startswith("no admitted explainer (not a control) answers at "
                                                              "least half of its 1 case(s)")
    assert "Tabular model at scale (more than 16 features), explained against a baseline" not in why  # formed
    assert unformed(s, None) == []  # no case facts: no guess


def test_markdown_summary_has_no_control_list_and_no_spanning_pick() -> None:
    s = _scores()
    s.categories_present, s.min_coverage, s.roles, s.axes, s.non_discriminating = [], 0.5, {}, {}, []
    s.explainers = s.explainers.assign(group=["broad"] * 6 + ["control"] * 2)
    for col in ("library", "tags", "tracks"):
        s.explainers[col] = ""
    summary = _summary(s)
    assert "  - use: **fast** (rank 2–4, 0.010 s/cell); fails: infidelity (1/5 cells)" in summary
    assert "wide" not in summary and "zero" not in summary


def _summary(s) -> str:
    from xaicheck.benchmarks.leaderboard import _summary_markdown

    return "\n".join(_summary_markdown(s, META, None))


def test_the_recorded_enumeration_limit_marks_exact_enumerations_only() -> None:
    from xaicheck.explainers.base import get_explainer

    rec = {n: get_explainer(n).describe() for n in ("exact_baseline_shapley", "shap_exact", "integrated_gradients",
                                                     "shapiq_shapiq_b512")}
    assert rec["exact_baseline_shapley"]["enumerates_up_to"] == 16 and rec["shap_exact"]["enumerates_up_to"] == 16
    assert rec["integrated_gradients"]["enumerates_up_to"] == ""
    assert rec["shapiq_shapiq_b512"]["enumerates_up_to"] == ""  # a fixed budget per row: it scales
    assert [n for n, m in rec.items() if enumerates(m)] == ["exact_baseline_shapley", "shap_exact"]
