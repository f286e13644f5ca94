"""Adapters for optional packages, registered only when the package is importable (never installed by us).

- ``saliency`` (PAIR): ``guided_ig`` — Guided Integrated Gradients (Kapishnikov et al. 2021), baseline path adapted to
  the gradient, ``x_steps=64``, ``max_dist=1.0``, ``fraction=0.25``; ``blur_ig`` — Blur IG (Xu et al. 2020), path
  from a maximally blurred image (``max_sigma=8`` for our 8x8 images, ``steps=64``), image models only.
- ``xgboost`` / ``lightgbm``: global importance types of a fitted booster (``model.sklearn_estimator``):
  ``xgboost_gain``, ``xgboost_weight``, ``xgboost_cover`` (``get_booster().get_score``) and ``lightgbm_split``,
  ``lightgbm_gain`` (``booster_.feature_importance``).

``UNAVAILABLE`` maps each adapter name that is not registered to the reason (shown by ``xaicheck list``).
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import numpy as np

from .base import Capabilities, Explainer, register
from .torch_utils import ScalarOutput, as_tensor, to_numpy, torch_module_of

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["UNAVAILABLE", "OPTIONAL_ADAPTERS"]

#: package -> adapter names it provides.
OPTIONAL_ADAPTERS: dict[str, tuple[str, ...]] = {
    "saliency": ("guided_ig", "blur_ig"),
    "xgboost": ("xgboost_gain", "xgboost_weight", "xgboost_cover"),
    "lightgbm": ("lightgbm_split", "lightgbm_gain"),
}

UNAVAILABLE: dict[str, str] = {}


def _gradient_fn(model: "SyntheticModel", target: int | None, image: tuple[int, int, int] | None = None):
    """saliency's ``call_model_function``: input gradients of the explained output at a batch of inputs.

    ``image=(C, H, W)``: saliency passes ``[b, H, W, C]`` batches; the model takes ``[b, C*H*W]`` in C, H, W order."""
    import saliency.core as sc
    import torch

    module = ScalarOutput(torch_module_of(model), target)

    def call(x_batch, call_model_args=None, expected_keys=None):
        batch = np.asarray(x_batch, dtype=np.float64)
        b = batch.shape[0]
        flat = batch.transpose(0, 3, 1, 2).reshape(b, -1) if image else batch.reshape(b, -1)
        x = as_tensor(flat, requires_grad=True)
        (grad,) = torch.autograd.grad(module(x).sum(), x)
        grad_np = to_numpy(grad)
        if image:
            grad_np = grad_np.reshape((b,) + tuple(image)).transpose(0, 2, 3, 1)
        return {sc.base.INPUT_OUTPUT_GRADIENTS: grad_np.reshape(batch.shape)}

    return call


class GuidedIG(Explainer):
    name = "guided_ig"
    family = "path"
    library = "saliency"
    capabilities = Capabilities(requires="torch", uses_baseline=True, multiplies_by_input=True)
    settings = {"x_steps": 64, "max_dist": 1.0, "fraction": 0.25}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import saliency.core as sc

        call = _gradient_fn(model, target)
        return np.stack([sc.GuidedIG().GetMask(x, call, x_baseline=b, x_steps=int(self.settings["x_steps"]),
                                               max_dist=float(self.settings["max_dist"]),
                                               fraction=float(self.settings["fraction"]))
                         for x, b in zip(X, baseline)])


class BlurIG(Explainer):
    name = "blur_ig"
    family = "path"
    library = "saliency"
    capabilities = Capabilities(requires="torch")
    settings = {"max_sigma": 8.0, "steps": 64}

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if ok and (model.input_shape is None or len(model.input_shape) != 3):
            return False, f"{self.name} blurs images; {model.name} has no (C, H, W) input_shape"
        return ok, why

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import saliency.core as sc

        c, h, w = model.input_shape  # type: ignore[misc]
        call = _gradient_fn(model, target, (c, h, w))
        rows = []
        for x in X:
            img = x.reshape(c, h, w).transpose(1, 2, 0)  # saliency expects H x W x C
            mask = sc.BlurIG().GetMask(img, call, max_sigma=float(self.settings["max_sigma"]),
                                       steps=int(self.settings["steps"]))
            rows.append(np.asarray(mask).transpose(2, 0, 1).reshape(-1))
        return np.stack(rows)


class BoosterImportance(Explainer):
    """A fitted xgboost / lightgbm model's own global importance of one type, as a ``[1, d]`` vector."""

    family = "global"
    capabilities = Capabilities(requires="sklearn", scope="global")

    def __init__(self, name: str, library: str, importance_type: str) -> None:
        self.name = name
        self.library = library
        self.importance_type = importance_type
        self.settings = {"importance_type": importance_type}

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        est = getattr(model, "sklearn_estimator", None)
        if ok and not type(est).__module__.startswith(self.library):
            return False, f"{self.name} needs a fitted {self.library} model; {model.name} has {type(est).__name__}"
        return ok, why

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        est = model.sklearn_estimator
        d = X.shape[1]
        if self.library == "xgboost":
            scores = est.get_booster().get_score(importance_type=self.importance_type)
            names = est.get_booster().feature_names or [f"f{i}" for i in range(d)]
            return np.array([[float(scores.get(n, 0.0)) for n in names]])
        return np.asarray(est.booster_.feature_importance(importance_type=self.importance_type), float)[None, :]


def _register_available() -> None:
    for package, names in OPTIONAL_ADAPTERS.items():
        if importlib.util.find_spec(package) is None:
            for name in names:
                UNAVAILABLE[name] = f"package {package!r} is not installed (optional; install it to enable {name})"
            continue
        if package == "saliency":
            register(GuidedIG())
            register(BlurIG())
        else:
            for name in names:
                register(BoosterImportance(name, package, name.split("_", 1)[1]))


_register_available()
