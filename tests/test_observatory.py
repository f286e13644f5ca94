"""The version observatory (issue 29): consecutive-pair change table on synthetic scores, the release environment's
path logic (no network: fake releases are written by hand), and the changelog lookup."""

from __future__ import annotations

import csv
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


_ADAPTER = '''"""Two explainers of the fake library: occlusion, one of them weighted by the library's ``weight()``."""
import numpy as np

from xaicheck.explainers.base import Capabilities, explainer

import xaicheck_fakelib


def _occlusion(model, X, baseline, target):
    X = np.asarray(X, dtype=float)
    b = np.broadcast_to(np.asarray(baseline, dtype=float), X.shape)
    fx = model.predict_target(X, target)
    out = np.empty_like(X)
    for j in range(X.shape[1]):
        Z = X.copy()
        Z[:, j] = b[:, j]
        out[:, j] = fx - model.predict_target(Z, target)
    return out


@explainer("fakelib_weighted", library="xaicheck-fakelib", capabilities=Capabilities(uses_baseline=True))
def fakelib_weighted(model, X, *, baseline, background, target, seed):
    return xaicheck_fakelib.weight(_occlusion(model, X, baseline, target))


@explainer("fakelib_plain", library="xaicheck-fakelib", capabilities=Capabilities(uses_baseline=True))
def fakelib_plain(model, X, *, baseline, background, target, seed):
    return _occlusion(model, X, baseline, target)
'''


def _fake_release_with_explainers(root: Path, version: str, weight_body: str) -> ReleaseEnv:
    """A fake release that registers its own explainers through the ``xaicheck.explainers`` entry point, as a
    third-party library's adapter would; only ``fakelib_weighted`` calls ``weight``, the function that differs."""
    env = _fake_release(root, version, f"def weight(a):\n    {weight_body}")
    (env.target / "xaicheck_fakelib" / "adapter.py").write_text(_ADAPTER)
    (env.target / f"xaicheck_fakelib-{version}.dist-info" / "entry_points.txt").write_text(
        "[xaicheck.explainers]\nfakelib = xaicheck_fakelib.adapter\n")
    return env


def test_observe_two_fake_releases_end_to_end_blames_only_the_cells_that_use_the_changed_function(
        tmp_path: Path) -> None:
    """Issue 29's must-show: two releases of a tiny package differ in one function (``weight``: the identity, then
    a scaling by 1.5). ``xaicheck observe`` runs the exam under each (a real run per release, the field checked to
    import that release), and exactly the cells whose score moved are reported: all of them cells of the explainer
    that calls ``weight``, every one attributed to the second release; the plain explainer's cells never."""
    envs = tmp_path / "envs"
    for version, body in (("1.0", "return a"), ("2.0", "return 1.5 * a")):
        _fake_release_with_explainers(envs, version, body)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "xaicheck.benchmarks.cli", "observe", "--library", "xaicheck-fakelib",
         "--releases", "1.0,2.0", "--explainers", "fakelib_weighted,fakelib_plain", "--checks",
         "completeness,dummy", "--envs", str(envs), "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600, cwd=str(tmp_path),
        env={**os.environ, "PYTHONPATH": str(envs / "envs" / "xaicheck-fakelib" / "1.0" / "site")})
    assert done.returncode == 0, done.stderr
    base = out / "versions" / "xaicheck-fakelib"
    releases = list(csv.DictReader((base / "releases.csv").open()))
    assert [(r["release"], r["status"], r["field_version"]) for r in releases] == [("1.0", "ran", "1.0"),
                                                                                    ("2.0", "ran", "2.0")]
    scores = {rel: {(r["explainer"], r["check"], r["case"], r["seed"]): r
                    for r in csv.DictReader((base / rel / "scores.csv").open())} for rel in ("1.0", "2.0")}
    assert scores["1.0"].keys() == scores["2.0"].keys() and len(scores["1.0"]) >= 4
    moved = {k for k, r in scores["1.0"].items() if (r["status"], r["score"]) != (scores["2.0"][k]["status"],
                                                                                  scores["2.0"][k]["score"])}
    changes = list(csv.DictReader((base / "changes.csv").open()))
    reported = {(c["explainer"], c["check"], c["case"], c["seed"]) for c in changes}
    assert reported == moved and moved  # exactly the cells that moved, and some did
    assert {k[0] for k in moved} == {"fakelib_weighted"}
    assert {(c["before_release"], c["after_release"]) for c in changes} == {("1.0", "2.0")}
    assert any(k[1] == "completeness" for k in moved)  # 1.5x the occlusion breaks f(x) - f(b) = sum a
