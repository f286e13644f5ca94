"""Quantus 0.6 metrics (Hedström et al. 2023, JMLR 24(34)), each called through Quantus itself.

Tabular rows are passed as ``[n, 1, d]`` (a one-channel series) and, for the metrics that segment or pad an image
(IROF, Infidelity), as ``[n, 1, 1, d]``; the model is the case's torch form as a one-logit classifier
(``context.column_module``), ``softmax=False``, ``y = 0``. Changes from Quantus's defaults forced by a tabular input
(recorded in ``settings``): patch / subset / region sizes of image pixels become single features
(``patch_size=1``, ``subset_size=ceil(d/2)``, ``regions_evaluation=d``, ``perturb_patch_sizes=[1]``); in the quick
suite the Monte-Carlo sample counts of the robustness and randomisation metrics are lowered (``QUICK_SAMPLES``).

Images are handed as ``[n, C, H, W]`` pixel tensors with a block of pixels as the removal unit
(``features_in_step = d/16``, ``patch_size = 4``, ``regions_evaluation = 16``, ``perturb_patch_sizes = [4]``;
``context`` module docstring). Trees and token models have no torch form of their own: Quantus gets
``context.numpy_module`` (forward = the model's numpy predict).

Reductions to one value per row: curves (PixelFlipping, Selectivity: ``f`` after removing the k most relevant
features, lower is better; RegionPerturbation: ``f(x) - f(x_k)``, AOPC, higher is better) are averaged over k;
MPRT / SmoothMPRT give a similarity per randomised layer: the fully randomised model's (last layer) similarity,
lower is better (the explanation should change).

Not run here, with the reason recorded: ROAD, Sufficiency and RandomLogit need a classifier's classes (ROAD scores
whether the predicted class survives, Sufficiency compares neighbours' classes, RandomLogit explains another class);
the cases are single-output regressions, where each would be a constant.

The ``reference`` variant replaces removed features by the case's declared baseline (0) instead of Quantus's
default ``perturb_baseline`` (``"black"`` = the row's own minimum; IROF: ``"mean"``): the papers remove a feature by
setting it to an uninformative reference value (Bach et al. 2015; Samek et al. 2017; Bhatt et al. 2020).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any, Callable, Iterator

import numpy as np

from .context import MetricContext, seeded
from .spec import Metric

__all__ = ["quantus_metrics", "QUICK_SAMPLES", "NOT_RUN"]

#: How the per-step unit and patch side read in ``settings`` (1 on tabular, text and trees; a block of pixels on an
#: image: ``context.MetricContext.unit`` / ``side``).
UNIT = "1 (images: d/16 pixels)"
SIDE = "1 (images: 4, a 4x4 square)"
#: Monte-Carlo sample counts in the quick suite (Quantus defaults: 200 for the sensitivity metrics, 50 SmoothMPRT).
QUICK_SAMPLES = 8
#: Quantus metrics not run on single-output regressions, with the reason.
NOT_RUN: dict[str, str] = {
    "quantus_road": "ROAD scores whether the predicted class survives removal: constant for a one-output regression",
    "quantus_sufficiency": "Sufficiency compares the classes of neighbours: constant for a one-output regression",
    "quantus_random_logit": "RandomLogit explains a random other class: the cases have one output",
}


def _call(cls_name: str, kwargs: dict[str, Any], ctx: MetricContext, *, image: bool = False,
          explain: bool = False, mask: bool = False) -> Any:
    import quantus

    seeded(ctx.seed)
    if ctx.image:  # an image keeps its pixels' layout (context module docstring)
        shape = (ctx.n, *ctx.shape)
    else:
        shape = (ctx.n, 1, 1, ctx.d) if image else (ctx.n, 1, ctx.d)
    metric = getattr(quantus, cls_name)(**kwargs, disable_warnings=True, display_progressbar=False)

    def explain_func(model: Any, inputs: Any, targets: Any, **_: Any) -> np.ndarray:
        X = np.asarray(inputs, dtype=np.float64).reshape(len(inputs), -1)
        A = ctx.explain_module(model, X) if model is not column else ctx.explain(X)
        return A.reshape(np.shape(inputs)).astype(np.float32)

    column = ctx.column()
    extra: dict[str, Any] = {}
    if explain:
        extra = {"explain_func": explain_func, "explain_func_kwargs": {}}
    if mask:
        extra["s_batch"] = ctx.mask.reshape(shape).astype(np.float64)
    with warnings.catch_warnings(), _numpy_trapz():
        warnings.simplefilter("ignore")
        return metric(model=column, x_batch=ctx.X.reshape(shape).astype(np.float32),
                      y_batch=np.zeros(ctx.n, dtype=int), a_batch=ctx.A.reshape(shape).astype(np.float32).copy(),
                      device="cpu", channel_first=True, softmax=False, **extra)


@contextlib.contextmanager
def _numpy_trapz() -> Iterator[None]:
    """Quantus 0.6.0's IROF calls ``np.trapz``, removed in NumPy 2 (renamed ``np.trapezoid``): without this shim IROF
    raises ``AttributeError`` on every input. The alias exists only for the duration of one Quantus call."""
    missing = not hasattr(np, "trapz")
    if missing:
        np.trapz = np.trapezoid  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if missing:
            del np.trapz


def _rows(out: Any) -> np.ndarray:
    return np.asarray(out, dtype=np.float64).reshape(-1)


def _curve_mean(out: Any) -> np.ndarray:
    return np.asarray([np.mean(np.asarray(c, dtype=np.float64)) for c in out])


def _last_layer(out: Any) -> np.ndarray:
    if not isinstance(out, dict) or not out:
        return np.full(1, np.nan)
    return np.asarray(list(out.values())[-1], dtype=np.float64).reshape(-1)


def _has_layers(ctx: MetricContext) -> str:
    layers = [m for m in ctx.base.modules() if hasattr(m, "reset_parameters") and m is not ctx.base]
    return "" if layers else ("no layer with parameters to randomise (a model without a torch form of its own, e.g. "
                               "fitted trees or attention text models, is wrapped as a parameter-free module)")


def _has_mask(ctx: MetricContext) -> str:
    if ctx.mask is None or ctx.mask.all() or not ctx.mask.any():
        return "the model declares no proper subset of relevant features (no mask)"
    return ""


def _half(d: int) -> int:
    return max(1, math.ceil(d / 2))


def quantus_metrics(*, quick: bool = False) -> list[Metric]:
    """The Quantus metrics in their default (and, for removal metrics, reference-baseline) settings."""
    samples = QUICK_SAMPLES if quick else None
    out: list[Metric] = []

    def add(name: str, cls: str, category: str, direction: int, reduce: Callable[[Any], np.ndarray],
            kwargs: Callable[[MetricContext], dict[str, Any]], *, removal: bool = False, image: bool = False,
            explain: bool = False, mask: bool = False, applies: Callable[[MetricContext], str] | None = None,
            shown: dict[str, Any] | None = None, citation: str = "", default_baseline: str = "black") -> None:
        variants = [("default", {})] + ([("reference", {"perturb_baseline": 0.0})] if removal else [])
        for variant, over in variants:
            def compute(ctx: MetricContext, kwargs=kwargs, over=over) -> np.ndarray:
                return reduce(_call(cls, {**kwargs(ctx), **over}, ctx, image=image, explain=explain, mask=mask))

            settings = {**(shown or {}), **over}
            if removal and not over:
                settings.setdefault("perturb_baseline", default_baseline)
            out.append(Metric(f"quantus_{name}", "quantus", category, direction, compute, variant, settings,
                              reexplains=explain, applies=applies or (lambda c: ""), citation=citation))

    n_s = {} if samples is None else {"nr_samples": samples}
    add("faithfulness_correlation", "FaithfulnessCorrelation", "faithfulness", 1, _rows,
        lambda c: {"subset_size": _half(c.d), "return_aggregate": False}, removal=True,
        shown={"subset_size": "ceil(d/2)", "nr_runs": 100}, citation="Bhatt et al. 2020 (IJCAI)")
    add("faithfulness_estimate", "FaithfulnessEstimate", "faithfulness", 1, _rows,
        lambda c: {"features_in_step": c.unit}, removal=True, shown={"features_in_step": UNIT},
        citation="Alvarez-Melis & Jaakkola 2018 (NeurIPS)")
    add("monotonicity_arya", "Monotonicity", "faithfulness", 1, _rows, lambda c: {"features_in_step": c.unit},
        removal=True, shown={"features_in_step": UNIT}, citation="Arya et al. 2019")
    add("monotonicity_nguyen", "MonotonicityCorrelation", "faithfulness", 1, _rows,
        lambda c: {"features_in_step": c.unit, **({"nr_samples": samples} if samples else {})}, removal=True,
        shown={"features_in_step": UNIT, "nr_samples": samples or 100}, citation="Nguyen & Martinez 2020",
        default_baseline="uniform")
    add("pixel_flipping", "PixelFlipping", "faithfulness", -1, _curve_mean, lambda c: {"features_in_step": c.unit},
        removal=True, shown={"features_in_step": UNIT, "reduce": "mean of curve"}, citation="Bach et al. 2015")
    add("region_perturbation", "RegionPerturbation", "faithfulness", 1, _curve_mean,
        lambda c: {"patch_size": c.side, "regions_evaluation": c.d // c.unit}, removal=True,
        shown={"patch_size": SIDE, "regions_evaluation": "d (images: 16)", "reduce": "AOPC"},
        citation="Samek et al. 2017")
    add("selectivity", "Selectivity", "faithfulness", -1, _curve_mean, lambda c: {"patch_size": c.side}, removal=True,
        shown={"patch_size": SIDE, "reduce": "mean of curve"}, citation="Montavon et al. 2018")
    add("sensitivity_n", "SensitivityN", "faithfulness", 1, _rows,
        lambda c: {"features_in_step": c.unit, "n_max_percentage": 0.8}, removal=True,
        shown={"features_in_step": UNIT}, citation="Ancona et al. 2018 (ICLR)")
    add("irof", "IROF", "faithfulness", 1, _rows, lambda c: {"return_aggregate": False}, removal=True, image=True,
        shown={"input": "[n,1,1,d] image"}, citation="Rieger & Hansen 2020", default_baseline="mean")
    add("infidelity", "Infidelity", "robustness", -1, _rows,
        lambda c: {"perturb_patch_sizes": [c.side], "return_aggregate": False}, removal=True, image=True,
        shown={"perturb_patch_sizes": f"[{SIDE}]"}, citation="Yeh et al. 2019 (NeurIPS)")
    add("max_sensitivity", "MaxSensitivity", "robustness", -1, _rows, lambda c: dict(n_s), explain=True,
        shown={"nr_samples": samples or 200, "lower_bound": 0.2}, citation="Yeh et al. 2019 (NeurIPS)")
    add("avg_sensitivity", "AvgSensitivity", "robustness", -1, _rows, lambda c: dict(n_s), explain=True,
        shown={"nr_samples": samples or 200, "lower_bound": 0.2}, citation="Yeh et al. 2019 (NeurIPS)")
    add("local_lipschitz_estimate", "LocalLipschitzEstimate", "robustness", -1, _rows, lambda c: dict(n_s),
        explain=True, shown={"nr_samples": samples or 200, "perturb_std": 0.1},
        citation="Alvarez-Melis & Jaakkola 2018 (arXiv:1806.08049)")
    add("sparseness", "Sparseness", "complexity", 1, _rows, lambda c: {}, citation="Chalasani et al. 2020 (ICML)")
    add("complexity", "Complexity", "complexity", -1, _rows, lambda c: {}, citation="Bhatt et al. 2020 (IJCAI)")
    add("effective_complexity", "EffectiveComplexity", "complexity", -1, _rows, lambda c: {},
        shown={"eps": 1e-5}, citation="Nguyen & Martinez 2020")
    add("mprt", "MPRT", "randomisation", -1, _last_layer, lambda c: {}, explain=True, applies=_has_layers,
        shown={"layer_order": "top_down", "reduce": "last layer similarity"}, citation="Adebayo et al. 2018")
    add("smooth_mprt", "SmoothMPRT", "randomisation", -1, _last_layer,
        lambda c: {} if samples is None else {"nr_samples": samples}, explain=True, applies=_has_layers,
        shown={"nr_samples": samples or 50, "reduce": "last layer similarity"}, citation="Hedström et al. 2024")
    add("relevance_rank_accuracy", "RelevanceRankAccuracy", "localisation", 1, _rows, lambda c: {}, mask=True,
        applies=_has_mask, shown={"mask": "declared relevant features"}, citation="Arras et al. 2022")
    add("relevance_mass_accuracy", "RelevanceMassAccuracy", "localisation", 1, _rows, lambda c: {}, mask=True,
        applies=_has_mask, shown={"mask": "declared relevant features"}, citation="Arras et al. 2022")
    return out
