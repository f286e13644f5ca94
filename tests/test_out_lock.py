"""One run at a time per ``--out`` (issue 28, item 6): a second run into a folder in use exits with one line.

A separate process holds ``OUT/.lock`` (bounded: it sleeps at most 60 s and is killed with its process group at the
end of the test); ``xaicheck run`` and ``run_suite`` into that folder refuse at once, without running a cell.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from xaicheck.benchmarks import cli, runner
from xaicheck.benchmarks.out_lock import OutLocked, out_lock
from test_bench_fixtures import toy_suite

HOLDER = """
import sys, time
from xaicheck.benchmarks.out_lock import out_lock
with out_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def held(tmp_path):
    """``tmp_path/out`` locked by another process (its pid is yielded with the folder)."""
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready and proc.stdout.readline().strip() == "held", "the lock holder did not start"
        yield out, proc.pid
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
        proc.stdout.close()


def test_a_second_run_into_a_folder_in_use_exits_with_one_line(held, capsys):
    out, pid = held
    code = cli.main(["run", "--suite", "quick", "--explainers", "zero", "--checks", "completeness", "--jobs", "1",
                     "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert err.splitlines() == [f"xaicheck run: error: another xaicheck run is using {out} (pid {pid}); wait for it "
                                "to finish or choose another --out"]
    assert not (out / "scores.csv").exists() and not (out / ".partial").exists()


def test_run_suite_refuses_a_locked_folder_and_runs_once_it_is_free(held, tmp_path):
    out, _ = held
    suite = toy_suite("quick", ("exact",))
    with pytest.raises(OutLocked, match="another xaicheck run is using"):
        runner.run_suite(suite, out, jobs=1, progress=False)
    assert not (out / "scores.csv").exists()
    free = tmp_path / "free"
    assert runner.run_suite(suite, free, jobs=1, progress=False, rerun_sample=0).ran == len(suite.cells())
    assert (free / ".lock").is_file() and ".lock" in (free / ".gitignore").read_text().split()


def test_the_lock_is_reentrant_in_one_process_and_released_after(tmp_path):
    with out_lock(tmp_path) as path:
        with out_lock(tmp_path):
            assert Path(path).read_text().strip() == str(os.getpid())
    probe = subprocess.run([sys.executable, "-c", "import sys\nfrom xaicheck.benchmarks.out_lock import out_lock\n"
                            "with out_lock(sys.argv[1]): print('got it')", str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "got it", probe.stderr


def test_a_link_at_the_lock_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").symlink_to(target)
    with pytest.raises(Exception, match="symbolic link"):
        runner.run_suite(toy_suite("quick", ("exact",)), out, jobs=1, progress=False)
    assert target.read_text() == "keep\n"
