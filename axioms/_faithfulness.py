"""Shared machinery of the faithfulness checks: cases, the baseline game, feature orders and pooled ratio scores.

Every faithfulness check asks how much of the *achievable* gain an explainer realises, measured in the units of the
model and judged against the exact answer:

    score = clip( Σ_rows (Q(a) - Q_floor) / Σ_rows (Q(exact) - Q_floor), 0, 1 )

where ``Q`` is the paper's quantity (a curve area, a prediction gap, an infidelity), ``Q(exact)`` its value for the
exact attribution (or the closed-form optimum) and ``Q_floor`` its value for a feature-blind reference (a uniformly
random order, the zero explanation). Sums run over the rows whose achievable gain ``Q(exact) - Q_floor`` exceeds
``GAIN_TOLERANCE`` of the model's own output range on the case. Under ``f -> αf + c`` (α > 0) every ``Q`` is an
affine image of itself, so numerator and denominator scale together: the score is unit-invariant, and no tolerance
ever depends on the explainer's own output.

The baseline game ``v(S) = f(x_S, b_{N∖S})`` (``V[n, 2^d]``, one batched predict, bit ``i`` of a coalition's index
says whether ``i ∈ S``; ``xaicheck.synthetic_models.shapley``) gives every masked prediction the curve checks need.

Ties in an explainer's ranking are broken **against** it (the feature the exact attribution ranks worst for the
current purpose goes first), so a constant or zero attribution cannot collect credit from the index order.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from xaicheck.synthetic_models.base import FunctionModel
from xaicheck.synthetic_models.classification import boundary_split
from xaicheck.synthetic_models.seeding import case_seed
from xaicheck.synthetic_models.shapley import baseline_shapley, baseline_values, coalitions

from ._padding import PAD_TO, padded
from ._placed import placed_cases
from .base import Case, CheckResult, Tolerance
from .ground_truth_agreement import rows, verdict

if TYPE_CHECKING:
    import torch

    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = [
    "QUICK",
    "DEFAULT",
    "FULL",
    "GAIN_TOLERANCE",
    "TIE_TOLERANCE",
    "FAITHFULNESS_KEYS",
    "faithfulness_case",
    "faithfulness_cases",
    "target_predict",
    "game_values",
    "exact_baseline_shapley",
    "output_range",
    "ranked_order",
    "coalition_codes",
    "size_means",
    "pooled_ratio",
    "finish",
]

QUICK, DEFAULT, FULL = frozenset({"quick", "default", "full"}), frozenset({"default", "full"}), frozenset({"full"})
#: A row is judged when its achievable gain exceeds this fraction of the model's output range on the case.
GAIN_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-12)
#: Attribution values within this fraction of the row's largest |value| count as tied.
TIE_TOLERANCE = 1e-9
#: Placement keys of the faithfulness cases: registered models place themselves (``register_model(placed=)``) under
#: ``"faithfulness"`` (the model as it is) and ``"faithfulness_saturated"`` (its ``saturated`` twin). Most placed
#: models have d > 4, so "exact when d <= 4" cannot pass on small cases alone; saturated twins are where a
#: gradient-based order fails while the exact order does not; a classifier (more than one output: class 1
#: explained) takes ``CLASSIFIER_ROWS`` rows so both sides of its decision boundary are populated (the
#: near/far-from-boundary split). Measured on the degenerate panel: "exact when d <= 4" collects the two d = 3 cases
#: (1/3 of the default cases) plus chance elsewhere: a random order's clipped pooled score on one case of 8 rows
#: has mean ≈ 0.1 and reaches 0.5 (measured), so the order-only checks state floor 0.5 (1/3 + 2/3 × 0.1 ≈ 0.4, plus
#: two standard deviations of the mean over four random cases); the memoiser's first answer (sign of the gradient ×
#: input) orders the plain models well and the saturated twins not at all (<= 0.36).
FAITHFULNESS_KEYS: tuple[str, str] = ("faithfulness", "faithfulness_saturated")
#: Saturation point of the ``saturated`` twins (inputs are drawn from [-1, 1] or {0, 1}; the baseline 0 is inside).
SATURATION = 0.5
#: Rows per case (default), per case of a classifier, and background rows.
N_ROWS, CLASSIFIER_ROWS, N_BACKGROUND = 8, 12, 16


def saturated(model: "SyntheticModel", tau: float = SATURATION) -> FunctionModel:
    """``x -> f(clip(x, -tau, tau))``: past ``tau`` a feature's gradient is 0 while its contribution is not
    (Sundararajan et al. 2017's saturation); torch form ``f ∘ clip`` with ``clip(x) = relu(x + tau) - relu(x - tau)
    - tau`` as layers (Linear ``[I; I]`` + ``(tau, -tau)``, ReLU, Linear ``[I, -I]`` - ``tau``), so layer-wise rules
    (LRP, DeepLift) see an ordinary ReLU network."""

    def fn(X: np.ndarray) -> np.ndarray:
        return model.predict(np.clip(X, -tau, tau))

    def torch_factory() -> "torch.nn.Module":
        import torch
        from torch import nn

        d = model.n_features
        eye = torch.eye(d, dtype=torch.float64)
        up, down = nn.Linear(d, 2 * d).double(), nn.Linear(2 * d, d).double()
        with torch.no_grad():
            up.weight.copy_(torch.cat([eye, eye], dim=0))
            up.bias.copy_(torch.cat([torch.full((d,), tau), torch.full((d,), -tau)]).double())
            down.weight.copy_(torch.cat([eye, -eye], dim=1))
            down.bias.fill_(-tau)
        return nn.Sequential(up, nn.ReLU(), down, model.torch_module()).double().eval()

    return FunctionModel(f"{model.name}_saturated", model.family, fn, model.feature_names, model.ground_truth,
                         domain=model.domain, sampler=model.sample, n_outputs=model.n_outputs,
                         torch_factory=torch_factory if "torch" in model.forms else None,
                         spec={**model.spec(), "saturated_at": tau})


def faithfulness_case(check: str, model: "SyntheticModel", tiers: frozenset[str], *, n: int = N_ROWS,
                      description: str = "", saturate: bool = False) -> Case:
    """``n`` inputs drawn from the model's distribution (seeded by the model's name and the case seed, so every
    faithfulness check judges the same rows), zero baseline, 16 background rows;
    multi-output models explain class 1; ``saturate``: the model's ``saturated`` twin on the same inputs. A tabular
    model with fewer than ``PAD_TO`` features is padded with dummy features (``_padding.padded``)."""
    model_name = model.name
    # one draw per model and case seed, shared by every faithfulness check: the checks judge the same attributions
    # of the same rows (computed once per run: ``explainers._attribution_cache``)
    rng = np.random.default_rng([zlib.crc32(f"faithfulness/{model_name}".encode()), case_seed()])
    if model.n_features < PAD_TO and "text" not in model.forms:
        model = padded(model)  # dummy features up to PAD_TO: "exact when d <= 4" cannot answer by enumeration
    if saturate:
        model = saturated(model)
    X = model.sample(n, rng)
    name = f"{model_name}_saturated" if saturate else model_name  # stable case ids, padded or not
    return Case(check=check, name=name, model=model, X=X, baseline=np.zeros(model.n_features),
                background=model.sample(N_BACKGROUND, rng), target=1 if model.n_outputs > 1 else None,
                tiers=tiers, description=description)


def faithfulness_cases(check: str, description: str) -> list[Case]:
    """The cases of every model placed under ``FAITHFULNESS_KEYS`` (plain, then saturated twins): ``N_ROWS`` rows,
    ``CLASSIFIER_ROWS`` for a model with more than one output."""
    out = []
    for key in FAITHFULNESS_KEYS:
        out += placed_cases(key, lambda model, place, sat=key != FAITHFULNESS_KEYS[0]: faithfulness_case(
            check, model, place.tiers, n=CLASSIFIER_ROWS if model.n_outputs > 1 else N_ROWS,
            description=description, saturate=sat))
    return out


def target_predict(case: Case) -> Callable[[np.ndarray], np.ndarray]:
    """The scalar output explained on ``case``: ``Z -> f(Z)[:, target]``."""
    return lambda Z: case.model.predict_target(Z, case.target)


def game_values(case: Case) -> np.ndarray:
    """``V[n, 2^d]``: the baseline game of every case row (one batched predict)."""
    return baseline_values(target_predict(case), case.X, case.baseline)


def exact_baseline_shapley(case: Case) -> np.ndarray:
    return baseline_shapley(target_predict(case), case.X, case.baseline)


def output_range(V: np.ndarray) -> float:
    """The model's own output range over every masked input of the case (the unit every gain is measured in)."""
    return float(max(np.ptp(V), 1e-300))


def _quantise(A: np.ndarray) -> np.ndarray:
    scale = np.abs(A).max(axis=1, keepdims=True)
    return np.round(A / np.where(scale > 0, scale * TIE_TOLERANCE, 1.0))


def ranked_order(A: np.ndarray, tie_break: np.ndarray) -> np.ndarray:
    """``[n, d]`` feature order by ``A`` descending; ties (within ``TIE_TOLERANCE``) go ``tie_break`` ascending."""
    keys = _quantise(np.asarray(A, dtype=np.float64))
    return np.stack([np.lexsort((tie_break[r], -keys[r])) for r in range(keys.shape[0])])


def coalition_codes(order: np.ndarray) -> np.ndarray:
    """``[n, d+1]`` coalition indices of the first ``k = 0..d`` features of each row's ``order``."""
    bits = np.left_shift(np.int64(1), order.astype(np.int64))
    return np.concatenate([np.zeros((order.shape[0], 1), dtype=np.int64), np.cumsum(bits, axis=1)], axis=1)


def size_means(V: np.ndarray) -> np.ndarray:
    """``[n, d+1]``: mean of ``v(S)`` over the coalitions of each size ``|S| = 0..d`` (a uniformly random order's
    expected curve, exactly)."""
    d = int(np.log2(V.shape[1]))
    size = coalitions(d).sum(axis=1)
    return np.stack([V[:, size == k].mean(axis=1) for k in range(d + 1)], axis=1)


def pooled_ratio(gain: np.ndarray, achievable: np.ndarray, judged: np.ndarray) -> float | None:
    """``clip(Σ gain / Σ achievable, 0, 1)`` over ``judged`` rows (``None`` when no row is judged)."""
    if not judged.any():
        return None
    return float(np.clip(gain[judged].sum() / achievable[judged].sum(), 0.0, 1.0))


def finish(check: Any, explainer: "Explainer", case: Case, A: np.ndarray, gain: np.ndarray, achievable: np.ndarray,
           scale: float, what: str, evidence: dict[str, Any]) -> CheckResult:
    """The pooled score, its near/far-from-boundary split (classification cases) and the shared message."""
    judged = achievable > GAIN_TOLERANCE.bound(scale)
    measured = pooled_ratio(gain, achievable, judged)
    if measured is None:
        return CheckResult.not_applicable(f"{case.id}: the exact answer gains nothing over the floor on any row")
    with np.errstate(invalid="ignore", divide="ignore"):
        row_ratio = np.where(judged, gain / np.where(judged, achievable, 1.0), np.nan)
    worst = int(np.nanargmin(row_ratio))
    split = boundary_split(case.model, case.X, lambda m: pooled_ratio(gain, achievable, judged & m))
    evidence = {
        "measured": measured,
        "threshold": float(check.threshold),
        "floor": float(check.floor),
        "measured_is": "clip(sum over judged rows of gain / sum of achievable gain, 0, 1)",
        "rows_judged": int(judged.sum()),
        "output_range": scale,
        "row_gain": [float(g) for g in gain],
        "row_achievable": [float(g) for g in achievable],
        "worst_row": worst,
        "attributions": rows(A),
        **evidence,
        **split,
    }
    detail = (f"row {worst} x={np.round(case.X[worst], 3).tolist()}: realised {row_ratio[worst]:.3f} of the "
              f"achievable gain ({gain[worst]:.4g} of {achievable[worst]:.4g}; output range {scale:.4g})")
    if split:
        detail += "; " + ", ".join(f"{k} {v['score']:.3f} ({v['rows']} rows)" if v["score"] is not None
                                   else f"{k} n/a" for k, v in split.items())
    message = verdict(explainer, check.name, case, measured, check.threshold, what, detail)
    return CheckResult.scored(measured, check.threshold, message, evidence)
