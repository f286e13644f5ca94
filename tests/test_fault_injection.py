"""Fault injection (issue 17 item 2): a faulty explainer costs its own cells, on every path.

Each fault in ``tests/_faults.py`` (raises, ``sys.exit``, ``os._exit``, SIGKILL, SIGSEGV, hangs, swallows the alarm,
raises KeyboardInterrupt, complex output, ``None``) runs through the CLI with ``--jobs 1`` and ``--jobs 2``, through
``check_explainer`` and through the pytest plugin, on one check with one quick case: every run finishes, each faulty
cell carries its status and a message naming what happened, and the clean explainers' rows are byte-identical to a
clean run. An explainer that ignores its seed is flagged nondeterministic; a tensor with ``requires_grad`` works.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _faults import FAULTS, SPECIAL, make, register_faults, unregister_faults  # noqa: E402

from xaicheck.axioms import isolation  # noqa: E402
from xaicheck.axioms.pytest_api import check_explainer  # noqa: E402
from xaicheck.benchmarks import runner  # noqa: E402
from xaicheck.benchmarks.cli import main  # noqa: E402
from xaicheck.explainers.base import explainer_names  # noqa: E402

CLEAN = ("zero", "constant")
CHECK = "linearity"  # one quick case
TIMEOUT = "5"
ALL = [*FAULTS, *SPECIAL, *CLEAN]


@pytest.fixture(scope="module", autouse=True)
def faults():
    explainer_names()  # load the built-ins first
    register_faults()
    grace = (runner.KILL_GRACE, isolation.KILL_GRACE)
    runner.KILL_GRACE = isolation.KILL_GRACE = 1.0
    yield
    runner.KILL_GRACE, isolation.KILL_GRACE = grace
    unregister_faults()


def _rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["explainer"]: r for r in csv.DictReader(io.StringIO(path.read_text()))}


def _lines(path: Path, names: tuple[str, ...]) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.split(",")[0] in names]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    assert main(["run", "--suite", "quick", "--out", str(out), "--explainers", ",".join(CLEAN), "--checks", CHECK,
                 "--timeout", TIMEOUT, "--quiet", "--jobs", "1"]) == 0
    return out / "scores.csv"


def _assert_faults(rows: dict[str, dict[str, str]]) -> None:
    for name, (_, status, text) in FAULTS.items():
        assert rows[name]["status"] == status, (name, rows[name])
        assert text in rows[name]["message"], (name, rows[name]["message"])
    assert rows["fault_grad_tensor"]["status"] == "ok", rows["fault_grad_tensor"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_survives_every_fault_and_clean_rows_are_unchanged(jobs, clean_run, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "--suite", "quick", "--out", str(out), "--explainers", ",".join(ALL), "--checks", CHECK,
                 "--timeout", TIMEOUT, "--quiet", "--jobs", jobs])
    assert code == 0
    _assert_faults(_rows(out / "scores.csv"))
    assert _lines(out / "scores.csv", CLEAN) == _lines(clean_run, CLEAN)
    determinism = _rows(out / "determinism.csv")
    assert determinism["fault_ignores_seed"]["nondeterministic"] == "true"
    assert {determinism[n]["nondeterministic"] for n in (*CLEAN, "fault_grad_tensor")} == {"false"}
    assert "nondeterministic (same seed, different result): fault_ignores_seed" in capsys.readouterr().out
    assert not (out / ".partial").exists()  # every cell was recorded: nothing left for a resume to loop on


def test_check_explainer_survives_every_fault_and_clean_results_are_unchanged():
    before = check_explainer("zero", checks=[CHECK], timeout=float(TIMEOUT))
    for name, (_, status, text) in FAULTS.items():
        df = check_explainer(make(name), checks=[CHECK], timeout=float(TIMEOUT))
        assert list(df["status"]) == [status] and text in df["message"].iloc[0], (name, df.to_dict("records"))
    assert check_explainer(make("fault_grad_tensor"), checks=[CHECK])["status"].tolist() == ["ok"]
    after = check_explainer("zero", checks=[CHECK], timeout=float(TIMEOUT))
    assert before.to_dict("records") == after.to_dict("records")


CONFTEST = """
import sys
sys.path.insert(0, {tests!r})
from _faults import register_faults
from xaicheck.explainers.base import explainer_names
from xaicheck.axioms import isolation
explainer_names()
register_faults()
isolation.KILL_GRACE = 1.0
from xaicheck.benchmarks import runner
runner.KILL_GRACE = 1.0
"""
TEST_FILE = """
def test_cell(xaicheck_cell, xaicheck_session):
    xaicheck_session.check(xaicheck_cell)
"""


def test_pytest_plugin_survives_every_fault_and_clean_rows_are_unchanged(clean_run, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "conftest.py").write_text(CONFTEST.format(tests=str(Path(__file__).parent)))
    (project / "test_cells.py").write_text(TEST_FILE)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_cells.py", "--xaicheck-suite", "quick",
         "--xaicheck-explainers", ",".join(ALL), "--xaicheck-checks", CHECK, "--xaicheck-timeout", TIMEOUT,
         "--xaicheck-out", str(out)], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # the faulty cells fail, the run ends
    # every fault fails its cell, and so does the seed-ignoring explainer (random attributions are not linear)
    assert f"{len(FAULTS) + 1} failed, {len(CLEAN) + 1} passed" in proc.stdout, proc.stdout[-2000:]
    _assert_faults(_rows(out / "scores.csv"))
    assert _lines(out / "scores.csv", CLEAN) == _lines(clean_run, CLEAN)
