"""captum perturbation and surrogate methods on the model as a black box (``requires="callable"``).

``model.predict_target`` is wrapped as a torch forward function (no gradients needed); every call batches its
perturbations (``perturbations_per_eval``), so one numpy ``predict`` evaluates many coalitions.

- ``occlusion``: Zeiler & Fergus 2014 with a 1-feature window and stride 1: a_i = f(x) - f(x with x_i := b_i).
- ``feature_ablation``: the same leave-one-out difference via captum's FeatureAblation (one group per feature).
- ``feature_permutation``: captum's FeaturePermutation (Breiman 2001 / Fisher et al. 2019 applied per instance):
  a_i = f(x) - f(x with x_i := z_i), z a background row. captum permutes within the batch, which for one instance is
  a no-op, so the adapter stacks ``[X; background]`` and passes a ``perm_func`` that gives each explained row the
  feature value of background row ``(k + offset) mod m``, averaged over ``min(m, max_draws=32)`` distinct offsets
  (seeded). With m ≤ 32 background rows this is exactly f(x) - mean_z f(x_{-i}, z_i) (= w_i (x_i - mean z_i) for a
  linear f); above, a sample of 32 rows without replacement.
- ``shapley_value_sampling``: Castro et al. 2009 permutation sampling of baseline Shapley values, ``n_samples=32``
  permutations (exact for additive models whatever the permutations).
- ``captum_kernel_shap``: KernelSHAP (Lundberg & Lee 2017) against the baseline, ``n_samples=256`` coalitions
  (needs d ≥ 2). On a linear model the regression is exact once the sampled design has full rank.
- ``captum_lime``: LIME (Ribeiro et al. 2016) in captum's form: binary interpretable features (x_i present vs replaced
  by b_i), captum's default exponential cosine-distance kernel, ``n_samples=256``, and an *unregularised* weighted
  least-squares surrogate (captum's default Lasso(alpha=0.01) shrinks every coefficient by an amount unrelated to the
  model); the attribution is the surrogate's coefficient, i.e. the effect of switching x_i from b_i to x_i (for a
  linear f exactly w_i (x_i - b_i)).

Precision: captum fits the Lime / KernelSHAP surrogate on float32 copies of its data (``.float()`` in captum's
``lime.py``), so those attributions carry float32 rounding (~1e-7 relative) even though the model runs in float64.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _expected_reasons as why
from .base import Capabilities, ExpectedFailure, Explainer, register
from .torch_utils import as_tensor, numpy_forward, numpy_global_seed, quiet_captum, to_numpy, torch_seed

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = [
    "Occlusion",
    "FeatureAblation",
    "FeaturePermutation",
    "ShapleyValueSampling",
    "CaptumKernelShap",
    "CaptumLime",
]


class _CaptumBlackBox(Explainer):
    library = "captum"
    family = "perturbation"

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        forward = numpy_forward(model, target)
        with torch_seed(seed), numpy_global_seed(seed), quiet_captum():
            return to_numpy(self._attribute(forward, X, baseline=baseline, background=background, seed=seed))

    def _attribute(self, forward: Any, X: np.ndarray, *, baseline: np.ndarray | None,
                   background: np.ndarray | None, seed: int) -> Any:
        raise NotImplementedError


class Occlusion(_CaptumBlackBox):
    """Leave-one-out against the baseline with a 1-feature occlusion window."""

    name = "occlusion"
    capabilities = Capabilities(requires="callable", uses_baseline=True)
    settings = {"sliding_window": 1, "stride": 1}

    def _attribute(self, forward, X, *, baseline, background, seed):  # type: ignore[override]
        from captum.attr import Occlusion as _Occlusion

        return _Occlusion(forward).attribute(as_tensor(X), sliding_window_shapes=(1,), strides=(1,),
                                             baselines=as_tensor(baseline), perturbations_per_eval=X.shape[1])


class FeatureAblation(_CaptumBlackBox):
    """Leave-one-out against the baseline, one ablation group per feature."""

    name = "feature_ablation"
    capabilities = Capabilities(requires="callable", uses_baseline=True)
    settings = {"groups": "one_per_feature"}

    def _attribute(self, forward, X, *, baseline, background, seed):  # type: ignore[override]
        from captum.attr import FeatureAblation as _FeatureAblation

        return _FeatureAblation(forward).attribute(as_tensor(X), baselines=as_tensor(baseline),
                                                   perturbations_per_eval=X.shape[1])


class FeaturePermutation(_CaptumBlackBox):
    """Per-instance permutation importance against background rows (see module docstring)."""

    name = "feature_permutation"
    capabilities = Capabilities(requires="callable", uses_background=True, stochastic=True)
    settings = {"max_draws": 32, "draw": "cyclic_background_offsets"}

    def _attribute(self, forward, X, *, baseline, background, seed):  # type: ignore[override]
        import torch
        from captum.attr import FeaturePermutation as _FeaturePermutation

        n, m = X.shape[0], background.shape[0]
        offsets = np.random.default_rng(seed).permutation(m)[: int(self.settings["max_draws"])]
        rows = torch.arange(n)
        results = []
        for offset in offsets:
            # explained row k takes background row (k + offset) mod m; background rows shift cyclically too
            idx = torch.cat([n + (rows + int(offset)) % m, n + (torch.arange(m) + int(offset)) % m])

            def perm_func(batch: "torch.Tensor", feature_mask: "torch.Tensor", idx=idx) -> "torch.Tensor":
                return torch.where(feature_mask.to(torch.bool).expand_as(batch), batch[idx], batch)

            stacked = as_tensor(np.vstack([X, background]))
            results.append(_FeaturePermutation(forward, perm_func=perm_func).attribute(stacked)[:n])
        return torch.stack(results).mean(dim=0)


class ShapleyValueSampling(_CaptumBlackBox):
    """Baseline Shapley values by permutation sampling."""

    name = "shapley_value_sampling"
    family = "shapley"
    capabilities = Capabilities(requires="callable", uses_baseline=True, stochastic=True)
    settings = {"n_samples": 32}

    def _attribute(self, forward, X, *, baseline, background, seed):  # type: ignore[override]
        from captum.attr import ShapleyValueSampling as _SVS

        return _SVS(forward).attribute(as_tensor(X), baselines=as_tensor(baseline),
                                       n_samples=self.settings["n_samples"], perturbations_per_eval=X.shape[1] + 1)


class CaptumKernelShap(_CaptumBlackBox):
    """KernelSHAP against the baseline (captum)."""

    name = "captum_kernel_shap"
    family = "shapley"
    capabilities = Capabilities(requires="callable", uses_baseline=True, stochastic=True)
    settings = {"n_samples": 256}
    expected_failures = (ExpectedFailure("fooling", why.SCAFFOLD.format(method="KernelSHAP (captum.attr.KernelShap)")),)

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        if model.n_features < 2:
            return False, (f"{self.name}: captum samples coalition sizes 1..d-1 only (sizes 0 and d have infinite "
                           f"Shapley-kernel weight), none exist for d={model.n_features}")
        return super().can_explain(model)

    def _attribute(self, forward, X, *, baseline, background, seed):  # type: ignore[override]
        from captum.attr import KernelShap

        n_samples = int(self.settings["n_samples"])
        return KernelShap(forward).attribute(as_tensor(X), baselines=as_tensor(baseline), n_samples=n_samples,
                                             perturbations_per_eval=n_samples)


def exp_cosine_similarity(kernel_width: float = 1.0) -> Any:
    """captum's default LIME similarity, ``exp(-d² / (2 w²))`` with ``d = 1 - cos(x, z)`` on float32 copies
    (``captum.attr._core.lime.get_exp_kernel_similarity_function("cosine", w)``), computed by the same tensor
    operations in the same order, so every weight is the same float; it only skips what captum redoes for each of
    the ``n_samples`` draws: building a ``CosineSimilarity`` module and casting the (unchanged) original input."""
    import math

    import torch
    from captum._utils.common import _flatten_tensor_or_tuple

    last: list[Any] = [None, None]

    def similarity(original_inp: Any, perturbed_inp: Any, _: Any, **kwargs: Any) -> float:
        if last[0] is not original_inp:  # captum passes one input tensor for all its draws
            last[0], last[1] = original_inp, _flatten_tensor_or_tuple(original_inp).float()
        perturbed = _flatten_tensor_or_tuple(perturbed_inp).float()
        distance = 1 - torch.cosine_similarity(last[1], perturbed, dim=0, eps=1e-8)
        return math.exp(-1 * (distance**2) / (2 * (kernel_width**2)))

    return similarity


class CaptumLime(_CaptumBlackBox):
    """LIME with binary present/baseline features and a weighted least-squares surrogate (captum)."""

    name = "captum_lime"
    family = "surrogate"
    capabilities = Capabilities(requires="callable", uses_baseline=True, stochastic=True)
    settings = {"n_samples": 256, "surrogate": "linear_regression", "kernel": "exp_cosine_width_1"}
    expected_failures = (ExpectedFailure("fooling", why.SCAFFOLD.format(method="LIME (captum.attr.Lime)")),)

    def _attribute(self, forward, X, *, baseline, background, seed):  # type: ignore[override]
        from captum._utils.models.linear_model import SkLearnLinearRegression
        from captum.attr import Lime

        n_samples = int(self.settings["n_samples"])
        lime = Lime(forward, interpretable_model=SkLearnLinearRegression(), similarity_func=exp_cosine_similarity())
        return lime.attribute(as_tensor(X), baselines=as_tensor(baseline), n_samples=n_samples,
                              perturbations_per_eval=n_samples)


for _cls in (Occlusion, FeatureAblation, FeaturePermutation, ShapleyValueSampling, CaptumKernelShap, CaptumLime):
    register(_cls())
