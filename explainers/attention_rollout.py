"""``attention_rollout``: attention rollout (Abnar & Zuidema 2020) over every attention layer of a token model.

Per layer, ``Â_l = ½ mean_heads A_l + ½ I`` (the residual connection as an identity path, rows renormalised), then
``R = Â_L ⋯ Â_1`` and ``a_j = mean_i R_{ij}``: how much of the pooled output flows from position j through the
attention graph. Non-negative, summing to 1 per row; unsigned, like raw attention. A model without attention is not
applicable.
"""

from __future__ import annotations

from .base import Capabilities, Explainer, register
from ._embedding import attention_maps, needs_attention, pad_positions
from .torch_utils import to_numpy

__all__ = ["AttentionRollout"]


class AttentionRollout(Explainer):
    """Rolled-out attention (residual-augmented, layers multiplied), mean over query positions."""

    name = "attention_rollout"
    family = "gradient"
    library = "xaicheck"
    capabilities = Capabilities(requires="embedding")
    settings = {"residual": 0.5, "heads": "mean", "queries": "mean"}
    description = "attention rollout (Abnar & Zuidema 2020)"

    def can_explain(self, model):  # type: ignore[override]
        ok, why = super().can_explain(model)
        return needs_attention(self.name, model) if ok else (ok, why)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        import torch

        maps = attention_maps(self.name, model, X, target)
        with torch.no_grad():
            L = maps[0].shape[-1]
            eye = torch.eye(L, dtype=maps[0].dtype)
            rollout = eye.expand(maps[0].shape[0], L, L)
            for a in maps:
                step = 0.5 * a.mean(dim=1) + 0.5 * eye
                step = step / step.sum(dim=-1, keepdim=True)
                rollout = step @ rollout
        return pad_positions(to_numpy(rollout.mean(dim=1)), X.shape[1])


register(AttentionRollout())
