"""Shared pieces of the interaction checks (truth axis ``interaction``): their cases and the truth of a cell.

**Cases** (``Check.cases_for``): a tabular model (binary or continuous) with one explained output and ``d <= 16``
that declares itself an exam for the axis (``declarations.axes`` holds ``"interaction"``) or declares known
interactions (``ground_truth.interactions``). Rows: ``ROWS[suite]`` of the declared inputs (binary: corners after
all-on), the declared baseline, a background of ``BACKGROUND`` further draws.

**The game an explainer is judged in**: the baseline game when it takes a baseline, the interventional game over the
case's background otherwise (a reference-free explainer, e.g. a path-dependent tree explainer, is judged in the
game of the data it is given; its own game is not the case's, and the checks say so by its score).
**The truth**: ``synthetic_models.interaction_truth`` of the explainer's declared ``index`` and order in that game.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from xaicheck.synthetic_models.interaction_subsets import MAX_ORDER, subsets
from xaicheck.synthetic_models.interaction_truth import interaction_truth
from xaicheck.synthetic_models.seeding import case_rng
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

from ._declared import declared_case, declared_inputs
from .base import Case, Counterexample

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["AXIS", "ROWS", "BACKGROUND", "interaction_exam", "interaction_case", "game_of", "reference_of",
           "cell_values", "truth_for", "output_gap", "scale_of", "counterexample", "not_interaction"]

AXIS = "interaction"
#: Rows explained per interaction case: an approximator answers one row at a time.
ROWS: Mapping[str, int] = {"quick": 2, "default": 3, "full": 6}
#: Background rows of an interaction case (the interventional game's reference set).
BACKGROUND = 8


def interaction_exam(model: "SyntheticModel") -> bool:
    """Whether ``model`` makes interaction cases (module docstring)."""
    declared = AXIS in model.declarations.axes or bool(model.ground_truth.interactions)
    return (declared and model.domain in ("binary", "continuous") and model.n_outputs == 1
            and model.n_features <= MAX_EXACT_FEATURES and model.n_features >= 2)


def interaction_case(check: str, model: "SyntheticModel", suite: str, what: str, X: np.ndarray | None = None,
                     **extra: Any) -> Case:
    """The case of ``check`` on ``model`` in ``suite`` (rows, declared baseline, background)."""
    X0, _ = declared_inputs(model, suite)
    X = X0[:ROWS[suite]] if X is None else X
    background = np.ascontiguousarray(model.sample(BACKGROUND, case_rng(7)), dtype=np.float64)
    return declared_case(check, model, X, what, background=background, extra=dict(extra))


def game_of(explainer: "Explainer") -> str:
    """``"baseline"`` for an explainer that takes a baseline, else ``"interventional"``."""
    return "baseline" if explainer.capabilities.uses_baseline else "interventional"


def reference_of(case: Case, game: str) -> np.ndarray:
    return case.baseline if game == "baseline" else case.background  # type: ignore[return-value]


def cell_values(explainer: "Explainer", case: Case, seed: int) -> np.ndarray:
    """The explainer's interaction values ``[n, M]`` on the case."""
    return np.asarray(case.explain(explainer, seed=seed), dtype=np.float64)


def order_of(explainer: "Explainer") -> int:
    return int(min(getattr(explainer.capabilities, "interaction_order", 0), MAX_ORDER))


def truth_for(explainer: "Explainer", case: Case, index: str | None = None) -> np.ndarray:
    """The exact ``index`` (default: the explainer's) of the explainer's order in its game ``[n, M]``."""
    game = game_of(explainer)
    return interaction_truth(case.model, case.X, reference_of(case, game), game,  # type: ignore[arg-type]
                             index or getattr(explainer, "index", "k-SII"), order_of(explainer),
                             None if case.target is None else int(case.target))  # type: ignore[arg-type]


def output_gap(case: Case, game: str) -> np.ndarray:
    """``v(N) - v(∅)`` per row: ``f(x) - f(b)`` (baseline) or ``f(x) - mean_z f(z)`` (interventional)."""
    f = case.model.predict_target
    fx = f(case.X, case.target)
    if game == "baseline":
        return fx - f(np.broadcast_to(case.baseline, case.X.shape), case.target)
    return fx - float(np.mean(f(case.background, case.target)))


def scale_of(case: Case) -> float:
    """The output scale tolerances are relative to: the range of ``f`` over rows, baseline and background (1 if
    constant); a unit-free scale, so scores are invariant to ``f -> a f + c``."""
    f = case.model.predict_target
    pts = [f(case.X, case.target), f(np.atleast_2d(case.baseline), case.target), f(case.background, case.target)]
    span = float(np.ptp(np.concatenate(pts)))
    return span if span > 0 else 1.0


def counterexample(case: Case, row: int, values: np.ndarray, expected: Any, line: str) -> Counterexample:
    """The failing row as a counterexample (values in the subset order ``subsets(d, order)``)."""
    B = np.broadcast_to(case.baseline, case.X.shape) if case.baseline is not None else None
    return Counterexample(case.model.spec(), [case.X[row].tolist()], [values[row].tolist()], expected, line,
                          None if B is None else [B[row].tolist()])


def not_interaction(explainer: "Explainer") -> bool:
    return not getattr(explainer.capabilities, "interaction_order", 0)


def pair_columns(d: int, order: int) -> list[int]:
    """The columns of the pairs in ``subsets(d, order)``."""
    return [j for j, S in enumerate(subsets(d, order)) if len(S) == 2]
