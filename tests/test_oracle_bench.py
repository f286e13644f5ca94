"""The oracle benchmark runs end to end (without shap here: its numba warm-up alone takes 15-45 s) and reports the
quantities the issue asks for; no timing is asserted."""

from __future__ import annotations

from xaicheck.benchmarks import bench_oracles
from xaicheck.synthetic_models.enumeration import WORKING_BYTES


def test_measure_reports_both_games_with_floor_and_memory() -> None:
    records = bench_oracles.measure(5, rows=2, background=3, repeats=1, with_shap=False, min_seconds=0)
    assert [r["game"] for r in records] == ["baseline", "interventional"]
    assert [r["model_rows"] for r in records] == [2 * 32 * 1, 2 * 32 * 3]
    for r in records:
        assert r["ours_s"] >= 0 and r["floor_s"] >= 0 and "shap_s" not in r
        assert 0 < r["ours_peak_mib"] * 2**20 <= WORKING_BYTES


def test_main_prints_a_table(capsys) -> None:
    records = bench_oracles.main(["--dims", "3", "4", "--repeats", "1", "--no-shap"])
    out = capsys.readouterr().out
    assert len(records) == 4 and "ours/floor" in out and "worst ours/floor" in out


def test_small_games_get_more_instances_for_a_measurable_call() -> None:
    """With a minimum call time, a small game explains more instances (never fewer than asked), consistently."""
    records = bench_oracles.measure(4, rows=2, background=3, repeats=1, with_shap=False, min_seconds=0.01)
    for r, m in zip(records, (1, 3)):
        assert r["rows"] > 2 and r["model_rows"] == r["rows"] * 16 * m
    assert bench_oracles.rows_for(0.05, 0.01, 2) == 5 and bench_oracles.rows_for(0.05, 1.0, 2) == 2
    assert bench_oracles.rows_for(0, 0.01, 3) == 3
