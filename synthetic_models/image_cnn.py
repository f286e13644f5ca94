"""Planted-evidence CNNs: hand-set convolutional networks whose output provably depends only on a known pixel set.

Each model takes a ``C x H x H`` image (``C`` in {1, 3}, ``H`` in {16, 24, 32}, pixels in [0, 1], flattened in
C, H, W order), declares a grid of ``P <= 16`` patches (``synthetic_models.patches``) and an **evidence** block of
those patches. The network (float64, seeded weights, ``K = 4`` channels):

    conv 3x3 (pad 1) -> [batch norm] -> ReLU -> pool 2x2 (max; average in the batch-norm variant)
      -> conv 3x3 (pad 1) -> [batch norm] -> ReLU
      -> [residual block: h + conv 1x1(ReLU(conv 3x3(h)))] -> ReLU (``features``)
      -> readout: Σ_{k, u, v} w_{kuv} features_{kuv}, w > 0 only at **clean** positions (u, v)

A position's **taint** says whether its receptive field meets a pixel outside the evidence: taint of the input =
"outside the evidence"; a k x k window (convolution, stride s, padding p) gives ``max_pool(taint, k, s, p)`` (zero
padding is a constant, never tainted); batch norm and ReLU act position-wise and keep it; a residual sum takes the
union, which the 3x3 branch already contains. A clean position is computed from evidence pixels alone, so the output
depends only on the evidence pixels (``mask``): every other pixel is a dummy, exactly (``tests``: moving them never
changes the output). The ReLUs and pooling make the patch game non-additive, so the exact patch Shapley values
(enumerated over the ``2^P`` coalitions) rank the evidence patches by something no location heuristic reads off.

Twins (``twins``, for implementation invariance at image scale; Sundararajan et al. 2017 sec. 2.2), each equal to the
source on every input: ``bn_folded`` (batch norm folded into the preceding convolution), ``permuted`` (hidden
channels permuted, the next layer's inputs permuted alike) and ``identity_branch`` (a residual branch whose last
convolution is zero added after the pooling).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import FunctionModel, GroundTruth, uniform_sampler
from .declarations import Declarations
from .patches import grid_patches
from .registry import register_model

if TYPE_CHECKING:
    import torch

__all__ = ["PlantedSpec", "PLANTED", "planted_cnn", "evidence_mask", "clean_positions", "build_network", "twin_network",
           "TWIN_KINDS", "IMAGE_ROWS"]

FAMILY = "image_cnn"
HIDDEN = 4
TWIN_KINDS = ("bn_folded", "permuted", "identity_branch")
#: Rows per case: images are costly to explain pixel by pixel, and each row carries 2^P exact model calls.
IMAGE_ROWS = {"quick": 2, "default": 2, "full": 8}


@dataclass(frozen=True)
class PlantedSpec:
    """One planted CNN: image size and channels, architecture, patch grid, evidence block, weight seed, tier."""

    name: str
    size: int
    channels: int
    arch: str  # "pool" | "bn" | "res"
    grid: tuple[int, int]
    evidence: tuple[int, int, int, int]  # top patch row, left patch column, block rows, block columns
    seed: int
    tier: str = "default"
    twins: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, self.size, self.size)


def evidence_patches(spec: PlantedSpec) -> list[int]:
    r0, c0, br, bc = spec.evidence
    rows, cols = spec.grid
    return [r * cols + c for r in range(r0, r0 + br) for c in range(c0, c0 + bc)]


def evidence_mask(spec: PlantedSpec) -> np.ndarray:
    """Boolean ``[d]``: the pixels (every channel) of the evidence patches."""
    return np.isin(grid_patches(spec.shape, *spec.grid), evidence_patches(spec))


def clean_positions(spec: PlantedSpec) -> np.ndarray:
    """Boolean ``[H/2, H/2]``: feature-map positions whose receptive field lies inside the evidence (module doc)."""
    import torch
    from torch.nn.functional import max_pool2d

    outside = ~evidence_mask(spec).reshape(spec.shape)[0]
    t = torch.tensor(outside, dtype=torch.float64)[None, None]
    t = max_pool2d(t, 3, 1, 1)  # conv 3x3
    t = max_pool2d(t, 2, 2)  # pool
    t = max_pool2d(t, 3, 1, 1)  # conv 3x3
    if spec.arch == "res":
        t = torch.maximum(t, max_pool2d(t, 3, 1, 1))  # h + conv1x1(relu(conv3x3(h)))
    return (t[0, 0] == 0).numpy()


def _net_class() -> type:
    import torch
    from torch import nn

    class PlantedCNN(nn.Module):
        """conv -> [bn] -> ReLU -> pool -> [identity branch] -> conv -> [bn] -> ReLU -> [residual] -> ReLU -> readout."""

        def __init__(self, shape: tuple[int, int, int], arch: str, bn: bool, branch: bool) -> None:
            super().__init__()
            c, h, _ = shape
            self.shape, self.arch = shape, arch
            self.unflatten = nn.Unflatten(1, shape)
            self.conv1 = nn.Conv2d(c, HIDDEN, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(HIDDEN) if bn else None  # no Identity: captum's LRP has no rule for it
            self.relu1 = nn.ReLU()
            self.pool = nn.AvgPool2d(2) if arch == "bn" else nn.MaxPool2d(2)
            self.branch = nn.Sequential(nn.Conv2d(HIDDEN, HIDDEN, 3, padding=1), nn.ReLU(),
                                        nn.Conv2d(HIDDEN, HIDDEN, 1)) if branch else None
            self.conv2 = nn.Conv2d(HIDDEN, HIDDEN, 3, padding=1)
            self.bn2 = nn.BatchNorm2d(HIDDEN) if bn else None
            self.relu2 = nn.ReLU()
            self.res = nn.Sequential(nn.Conv2d(HIDDEN, HIDDEN, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(HIDDEN, HIDDEN, 1)) if arch == "res" else None
            self.features = nn.ReLU()
            self.flatten = nn.Flatten(1)
            self.readout = nn.Linear(HIDDEN * (h // 2) ** 2, 1)
            self.squeeze = nn.Flatten(0)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.dim() == 2:
                x = self.unflatten(x)
            h = self.conv1(x)
            h = self.pool(self.relu1(h if self.bn1 is None else self.bn1(h)))
            if self.branch is not None:
                h = h + self.branch(h)
            h = self.conv2(h)
            h = self.relu2(h if self.bn2 is None else self.bn2(h))
            if self.res is not None:
                h = h + self.res(h)
            return self.squeeze(self.readout(self.flatten(self.features(h))))

    return PlantedCNN


def build_network(spec: PlantedSpec) -> "torch.nn.Module":
    """The source network of ``spec`` (seeded weights; readout only at clean positions)."""
    import torch

    rng = np.random.default_rng([2401, spec.seed])
    net = _net_class()(spec.shape, spec.arch, spec.arch == "bn", False).double()

    def fill(t: "torch.Tensor", values: np.ndarray) -> None:
        with torch.no_grad():
            t.copy_(torch.tensor(values.reshape(t.shape), dtype=torch.float64))

    def conv(layer: "torch.nn.Conv2d", bias: float) -> None:
        fan_in = layer.weight[0].numel()
        fill(layer.weight, rng.normal(0.0, 1.5 / np.sqrt(fan_in), layer.weight.shape))
        fill(layer.bias, rng.normal(bias, 0.1, layer.bias.shape))

    conv(net.conv1, -0.1)
    conv(net.conv2, -0.05)
    for bn in (net.bn1, net.bn2):
        if isinstance(bn, torch.nn.BatchNorm2d):
            fill(bn.running_mean, rng.normal(0.0, 0.2, HIDDEN))
            fill(bn.running_var, rng.uniform(0.5, 2.0, HIDDEN))
            fill(bn.weight, rng.uniform(0.5, 1.5, HIDDEN))
            fill(bn.bias, rng.normal(0.0, 0.1, HIDDEN))
    if net.res is not None:
        conv(net.res[0], 0.0)
        conv(net.res[2], 0.0)
    clean = clean_positions(spec)
    if not clean.any():
        raise ValueError(f"{spec.name}: no feature-map position sees only the evidence {spec.evidence}")
    w = rng.uniform(0.5, 1.5, (HIDDEN, *clean.shape)) * clean[None]
    fill(net.readout.weight, w / w.sum() * HIDDEN)
    fill(net.readout.bias, np.zeros(1))
    return net.eval()


def twin_network(net: "torch.nn.Module", kind: str, seed: int = 0) -> "torch.nn.Module":
    """A functionally equivalent copy of ``net`` (``TWIN_KINDS``, module docstring)."""
    import torch

    src = copy.deepcopy(net)
    if kind == "bn_folded":
        out = _net_class()(src.shape, src.arch, False, False).double()
        state = {k: v for k, v in src.state_dict().items() if not k.startswith(("bn1", "bn2"))}
        out.load_state_dict(state)
        with torch.no_grad():
            for conv, bn in ((out.conv1, src.bn1), (out.conv2, src.bn2)):
                if isinstance(bn, torch.nn.BatchNorm2d):  # y = g (Wx + c - m) / sqrt(v + eps) + beta
                    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                    conv.weight.mul_(scale[:, None, None, None])
                    conv.bias.copy_((conv.bias - bn.running_mean) * scale + bn.bias)
        return out.eval()
    if kind == "permuted":
        perm = torch.tensor(np.random.default_rng([2402, seed]).permutation(HIDDEN))
        with torch.no_grad():
            src.conv1.weight.copy_(src.conv1.weight[perm])
            src.conv1.bias.copy_(src.conv1.bias[perm])
            if isinstance(src.bn1, torch.nn.BatchNorm2d):
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(src.bn1, name).copy_(getattr(src.bn1, name)[perm])
            src.conv2.weight.copy_(src.conv2.weight[:, perm])
        return src.eval()
    if kind == "identity_branch":
        out = _net_class()(src.shape, src.arch, src.bn1 is not None, True).double()
        out.load_state_dict(src.state_dict(), strict=False)
        rng = np.random.default_rng([2403, seed])
        with torch.no_grad():
            first, last = out.branch[0], out.branch[2]
            first.weight.copy_(torch.tensor(rng.normal(0, 0.5, first.weight.shape)))
            first.bias.copy_(torch.tensor(rng.normal(0, 0.1, first.bias.shape)))
            last.weight.zero_()
            last.bias.zero_()
        return out.eval()
    raise ValueError(f"Expected a twin kind among {TWIN_KINDS} but got {kind!r}")


def _model(name: str, spec: PlantedSpec, net: "torch.nn.Module", tiers: frozenset[str]) -> FunctionModel:
    import torch

    mask = evidence_mask(spec)
    mask.setflags(write=False)
    relevant = frozenset(int(i) for i in np.flatnonzero(mask))
    d = mask.size
    gt = GroundTruth(relevant=relevant, dummy=frozenset(range(d)) - relevant, mask=mask,
                     notes=f"{spec.channels}x{spec.size}x{spec.size} planted CNN ({spec.arch}); output depends only "
                           f"on patches {evidence_patches(spec)} of a {spec.grid[0]}x{spec.grid[1]} grid")

    def predict(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.tensor(X, dtype=torch.float64)).numpy()

    c, h, w = spec.shape
    names = tuple(f"c{k}_{r}_{col}" for k in range(c) for r in range(h) for col in range(w))
    model = FunctionModel(name, FAMILY, predict, names, gt, domain="image", sampler=uniform_sampler(d),
                          torch_factory=lambda: copy.deepcopy(net), input_shape=spec.shape,
                          spec={"kind": "planted_cnn", "arch": spec.arch, "input_shape": list(spec.shape),
                                "grid": list(spec.grid), "evidence_patches": evidence_patches(spec),
                                "seed": spec.seed},
                          declarations=Declarations(tiers=tiers, rows=IMAGE_ROWS))
    patches = grid_patches(spec.shape, *spec.grid)
    patches.setflags(write=False)
    model.patches = patches  # type: ignore[attr-defined]
    model.gradcam_layer_name = "features"  # type: ignore[attr-defined]
    return model


def planted_cnn(spec: PlantedSpec) -> FunctionModel:
    """The exam model of ``spec``, with its declared twins (``model.twins``: part models, no cases of their own)."""
    net = build_network(spec)
    model = _model(spec.name, spec, net, frozenset({spec.tier}))
    model.twins = tuple(_model(f"{spec.name}_{kind}", spec, twin_network(net, kind, spec.seed), frozenset())
                        for kind in spec.twins)  # type: ignore[attr-defined]
    for twin, kind in zip(model.twins, spec.twins):  # type: ignore[attr-defined]
        twin.twin_of, twin.transform = spec.name, kind
    return model


#: The planted CNNs: default ones use a 3x3 grid (9 patches, 512 coalitions a row); full adds 32x32x3 images,
#: 12- and 16-patch grids and every twin kind.
PLANTED: tuple[PlantedSpec, ...] = (
    PlantedSpec("cnn_pool_16x16x1", 16, 1, "pool", (3, 3), (0, 0, 2, 2), 1),
    PlantedSpec("cnn_pool_16x16x3", 16, 3, "pool", (3, 3), (1, 1, 2, 2), 2, twins=("permuted",)),
    PlantedSpec("cnn_bn_16x16x1", 16, 1, "bn", (3, 3), (1, 0, 2, 2), 3, twins=("bn_folded",)),
    PlantedSpec("cnn_bn_16x16x3", 16, 3, "bn", (3, 3), (0, 1, 2, 2), 4),
    PlantedSpec("cnn_res_24x24x1", 24, 1, "res", (3, 3), (1, 1, 2, 2), 5, twins=("identity_branch",)),
    PlantedSpec("cnn_res_24x24x3", 24, 3, "res", (3, 3), (0, 0, 2, 2), 6),
    PlantedSpec("cnn_pool_24x24x3", 24, 3, "pool", (3, 3), (1, 0, 2, 3), 7),
    PlantedSpec("cnn_bn_24x24x1", 24, 1, "bn", (3, 3), (0, 1, 2, 2), 8),
    PlantedSpec("cnn_pool_32x32x1", 32, 1, "pool", (3, 3), (1, 1, 2, 2), 9),
    PlantedSpec("cnn_res_32x32x1", 32, 1, "res", (3, 3), (0, 1, 2, 2), 10),
    PlantedSpec("cnn_pool_16x16x1_b", 16, 1, "pool", (3, 3), (1, 1, 2, 2), 17),
    PlantedSpec("cnn_bn_16x16x3_b", 16, 3, "bn", (3, 3), (1, 0, 2, 2), 18),
    PlantedSpec("cnn_res_16x16x1", 16, 1, "res", (3, 3), (0, 1, 2, 2), 19),
    PlantedSpec("cnn_res_16x16x3", 16, 3, "res", (3, 3), (1, 1, 2, 2), 20),
    PlantedSpec("cnn_res_32x32x3", 32, 3, "res", (3, 3), (0, 0, 2, 2), 11, "full"),
    PlantedSpec("cnn_bn_32x32x3", 32, 3, "bn", (3, 4), (1, 1, 2, 3), 12, "full"),
    PlantedSpec("cnn_pool_24x24x3_p12", 24, 3, "pool", (3, 4), (1, 2, 2, 2), 13, "full"),
    PlantedSpec("cnn_pool_16x16x3_p16", 16, 3, "pool", (4, 4), (0, 0, 2, 3), 14, "full"),
    PlantedSpec("cnn_res_16x16x1_p16", 16, 1, "res", (4, 4), (0, 0, 3, 3), 15, "full", twins=TWIN_KINDS),
    PlantedSpec("cnn_bn_24x24x1_p16", 24, 1, "bn", (4, 4), (1, 1, 2, 2), 16, "full", twins=TWIN_KINDS),
)


def _register(spec: PlantedSpec) -> None:
    register_model(spec.name, exam=True)(lambda: planted_cnn(spec))


for _spec in PLANTED:
    _register(_spec)


def describe_spec(spec: PlantedSpec) -> dict[str, Any]:
    """The spec as JSON-ready data (listings)."""
    return {"name": spec.name, "shape": list(spec.shape), "arch": spec.arch, "grid": list(spec.grid),
            "evidence_patches": evidence_patches(spec), "tier": spec.tier}
