"""The cells a metric is judged on: cases with exact Shapley values, a panel per track (real methods the leaderboard
ranks there and the degenerate controls), each explainer's attributions computed once and kept on disk, and each
attribution's agreement with the exact truth.

Cases: the ``ground_truth_agreement`` cases (``axioms.ground_truth_agreement``: rows, baseline, background) of the
suite's tier, single-output, no target, in one of the ranked tracks (``benchmarks.ranking.TRACKS``):
- tabular (the three tabular tracks): domain binary / continuous, a torch form, no tree form, ``d <=
  MAX_EXACT_FEATURES``;
- ``image``: an image model that declares patches (``axioms._image_truth.patches_of``; the two ``additive_sat``
  images have a pixel closed form and no patches, and are left out);
- ``text``: token models (``domain == "tokens"``, ``d <= MAX_EXACT_FEATURES``): the features are token ids, a
  left-out token becomes the declared mask (baseline, ``[PAD]`` = 0);
- ``trees``: fitted tree models (``"tree"`` in the forms) on their tabular inputs.

The ``quick`` suite takes, from the ``default`` tier, the cases with at most ``QUICK_ROWS`` rows and at most
``QUICK_D[track]`` features, the first ``QUICK_CASES[track]`` per track in the check's order: every such case (tabular
8; image: the 4 16x16x1 CNNs with 9 declared patches; text: the 5 attention models of at most 6 tokens; trees: the 8
fitted ensembles with d = 8). Until 2026-12-06 it took 2 image, 3 text and 3 tree cases: a bootstrap over 2 cases
has 3 distinct resamples, too few for an interval that means much. ``interactions`` is not run: its explainers
return interaction indices, not attributions.

Truth: ``ground_truth_score`` (sign × mean of recall, rank correlation and magnitude) of the attributions against the
reference the leaderboard judges that explainer by (``reference_kind``: baseline Shapley for baseline and
reference-free methods, interventional Shapley for background methods, Shapley over the training data for
path-dependent tree methods); an image is judged patch by patch (the pixel map summed per patch against the exact
patch Shapley values, ``patch_reference``), as ``ground_truth_agreement`` does.

Panels (``REAL``): tabular as before; image: the gradient and path methods plus occlusion and the exact patch Shapley
oracle (Shapley value sampling, the image track's leader, costs ~2 s a row on a 16x16 CNN and a cell re-asks the
explainer ~90 times across the robustness and randomisation metrics and the three views: left out); text and trees:
the model-agnostic methods that run on token ids and on trees (plus the tree explainers). Every control of
``CONTROLS`` runs on every track.

Attributions are stored as ``<out>/attributions/<key>.npy`` with ``key`` the explainer/model/input digest of
``explainers._attribution_cache.key_for``: a rerun reads them back (exact round trip) instead of explaining again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from xaicheck.axioms._image_truth import patch_reference, patches_of
from xaicheck.axioms.base import cases_of, get_check
from xaicheck.axioms.ground_truth_agreement import ground_truth_score, reference_attribution, reference_kind
from xaicheck.synthetic_models.patches import sum_per_patch
from xaicheck.core.cache_files import write_array
from xaicheck.explainers import _attribution_cache
from xaicheck.explainers.base import applicability, get_explainer
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

if TYPE_CHECKING:
    from xaicheck.axioms.base import Case
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["REAL", "CONTROLS", "QUICK_ROWS", "QUICK_D", "QUICK_CASES", "Cell", "metric_cases", "panel",
           "track_of", "in_panel", "attributions", "truth_of", "truth_score"]

#: Real methods of the panel, per suite and track family (the quick tabular panel: the fast ones; every one
#: re-explains in robustness metrics).
_IMAGE = ("saliency", "input_x_gradient", "integrated_gradients", "deeplift", "smoothgrad", "guided_backprop",
          "gradient_shap", "occlusion", "exact_baseline_shapley")
_TEXT = ("occlusion", "feature_ablation", "shapley_value_sampling", "captum_kernel_shap", "captum_lime",
         "shap_permutation", "exact_baseline_shapley", "exact_interventional_shapley")
_TREES = ("shap_tree", "shap_tree_path_dependent", "saabas", "occlusion", "feature_ablation", "shapley_value_sampling",
          "captum_kernel_shap", "shap_permutation", "exact_baseline_shapley", "exact_interventional_shapley")
REAL: dict[str, tuple[str, ...]] = {
    "image": _IMAGE, "text": _TEXT, "trees": _TREES,
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
#: The quick suite's largest ``d`` and number of cases per track family (module docstring).
QUICK_D: dict[str, int] = {"tabular": MAX_EXACT_FEATURES, "image": 256, "text": 6, "trees": 8}
QUICK_CASES: dict[str, int] = {"tabular": 10**6, "image": 4, "text": 5, "trees": 8}


def track_of(model: "SyntheticModel") -> str | None:
    """``"tabular"``, ``"image"``, ``"text"`` or ``"trees"``: the family of ranked tracks a case model belongs to, or
    ``None`` when no metric cell is built on it (module docstring)."""
    if "tree" in model.forms:
        return "trees" if model.n_features <= MAX_EXACT_FEATURES else None
    if model.domain == "image":
        return "image" if patches_of(model) is not None and "torch" in model.forms else None
    if model.domain == "tokens":
        return "text" if model.n_features <= MAX_EXACT_FEATURES else None
    if model.domain in ("binary", "continuous") and "torch" in model.forms and model.n_features <= MAX_EXACT_FEATURES:
        return "tabular"
    return None


def metric_cases(suite: str, seed: int = 0) -> list["Case"]:
    """The eligible ``ground_truth_agreement`` cases of ``suite`` (module docstring), in the check's order."""
    source = "default" if suite == "quick" else suite
    out, taken = [], {k: 0 for k in QUICK_CASES}
    for case in cases_of(get_check("ground_truth_agreement"), seed, source):
        m = case.model
        family = track_of(m)
        if (family is None or source not in case.tiers or m.n_outputs != 1 or case.target is not None
                or case.baseline is None):
            continue
        if suite == "quick":
            if len(case.X) > QUICK_ROWS or m.n_features > QUICK_D[family] or taken[family] >= QUICK_CASES[family]:
                continue
            taken[family] += 1
        out.append(case)
    return out


def panel(suite: str) -> list["Explainer"]:
    """Every track's real methods (the tabular panel first, in its order; then the other tracks' methods in first-seen
    order) then the controls."""
    names = list(REAL["quick" if suite == "quick" else "default"])
    for family in ("image", "text", "trees"):
        names += [n for n in REAL[family] if n not in names]
    return [get_explainer(n) for n in names + list(CONTROLS)]


def in_panel(explainer: "Explainer", case: "Case", suite: str) -> bool:
    """Whether ``explainer`` is on the panel of the case's track (controls: always)."""
    if explainer.name in CONTROLS:
        return True
    family = track_of(case.model)
    key = ("quick" if suite == "quick" else "default") if family == "tabular" else family
    return family is not None and explainer.name in REAL[key]


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


def truth_of(explainer: "Explainer", model: "SyntheticModel", X: np.ndarray, A: np.ndarray, *,
             baseline: np.ndarray | None, background: np.ndarray | None,
             training_data: np.ndarray | None = None) -> float:
    """Agreement of ``A`` with the exact attribution ``explainer`` is judged by (module docstring): images patch by
    patch; path-dependent tree methods against Shapley over the training data (else the background)."""
    patches = patches_of(model)
    if patches is not None:
        A = sum_per_patch(A, patches)
        R = patch_reference(reference_kind(explainer), model, X, baseline=baseline, background=background,
                            target=None)
    else:
        R = reference_attribution(explainer, model, X, baseline=baseline, background=background, target=None,
                                  training_data=training_data)
    return float(ground_truth_score(A, R, magnitude=True)["score"])


def truth_score(explainer: "Explainer", case: "Case", A: np.ndarray) -> float:
    """:func:`truth_of` on the case's rows, baseline, background and training data."""
    return truth_of(explainer, case.model, case.X, A, baseline=case.baseline, background=case.background,
                    training_data=case.extra.get("training_data"))
