"""The baseline panel: the reference points an attribution is commonly computed against.

Sturmfels, Lundberg & Lee 2020, "Visualizing the impact of feature attribution baselines" (Distill) compare the
zero (black) image, maximum-distance, blurred, uniform-random, Gaussian and training-data baselines and show that the
attribution changes with the choice. ``baseline_panel`` builds them for a batch ``X`` (every baseline ``[n, d]``,
one row per input, so input-dependent baselines are explicit):

- ``zero``            b = 0
- ``mean``            b_i = mean of feature i over the background (the "expected value" reference of SHAP)
- ``median``          b_i = median of feature i over the background
- ``uniform``         b_i ~ U[lo_i, hi_i], the per-feature range of the background (binary: b_i ~ Bernoulli(1/2))
- ``max_distance``    b_i = lo_i if |x_i - lo_i| >= |x_i - hi_i| else hi_i: the corner of the data box farthest from
                      x in every L_p norm (binary: 1 - x)
- ``training_sample`` a background row drawn at random (one per input)
- ``blurred``         image models only: x convolved with a Gaussian of ``BLUR_SIGMA`` pixels (Fong & Vedaldi 2017)

Random draws use ``numpy.random.default_rng(seed)``. ``mean``/``median`` are left out for binary models (0.5 is
not an input the model is defined on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["BASELINE_NAMES", "BLUR_SIGMA", "baseline_panel", "blur"]

BASELINE_NAMES: tuple[str, ...] = ("zero", "mean", "median", "uniform", "max_distance", "training_sample", "blurred")
#: Standard deviation (pixels) of the Gaussian of the blurred baseline.
BLUR_SIGMA = 2.0


def blur(X: np.ndarray, input_shape: Sequence[int], sigma: float = BLUR_SIGMA) -> np.ndarray:
    """Gaussian blur of each flattened image row of ``X`` over its last two axes (``input_shape`` = (c, h, w))."""
    from scipy.ndimage import gaussian_filter

    if sigma <= 0:
        raise ValueError(f"Expected a positive blur sigma but got sigma={sigma!r}")
    shape = tuple(int(s) for s in input_shape)
    images = np.asarray(X, dtype=np.float64).reshape((-1, *shape))
    sig = (0.0,) * (len(shape) - 2) + (sigma, sigma)
    return np.stack([gaussian_filter(img, sigma=sig, mode="nearest") for img in images]).reshape(len(images), -1)


def baseline_panel(
    model: "SyntheticModel",
    X: np.ndarray,
    background: np.ndarray,
    *,
    seed: int,
    names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """The baselines ``{name: [n, d]}`` for inputs ``X`` of ``model`` (see the module docstring)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    Z = np.atleast_2d(np.asarray(background, dtype=np.float64))
    n, d = X.shape
    if Z.shape[1] != d or Z.shape[0] == 0:
        raise ValueError(f"Expected a background of shape [m>0, {d}] but got {Z.shape}")
    binary = model.domain == "binary"
    image = model.domain == "image" and model.input_shape is not None
    wanted = list(BASELINE_NAMES if names is None else names)
    unknown = [w for w in wanted if w not in BASELINE_NAMES]
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; known: {', '.join(BASELINE_NAMES)}")
    rng = np.random.default_rng(seed)
    lo, hi = Z.min(axis=0), Z.max(axis=0)
    panel: dict[str, np.ndarray] = {}
    for name in wanted:
        if name == "zero":
            panel[name] = np.zeros((n, d))
        elif name in ("mean", "median") and not binary:
            stat = Z.mean(axis=0) if name == "mean" else np.median(Z, axis=0)
            panel[name] = np.broadcast_to(stat, (n, d)).copy()
        elif name == "uniform":
            panel[name] = (rng.random((n, d)) < 0.5).astype(np.float64) if binary else rng.uniform(lo, hi, (n, d))
        elif name == "max_distance":
            panel[name] = 1.0 - X if binary else np.where(np.abs(X - lo) >= np.abs(X - hi), lo, hi)
        elif name == "training_sample":
            panel[name] = Z[rng.integers(0, Z.shape[0], size=n)].copy()
        elif name == "blurred" and image:
            panel[name] = blur(X, model.input_shape)  # type: ignore[arg-type]
    return panel
