"""Benchmark your own models: the README's zoo runs as written (command line and Python); cases follow declarations;
wrong truths are refused."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xaicheck import check_explainer
from xaicheck.benchmarks import cli
from xaicheck.benchmarks.user_models import DeclaredTruthError, check_declared_truth, load_zoo, user_cases
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_zoo() -> str:
    """The ``my_zoo.py`` code block of the README, verbatim."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return next(b for b in blocks if b.startswith("# my_zoo.py"))


def test_readme_zoo_runs_as_written(tmp_path):
    """The README's zoo and command, run as a researcher would: a console script in their own directory."""
    code = readme_zoo()
    command = re.search(r"run: (xaicheck run .*)", code).group(1).split()
    (tmp_path / "my_zoo.py").write_text(code, encoding="utf-8")
    out = tmp_path / "my_results"
    args = command[1:]
    args[args.index("--out") + 1] = str(out)
    script = Path(sys.executable).parent / "xaicheck"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([str(script), *args, "--jobs", "1", "--quiet"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["case"]) == {"conflicting_features", "pertinent_negative"}
    # from the declarations: a dummy (noise), relevant features, d <= 16, a torch form with Linear layers
    # (and the interaction checks: a d <= 16 game has exact interaction indices; issue 25)
    per_feature = {c for c in scores["check"] if not c.startswith("interaction_")}
    assert per_feature == {"completeness", "dummy", "sensitivity", "ground_truth_agreement", "model_randomisation"}
    assert {c for c in scores["check"] if c.startswith("interaction_")} >= {"interaction_efficiency"}
    ok = scores[scores["status"] == "ok"].set_index(["explainer", "check", "case"])["score"]
    for case in ("conflicting_features", "pertinent_negative"):
        assert ok[("shap_exact", "ground_truth_agreement", case)] == pytest.approx(1.0)
        assert ok[("shap_exact", "completeness", case)] == pytest.approx(1.0)
        assert ok[("zero", "ground_truth_agreement", case)] == 0.0
    # additive: the path integral is exact; gradient x input credits a present flag (relu'(0) = 0) with nothing
    assert ok[("integrated_gradients", "ground_truth_agreement", "pertinent_negative")] == pytest.approx(1.0)
    assert ok[("input_x_gradient", "ground_truth_agreement", "pertinent_negative")] < 0.8
    board = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert "integrated_gradients" in board and "shap_exact" in board


def test_readme_zoo_from_python(tmp_path, monkeypatch):
    """``check_explainer(..., models="my_zoo")``: the README zoo's declared cases, not the built-in ones."""
    (tmp_path / "my_zoo.py").write_text(readme_zoo(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_zoo", raising=False)
    df = check_explainer("exact_baseline_shapley", models="my_zoo", timeout=0)
    assert set(df["case"]) == {"conflicting_features", "pertinent_negative"}
    assert set(df["check"]) == {"completeness", "dummy", "sensitivity", "ground_truth_agreement",
                                "model_randomisation"}
    assert (df["status"] == "ok").all() and df["score"].min() == pytest.approx(1.0)
    monkeypatch.delitem(sys.modules, "my_zoo", raising=False)


def _linear(name: str, w, b: float = 0.0, closed_form=None, dummy=None) -> FunctionModel:
    w = np.asarray(w, dtype=np.float64)
    gt = GroundTruth(relevant=frozenset(int(i) for i in np.flatnonzero(w)),
                     dummy=frozenset(int(i) for i in np.flatnonzero(w == 0)) if dummy is None else dummy,
                     exact_attribution=closed_form)
    return FunctionModel(name, "test", lambda X: X @ w + b, [f"x{i}" for i in range(len(w))], gt)


def test_cases_follow_declarations():
    with_dummy = _linear("with_dummy", [1.0, 0.0])
    no_dummy = _linear("no_dummy", [1.0, 2.0])
    wide = _linear("wide", np.ones(20))
    sym = FunctionModel("sym", "test", lambda X: X[:, 0] * X[:, 1] + X[:, 2], ("a", "b", "c"),
                        GroundTruth(relevant=frozenset({0, 1, 2}), symmetric_groups=(frozenset({0, 1}),)))
    built = user_cases([with_dummy, no_dummy, wide, sym])
    cases = {(c.check, c.name) for c in built}
    assert ("dummy", "with_dummy") in cases and ("dummy", "no_dummy") not in cases
    assert ("symmetry", "sym") in cases and ("symmetry", "no_dummy") not in cases
    sym_case = next(c for c in built if c.id == "symmetry/sym")
    np.testing.assert_array_equal(sym_case.X[:, 0], sym_case.X[:, 1])
    assert ("ground_truth_agreement", "no_dummy") in cases
    assert ("ground_truth_agreement", "wide") not in cases  # d = 20 > 16 and no closed form declared
    assert {("completeness", n) for n in ("with_dummy", "no_dummy", "wide")} <= cases


def test_a_wrong_declared_truth_is_refused_before_use():
    w = np.array([1.0, 2.0, 0.0])
    good = _linear("good", w, closed_form=lambda X, B: w * (X - B))
    assert check_declared_truth(good)["closed_form_vs_enumeration"] < 1e-12
    with pytest.raises(DeclaredTruthError, match="not complete"):
        check_declared_truth(_linear("half", w, closed_form=lambda X, B: 0.5 * w * (X - B)))
    with pytest.raises(DeclaredTruthError, match="differs from the enumerated"):  # complete, but "split equally"
        check_declared_truth(_linear("split", w, closed_form=lambda X, B: np.repeat(((X - B) @ w)[:, None] / 3, 3, 1)))
    wide_w = np.ones(20)
    with pytest.raises(DeclaredTruthError, match="not complete"):  # d > 16: completeness still guards it
        check_declared_truth(_linear("wide_wrong", wide_w, closed_form=lambda X, B: 2 * wide_w * (X - B)))
    with pytest.raises(DeclaredTruthError, match="dummy"):
        check_declared_truth(_linear("false_dummy", w, dummy=frozenset({0})))
    lopsided = FunctionModel("lopsided", "test", lambda X: X[:, 0] + 2 * X[:, 1], ("a", "b"),
                             GroundTruth(relevant=frozenset({0, 1}), symmetric_groups=(frozenset({0, 1}),)))
    with pytest.raises(DeclaredTruthError, match="symmetric group"):
        check_declared_truth(lopsided)


def test_zoo_loading_errors_are_clear(tmp_path, monkeypatch):
    with pytest.raises(ImportError, match="no_such_zoo"):
        load_zoo("no_such_zoo_xyz")
    with pytest.raises(TypeError, match="SyntheticModel"):
        load_zoo([42])
    (tmp_path / "empty_zoo.py").write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="defines no models"):
        load_zoo("empty_zoo")
    assert cli.main(["run", "--models", "empty_zoo", "--out", str(tmp_path / "r")]) != 0
