"""The run-scoped attribution cache (``explainers._attribution_cache``): the faithfulness checks of one run share each
explainer's first answer on their common rows, exactly, and nothing else is shared."""

from __future__ import annotations

import os

import numpy as np
import pytest

from xaicheck.axioms.cell import CellContext, run_cell
from xaicheck.benchmarks.suite import build_suite
from xaicheck.explainers import _attribution_cache as cache
from xaicheck.explainers.base import Capabilities, FunctionExplainer, get_explainer
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

FAITHFULNESS = ("deletion_curve", "insertion_curve", "infidelity", "pgi_pgu", "sparsity", "magnitude_error")


@pytest.fixture
def shared(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.SWITCH_ENV, raising=False)
    return tmp_path / "attributions"


def _model(fn, name="toy"):
    return FunctionModel(name, "toy", fn, ("a", "b", "c"), GroundTruth(relevant=frozenset({0, 1, 2})))


class _Calls:
    """Calls counted in a file: explainers run in a field process (``explainers._field``), not in the test's."""

    def __init__(self) -> None:
        import tempfile

        fd, self.path = tempfile.mkstemp(prefix="xaicheck_calls_")
        os.close(fd)

    def __len__(self) -> int:
        with open(self.path) as fh:
            return len(fh.read())


def _counting(name="counting"):
    calls = _Calls()
    path = calls.path

    def fn(model, X, *, baseline, background, target, seed):
        with open(path, "a") as fh:
            fh.write("x")
        return model.predict(X)[:, None] * np.ones(X.shape) + seed

    return FunctionExplainer(fn, name, capabilities=Capabilities(requires="callable")), calls


def test_the_faithfulness_checks_judge_the_same_rows():
    suite = build_suite("default", explainers="zero", checks=",".join(FAITHFULNESS))
    by_name: dict[str, list] = {}
    for case in suite.cases.values():
        by_name.setdefault(case.name, []).append(case)
    assert len(by_name) >= 3
    for name, cases in by_name.items():
        assert len(cases) == len(FAITHFULNESS), name
        for case in cases[1:]:
            assert np.array_equal(case.X, cases[0].X) and np.array_equal(case.background, cases[0].background)
            assert np.array_equal(case.baseline, cases[0].baseline) and case.target == cases[0].target


def test_a_first_call_is_answered_from_an_earlier_cell(shared):
    exp, calls = _counting()
    model, X = _model(lambda Z: Z.sum(axis=1)), np.arange(6.0).reshape(2, 3)
    with cache.sharing(shared):
        first = exp.explain(model, X, baseline=np.zeros(3), seed=1)
        assert cache.stats() == {"hits": 0, "stored": 1}
    with cache.sharing(shared):
        again = exp.explain(model, X, baseline=np.zeros(3), seed=1)
        assert len(calls) == 1 and np.array_equal(first, again) and cache.stats() == {"hits": 1, "stored": 0}
    again[:] = 7.0  # the caller owns what it gets
    with cache.sharing(shared):
        assert np.array_equal(exp.explain(model, X, baseline=np.zeros(3), seed=1), first)


def test_only_first_calls_are_shared(shared):
    exp, calls = _counting()
    model, X = _model(lambda Z: Z.sum(axis=1)), np.ones((2, 3))
    with cache.sharing(shared):
        exp.explain(model, X, baseline=np.zeros(3), seed=0)
        exp.explain(model, X, baseline=np.zeros(3), seed=0)  # second call of the same cell: computed
    with cache.sharing(shared):
        exp.explain(model, 2 * X, baseline=np.zeros(3), seed=0)  # another first question
        exp.explain(model, X, baseline=np.zeros(3), seed=0)  # the stored question, but not as a first call
        assert len(calls) == 4 and cache.stats()["hits"] == 0


@pytest.mark.parametrize("change", ["seed", "baseline", "function", "explainer", "X"])
def test_any_difference_in_the_question_is_a_new_key(shared, change):
    exp, calls = _counting()
    model, X, b = _model(lambda Z: Z.sum(axis=1)), np.ones((2, 3)), np.zeros(3)
    with cache.sharing(shared):
        exp.explain(model, X, baseline=b, seed=0)
    other_exp, other_calls = _counting("counting_2") if change == "explainer" else (exp, calls)
    with cache.sharing(shared):
        other_exp.explain(_model(lambda Z: Z.prod(axis=1)) if change == "function" else model,
                          X + (change == "X"), baseline=b + (change == "baseline"), seed=int(change == "seed"))
        assert cache.stats()["hits"] == 0
    assert len(calls) + (len(other_calls) if other_exp is not exp else 0) == 2


def test_inactive_or_switched_off_nothing_is_shared(tmp_path, monkeypatch):
    exp, calls = _counting()
    model, X = _model(lambda Z: Z.sum(axis=1)), np.ones((2, 3))
    for _ in range(2):  # no sharing directory
        with cache.sharing(None):
            exp.explain(model, X, baseline=np.zeros(3), seed=0)
    monkeypatch.setenv(cache.SWITCH_ENV, "0")
    for _ in range(2):
        with cache.sharing(tmp_path):
            exp.explain(model, X, baseline=np.zeros(3), seed=0)
    assert len(calls) == 4 and not any(tmp_path.iterdir())


def test_a_corrupt_entry_is_recomputed(shared):
    exp, calls = _counting()
    model, X = _model(lambda Z: Z.sum(axis=1)), np.ones((2, 3))
    with cache.sharing(shared):
        exp.explain(model, X, baseline=np.zeros(3), seed=0)
    for path in shared.glob("*.npy"):
        path.write_bytes(b"not an array")
    with cache.sharing(shared):
        exp.explain(model, X, baseline=np.zeros(3), seed=0)
    assert len(calls) == 2


def test_six_faithfulness_cells_compute_once_and_score_as_if_alone(shared):
    """One explainer, one case, the six checks: five answers come from the first cell, and every record (score,
    message, evidence) is the one the cell gives with sharing off."""
    suite = build_suite("quick", explainers="integrated_gradients", checks=",".join(FAITHFULNESS))
    cells = [c for c in suite.cells() if c.case.name == "min_max_saturated"]
    assert len(cells) == len(FAITHFULNESS)
    context = CellContext.capture(share_dir=shared)
    with_cache = [run_cell(c, context=context).to_json() for c in cells]  # each in its own forked child
    assert len(list(shared.glob("*.npy"))) == 1  # one answer stored, the five other cells read it
    alone = [run_cell(c, context=CellContext.capture()).to_json() for c in cells]
    assert len(list(shared.glob("*.npy"))) == 1
    strip = lambda rec: {k: v for k, v in rec.items() if k != "seconds"}  # noqa: E731
    assert [strip(r) for r in with_cache] == [strip(r) for r in alone]
    assert all(r["status"] == "ok" for r in alone)


def test_a_nondeterministic_explainer_is_still_caught_by_the_rerun(tmp_path):
    """The determinism rerun runs with sharing off, so an explainer answering the same question differently is
    flagged although its faithfulness cells shared one answer."""
    from xaicheck.benchmarks.runner import run_suite

    def noisy(model, X, *, baseline, background, target, seed):
        return np.random.default_rng(int.from_bytes(os.urandom(8), "little")).standard_normal(X.shape)

    exp = FunctionExplainer(noisy, "noisy_test_explainer", capabilities=Capabilities(requires="callable"))
    base = build_suite("quick", explainers="zero", checks=",".join(FAITHFULNESS))
    from xaicheck.benchmarks.suite import Suite

    suite = Suite.from_objects("quick", [exp, get_explainer("zero")], base.checks.values())
    summary = run_suite(suite, tmp_path / "out", jobs=1, progress=False, warm=False, rerun_sample=50)
    assert "noisy_test_explainer" in summary.nondeterministic and "zero" not in summary.nondeterministic
