"""Rank explainers within *tracks* (uses), on the same cells, with bootstrap rank intervals and declared ties.

A **track** is a use: a set of cases (by the case's model: domain, forms, number of features) and the explainers
that declare they fit it (by their tags). Within a track:

- **members** are the admitted explainers that are applicable to at least ``TRACK_MIN_COVERAGE`` of the track's
  cases (others are listed as excluded with the reason); explainers of family ``control`` are scored on the same
  cells but shown in the degenerate panel, never ranked.
- **the same cells for everyone**: every member is scored on every case of the track. A case a member cannot
  answer (not applicable, error, timeout) counts as the ``random`` control's score on that case: calibrated 0,
  "no better than random attributions" (so declaring a hard case not applicable never raises a mean).
- **overall** = mean over categories of the mean over properties of the mean over ``role == "score"`` checks of the
  mean over the check's cases (a case = mean over seeds). A *property* (``check_groups``) is a set of checks that
  measure one thing (deletion, insertion and PGI/PGU: the output along the attribution's order, r = 0.84-0.97 over
  the committed cells): they share one weight; every other check is a property of its own. ``gate`` checks are shown as pass/fail columns; ``diagnostic`` checks are not used;
  a score check that declares a ``truth`` axis (e.g. ``on_data`` vs ``interventional``) gets its own column and is
  never averaged into the overall or with another axis. A track with a ``truth`` ranks on that axis's checks alone
  (its own exam: e.g. ``generating_relevance``, the generating function's relevant set of a trained model).
- **calibrated** = the same hierarchy over ``clip((s_check - r_check) / (1 - r_check), -1, 1)`` with ``r`` the
  random control's check score on the same cells (a check random saturates, ``r = 1``, is left out).
- **declared ranks** (issue 23: they must not move with the resampling seed, nor read as lying outside their own
  range): every pair of members is tested on the difference of their overalls with its standard error under
  resampling the cases, by the infinitesimal jackknife (the ideal bootstrap's normal limit, :func:`pair_tests`; no
  seed enters it). ``i`` is resolved above ``j`` when the difference is at least 1.96 standard errors (two-sided
  95%) and at least ``RESOLUTION`` = 0.001 (a round-off-sized systematic difference with zero standard error is a
  tie). **rank** = 1 + the number of members resolved above; **rank range** ``[rank_lo, rank_hi]`` = ``[rank,
  E - the number resolved below]``: the ranks the explainer can take without contradicting a resolved pair. The
  declared rank is the range's best end, so members not resolved apart share a rank, and a rank is never shown
  outside its range. Pairwise resolution is not transitive in the overall: a member can be declared below one with
  a lower overall whose differences to the leaders are less noisy. Measured on the committed default results: with
  the old rule (1000 bootstrap replicates, rank = 1 + intervals wholly above) 30 of 186 declared ranks moved across
  bootstrap seeds 0-4 and 94 lay outside their own interval; a win-share rule on 10 000 replicates still moved 8
  (pairs near the threshold); this rule moves none (``tests/test_ranking_stability.py``).
- **bootstrap**: ``N_BOOT`` replicates resample the track's cases with replacement (seeded ``BOOT_SEED``: same
  input, same bytes) for the overall's 95% interval and ``p_rank1`` = share of replicates in which the explainer is
  first (ties split); these estimates are shown, never used to declare a rank.
- **not above the controls**: a member whose overall does not exceed the highest overall of the track's controls
  (the degenerate panel, scored on the same cells) is not ranked: it is listed with ``kind == "below_controls"``,
  its overall and the control it does not beat (``not_above``). A rank below a control says only that the method is
  no better than a trick here, and ranking it would put a control above a ranked method (issue 24). Decided on the
  point overall, so no resampling seed enters it. A track with fewer than ``MIN_TRACK_CASES`` scored cases
  has no resolution: no rank is declared.
- **tracks for every truth axis**: a score check whose ``truth`` axis no fixed track in ``TRACKS`` ranks (a user's
  own reference truth, e.g. ``user:closed_form``) gets its own track, ``against_<axis>`` ("Against <axis>"), over
  every case of that axis and the local explainers (``axis_track``): one per axis present in the run, never averaged
  with another axis or with the checks of no axis.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from xaicheck.axioms.base import CATEGORIES

from .check_groups import property_of

__all__ = ["CaseInfo", "Track", "TrackResult", "TRACKS", "TRACK_MIN_COVERAGE", "MIN_TRACK_CASES", "N_BOOT",
           "BOOT_SEED", "rank_tracks", "pair_tests", "declared_ranks", "resolved_above", "tags_of", "axis_track", "tracks_for"]

TRACK_MIN_COVERAGE = 0.5
MIN_TRACK_CASES = 3
N_BOOT = 4000
BOOT_SEED = 0
LEVEL = 0.95
#: The smallest difference of overalls that can resolve a pair: below it two members share a rank whatever the
#: standard error (a systematic difference of round-off size -- shap_tree 0.99999... vs the exact oracles' 1.0 on
#: every tree case, standard error 0 -- is not a difference a user can act on).
RESOLUTION = 1e-3
TABULAR = frozenset({"binary", "continuous"})


@dataclass(frozen=True)
class CaseInfo:
    """What a track needs to know of a case's model."""

    domain: str
    forms: frozenset[str]
    d: int


def tags_of(meta: Mapping[str, Any]) -> set[str]:
    """An explainer's tags (``requires:torch``, ``local``, ``baseline``, ...) from its ``describe()`` record."""
    return {t.strip() for t in str(meta.get("tags", "")).split(",") if t.strip()}


def _local(tags: set[str]) -> bool:
    return "global" not in tags


def _reference_free(tags: set[str]) -> bool:
    return "baseline" not in tags and "background" not in tags


def _general(tags: set[str]) -> bool:
    return bool(tags & {"requires:torch", "requires:callable"})


@dataclass(frozen=True)
class Track:
    name: str
    title: str
    cases: Callable[[CaseInfo], bool]
    admits: Callable[[set[str]], bool]
    #: The truth axis the track ranks on: "" = the checks without an axis (exact attributions and the axioms); a
    #: named axis (``Check.truth``) = only that axis's checks, a separate exam never averaged with the others.
    truth: str = ""
    #: The control the track calibrates against and scores unanswered cases with (``""``: the run's ``random``);
    #: the interaction track's is ``interaction_random`` (the per-feature ``random`` answers no interaction case).
    random_control: str = ""


TRACKS: tuple[Track, ...] = (
    Track("tabular_baseline", "Tabular data, with a baseline",
          lambda c: c.domain in TABULAR and "tree" not in c.forms,
          lambda t: _local(t) and _general(t) and ("baseline" in t or _reference_free(t))),
    Track("tabular_background", "Tabular data, with background data",
          lambda c: c.domain in TABULAR and "tree" not in c.forms,
          lambda t: _local(t) and _general(t) and ("background" in t or _reference_free(t))),
    Track("tabular_exact", "Tabular data, d ≤ 16 (exact Shapley feasible)",
          lambda c: c.domain in TABULAR and "tree" not in c.forms and c.d <= 16,
          lambda t: _local(t) and _general(t)),
    Track("image", "Images", lambda c: c.domain == "image", _local),
    Track("text", "Text (tokens)", lambda c: c.domain == "tokens", _local),
    Track("trees", "Tree models", lambda c: "tree" in c.forms, _local),
    # the generating function's truth (``generating_relevance``): its own exam, never averaged with the above
    Track("generating_tabular", "Trained networks, against the generating function's relevant set",
          lambda c: c.domain in TABULAR and "tree" not in c.forms, lambda t: _local(t) and _general(t),
          truth="generating"),
    Track("generating_trees", "Trained trees, against the generating function's relevant set",
          lambda c: "tree" in c.forms, _local, truth="generating"),
    # Shapley interactions against the exact interaction index (``axioms.interaction_*``): interaction explainers only
    Track("interactions", "Shapley interactions, against the exact interaction index",
          lambda c: c.domain in TABULAR, lambda t: _local(t) and "interaction" in t, truth="interaction",
          random_control="interaction_random"),
)


def axis_track(axis: str) -> Track:
    """The track of a truth axis no fixed track ranks: every case of that axis, every local explainer."""
    return Track("against_" + re.sub(r"[^A-Za-z0-9_]+", "_", axis).strip("_"), f"Against {axis}",
                 lambda c: True, _local, truth=axis)


def tracks_for(roles: Mapping[str, str], axes: Mapping[str, str]) -> tuple[Track, ...]:
    """``TRACKS`` then one :func:`axis_track` per truth axis of a score check that no fixed track ranks (sorted)."""
    fixed = {t.truth for t in TRACKS}
    extra = sorted({a for c, a in axes.items() if a and a not in fixed and roles.get(c, "score") == "score"})
    return TRACKS + tuple(axis_track(a) for a in extra)


@dataclass
class TrackResult:
    """One track's table: a row per member (``kind == "ranked"``) then per control (``kind == "control"``)."""

    track: Track
    cases: list[str]
    table: pd.DataFrame
    excluded: dict[str, str] = field(default_factory=dict)
    gates: list[str] = field(default_factory=list)
    axes: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    resolved: bool = True
    #: per member, the members resolved above it by the pairwise test (empty when the track cannot rank)
    beaten_by: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def ranked(self) -> pd.DataFrame:
        return self.table[self.table["kind"] == "ranked"]

    @property
    def controls(self) -> pd.DataFrame:
        return self.table[self.table["kind"] == "control"]

    @property
    def below_controls(self) -> pd.DataFrame:
        """Members no higher than the track's best control: scored on every case, listed, not ranked."""
        return self.table[self.table["kind"] == "below_controls"]

    def top(self) -> list[str]:
        """Members whose declared rank is 1 (empty when the track cannot rank)."""
        r = self.ranked
        return [] if r.empty or not self.resolved else list(r.loc[r["rank"] == 1, "explainer"])


def _overall(S: np.ndarray, counts: np.ndarray, check_cols: list[np.ndarray], cat_of_check: list[int],
             n_cats: int, prop_of_check: list[int] | None = None) -> np.ndarray:
    """Overall per row of ``S`` [E, n] for each count vector in ``counts`` [B, n]: mean over categories of the mean
    over properties (``check_groups``) of the mean over checks of the count-weighted mean over cases; a check with no
    drawn case drops out. ``prop_of_check``: a property index per check (``None``: each check its own property;
    every property lies in one category). Returns [E, B]."""
    E, B = S.shape[0], counts.shape[0]
    props = list(range(len(check_cols))) if prop_of_check is None else list(prop_of_check)
    n_props = max(props, default=-1) + 1
    cat_of_prop = [0] * n_props
    prop_sum = np.zeros((n_props, E, B))
    prop_n = np.zeros((n_props, B))
    for cols, cat, p in zip(check_cols, cat_of_check, props):
        c = counts[:, cols]
        den = c.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            check = (S[:, cols] @ c.T) / den
        present = den > 0
        prop_sum[p] += np.where(present, check, 0.0)
        prop_n[p] += present
        cat_of_prop[p] = cat
    cat_sum = np.zeros((n_cats, E, B))
    cat_n = np.zeros((n_cats, B))
    for p in range(n_props):
        present = prop_n[p] > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = prop_sum[p] / prop_n[p][None, :]
        cat_sum[cat_of_prop[p]] += np.where(present[None, :], mean, 0.0)
        cat_n[cat_of_prop[p]] += present
    with np.errstate(invalid="ignore", divide="ignore"):
        cats = cat_sum / cat_n[:, None, :]
    have = cat_n > 0
    total = np.where(have[:, None, :], cats, 0.0).sum(axis=0)
    return total / np.maximum(have.sum(axis=0), 1)[None, :]


def _nanmean_rows(rows: Any) -> np.ndarray:
    """Column means ignoring NaN; NaN where a column has no finite value."""
    a = np.asarray(rows, dtype=float)
    ok = np.isfinite(a)
    return np.where(ok.any(axis=0), np.where(ok, a, 0.0).sum(axis=0) / np.maximum(ok.sum(axis=0), 1), np.nan)


def _competition_ranks(O: np.ndarray) -> np.ndarray:
    """Ranks [E, B] of the columns of ``O`` (descending; equal after rounding to 9 decimals share the best)."""
    R = np.round(O, 9)
    return 1 + (R[None, :, :] > R[:, None, :]).sum(axis=1)


def pair_tests(S: np.ndarray, check_cols: list[np.ndarray], cat_of_check: list[int],
               prop_of_check: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(D, se)`` [E, E]: ``D[i, j]`` = overall_i - overall_j and ``se[i, j]`` its standard error under resampling
    the cases, by the infinitesimal jackknife (the ideal bootstrap's B -> infinity normal limit: Jaeckel 1972;
    Efron 1982, *The Jackknife, the Bootstrap and Other Resampling Plans*, ch. 6; Efron & Tibshirani 1993, §21).

    The overall is ``sum_c a_c m_c`` over checks ``c`` with ``m_c`` the mean of the check's ``n_c`` cases and
    ``a_c = 1 / (categories x properties in c's category x checks in c's property)``. Linearised in the case counts
    ``w`` (multinomial, ``Var w_k = 1 - 1/n``, ``Cov = -1/n``), the overall moves by ``sum_k g_k dw_k`` with
    ``g_k = a_c (S_k - m_c) / n_c`` (``sum_k g_k = 0``), so ``Var = sum_k g_k^2`` and for a pair
    ``se_ij^2 = sum_k (g_ik - g_jk)^2``. Deterministic: no resampling seed enters it."""
    E = S.shape[0]
    n_cats = max(cat_of_check, default=-1) + 1
    props_in_cat = [len({p for p, c in zip(prop_of_check, cat_of_check) if c == ci}) for ci in range(n_cats)]
    checks_in_prop = np.bincount(np.asarray(prop_of_check, dtype=int), minlength=1) if prop_of_check else np.zeros(0)
    G = np.zeros_like(S)
    point = np.zeros(E)
    for cols, cat, p in zip(check_cols, cat_of_check, prop_of_check):
        a = 1.0 / (n_cats * props_in_cat[cat] * checks_in_prop[p])
        m = S[:, cols].mean(axis=1)
        point += a * m
        G[:, cols] = a * (S[:, cols] - m[:, None]) / len(cols)
    D = point[:, None] - point[None, :]
    se = np.sqrt(((G[:, None, :] - G[None, :, :]) ** 2).sum(axis=2))
    return D, se


def declared_ranks(D: np.ndarray, se: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """``(rank, worst)`` per member from :func:`pair_tests` (see the module docstring).

    ``i`` is *resolved above* ``j`` when ``D[i, j] >= RESOLUTION`` (0.001 of the overall) and
    ``D[i, j] >= z se[i, j]`` with ``z`` the ``1 - (1 - level) / 2`` normal quantile (1.96 for 95%): a two-sided
    pairwise test. ``rank_i = 1 + #{j resolved above i}`` and ``worst_i = E - #{j resolved below i}``: the ranks
    ``i`` can take without contradicting a resolved pair. The rank is the best end of ``[rank, worst]`` by
    construction, so it never lies outside its own range, and it is shown as that range's best end ("3 (3–7)")."""
    above = resolved_above(D, se, level)
    return 1 + above.sum(axis=0), D.shape[0] - above.sum(axis=1)


def resolved_above(D: np.ndarray, se: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """``A[i, j]``: member ``i`` is resolved above member ``j`` (the test of :func:`declared_ranks`)."""
    from scipy.stats import norm

    z = float(norm.ppf(1.0 - (1.0 - level) / 2.0))
    above = (D >= RESOLUTION) & (D >= z * se)
    np.fill_diagonal(above, False)
    return above


def rank_tracks(ok: pd.DataFrame, cells: pd.DataFrame, meta: Mapping[str, Mapping[str, Any]],
                case_info: Mapping[str, CaseInfo], roles: Mapping[str, str], axes: Mapping[str, str],
                *, random_control: str = "random", n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> list[TrackResult]:
    """Every track (``tracks_for``) that has cases and at least one member (see the module docstring)."""
    out = []
    for track in tracks_for(roles, axes):
        res = _rank_track(track, ok, cells, meta, case_info, roles, axes, track.random_control or random_control,
                          n_boot, seed)
        if res is not None:
            out.append(res)
    return out


def _rank_track(track: Track, ok: pd.DataFrame, cells: pd.DataFrame, meta: Mapping[str, Mapping[str, Any]],
                case_info: Mapping[str, CaseInfo], roles: Mapping[str, str], axes: Mapping[str, str],
                random_control: str, n_boot: int, seed: int) -> TrackResult | None:
    in_track = sorted(k for k in set(cells["case_id"]) if k in case_info and track.cases(case_info[k]))
    if track.truth:  # a truth track holds its axis's cases only (gates are shown in the tracks of the same cases)
        in_track = [k for k in in_track if axes.get(k.partition("/")[0], "") == track.truth]
    if not in_track:
        return None
    tc = cells[cells["case_id"].isin(in_track)]
    check_of = dict(zip(tc["case_id"], tc["check"]))
    exam = [k for k in in_track if roles.get(check_of[k], "score") == "score"
            and axes.get(check_of[k], "") == track.truth]
    if not exam:
        return None
    te = tc[tc["case_id"].isin(exam)]
    applicable = te[te["status"] != "not_applicable"].groupby("explainer")["case_id"].nunique()
    members, controls, excluded = [], [], {}
    for name in sorted(set(tc["explainer"])):
        m = meta.get(name, {})
        is_control = m.get("family") == "control" or name == random_control
        if not is_control and not track.admits(tags_of(m)):
            continue
        cov = applicable.get(name, 0) / len(exam)
        if cov < TRACK_MIN_COVERAGE - 1e-12:
            if not is_control and cov > 0:
                excluded[name] = f"applicable to {applicable.get(name, 0)} of the track's {len(exam)} cases"
            continue
        (controls if is_control else members).append(name)
    if not members:
        return None
    rows = members + controls
    tok = ok[ok["case_id"].isin(in_track) & ok["explainer"].isin(rows + [random_control])]
    case_scores = tok.groupby(["explainer", "case_id"])["score"].mean()
    scored_checks = sorted({c for c in tok["check"].unique()
                            if roles.get(c, "score") == "score" and axes.get(c, "") == track.truth})
    cat_of = dict(zip(tc["check"], tc["category"]))
    sc = [k for k in exam if check_of[k] in scored_checks
          and any((e, k) in case_scores.index for e in members)]
    wide = case_scores.unstack() if len(case_scores) else pd.DataFrame()
    wide = wide.reindex(index=list(dict.fromkeys(rows + [random_control])), columns=sc)
    fill = wide.loc[random_control].fillna(0.0).to_numpy(float) if len(sc) else np.zeros(0)
    raw = wide.reindex(index=rows).to_numpy(float) if len(sc) else np.zeros((len(rows), 0))
    missing = ~np.isfinite(raw)
    S = np.where(missing, fill[None, :], raw)
    filled = missing.sum(axis=1)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    cats = sorted({cat_of[check_of[k]] for k in sc}, key=lambda c: (order.get(c, len(order)), c))
    checks = sorted({check_of[k] for k in sc})
    check_cols = [np.array([j for j, k in enumerate(sc) if check_of[k] == c]) for c in checks]
    cat_idx = [cats.index(cat_of[c]) for c in checks]
    props = list(dict.fromkeys(property_of(c) for c in checks))
    prop_idx = [props.index(property_of(c)) for c in checks]
    ones = np.ones((1, len(sc)))
    point = _overall(S, ones, check_cols, cat_idx, len(cats), prop_idx)[:, 0] if sc else np.full(len(rows), math.nan)

    # qualify: a member whose overall does not exceed every control's is listed below the panel, not ranked
    not_above: dict[str, str] = {}
    if sc and controls:
        ci = int(np.nanargmax(point[len(members):])) + len(members)
        bar = float(point[ci])
        keep = [i for i in range(len(members)) if point[i] > bar]
        drop = [i for i in range(len(members)) if i not in keep]
        for i in drop:
            not_above[members[i]] = f"{rows[ci]} {bar:.3f} ≥ {point[i]:.3f}"
        perm = keep + drop + list(range(len(members), len(rows)))
        rows = [rows[i] for i in perm]
        S, point, filled = S[perm], point[perm], filled[perm]
        members = [rows[i] for i in range(len(keep))]

    # calibrated: per check against the random control on the same cells
    calibrated = np.full(len(rows), math.nan)
    if sc and random_control in rows:
        ri = rows.index(random_control)
        per_check = np.array([S[:, cols].mean(axis=1) for cols in check_cols])  # [checks, E]
        rc = per_check[:, ri]
        with np.errstate(invalid="ignore", divide="ignore"):
            cal = np.clip((per_check - rc[:, None]) / (1.0 - rc[:, None]), -1.0, 1.0)
        cal[rc >= 1.0 - 1e-12] = np.nan
        by_prop = [_nanmean_rows(cal[[k for k, q in enumerate(prop_idx) if q == pi]]) for pi in range(len(props))]
        cat_of_prop = {prop_idx[k]: cat_idx[k] for k in range(len(checks))}
        calibrated = _nanmean_rows([_nanmean_rows([by_prop[pi] for pi in range(len(props)) if cat_of_prop[pi] == ci])
                                    for ci in range(len(cats))])

    # bootstrap over cases (members only are ranked)
    E = len(members)
    resolved = len(sc) >= MIN_TRACK_CASES and E > 0
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(sc), np.full(len(sc), 1.0 / len(sc)), size=n_boot) if sc else np.zeros((n_boot, 0))
    O = _overall(S[:E], counts, check_cols, cat_idx, len(cats), prop_idx) if sc else np.full((E, n_boot), math.nan)
    R = _competition_ranks(O)
    first = (R == 1)
    p1 = (first / np.maximum(first.sum(axis=0), 1)[None, :]).mean(axis=1)
    pairs = pair_tests(S[:E], check_cols, cat_idx, prop_idx) if sc else None
    lo, hi = declared_ranks(*pairs) if pairs else (np.ones(E, int), np.full(E, E))
    above = resolved_above(*pairs) if pairs and resolved else np.zeros((E, E), bool)
    beaten_by = {members[j]: frozenset(members[i] for i in range(E) if above[i, j]) for j in range(E)}
    declared = [int(v) for v in lo]
    olo = np.quantile(O, (1 - LEVEL) / 2, axis=1) if sc else np.full(E, math.nan)
    ohi = np.quantile(O, 1 - (1 - LEVEL) / 2, axis=1) if sc else np.full(E, math.nan)

    gates = sorted({c for c in tok["check"].unique() if roles.get(c) == "gate"})
    axis_names = sorted({axes[c] for c in tok["check"].unique()
                         if axes.get(c) and axes[c] != track.truth and roles.get(c, "score") == "score"})
    table = []
    tok = tok.assign(_axis=tok["check"].map(lambda c: axes.get(c, "")))
    by_explainer = dict(tuple(tok.groupby("explainer")))
    for i, e in enumerate(rows):
        mine = by_explainer.get(e, tok.iloc[:0])
        kind = "ranked" if i < E else "below_controls" if e in not_above else "control"
        row: dict[str, Any] = {
            "explainer": e, "kind": kind, "not_above": not_above.get(e, ""),
            "rank": (declared[i] if resolved else None) if i < E else None,
            "rank_lo": int(lo[i]) if i < E and resolved else None,
            "rank_hi": int(hi[i]) if i < E and resolved else None,
            "p_rank1": float(p1[i]) if i < E and resolved else math.nan,
            "overall": float(point[i]), "overall_lo": float(olo[i]) if i < E else math.nan,
            "overall_hi": float(ohi[i]) if i < E else math.nan, "calibrated": float(calibrated[i]),
            "cases": len(sc), "not_answered": int(filled[i]),
            "coverage": applicable.get(e, 0) / len(exam),
        }
        for ci, cat in enumerate(cats):  # every category in ``cats`` has at least one check
            row[cat] = float(np.mean([np.mean([S[i, check_cols[k]].mean() for k in range(len(checks)) if prop_idx[k] == pi])
                                      for pi in sorted({prop_idx[k] for k in range(len(checks)) if cat_idx[k] == ci})]))
        # failed and total cells per check, counted once (pandas masks per gate and check cost seconds a report)
        bad_n: dict[str, list[int]] = {}
        for c, bad in zip(mine["check"], (mine["passed"] == 0).to_numpy()):
            bad_n.setdefault(c, [0, 0])[0] += int(bad)
            bad_n[c][1] += 1
        for g in gates:
            failed, n = bad_n.get(g, (0, 0))
            row[f"gate:{g}"] = "" if n == 0 else ("pass" if failed == 0 else f"fail {failed}/{n}")
        by_axis = dict(tuple(mine.groupby("_axis"))) if axis_names else {}
        for a in axis_names:
            ac = by_axis.get(a)
            row[f"axis:{a}"] = float(ac.groupby("case_id")["score"].mean().mean()) if ac is not None else math.nan
        fails = [f"{c} ({bad_n[c][0]}/{bad_n[c][1]} cells)" for c in sorted(set(bad_n) & set(scored_checks))
                 if bad_n[c][0]]
        fails += [f"gate {g}" for g in gates if str(row.get(f"gate:{g}", "")).startswith("fail")]
        row["fails"] = "; ".join(fails)
        table.append(row)
    df = pd.DataFrame(table)
    if E:
        floor = float(np.nanmin(point[:E]))
        df["below_all_ranked"] = [None if k == "ranked" else bool(v < floor) for k, v in zip(df["kind"], df["overall"])]
    df["_k"] = df["kind"].map({"ranked": 0, "below_controls": 1}).fillna(2).astype(int)
    df["_r"] = df["rank"].astype("float").fillna(1e9)
    df = (df.sort_values(["_k", "_r", "overall", "explainer"], ascending=[True, True, False, True], kind="mergesort")
          .drop(columns=["_k", "_r"]).reset_index(drop=True))
    df["rank"] = pd.array(df["rank"], dtype="Int64")
    return TrackResult(track, sc, df, excluded, gates, axis_names, cats, resolved, beaten_by)
