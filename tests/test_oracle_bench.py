"""The oracle benchmark runs end to end (without shap here: its numba warm-up alone takes 15-45 s) and reports the
quantities the issue asks for; no timing is asserted."""

from __future__ import annotations

from xaicheck.benchmarks import bench_oracles
from xaicheck.synthetic_models.enumeration import WORKING_BYTES


def test_measure_reports_both_games_with_floor_and_memory() -> None:
    records = bench_oracles.measure(5, rows=2, background=3, repeats=1, with_shap=False)
    assert [r["game"] for r in records] == ["baseline", "interventional"]
    assert [r["model_rows"] for r in records] == [2 * 32 * 1, 2 * 32 * 3]
    for r in records:
        assert r["ours_s"] >= 0 and r["floor_s"] >= 0 and "shap_s" not in r
        assert 0 < r["ours_peak_mib"] * 2**20 <= WORKING_BYTES


def test_main_prints_a_table(capsys) -> None:
    records = bench_oracles.main(["--dims", "3", "4", "--repeats", "1", "--no-shap"])
    out = capsys.readouterr().out
    assert len(records) == 4 and "ours/floor" in out and "worst ours/floor" in out
