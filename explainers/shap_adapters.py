"""shap adapters (Lundberg & Lee 2017; Lundberg et al. 2020): every shap explainer behind ``Explainer``.

All model-agnostic ones explain the numpy function ``model.predict_target(., target)`` with an ``Independent``
masker over *all* background rows (``max_samples = len(background)``), i.e. the interventional value function
v(S) = mean_z f(x_S, z_{N\\S}); their exact answer is ``exact_interventional_shapley``.

- ``shap_exact``: ExactExplainer, all 2^d coalitions (exact; cost 2^d x |background| rows per instance; d ≤ 16).
  Note: shap JIT-compiles its exact/partition kernels with numba on first use in a process (~15 s / ~4 s here).
- ``shap_permutation``: PermutationExplainer, antithetic permutation sampling, ``max_evals=512`` (exact for additive
  models); ``shap_partition``: PartitionExplainer (Owen values on shap's correlation clustering of the background,
  ``max_evals=512``; where correlation is undefined — one background row or constant columns — features are merged
  by index adjacency instead) — equal to Shapley values for additive models, not in general.
- ``shap_kernel``: KernelExplainer, ``nsamples=512``, ``l1_reg=False`` (no feature selection at d ≤ 16).
- ``shap_tree``: TreeExplainer, ``feature_perturbation="interventional"`` with the background (exact interventional
  Shapley values of the tree's raw output); ``saabas``: the same explainer's ``approximate=True`` path attribution
  (Saabas 2014), which uses the tree's own cover statistics and no background. For a classifier, the explained
  column is ``target``, or class 1 of a binary classifier that the model exposes as one output.
- ``shap_tree_path_dependent``: TreeExplainer, ``feature_perturbation="tree_path_dependent"`` (Lundberg, Erion & Lee
  2018, Algorithm 2): exact Shapley values of the game v(S) = E[f(x_S, Z)] where Z follows the trees' own node covers
  (the training data as the trees saw it), no background. For independent features whose covers are the training
  distribution (a tree fitted on a uniform truth table) this equals interventional Shapley over the training data.
- ``shap_linear``: LinearExplainer on ``model.linear_coefficients = (w, b)``: w_i (x_i - mean z_i), exactly.
- ``shap_deep``: DeepExplainer (DeepLIFT rescale averaged over background rows, PyTorch backend) with
  ``check_additivity=False``: additivity is judged by the completeness check, not turned into an error here.
- ``shap_gradient``: GradientExplainer (expected gradients), ``nsamples=200`` (one batch), ``local_smoothing=0``,
  ``rseed=seed``; Monte-Carlo error ≈ std_z(∂f·(x - z))/sqrt(200).

shap's Kernel / Permutation explainers draw from numpy's *global* generator; the adapters seed it for the call and
restore it afterwards (``numpy_global_seed``). Inputs stay float64 throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

from ._patches import players
from . import _expected_reasons as why
from .base import Capabilities, ExpectedFailure, Explainer, register
from .torch_utils import ScalarOutput, as_tensor, numpy_global_seed, predict_fn, to_numpy, torch_module_of, torch_seed

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = [
    "ShapExact",
    "ShapPermutation",
    "ShapPartition",
    "ShapKernel",
    "ShapTree",
    "Saabas",
    "ShapTreePathDependent",
    "ShapLinear",
    "ShapDeep",
    "ShapGradient",
    "select_output",
    "partition_clustering",
]


def select_output(values: Any, model: "SyntheticModel", target: int | None, who: str) -> np.ndarray:
    """shap's ``[n, d]`` values, or the explained column of ``[n, d, k]`` (``target``; class 1 of a binary model).

    Supported releases: both output formats -- a list of ``[n, d]`` arrays, one per output (shap < 0.45), and one
    ``[n, d, k]`` array (shap >= 0.45) -- so no per-version code; ``xaicheck observe`` found no changed cell on the
    quick suite from 0.44.1 to 0.47.2 (``results/versions/shap+numpy-1.26.4+...``) or 0.47.2 to 0.49.1."""
    arr = to_numpy(values.values if hasattr(values, "values") else values)
    if isinstance(values, list):  # older shap: one array per output
        arr = np.stack([to_numpy(v) for v in values], axis=-1)
    if arr.ndim == 2:
        return arr
    if arr.ndim == 3:
        k = arr.shape[2]
        if k == 1:
            return arr[:, :, 0]
        if target is not None:
            return arr[:, :, target]
        if k == 2 and model.n_outputs == 1:
            return arr[:, :, 1]
    raise ValueError(f"{who}: cannot pick the explained output from shap values of shape {arr.shape} (target={target})")


def _independent(background: np.ndarray) -> Any:
    import shap

    return shap.maskers.Independent(background, max_samples=background.shape[0])


class _Shap(Explainer):
    library = "shap"
    family = "shapley"


class ShapExact(_Shap):
    name = "shap_exact"
    #: 2^d coalitions x |background| rows per instance: d = 16 costs ~10 CPU-s per 32-row cell, d = 24 would take
    #: 256 times that (beyond the cell timeout), so larger models are not applicable rather than a timeout.
    capabilities = Capabilities(requires="callable", uses_background=True, max_features=16)
    settings = {"masker": "independent_all_rows"}

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        if players(self, model) > MAX_EXACT_FEATURES:  # a patched image: its patches (_patches.py)
            return False, f"{self.name} evaluates 2^d coalitions; d={model.n_features} > {MAX_EXACT_FEATURES}"
        return super().can_explain(model)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        explainer = shap.ExactExplainer(predict_fn(model, target), _independent(background))
        return select_output(explainer(X, silent=True), model, target, self.name)


class ShapPermutation(_Shap):
    name = "shap_permutation"
    capabilities = Capabilities(requires="callable", uses_background=True, stochastic=True)
    settings = {"max_evals": 512, "masker": "independent_all_rows"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        with numpy_global_seed(seed):
            explainer = shap.PermutationExplainer(predict_fn(model, target), _independent(background), seed=seed)
            out = explainer(X, max_evals=max(int(self.settings["max_evals"]), 2 * X.shape[1] + 1), silent=True)
        return select_output(out, model, target, self.name)


def partition_clustering(background: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    """shap's correlation clustering of the features (``shap.utils.hclust``, which jitters the data with numpy's global
    generator: seeded here); where correlation is undefined (one background row, constant columns) the features are
    merged by index adjacency instead. Returns the linkage matrix and which of the two was used."""
    import shap
    from scipy.cluster.hierarchy import single
    from scipy.spatial.distance import pdist

    with numpy_global_seed(seed):
        try:
            link = shap.utils.hclust(background, metric="correlation")
            if np.all(np.isfinite(link)):
                return link, "correlation"
        except ValueError:
            pass
    return single(pdist(np.arange(background.shape[1], dtype=np.float64)[:, None])), "feature_index"


class ShapPartition(_Shap):
    name = "shap_partition"
    capabilities = Capabilities(requires="callable", uses_background=True)
    settings = {"max_evals": 512, "clustering": "correlation_else_feature_index"}

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        if model.n_features < 2:
            return False, f"{self.name} clusters features; d={model.n_features} gives no hierarchy"
        return super().can_explain(model)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        clustering, _ = partition_clustering(background, seed)
        masker = shap.maskers.Partition(background, max_samples=background.shape[0], clustering=clustering)
        with numpy_global_seed(seed):
            out = shap.PartitionExplainer(predict_fn(model, target), masker)(
                X, max_evals=int(self.settings["max_evals"]), silent=True)
        return select_output(out, model, target, self.name)


class ShapKernel(_Shap):
    name = "shap_kernel"
    capabilities = Capabilities(requires="callable", uses_background=True, stochastic=True)
    settings = {"nsamples": 512, "l1_reg": False}
    expected_failures = (ExpectedFailure("fooling", why.SCAFFOLD.format(method="KernelSHAP (shap.KernelExplainer)")),)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        with numpy_global_seed(seed):
            explainer = shap.KernelExplainer(predict_fn(model, target), background)
            out = explainer.shap_values(X, nsamples=int(self.settings["nsamples"]), l1_reg=False, silent=True)
        return select_output(out, model, target, self.name)


class ShapTree(_Shap):
    name = "shap_tree"
    family = "tree"
    capabilities = Capabilities(requires="tree", uses_background=True)
    settings = {"feature_perturbation": "interventional", "model_output": "raw"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        explainer = shap.TreeExplainer(model.sklearn_estimator, data=background,
                                       feature_perturbation="interventional")
        return select_output(explainer.shap_values(X), model, target, self.name)


class Saabas(_Shap):
    name = "saabas"
    family = "tree"
    capabilities = Capabilities(requires="tree")
    settings = {"approximate": True, "feature_perturbation": "tree_path_dependent"}
    expected_failures = (ExpectedFailure("ground_truth_agreement", why.TREE_INCONSISTENCY.format(
        method="Saabas' path attribution", what="it credits cough 25 and fever 40 at (1, 1) while the exact "
        "interventional Shapley values are 35 and 30"), case="tree_cough_fever_10_90"),)

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if ok and type(model.sklearn_estimator).__module__.startswith("lightgbm"):
            return False, f"{self.name}: shap's approximate=True path does not support LightGBM models"
        return ok, why

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        explainer = shap.TreeExplainer(model.sklearn_estimator, feature_perturbation="tree_path_dependent")
        return select_output(explainer.shap_values(X, approximate=True), model, target, self.name)


class ShapTreePathDependent(_Shap):
    name = "shap_tree_path_dependent"
    family = "tree"
    capabilities = Capabilities(requires="tree")
    settings = {"feature_perturbation": "tree_path_dependent", "model_output": "raw"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        explainer = shap.TreeExplainer(model.sklearn_estimator, feature_perturbation="tree_path_dependent")
        return select_output(explainer.shap_values(X), model, target, self.name)


class ShapLinear(_Shap):
    name = "shap_linear"
    capabilities = Capabilities(requires="linear", uses_background=True)
    settings = {"feature_perturbation": "interventional"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        w, b = model.linear_coefficients
        w = np.asarray(w, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if w.ndim == 2:  # [k, d]: one row per output
            if target is None:
                raise ValueError(f"linear model {model.name} has {w.shape[0]} outputs; give a target")
            w, b = w[target], b[target]
        explainer = shap.LinearExplainer((w, float(b)), _independent(background))
        return select_output(explainer.shap_values(X), model, target, self.name)


class ShapDeep(_Shap):
    name = "shap_deep"
    capabilities = Capabilities(requires="torch", uses_background=True, multiplies_by_input=True)
    settings = {"check_additivity": False, "rule": "rescale"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        module = ScalarOutput(torch_module_of(model, fresh=True), target, keepdim=True)
        explainer = shap.DeepExplainer(module, as_tensor(background))
        return select_output(explainer.shap_values(as_tensor(X), check_additivity=False), model, None, self.name)


class ShapGradient(_Shap):
    name = "shap_gradient"
    capabilities = Capabilities(requires="torch", uses_background=True, stochastic=True, multiplies_by_input=True)
    settings = {"nsamples": 200, "local_smoothing": 0.0}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import shap

        module = ScalarOutput(torch_module_of(model), target, keepdim=True)
        explainer = shap.GradientExplainer(module, as_tensor(background), local_smoothing=0.0,
                                           batch_size=int(self.settings["nsamples"]))
        with torch_seed(seed):
            nsamples = int(self.settings["nsamples"])
            out = explainer.shap_values(as_tensor(X), nsamples=nsamples, rseed=seed)
        return select_output(out, model, None, self.name)


for _cls in (ShapExact, ShapPermutation, ShapPartition, ShapKernel, ShapTree, Saabas, ShapTreePathDependent,
             ShapLinear, ShapDeep, ShapGradient):
    register(_cls())
