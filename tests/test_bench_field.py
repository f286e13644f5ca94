"""``benchmarks/bench_field.py``: the sealed and the inline field give the same bytes, and the bench says so."""

from __future__ import annotations

from xaicheck.benchmarks import bench_field


def test_sealed_and_inline_runs_give_identical_bytes_and_a_ratio(capsys):
    res = bench_field.bench(explainers=("integrated_gradients", "zero"), checks=("completeness",), jobs=1)
    assert res["identical"] is True
    assert set(res["runs"]) == {"process", "inline"} and res["ratio"] > 0
    assert all(r["wall_s"] > 0 and r["cell_s"] >= 0 for r in res["runs"].values())
    assert bench_field.main(["--explainers", "zero", "--checks", "completeness"]) == 0
    assert "sealed / inline wall:" in capsys.readouterr().out
