"""Synthetic models with known ground truth, and exact Shapley oracles."""

from .base import FunctionModel, GroundTruth, SyntheticModel, as_batch, binary_sampler, uniform_sampler
from .registry import all_models, get_model, model_names, register_model

__all__ = [
    "FunctionModel",
    "GroundTruth",
    "SyntheticModel",
    "as_batch",
    "binary_sampler",
    "uniform_sampler",
    "all_models",
    "get_model",
    "model_names",
    "register_model",
]
