"""Command-line usability (issue 27.3): ``--quiet`` is one line; progress shows done/total, percent and a
cost-weighted time left; library output of the cells goes to ``run.log``, not between the progress lines; the
default ``--out`` never rewrites committed results; "did you mean" for names; ``--models my_zoo.py`` works. No
wall-clock assertion: the progress tests drive a fake clock."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from xaicheck.benchmarks import cli
from xaicheck.benchmarks.progress import Progress, format_seconds
from xaicheck.benchmarks.run_log import library_output_to
from test_user_models import readme_zoo

TINY = ["--suite", "quick", "--explainers", "zero", "--checks", "completeness", "--jobs", "1"]


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _rec(cell_id: str) -> SimpleNamespace:
    return SimpleNamespace(cell_id=cell_id, status="ok")


def test_progress_weights_time_left_by_the_scheduled_cost() -> None:
    clock, out = Clock(), io.StringIO()
    # longest first: the 90-unit cell finishes after 90 s; the nine 1-unit cells are left (9 units)
    costs = {"big": 90.0, **{f"s{i}": 1.0 for i in range(9)}}
    p = Progress(10, 0, costs, console=out, clock=clock)
    clock.t += 90
    p.update(_rec("big"))
    assert p.seconds_left() == pytest.approx(9.0)  # 90 s * 9 / 90; a count-based rate would say 810 s
    assert p.status() == "1/10 cells (10%), 1 min 30 s elapsed, about 9 s left"
    assert out.getvalue() == "xaicheck: 1/10 cells (10%), 1 min 30 s elapsed, about 9 s left (last big: ok)\n"
    for i in range(9):
        clock.t += 1
        p.update(_rec(f"s{i}"))
    assert p.status().startswith("10/10 cells (100%), 1 min 39 s elapsed") and "left" not in p.status()


def test_progress_without_estimates_counts_cells_and_resumes_from_initial() -> None:
    clock = Clock()
    p = Progress(8, 4, None, console=io.StringIO(), clock=clock)
    assert p.seconds_left() is None and p.status() == "4/8 cells (50%), 0 s elapsed"
    clock.t += 10
    p.update(_rec("a"))
    assert p.seconds_left() == pytest.approx(30.0)  # 10 s for 1 cell, 3 to go
    assert format_seconds(3725) == "1 h 02 min"


CELL_SCRIPT = """
import os, sys, warnings
from xaicheck.benchmarks.run_log import library_output_to
with library_output_to(sys.argv[1]) as console:
    print("xaicheck: 1/2 cells (50%)", file=console, flush=True)
    pid = os.fork()
    if pid == 0:  # a cell: a Python warning and a raw write to descriptor 2, as shap and numba do
        try:
            warnings.warn("unrecognized nn.Module: PairwiseProducts")
            os.write(2, b"raw library note\\n")
            sys.stderr.flush()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    warnings.warn("a warning in the parent during the run")
    print("xaicheck: 2/2 cells (100%)", file=console, flush=True)
print("after the run", file=sys.stderr)
"""


def test_library_output_of_forked_cells_goes_to_the_log_not_the_console(tmp_path) -> None:
    log = tmp_path / "run.log"
    proc = subprocess.run([sys.executable, "-c", CELL_SCRIPT, str(log)], capture_output=True, text=True,
                          timeout=120, check=True)
    assert proc.stderr == "xaicheck: 1/2 cells (50%)\nxaicheck: 2/2 cells (100%)\nafter the run\n"
    text = log.read_text()
    assert "unrecognized nn.Module: PairwiseProducts" in text and "raw library note" in text
    assert "a warning in the parent during the run" in text


def test_quiet_prints_one_line(tmp_path, capfd) -> None:
    assert cli.main(["run", *TINY, "--out", str(tmp_path / "o"), "--quiet"]) == 0
    cap = capfd.readouterr()
    lines = [ln for ln in (cap.out + cap.err).splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(tuple("0123456789")) and "report.html" in lines[0]


def test_a_run_shows_percent_and_keeps_library_output_in_the_log(tmp_path, capfd) -> None:
    out = tmp_path / "o"
    assert cli.main(["run", *TINY, "--out", str(out)]) == 0
    err = capfd.readouterr().err
    assert "cells (100%)" in err  # the last progress line (not a terminal: plain lines)
    assert (out / "run.log").exists() and "run.log" in (out / ".gitignore").read_text()


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_default_out_refuses_committed_results(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "scores.csv").write_text("committed\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["init", "-q"], ["add", "results"], ["commit", "-qm", "results"]):
        subprocess.run(["git", "-C", str(tmp_path), *cmd], check=True, env=env, capture_output=True)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "results/ holds committed results (1 files tracked by git)" in err[0]
    assert "--out results to overwrite" in err[0]
    assert (tmp_path / "results" / "scores.csv").read_text() == "committed\n"
    # said explicitly, it runs there
    assert cli.main(["run", *TINY, "--out", "results", "--quiet"]) == 0
    assert (tmp_path / "results" / "scores.csv").read_text() != "committed\n"


def test_default_out_outside_a_repository_is_results(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", *TINY, "--quiet"]) == 0
    assert (tmp_path / "results" / "scores.csv").is_file()


@pytest.mark.parametrize("argv, needle", [
    (["--explainers", "shap_kernal"], "unknown explainer 'shap_kernal' (did you mean 'shap_kernel'?)"),
    (["--checks", "completnes"], "unknown check 'completnes' (did you mean 'completeness'?)"),
])
def test_a_mistyped_name_gets_did_you_mean(tmp_path, capsys, argv, needle) -> None:
    assert cli.main(["run", "--suite", "quick", "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_models_accepts_a_py_path_and_explains_a_missing_one(tmp_path, capsys) -> None:
    zoo = tmp_path / "zoo_dir" / "my_path_zoo.py"
    zoo.parent.mkdir()
    zoo.write_text(readme_zoo(), encoding="utf-8")
    sys.modules.pop("my_path_zoo", None)
    try:
        assert cli.main(["run", "--models", str(zoo), *TINY, "--out", str(tmp_path / "o"), "--quiet"]) == 0
    finally:
        sys.modules.pop("my_path_zoo", None)
        if str(zoo.parent) in sys.path:
            sys.path.remove(str(zoo.parent))
    assert "conflicting_features" in (tmp_path / "o" / "scores.csv").read_text()
    capsys.readouterr()
    assert cli.main(["run", "--models", "nowhere/my_zoo.py", *TINY, "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--models takes a module name (e.g. --models my_zoo" in err[0], err
