"""The version observatory (issue 29): consecutive-pair change table on synthetic scores, the release environment's
path logic (no network: fake releases are written by hand), and the changelog lookup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xaicheck.benchmarks.observatory.changelog import NOT_SHIPPED, changelog_line, line_after_release
from xaicheck.benchmarks.observatory.changes import consecutive_changes, release_pairs
from xaicheck.benchmarks.observatory.envs import ReleaseEnv, release_environ, requirement_gaps, target_dir


def _row(explainer: str, check: str, case: str, status: str, score: float | None, seed: int = 0) -> dict:
    return {"explainer": explainer, "check": check, "case": case, "seed": seed, "status": status, "score": score,
            "message": f"{explainer} {status}"}


def _panel(uses_f: float) -> list[dict]:
    """Two explainers x two checks; only explainer "a" uses the function that differs between releases."""
    return [_row("a", "completeness", "lin", "ok", uses_f), _row("a", "dummy", "lin", "ok", 1.0),
            _row("b", "completeness", "lin", "ok", 0.5), _row("b", "dummy", "lin", "ok", 1.0)]


def test_only_cells_that_differ_are_reported_and_attributed_to_the_later_release() -> None:
    scores = {"1.0": _panel(0.9), "1.1": _panel(0.9), "2.0": _panel(0.4)}
    changes = consecutive_changes(["1.0", "1.1", "2.0"], scores)
    assert [(c["before_release"], c["after_release"], c["explainer"], c["check"]) for c in changes] == [
        ("1.1", "2.0", "a", "completeness")]
    (c,) = changes
    assert c["kind"] == "changed" and c["delta"] == "-0.5" and c["size"] == "0.5"
    assert (c["score_before"], c["score_after"]) == ("0.9", "0.4")


def test_status_changes_added_removed_and_tolerance() -> None:
    before = [_row("a", "c", "k", "ok", 0.5), _row("a", "c", "gone", "ok", 1.0), _row("a", "c", "same", "ok", 0.3)]
    after = [_row("a", "c", "k", "error", None), _row("a", "c", "new", "ok", 1.0),
             _row("a", "c", "same", "ok", 0.3 + 1e-12)]
    changes = {c["case"]: c for c in consecutive_changes(["1", "2"], {"1": before, "2": after})}
    assert set(changes) == {"k", "gone", "new"}  # 1e-12 is within the tolerance
    assert changes["k"]["size"] == "status" and changes["k"]["status_after"] == "error"
    assert changes["gone"]["kind"] == "removed" and changes["new"]["kind"] == "added"
    assert len(consecutive_changes(["1", "2"], {"1": before, "2": after}, tol=1e-15)) == 4


def test_a_release_that_did_not_run_is_named_between_and_never_blamed() -> None:
    assert release_pairs(["0.44", "0.45", "0.47", "0.48", "0.49"], {"0.44": 1, "0.47": 1, "0.49": 1}) == [
        ("0.44", "0.47", ("0.45",)), ("0.47", "0.49", ("0.48",))]
    changes = consecutive_changes(["1", "bad", "2"], {"1": _panel(0.1), "2": _panel(0.2)})
    assert {(c["before_release"], c["after_release"], c["skipped"]) for c in changes} == {("1", "2", "bad")}
    assert release_pairs(["x", "y"], {"y": 1}) == []


def test_target_dir_layout_and_refused_names(tmp_path: Path) -> None:
    assert target_dir(tmp_path, "Scikit_Learn", "1.5.2") == tmp_path / "envs" / "scikit-learn" / "1.5.2" / "site"
    for lib, rel in (("shap", "../0.1"), ("shap", "0.1/../../x"), ("../shap", "0.1"), ("shap", "")):
        with pytest.raises(ValueError):
            target_dir(tmp_path, lib, rel)


def test_release_environ_puts_the_target_first(tmp_path: Path) -> None:
    env = release_environ({"PYTHONPATH": os.pathsep.join(["/a", str(tmp_path)]), "HOME": "/h"}, tmp_path)
    assert env["PYTHONPATH"].split(os.pathsep) == [str(tmp_path), "/a"]  # first, and not twice
    assert env["PYTHONNOUSERSITE"] == "1" and env["HOME"] == "/h"
    assert release_environ({}, tmp_path)["PYTHONPATH"] == str(tmp_path)


def _fake_release(root: Path, version: str, body: str) -> ReleaseEnv:
    """A hand-written "installed" release of the tiny package ``xaicheck_fakelib`` (no pip, no network)."""
    env = ReleaseEnv("xaicheck-fakelib", version, root, module="xaicheck_fakelib")
    pkg = env.target / "xaicheck_fakelib"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(f"__version__ = {version!r}\n{body}\n")
    info = env.target / f"xaicheck_fakelib-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: xaicheck-fakelib\nVersion: {version}\n\n"
                                   f"## {version}\n- double() now triples\n")
    return env


def test_two_fake_releases_import_their_own_code_first_on_the_path(tmp_path: Path) -> None:
    one = _fake_release(tmp_path, "1.0", "def double(x):\n    return 2 * x")
    two = _fake_release(tmp_path, "2.0", "def double(x):\n    return 3 * x")
    code = ("import sys, importlib.metadata as m, xaicheck_fakelib as f; "
            "print(m.version('xaicheck-fakelib'), f.double(2), sys.path.index(f.__path__[0].rsplit('/', 1)[0]))")
    for env, want in ((one, "1.0 4"), (two, "2.0 6")):
        out = subprocess.run([sys.executable, "-c", code], env=env.environ(), capture_output=True, text=True,
                             check=True).stdout.split()
        assert " ".join(out[:2]) == want
        assert int(out[2]) <= 1  # sys.path[0] is '' (the -c directory) or the script's; the target comes next
    assert one.build() is True and one.installed_extra == [] and one.conflicts == []  # found: no pip run
    assert one.import_probe() == (True, f"1.0 {one.target / 'xaicheck_fakelib' / '__init__.py'}")
    assert changelog_line(two.target, "xaicheck_fakelib", "2.0").startswith("double() now triples")


def test_a_release_that_cannot_import_gives_its_one_line_reason(tmp_path: Path) -> None:
    env = _fake_release(tmp_path, "0.1", "import numpy as np\nnp.obj2sctype")
    ok, reason = env.import_probe()
    assert not ok and reason.startswith("AttributeError") and "obj2sctype" in reason and "\n" not in reason


def test_requirement_gaps_respect_markers_and_ranges() -> None:
    meta = ("Name: x\nRequires-Dist: numpy<2\nRequires-Dist: tqdm>=4.27\nRequires-Dist: slicer==0.0.8\n"
            "Requires-Dist: pytest; extra == 'test'\nRequires-Dist: missing-pkg\n\n")
    gaps = requirement_gaps(meta, {"numpy": "2.4.6", "tqdm": "4.67.1", "slicer": "0.0.8"})
    assert gaps == [("numpy", "numpy<2", "2.4.6"), ("missing-pkg", "missing-pkg", None)]


def test_changelog_line_finds_the_release_or_says_not_shipped(tmp_path: Path) -> None:
    text = "# Changes\n\n## 0.45.0\n\n* output of TreeExplainer is now an array\n\n## 0.44.1\n- fix\n"
    assert line_after_release(text, "0.45.0") == "output of TreeExplainer is now an array"
    assert line_after_release(text, "0.45") is None  # a prefix of 0.45.0 is not that release
    assert changelog_line(tmp_path, "nothing", "1.0") == NOT_SHIPPED
