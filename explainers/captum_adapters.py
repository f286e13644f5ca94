"""captum adapters: importing this module registers every captum-based explainer.

The adapters live in three modules of one concept each (captum is imported lazily inside them):
- ``captum_gradient``: gradient and path methods on the torch module (saliency ... smoothgrad_ig);
- ``captum_perturbation``: black-box perturbation / surrogate methods (occlusion ... captum_lime);
- ``captum_layer``: Grad-CAM and Guided Grad-CAM on a convolutional layer.
"""

from __future__ import annotations

from . import captum_gradient, captum_layer, captum_perturbation

__all__ = ["captum_gradient", "captum_perturbation", "captum_layer"]
