"""An explainer sees a truth-free model and its inputs, nothing else (issue 23 items 1 and 2; ``explainers._field``).

- A snooping explainer searches everything it can reach in the process it runs in -- ``gc.get_objects()``, every
  frame of every thread, the model's attributes, closures and ``__self__`` -- for a ground truth, a case, a check,
  a synthetic model, or an array equal to the case's exact attribution: on every quick case it finds nothing.
- A stack-reading explainer that answers each check with what passes it cheaply (it looks for a check's module on
  its callers' frames) answers exactly what its plain self answers: it cannot tell the exam from the field.
- The sealed view's name is opaque and says nothing about twins or padding; its feature names are x0..x{d-1}.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from xaicheck.axioms.pytest_api import check_explainer
from xaicheck.explainers import _field
from xaicheck.explainers.base import Capabilities, FunctionExplainer, sealed_view
from xaicheck.synthetic_models import get_model



@pytest.fixture(autouse=True)
def _sealed(monkeypatch):
    """Every test here runs explainers in the field process (conftest runs the rest inline)."""
    monkeypatch.setenv(_field.FIELD_ENV, "process")

#: Type names that would lead an explainer to the exam.
EXAM_TYPES = ("GroundTruth", "Case", "Check", "SyntheticModel", "FunctionModel", "CellRecord", "Cell", "Declarations")


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()[:16]


def _snooper(log: str) -> FunctionExplainer:
    """An explainer that writes what it finds to ``log`` (one JSON line per call) and answers zeros."""

    def snoop(model, X, *, baseline, background, target, seed):  # runs in the field process
        import gc
        import sys
        import types

        found: set[str] = set()

        from xaicheck.synthetic_models.base import SyntheticModel

        default = SyntheticModel.declarations  # the class attribute's empty default: no model's, declares nothing
        verdicts: dict[type, str | None] = {}

        def exam_type(obj) -> str | None:
            if obj is default:
                return None
            kind = type(obj)
            if kind not in verdicts:
                verdicts[kind] = None
                for klass in kind.__mro__:
                    if klass.__name__ in EXAM_TYPES and (klass.__module__ or "").startswith("xaicheck."):
                        verdicts[kind] = f"{klass.__module__}.{klass.__name__}"
                        break
            return verdicts[kind]

        arrays: set[str] = set()
        for obj in gc.get_objects():
            hit = exam_type(obj)
            if hit:
                found.add(f"gc:{hit}")
            elif isinstance(obj, np.ndarray) and obj.ndim == 2 and obj.shape == X.shape and obj.dtype.kind == "f":
                arrays.add(hashlib.sha256(np.ascontiguousarray(obj, dtype=np.float64).tobytes()).hexdigest()[:16])
        for frame in list(sys._current_frames().values()):
            while frame is not None:
                for value in list(frame.f_locals.values()):
                    hit = exam_type(value)
                    if hit:
                        found.add(f"frame:{frame.f_code.co_name}:{hit}")
                frame = frame.f_back
        seen: set[int] = set()
        todo = [model]
        while todo:  # everything reachable from the model: attributes, closures, bound selves, defaults
            obj = todo.pop()
            if id(obj) in seen or len(seen) > 20000:
                continue
            seen.add(id(obj))
            hit = exam_type(obj)
            if hit:
                found.add(f"reach:{hit}")
            if isinstance(obj, (types.FunctionType, types.MethodType)):
                fn = getattr(obj, "__func__", obj)
                todo.extend(c.cell_contents for c in (fn.__closure__ or ()) if _filled(c))
                todo.extend(fn.__defaults__ or ())
                if hasattr(obj, "__self__"):
                    todo.append(obj.__self__)
            elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not isinstance(obj, types.ModuleType):
                todo.extend(vars(obj).values())
            elif isinstance(obj, (list, tuple, set, frozenset)):
                todo.extend(obj)
            elif isinstance(obj, dict):
                todo.extend(obj.values())
        with open(log, "a") as fh:
            fh.write(json.dumps({"found": sorted(found), "arrays": sorted(arrays), "pid": os.getpid(),
                                 "name": model.name, "features": list(model.feature_names)}) + "\n")
        return np.zeros(X.shape)

    def _filled(cell) -> bool:
        try:
            cell.cell_contents
            return True
        except ValueError:
            return False

    return FunctionExplainer(snoop, "snooper", capabilities=Capabilities(uses_background=True))


def _one_cell_per_quick_case() -> list[str]:
    """``check/case`` ids: every quick case once (a case's models and inputs are the same whichever check asks)."""
    from xaicheck.axioms.base import all_checks, cases_of

    ids: dict[str, str] = {}
    for check in all_checks():
        if getattr(check, "interactions", False):
            continue
        for case in cases_of(check, 0, "quick"):
            if "quick" in case.tiers:
                ids.setdefault(case.name, f"{check.name}/{case.name}")
    return sorted(ids.values())


def test_snooper_finds_no_truth_case_or_check_on_any_quick_case(tmp_path):
    log = tmp_path / "snoop.jsonl"
    cells = _one_cell_per_quick_case()
    rows = check_explainer(_snooper(str(log)), suite="quick", checks=cells, timeout=0)
    assert (rows["outcome"] != "error").all(), rows.loc[rows["outcome"] == "error", "message"].tolist()[:3]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) >= len(cells) >= 30, (len(records), len(cells))  # every quick case was asked
    found = sorted({f for r in records for f in r["found"]})
    assert found == [], found
    assert all(r["name"].startswith("model_") for r in records)
    assert all(f == f"x{i}" for r in records for i, f in enumerate(r["features"]))
    # no array the field process holds equals an exact attribution of the rows it was asked about
    seen_arrays = {a for r in records for a in r["arrays"]}
    references = _quick_references()
    assert references, "no case with an exact attribution"
    assert not (seen_arrays & references)


def _quick_references() -> set[str]:
    from xaicheck.axioms.base import all_checks, cases_of

    out: set[str] = set()
    for check in all_checks():
        for case in cases_of(check, 0, "quick"):
            if "quick" not in case.tiers:
                continue
            for model in check.models_of(case):
                exact = model.ground_truth.exact_attribution
                if exact is None or case.baseline is None or case.X.shape[1] != model.n_features:
                    continue
                try:
                    out.add(_digest(exact(case.X, np.broadcast_to(case.baseline, case.X.shape))))
                except Exception:  # noqa: BLE001 - a reference that needs a background is not this test's
                    continue
    return out


def _stack_reader(answer_per_check: bool) -> FunctionExplainer:
    """Exact-Shapley-free plain answer: gradient-free 'x - b'. If ``answer_per_check``, it looks on its callers'
    frames for a check module and answers what passes that check cheaply (zeros for dummy, f(x)-f(b) split equally
    for completeness): a cheat that works only if it can see the exam."""

    def fn(model, X, *, baseline, background, target, seed):
        import sys

        plain = np.asarray(X - baseline, dtype=np.float64)
        if not answer_per_check:
            return plain
        names = set()
        for frame in list(sys._current_frames().values()):
            while frame is not None:
                names.add(frame.f_globals.get("__name__", ""))
                frame = frame.f_back
        if any(n.endswith("axioms.completeness") for n in names):
            delta = model.predict(X) - model.predict(baseline)
            return np.repeat((delta / X.shape[1])[:, None], X.shape[1], axis=1)
        if any(n.endswith("axioms.dummy") for n in names) or any(n.endswith("axioms.sensitivity") for n in names):
            return np.zeros(X.shape)
        return plain

    return FunctionExplainer(fn, "stack_reader", capabilities=Capabilities(uses_baseline=True))


def test_an_explainer_reading_its_callers_cannot_tell_the_check():
    checks = ["completeness", "dummy", "sensitivity", "implementation_invariance"]
    plain = check_explainer(_stack_reader(False), suite="quick", checks=checks, timeout=0)
    cheat = check_explainer(_stack_reader(True), suite="quick", checks=checks, timeout=0)
    cols = ["check", "case", "status", "score", "passed"]
    assert len(plain) > 10
    assert plain[cols].reset_index(drop=True).equals(cheat[cols].reset_index(drop=True))


def test_the_cheat_would_work_if_it_could_see_the_exam(monkeypatch):
    """The same stack reader run inline (``XAICHECK_FIELD=inline``: unsealed) does game completeness: the test above
    shows the field, not the cheat's weakness."""
    monkeypatch.setenv(_field.FIELD_ENV, "inline")
    plain = check_explainer(_stack_reader(False), suite="quick", checks=["completeness"], timeout=0)
    cheat = check_explainer(_stack_reader(True), suite="quick", checks=["completeness"], timeout=0)
    assert cheat["passed"].sum() > plain["passed"].sum()


def test_sealed_names_are_opaque_and_twins_indistinguishable():
    a, b = get_model("mlp_base"), get_model("linear_dummy")
    va, vb = sealed_view(a), sealed_view(b)
    assert va.name != vb.name and va.name.startswith("model_") and len(va.name) == len("model_") + 10
    assert "mlp" not in va.name and "dummy" not in vb.name
    assert vb.feature_names == tuple(f"x{i}" for i in range(b.n_features))
    assert sealed_view(a) is va  # one view per model: its manifest crosses once


def test_field_errors_keep_the_real_model_name():
    from xaicheck.explainers.base import ExplainerError

    def boom(model, X, *, baseline, background, target, seed):
        raise ValueError(f"cannot explain {model.name}")

    with pytest.raises(ExplainerError, match="cannot explain linear_dummy"):
        FunctionExplainer(boom, "boom").explain(get_model("linear_dummy"), np.ones((2, 4)))


def test_a_dead_field_process_is_an_error_and_the_next_question_gets_a_fresh_one():
    from xaicheck.explainers.base import ExplainerError

    def die(model, X, *, baseline, background, target, seed):
        os._exit(3)

    model = get_model("linear_dummy")
    with pytest.raises(ExplainerError, match="died"):
        FunctionExplainer(die, "die").explain(model, np.ones((2, 4)))
    ok = FunctionExplainer(lambda m, X, **k: np.ones(X.shape), "ones").explain(model, np.ones((2, 4)))
    np.testing.assert_array_equal(ok, np.ones((2, 4)))


class _Payload:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_the_exam_never_unpickles_an_arbitrary_object_from_the_field(tmp_path):
    """A pickle is a program: an explainer that reaches the field's pipe and sends an object whose ``__reduce__``
    runs code must not run it in the exam process (where the truth is). The exam refuses the message."""
    target = str(tmp_path / "pwned")

    def attack(model, X, *, baseline, background, target_, seed, path=target):
        import sys

        frame = sys._getframe(1)
        while frame is not None and "conn" not in frame.f_locals:
            frame = frame.f_back
        conn, seq = frame.f_locals["conn"], frame.f_locals["msg"][1]
        conn.send(("result", seq, _Payload(path)))
        return np.zeros(X.shape)

    from xaicheck.explainers.base import ExplainerError

    exp = FunctionExplainer(lambda m, X, *, baseline, background, target, seed: attack(
        m, X, baseline=baseline, background=background, target_=target, seed=seed), "attack")
    with pytest.raises(ExplainerError, match="refused"):
        exp.explain(get_model("linear_dummy"), np.ones((2, 4)))
    assert not os.path.exists(target)


def test_plain_answers_and_errors_pass_the_safe_decoder():
    assert _field.safe_loads(__import__("pickle").dumps(("result", 1, np.arange(6.0).reshape(2, 3)))) [2].shape == (2, 3)
    err = _field.safe_loads(_field.plain_dumps(ValueError("bad shape")))
    assert isinstance(err, ValueError) and str(err) == "bad shape"
    # with distributed's exception reducers installed (tblib), what the field sends still decodes
    from tblib import pickling_support

    pickling_support.install()
    err = _field.safe_loads(_field.plain_dumps(_field._portable(KeyError("k"))))
    assert isinstance(err, KeyError)
