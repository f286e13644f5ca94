"""``layer_gradient_x_activation``: captum's LayerGradientXActivation on a token model's embedding layer.

Gradient × input in embedding space (Shrikumar et al. 2016; Denil et al. 2014 for text): ``a_i = Σ_k e(x)_ik ·
∂f/∂e_ik(x)``, summed over the embedding channels k of position i. No baseline: it explains ``f(x)`` against the
zero embedding, which no sentence has, so it is neither complete against ``[PAD]`` nor exact beyond linear models.
Requires ``model.embedding_module()`` (``explainers._embedding``).
"""

from __future__ import annotations

from .base import Capabilities, Explainer, register
from ._embedding import embedding_module, ids_tensor, pad_positions, single_output
from .torch_utils import quiet_captum, to_numpy

__all__ = ["LayerGradientXActivation"]


class LayerGradientXActivation(Explainer):
    """Gradient times activation of the token embeddings, summed over channels."""

    name = "layer_gradient_x_activation"
    family = "gradient"
    library = "captum"
    capabilities = Capabilities(requires="embedding")
    settings = {"layer": "embed"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        from captum.attr import LayerGradientXActivation as _LGXA

        single_output(self.name, target)
        module = embedding_module(model)
        with quiet_captum():
            attr = _LGXA(module, module.embed).attribute(ids_tensor(X))
        return pad_positions(to_numpy(attr.sum(dim=-1)), X.shape[1])  # truncated positions: 0


register(LayerGradientXActivation())
