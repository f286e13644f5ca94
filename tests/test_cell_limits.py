"""Per-cell resource limits (issue 28, item 2): every forked cell runs under ``isolation.CELL_LIMITS``.

An explainer that opens 5000 files fails its own cell with "Too many open files" (the open-file limit is 1024), the
next cell of the same explainer starts fresh and passes, and the limits are recorded in ``provenance.json``. The
leaking explainer opens ``/dev/null`` only, and the cell's process is killed with its group when it answers, so
the test is bounded.
"""

from __future__ import annotations

import json
import resource

from xaicheck.axioms.isolation import CELL_LIMITS
from xaicheck.core.limits import recorded_limits
from xaicheck.benchmarks import runner
from xaicheck.benchmarks.suite import Suite
from xaicheck.explainers.base import Capabilities, FunctionExplainer
from test_bench_fixtures import CHECKS, EXPLAINERS

_OPENED: list[int] = []


def _leaks_in_the_first_cell(model, X, *, baseline, background, target, seed):
    """Opens 5000 descriptors in the first cell it sees (marked by a file), then answers exactly."""
    import os

    from test_bench_fixtures import W

    flag = os.environ["XAICHECK_TEST_LEAK_FLAG"]
    if not os.path.exists(flag):
        open(flag, "w").close()
        for _ in range(5000):
            _OPENED.append(os.open(os.devnull, os.O_RDONLY))
    return (X - baseline) * W


def test_a_cell_that_opens_5000_files_fails_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("XAICHECK_TEST_LEAK_FLAG", str(tmp_path / "leaked"))
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "cache"))
    leaky = FunctionExplainer(_leaks_in_the_first_cell, "leaky", capabilities=Capabilities(uses_baseline=True))
    suite = Suite.from_objects("quick", [leaky, EXPLAINERS["exact"]], CHECKS)
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    summary = runner.run_suite(suite, tmp_path / "out", jobs=1, progress=False, rerun_sample=0)
    leaked = [r for r in summary.records if r.explainer == "leaky" and r.status == "error"]
    assert len(leaked) == 1 and "Too many open files" in leaked[0].message
    others = [r for r in summary.records if r is not leaked[0]]
    assert len(others) == 3 and all(r.status == "ok" for r in others)
    exact = {r.check: r.score for r in others if r.explainer == "exact"}
    assert all(r.score == exact[r.check] for r in others if r.explainer == "leaky")  # the next cell is fresh
    record = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert record["cell_limits"] == recorded_limits(runner.DEFAULT_TIMEOUT)
    assert {k: record["cell_limits"][k] for k in CELL_LIMITS} == CELL_LIMITS
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == before  # the caller's own limit is untouched


def test_limits_are_only_lowered():
    """A limit already below ``CELL_LIMITS`` is kept; an unlimited one is lowered to it."""
    import subprocess
    import sys

    code = ("import resource\nfrom xaicheck.axioms.isolation import limit_cell\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))\n"
            "print(limit_cell()['RLIMIT_NOFILE'], resource.getrlimit(resource.RLIMIT_NOFILE)[1],"
            " resource.getrlimit(resource.RLIMIT_AS)[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["256", "256", str(8 * 1024 ** 3)], out.stderr
