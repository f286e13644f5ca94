"""PAIR ``saliency`` adapters (``pip install saliency``; the framework-agnostic ``saliency.core`` API).

Each method gets saliency's ``call_model_function``: input gradients of the explained output ``f`` of a deep copy of
``model.torch_module()`` (float64), at a batch of inputs. Image models (``input_shape = (C, H, W)``) are passed to
saliency as ``H x W x C`` arrays, as it expects, and folded back to the model's flat ``C, H, W`` order.

- ``guided_ig``: Guided Integrated Gradients (Kapishnikov et al. 2021, "Guided Integrated Gradients: an adaptive path
  method"). At each of ``x_steps`` steps the ``fraction`` of features with the smallest |gradient| move toward ``x``
  (within ``max_dist`` of the straight line, as a fraction of the L1 distance); the attribution is Σ_steps
  ∂f/∂x_i · Δx_i along that path, from the case baseline. On a linear ``f`` any monotone path gives ``w_i (x_i - b_i)``.
- ``blur_ig``: Blur IG (Xu et al. 2020, "Attribution in scale and space"): the path runs from the maximally blurred
  image ``x̃ = G_{max_sigma} * x`` (Gaussian blur per channel, zero padding) to ``x``;
  ``a_i = -Σ_k Δσ_k · ∂G_σ x/∂σ |_{σ_k} · ∂f/∂x_i``, i.e. ``w ⊙ (x - x̃)`` for a linear ``f``. Image models only;
  no baseline (the blurred image is the reference).
- ``xrai``: XRAI (Kapishnikov et al. 2019, "XRAI: better attributions through regions"): integrated gradients from
  the case baseline (``steps``), summed over channels by max, then regions of a Felzenszwalb over-segmentation are
  added greedily by attribution density; every pixel gets the density (mean IG) of the region that added it. Our
  images are 8x8, so the segmentation runs at the native size (no 224x224 resize, no dilation, ``min_pixel_diff=1``)
  with ``scale=felzenszwalb_scale``, ``sigma=0``, ``min_size=2``; the value is copied to every channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .base import Capabilities, Explainer, register
from .torch_utils import ScalarOutput, as_tensor, to_numpy, torch_module_of

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["GuidedIG", "BlurIG", "XRAI", "gradient_fn", "image_shape", "xrai_segments"]

CallModel = Callable[..., dict[str, np.ndarray]]


def image_shape(model: "SyntheticModel") -> tuple[int, int, int] | None:
    """The model's ``(C, H, W)`` when it takes images, else ``None``."""
    shape = getattr(model, "input_shape", None)
    return tuple(int(s) for s in shape) if shape is not None and len(shape) == 3 else None  # type: ignore[return-value]


def gradient_fn(model: "SyntheticModel", target: int | None, image: tuple[int, int, int] | None = None) -> CallModel:
    """saliency's ``call_model_function``: input gradients of the explained output at a batch of inputs.

    ``image=(C, H, W)``: saliency passes ``[b, H, W, C]`` batches; the model takes ``[b, C*H*W]`` in C, H, W order."""
    import saliency.core as sc
    import torch

    module = ScalarOutput(torch_module_of(model, fresh=True), target)

    def call(x_batch: Any, call_model_args: Any = None, expected_keys: Any = None) -> dict[str, np.ndarray]:
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


class _NumpyQuantileShim:
    """numpy as ``saliency.core.guided_ig`` sees it, with ``quantile(..., interpolation=)`` mapped to ``method=``.

    saliency 0.2.1 calls ``np.quantile(a, q, interpolation='lower')``; numpy 2.4 removed ``interpolation`` (renamed
    ``method`` in 1.22). Everything else is numpy itself."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def quantile(a: Any, q: Any, *args: Any, interpolation: str | None = None, **kwargs: Any) -> Any:
        if interpolation is not None:
            kwargs.setdefault("method", interpolation)
        return np.quantile(a, q, *args, **kwargs)


def _guided_ig_module() -> Any:
    """``saliency.core.guided_ig`` with its numpy replaced by ``_NumpyQuantileShim`` (idempotent; the only shim)."""
    import saliency.core.guided_ig as gig

    if not isinstance(gig.np, _NumpyQuantileShim):
        gig.np = _NumpyQuantileShim()
    return gig


def _to_hwc(x: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    return x.reshape(shape).transpose(1, 2, 0)


def _from_hwc(img: np.ndarray) -> np.ndarray:
    return np.asarray(img, dtype=np.float64).transpose(2, 0, 1).reshape(-1)


class _Saliency(Explainer):
    library = "saliency"
    family = "path"


class _ImageOnly(_Saliency):
    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if ok and image_shape(model) is None:
            return False, f"{self.name} works on images; {model.name} has no (C, H, W) input_shape"
        return ok, why


class GuidedIG(_Saliency):
    name = "guided_ig"
    capabilities = Capabilities(requires="torch", uses_baseline=True, multiplies_by_input=True)
    settings = {"x_steps": 128, "max_dist": 0.02, "fraction": 0.25}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        call = gradient_fn(model, target)
        s = self.settings
        return np.stack([_guided_ig_module().GuidedIG().GetMask(x, call, x_baseline=b, x_steps=int(s["x_steps"]),
                                               max_dist=float(s["max_dist"]), fraction=float(s["fraction"]))
                         for x, b in zip(X, baseline)])


class BlurIG(_ImageOnly):
    name = "blur_ig"
    capabilities = Capabilities(requires="torch")
    settings = {"max_sigma": 8.0, "steps": 64, "grad_step": 0.01}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import saliency.core as sc

        shape = image_shape(model)
        call = gradient_fn(model, target, shape)
        s = self.settings
        return np.stack([_from_hwc(sc.BlurIG().GetMask(_to_hwc(x, shape), call, max_sigma=float(s["max_sigma"]),
                                                       steps=int(s["steps"]), grad_step=float(s["grad_step"])))
                         for x in X])


def xrai_segments(img_hwc: np.ndarray, scale: float) -> list[np.ndarray]:
    """Felzenszwalb segments of an ``H x W x C`` image at its native size, as boolean ``[H, W]`` masks."""
    from skimage.segmentation import felzenszwalb

    lo, hi = float(img_hwc.min()), float(img_hwc.max())
    norm = (img_hwc - lo) / (hi - lo) * 2.0 - 1.0 if hi > lo else np.zeros_like(img_hwc)
    seg = felzenszwalb(norm, scale=scale, sigma=0.0, min_size=2, channel_axis=-1)
    return [seg == label for label in np.unique(seg)]


class XRAI(_ImageOnly):
    name = "xrai"
    family = "path"
    capabilities = Capabilities(requires="torch", uses_baseline=True)
    settings = {"steps": 64, "felzenszwalb_scale": 20.0, "min_pixel_diff": 1, "algorithm": "full"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import saliency.core as sc

        shape = image_shape(model)
        call = gradient_fn(model, target, shape)
        s = self.settings
        params = sc.XRAIParameters(steps=int(s["steps"]), algorithm=str(s["algorithm"]))
        params.experimental_params["min_pixel_diff"] = int(s["min_pixel_diff"])
        rows = []
        for x, b in zip(X, baseline):
            img = _to_hwc(x, shape)
            mask = sc.XRAI().GetMask(img, call, baselines=[_to_hwc(b, shape)],
                                     segments=xrai_segments(img, float(s["felzenszwalb_scale"])),
                                     extra_parameters=params)
            rows.append(np.repeat(np.asarray(mask, dtype=np.float64)[None], shape[0], axis=0).reshape(-1))
        return np.stack(rows)


for _cls in (GuidedIG, BlurIG, XRAI):
    register(_cls())
