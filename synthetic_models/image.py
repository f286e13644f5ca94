"""An image model whose output depends only on a known 3x3 patch (hand-built CNN, no training).

``image_patch``: input ``1×8×8`` flattened to d=64 (row-major, pixel ``(r, c)`` is feature ``8r + c``), pixels in
``[0, 1]``. A 3×3 convolution (``module.conv``, 3 channels, padding 1) is read out at ONE spatial position, the patch
centre ``(3, 4)``; the receptive field of that position is exactly the patch rows 2–4, columns 3–5, so no pixel outside
the patch can reach the output. With ``p`` the 9 patch pixels, kernel ``K`` (all entries non-zero) and ``s = Σ p``:

    f(x) = relu(K·p) - relu(-K·p) + ½·relu(s - 4.5) = K·p + ½·relu(s - 4.5)

so every patch pixel changes the output everywhere (the linear part) and there is one ReLU kink. Ground truth:
``mask`` (boolean [64]) = relevant = the patch; dummy = the other 55 pixels. ``gradcam_layer_name = "conv"``.
The torch module accepts ``[n, 64]`` (unflattened by an ``nn.Unflatten`` module) or ``[n, 1, 8, 8]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import FunctionModel, GroundTruth, uniform_sampler
from .registry import register_model

if TYPE_CHECKING:
    import torch

__all__ = ["IMAGE_SHAPE", "PATCH_CENTRE", "KERNEL", "patch_mask", "patch_function", "image_patch"]

FAMILY = "image"
IMAGE_SHAPE = (1, 8, 8)
PATCH_CENTRE = (3, 4)
#: Weights of the linear part over the patch (row-major); all distinct, non-zero and never -0.5 (so the slope
#: K + 0.5 above the kink is non-zero too).
KERNEL = np.array([[0.5, -1.0, 0.75], [1.25, 2.0, -0.25], [-0.75, 1.0, 1.5]])
KERNEL.setflags(write=False)
THRESHOLD = 4.5
NONLINEAR_WEIGHT = 0.5


def patch_mask() -> np.ndarray:
    """Boolean ``[64]``: True on the 3×3 patch around ``PATCH_CENTRE``."""
    mask = np.zeros(IMAGE_SHAPE[1:], dtype=bool)
    r, c = PATCH_CENTRE
    mask[r - 1 : r + 2, c - 1 : c + 2] = True
    return mask.reshape(-1)


def patch_function(X: np.ndarray) -> np.ndarray:
    """``K·p + ½·relu(Σp - 4.5)`` for the patch pixels ``p`` of each row of ``X [n, 64]``."""
    r, c = PATCH_CENTRE
    patch = X.reshape(-1, *IMAGE_SHAPE[1:])[:, r - 1 : r + 2, c - 1 : c + 2]
    linear = np.einsum("nij,ij->n", patch, KERNEL)
    return linear + NONLINEAR_WEIGHT * np.maximum(patch.sum(axis=(1, 2)) - THRESHOLD, 0.0)


def _torch_factory() -> "torch.nn.Module":
    import torch
    from torch import nn

    class PatchCNN(nn.Module):
        """unflatten -> conv (3 channels: K, -K, ones with bias -4.5) -> ReLU -> read out at the patch centre."""

        def __init__(self) -> None:
            super().__init__()
            self.unflatten = nn.Unflatten(1, IMAGE_SHAPE)
            self.conv = nn.Conv2d(1, 3, kernel_size=3, padding=1).double()
            self.relu = nn.ReLU()
            self.flatten = nn.Flatten(1)
            self.readout = nn.Linear(3 * 64, 1).double()
            self.squeeze = nn.Flatten(0)
            kernel = torch.tensor(KERNEL.tolist(), dtype=torch.float64)
            readout = torch.zeros(3, *IMAGE_SHAPE[1:], dtype=torch.float64)
            readout[:, PATCH_CENTRE[0], PATCH_CENTRE[1]] = torch.tensor([1.0, -1.0, NONLINEAR_WEIGHT])
            with torch.no_grad():
                self.conv.weight.copy_(torch.stack([kernel, -kernel, torch.ones(3, 3, dtype=torch.float64)])[:, None])
                self.conv.bias.copy_(torch.tensor([0.0, 0.0, -THRESHOLD]))
                self.readout.weight.copy_(readout.reshape(1, -1))
                self.readout.bias.zero_()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.dim() == 2:
                x = self.unflatten(x)
            return self.squeeze(self.readout(self.flatten(self.relu(self.conv(x)))))

    return PatchCNN().eval()


@register_model("image_patch")
def image_patch() -> FunctionModel:
    """CNN on 8×8 images whose output depends only on the 3×3 patch (rows 2–4, cols 3–5)."""
    mask = patch_mask()
    mask.setflags(write=False)
    relevant = frozenset(int(i) for i in np.flatnonzero(mask))
    gt = GroundTruth(
        relevant=relevant,
        dummy=frozenset(range(64)) - relevant,
        interactions=(relevant,),
        mask=mask,
        notes="8x8 image; output = K·patch + 0.5 relu(sum(patch) - 4.5) on the 3x3 patch rows 2-4, cols 3-5",
    )
    names = tuple(f"px_{r}_{c}" for r in range(IMAGE_SHAPE[1]) for c in range(IMAGE_SHAPE[2]))
    model = FunctionModel("image_patch", FAMILY, patch_function, names, gt, domain="image",
                          sampler=uniform_sampler(64, 0.0, 1.0), torch_factory=_torch_factory,
                          input_shape=IMAGE_SHAPE,
                          spec={"kind": "patch_cnn", "input_shape": list(IMAGE_SHAPE),
                                "patch_centre": list(PATCH_CENTRE), "kernel": KERNEL.tolist(),
                                "threshold": THRESHOLD})
    model.gradcam_layer_name = "conv"
    return model
