"""Every cell in its own sandbox (issue 28): nothing a cell does reaches another cell, the machine, or outside --out.

Explainers of ``_sandbox_faults.py`` patch ``torch.autograd.grad``, exhaust file descriptors, change directory, set
``XAICHECK_CACHE_DIR``, fork a copy that returns into the cell's code, and leave children (one in its own session).
They run beside clean explainers (``zero``, and ``saliency`` / ``integrated_gradients``, which need the autograd the
patch breaks) on ``--jobs 1``, ``--jobs 2`` and the Dask engine, with a *relative* ``--out``: the clean rows of
``scores.csv`` and ``evidence.jsonl`` are byte-identical to a clean run, no process any cell started survives the
run, nothing is written outside ``--out``. A run aborted while a cell with children hangs leaves no process. A
reply on a cell's pipe from another process, or with another nonce, is discarded (and logged), never accepted.
Bounded: a few forks per cell, 256 descriptors, 120 s sleeps; every noted process is killed in a ``finally``.
"""

from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _sandbox_faults as sf  # noqa: E402

from xaicheck.axioms.isolation import Forked, value_of  # noqa: E402
from xaicheck.benchmarks import runner  # noqa: E402
from xaicheck.benchmarks.engines import LocalEngine  # noqa: E402
from xaicheck.benchmarks.records import PartialLog  # noqa: E402
from xaicheck.benchmarks.suite import Suite  # noqa: E402
from xaicheck.axioms.base import get_check  # noqa: E402
from xaicheck.explainers.base import get_explainer  # noqa: E402

CLEAN = ("integrated_gradients", "saliency", "zero")
CHECKS = ("completeness", "sensitivity")  # quick cases on torch models: the clean explainers need autograd
TIMEOUT = 30.0


def _suite(names: tuple[str, ...]) -> Suite:
    explainers = [sf.make(n) if n.startswith("sandbox_") else get_explainer(n) for n in names]
    return Suite.from_objects("quick", explainers, [get_check(c) for c in CHECKS])


def _lines(path: Path, names: tuple[str, ...]) -> list[str]:
    import json

    if path.suffix == ".jsonl":
        return [line for line in path.read_text().splitlines() if json.loads(line)["explainer"] in names]
    return [line for line in path.read_text().splitlines() if line.split(",")[0] in names]


def _files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")) if directory.exists() else []


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """``$XAICHECK_TEST_SANDBOX`` and a working directory of its own (``--out`` is given relative to it)."""
    box = tmp_path / "sandbox"
    box.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv(sf.SANDBOX_ENV, str(box))
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(work)
    try:
        yield box, work
    finally:
        sf.kill_noted()


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    runner.run_suite(_suite(CLEAN), out, jobs=1, timeout=TIMEOUT, progress=False, rerun_sample=0)
    return out


def _engine(kind: str):
    if kind == "dask":
        pytest.importorskip("distributed")
        from xaicheck.benchmarks.engine_dask import DaskEngine

        return DaskEngine(workers=2, grace=1.0)
    return LocalEngine(int(kind))


@pytest.mark.parametrize("kind", ["1", "2", "dask"])
def test_no_cell_reaches_another_cell_the_machine_or_outside_out(kind, clean, sandbox):
    box, work = sandbox
    suite = _suite((*sf.ESCAPES, *CLEAN))
    with _engine(kind) as engine:
        summary = runner.run_suite(suite, "out", engine=engine, timeout=TIMEOUT, progress=False, rerun_sample=0)
    out = work / "out"
    assert summary.out.is_absolute() and summary.out == out
    for name in ("scores.csv", "evidence.jsonl"):  # the clean explainers' rows: as in a run without the faults
        assert _lines(out / name, CLEAN) == _lines(clean / name, CLEAN), name
    by = {(r.explainer, r.check, r.case): r for r in summary.records}
    assert all(r.status in ("ok", "not_applicable") for r in summary.records if r.explainer in CLEAN)
    assert sum(1 for r in summary.records if r.explainer == "sandbox_leaves_children" and r.status == "ok") >= 2
    assert by[("sandbox_forks", "completeness", "and")].status == "ok"
    pids = sf.noted_pids()
    assert len(pids) >= 6  # the children and forks of the cells were started (and noted)
    deadline = time.monotonic() + 10  # a killed process may take a moment to be reaped by init
    while any(sf.alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in pids if sf.alive(p)] == []  # no process a cell started survives the run
    assert _files(box / "elsewhere") == []  # nothing written where a cell moved to, nor to its cache variable
    assert sorted(p.name for p in work.iterdir()) == ["out"]  # and nothing beside --out in the working directory


def test_an_aborted_run_leaves_no_process(sandbox, monkeypatch):
    """Ctrl-C while a cell that started children hangs: the run stops and every process of it is gone."""
    box, work = sandbox
    suite = _suite(("sandbox_aaa_hangs", "zero"))
    real = PartialLog.append

    def interrupted(self, rec):
        end = time.monotonic() + 20
        while len(sf.noted_pids()) < 3 and time.monotonic() < end:  # the hanging cell has started its children
            time.sleep(0.05)
        raise KeyboardInterrupt

    monkeypatch.setattr(PartialLog, "append", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.run_suite(suite, "out", jobs=2, timeout=TIMEOUT, progress=False, warm=False)
    monkeypatch.setattr(PartialLog, "append", real)
    pids = sf.noted_pids()
    assert len(pids) >= 3
    deadline = time.monotonic() + 10
    while any(sf.alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in pids if sf.alive(p)] == []


def _forger() -> str:
    """In the forked child: write a forged reply from a grandchild (right label and nonce, another pid) and one
    with a wrong nonce on every pipe this process can write, then answer for real."""
    import gc
    import json

    me = next(o for o in gc.get_objects() if isinstance(o, Forked) and not hasattr(o, "pid"))
    # every pipe the cell's fork holds that the test process did not already hold: never the test runner's own
    # channels (pytest-xdist talks to its controller over inherited pipes; a forged line there hangs the run)
    pipes = [fd for fd, link in _pipes().items() if link not in _PIPES_BEFORE]

    def forge(pid: int, nonce: str) -> None:
        line = json.dumps({"label": me.label, "pid": pid, "nonce": nonce, "value": "forged"}).encode() + b"\n"
        for fd in pipes:
            try:
                os.write(fd, line)
            except OSError:
                pass

    child = os.fork()
    if child == 0:
        forge(os.getpid(), me.nonce)
        os._exit(0)
    os.waitpid(child, 0)
    forge(os.getpid(), "0" * 32)
    return "real"


def _pipes() -> dict[int, str]:
    """This process's pipe descriptors: ``{fd: "pipe:[inode]"}``."""
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the descriptor listdir itself used, closed by now
            continue
        if link.startswith("pipe:"):
            out[int(fd)] = link
    return out


#: The pipes of the test process before the cell starts (set by the test; read in the fork).
_PIPES_BEFORE: set[str] = set()


def test_a_reply_from_another_process_or_with_another_nonce_is_discarded(capfd):
    _PIPES_BEFORE.clear()
    _PIPES_BEFORE.update(_pipes().values())
    proc = Forked(_forger, label="e/c/k/s0", timeout=20.0, grace=1.0)
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if select.select([proc.fd], [], [], 0.5)[0] and proc.feed():
                break
    finally:
        proc.close()
    assert value_of(proc.outcome) == "real"
    err = capfd.readouterr().err
    assert err.count("xaicheck: discarded a message on the pipe of cell e/c/k/s0") == 2, err
