"""The suite-timing benchmark runs a tiny slice end to end and reports consistent phases; no time is asserted."""

from __future__ import annotations

import json

from xaicheck.benchmarks import bench_suite

SLICE = {"explainers": "occlusion,saliency", "checks": "completeness,dummy"}


def _critical_wall(record: dict) -> float:
    return sum(record["phases"][p]["wall"] for p in bench_suite.CRITICAL_PATH)


def test_cold_then_warm_cache_on_a_slice(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "cache"))
    cold = bench_suite.measure("quick", jobs=1, rerun_sample=1, **SLICE)
    warm = bench_suite.measure("quick", jobs=1, rerun_sample=1, **SLICE)
    for record in (cold, warm):
        assert list(record["phases"]) == list(bench_suite.PHASES)
        assert all(p["wall"] >= 0 and p["cpu"] >= 0 for p in record["phases"].values())
        assert 0.5 * record["total"]["wall"] <= _critical_wall(record) <= record["total"]["wall"]
        assert record["phases"]["searches"]["cpu"] <= record["phases"]["cells"]["cpu"] + 1e-6
        assert record["applicable"] <= record["cells"] and record["rerun"] == 2  # one ok cell per explainer
        assert record["phases"]["warm-up"] == {"wall": 0.0, "cpu": 0.0}  # no shap explainer in the slice
    # saliency fails completeness, so its search runs once; the warm run reads it back and scores the same
    assert sum(cold["searches"][k] for k in ("searched", "disk", "memory")) >= 1
    assert warm["searches"]["searched"] == 0 and warm["searches"]["disk"] + warm["searches"]["memory"] >= 1
    assert cold["scores_sha256"] == warm["scores_sha256"]
    table = bench_suite.format_run(cold, "cold")
    for title in ("setup", "warm-up", "cells", "counterexample searches", "determinism rerun (2)", "outputs",
                  "report", "total"):
        assert title in table


def test_main_runs_in_a_fresh_process_and_writes_json(tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    records = bench_suite.main(["--explainers", "occlusion", "--checks", "completeness", "--jobs", "1",
                                "--rerun-sample", "0", "--cache", "cold", "--json", str(out)])
    assert [r["cache"] for r in records] == ["cold"] and json.loads(out.read_text())[0]["cells"] == records[0]["cells"]
    assert records[0]["rerun"] == 0 and "search cache cold" in capsys.readouterr().out
