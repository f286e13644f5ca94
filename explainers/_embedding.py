"""Shared pieces of the explainers that run on a token model's embedding form (``requires="embedding"``).

A token model (``synthetic_models.text_attention``) takes rows of token ids; its ``embedding_module()`` is the torch
network ``ids [n, L] -> [n]`` with the token embedding ``module.embed`` (``nn.Embedding``) and
``module.attention_maps(ids)`` (each layer's ``[n, H, L, L]`` softmax weights). Attributions are per position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["attention_maps", "embedding_module", "ids_tensor", "needs_attention", "pad_positions", "single_output"]


def embedding_module(model: Any) -> "torch.nn.Module":
    """The model's embedding-form network (a fresh copy), or a ``ValueError`` naming what is missing."""
    factory = getattr(model, "embedding_module", None)
    if not callable(factory):
        raise ValueError(f"{getattr(model, 'name', model)!r} has no embedding_module()")
    return factory()


def ids_tensor(X: np.ndarray) -> "torch.Tensor":
    """Rows of token ids as a ``long`` tensor."""
    import torch

    return torch.as_tensor(np.rint(np.asarray(X, dtype=np.float64)).astype(np.int64))


def single_output(name: str, target: Any) -> None:
    """These adapters explain a one-output token model; a target column is refused, naming the explainer."""
    if target is not None:
        raise ValueError(f"{name} explains one-output token models; got target={target!r}")


def pad_positions(A: np.ndarray, d: int) -> np.ndarray:
    """Per-position scores ``[n, L']`` of a network that reads the first ``L' <= d`` positions, as ``[n, d]`` (0 on
    the positions it truncates away)."""
    out = np.zeros((A.shape[0], d))
    out[:, :A.shape[1]] = A
    return out


def needs_attention(explainer_name: str, model: Any) -> tuple[bool, str]:
    """Whether ``model`` declares attention layers (``attention_layers``; undeclared counts as present), and why not."""
    if not getattr(model, "attention_layers", 1):
        return False, f"{explainer_name} needs attention; {model.name} has no attention layer"
    return True, ""


def attention_maps(explainer_name: str, model: Any, X: np.ndarray, target: Any) -> list:
    """Every attention layer's weights ``[n, heads, L, L]`` for the token rows ``X`` (no gradients); raises a
    ``ValueError`` for a model without attention."""
    import torch

    single_output(explainer_name, target)
    with torch.no_grad():
        maps = embedding_module(model).attention_maps(ids_tensor(X))
    if not maps:
        raise ValueError(f"{model.name} has no attention layer")
    return maps
