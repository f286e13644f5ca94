"""Models by name: factories registered with ``@register_model`` and built once per process on first use.

This is the registry of xaicheck's own families: each built-in check builds its cases from the models it names
here. To benchmark models of your own, give them as a zoo (``xaicheck run --models my_zoo``, or ``models=`` on
``check_explainer`` / ``parametrize_with_checks``): their cases follow from what each model declares
(``xaicheck.axioms.declared_cases``), which registering a model here does not do."""

from __future__ import annotations

from typing import Callable

from .base import SyntheticModel
from .discovery import import_public_modules

__all__ = ["register_model", "get_model", "model_names", "all_models", "declared_models"]

ModelFactory = Callable[[], SyntheticModel]

_FACTORIES: dict[str, ModelFactory] = {}
_BUILT: dict[str, SyntheticModel] = {}
#: Names registered with ``exam=True``: models whose declarations put them in the checks' cases.
_EXAM: list[str] = []

_loaded = False


def register_model(name: str, *, exam: bool = False) -> Callable[[ModelFactory], ModelFactory]:
    """Register a zero-argument factory under ``name``; the model is built lazily and cached.

    ``exam=True``: the model joins the checks' cases from its own declarations (``model.declarations.tiers`` and
    its ground truth; ``axioms.base.cases_of``), with no check edited: one file adds a model to the exam."""

    def decorate(factory: ModelFactory) -> ModelFactory:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"model name {name!r} is already registered")
        _FACTORIES[name] = factory
        if exam and name not in _EXAM:
            _EXAM.append(name)
        return factory

    return decorate


def _load_families() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import_public_modules(__package__)  # one model family per module: discovery, not a hand-kept list


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


def _unregister(name: str) -> None:
    """Forget ``name`` (tests that register a temporary model)."""
    _FACTORIES.pop(name, None)
    _BUILT.pop(name, None)
    if name in _EXAM:
        _EXAM.remove(name)


def declared_models() -> list[SyntheticModel]:
    """The models registered with ``exam=True``, by name: their declarations decide the cases they join."""
    _load_families()
    return [get_model(name) for name in sorted(_EXAM)]
