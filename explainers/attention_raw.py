"""``attention_raw``: the raw attention weights of a token model's last attention layer, as users read them.

``a_j = mean_heads mean_i A_{h,i,j}``: the attention position j receives, averaged over the heads and over the query
positions i (the model pools by the mean, so every query counts alike); positions cut off by truncation get 0. Non-negative and summing to 1 per row: it
says where the model looks, not whether a token pushes the output up or down (Jain & Wallace 2019, "Attention is not
explanation"; Wiegreffe & Pinter 2019). A model without attention is not applicable.
"""

from __future__ import annotations

from .base import Explainer, register
from ._embedding import attention_maps, needs_attention, pad_positions
from .base import Capabilities
from .torch_utils import to_numpy

__all__ = ["AttentionRaw"]


class AttentionRaw(Explainer):
    """Last-layer attention received per position, mean over heads and queries."""

    name = "attention_raw"
    family = "gradient"
    library = "xaicheck"
    capabilities = Capabilities(requires="embedding")
    settings = {"layer": "last", "heads": "mean", "queries": "mean"}
    description = "raw attention (last layer, mean over heads and query positions)"

    def can_explain(self, model):  # type: ignore[override]
        ok, why = super().can_explain(model)
        return needs_attention(self.name, model) if ok else (ok, why)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        maps = attention_maps(self.name, model, X, target)
        return pad_positions(to_numpy(maps[-1].mean(dim=1).mean(dim=1)), X.shape[1])


register(AttentionRaw())
