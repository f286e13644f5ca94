"""The report's metric-validity section (issue 26, outputs): ``DIR/metrics/`` is verified against its own
``provenance.json`` before the report reads it; a tampered, unrecorded or unkeyed-edited file is refused with one line;
with it the report and ``leaderboard.md`` show τ, its interval, the control and invariance verdicts, seconds per
cell and the metrics that do not track the truth; without it both are byte-identical to a report without it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xaicheck.benchmarks import cli, runner
from xaicheck.benchmarks.metrics.provenance import write_metrics_provenance
from xaicheck.benchmarks.metrics.report import write_plot
from xaicheck.benchmarks.metrics.run import COLUMNS, _write_csv
from xaicheck.benchmarks.verified_reads import file_digest
from test_bench_fixtures import toy_suite


def _row(track: str, metric: str, tau: str, lo: str, hi: str, verdict: str, below: str) -> dict[str, str]:
    row = {c: "" for c in COLUMNS}
    row.update(track=track, metric=metric, variant="default", library="quantus", category="faithfulness",
               better="higher", n_cases="8", n_methods="8", tau=tau, tau_lo=lo, tau_hi=hi, verdict=verdict,
               controls_below_all=below, control_pairs_correct="0.75", tau_affine="1", tau_permuted="0.9",
               explainer_calls_per_cell="0")
    return row


def _metrics_folder(folder: Path) -> None:
    """A metrics folder written by the writers ``xaicheck metrics`` uses (two metric rows on one track)."""
    folder.mkdir()
    rows = [_row("tabular_baseline", "metric_good", "0.7", "0.4", "0.9", "tracks the truth", "yes"),
            _row("tabular_baseline", "metric_bad", "0.1", "-0.3", "0.5", "does not track the truth here", "no")]
    _write_csv(folder / "metric_validity.csv", rows, COLUMNS)
    _write_csv(folder / "metric_cost.csv", [{"metric": "metric_good", "variant": "default", "cells": 4,
                                              "seconds_per_cell": "0.0123"},
                                             {"metric": "metric_bad", "variant": "default", "cells": 4,
                                              "seconds_per_cell": "0.0456"}],
               ("metric", "variant", "cells", "seconds_per_cell"))
    write_plot(folder / "metric_validity.png", rows)
    write_metrics_provenance(folder, suite="quick", seed=0, n_boot=10, metrics=["metric_good", "metric_bad"],
                             started="2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    base = tmp_path_factory.mktemp("repmetrics")
    out, cache = base / "run", base / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XAICHECK_CACHE_DIR", str(cache))
        runner.run_suite(toy_suite("quick", ("exact", "random")), out, jobs=1, progress=False, rerun_sample=1)
        _metrics_folder(base / "metrics")
    return out, base / "metrics", cache


@pytest.fixture
def run(made, tmp_path, monkeypatch):
    out, metrics, cache = made
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(cache))
    return copy, metrics


def _report(directory: Path, capsys) -> tuple[bytes, bytes, str]:
    capsys.readouterr()
    assert cli.main(["report", str(directory)]) == 0
    err = capsys.readouterr().err
    return (directory / "report.html").read_bytes(), (directory / "leaderboard.md").read_bytes(), err


def _refused(directory: Path, capsys, match: str) -> None:
    capsys.readouterr()
    (directory / "report.html").unlink(missing_ok=True)
    assert cli.main(["report", str(directory)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in captured.err and match in err, err
    assert not (directory / "report.html").exists()


def test_the_section_appears_with_metrics_and_the_report_is_unchanged_without(run, capsys):
    directory, metrics = run
    html0, md0, err0 = _report(directory, capsys)
    assert b"Which evaluation metric to trust" not in html0 and b"metric_good" not in md0
    assert "metrics file" not in err0
    shutil.copytree(metrics, directory / "metrics")
    html1, md1, err1 = _report(directory, capsys)
    assert "verified 3 metrics file(s)" in err1 and "keyed digest verified" in err1
    html, md = html1.decode(), md1.decode()
    for text, lb, rb in ((html, "[", "]"), (md, "\\[", "\\]")):  # markdown prints escaped brackets literally
        assert "Which evaluation metric to trust" in text
        assert f"0.7 {lb}0.4, 0.9{rb}" in text and f"0.1 {lb}-0.3, 0.5{rb}" in text  # τ and its interval
        assert "yes (0.75)" in text and "no (0.75)" in text  # the control verdict
        assert "0.0123" in text and "0.0456" in text  # seconds per cell, from metric_cost.csv
        assert "Does not track the truth here</b> (1): metric_bad." in text or \
            "Does not track the truth here (1): metric_bad." in text
    assert "data:image/png;base64," in html.split("Which evaluation metric to trust", 1)[1]
    assert "metrics/metric_validity.png" in md
    shutil.rmtree(directory / "metrics")
    html2, md2, _ = _report(directory, capsys)
    assert (html2, md2) == (html0, md0)  # no metrics folder: byte-identical
    assert html1.replace(html1[html1.index(b'<h2 id="metrics-title">'):html1.index(b"<h2>Paper reproductions")],
                         b"") == html0.replace(b"\n<h2>Paper reproductions", b"<h2>Paper reproductions")


def test_a_tampered_metric_file_is_refused_with_one_line(run, capsys):
    directory, metrics = run
    shutil.copytree(metrics, directory / "metrics")
    path = directory / "metrics" / "metric_validity.csv"
    path.write_text(path.read_text().replace("does not track the truth here", "tracks the truth"))
    _refused(directory, capsys, "metric_validity.csv does not match its digest")


def test_a_plain_digest_recomputed_is_refused_by_the_keyed_digest(run, capsys):
    directory, metrics = run
    shutil.copytree(metrics, directory / "metrics")
    path = directory / "metrics" / "metric_validity.csv"
    path.write_text(path.read_text().replace("0.1,-0.3,0.5", "0.9,0.8,1.0"))
    where = directory / "metrics" / "provenance.json"
    record = json.loads(where.read_text())
    record["digests"]["metric_validity.csv"] = file_digest(path)
    where.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    _refused(directory, capsys, "keyed digest does not match")


def test_an_unrecorded_file_and_a_missing_provenance_are_refused(run, capsys):
    directory, metrics = run
    shutil.copytree(metrics, directory / "metrics")
    (directory / "metrics" / "metric_values.csv").write_text("explainer,case\n")
    _refused(directory, capsys, "metric_values.csv is not recorded")
    (directory / "metrics" / "metric_values.csv").unlink()
    (directory / "metrics" / "provenance.json").unlink()
    _refused(directory, capsys, "metrics/provenance.json is missing")


def test_a_missing_machine_dependent_cost_file_is_fine(run, capsys):
    directory, metrics = run
    shutil.copytree(metrics, directory / "metrics")
    (directory / "metrics" / "metric_cost.csv").unlink()
    html, md, err = _report(directory, capsys)
    assert "verified 2 metrics file(s)" in err and b"0.0123" not in md and b"0.7 \\[0.4, 0.9\\]" in md


def test_the_committed_metric_validity_verifies_and_covers_the_issue(tmp_path, monkeypatch):
    """``results/metrics/`` as CI sees it (no key): its digests verify, and ``metric_validity.csv`` has at least 20
    metrics on every ranked track, each with τ (or a recorded reason it cannot rank), its interval, the control and
    invariance verdicts, and seconds per cell in ``metric_cost.csv`` for every metric setting."""
    import csv

    from xaicheck.benchmarks.metrics.provenance import verify_metrics

    folder = Path(__file__).resolve().parents[1] / "results" / "metrics"
    if not (folder / "provenance.json").is_file():
        pytest.skip("no committed results/metrics/")
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "empty-cache"))
    verified = verify_metrics(folder)
    assert "metric_validity.csv" in verified.files and "origin not verifiable" in verified.origin
    rows = list(csv.DictReader((folder / "metric_validity.csv").open(encoding="utf-8")))
    tracks = sorted({r["track"] for r in rows})
    assert {"tabular_baseline", "tabular_background", "tabular_exact", "image", "text", "trees"} <= set(tracks)
    for track in tracks:
        sub = [r for r in rows if r["track"] == track and r["metric"] != "exact_truth"]
        # a metric that cannot apply to the modality is a row with its reason, never dropped
        na = [r for r in sub if r["verdict"] == "not applicable"]
        assert all(r["not_applicable_reason"] for r in na), track
        sub = [r for r in sub if r["verdict"] != "not applicable"]
        assert len({r["metric"] for r in sub}) >= 20
        for r in sub:
            assert r["verdict"] in ("tracks the truth", "does not track the truth here", "cannot rank")
            if r["verdict"] != "cannot rank":
                assert float(r["tau_lo"]) <= float(r["tau"]) <= float(r["tau_hi"])
            assert r["controls_below_all"] in ("yes", "no")
            # a metric that cannot rank (constant where defined) has no order to keep: its invariance is undefined
            assert (r["tau_affine"] and r["tau_permuted"]) or r["verdict"] == "cannot rank"
    cost = {(r["metric"], r["variant"]) for r in csv.DictReader((folder / "metric_cost.csv").open(encoding="utf-8"))}
    assert {(r["metric"], r["variant"]) for r in rows if r["metric"] != "exact_truth"} <= cost
