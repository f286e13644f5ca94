"""captum layer methods that need a convolutional layer: Grad-CAM and Guided Grad-CAM (Selvaraju et al. 2017).

Both need ``model.torch_module()``, ``model.gradcam_layer_name`` (a submodule name of that module whose output is
``[n, C, h, w]``) and ``model.input_shape = (C_in, H, W)``; ``can_explain`` says which is missing.

- ``layer_gradcam``: L = ReLU(Σ_k α_k A^k) with α_k = mean_{u,v} ∂f/∂A^k_{uv} (captum ``LayerGradCam``,
  ``relu_attributions=True`` as in the paper), upsampled to ``(H, W)`` with ``LayerAttribution.interpolate`` (bilinear,
  as in the paper), repeated over the input channels and flattened to ``[n, d]``.
- ``guided_gradcam``: guided backpropagation x the upsampled Grad-CAM map, element-wise. captum's ``GuidedGradCam``
  interpolates to ``inputs.shape[2:]``, which is empty for our flattened ``[n, d]`` inputs, so the product is formed
  here from the two captum attributions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import Capabilities, Explainer, has_image_shape, register
from .captum_gradient import explained_module
from .torch_utils import as_tensor, quiet_captum, to_numpy

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["LayerGradCam", "GuidedGradCam"]


class _GradCamBase(Explainer):
    library = "captum"
    family = "gradient"
    capabilities = Capabilities(requires="torch")
    settings = {"relu_attributions": True, "interpolate_mode": "bilinear"}

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if not ok:
            return ok, why
        if not getattr(model, "gradcam_layer_name", None):
            return False, f"{self.name} needs model.gradcam_layer_name (a conv layer); {model.name} has none"
        shape = model.input_shape
        if not has_image_shape(model):
            return False, f"{self.name} needs an image input_shape (C, H, W); {model.name} has {shape}"
        return True, ""

    def _gradcam(self, model: "SyntheticModel", X: np.ndarray, target: int | None) -> np.ndarray:
        """The upsampled Grad-CAM map, repeated over input channels and flattened: ``[n, d]``."""
        from captum.attr import LayerAttribution
        from captum.attr import LayerGradCam as _LayerGradCam

        ok, why = self.can_explain(model)
        if not ok:
            raise ValueError(why)
        module = explained_module(model, target)
        layer = module.inner.get_submodule(model.gradcam_layer_name)
        channels, height, width = model.input_shape  # type: ignore[misc]
        with quiet_captum():
            cam = _LayerGradCam(module, layer).attribute(as_tensor(X, requires_grad=True),
                                                         relu_attributions=bool(self.settings["relu_attributions"]))
        if cam.dim() != 4:
            raise ValueError(f"layer {model.gradcam_layer_name!r} gives a Grad-CAM map of shape {tuple(cam.shape)}; "
                             "expected [n, 1, h, w] from a convolutional layer")
        up = LayerAttribution.interpolate(cam, (height, width), interpolate_mode=str(self.settings["interpolate_mode"]))
        up = up.expand(-1, channels, -1, -1)
        return to_numpy(up).reshape(X.shape[0], -1)


class LayerGradCam(_GradCamBase):
    """Grad-CAM upsampled to the input resolution."""

    name = "layer_gradcam"

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return self._gradcam(model, X, target)


class GuidedGradCam(_GradCamBase):
    """Guided backpropagation times the upsampled Grad-CAM map."""

    name = "guided_gradcam"

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        from captum.attr import GuidedBackprop

        with quiet_captum():
            guided = GuidedBackprop(explained_module(model, target)).attribute(as_tensor(X, requires_grad=True))
        guided = to_numpy(guided)
        return guided * self._gradcam(model, X, target)


for _cls in (LayerGradCam, GuidedGradCam):
    register(_cls())
