"""A non-equivalent companion of a model: ``c * f``, the one-term case of Linearity.

Sundararajan, Taly & Yan 2017, sec. 2 (Linearity: ``a(alpha f1 + beta f2) = alpha a(f1) + beta a(f2)``; with
``beta = 0`` it reads ``a(c f) = c a(f)``). Used by ``implementation_invariance`` (issue 23): an explainer whose answer
is a function of the inputs alone is invariant across functionally equivalent twins by construction and says nothing
about ``f``; asking also ``a(c f) == c a(f)`` makes the answer depend on the function.

The companion keeps the model's numpy and torch forms, its outputs, explained
output, domain, sampler and declarations; it is built only for flat inputs (``input_shape is None``) and models whose
forms are callable/torch alone (a layer name, an embedding, a tree or a text form would be lost), else ``None`` with
the reason. Its torch form is the network itself with its last ``nn.Linear`` (weight and bias) multiplied by ``c``
when that gives ``c * f`` on draws of the model's inputs (it does for any ``c`` when nothing follows that layer), so
layer-wise rules (LRP, DeepLift) see one network computing ``c f``; else ``c * module(x)`` (``Scaled``). Measured: on
the wrapper captum's LRP treats the product by ``c`` outside any layer as a gradient and returns about ``c^2 a(f)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["scaled_companion", "COMPANION_FORMS"]

#: The forms a companion can keep; a model with any other form gets no companion.
COMPANION_FORMS = frozenset({"callable", "torch"})

_SCALED: Any = None


def _scaled_module(module: Any, c: float) -> Any:
    """``nn.Module`` computing ``c * module(x)`` (class built once, torch imported lazily)."""
    global _SCALED
    if _SCALED is None:
        from torch import nn

        class Scaled(nn.Module):
            """``c * inner(x)``: the same network, its output multiplied by a constant."""

            def __init__(self, inner: nn.Module, c: float) -> None:
                super().__init__()
                self.inner, self.c = inner, c

            def forward(self, x: Any) -> Any:
                return self.c * self.inner(x)

        _SCALED = Scaled
    return _SCALED(module, c)


def _scaled_last_layer(model: "SyntheticModel", c: float) -> Any:
    """The model's network with its last ``nn.Linear`` scaled by ``c`` when that computes ``c f`` on 16 draws, else
    ``c * module(x)``."""
    import torch
    from torch import nn

    module = model.torch_module()
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if linears:
        scaled = model.torch_module()
        last = [m for m in scaled.modules() if isinstance(m, nn.Linear)][-1]
        with torch.no_grad():
            last.weight.mul_(c)
            if last.bias is not None:
                last.bias.mul_(c)
        Z = torch.as_tensor(model.sample(16, np.random.default_rng(0)), dtype=torch.float64)
        with torch.no_grad():
            if torch.allclose(scaled(Z), c * module(Z), rtol=1e-12, atol=1e-12):
                return scaled
    return _scaled_module(module, c)


def scaled_companion(model: "SyntheticModel", c: float) -> tuple["SyntheticModel | None", str]:
    """``(c * model, "")``, or ``(None, why)`` when the companion would lose a form or an input shape."""
    if model.input_shape is not None:
        return None, f"{model.name} has an input shape {model.input_shape}: c*f would lose it"
    lost = model.forms - COMPANION_FORMS
    if lost or getattr(model, "gradcam_layer_name", None) or getattr(model, "patches", None):
        return None, f"{model.name} offers forms {sorted(model.forms)}: c*f keeps only callable and torch"
    torch_factory = None
    if "torch" in model.forms:
        def torch_factory() -> Any:
            return _scaled_last_layer(model, c)

    gt = model.ground_truth
    out = FunctionModel(f"{c:g}*{model.name}", "combination", lambda X: c * np.asarray(model.predict(X)),
                        model.feature_names, GroundTruth(relevant=gt.relevant, dummy=gt.dummy), domain=model.domain,
                        sampler=model.sample, torch_factory=torch_factory, n_outputs=model.n_outputs,
                        explained_output=getattr(model, "explained_output", None),
                        spec={"formula": f"{c:g}*[{model.spec().get('formula', model.name)}]", "scaled_from":
                              model.spec(), "c": c}, declarations=model.declarations)
    return out, ""
