"""One registry mechanism (``xaicheck.core.registry``): loud on import failure, idempotent, open to entry points, and
expected failures validated; one version source.

Every test that registers or breaks something works on a temporary package or puts the registry back
(``Registry.snapshot`` / ``restore``), so no other test sees its state.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from xaicheck.core.errors import ExpectedFailureError, NameTakenError, RegistryError
from xaicheck.core.registry import Registry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def plugin_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty package ``xc_plugins_tmp`` on ``sys.path``; its modules are dropped from ``sys.modules`` afterwards."""
    pkg = tmp_path / "xc_plugins_tmp"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield pkg
    for name in [m for m in sys.modules if m == "xc_plugins_tmp" or m.startswith("xc_plugins_tmp.")]:
        del sys.modules[name]


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, group: str, *specs: tuple[str, str]) -> None:
    """Make ``importlib.metadata.entry_points(group=group)`` return ``specs`` (name, "module:attr")."""
    real = importlib.metadata.entry_points

    def entry_points(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("group") == group:
            return importlib.metadata.EntryPoints(
                importlib.metadata.EntryPoint(name, value, group) for name, value in specs)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


# -- the mechanism, on a temporary package ------------------------------------------------------------------------

def test_a_module_raising_at_import_is_named_on_every_later_call(plugin_package: Path) -> None:
    registry: Registry[object] = Registry("widget", packages=("xc_plugins_tmp",))
    (plugin_package / "good.py").write_text("")
    (plugin_package / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    with pytest.raises(RegistryError, match=r"xc_plugins_tmp\.broken.*RuntimeError: boom at import"):
        registry.names()
    for call in (registry.names, lambda: registry.get("anything"), registry.items, registry.load,
                 lambda: "x" in registry):
        with pytest.raises(RegistryError, match=r"importing module xc_plugins_tmp\.broken raised RuntimeError"):
            call()
    assert "xc_plugins_tmp.broken" in (registry.failure or "")


def test_loading_is_idempotent_and_names_are_owned(plugin_package: Path) -> None:
    registry: Registry[object] = Registry("widget", packages=("xc_plugins_tmp",))
    (plugin_package / "counter.py").write_text("LOADS = [1]\n")
    registry.load()
    registry.load()
    assert sys.modules["xc_plugins_tmp.counter"].LOADS == [1]
    item = object()
    assert registry.add("a", item) is item
    assert registry.add("a", item) is item  # the same object again: fine
    with pytest.raises(NameTakenError, match="'a' is already registered"):
        registry.add("a", object())
    assert registry.names() == ["a"]


def test_snapshot_restore_undoes_a_failure(plugin_package: Path) -> None:
    registry: Registry[object] = Registry("widget", packages=("xc_plugins_tmp",))
    state = registry.snapshot()
    (plugin_package / "broken.py").write_text("raise ImportError('missing dependency')\n")
    with pytest.raises(RegistryError):
        registry.load()
    registry.restore(state)
    (plugin_package / "broken.py").unlink()
    assert registry.names() == []


# -- the real registries ------------------------------------------------------------------------------------------

@pytest.fixture
def checks_state() -> Iterator[None]:
    from xaicheck.axioms import base

    base.check_names()  # loaded before the snapshot, so the restore leaves the built-ins in place
    state = base.CHECKS.snapshot()
    yield
    base.CHECKS.restore(state)


def test_check_registry_names_a_module_raising_at_import(checks_state: None, plugin_package: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The defect of issue 22: once a check module raised, ``get_check`` said "unknown check; known: " (empty)."""
    from xaicheck.axioms import base

    (plugin_package / "broken_check.py").write_text("raise ZeroDivisionError('a check module that cannot import')\n")
    base.CHECKS.restore(type(base.CHECKS.snapshot())({}, False, None))  # as in a fresh process
    monkeypatch.setattr(base.CHECKS, "packages", ("xc_plugins_tmp", *base.CHECKS.packages))
    for _ in range(3):
        with pytest.raises(RegistryError, match=r"xc_plugins_tmp\.broken_check raised ZeroDivisionError"):
            base.get_check("completeness")
        with pytest.raises(RegistryError, match="broken_check"):
            base.check_names()
        with pytest.raises(RegistryError, match="broken_check"):
            base.all_checks()


def test_entry_point_check_is_found(checks_state: None, plugin_package: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from xaicheck.axioms import base

    (plugin_package / "ep_check.py").write_text(textwrap.dedent("""
        from xaicheck.axioms.base import Check, CheckResult

        class PluginCheck(Check):
            name = "plugin_check_tmp"
            category = "axioms"
            threshold = 0.5

            def cases(self):
                return []

            def evaluate(self, explainer, case, seed):
                return CheckResult.scored(1.0, self.threshold, "ok")
    """))
    _fake_entry_points(monkeypatch, base.ENTRY_POINT_GROUP, ("plugin_check_tmp", "xc_plugins_tmp.ep_check:PluginCheck"))
    base.CHECKS.restore(type(base.CHECKS.snapshot())(base.CHECKS.registered(), False, None))
    assert "plugin_check_tmp" in base.check_names()
    assert type(base.get_check("plugin_check_tmp")).__name__ == "PluginCheck"
    base.check_names()  # loading again changes nothing
    assert base.check_names().count("plugin_check_tmp") == 1


def test_entry_point_model_and_explainer_are_found(plugin_package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xaicheck.explainers import base as ebase
    from xaicheck.synthetic_models import registry as mreg

    ebase.explainer_names(), mreg.model_names()
    e_state, m_state = ebase.EXPLAINERS.snapshot(), mreg.MODELS.snapshot()
    (plugin_package / "ep_parts.py").write_text(textwrap.dedent("""
        import numpy as np
        from xaicheck import FunctionExplainer, FunctionModel, GroundTruth

        def make_model():
            return FunctionModel("plugin_model_tmp", "plugin", lambda X: X.sum(axis=1), ["a", "b"], GroundTruth(relevant=frozenset({0, 1})))

        def _zero(model, X, *, baseline, background, target, seed):
            return np.zeros_like(X)

        PLUGIN_EXPLAINER = FunctionExplainer(_zero, "plugin_explainer_tmp", family="control")
    """))
    try:
        _fake_entry_points(monkeypatch, mreg.ENTRY_POINT_GROUP, ("plugin_model_tmp", "xc_plugins_tmp.ep_parts:make_model"))
        mreg.MODELS.restore(type(m_state)(mreg.MODELS.registered(), False, None))
        assert "plugin_model_tmp" in mreg.model_names()
        assert mreg.get_model("plugin_model_tmp").predict(np.ones((1, 2))).tolist() == [2.0]
        _fake_entry_points(monkeypatch, ebase.ENTRY_POINT_GROUP,
                           ("plugin_explainer_tmp", "xc_plugins_tmp.ep_parts:PLUGIN_EXPLAINER"))
        ebase.EXPLAINERS.restore(type(e_state)(ebase.EXPLAINERS.registered(), False, None))
        assert ebase.get_explainer("plugin_explainer_tmp").family == "control"
    finally:
        ebase.EXPLAINERS.restore(e_state)
        mreg.MODELS.restore(m_state)
        mreg._BUILT.pop("plugin_model_tmp", None)


def test_registering_the_same_explainer_twice_is_fine_another_is_an_error() -> None:
    from xaicheck.explainers.base import EXPLAINERS, FunctionExplainer, register

    state = EXPLAINERS.snapshot()
    try:
        exp = FunctionExplainer(lambda model, X, **kw: np.zeros_like(X), "twice_tmp")
        assert register(exp) is register(exp)
        with pytest.raises(ValueError, match="'twice_tmp' is already registered"):  # NameTakenError is a ValueError
            register(FunctionExplainer(lambda model, X, **kw: np.zeros_like(X), "twice_tmp"))
    finally:
        EXPLAINERS.restore(state)


# -- expected failures ---------------------------------------------------------------------------------------------

@pytest.fixture
def explainers_state() -> Iterator[None]:
    from xaicheck.explainers.base import EXPLAINERS

    EXPLAINERS.load()
    state = EXPLAINERS.snapshot()
    yield
    EXPLAINERS.restore(state)


def _typo_explainer(name: str, check: str, case: str | None = None):
    from xaicheck.explainers.base import ExpectedFailure, FunctionExplainer

    return FunctionExplainer(lambda model, X, **kw: np.zeros_like(X), name,
                             expected_failures=(ExpectedFailure(check, "a typo", case=case),))


def test_expected_failure_of_an_unknown_check_is_an_error_when_the_check_registry_loads(
        checks_state: None, explainers_state: None) -> None:
    """Explainers registered first, checks loaded after: the check registry's load names the explainer and key."""
    from xaicheck.axioms import base
    from xaicheck.explainers.base import EXPLAINERS

    base.CHECKS.restore(type(base.CHECKS.snapshot())(base.CHECKS.registered(), False, None))  # not loaded yet
    EXPLAINERS.add("typo_tmp", _typo_explainer("typo_tmp", "sensitivty", case="one_minus_relu"))
    with pytest.raises(RegistryError, match=r"explainer 'typo_tmp' .* unknown check 'sensitivty'") as info:
        base.check_names()
    assert isinstance(info.value.__cause__, ExpectedFailureError)


def test_expected_failure_of_an_unknown_check_is_an_error_when_the_adapter_registers(
        checks_state: None, explainers_state: None) -> None:
    """Checks loaded first: registering the explainer raises, and it is not registered."""
    from xaicheck.axioms.base import check_names
    from xaicheck.explainers.base import EXPLAINERS, register

    check_names()
    with pytest.raises(ExpectedFailureError, match=r"explainer 'typo_tmp' .* unknown check 'completness'"):
        register(_typo_explainer("typo_tmp", "completness"))
    assert "typo_tmp" not in EXPLAINERS.registered()


def test_an_adapter_module_declaring_an_unknown_check_fails_the_explainer_registry_load(
        checks_state: None, explainers_state: None, plugin_package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapter module found by discovery: the explainer registry's load names the module, explainer and key."""
    from xaicheck.axioms.base import check_names
    from xaicheck.explainers.base import EXPLAINERS

    check_names()
    (plugin_package / "typo_adapter.py").write_text(textwrap.dedent("""
        import numpy as np
        from xaicheck.explainers.base import ExpectedFailure, explainer

        @explainer("typo_adapter_tmp", expected_failures=(ExpectedFailure("sensitivty", "a typo"),))
        def typo(model, X, *, baseline, background, target, seed):
            return np.zeros_like(X)
        """))
    EXPLAINERS.restore(type(EXPLAINERS.snapshot())(EXPLAINERS.registered(), False, None))
    monkeypatch.setattr(EXPLAINERS, "packages", (*EXPLAINERS.packages, "xc_plugins_tmp"))
    with pytest.raises(RegistryError, match=r"xc_plugins_tmp\.typo_adapter raised ExpectedFailureError: explainer "
                                            r"'typo_adapter_tmp' .* unknown check 'sensitivty'"):
        EXPLAINERS.names()


def test_expected_failure_of_an_unknown_check_is_an_error_when_matched_to_a_cell() -> None:
    from xaicheck.axioms.base import cases_of, get_check
    from xaicheck.axioms.pytest_api import expected_reason

    exp = _typo_explainer("typo_tmp", "completness")  # not registered: validated where it meets a cell
    check = get_check("completeness")
    with pytest.raises(ExpectedFailureError, match=r"'typo_tmp' .* unknown check 'completness'"):
        expected_reason(exp, check, cases_of(check)[0])


def test_expected_failure_of_an_unknown_case_is_an_error_when_the_cases_are_built(
        explainers_state: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from xaicheck.axioms import base
    from xaicheck.explainers.base import EXPLAINERS

    check = base.get_check("sensitivity")
    monkeypatch.setattr(base, "_CASES", {})  # built afresh, and the real cache is left as it was
    EXPLAINERS.add("typo_tmp", _typo_explainer("typo_tmp", "sensitivity", case="one_minus_reluu"))
    with pytest.raises(ExpectedFailureError, match=r"'typo_tmp' .* unknown case sensitivity/'one_minus_reluu'"):
        base.cases_of(check)


def test_expected_failure_of_an_unknown_case_is_an_error_when_registered_after_the_cases_are_built(
        explainers_state: None) -> None:
    from xaicheck.axioms import base
    from xaicheck.explainers.base import EXPLAINERS, register

    base.cases_of(base.get_check("sensitivity"))
    with pytest.raises(ExpectedFailureError, match=r"'typo_tmp' .* unknown case sensitivity/'one_minus_reluu'"):
        register(_typo_explainer("typo_tmp", "sensitivity", case="one_minus_reluu"))
    assert "typo_tmp" not in EXPLAINERS.registered()


def test_the_built_in_expected_failures_are_valid() -> None:
    from xaicheck.axioms.base import cases_of, check_names, get_check
    from xaicheck.explainers.base import all_explainers
    from xaicheck.explainers.expectations import validate_case_names, validate_check_names

    explainers = all_explainers()
    validate_check_names(set(check_names()), explainers)
    for name in sorted({ef.check for exp in explainers for ef in exp.expected_failures if ef.case}):
        validate_case_names(name, {case.name for case in cases_of(get_check(name))}, explainers)


def test_the_adapters_declare_the_same_expected_failures_as_the_former_central_table() -> None:
    """Snapshot taken from ``explainers.expectations.EXPECTED_FAILURES`` (attached by ``attach_expectations``) before
    each adapter declared its own: every built-in explainer's expected failures, reasons and order included."""
    import json

    from xaicheck.explainers.base import all_explainers
    from xaicheck.explainers.expectations import expected_failures_of

    snapshot = json.loads((Path(__file__).parent / "data" / "expected_failures.json").read_text())
    now = {exp.name: [{"check": ef.check, "case": ef.case, "reason": ef.reason} for ef in exp.expected_failures]
           for exp in all_explainers() if exp.expected_failures}
    assert now == snapshot
    assert {name: [ef.check for ef in expected_failures_of(name)] for name in snapshot} == \
        {name: [e["check"] for e in entries] for name, entries in snapshot.items()}
    assert expected_failures_of("no_such_explainer") == ()


# -- one version source --------------------------------------------------------------------------------------------

def test_one_version_source() -> None:
    import tomllib

    import xaicheck
    from xaicheck._version import __version__

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "xaicheck._version.__version__"}
    assert xaicheck.__version__ == __version__ == "0.2.0"
    versions = re.findall(r'__version__\s*=\s*"([^"]+)"', (ROOT / "xaicheck" / "__init__.py").read_text())
    assert versions == [], "xaicheck/__init__.py re-exports the version, it does not state one"
    setuptools_config = pytest.importorskip("setuptools.config.pyprojecttoml")
    resolved = setuptools_config.read_configuration(ROOT / "pyproject.toml", expand=True)
    assert resolved["project"]["version"] == __version__  # what the next install writes into the metadata
    installed = importlib.metadata.version("xaicheck")
    if installed != __version__:  # an editable install's metadata is written at install time
        pytest.skip(f"installed metadata says {installed} (stale editable install; reinstall to refresh)")
