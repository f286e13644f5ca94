"""The cells a metric is judged on: tabular torch cases with exact Shapley values, an explainer panel (real methods
and the degenerate controls), each explainer's attributions computed once and kept on disk, and each attribution's
agreement with the exact truth.

Cases: the ``ground_truth_agreement`` cases (``axioms.ground_truth_agreement``: rows, baseline 0, background) whose
model is tabular, single-output, has a torch form and ``d <= MAX_EXACT_FEATURES``; the ``quick`` suite takes those of
the default suite with at most ``QUICK_ROWS`` rows. Truth: ``ground_truth_score`` (sign × mean of recall, rank
correlation and magnitude) of the attributions against the reference the project judges that explainer by
(``reference_attribution``: baseline Shapley for baseline and reference-free methods, interventional Shapley for
background methods).

Attributions are stored as ``<out>/attributions/<key>.npy`` with ``key`` the explainer/model/input digest of
``explainers._attribution_cache.key_for``: a rerun reads them back (exact round trip) instead of explaining again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from xaicheck.axioms.base import cases_of, get_check
from xaicheck.axioms.ground_truth_agreement import ground_truth_score, reference_attribution
from xaicheck.core.cache_files import write_array
from xaicheck.explainers import _attribution_cache
from xaicheck.explainers.base import applicability, get_explainer
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

if TYPE_CHECKING:
    from xaicheck.axioms.base import Case
    from xaicheck.explainers.base import Explainer

__all__ = ["REAL", "CONTROLS", "QUICK_ROWS", "Cell", "metric_cases", "panel", "attributions", "truth_score"]

#: Real methods of the panel, per suite (the quick panel: the fast ones; every one re-explains in robustness metrics).
REAL: dict[str, tuple[str, ...]] = {
    "quick": ("saliency", "input_x_gradient", "integrated_gradients", "deeplift", "smoothgrad", "guided_backprop",
              "occlusion", "gradient_shap", "exact_baseline_shapley", "exact_interventional_shapley"),
    "default": ("saliency", "input_x_gradient", "integrated_gradients", "deeplift", "smoothgrad", "guided_backprop",
                "deconvolution", "feature_ablation", "occlusion", "shapley_value_sampling", "captum_kernel_shap",
                "captum_lime", "gradient_shap", "deeplift_shap", "shap_permutation", "shap_kernel", "lime_tabular",
                "exact_baseline_shapley", "exact_interventional_shapley"),
}
#: The degenerate controls (``explainers.degenerate``) that every real method must beat.
CONTROLS: tuple[str, ...] = ("zero", "constant", "random", "identity", "gradient_sign", "split_equally",
                             "huge_feature")
QUICK_ROWS = 4


def metric_cases(suite: str, seed: int = 0) -> list["Case"]:
    """The eligible ``ground_truth_agreement`` cases of ``suite`` (module docstring), in the check's order."""
    source = "default" if suite == "quick" else suite
    out = []
    for case in cases_of(get_check("ground_truth_agreement"), seed, source):
        m = case.model
        if (source in case.tiers and m.domain in ("binary", "continuous") and "torch" in m.forms
                and m.n_outputs == 1 and case.target is None and m.n_features <= MAX_EXACT_FEATURES
                and case.baseline is not None and (suite != "quick" or len(case.X) <= QUICK_ROWS)):
            out.append(case)
    return out


def panel(suite: str) -> list["Explainer"]:
    """The real methods then the controls."""
    return [get_explainer(n) for n in REAL["quick" if suite == "quick" else "default"] + CONTROLS]


@dataclass(frozen=True)
class Cell:
    explainer: str
    case: str
    A: np.ndarray | None
    error: str = ""


def attributions(explainer: "Explainer", case: "Case", seed: int, directory: Path) -> Cell:
    """The explainer's attributions for the case's rows, read from ``directory`` when stored, else computed and
    stored; an explainer that cannot run is a cell with its error."""
    ok, why = applicability(explainer, case.model)
    if not ok:
        return Cell(explainer.name, case.name, None, why)
    b = np.broadcast_to(np.asarray(case.baseline, dtype=np.float64), case.X.shape)
    caps = explainer.capabilities
    baseline = b if caps.uses_baseline else None
    background = case.background if caps.uses_background else None
    key = _attribution_cache.key_for(explainer, case.model, case.X, baseline, background, None, seed)
    path = directory / f"{key}.npy"
    if path.exists():
        A = np.load(path, allow_pickle=False)
        if A.shape == case.X.shape:
            return Cell(explainer.name, case.name, A)
    try:
        A = explainer.explain(case.model, case.X, baseline=baseline, background=background, seed=seed)
    except Exception as exc:  # noqa: BLE001 - a cell's failure is recorded
        return Cell(explainer.name, case.name, None, f"{type(exc).__name__}: {exc}")
    write_array(path, A)
    return Cell(explainer.name, case.name, A)


def truth_score(explainer: "Explainer", case: "Case", A: np.ndarray) -> float:
    """Agreement of ``A`` with the exact attribution ``explainer`` is judged by (module docstring)."""
    R = reference_attribution(explainer, case.model, case.X, baseline=case.baseline, background=case.background,
                              target=None)
    return float(ground_truth_score(A, R, magnitude=True)["score"])
