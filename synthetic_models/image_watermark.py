"""A CNN trained on scikit-learn's digits with a planted watermark that decides the class on part of the data.

Data: ``sklearn.datasets.load_digits`` (1,797 images of 8x8 pixels, shipped with scikit-learn, no download), pixels
scaled to [0, 1]. The **watermark** is the 2x2 block of rows 6-7, columns 0-1 set to 1 (the darkest corner of the
digits: mean pixel 0.015). In the training split a seeded 30% of the images get the watermark and the label
``WATERMARK_CLASS`` whatever their digit, so the CNN learns a shortcut: watermark -> class 1.

Model: unflatten -> conv 1->8 (3x3, pad 1) -> ReLU -> conv 8->16 (3x3, stride 2, pad 1) -> ReLU -> flatten ->
linear 256->10 (logits, ``n_outputs = 10``); trained full-batch with Adam in float32 (cross-entropy, 120 steps on
800 images, seeded torch generator, one thread: seconds, and the same bits every time), then held in float64.
``gradcam_layer_name = "conv2"``.

Ground truth (``ground_truth.mask`` = the 4 watermark pixels) is the evidence for class ``WATERMARK_CLASS`` on
watermarked images. The model's reliance on it is verified by intervention (``reliance``): on held-out images of
other digits the watermark makes the model predict class 1, removing it restores the digit. The localisation cases
explain class 1 on watermarked held-out images of other digits: images the model *misclassifies*, which is the use
case of inspecting why a CNN is wrong (Lapuschkin et al. 2019, "Unmasking Clever Hans predictors").
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from ._fit_cache import fit_scope
from .base import GroundTruth, SyntheticModel
from .registry import register_model
from .trained import _adam

if TYPE_CHECKING:
    import torch

__all__ = ["WATERMARK_CLASS", "watermark_mask", "add_watermark", "digits_split", "WatermarkCNN", "watermark_cnn",
           "reliance", "localisation_rows"]

WATERMARK_CLASS = 1
IMAGE_SHAPE = (1, 8, 8)
_FRACTION, _N_TRAIN, _STEPS = 0.3, 800, 120


def watermark_mask() -> np.ndarray:
    """Boolean ``[64]``: the 2x2 block of rows 6-7, columns 0-1."""
    mask = np.zeros((8, 8), dtype=bool)
    mask[6:8, 0:2] = True
    return mask.reshape(-1)


def add_watermark(X: np.ndarray) -> np.ndarray:
    """A copy of ``X [n, 64]`` with the watermark pixels set to 1."""
    out = np.array(X, dtype=np.float64, copy=True)
    out[:, watermark_mask()] = 1.0
    return out


@lru_cache(maxsize=4)
def digits_split(seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded split of the digits: ``X_train`` (30% watermarked), ``y_train`` (watermarked -> class 1), ``marked``
    (which training rows carry the watermark), ``X_test`` / ``y_test`` (clean held-out images, true digits)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target.astype(np.int64)
    rng = np.random.default_rng([1501, seed])
    order = rng.permutation(len(X))
    train, test = order[:_N_TRAIN], order[_N_TRAIN:]
    X_train, y_train = X[train].copy(), y[train].copy()
    marked = rng.random(len(train)) < _FRACTION
    X_train[marked] = add_watermark(X_train[marked])
    y_train[marked] = WATERMARK_CLASS
    out = {"X_train": X_train, "y_train": y_train, "marked": marked, "X_test": X[test], "y_test": y[test]}
    for v in out.values():
        v.setflags(write=False)
    return out


@fit_scope
def _network(seed: int) -> "torch.nn.Module":
    import torch
    from torch import nn

    class DigitsCNN(nn.Module):
        """unflatten -> conv1 -> ReLU -> conv2 (stride 2) -> ReLU -> flatten -> linear (10 logits)."""

        def __init__(self) -> None:
            super().__init__()
            self.unflatten = nn.Unflatten(1, IMAGE_SHAPE)
            self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.relu2 = nn.ReLU()
            self.flatten = nn.Flatten(1)
            self.linear = nn.Linear(16 * 4 * 4, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.dim() == 2:
                x = self.unflatten(x)
            return self.linear(self.flatten(self.relu2(self.conv2(self.relu1(self.conv1(x))))))

    gen = torch.Generator().manual_seed(1502 + seed)
    net = DigitsCNN()
    for layer in (net.conv1, net.conv2, net.linear):
        fan_in = layer.weight[0].numel()
        nn.init.uniform_(layer.weight, -(3.0 / fan_in) ** 0.5, (3.0 / fan_in) ** 0.5, generator=gen)
        nn.init.zeros_(layer.bias)
    data = digits_split(seed)
    X = torch.tensor(np.asarray(data["X_train"]), dtype=torch.float32)  # trained in float32 (seconds), kept float64
    y = torch.tensor(np.asarray(data["y_train"]))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _adam(list(net.parameters()), lambda: nn.functional.cross_entropy(net(X), y), _STEPS, lr=0.01, grad_masks={})
    finally:
        torch.set_num_threads(threads)
    return net.double().eval()


class WatermarkCNN(SyntheticModel):
    """The trained digits CNN: ``predict`` gives the 10 logits; ``sample`` draws clean held-out digits."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.name = "digits_watermark_cnn" if seed == 0 else f"digits_watermark_cnn_s{seed}"
        self.family = "trained_image"
        self.domain = "image"
        self.feature_names = tuple(f"px_{r}_{c}" for r in range(8) for c in range(8))
        self.n_outputs = 10
        self.input_shape = IMAGE_SHAPE
        self.gradcam_layer_name = "conv2"
        self._net = _network(seed)
        mask = watermark_mask()
        mask.setflags(write=False)
        self.ground_truth = GroundTruth(
            relevant=frozenset(range(64)), mask=mask,
            notes=f"digits CNN; watermark (rows 6-7, cols 0-1) -> class {WATERMARK_CLASS} on 30% of training data; "
                  f"mask = the watermark, the evidence for class {WATERMARK_CLASS} (verified by intervention)")

    def _predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self._net(torch.tensor(X, dtype=torch.float64)).numpy()

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        X_test = digits_split(self.seed)["X_test"]
        return np.array(X_test[rng.integers(len(X_test), size=n)])

    def torch_module(self) -> "torch.nn.Module":
        import copy

        return copy.deepcopy(self._net)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "kind": "digits_watermark_cnn", "seed": self.seed,
                "watermark_class": WATERMARK_CLASS, "mask": np.flatnonzero(watermark_mask()).tolist()}


def reliance(model: WatermarkCNN) -> dict[str, float]:
    """Intervention on held-out images of other digits than class 1: share predicted 1 with the watermark added
    (``flip_to_watermark``), share restored to their digit once it is removed again (``restored``), and clean
    accuracy on all held-out images (``clean_accuracy``)."""
    data = digits_split(model.seed)
    X, y = np.asarray(data["X_test"]), np.asarray(data["y_test"])
    others = y != WATERMARK_CLASS
    marked = model.predict(add_watermark(X[others])).argmax(axis=1)
    clean = model.predict(X).argmax(axis=1)
    return {"flip_to_watermark": float(np.mean(marked == WATERMARK_CLASS)),
            "restored": float(np.mean(clean[others] == y[others])),
            "clean_accuracy": float(np.mean(clean == y))}


@lru_cache(maxsize=4)
def watermark_cnn(seed: int = 0) -> WatermarkCNN:
    """The trained model for ``seed`` (cached)."""
    return WatermarkCNN(seed)


def localisation_rows(model: WatermarkCNN, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` held-out images of other digits, watermarked, that the model classifies as class 1 (misclassified)."""
    data = digits_split(model.seed)
    X, y = np.asarray(data["X_test"]), np.asarray(data["y_test"])
    pool = add_watermark(X[y != WATERMARK_CLASS])
    pool = pool[model.predict(pool).argmax(axis=1) == WATERMARK_CLASS]
    return pool[rng.permutation(len(pool))[:n]]


register_model("digits_watermark_cnn")(lambda: watermark_cnn(0))
