"""The same model in other units: ``affine(model, alpha, c)`` computes ``alpha * f(x) + c`` (``alpha > 0``).

Every score must be invariant to this change of units (issue 11 item 2): an explainer whose attributions are in the
model's units scales them by ``alpha`` and ignores ``c``, and so does every exact ground truth. The wrapper
transforms ``predict``, the torch module (``alpha * module(x) + c``, the original module a child named ``inner``),
the linear coefficients and the ground truth's exact values (``exact_attribution`` and ``token_weights`` times
``alpha``); feature sets, masks, twins' structure and the input distribution are unchanged. Fitted estimators
(trees) are not offered: their own outputs are in the old units.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import FunctionModel, SyntheticModel

if TYPE_CHECKING:
    import torch

__all__ = ["affine", "AffineModel"]

#: Attributes checks read off a model that a change of units leaves as they are.
_KEPT = ("irrelevant_features", "witness_x", "sensitive_feature", "innocuous_feature", "input_bounds",
         "twin_of", "transform", "n_vars", "judged_dummy", "vocabulary",
         "true_ground_truth")  # the generating function's relevant / irrelevant sets (no units)


class AffineModel(FunctionModel):
    """``alpha * f + c`` for a wrapped model ``f`` (see module docstring)."""

    def __init__(self, model: SyntheticModel, alpha: float, c: float) -> None:
        if not (alpha > 0 and np.isfinite(alpha) and np.isfinite(c)):
            raise ValueError(f"Expected a finite alpha > 0 and a finite c but got alpha={alpha!r}, c={c!r}")
        self.base, self.alpha, self.c = model, float(alpha), float(c)
        gt = model.ground_truth
        exact = gt.exact_attribution
        gt = replace(gt,
                     exact_attribution=None if exact is None else (lambda x, b: self.alpha * exact(x, b)),
                     token_weights=None if gt.token_weights is None else self.alpha * gt.token_weights)
        has_torch = "torch" in model.forms
        super().__init__(f"{model.name}*{alpha:g}+{c:g}", model.family, self._fn_affine, model.feature_names, gt,
                         domain=model.domain, sampler=model.sample,
                         torch_factory=self._module if has_torch else None, n_outputs=model.n_outputs,
                         input_shape=model.input_shape, spec={**model.spec(), "affine": [alpha, c]})
        for attr in _KEPT:
            if hasattr(model, attr):
                setattr(self, attr, getattr(model, attr))
        layer = getattr(model, "gradcam_layer_name", None)
        if layer is not None:
            self.gradcam_layer_name = f"inner.{layer}"
        coef = getattr(model, "linear_coefficients", None)
        if coef is not None:
            self.linear_coefficients = (self.alpha * np.asarray(coef[0]), self.alpha * float(coef[1]) + self.c)

    def _fn_affine(self, X: np.ndarray) -> np.ndarray:
        return self.alpha * self.base.predict(X) + self.c

    def _module(self) -> "torch.nn.Module":
        from torch import nn

        alpha, c = self.alpha, self.c

        class Affine(nn.Module):
            def __init__(self, inner: nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, x: Any) -> Any:
                return alpha * self.inner(x) + c

        return Affine(self.base.torch_module()).eval()

    def __getattr__(self, name: str) -> Any:  # text models: predict_text etc. in the new units
        if name == "predict_text" and hasattr(self.__dict__.get("base"), "predict_text"):
            return lambda texts: self.alpha * self.base.predict_text(texts) + self.c
        if name in ("vectorize", "render", "token_index") and "base" in self.__dict__:
            return getattr(self.base, name)
        raise AttributeError(name)


def affine(model: SyntheticModel, alpha: float, c: float) -> AffineModel:
    """``alpha * model + c`` (``alpha > 0``): the same function in other units."""
    return AffineModel(model, alpha, c)
