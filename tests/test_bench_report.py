"""Report, plots and diff on a hand-built results directory that has evidence for every plot."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pytest

from xaicheck.benchmarks import provenance as prov
from xaicheck.benchmarks.diff import diff_dirs, format_changes
from xaicheck.benchmarks.plots import PLOTS, _row_ranks, agreement_matrix
from xaicheck.benchmarks.case_facts import CaseFacts, case_facts
from xaicheck.benchmarks.records import CellRecord, write_evidence, write_scores, write_timings
from xaicheck.benchmarks.report import build_report
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

MASK = np.zeros((8, 8), dtype=bool)
MASK[2:5, 3:6] = True
IMAGE = FunctionModel("fake_image", "image", lambda X: X[:, MASK.ravel()].sum(1), [f"p{i}" for i in range(64)],
                      GroundTruth(relevant=frozenset(np.flatnonzero(MASK.ravel()).tolist()), mask=MASK.ravel()),
                      domain="image", input_shape=(1, 8, 8))
TOKENS = ["good", "great", "bad", "the", "awful", "movie"]
TW = np.array([1.0, 2.0, -1.5, 0.0, -2.5, 0.0])
TEXT = FunctionModel("fake_text", "text", lambda X: X @ TW, TOKENS, GroundTruth(relevant=frozenset({0, 1, 2, 4})),
                     domain="tokens")
CASES = {
    "localisation/patch": SimpleNamespace(model=IMAGE, X=np.ones((1, 64))),
    "ground_truth_agreement/tokens": SimpleNamespace(model=TEXT, X=np.array([[1, 1, 0, 1, 1, 0.0]])),
}
CATS = {"localisation": "ground_truth", "ground_truth_agreement": "ground_truth",
        "baseline_sensitivity": "stability", "dummy": "axioms", "interaction_agreement": "ground_truth"}


def _tabular(check: str, d: int = 4) -> CaseFacts:
    return CaseFacts(check, "continuous", ("callable",), d, "score", "", ("relevant",), 1)


#: The facts a run records for the cases of ``_records`` (what ``build_report`` reads instead of the registry).
FACTS = {**{cid: case_facts(SimpleNamespace(name=cid.partition("/")[0], role="score", truth=""), case)
            for cid, case in CASES.items()},
         "baseline_sensitivity/panel": _tabular("baseline_sensitivity"), "dummy/linear": _tabular("dummy"),
         "interaction_agreement/pairs": CaseFacts("interaction_agreement", "continuous", ("callable",), 3, "score",
                                                  "interaction", ("interactions",), 1)}


def _records(shift: float = 0.0) -> list[CellRecord]:
    rng = np.random.default_rng(0)
    out = []

    def add(exp, check, case, score, evidence, passed=None, status="ok", cx=None, seconds=0.01):
        passed = (score >= 0.5) if passed is None and score is not None else passed
        out.append(CellRecord(f"{exp}/{check}/{case}/s0", exp, check, case, CATS[check], 0, status, score, passed,
                              f"{check} measured {score}", evidence, cx, None, seconds))

    for k, exp in enumerate(["occlusion", "saliency", "random"]):
        noise = 0.0 if exp == "occlusion" else (0.5 if exp == "saliency" else 3.0)
        img = MASK.ravel() * 1.0 + noise * rng.normal(size=64)
        add(exp, "localisation", "patch", float(np.clip(1 - noise / 3, 0, 1)) + (shift if k == 0 else 0),
            {"measured": 1.0, "threshold": 0.5, "attributions": [img.tolist()]}, seconds=0.01 * (k + 1))
        tok = TW + noise * rng.normal(size=6)
        add(exp, "ground_truth_agreement", "tokens", 0.9 - 0.3 * k,
            {"measured": 0.9, "threshold": 0.5, "attributions": [tok.tolist()]})
        per = {b: [(np.array([2.0, -1.0, 0.5, 0.0]) * (1 + j * 0.3) + noise * rng.normal(size=4)).tolist()]
               for j, b in enumerate(["zero", "mean", "uniform"])}
        add(exp, "baseline_sensitivity", "panel", 0.8 - 0.3 * k,
            {"measured": 0.1, "threshold": 0.2, "per_baseline": per, "attributions": per["zero"]})
        pairs = np.array([[1.0, 2.0, 0.0], [2.0, -1.0, -0.5], [0.0, -0.5, 0.5]])
        add(exp, "interaction_agreement", "pairs", 0.95 - 0.3 * k,
            {"measured": 0.95, "threshold": 0.9, "pair_true": pairs.tolist(),
             "pair_estimated": (pairs + noise * 0.1 * rng.normal(size=(3, 3))).tolist()})
    add("saliency", "dummy", "linear", 0.2, {"measured": 0.8, "threshold": 0.1}, passed=False,
        cx={"line": "saliency gives x3 0.8 on linear_dummy(x=[1, 1, 1, 1])", "x": [[1, 1, 1, 1]]})
    add("occlusion", "dummy", "linear", None, {}, status="error")
    add("random", "dummy", "linear", None, {}, status="not_applicable")
    return out


def _write_run(directory, records, facts=None):
    directory.mkdir(parents=True, exist_ok=True)
    write_scores(records, directory / "scores.csv")
    write_timings(records, directory / "timings.csv")
    write_evidence(records, directory / "evidence.jsonl")
    meta = {"occlusion": {"library": "captum", "family": "perturbation", "tags": "requires:callable,local"},
            "saliency": {"library": "captum", "family": "gradient", "tags": "requires:torch,local"},
            "random": {"library": "xaicheck", "family": "control", "tags": "requires:callable,local,stochastic"}}
    checks = {c: {"name": c, "category": cat, "threshold": 0.5, "version": 1, "citation": "Someone et al. 2020",
                  "summary": f"{c}: formula <b>&"} for c, cat in CATS.items()}
    facts = {**FACTS, **{f"dummy/{r.case}": _tabular("dummy") for r in records if r.check == "dummy"},
             **(facts or {})}
    prov.write_provenance(prov.collect(suite="quick", base_seed=0, seeds={}, explainers=meta, checks=checks,
                                       cases={k: f.to_json() for k, f in facts.items()},
                                       started="2026-01-01T00:00:00Z", finished="2026-01-01T00:01:00Z"), directory)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]


@pytest.fixture()
def run_dir(tmp_path):
    d = tmp_path / "run"
    _write_run(d, _records())
    (d / "papers").mkdir()
    (d / "papers" / "sundararajan2017.md").write_text("# claims\n")
    return d


def test_report_is_self_contained_and_complete(run_dir):
    info = build_report(run_dir)
    assert info["plots"] == {name: "ok" for name in PLOTS}
    text = (run_dir / "report.html").read_text()
    p = _Collect()
    p.feed(text)
    srcs = [v for tag, k, v in p.attrs if k == "src"]
    hrefs = [v for tag, k, v in p.attrs if k == "href"]
    assert len(srcs) == len(PLOTS) and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert hrefs == ["papers/sundararajan2017.md", "history/provenance-2026-01-01T000000Z.json"]
    assert not any(("http" in v.lower() or v.startswith("//")) and not v.startswith("data:") for _, _, v in p.attrs)
    assert "link" not in p.tags and "iframe" not in p.tags and "@import" not in text and "url(" not in text
    assert all(k != "src" for tag, k, v in p.attrs if tag == "script")
    # leaderboard rows (all-explainers tables + the image and text tracks, 3 explainers each), counterexample
    # line, escaped check summary, provenance footer
    board = text[text.index('id="leaderboard-title"'):text.index("<h2>Plots</h2>")]
    assert board.count('<tr data-requires=') == 3
    assert 'id="track-image"' in text and 'id="track-text"' in text
    assert "saliency gives x3 0.8 on linear_dummy" in text
    assert "formula &lt;b&gt;&amp;" in text and "formula <b>&" not in text
    assert "xaicheck" in text and "2026-01-01T00:00:00Z" in text
    md = (run_dir / "leaderboard.md").read_text()
    own = md[md.index("## All explainers"):]
    assert own.count("\n| ") == 5  # broad table: header + occlusion, saliency; degenerate panel: header + random
    # the summary comes first and names each track; one case per track is too few to rank
    assert md.index("## What to trust for what") < md.index("## Track: Images") < md.index("## All explainers")
    assert "- **Image model** (1 cases" in md
    assert ("too few cases (< 3) to rank, so no pick: highest score among methods that scale, not a ranking: "
            "**occlusion**") in md
    assert text.index('id="trust-title"') < text.index('id="tracks-title"') < text.index('id="leaderboard-title"')
    assert info["report"] == str(run_dir / "report.html") and info["seconds"] > 0
    # regenerating gives the same plot bytes and the same report
    first = {n: (run_dir / "plots" / f"{n}.png").read_bytes() for n in PLOTS}
    build_report(run_dir)
    assert first == {n: (run_dir / "plots" / f"{n}.png").read_bytes() for n in PLOTS}
    assert (run_dir / "report.html").read_text() == text


def test_specialists_and_run_history_in_report(run_dir):
    # a text-only explainer applicable to 1 of its 4 cells: listed with its score under the specialists, not ranked
    recs = _records()
    recs.append(CellRecord("lime_text/ground_truth_agreement/tokens/s0", "lime_text", "ground_truth_agreement",
                           "tokens", "ground_truth", 0, "ok", 0.99, True, "", {}, None, None, 0.2))
    recs += [CellRecord(f"lime_text/{c}/{k}/s0", "lime_text", c, k, CATS[c], 0, "not_applicable")
             for c, k in (("localisation", "patch"), ("baseline_sensitivity", "panel"), ("dummy", "linear"))]
    _write_run(run_dir, recs)
    # a second run started in the same second keeps its own history file
    # (the rewrite above is a run of other files: it has its own history file, provenance-...-2.json)
    record = json.loads((run_dir / "provenance.json").read_text())
    before = len(list((run_dir / "history").glob("provenance-*.json")))
    prov.write_provenance({**record, "cells": 999}, run_dir)
    assert len(list((run_dir / "history").glob("provenance-*.json"))) == before + 1 == 3
    build_report(run_dir)
    text = (run_dir / "report.html").read_text()
    broad = text[text.index('id="leaderboard"'):text.index("</table>", text.index('id="leaderboard"'))]
    special = text[text.index('id="board-specialist"'):]
    special = special[:special.index("</table>")]
    assert "lime_text" not in broad and 'data-v="lime_text"' in special and "0.9900" in special
    assert broad.count("<tr data-requires=") == 2 and "Specialists (coverage &lt; 0.5)" in text
    assert "history/provenance-2026-01-01T000000Z-3.json" in text
    md = (run_dir / "leaderboard.md").read_text()
    assert md.index("### Specialists") < md.rindex("| lime_text |")
    # in its own track (text) the specialist sits the same exam as everyone: there it is listed with the others
    assert "- **Text model (tokens)** (1 cases" in md
    assert "to rank, so no pick: highest score among methods that scale, not a ranking: **lime_text**" in md


def test_missing_plot_data_is_skipped_not_faked(run_dir):
    # the run recorded no input shape for the image case and no tokens for the text case: nothing to draw
    bare = {cid: CaseFacts(f.check, f.domain, f.forms, f.d, f.role, f.truth, f.truth_kinds, f.n)
            for cid, f in FACTS.items()}
    _write_run(run_dir, _records(), bare)
    info = build_report(run_dir)
    assert info["plots"]["image_attributions"].startswith("no ")
    assert not (run_dir / "plots" / "image_attributions.png").exists()
    assert "image_attributions</b>: skipped" in (run_dir / "report.html").read_text()


def test_agreement_matrix_is_mean_spearman():
    names, M, C = agreement_matrix(_records())
    assert names == ["occlusion", "random", "saliency"]
    assert np.allclose(np.diag(M), 1.0) and np.allclose(M, M.T)
    assert C[0, 2] == 3  # localisation, tokens, baseline panel are shared
    assert M[0, 2] > M[0, 1]  # the less noisy explainer agrees more with the exact one
    # average ranks for ties: the two 1s share ranks 1,2 -> 1.5; the 2 -> 3; the two 3s share 4,5 -> 4.5
    assert _row_ranks(np.array([[3.0, 1.0, 3.0, 2.0, 1.0]])).tolist() == [[4.5, 1.5, 4.5, 3.0, 1.5]]


def _reference_agreement(records):
    """The previous implementation (one scipy-free Spearman call per pair and case), kept as the oracle."""
    def rankdata(v):
        order = np.argsort(v, kind="mergesort")
        ranks = np.empty(len(v))
        ranks[order] = np.arange(1, len(v) + 1)
        _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
        return np.bincount(inverse, weights=ranks)[inverse] / counts[inverse]

    def spearman(a, b):
        ra, rb = rankdata(a), rankdata(b)
        return float("nan") if np.std(ra) == 0 or np.std(rb) == 0 else float(np.corrcoef(ra, rb)[0, 1])

    per = {}
    for r in sorted(records, key=lambda r: (r.seed, r.cell_id)):
        att = r.evidence.get("attributions") if r.status == "ok" else None
        if att:
            per.setdefault(r.explainer, {}).setdefault(r.case_id, np.asarray(att, dtype=float))
    names = sorted(per)
    S, C = np.zeros((len(names), len(names))), np.zeros((len(names), len(names)), dtype=int)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            for case in per[a].keys() & per[b].keys():
                if per[a][case].shape == per[b][case].shape:
                    rho = spearman(per[a][case].ravel(), per[b][case].ravel())
                    if np.isfinite(rho):
                        S[i, j] += rho
                        C[i, j] += 1
    return names, np.where(C > 0, S / np.maximum(C, 1), np.nan), C


def test_vectorised_agreement_equals_the_pairwise_reference():
    # ties, a constant attribution (rho undefined), a different shape on a shared case, a case one explainer lacks
    rng = np.random.default_rng(3)
    recs = _records()

    def add(exp, case, att):
        recs.append(CellRecord(f"{exp}/dummy/{case}/s0", exp, "dummy", case, "axioms", 0, "ok", 0.5, True, "",
                               {"attributions": att}, None, None, 0.0))

    for k, exp in enumerate(["occlusion", "saliency", "random", "constant"]):
        add(exp, "ties", [[1.0, 1.0, 2.0, 2.0, 3.0]] if exp != "random" else rng.integers(0, 3, (1, 5)).tolist())
        add(exp, "shape", [[1.0, 2.0, 0.5]] if k < 2 else [[1.0, 2.0], [0.5, 3.0]])
        if exp != "saliency":
            add(exp, "only_some", rng.normal(size=(2, 4)).tolist())
    recs.append(CellRecord("constant/dummy/flat/s0", "constant", "dummy", "flat", "axioms", 0, "ok", 0.5, True,
                           "", {"attributions": [[2.0, 2.0, 2.0]]}, None, None, 0.0))
    names, M, C = agreement_matrix(recs)
    ref_names, ref_M, ref_C = _reference_agreement(recs)
    assert names == ref_names and (C == ref_C).all()
    assert (np.isnan(M) == np.isnan(ref_M)).all()
    assert np.allclose(M[np.isfinite(M)], ref_M[np.isfinite(ref_M)], rtol=0, atol=1e-12)


def test_diff_lists_changed_cells(tmp_path):
    _write_run(tmp_path / "a", _records())
    _write_run(tmp_path / "b", _records(shift=-0.25))
    assert diff_dirs(tmp_path / "a", tmp_path / "a") == []
    changes = diff_dirs(tmp_path / "a", tmp_path / "b")
    assert [c.cell_id for c in changes] == ["occlusion/localisation/patch/s0"]
    text = format_changes(changes, "a", "b")
    assert "ok 1 -> ok 0.75 (Δ -0.25)" in text
    evidence = [json.loads(line) for line in (tmp_path / "a" / "evidence.jsonl").read_text().splitlines()]
    assert [e["cell_id"] for e in evidence] == sorted(e["cell_id"] for e in evidence)


HOSTILE = "x{{PLOTS}}|<script>alert(1)</script>`<img src=1 onerror=alert(2)>`"


def test_hostile_names_are_escaped_and_the_template_is_filled_once(run_dir):
    # an explainer named like a template placeholder with markup and a table pipe, and a message with the same
    recs = []
    for r in _records():
        if r.explainer == "saliency":
            r.explainer = HOSTILE
            r.cell_id = r.cell_id.replace("saliency", HOSTILE)
            r.message = HOSTILE
        recs.append(r)
    _write_run(run_dir, recs)
    build_report(run_dir, log=None)
    text = (run_dir / "report.html").read_text()
    assert text.count('<figure id="plot-heatmap">') == 1  # the name's {{PLOTS}} did not splice the plots block
    assert "x{{PLOTS}}" in text and "<script>alert(1)" not in text and "<img src=1" not in text
    md = (run_dir / "leaderboard.md").read_text()
    assert "<script>" not in md and "<img" not in md and "`" not in md.replace("\\`", "")
    line = next(x for x in md.splitlines() if x.startswith("| x{{PLOTS}}"))
    # the name stays one cell: every | in it is escaped, so the row has as many cell separators as its header
    header = md.splitlines()[md.splitlines().index(line) - 3]
    assert line.replace("\\|", "").count("|") == header.count("|")
    assert "x{{PLOTS}}\\|&lt;script&gt;alert(1)&lt;/script&gt;\\`&lt;img src=1 onerror=alert(2)&gt;\\`" in line


def test_fill_template_substitutes_in_one_pass():
    from xaicheck.benchmarks.report import fill_template

    out = fill_template("<h1>{{TITLE}}</h1>{{BODY}}", {"TITLE": "{{BODY}}", "BODY": "b{{TITLE}}"})
    assert out == "<h1>{{BODY}}</h1>b{{TITLE}}"
    with pytest.raises(KeyError, match="MISSING"):
        fill_template("{{MISSING}}", {})


def test_refresh_report_keeps_plots_and_relinks_papers(run_dir, monkeypatch):
    from xaicheck.benchmarks import report as report_mod

    build_report(run_dir, log=None)
    plots = {n: (run_dir / "plots" / f"{n}.png").read_bytes() for n in PLOTS}
    (run_dir / "papers" / "adebayo2018.md").write_text("# sanity\n")

    def no_plots(*args, **kwargs):
        raise AssertionError("refresh_report must not redraw plots")

    monkeypatch.setattr(report_mod, "make_plots", no_plots)
    lines: list[str] = []
    info = report_mod.refresh_report(run_dir, log=lines.append)
    text = (run_dir / "report.html").read_text()
    assert "papers/adebayo2018.md" in text and text.count("data:image/png;base64,") == len(PLOTS)
    assert plots == {n: (run_dir / "plots" / f"{n}.png").read_bytes() for n in PLOTS}
    assert info["plots"] == {n: "ok" for n in PLOTS}
    assert lines[-1] == f"report: {run_dir / 'report.html'}" and any("built in" in x for x in lines)


def test_plots_drawn_in_parallel_equal_the_serial_ones(run_dir, tmp_path):
    serial_dir = tmp_path / "serial"
    _write_run(serial_dir, _records())
    lines: dict[int, list[str]] = {1: [], 2: []}
    info1 = build_report(serial_dir, log=lines[1].append, jobs=1)
    info2 = build_report(run_dir, log=lines[2].append, jobs=2)
    assert info1["plots"] == info2["plots"] == {name: "ok" for name in PLOTS}
    for name in PLOTS:
        assert (serial_dir / "plots" / f"{name}.png").read_bytes() == (run_dir / "plots" / f"{name}.png").read_bytes()

    def plot_lines(log: list[str]) -> list[str]:
        return [x.rsplit(" (", 1)[0] for x in log if x.startswith("report:   plot ")]

    assert plot_lines(lines[1]) == plot_lines(lines[2]) == [f"report:   plot {n}: ok" for n in PLOTS]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_plot_that_raises_is_reported_and_the_others_drawn(run_dir, monkeypatch, jobs):
    from xaicheck.benchmarks import plots

    def broken(*args, **kwargs):
        raise RuntimeError("no ink")

    monkeypatch.setattr(plots, "heatmap", broken)
    (run_dir / "plots").mkdir()
    (run_dir / "plots" / "heatmap.png").write_bytes(b"stale")
    info = build_report(run_dir, log=None, jobs=jobs)
    assert info["plots"]["heatmap"] == "failed: RuntimeError: no ink"
    assert not (run_dir / "plots" / "heatmap.png").exists()
    assert all(info["plots"][n] == "ok" and (run_dir / "plots" / f"{n}.png").exists() for n in PLOTS
               if n != "heatmap")
    assert "<b>heatmap</b>: skipped — failed: RuntimeError: no ink" in (run_dir / "report.html").read_text()


def test_a_dead_plot_worker_fails_its_plots_not_the_report(run_dir, monkeypatch):
    import os

    from xaicheck.benchmarks import plots

    monkeypatch.setattr(plots, "text_attributions", lambda *a, **k: os._exit(3))
    info = build_report(run_dir, log=None, jobs=2)
    # each plot is drawn in its own forked child: a dead one fails that plot, named with how it died
    assert info["plots"]["text_attributions"].startswith("failed: process died: exited with code 3")
    assert not (run_dir / "plots" / "text_attributions.png").exists()
    assert (run_dir / "report.html").exists()
