"""``mlp_base`` and its functionally equivalent twins (Sundararajan et al. 2017, sec. 2.2, Implementation Invariance).

``mlp_base``: a fixed ReLU MLP 4 -> 6 -> 4 -> 1 (weights N(0, 1) from seed ``BASE_SEED``), inputs uniform on [-1, 1]^4;
feature 3 is a dummy because its first-layer column is zero. Every hidden unit is active on 20-80% of the domain.
Each twin applies one transform from ``equivalence.TRANSFORMS`` (seeded), so its function equals ``mlp_base``
everywhere (to float64 rounding) while its internals differ; it carries ``twin_of = "mlp_base"`` and ``transform``.
"""

from __future__ import annotations

import numpy as np

from .base import GroundTruth
from .equivalence import TRANSFORMS, MLPModel, MLPSpec
from .declarations import Placement
from .registry import register_model

__all__ = ["BASE_SEED", "TWINS", "base_spec"]

BASE_SEED = 20170311
#: Registered twin name -> transform name.
TWINS: dict[str, str] = {
    "mlp_permuted": "permuted",
    "mlp_rescaled": "rescaled",
    "mlp_split": "split",
    "mlp_dead_units": "dead_units",
    "mlp_cancelling": "cancelling",
    "mlp_identity_layer": "identity_layer",
    "mlp_bias_folded": "bias_folded",
    "mlp_functional_relu": "functional_relu",
}
_GT = GroundTruth(relevant=frozenset({0, 1, 2}), dummy=frozenset({3}),
                  notes="ReLU MLP 4-6-4-1; feature 3 has zero first-layer weights")


def base_spec() -> MLPSpec:
    """The weights of ``mlp_base``: W ~ N(0, 1), b ~ N(0, 0.5^2), first-layer column 3 zeroed."""
    rng = np.random.default_rng(BASE_SEED)
    sizes = (4, 6, 4, 1)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers.append((rng.normal(size=(n_out, n_in)), rng.normal(scale=0.5, size=n_out)))
    layers[0][0][:, 3] = 0.0
    return MLPSpec(tuple(layers))


@register_model("mlp_base", placed={
    "robustness": "full",
    "completeness": "quick",
    "dummy": "default",
    "ground_truth_agreement": "default",
    "model_randomisation": "quick",
    "explainer_agreement": "default",
    "input_invariance": "quick",
    "baseline_sensitivity": "full",
    "missingness": "default",
})
def _mlp_base() -> MLPModel:
    return MLPModel("mlp_base", base_spec(), ground_truth=_GT)


def _twin_factory(name: str, transform: str, seed: int):
    def build() -> MLPModel:
        spec = TRANSFORMS[transform](base_spec(), np.random.default_rng(seed))
        return MLPModel(name, spec, ground_truth=_GT, twin_of="mlp_base", transform=transform)

    build.__name__ = f"_{name}"
    return build


#: Twins in the quick suite (the first ones of ``TWINS``; the rest run in default / full).
N_QUICK_TWINS = 2

for _i, (_name, _transform) in enumerate(TWINS.items()):
    # implementation invariance: after the paper's pair (rank 0), in ``TWINS`` order (the cases draw from one stream)
    register_model(_name, placed={"implementation_invariance": Placement("quick" if _i < N_QUICK_TWINS else "default",
                                                                         rank=_i + 1)})(
        _twin_factory(_name, _transform, BASE_SEED + 1 + _i))
