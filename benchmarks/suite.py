"""Named suites (quick ⊂ default ⊂ full) and the cells they expand to: explainer x case x seed.

Seeds: the base seed is also the case seed (cases are built under it, ``synthetic_models.seeding``), so another
base seed regenerates the seeded cases. A deterministic explainer runs one seed (the base seed); a stochastic
explainer runs ``[base]`` in ``quick`` and ``default`` and ``[base, base+1, base+2]`` in ``full``, so a 95% interval
across seeds exists there. (The default suite ran three seeds until 2026-12-06; they were 47% of its cell time, and
the default must fit in 10 minutes on 2 cores: the seed replication went to ``full``.) Every cell, eligible or not,
is part of the suite: the runner records not-applicable cells too, so coverage can be computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from xaicheck.axioms.base import TIERS, Case, Check, cases_of, check_names, get_check
from xaicheck.axioms.cell import Cell
from xaicheck.core.errors import SelectionError, did_you_mean
from xaicheck.explainers.base import Explainer, explainer_names, get_explainer

__all__ = ["SUITES", "STOCHASTIC_SEEDS", "MAX_SEED", "Cell", "Suite", "SelectionError", "seeds_for", "build_suite",
           "parse_names", "validate_seed"]

SUITES: tuple[str, ...] = TIERS
#: Number of seeds a stochastic explainer runs in each suite.
STOCHASTIC_SEEDS: dict[str, int] = {"quick": 1, "default": 1, "full": 3}

#: Seeds are in [0, MAX_SEED] (what numpy's legacy and torch's generators accept alike).
MAX_SEED = 2**32 - 1

def seeds_for(explainer: Explainer, suite: str, base_seed: int = 0) -> list[int]:
    """The seeds ``explainer`` runs in ``suite``: one for deterministic explainers; for stochastic ones one in quick
    and default, three in full."""
    if suite not in STOCHASTIC_SEEDS:
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
    k = STOCHASTIC_SEEDS[suite] if explainer.capabilities.stochastic else 1
    return [base_seed + i for i in range(k)]


@dataclass
class Suite:
    """A suite resolved to objects: explainers, checks, and the cases of each check in this tier."""

    name: str
    explainers: dict[str, Explainer]
    checks: dict[str, Check]
    cases: dict[str, Case] = field(default_factory=dict)  # keyed by case id "check/name"
    base_seed: int = 0

    @classmethod
    def from_objects(cls, name: str, explainers: Iterable[Explainer], checks: Iterable[Check],
                     base_seed: int = 0) -> "Suite":
        """A suite over given explainer and check objects (registered or not), cases filtered by tier ``name``."""
        if name not in SUITES:
            raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
        exps = {e.name: e for e in explainers}
        chks = {c.name: c for c in checks}
        cases: dict[str, Case] = {}
        for check in chks.values():
            for case in cases_of(check, base_seed):  # the base seed is also the case seed: cases vary with it
                if name in case.tiers:
                    if case.check != check.name:
                        raise ValueError(f"check {check.name!r} produced case {case.id!r} of another check")
                    if case.id in cases:
                        raise ValueError(f"duplicate case id {case.id!r}")
                    cases[case.id] = case
        return cls(name, exps, chks, cases, base_seed)

    def cells(self) -> list[Cell]:
        """Every cell of the suite, sorted (explainer, check, case, seed)."""
        out = []
        for exp in self.explainers.values():
            seeds = seeds_for(exp, self.name, self.base_seed)
            for case in self.cases.values():
                out.extend(Cell(exp, self.checks[case.check], case, s) for s in seeds)
        return sorted(out)

    def case_of(self, cell: Cell) -> Case:
        return cell.case

    def check_of(self, cell: Cell) -> Check:
        return cell.check

    def explainer_of(self, cell: Cell) -> Explainer:
        return cell.explainer

    def cell(self, key: tuple[str, str, str, int]) -> Cell:
        """The cell whose ``Cell.key`` is ``(explainer, check, case, seed)`` (a case name may contain ``/``)."""
        explainer, check, case, seed = key
        return Cell(self.explainers[explainer], self.checks[check], self.cases[f"{check}/{case}"], int(seed))


def validate_seed(seed: object) -> int:
    """``seed`` as an int in ``[0, MAX_SEED]`` (stochastic explainers use seed, seed+1, seed+2); else ``ValueError``."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    if not 0 <= seed <= MAX_SEED - max(STOCHASTIC_SEEDS.values()):
        raise ValueError(f"seed must be in [0, {MAX_SEED - max(STOCHASTIC_SEEDS.values())}]; got {seed}")
    return seed


def parse_names(text: str | Sequence[str] | None, kind: str = "name") -> list[str] | None:
    """``"a,b"`` or ``["a", "b"]`` -> ``["a", "b"]``; ``None`` -> ``None`` (no filter).

    An explicit selection that names nothing (``""``, ``","``, ``[]``) is a :class:`SelectionError`, never "all"."""
    if text is None:
        return None
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip() for s in items if str(s).strip()]
    if not names:
        raise SelectionError(f"the {kind} selection {text!r} names no {kind}; leave it out to select all")
    return names


def _select(kind: str, wanted: list[str] | None, known: list[str]) -> list[str]:
    if wanted is None:
        return known
    unknown = [w for w in wanted if w not in known]
    if unknown:
        hints = "; ".join(f"{w!r}{did_you_mean(w, known)}" for w in unknown)
        listing = (', '.join(known) or '(none)') if len(known) <= 12 else f"{len(known)} names, see `xaicheck list {kind}s`"
        raise SelectionError(f"unknown {kind} {hints}; known: {listing}")
    return list(dict.fromkeys(wanted))


def build_suite(name: str = "quick", *, explainers: str | Sequence[str] | None = None,
                checks: str | Sequence[str] | None = None, base_seed: int = 0) -> Suite:
    """The registered explainers and checks (optionally filtered by name) as a suite of tier ``name``.

    Unknown names, an empty selection, an unknown suite or a bad seed raise an error naming the known values."""
    if name not in SUITES:
        raise SelectionError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    validate_seed(base_seed)
    exp_names = _select("explainer", parse_names(explainers, "explainer"), explainer_names())
    chk_names = _select("check", parse_names(checks, "check"), check_names())
    return Suite.from_objects(name, [get_explainer(n) for n in exp_names], [get_check(n) for n in chk_names],
                              base_seed)
