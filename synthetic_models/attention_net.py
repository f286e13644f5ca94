"""A tiny transformer over token ids, in numpy (the callable) and in float64 torch (its embedding form).

Input: a row of ``L`` token ids (floats; each is rounded to the nearest id and clipped to the vocabulary; id 0 is
the ``[PAD]`` token). Forward (Vaswani et al. 2017, pre-LayerNorm blocks as in GPT-2):

    h⁰_i = E[x_i] + P_i                                             token embedding + positional embedding
    hˡ   = hˡ⁻¹ + Σ_heads softmax(Q Kᵀ) V W_o,  Q, K, V = LN_l(hˡ⁻¹) W_q, W_k, W_v     (one row per query position)
    h    = hᴸ + ReLU(hᴸ W_1 + b_1) W_2                                residual MLP, per position
    f(x) = r · mean_i h_i + c                                         mean pooling, linear read-out

``LN(z) = γ (z - mean z) / sqrt(var z + ε) + β`` over the channels (ε = 1e-5). The weights are hand-set by
``text_attention`` so that the network computes a known function of the tokens; the numpy and torch forms compute the
same float64 numbers (``tests/test_models_text_attention.py``). ``attention_maps`` returns every layer's ``[n, H, L,
L]`` softmax weights (what raw attention and attention rollout read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["LN_EPS", "Layer", "AttentionNet", "layer_norm"]

LN_EPS = 1e-5


@dataclass(frozen=True, eq=False)
class Layer:
    """One self-attention block: optional pre-LayerNorm ``(γ [D], β [D])`` and per-head ``W_q, W_k [H, D, k]``,
    ``W_v [H, D, v]``, ``W_o [H, v, D]``."""

    wq: np.ndarray
    wk: np.ndarray
    wv: np.ndarray
    wo: np.ndarray
    ln: tuple[np.ndarray, np.ndarray] | None = None


def layer_norm(z: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """LayerNorm over the last axis (biased variance, ``LN_EPS``), as ``torch.nn.LayerNorm`` computes it."""
    mu = z.mean(axis=-1, keepdims=True)
    var = ((z - mu) ** 2).mean(axis=-1, keepdims=True)
    return (z - mu) / np.sqrt(var + LN_EPS) * gamma + beta


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class AttentionNet:
    """The weights of the network (module docstring): ``E [V, D]``, ``P [L, D]``, layers, MLP ``W_1 [D, M]``,
    ``b_1 [M]``, ``W_2 [M, D]``, read-out ``r [D]`` and ``c``."""

    E: np.ndarray
    P: np.ndarray
    layers: tuple[Layer, ...]
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    r: np.ndarray
    c: float = 0.0
    #: Input length; positions from ``P.shape[0]`` on are cut off before the embedding (a tokenizer's
    #: ``max_length`` truncation), so they are exact dummies. 0: no truncation.
    input_length: int = 0

    @property
    def window(self) -> int:
        """Positions the network reads."""
        return int(self.P.shape[0])

    @property
    def length(self) -> int:
        """Positions of an input row."""
        return self.input_length or self.window

    def _ids(self, X: np.ndarray) -> np.ndarray:
        """Token ids of ``X``: each value rounded to the nearest id and clipped to the vocabulary, so the callable is
        defined on every real row (a perturbation method's non-integer draw reads the nearest token)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.length or not np.all(np.isfinite(X)):
            raise ValueError(f"Expected finite rows of {self.length} token ids but got shape {X.shape}")
        return np.clip(np.rint(X[:, :self.window]), 0, self.E.shape[0] - 1).astype(np.int64)

    def forward(self, X: np.ndarray, *, maps: list[np.ndarray] | None = None) -> np.ndarray:
        """``f(X)`` for ``X [n, L]`` of token ids -> ``[n]``; appends each layer's ``[n, H, L, L]`` to ``maps``."""
        h = self.E[self._ids(X)] + self.P[None]
        for layer in self.layers:
            z = h if layer.ln is None else layer_norm(h, *layer.ln)
            q = np.einsum("nld,hdk->nhlk", z, layer.wq)
            k = np.einsum("nld,hdk->nhlk", z, layer.wk)
            v = np.einsum("nld,hdk->nhlk", z, layer.wv)
            a = _softmax(np.einsum("nhik,nhjk->nhij", q, k))
            if maps is not None:
                maps.append(a)
            h = h + np.einsum("nhij,nhjv,hvd->nid", a, v, layer.wo)
        h = h + np.maximum(h @ self.w1 + self.b1, 0.0) @ self.w2
        return h.mean(axis=1) @ self.r + self.c

    def attention_maps(self, X: np.ndarray) -> list[np.ndarray]:
        maps: list[np.ndarray] = []
        self.forward(X, maps=maps)
        return maps

    def torch_module(self) -> "torch.nn.Module":
        """The same network as a float64 ``torch.nn.Module``: ``module(ids [n, L]) -> [n]``; its token embedding is
        ``module.embed`` (``nn.Embedding``), ``module.attention_maps(ids)`` the softmax weights per layer."""
        return _build_module(self)


def _build_module(net: AttentionNet) -> "torch.nn.Module":
    import torch
    from torch import nn

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.tensor(np.asarray(a, dtype=np.float64))

    class Block(nn.Module):
        def __init__(self, layer: Layer) -> None:
            super().__init__()
            d = layer.wq.shape[1]
            self.ln = None
            if layer.ln is not None:
                self.ln = nn.LayerNorm(d, eps=LN_EPS, dtype=torch.float64)
                with torch.no_grad():
                    self.ln.weight.copy_(t(layer.ln[0]))
                    self.ln.bias.copy_(t(layer.ln[1]))
            self.wq, self.wk = nn.Parameter(t(layer.wq)), nn.Parameter(t(layer.wk))
            self.wv, self.wo = nn.Parameter(t(layer.wv)), nn.Parameter(t(layer.wo))
            self.softmax = nn.Softmax(dim=-1)

        def forward(self, h: torch.Tensor, maps: list | None = None) -> torch.Tensor:
            z = h if self.ln is None else self.ln(h)
            q = torch.einsum("nld,hdk->nhlk", z, self.wq)
            k = torch.einsum("nld,hdk->nhlk", z, self.wk)
            v = torch.einsum("nld,hdk->nhlk", z, self.wv)
            a = self.softmax(torch.einsum("nhik,nhjk->nhij", q, k))
            if maps is not None:
                maps.append(a)
            return h + torch.einsum("nhij,nhjv,hvd->nid", a, v, self.wo)

    class TinyTransformer(nn.Module):
        """Token ids ``[n, L]`` -> ``[n]`` (``attention_net`` module docstring)."""

        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(net.E.shape[0], net.E.shape[1], dtype=torch.float64)
            with torch.no_grad():
                self.embed.weight.copy_(t(net.E))
            self.register_buffer("pos", t(net.P))
            self.blocks = nn.ModuleList([Block(layer) for layer in net.layers])
            self.fc1 = nn.Linear(net.w1.shape[0], net.w1.shape[1], dtype=torch.float64)
            self.fc2 = nn.Linear(net.w2.shape[0], net.w2.shape[1], bias=False, dtype=torch.float64)
            self.relu = nn.ReLU()
            self.readout = nn.Linear(net.r.shape[0], 1, dtype=torch.float64)
            with torch.no_grad():
                self.fc1.weight.copy_(t(net.w1.T))
                self.fc1.bias.copy_(t(net.b1))
                self.fc2.weight.copy_(t(net.w2.T))
                self.readout.weight.copy_(t(net.r[None]))
                self.readout.bias.fill_(float(net.c))

        def _run(self, ids: torch.Tensor, maps: list | None) -> torch.Tensor:
            ids = ids[:, :net.window]  # truncation: the cut positions get no gradient and no attention
            h = self.embed(ids.round().clamp(0, net.E.shape[0] - 1).long()) + self.pos
            for block in self.blocks:
                h = block(h, maps)
            h = h + self.fc2(self.relu(self.fc1(h)))
            return self.readout(h.mean(dim=1)).squeeze(-1)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self._run(ids, None)

        def attention_maps(self, ids: torch.Tensor) -> list[torch.Tensor]:
            maps: list[torch.Tensor] = []
            self._run(ids, maps)
            return maps

    return TinyTransformer().eval()
