"""``benchmarks/bench_units.py``: a run in units and a run with a process per cell give the same bytes, and the
bench reports both with the number of units."""

from __future__ import annotations

from xaicheck.benchmarks import bench_units


def test_units_and_per_cell_runs_give_identical_bytes_and_ratios(capsys):
    res = bench_units.bench(explainers=("integrated_gradients", "zero"), checks=("completeness", "dummy"), jobs=1,
                            pairs=1)
    assert res["identical"] is True
    pair = res["runs"][0]
    assert set(pair) == {"cell", "units"} and res["wall_ratio"] > 0 and res["busy_ratio"] >= 0
    assert pair["cell"]["cells"] == pair["units"]["cells"] > 0
    assert pair["units"]["units"] < pair["units"]["cells"] == pair["cell"]["units"]  # several cells shared a unit
    assert bench_units.main(["--explainers", "zero", "--checks", "completeness,dummy", "--pairs", "1",
                             "--jobs", "1"]) == 0
    assert "units / per cell" in capsys.readouterr().out


def test_busy_seconds_grow():
    a = bench_units.busy_seconds()
    sum(i * i for i in range(200_000))
    assert bench_units.busy_seconds() >= a


def test_the_baseline_is_the_pre_sandbox_worker_loop(capsys):
    res = bench_units.bench(explainers=("integrated_gradients", "zero"), checks=("completeness", "dummy"), jobs=1,
                            pairs=1, baseline=True)
    pair = res["runs"][0]
    assert set(pair) == {"worker", "units"} and pair["worker"]["units"] == 0
    assert pair["worker"]["cells"] == pair["units"]["cells"] > 0 and res["identical"] is True
    assert bench_units.ENV["worker"] == {"XAICHECK_UNITS": "explainer", "XAICHECK_FIELD": "inline"}


def test_units_per_case_are_measured_on_request():
    res = bench_units.bench(explainers=("zero",), checks=("completeness", "dummy"), jobs=1, pairs=1, by_case=True)
    assert set(res["runs"][0]) == {"cell", "units"} and res["identical"] is True
    assert res["runs"][0]["units"]["units"] <= res["runs"][0]["units"]["cells"]
