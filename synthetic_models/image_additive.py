"""Saturating additive CNNs: image models whose exact Shapley value is known in closed form, pixel by pixel.

Each model takes a ``C x H x H`` image (pixels in [0, 1], flattened C, H, W) through

    s = x - ReLU(x - τ)                     (per pixel: s_i = min(x_i, τ), a saturation at τ; 1x1 depthwise conv)
    conv 3x3 (C -> 2, pad 1, no activation) -> average pool 2x2 -> readout over an evidence block of positions

Everything after the saturation is linear, so ``f(x) = Σ_i w_i min(x_i, τ) + c`` with ``w = ∇_s f`` (read off by one
backward pass; exact because that part is linear). A sum of one-pixel functions has the closed-form Shapley value
(each pixel's game is additive; Shapley 1953, the additivity and dummy axioms):

    baseline:        φ_i(x; b) = w_i (min(x_i, τ) - min(b_i, τ))
    interventional:  φ_i(x)    = w_i (min(x_i, τ) - mean_z min(z_i, τ))   (the mean of the baseline values at z)

``mask`` = the support of ``w`` (the pixels the output depends on: the readout block dilated by the 3x3 kernel and
the pooling window); every other pixel is a dummy. Pixels above τ have zero gradient although their Shapley value is
``w_i (τ - b_i)``: the saturation that separates gradient maps from path and perturbation methods (Sundararajan et al.
2017 sec. 2.1, "Sensitivity").
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .base import FunctionModel, GroundTruth, uniform_sampler
from .declarations import Declarations
from .image_cnn import IMAGE_ROWS
from .registry import register_model

if TYPE_CHECKING:
    import torch

__all__ = ["AdditiveSpec", "ADDITIVE", "additive_cnn", "pixel_weights"]

FAMILY = "image_additive"


@dataclass(frozen=True)
class AdditiveSpec:
    """One saturating additive CNN: size, channels, saturation τ, readout block (pooled coordinates), seed, tier."""

    name: str
    size: int
    channels: int
    tau: float
    block: tuple[int, int, int, int]  # top, left, rows, cols of read-out positions on the pooled map
    seed: int
    tier: str = "default"

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.size, self.size)


def _network(spec: AdditiveSpec) -> "torch.nn.Module":
    import torch
    from torch import nn

    c, h, _ = spec.shape

    class SaturatingAdditiveCNN(nn.Module):
        """x -> x - ReLU(x - τ) -> conv 3x3 -> avg pool 2 -> masked linear readout."""

        def __init__(self) -> None:
            super().__init__()
            self.unflatten = nn.Unflatten(1, spec.shape)
            self.shift = nn.Conv2d(c, c, 1, groups=c)
            self.relu = nn.ReLU()
            self.conv = nn.Conv2d(c, 2, 3, padding=1)
            self.pool = nn.AvgPool2d(2)
            self.flatten = nn.Flatten(1)
            self.readout = nn.Linear(2 * (h // 2) ** 2, 1)
            self.squeeze = nn.Flatten(0)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.dim() == 2:
                x = self.unflatten(x)
            s = x - self.relu(self.shift(x))
            return self.squeeze(self.readout(self.flatten(self.pool(self.conv(s)))))

    rng = np.random.default_rng([2404, spec.seed])
    net = SaturatingAdditiveCNN().double()
    top, left, rows, cols = spec.block
    keep = np.zeros((2, h // 2, h // 2))
    keep[:, top:top + rows, left:left + cols] = 1.0
    with torch.no_grad():
        net.shift.weight.fill_(1.0)
        net.shift.bias.fill_(-spec.tau)
        net.conv.weight.copy_(torch.tensor(rng.uniform(0.2, 1.0, net.conv.weight.shape)))
        net.conv.bias.copy_(torch.tensor(rng.normal(0.0, 0.1, 2)))
        net.readout.weight.copy_(torch.tensor((rng.uniform(0.5, 1.5, keep.shape) * keep).reshape(1, -1)))
        net.readout.bias.fill_(0.1)
    return net.eval()


def pixel_weights(net: "torch.nn.Module", d: int) -> np.ndarray:
    """``w = ∂f/∂s`` (``[d]``): the gradient of the linear part after the saturation, at s = 0."""
    import torch

    s = torch.zeros(1, d, dtype=torch.float64, requires_grad=True)
    out = net.readout(net.flatten(net.pool(net.conv(net.unflatten(s)))))
    (grad,) = torch.autograd.grad(out.sum(), s)
    return grad.numpy().reshape(-1).copy()


def additive_cnn(spec: AdditiveSpec) -> FunctionModel:
    """The exam model of ``spec`` with its closed-form baseline Shapley value."""
    import torch

    net = _network(spec)
    d = int(np.prod(spec.shape))
    w = pixel_weights(net, d)
    w.setflags(write=False)
    tau = spec.tau
    mask = w != 0
    mask.setflags(write=False)
    relevant = frozenset(int(i) for i in np.flatnonzero(mask))

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        B = np.broadcast_to(np.asarray(B, dtype=np.float64), X.shape)
        return w[None, :] * (np.minimum(X, tau) - np.minimum(B, tau))

    def predict(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.tensor(X, dtype=torch.float64)).numpy()

    gt = GroundTruth(relevant=relevant, dummy=frozenset(range(d)) - relevant, mask=mask, exact_attribution=exact,
                     notes=f"{spec.channels}x{spec.size}x{spec.size} additive CNN: f = Σ w_i min(x_i, {tau}) + c; "
                           f"{len(relevant)} pixels with w_i != 0")
    c, h, _ = spec.shape
    names = tuple(f"c{k}_{r}_{col}" for k in range(c) for r in range(h) for col in range(h))
    model = FunctionModel(spec.name, FAMILY, predict, names, gt, domain="image", sampler=uniform_sampler(d),
                          torch_factory=lambda: copy.deepcopy(net), input_shape=spec.shape,
                          spec={"kind": "saturating_additive_cnn", "input_shape": list(spec.shape), "tau": tau,
                                "block": list(spec.block), "seed": spec.seed},
                          declarations=Declarations(tiers=frozenset({spec.tier}), rows=IMAGE_ROWS))
    model.gradcam_layer_name = "conv"  # type: ignore[attr-defined]
    return model


#: Saturation between 0.3 (most pixels saturated) and 0.8 (few); 16x16 and 24x24, 1 and 3 channels. Pixel-level
#: players (d = 256 to 3072) make perturbation explainers costly: the two 16x16x1 ones are in default, the rest in full.
ADDITIVE: tuple[AdditiveSpec, ...] = (
    AdditiveSpec("additive_sat_16x16x1", 16, 1, 0.5, (1, 1, 3, 3), 1),
    AdditiveSpec("additive_sat_16x16x3", 16, 3, 0.3, (3, 2, 3, 4), 2, "full"),
    AdditiveSpec("additive_sat_24x24x1", 24, 1, 0.7, (2, 5, 4, 3), 3, "full"),
    AdditiveSpec("additive_sat_24x24x3", 24, 3, 0.5, (6, 6, 3, 3), 4, "full"),
    AdditiveSpec("additive_sat_16x16x1_b", 16, 1, 0.8, (4, 0, 2, 5), 5),
    AdditiveSpec("additive_sat_24x24x1_b", 24, 1, 0.3, (0, 0, 3, 3), 6, "full"),
    AdditiveSpec("additive_sat_32x32x3", 32, 3, 0.5, (4, 4, 4, 4), 7, "full"),
    AdditiveSpec("additive_sat_32x32x1", 32, 1, 0.4, (8, 2, 3, 5), 8, "full"),
)


def _register(spec: AdditiveSpec) -> None:
    register_model(spec.name, exam=True)(lambda: additive_cnn(spec))


for _spec in ADDITIVE:
    _register(_spec)
