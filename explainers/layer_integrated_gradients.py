"""``layer_integrated_gradients``: captum's LayerIntegratedGradients on a token model's embedding layer.

Integrated gradients (Sundararajan et al. 2017) taken in embedding space, the form text users run (token ids have no
gradient): with ``e(x)`` the token embeddings of a sentence and ``e(b)`` those of the baseline sentence (the case's
baseline ids, ``[PAD]`` everywhere),

    a_i = Σ_k (e(x)_ik - e(b)_ik) ∫_0^1 ∂f/∂e_ik (e(b) + α (e(x) - e(b))) dα,

summed over the embedding channels k of position i (``n_steps=64`` Gauss-Legendre nodes). Positional embeddings are
not interpolated (captum's ``LayerIntegratedGradients`` on ``module.embed``). Complete up to the integration error:
Σ_i a_i = f(x) - f(b). Requires ``model.embedding_module()`` (``explainers._embedding``).
"""

from __future__ import annotations

from .base import Capabilities, Explainer, register
from ._embedding import embedding_module, ids_tensor, pad_positions, single_output
from .torch_utils import quiet_captum, to_numpy

__all__ = ["LayerIntegratedGradients"]


class LayerIntegratedGradients(Explainer):
    """Integrated gradients on the token embeddings, summed over channels."""

    name = "layer_integrated_gradients"
    family = "path"
    library = "captum"
    capabilities = Capabilities(requires="embedding", uses_baseline=True)
    settings = {"n_steps": 64, "method": "gausslegendre", "layer": "embed"}

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        from captum.attr import LayerIntegratedGradients as _LIG

        single_output(self.name, target)
        module = embedding_module(model)
        with quiet_captum():
            attr = _LIG(module, module.embed).attribute(ids_tensor(X), baselines=ids_tensor(baseline),
                                                        n_steps=int(self.settings["n_steps"]),
                                                        method=str(self.settings["method"]))
        return pad_positions(to_numpy(attr.sum(dim=-1)), X.shape[1])  # truncated positions: 0


register(LayerIntegratedGradients())
