"""Units (``axioms.unit``): the cells of one explainer and seed (at most ``MAX_UNIT_CELLS`` of them) share one exam
process and one field process, and each still starts as a fresh cell would.

Shown here, with explainers in field processes (``XAICHECK_FIELD=process``, the default of a run):
- grouping: one unit per explainer and seed, chunked, cells sorted by key; ``XAICHECK_UNITS=case`` one per explainer,
  case and seed; ``XAICHECK_UNITS=cell`` and inline mode a unit per cell;
- a run in units writes the same ``scores.csv`` and ``evidence.jsonl`` as a run with a process per cell, also for an
  explainer that draws from the global numpy state without a seed (the random states are rewound per cell);
- an explainer that leaves descriptors open, sets a variable, changes directory or patches a library function in
  its first cell gets a fresh field process for its next cell of the unit (the field is not rewound when it is not as
  it started), and that cell passes;
- a unit whose running cell kills its process records that cell as an error, keeps the cells answered before it and
  runs the cells after it in a fresh unit;
- each cell of a unit answers in order, with its own label.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from xaicheck.axioms.base import Check, CheckResult
from xaicheck.axioms.cell import Cell
from xaicheck.axioms.unit import start_unit, unit_key, units_of
from xaicheck.benchmarks import runner
from xaicheck.benchmarks.suite import Suite
from xaicheck.explainers.base import Capabilities, FunctionExplainer
from test_bench_fixtures import CHECKS, EXPLAINERS, W, _cases

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="field processes need Linux")


@pytest.fixture
def field(monkeypatch, tmp_path):
    monkeypatch.setenv("XAICHECK_FIELD", "process")
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("XAICHECK_UNITS", raising=False)
    return tmp_path


def _unseeded(model, X, *, baseline, background, target, seed):
    """Exact attributions plus a draw from numpy's *global* state (no seed): the same in every fresh process."""
    return (X - baseline) * W + np.random.uniform(0, 1e-3)


def _leave(kind: str) -> None:
    """Leave one kind of residue in this (field) process."""
    import signal

    import torch

    if kind == "descriptors":
        for _ in range(50):
            os.open(os.devnull, os.O_RDONLY)
    elif kind == "environment":
        os.environ["XAICHECK_TEST_RESIDUE"] = "1"
    elif kind == "cwd":
        os.chdir("/")
    elif kind == "signal":
        signal.signal(signal.SIGUSR1, lambda *args: None)
    elif kind == "dtype":
        torch.set_default_dtype(torch.float64)
    elif kind == "patch":
        original = torch.autograd.grad

        def wrapped(*args, **kwargs):
            return original(*args, **kwargs)

        wrapped.patched = True
        torch.autograd.grad = wrapped


def _sees(kind: str) -> bool:
    """Whether this process holds the residue ``kind`` leaves."""
    import signal

    import torch

    return {"descriptors": lambda: len(os.listdir("/proc/self/fd")) > 40,
            "environment": lambda: "XAICHECK_TEST_RESIDUE" in os.environ,
            "cwd": lambda: os.getcwd() == "/",
            "signal": lambda: callable(signal.getsignal(signal.SIGUSR1)),
            "dtype": lambda: torch.get_default_dtype() == torch.float64,
            "patch": lambda: getattr(torch.autograd.grad, "patched", False)}[kind]()


def _leaves_residue(model, X, *, baseline, background, target, seed, flag, kind):
    """Exact, but the first call (marked by the file ``flag``) leaves the residue ``kind`` and answers zeros; a later
    call that finds the residue answers zeros too."""
    if not os.path.exists(flag):
        open(flag, "w").close()
        _leave(kind)
        return (X - baseline) * W * 0.0
    return (X - baseline) * W * (0.0 if _sees(kind) else 1.0)


RESIDUES = ("descriptors", "environment", "cwd", "signal", "dtype", "patch")


@pytest.mark.parametrize("kind", RESIDUES)
def test_a_field_left_unlike_its_start_is_replaced_for_the_next_cell(field, monkeypatch, kind):
    """Issue 28's list (descriptors, environment, working directory, signal handlers, dtype defaults, patched
    libraries): each, left by an explainer's first cell, sends its next cell of the unit to a fresh field process."""
    import functools

    monkeypatch.setenv("XAICHECK_SHARE_ATTRIBUTIONS", "0")  # the second cell asks its own question
    residue = FunctionExplainer(functools.partial(_leaves_residue, flag=str(field / "flag"), kind=kind), "residue",
                                capabilities=Capabilities(uses_baseline=True))
    summary = runner.run_suite(_suite([residue]), field / "out", jobs=1, progress=False, rerun_sample=0)
    by_check = {r.check: r for r in summary.records}
    assert set(by_check) == {"bench_toy_dummy", "bench_toy_truth"}  # one unit: the first cell leaves the residue
    assert (field / "flag").exists() and by_check["bench_toy_dummy"].status == "ok"
    assert by_check["bench_toy_truth"].score == pytest.approx(1.0)  # a fresh field: no residue seen
    assert os.environ.get("XAICHECK_TEST_RESIDUE") is None and os.getcwd() != "/"


class _Dies(Check):
    """Scores 1, except on case ``toy_b`` where it kills its own process (``os._exit``)."""

    name = "bench_toy_dies"
    category = "axioms"
    threshold = 0.5
    citation = "test"

    def cases(self):
        return _cases(self.name)

    def evaluate(self, explainer, case, seed):
        case.explain(explainer, seed=seed)
        if case.name == "toy_b":
            os._exit(3)
        return CheckResult.scored(1.0, self.threshold, "fine", {"measured": 1.0})


def _suite(explainers, checks=CHECKS, name="quick") -> Suite:
    return Suite.from_objects(name, explainers, checks)


def test_units_group_one_explainer_and_seed_sorted_by_key(field, monkeypatch):
    from xaicheck.axioms import unit

    suite = _suite([EXPLAINERS["exact"], EXPLAINERS["noisy"]], name="full")
    cells = suite.cells()
    order = list(reversed(range(len(cells))))
    units = units_of(cells, order)
    assert sorted(i for u in units for i in u) == sorted(order)
    for u in units:
        assert len({(cells[i].explainer.name, cells[i].seed) for i in u}) == 1
        assert [cells[i].key for i in u] == sorted(cells[i].key for i in u)
    assert len(units) == len({(c.explainer.name, c.seed) for c in cells}) < len(cells)
    assert order[0] in units[0]  # the unit of the costliest cell (first in the schedule) goes first
    monkeypatch.setattr(unit, "MAX_UNIT_CELLS", 3)
    chunked = units_of(cells, order)
    assert max(len(u) for u in chunked) == 3 and sorted(i for u in chunked for i in u) == sorted(order)
    monkeypatch.setattr(unit, "MAX_UNIT_CELLS", 64)
    monkeypatch.setenv("XAICHECK_UNITS", "case")
    by_case = units_of(cells, order)
    assert all(len({unit_key(cells[i]) for i in u}) == 1 for u in by_case)
    assert len(by_case) == len({unit_key(c) for c in cells})
    monkeypatch.setenv("XAICHECK_UNITS", "cell")
    assert units_of(cells, order) == [[i] for i in order]
    monkeypatch.delenv("XAICHECK_UNITS")
    monkeypatch.setenv("XAICHECK_FIELD", "inline")
    assert units_of(cells, order) == [[i] for i in order]  # inline: the explainer runs in the exam process
    monkeypatch.setenv("XAICHECK_UNITS", "explainer")  # the benchmark baseline: asked for explicitly
    assert len(units_of(cells, order)) == len({(c.explainer.name, c.seed) for c in cells})
    monkeypatch.setenv("XAICHECK_UNITS", "nonsense")
    with pytest.raises(ValueError, match="XAICHECK_UNITS"):
        units_of(cells, order)


class _Echo(Check):
    """Scores 1 and keeps the attributions in its evidence (two of them, under two names, judge one case)."""

    category = "axioms"
    threshold = 0.5
    citation = "test"

    def __init__(self, name: str) -> None:
        self.name = name

    def cases(self):
        return _cases(self.name)

    def evaluate(self, explainer, case, seed):
        a = case.explain(explainer, seed=seed)
        return CheckResult.scored(1.0, self.threshold, "echo", {"attributions": a.tolist()})


def test_each_cell_of_a_unit_starts_from_the_same_random_state(field, monkeypatch):
    """An explainer drawing from numpy's global state without a seed: both cells of its unit draw the same number
    (the field's random states are rewound), as two fresh processes would."""
    monkeypatch.setenv("XAICHECK_SHARE_ATTRIBUTIONS", "0")  # the second cell asks its own question
    unseeded = FunctionExplainer(_unseeded, "unseeded", capabilities=Capabilities(uses_baseline=True))
    suite = _suite([unseeded], [_Echo("bench_echo_a"), _Echo("bench_echo_b")])
    assert len({unit_key(c) for c in suite.cells()}) == 1 and len(suite.cells()) == 2
    summary = runner.run_suite(suite, field / "out", jobs=1, progress=False, rerun_sample=0)
    first, second = (r.evidence["attributions"] for r in sorted(summary.records, key=lambda r: r.check))
    assert first == second
    exact = ((suite.cells()[0].case.X - suite.cells()[0].case.baseline) * W).tolist()
    assert first != exact  # the draw is there: the equality above is about the random state


def test_a_run_in_units_writes_the_bytes_of_a_run_with_a_process_per_cell(field, monkeypatch):
    suite = _suite([EXPLAINERS["exact"], EXPLAINERS["noisy"], EXPLAINERS["random"]], name="default")
    out = {}
    for mode in ("case", "cell"):
        monkeypatch.setenv("XAICHECK_UNITS", mode)
        summary = runner.run_suite(suite, field / mode, jobs=2, progress=False, rerun_sample=0)
        assert all(r.status == "ok" for r in summary.records), [r.message for r in summary.records]
        out[mode] = {f: (field / mode / f).read_bytes() for f in ("scores.csv", "evidence.jsonl")}
    assert out["case"] == out["cell"]
    units = {unit_key(c) for c in suite.cells()}
    assert len(units) < len(suite.cells())  # the comparison did put several cells in one unit


def test_a_unit_that_dies_keeps_earlier_records_and_reruns_later_cells_fresh(field):
    checks = [_Dies(), *CHECKS]
    suite = _suite([EXPLAINERS["exact"]], checks, name="default")
    cells = [c for c in suite.cells() if c.case.name == "toy_b"]
    assert [c.check.name for c in cells] == ["bench_toy_dies", "bench_toy_dummy", "bench_toy_truth"]
    unit = start_unit(cells, timeout=60)
    import select

    while not unit.feed():
        select.select([unit], [], [], 5)
    records, rest = unit.finish()
    assert [r.check for r in records] == ["bench_toy_dies"]
    assert records[0].status == "error" and "exited with code 3" in records[0].message
    assert [c.check.name for c in rest] == ["bench_toy_dummy", "bench_toy_truth"]
    summary = runner.run_suite(suite, field / "out", jobs=1, progress=False, rerun_sample=0)
    got = {(r.check, r.case): r.status for r in summary.records}
    assert got[("bench_toy_dies", "toy_b")] == "error"
    assert all(v == "ok" for k, v in got.items() if k != ("bench_toy_dies", "toy_b"))


def test_a_unit_answers_each_cell_in_order(field):
    suite = _suite([EXPLAINERS["exact"]], name="default")
    cells = [c for c in suite.cells() if c.case.name == "toy_a"]
    unit = start_unit(cells, timeout=60)
    import select

    seen: list[str] = []
    while not unit.feed():
        select.select([unit], [], [], 5)
        seen += [r.cell_id for r in unit.take()]
    records, rest = unit.finish()
    seen += [r.cell_id for r in records]
    assert seen == [c.id for c in cells] and rest == []
    with pytest.raises(ValueError, match="one explainer with one seed"):
        start_unit(_suite([EXPLAINERS["exact"], EXPLAINERS["noisy"]]).cells(), timeout=60)


def test_cells_are_one_unit_only_when_explainer_case_and_seed_agree():
    suite = _suite([EXPLAINERS["exact"], EXPLAINERS["noisy"]], name="default")
    for a in suite.cells():
        for b in suite.cells():
            same = (a.explainer.name, a.case.name, a.seed) == (b.explainer.name, b.case.name, b.seed)
            assert (unit_key(a) == unit_key(b)) == same
    assert isinstance(suite.cells()[0], Cell)
