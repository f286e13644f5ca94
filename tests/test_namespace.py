"""One import namespace (``xaicheck.*``): the facade's surface is exact, the bare folder names are never imported, and
a user's project with its own ``benchmarks``/``explainers``/``tests`` packages (the asv layout) runs pytest with
xaicheck installed, the xaicheck plugin included."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import xaicheck

BARE = ("axioms", "benchmarks", "explainers", "synthetic_models")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH")}
    env["PYTHONHASHSEED"] = "0"
    return env


def test_facade_all_is_exact_and_every_name_resolves() -> None:
    assert set(xaicheck.__all__) == set(xaicheck._EXPORTS) | {"__version__"}
    assert len(xaicheck.__all__) == len(set(xaicheck.__all__))
    for name in xaicheck.__all__:
        assert getattr(xaicheck, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        xaicheck.nope  # noqa: B018


def test_facade_objects_are_the_subpackages_objects() -> None:
    from xaicheck.axioms.pytest_api import parametrize_with_checks
    from xaicheck.explainers.base import FunctionExplainer

    assert xaicheck.parametrize_with_checks is parametrize_with_checks
    assert xaicheck.FunctionExplainer is FunctionExplainer


def test_bare_top_level_names_are_never_imported(tmp_path: Path) -> None:
    """Load every registry and run one cell in a fresh interpreter outside the checkout: no bare name appears."""
    code = textwrap.dedent("""
        import sys
        import xaicheck
        assert "numpy" not in sys.modules, "import xaicheck must stay cheap"
        from xaicheck.explainers import all_explainers
        from xaicheck.axioms import all_cases, check_explainer
        from xaicheck.synthetic_models import all_models
        from xaicheck.benchmarks import cli, runner, report, pytest_plugin
        from xaicheck.benchmarks.papers import list_papers, load_paper
        [load_paper(p) for p in list_papers()]
        all_explainers(); all_models(); all_cases("quick")
        bare = sorted(m for m in sys.modules if m.split(".")[0] in %r)
        print("BARE", bare)
    """ % (BARE,))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "BARE []" in proc.stdout, proc.stdout


ASV_FILES = {
    "benchmarks/__init__.py": "",
    "benchmarks/bench_sum.py": "def time_sum():\n    return sum(range(10))\n",
    "explainers/__init__.py": "",
    "explainers/mine.py": textwrap.dedent('''
        import numpy as np

        def exact_linear(model, X, *, baseline, background, target, seed):
            """Exact for additive models only: f(x) - f(x with feature i at its baseline), per feature."""
            out, B = np.empty_like(X, dtype=float), np.broadcast_to(baseline, X.shape)
            for i in range(X.shape[1]):
                Z = X.copy(); Z[:, i] = B[:, i]
                out[:, i] = model.predict(X) - model.predict(Z)
            return out
    '''),
    "tests/__init__.py": "",
    "tests/test_own.py": textwrap.dedent('''
        import benchmarks.bench_sum
        from explainers.mine import exact_linear
        from xaicheck import Capabilities, FunctionExplainer, parametrize_with_checks

        mine = FunctionExplainer(exact_linear, "mine", capabilities=Capabilities(uses_baseline=True))


        def test_own_benchmarks_package_is_the_projects():
            assert benchmarks.bench_sum.time_sum() == 45


        @parametrize_with_checks([mine], checks=["dummy"], suite="quick")
        def test_mine(explainer, check):
            check(explainer)
    '''),
}


def test_asv_layout_project_runs_pytest_with_the_plugin_loaded(tmp_path: Path) -> None:
    for rel, text in ASV_FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "PASSED tests/test_own.py::test_own_benchmarks_package_is_the_projects" in out
    assert "test_mine[mine-dummy-" in out  # the xaicheck cells ran beside the project's own tests
    helptext = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=tmp_path, env=_env(),
                              capture_output=True, text=True, timeout=120).stdout
    assert "--xaicheck-suite" in helptext  # the plugin is loaded from the entry point in that project
