"""The contract every check keeps: cases, applicability, and a scored result with evidence.

A **Case** is one question: a check, a model (plus any twins or parts in ``extra``), inputs, a baseline and/or
background, and the suites (tiers) it belongs to. Its id ``check/case`` is stable: it is the pytest id, the CSV key
and the key of an explainer's expected failures.

A **Check** scores an explainer on a case in [0, 1] (1 = satisfies fully) and passes when ``score >= threshold``.
``run`` never raises: not applicable, error and timeout are statuses with ``score = None``, never a disguised 0.
"""

from __future__ import annotations

import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

import numpy as np

from xaicheck.core.registry import Registry
from xaicheck.core.tiers import TIERS
from xaicheck.synthetic_models.targets import is_per_row

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = [
    "CATEGORIES",
    "TIERS",
    "CHECKS",
    "ENTRY_POINT_GROUP",
    "Status",
    "Counterexample",
    "CheckResult",
    "Case",
    "Check",
    "Tolerance",
    "register_check",
    "get_check",
    "check_names",
    "all_checks",
    "all_cases",
    "cases_of",
    "declared_cases",
]

#: Categories of the scoring hierarchy: case -> check -> category -> overall.
CATEGORIES: tuple[str, ...] = ("axioms", "ground_truth", "stability", "agreement", "fragility")
# TIERS (the suites, smallest first) is defined in ``xaicheck.core.tiers`` and re-exported here, where cases and
# suites have always found it (``from xaicheck.axioms import TIERS``).


class Status(str, Enum):
    OK = "ok"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"
    TIMEOUT = "timeout"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Counterexample:
    """The smallest model and input found on which a check fails, as data and as one readable line."""

    model_spec: Mapping[str, Any]
    x: list[list[float]]
    attributions: list[list[float]]
    expected: Any
    line: str
    baseline: list[list[float]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"model": dict(self.model_spec), "x": self.x, "baseline": self.baseline,
                "attributions": self.attributions, "expected": self.expected, "line": self.line}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one cell (explainer x case x seed).

    score: in [0, 1] when ``status`` is ok, else ``None``. passed: ``score >= threshold`` (``None`` unless ok).
    evidence: JSON-serialisable numbers behind the score (measured value, threshold, worst instance, ...).
    message: one line a person reads: what was measured against what.
    """

    status: Status
    score: float | None = None
    passed: bool | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""
    counterexample: Counterexample | None = None
    traceback: str | None = None

    def __post_init__(self) -> None:
        if self.status is Status.OK:
            if self.score is None or not (0.0 <= self.score <= 1.0) or not np.isfinite(self.score):
                raise ValueError(f"an ok result needs a score in [0, 1]; got {self.score!r}")
        elif self.score is not None:
            raise ValueError(f"a {self.status} result has no score; got {self.score!r}")

    @classmethod
    def scored(cls, score: float, threshold: float, message: str, evidence: Mapping[str, Any] | None = None,
               counterexample: Counterexample | None = None) -> "CheckResult":
        score = float(np.clip(score, 0.0, 1.0))
        return cls(Status.OK, score, bool(score >= threshold), dict(evidence or {}), message, counterexample)

    @classmethod
    def not_applicable(cls, reason: str) -> "CheckResult":
        return cls(Status.NOT_APPLICABLE, message=reason)


@dataclass(frozen=True, eq=False)
class Case:
    """One question a check asks: model, inputs, references, and the suites it belongs to.

    baseline: ``[d]`` or ``[n, d]``, always explicit for explainers that use one.
    background: ``[m, d]`` reference sample for explainers that use one.
    extra: check-specific parts (equivalent twins, the models of a linear combination, a baseline panel, ...).
    """

    check: str
    name: str
    model: "SyntheticModel"
    X: np.ndarray
    baseline: np.ndarray | None = None
    background: np.ndarray | None = None
    #: The explained output: ``None`` (one output), a column, or an ``[n]`` array of columns, one per row of ``X``
    #: (``synthetic_models.targets``; e.g. a classifier at each row's predicted class).
    target: "int | np.ndarray | None" = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    tiers: frozenset[str] = frozenset(TIERS)
    description: str = ""

    @property
    def id(self) -> str:
        return f"{self.check}/{self.name}"

    def explain(self, explainer: "Explainer", *, seed: int, model: "SyntheticModel | None" = None,
                X: np.ndarray | None = None, baseline: np.ndarray | None = None) -> np.ndarray:
        """Run ``explainer`` with this case's references (optionally on another model / inputs / baseline)."""
        return explainer.explain(
            model if model is not None else self.model,
            self.X if X is None else X,
            baseline=self.baseline if baseline is None else baseline,
            background=self.background,
            target=self.target,
            seed=seed,
        )


@dataclass(frozen=True)
class Tolerance:
    """A named tolerance scaled to the magnitude of what is compared: ``|a - b| <= atol + rtol * scale``."""

    rtol: float = 1e-4
    atol: float = 1e-8

    def bound(self, scale: float | np.ndarray) -> np.ndarray:
        return self.atol + self.rtol * np.abs(np.asarray(scale, dtype=np.float64))

    def close(self, a: np.ndarray, b: np.ndarray, scale: float | np.ndarray) -> np.ndarray:
        return np.abs(np.asarray(a) - np.asarray(b)) <= self.bound(scale)


class Check(ABC):
    """Base class: set the class attributes, implement ``cases`` and ``evaluate``; document the formula."""

    name: ClassVar[str]
    category: ClassVar[str]
    threshold: ClassVar[float]
    version: ClassVar[int] = 1
    citation: ClassVar[str] = ""
    #: Whether the check can judge global (``[1, d]``) importances.
    accepts_global: ClassVar[bool] = False
    #: How the leaderboard uses the check (``ROLES``): ``"score"`` counts in the scored overall; ``"gate"`` is a
    #: necessary condition that degenerate explainers can also meet, shown as pass/fail beside the ranking and kept
    #: out of the overall; ``"diagnostic"`` is shown (a matrix, a split) but neither scored nor gating.
    role: ClassVar[str] = "score"
    #: For a ``"score"`` check: the highest mean score over its quick cases that a degenerate explainer
    #: (``explainers.degenerate.DEGENERATE_PANEL``) may reach, stated and justified by the check; a score at or below
    #: it carries no evidence of quality (``tests/test_degenerate_panel.py``). ``None``: not stated yet.
    floor: ClassVar[float | None] = None
    #: For a ``"score"`` check judged against another truth than the model's exact attribution (e.g. the generating
    #: function of a trained model): the axis name. Such a check gets its own column and its own tracks
    #: (``benchmarks.ranking``) and is never averaged with the checks of no axis. ``""``: the default truth.
    truth: ClassVar[str] = ""
    #: The keys under which registered models place themselves in this check's curated cases
    #: (``register_model(placed=)``, ``axioms._placed``); empty: the check's name.
    placement_keys: ClassVar[tuple[str, ...]] = ()
    #: Whether the check judges interaction explainers (``Capabilities.interaction_order >= 1``: one value per feature
    #: subset) instead of per-feature attributions; each kind of check is not applicable to the other kind.
    interactions: ClassVar[bool] = False

    def cases(self) -> Sequence[Case]:
        """The check's own curated cases (each tagged with its suites); default none. Cases of models that declare
        themselves come from ``cases_for``."""
        return ()

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """The cases that ``model``'s declarations give this check in ``suite`` (``synthetic_models.declarations``:
        tiers, binary values, baselines, rows per suite; ``model.ground_truth``: the truths it carries). The check
        decides from them alone, never from the model's name; default none (the check needs cases of its own)."""
        return ()

    def applies(self, explainer: "Explainer", case: Case) -> tuple[bool, str]:
        """Whether the check can judge ``explainer`` on ``case`` (from tags), and why not."""
        if bool(getattr(explainer.capabilities, "interaction_order", 0)) != self.interactions:
            kinds = ("one attribution per feature", "interaction values (one per feature subset)")
            return False, (f"{self.name} judges {kinds[self.interactions]}; {explainer.name} gives "
                           f"{kinds[not self.interactions]}")
        if explainer.capabilities.scope == "global" and not self.accepts_global:
            return False, f"{self.name} judges local attributions; {explainer.name} is global"
        if explainer.capabilities.scope == "global" and is_per_row(case.target):
            return False, f"{case.id} explains each row at its own output; {explainer.name} is global"
        for model in self.models_of(case):
            from xaicheck.explainers.base import applicability

            ok, why = applicability(explainer, model)
            if not ok:
                return False, why
        return True, ""

    def models_of(self, case: Case) -> list["SyntheticModel"]:
        """Every model the check will explain for ``case`` (the main one plus any in ``extra['models']``)."""
        return [case.model, *case.extra.get("models", ())]

    @abstractmethod
    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        """Compute the score; may raise (``run`` records the error)."""

    def run(self, explainer: "Explainer", case: Case, seed: int = 0) -> CheckResult:
        """Applicability, then ``evaluate``; never raises (errors become ``Status.ERROR`` with the traceback)."""
        ok, why = self.applies(explainer, case)
        if not ok:
            return CheckResult.not_applicable(why)
        try:
            return self.evaluate(explainer, case, seed)
        except Exception as exc:  # noqa: BLE001 - a cell's failure is data, not a crash
            return CheckResult(Status.ERROR, message=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())

    def describe(self) -> dict[str, Any]:
        doc = (type(self).__doc__ or "").strip().split("\n")[0]
        out = {"name": self.name, "category": self.category, "role": self.role, "threshold": self.threshold,
               "version": self.version, "citation": self.citation, "summary": doc}
        if self.truth:  # recorded in provenance, so a run read without the registry keeps its axes
            out["truth"] = self.truth
        return out


#: The roles a check can have on the leaderboard (``Check.role``).
ROLES: tuple[str, ...] = ("score", "gate", "diagnostic")

#: The entry-point group of third-party checks: an entry point names a ``Check`` subclass (registered like
#: ``@register_check``) or a module whose import registers its checks.
ENTRY_POINT_GROUP = "xaicheck.checks"


def _adopt(name: str, obj: Any) -> None:
    if not (isinstance(obj, type) and issubclass(obj, Check)):
        raise TypeError(f"entry point {name!r} of {ENTRY_POINT_GROUP} must name a Check subclass or a module; "
                        f"got {obj!r}")
    register_check(obj)


def _validate_expected_failures() -> None:
    """Every expected failure an explainer registered so far declares (``Explainer.expected_failures``, set by its
    adapter) names a registered check: an unknown check is an error when the check registry loads, naming the
    explainer and the check. From then on each explainer is validated as it registers (``_validate_new_explainer``),
    so the order in which the two registries load does not matter."""
    from xaicheck.explainers.base import EXPLAINERS
    from xaicheck.explainers.expectations import validate_check_names

    validate_check_names(set(CHECKS.registered()))
    EXPLAINERS.on_add(_validate_new_explainer)


def _validate_new_explainer(name: str, explainer: "Explainer") -> None:
    """An explainer registering after the checks loaded: its expected failures name registered checks, and cases
    among those already built for them (``cases_of`` validates the later ones); raising keeps it out of the
    registry (inside a registry load: the load fails, naming the adapter module)."""
    from xaicheck.explainers.expectations import validate_case_names, validate_check_names

    checks = CHECKS.registered()
    if CHECKS.loaded:
        validate_check_names(set(checks), [explainer])
    for (cls, check_name, _seed, _suite), cases in list(_CASES.items()):
        if type(checks.get(check_name)) is cls:
            validate_case_names(check_name, {case.name for case in cases}, [explainer])


#: Checks by name (one instance each): the public modules of this package (one check per module: discovery, not a
#: hand-kept list) and the ``xaicheck.checks`` entry points (``xaicheck.core.registry.Registry``). Checks of the
#: same class are the same check (registering a class twice is a no-op).
CHECKS: Registry[Check] = Registry("check", packages=(__package__,), group=ENTRY_POINT_GROUP, adopt=_adopt,
                                   same=lambda a, b: type(a) is type(b),
                                   after_load=(_validate_expected_failures,))


def register_check(cls: type[Check]) -> type[Check]:
    """Class decorator: register one instance of a check under its ``name``."""
    if cls.category not in CATEGORIES:
        raise ValueError(f"check {cls.name!r}: category {cls.category!r} is not one of {CATEGORIES}")
    if cls.role not in ROLES:
        raise ValueError(f"check {cls.name!r}: role {cls.role!r} is not one of {ROLES}")
    present = CHECKS.registered().get(cls.name)
    CHECKS.add(cls.name, present if present is not None and type(present) is cls else cls())
    return cls


def get_check(name: str) -> Check:
    """The check registered as ``name``; ``KeyError`` naming the known ones if none is."""
    return CHECKS.get(name)


def check_names() -> list[str]:
    """Every registered check, ordered by category (``CATEGORIES``) then name: stable whatever the import order."""
    checks = CHECKS.items()
    return sorted(checks, key=lambda n: (CATEGORIES.index(checks[n].category), n))


def all_checks() -> list[Check]:
    """Every registered check, in ``check_names()`` order."""
    return [get_check(n) for n in check_names()]


def all_cases(tier: str = "full", seed: int = 0) -> list[Case]:
    """Every case of every check that belongs to the suite ``tier``, in ``check_names()`` order (case seed ``seed``)."""
    if tier not in TIERS:
        raise ValueError(f"unknown suite {tier!r}; known: {', '.join(TIERS)}")
    return [case for check in all_checks() for case in cases_of(check, seed, tier) if tier in case.tiers]


_CASES: dict[tuple[type, str, int, str], list[Case]] = {}
#: The suite whose row counts a declared case takes when the caller names no suite.
DEFAULT_SUITE = "default"


def declared_cases(check: Check, models: Sequence["SyntheticModel"], suite: str) -> list[Case]:
    """``check.cases_for(model, suite)`` for each model that declares ``suite`` (``model.declarations.tiers``), in
    model order; a case of another check or a repeated id is an error naming the model."""
    if suite not in TIERS:
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join(TIERS)}")
    out: list[Case] = []
    seen: set[str] = set()
    for model in models:
        if not model.declarations.joins(suite) or not model.declarations.examines(check.truth):
            continue
        for case in check.cases_for(model, suite):
            if case.check != check.name or case.id in seen:
                raise ValueError(f"{check.name}.cases_for({model.name!r}) gave case {case.id!r}: "
                                 f"{'another check' if case.check != check.name else 'a repeated id'}")
            if not case.tiers <= model.declarations.tiers:
                raise ValueError(f"{check.name}.cases_for({model.name!r}) gave case {case.id!r} in suites "
                                 f"{sorted(case.tiers)} the model does not declare ({sorted(model.declarations.tiers)})")
            seen.add(case.id)
            out.append(case)
    return out


def cases_of(check: Check, seed: int = 0, suite: str | None = None) -> list[Case]:
    """The check's cases under case seed ``seed`` (``synthetic_models.seeding``): its curated ``cases()``, then the
    cases every registered model that declares itself (``declarations.tiers``) gives it through ``cases_for``, their
    rows sized for ``suite`` (``None``: ``DEFAULT_SUITE``). Built once per process, class, seed and suite. Keyed by
    the check's class, not its name: a subclass with its own ``cases()`` keeps its name (its results file under the
    same check) yet runs its own cases, never the built-in ones cached under that name.

    For a registered check, every expected failure that a registered explainer declares for one of its cases
    (``Explainer.expected_failures``, ``explainers.expectations``) must name one of these: an unknown case raises
    ``ExpectedFailureError``, naming the explainer and the case (an explainer registered later is validated against
    the cases built by then: ``_validate_new_explainer``)."""
    from xaicheck.synthetic_models.registry import declared_models
    from xaicheck.synthetic_models.seeding import using_case_seed

    suite = DEFAULT_SUITE if suite is None else suite
    key = (type(check), check.name, int(seed), suite)
    if key not in _CASES:
        with using_case_seed(seed):
            curated = list(check.cases())
            declared = declared_cases(check, declared_models(), suite)
        names = {c.name for c in curated}
        clash = [c.id for c in declared if c.name in names]
        if clash:
            raise ValueError(f"declared cases {clash} repeat curated case ids of {check.name!r}")
        cases = curated + declared
        if type(CHECKS.registered().get(check.name)) is type(check):  # the registered check: its declared cases
            from xaicheck.explainers.expectations import validate_case_names

            validate_case_names(check.name, {case.name for case in cases})
        _CASES[key] = cases
    return _CASES[key]
