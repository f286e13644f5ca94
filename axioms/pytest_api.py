"""Test an explainer in one line: ``check_explainer`` (a DataFrame) and ``parametrize_with_checks`` (pytest).

Modelled on scikit-learn's ``check_estimator`` / ``parametrize_with_checks``: one generator (``iter_cells``) decides
from the explainer's capability tags which cells apply (check x case x seed of a suite) and feeds both the plain API
and pytest. Ids are stable (``<explainer>-<check>-<case>``, so ``pytest -k sensitivity`` selects); not-applicable
cells are not generated; known violations are the explainer author's, each with a reason, and become *strict*
xfails, so a change of outcome fails the run and names the cell.

    from xaicheck.axioms import parametrize_with_checks

    @parametrize_with_checks([my_explainer])
    def test_my_explainer(explainer, check):
        check(explainer)

``expected_failures`` maps ``{explainer_name: {check_name or "check/case": reason}}``; it adds to what the explainer
declares itself (``Explainer.expected_failures``; each built-in adapter declares its own, ``explainers.expectations``).

No silent green: an unknown suite, check, case, capability value or ``expected_failures`` key, and an empty
selection (no explainer, no check, no applicable cell) raise :class:`SelectionError` naming the known values. Each
cell runs as every cell of every run does (``xaicheck.axioms.cell.run_cell``): in a fresh forked child under
``timeout``, so an explainer that exits, dies, hangs or forks costs its cell (an error/timeout result), never the
test session.
"""

from __future__ import annotations

import inspect
import typing
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence, Union

from xaicheck.core.errors import CellError, ExpectedFailureError, SelectionError
from xaicheck.explainers.base import Capabilities, Explainer, FunctionExplainer, Requirement, get_explainer

from .base import TIERS, Case, Check, CheckResult, Status, cases_of, check_names, get_check
from .cell import DEFAULT_TIMEOUT, Cell, CellRecord, run_cell
from .isolation import validate_timeout

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ExplainerLike",
    "ExpectedFailures",
    "ModelsLike",
    "CellError",
    "SelectionError",
    "DEFAULT_TIMEOUT",
    "Cell",
    "row_of",
    "BoundCheck",
    "as_explainer",
    "resolve_checks",
    "iter_cells",
    "expected_reason",
    "outcome_of",
    "failure_message",
    "assert_result",
    "check_explainer",
    "parametrize_with_checks",
]

ExplainerLike = Union[Explainer, str, Callable[..., Any]]
#: Your own models: a zoo module name, or models / zero-argument factories (``synthetic_models.zoo.load_zoo``).
ModelsLike = Union[str, Iterable[Any]]
#: ``{explainer_name: {check_name or "check/case": reason}}``.
ExpectedFailures = Mapping[str, Mapping[str, str]]

_CAPABILITY_FIELDS = frozenset(inspect.signature(Capabilities).parameters)
#: Allowed values of the non-boolean capabilities.
_CAPABILITY_VALUES: dict[str, tuple[str, ...]] = {"requires": typing.get_args(Requirement),
                                                   "scope": ("local", "global")}


# CellError and SelectionError are defined in ``xaicheck.core.errors`` (the benchmarks layer catches them too) and
# re-exported here, their public home (``from xaicheck.axioms.pytest_api import SelectionError``).


def row_of(cell: Cell, record: CellRecord) -> dict[str, Any]:
    """One flat, JSON-friendly row of ``record`` (the columns of ``check_explainer``)."""
    evidence = dict(record.evidence or {})
    result = record.result()
    return {
        "explainer": record.explainer,
        "check": record.check,
        "category": record.category,
        "case": record.case,
        "seed": record.seed,
        "status": record.status,
        "score": record.score,
        "passed": record.passed,
        "threshold": evidence.get("threshold", cell.check.threshold),
        "measured": evidence.get("measured"),
        "message": record.message,
        "counterexample": str((record.counterexample or {}).get("line", "")),
        "expected_failure": cell.expected or "",
        "outcome": outcome_of(result, cell.expected),
    }


def outcome_of(result: CheckResult, expected: str | None) -> str:
    """``passed`` / ``failed`` / ``xfail`` (expected and seen) / ``xpass`` (expected, not seen) / ``error`` / ..."""
    if result.status is Status.OK:
        if expected:
            return "xpass" if result.passed else "xfail"
        return "passed" if result.passed else "failed"
    return str(result.status)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value) if isinstance(value, str) else str(value)


def failure_message(cell: Cell, result: CheckResult) -> str:
    """A message that names explainer, check, case, measured value, threshold and the counterexample line."""
    evidence = dict(result.evidence or {})
    if result.status is not Status.OK:
        return (f"{cell.explainer.name} on {cell.case.id} (seed {cell.seed}): {result.status}: {result.message}"
                + (f"\n{result.traceback}" if result.traceback else ""))
    measured = evidence.get("measured")
    threshold = evidence.get("threshold", cell.check.threshold)
    lines = [
        f"{cell.explainer.name} fails {cell.check.name} on case {cell.case.name} ({cell.case.id}, seed {cell.seed}): "
        f"measured={_fmt(measured)}, threshold={_fmt(threshold)}, score={_fmt(result.score)} "
        f"< pass threshold {_fmt(cell.check.threshold)}",
    ]
    if result.message:
        lines.append(result.message)
    if result.counterexample is not None:
        lines.append(f"counterexample: {result.counterexample.line}")
    return "\n".join(lines)


def assert_result(cell: Cell, result: CheckResult) -> None:
    """Raise ``AssertionError`` if the cell failed its check, ``CellError`` if it errored or timed out.

    Not applicable passes silently (such cells are normally not generated at all).
    """
    __tracebackhide__ = True
    if result.status in (Status.ERROR, Status.TIMEOUT):
        raise CellError(failure_message(cell, result))
    if result.status is Status.OK and not result.passed:
        raise AssertionError(failure_message(cell, result))


def as_explainer(obj: ExplainerLike, *, name: str | None = None, **capabilities: Any) -> Explainer:
    """An ``Explainer`` from an explainer, a registered name, or a plain function with the explain signature.

    A function is wrapped in ``FunctionExplainer`` named ``name`` (default: the function's ``__name__``) with
    ``Capabilities(**capabilities)`` (default: needs only a callable model, no baseline or background).
    """
    if isinstance(obj, Explainer):
        if capabilities or name:
            raise TypeError(f"capabilities/name are for plain functions; {obj!r} already declares its own")
        return obj
    if isinstance(obj, str):
        if capabilities or name:
            raise TypeError(f"capabilities/name are for plain functions; {obj!r} names a registered explainer")
        return get_explainer(obj)
    if callable(obj):
        unknown = set(capabilities) - _CAPABILITY_FIELDS
        if unknown:
            raise TypeError(f"unknown capabilities {sorted(unknown)}; known: {sorted(_CAPABILITY_FIELDS)}")
        for key, value in capabilities.items():
            allowed = _CAPABILITY_VALUES.get(key)
            if allowed is not None and value not in allowed:
                raise SelectionError(f"unknown {key}={value!r}; known: {', '.join(allowed)}")
            if allowed is None and not isinstance(value, bool):
                raise TypeError(f"capability {key} must be True or False; got {value!r}")
        fn_name = name or getattr(obj, "__name__", None)
        if not fn_name or fn_name == "<lambda>":
            raise ValueError(f"give a name= for {obj!r}: it becomes the explainer's id in results and tests")
        return FunctionExplainer(obj, fn_name, capabilities=Capabilities(**capabilities))
    raise TypeError(f"expected an Explainer, a registered explainer name or a function; got {obj!r}")


def resolve_checks(checks: Iterable[str | Check] | None = None, *,
                   cases_for: Callable[[Check], Sequence[Case]] = cases_of,
                   allowed: Sequence[str] | None = None) -> list[tuple[Check, frozenset[str] | None]]:
    """``(check, case names or None = all)`` from names, ``"check/case"`` ids or instances, in the order given.

    ``None`` means every registered check except diagnostics (they are shown on the leaderboard, never pass/fail: name
    one to include it), in ``check_names()`` order. Unknown names raise ``KeyError`` quoting them. ``cases_for``: where
    a check's cases come from (its own by default); ``allowed``: the only check names that may be selected.
    """
    if checks is None:
        return [(get_check(name), None) for name in check_names() if get_check(name).role != "diagnostic"
                and (allowed is None or name in allowed)]
    if isinstance(checks, (str, Check)):
        checks = [checks]
    checks = list(checks)
    if not checks or any(isinstance(c, str) and not c.strip() for c in checks):
        raise SelectionError(f"checks={checks!r} selects no check; leave it out for all; known: "
                             f"{', '.join(check_names())}")
    order: list[Check] = []
    cases: dict[str, set[str] | None] = {}
    for item in checks:
        if isinstance(item, Check):
            check, case = item, None
        else:
            name, _, case = str(item).partition("/")
            if name not in check_names():
                raise SelectionError(f"unknown check {name!r}; known: {', '.join(check_names())}")
            check = get_check(name)
        if allowed is not None and check.name not in allowed:
            raise SelectionError(f"check {check.name!r} has no cases from model declarations; those that do: "
                                 f"{', '.join(allowed)}")
        if case and case not in {c.name for c in cases_for(check)}:
            known = ", ".join(c.name for c in cases_for(check))
            raise SelectionError(f"unknown case {item!r}; {check.name} has: {known}")
        if check.name not in cases:
            order.append(check)
            cases[check.name] = set()
        if not case or cases[check.name] is None:
            cases[check.name] = None
        else:
            cases[check.name].add(case)  # type: ignore[union-attr]
    return [(c, None if cases[c.name] is None else frozenset(cases[c.name])) for c in order]


def expected_reason(explainer: Explainer, check: Check, case: Case,
                    extra: ExpectedFailures | None = None) -> str | None:
    """The author's reason why ``explainer`` fails ``check/case``, or ``None``; "check/case" beats "check".

    The explainer's own declarations are validated here, where they are matched to cells: one naming a check that is
    neither registered nor ``check`` raises ``ExpectedFailureError`` (their cases are validated when the check's
    cases are built: ``cases_of``).
    """
    _validate_declared_checks(explainer, check)
    mine = (extra or {}).get(explainer.name, {})
    for key in (case.id, check.name):
        if key in mine:
            return str(mine[key])
    for ef in explainer.expected_failures:
        if ef.matches(check.name, case.name):
            return ef.reason
    return None


def _validate_declared_checks(explainer: Explainer, check: Check) -> None:
    """Every ``ExpectedFailure`` of ``explainer`` names a registered check (or ``check`` itself)."""
    for ef in explainer.expected_failures:
        if ef.check != check.name and ef.check not in check_names():
            raise ExpectedFailureError(f"explainer {explainer.name!r} declares an expected failure of unknown check "
                                       f"{ef.check!r}; known checks: {', '.join(sorted(check_names()))}")


def _validate_suite(suite: str) -> None:
    if suite not in TIERS:
        raise SelectionError(f"unknown suite {suite!r}; known: {', '.join(TIERS)}")


def _validate_expected(expected: ExpectedFailures | None, explainers: Sequence[Explainer],
                       selected: Sequence[Check] = (),
                       cases_for: Callable[[Check], Sequence[Case]] = cases_of) -> None:
    """Every key of ``expected_failures`` names a given explainer and a known check or ``check/case``."""
    if expected is None:
        return
    if not isinstance(expected, Mapping):
        raise TypeError(f"expected_failures must map explainer -> {{check: reason}}; got {type(expected).__name__}")
    names = [e.name for e in explainers]
    known = {**{n: get_check(n) for n in check_names()}, **{c.name: c for c in selected}}
    for exp_name, table in expected.items():
        if exp_name not in names:
            raise SelectionError(f"expected_failures names explainer {exp_name!r}, which is not tested here; "
                                 f"known: {', '.join(names)}")
        if not isinstance(table, Mapping):
            raise TypeError(f"expected_failures[{exp_name!r}] must map check -> reason; got {table!r}")
        for key, reason in table.items():
            name, _, case = str(key).partition("/")
            if name not in known:
                raise SelectionError(f"expected_failures[{exp_name!r}] names unknown check {name!r}; known: "
                                     f"{', '.join(known)}")
            if case and case not in {c.name for c in cases_for(known[name])}:
                raise SelectionError(f"expected_failures[{exp_name!r}] names unknown case {key!r}; {name} has: "
                                     f"{', '.join(c.name for c in cases_for(known[name]))}")
            if not str(reason).strip():
                raise ValueError(f"expected_failures[{exp_name!r}][{key!r}] needs a reason")


def iter_cells(
    explainers: Iterable[ExplainerLike],
    *,
    suite: str = "quick",
    checks: Iterable[str | Check] | None = None,
    expected_failures: ExpectedFailures | None = None,
    seeds: Sequence[int] = (0,),
    include_not_applicable: bool = False,
    models: ModelsLike | None = None,
) -> Iterator[tuple[Cell, str]]:
    """Every cell of ``suite`` for ``explainers``: yields ``(cell, why_not)``; ``why_not`` is ``""`` if applicable.

    ``checks``: check names, ``"check/case"`` ids (one case) or ``Check`` objects; ``None`` = all registered.
    ``models``: your own models instead of the built-in cases (a zoo module name, or a list of ``SyntheticModel``
    objects or factories: ``synthetic_models.zoo.load_zoo``): the checks run on the cases that follow from the
    models' declarations (``axioms.declared_cases``; every declared truth is checked first), case name = model name.

    Applicability comes from the explainer's tags via ``Check.applies``; not-applicable cells are skipped unless
    ``include_not_applicable``. Known violations come from the explainers themselves (``Explainer.expected_failures``,
    declared by each built-in adapter) and from ``expected_failures``.
    """
    _validate_suite(suite)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    if isinstance(explainers, (str, Explainer)) or callable(explainers):
        explainers = [explainers]  # type: ignore[list-item]
    resolved = [as_explainer(e) for e in explainers]
    if not resolved:
        raise SelectionError("no explainer given: pass at least one explainer, registered name or function")
    cases_for, allowed = _case_source(models, suite)
    selection = resolve_checks(checks, cases_for=cases_for, allowed=allowed)
    _validate_expected(expected_failures, resolved, [c for c, _ in selection], cases_for)
    for exp in resolved:
        for check, only in selection:
            for case in cases_for(check):
                if suite not in case.tiers or (only is not None and case.name not in only):
                    continue
                ok, why = check.applies(exp, case)
                if not ok and not include_not_applicable:
                    continue
                expected = expected_reason(exp, check, case, expected_failures)
                for seed in seeds:
                    yield Cell(exp, check, case, seed, expected, show_seed=len(seeds) > 1), ("" if ok else why)


def _case_source(models: ModelsLike | None, suite: str = "quick"
                 ) -> tuple[Callable[[Check], Sequence[Case]], Sequence[str] | None]:
    """Where each check's cases come from: its own (``cases_of``, declared rows sized for ``suite``), or the
    declarations of ``models`` (``axioms.declared_cases``)."""
    if models is None:
        return (lambda check: cases_of(check, 0, suite)), None
    from xaicheck.synthetic_models.zoo import load_zoo

    from .declared_cases import declaring_checks, user_cases

    by_check: dict[str, list[Case]] = {}
    for case in user_cases(load_zoo(models), suite=suite):
        by_check.setdefault(case.check, []).append(case)
    return (lambda check: by_check.get(check.name, [])), declaring_checks()


def check_explainer(
    explainer_or_fn: ExplainerLike,
    *,
    suite: str = "quick",
    checks: Iterable[str | Check] | None = None,
    expected_failures: ExpectedFailures | None = None,
    seed: int = 0,
    name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    models: ModelsLike | None = None,
    **capabilities: Any,
) -> "pd.DataFrame":
    """Run every applicable check x case of ``suite`` on one explainer; one DataFrame row per cell.

    ``explainer_or_fn``: an ``Explainer``, a registered name, or a plain function
    ``fn(model, X, *, baseline, background, target, seed) -> [n, d]`` (capabilities as keyword arguments, e.g.
    ``requires="torch", uses_baseline=True``). ``checks``: names or ``"check/case"`` ids (default: all).
    Columns: explainer, check, category, case, seed, status, score, passed, threshold, measured, message,
    counterexample, expected_failure, outcome (passed / failed / xfail / xpass / error / timeout).
    Each cell runs in a forked child limited to ``timeout`` seconds (0: no limit). No applicable cell is an error.
    ``models``: run on your own models' declared cases instead of the built-in ones (``iter_cells``).
    """
    import pandas as pd

    timeout = validate_timeout(timeout)
    explainer = as_explainer(explainer_or_fn, name=name, **capabilities)
    cells = [cell for cell, _ in iter_cells(
        [explainer], suite=suite, checks=checks, expected_failures=expected_failures, seeds=(seed,), models=models)]
    if not cells:
        raise SelectionError(_none_applicable(explainer, suite, checks, models))
    rows = [row_of(cell, run_cell(cell, timeout=timeout)) for cell in cells]
    columns = ["explainer", "check", "category", "case", "seed", "status", "score", "passed", "threshold",
               "measured", "message", "counterexample", "expected_failure", "outcome"]
    return pd.DataFrame(rows, columns=columns)


def _none_applicable(explainer: Explainer, suite: str, checks: Iterable[str | Check] | None,
                     models: ModelsLike | None = None) -> str:
    reasons = [why for _, why in iter_cells([explainer], suite=suite, checks=checks, include_not_applicable=True,
                                            models=models) if why]
    first = f"; e.g. {reasons[0]}" if reasons else ""
    return (f"no cell of suite {suite!r} applies to {explainer.name} (tags {', '.join(explainer.capabilities.as_tags())}"
            f"): {len(reasons)} not applicable{first}")


class BoundCheck:
    """``check(explainer)``: run one cell and raise if it fails (what a ``parametrize_with_checks`` test calls)."""

    def __init__(self, cell: Cell, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.cell = cell
        self.timeout = timeout

    def __call__(self, explainer: ExplainerLike | None = None) -> CheckResult:
        __tracebackhide__ = True
        exp = self.cell.explainer if explainer is None else as_explainer(explainer)
        if exp.name != self.cell.explainer.name:
            raise ValueError(f"this check was generated for {self.cell.explainer.name!r}; got {exp.name!r}")
        cell = self.cell if exp is self.cell.explainer else Cell(
            exp, self.cell.check, self.cell.case, self.cell.seed, self.cell.expected, self.cell.show_seed)
        result = run_cell(cell, timeout=self.timeout).result()
        assert_result(cell, result)
        return result

    def __repr__(self) -> str:
        return f"<check {self.cell.check.name}/{self.cell.case.name}>"


def _marks(cell: Cell) -> list[Any]:
    import pytest

    marks = [getattr(pytest.mark, cell.category)]
    if cell.expected:
        marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=cell.expected))
    return marks


def parametrize_with_checks(
    explainers: Iterable[ExplainerLike],
    *,
    suite: str = "quick",
    checks: Iterable[str | Check] | None = None,
    expected_failures: ExpectedFailures | None = None,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    models: ModelsLike | None = None,
) -> Any:
    """``pytest.mark.parametrize("explainer, check", ...)`` over every applicable cell of ``suite``.

    ``checks``: names or ``"check/case"`` ids (default: all registered checks). ``models``: your own models (a zoo
    module name, or a list of models / factories) whose declared cases replace the built-in ones (``iter_cells``).
    Each param has id ``<explainer>-<check>-<case>``, a mark for the check's category, and a strict
    ``xfail(raises=AssertionError)`` when the failure is expected, so an error is never counted as the expected
    violation and an unexpected pass fails the run.
    """
    import pytest

    timeout = validate_timeout(timeout)
    explainers = [explainers] if isinstance(explainers, (str, Explainer)) or callable(explainers) else list(explainers)
    params = [pytest.param(cell.explainer, BoundCheck(cell, timeout), id=cell.test_id, marks=_marks(cell))
              for cell, _ in iter_cells(explainers, suite=suite, checks=checks,
                                        expected_failures=expected_failures, seeds=(seed,), models=models)]
    if not params:
        raise SelectionError(f"parametrize_with_checks: no applicable cell of suite {suite!r} for "
                             f"{', '.join(as_explainer(e).name for e in explainers)}")
    return pytest.mark.parametrize("explainer, check", params)
