"""Models by name: factories registered with ``@register_model`` and built once per process on first use."""

from __future__ import annotations

import importlib
from typing import Callable

from .base import SyntheticModel

__all__ = ["register_model", "get_model", "model_names", "all_models"]

ModelFactory = Callable[[], SyntheticModel]

_FACTORIES: dict[str, ModelFactory] = {}
_BUILT: dict[str, SyntheticModel] = {}

#: Modules whose import registers the built-in models (one model family per module).
FAMILY_MODULES: tuple[str, ...] = (
    "synthetic_models.logic_zoo",
    "synthetic_models.sundararajan",
    "synthetic_models.equivalence_zoo",
    "synthetic_models.additive",
    "synthetic_models.distributions",
    "synthetic_models.trained",
    "synthetic_models.image",
    "synthetic_models.text",
    "synthetic_models.adversarial",
    "synthetic_models.classification",
)
_loaded = False


def register_model(name: str) -> Callable[[ModelFactory], ModelFactory]:
    """Register a zero-argument factory under ``name``; the model is built lazily and cached."""

    def decorate(factory: ModelFactory) -> ModelFactory:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"model name {name!r} is already registered")
        _FACTORIES[name] = factory
        return factory

    return decorate


def _load_families() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in FAMILY_MODULES:
        importlib.import_module(module)


def get_model(name: str) -> SyntheticModel:
    """The model registered as ``name`` (built on first use, then cached for the process)."""
    _load_families()
    if name not in _BUILT:
        if name not in _FACTORIES:
            raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(_FACTORIES))}")
        model = _FACTORIES[name]()
        if model.name != name:
            raise ValueError(f"factory for {name!r} built a model named {model.name!r}")
        _BUILT[name] = model
    return _BUILT[name]


def model_names() -> list[str]:
    _load_families()
    return sorted(_FACTORIES)


def all_models() -> list[SyntheticModel]:
    return [get_model(name) for name in model_names()]
