"""Per-cell CPU time and output limits (issue 28, item 2; ``xaicheck.core.limits``).

Bounded on purpose (2 shared cores): the spinning cells have a 0.5 s timeout (so a 1 s soft CPU limit) and swallow
their alarm, the printing ones write 10 MB to a pipe, and every forked child is killed with its group when it
answers (``Forked.close``).
"""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

from xaicheck.axioms.isolation import Forked, Isolated, value_of
from xaicheck.core import limits
from xaicheck.core.limits import CPU_GRACE, OUTPUT_CAP, cpu_limits, recorded_limits

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _run(fn, *, timeout: float, grace: float = 60.0, **kw) -> object:
    """``fn`` in a :class:`Forked` child; its value or :class:`Isolated` reason (the child's group is killed)."""
    import select

    proc = Forked(fn, label="t", timeout=timeout, grace=grace, **kw)
    try:
        while not proc.feed():
            select.select([proc], [], [], 1.0)
            if proc.overdue():
                return Isolated("timeout", "overdue")
        return value_of(proc.outcome)
    finally:
        proc.close()


def _spin_ignoring_the_alarm() -> int:
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # work that swallows its wall-clock timeout
    n = 0
    while True:
        n += 1


def test_cpu_limits_follow_the_timeout() -> None:
    assert cpu_limits(0) is None
    assert cpu_limits(0.5) == (1, 1 + CPU_GRACE)
    assert cpu_limits(120) == (240, 240 + CPU_GRACE)
    assert recorded_limits(120)["RLIMIT_CPU"] == [240, 240 + CPU_GRACE]
    assert recorded_limits(0)["RLIMIT_CPU"] is None


def test_a_cell_that_spins_past_its_alarm_is_stopped_by_its_cpu_limit() -> None:
    """The soft CPU limit (1 s for a 0.5 s timeout) raises in the cell: an error naming the limit, well before the
    parent's own deadline (timeout + 60 s grace), and the caller's limit is untouched."""
    import resource

    before = resource.getrlimit(resource.RLIMIT_CPU)
    out = _run(_spin_ignoring_the_alarm, timeout=0.5)
    assert isinstance(out, Isolated) and out.status == "error", out
    assert out.message.startswith("CPU time limit exceeded") and "RLIMIT_CPU" in out.message, out.message
    assert "\n" not in out.message
    assert resource.getrlimit(resource.RLIMIT_CPU) == before


def test_a_cell_that_ignores_sigxcpu_dies_at_the_hard_limit_and_the_message_names_it(monkeypatch) -> None:
    """Work that ignores ``SIGXCPU`` is killed at the hard limit (soft + CPU_GRACE, here 1 + 1 s)."""
    monkeypatch.setattr(limits, "CPU_GRACE", 1)

    def stubborn() -> int:
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)
        return _spin_ignoring_the_alarm()

    out = _run(stubborn, timeout=0.5)
    assert isinstance(out, Isolated) and out.status == "error", out
    assert out.message.startswith("CPU time limit exceeded"), out.message


def test_a_cell_that_prints_10_mb_passes_on_only_the_cap(capfd) -> None:
    def loud() -> str:
        block = b"x" * 9999 + b"\n"
        for _ in range(500):
            os.write(1, block)
        for _ in range(500):
            os.write(2, block)
        os.write(1, b"done\n")  # (under pytest, print goes to pytest's own capture, not to descriptor 1)
        return "ok"

    assert _run(loud, timeout=30) == "ok"
    out, err = capfd.readouterr()
    assert out == ""  # the cell's stdout is captured too
    assert len(err) < OUTPUT_CAP + 1000
    assert f"wrote {10_000_000 + 5} bytes to stdout/stderr; the first {OUTPUT_CAP} were kept" in err


def test_small_output_is_passed_on_whole(capfd) -> None:
    def polite() -> int:
        os.write(1, b"hello from the cell\n")
        return 1

    assert _run(polite, timeout=30) == 1
    assert capfd.readouterr().err == "hello from the cell\n"


def test_a_reply_over_the_cap_is_refused_as_the_cells_error() -> None:
    out = _run(lambda: "y" * 50_000, timeout=30, reply_cap=10_000)
    assert isinstance(out, Isolated) and out.status == "error"
    assert "reply" in out.message and "10000 bytes" in out.message, out.message
    assert _run(lambda: "y" * 5_000, timeout=30, reply_cap=10_000) == "y" * 5_000


# -- the field process ---------------------------------------------------------------------------------------------

def _field_cell(fn, name: str, tmp_path, monkeypatch, timeout: float = 30.0):
    """One cell of a toy check for the explainer ``fn`` (run in the field process), forked as every cell is."""
    from xaicheck.axioms.cell import Cell, run_cell
    from xaicheck.explainers.base import Capabilities, FunctionExplainer
    from test_bench_fixtures import CHECKS

    from xaicheck.explainers import _field

    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(_field.FIELD_ENV, "process")  # conftest runs explainers inline elsewhere
    _field.warm()  # the zygote starts here, as a run starts it before its cells (not under a cell's limits)
    exp = FunctionExplainer(fn, name, capabilities=Capabilities(uses_baseline=True))
    check = CHECKS[0]
    case = check.cases()[0]
    return run_cell(Cell(exp, check, case, 0), timeout=timeout)


def _prints_10_mb(model, X, *, baseline, background, target, seed):
    import sys

    from test_bench_fixtures import W

    for _ in range(1000):
        sys.stdout.write("z" * 9999 + "\n")
    sys.stdout.flush()
    return (X - baseline) * W


def test_the_field_process_output_is_capped_with_its_cells(tmp_path, monkeypatch, capfd) -> None:
    record = _field_cell(_prints_10_mb, "loud_field", tmp_path, monkeypatch)
    assert record.status == "ok", record.message
    out, err = capfd.readouterr()
    assert out == "" and len(err) < OUTPUT_CAP + 1000
    assert "the first 1048576 were kept (output cap)" in err


def _spins(model, X, *, baseline, background, target, seed):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    n = 0
    while True:
        n += 1


def test_the_field_process_has_the_cells_cpu_limit(tmp_path, monkeypatch) -> None:
    """The explainer spins in the field process, not in the cell's: the field runs under the cell's RLIMIT_CPU (a
    1-2 s soft limit here, while the cell's wall-clock timeout is 30 s), dies of ``SIGXCPU``, and the cell records
    one line naming the limit."""
    monkeypatch.setattr(limits, "CPU_PER_WALL", 1 / 30)  # timeout 30 s -> soft CPU limit 1 s
    record = _field_cell(_spins, "spinning_field", tmp_path, monkeypatch, timeout=30.0)
    assert record.status == "error", (record.status, record.message)
    assert "CPU time limit exceeded" in record.message and "\n" not in record.message, record.message


def test_a_field_message_over_the_cap_is_refused_as_the_cells_error(tmp_path, monkeypatch) -> None:
    from test_bench_fixtures import _exact

    monkeypatch.setattr(limits, "REPLY_CAP", 64)  # any answer of the field is longer
    record = _field_cell(_exact, "exact_capped", tmp_path, monkeypatch)
    assert record.status == "error" and "64 bytes" in record.message, record.message


def test_provenance_records_the_cpu_and_output_limits(tmp_path, monkeypatch) -> None:
    from xaicheck.benchmarks import runner
    from xaicheck.benchmarks.suite import Suite
    from test_bench_fixtures import CHECKS, EXPLAINERS

    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "cache"))
    suite = Suite.from_objects("quick", [EXPLAINERS["exact"]], CHECKS[:1])
    runner.run_suite(suite, tmp_path / "out", jobs=1, timeout=40, progress=False, rerun_sample=0)
    record = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert record["cell_limits"] == recorded_limits(40)
    assert record["cell_limits"]["RLIMIT_CPU"] == [80, 80 + CPU_GRACE]
    assert record["cell_limits"]["output_bytes"] == OUTPUT_CAP
