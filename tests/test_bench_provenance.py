"""Provenance names the source commit; the run's own ``results/`` output does not make the tree dirty."""

import subprocess
from pathlib import Path

from xaicheck.benchmarks.provenance import git_commit


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_results_changes_are_not_dirty_but_source_changes_are(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@example.invalid")
    _git(tmp_path, "config", "user.name", "t")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "scores.csv").write_text("a\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "init")
    clean = git_commit(tmp_path)
    assert clean is not None and not clean.endswith("+dirty") and len(clean) == 40
    (tmp_path / "results" / "scores.csv").write_text("b\n")
    assert git_commit(tmp_path) == clean
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path) == clean + "+dirty"
