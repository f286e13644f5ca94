"""Models by name: factories registered with ``@register_model`` and built once per process on first use.

This is the registry of xaicheck's own families. A model says here where it is examined: ``placed=`` puts it in
checks' curated cases (per check: smallest suite, rank, parameters; ``axioms._placed``), ``exam=True`` makes it
join every check that derives cases from declarations (``axioms.base.cases_of``). No check names its models. To
benchmark models of your own, give them as a zoo (``xaicheck run --models my_zoo``, or ``models=`` on
``check_explainer`` / ``parametrize_with_checks``): their cases follow from what each model declares
(``xaicheck.axioms.declared_cases``).

The registry is a :class:`xaicheck.core.registry.Registry`: built-ins are the public modules of this package (one
model family per module), third-party families join through the ``xaicheck.models`` entry-point group (an entry
point naming a module registers by importing it; one naming a zero-argument factory registers it under the entry
point's name). A family module that raises at import makes every later call raise, naming it.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from xaicheck.core.registry import Registry

from .base import SyntheticModel
from .declarations import Placement, placement

__all__ = ["MODELS", "ENTRY_POINT_GROUP", "register_model", "get_model", "model_names", "all_models", "declared_models",
           "placed_models", "placement_keys"]

ModelFactory = Callable[[], SyntheticModel]

#: The entry-point group of third-party model families.
ENTRY_POINT_GROUP = "xaicheck.models"
#: Names registered with ``exam=True``: models whose declarations put them in the checks' cases.
_EXAM: list[str] = []
#: name -> {placement key -> Placement}: where a model sits in checks' curated cases (``register_model(placed=)``).
_PLACED: dict[str, dict[str, Placement]] = {}


def _adopt(name: str, obj: Any) -> None:
    """An entry point naming a factory (or a class) registers it under the entry point's name."""
    if not callable(obj):
        raise TypeError(f"entry point {name!r} of {ENTRY_POINT_GROUP} must name a module or a zero-argument "
                        f"model factory; got {obj!r}")
    register_model(name)(obj)


#: name -> zero-argument factory.
MODELS: Registry[ModelFactory] = Registry("model", packages=(__package__,), group=ENTRY_POINT_GROUP, adopt=_adopt)

_BUILT: dict[str, SyntheticModel] = {}


def register_model(name: str, *, exam: bool = False, placed: "Mapping[str, str | Placement] | None" = None
                   ) -> Callable[[ModelFactory], ModelFactory]:
    """Register a zero-argument factory under ``name``; the model is built lazily and cached.

    ``exam=True``: the model joins the checks' cases from its own declarations (``model.declarations.tiers`` and
    its ground truth; ``axioms.base.cases_of``), with no check edited: one file adds a model to the exam.
    ``placed``: the model's places in checks' curated cases, by placement key (a check's name, or a case family
    such as ``"faithfulness"``): a suite name or a ``declarations.Placement`` (suite, rank, parameters). Declared
    here, at registration, so a check finds its models without building every registered one; an unknown key is an
    error when the checks read their placements (``axioms._placed``)."""
    places = {str(key): placement(value) for key, value in (placed or {}).items()}

    def decorate(factory: ModelFactory) -> ModelFactory:
        MODELS.add(name, factory)
        if exam and name not in _EXAM:
            _EXAM.append(name)
        if places:
            _PLACED[name] = places
        return factory

    return decorate


def get_model(name: str) -> SyntheticModel:
    """The model registered as ``name`` (built on first use, then cached for the process)."""
    factory = MODELS.get(name)
    if name not in _BUILT:
        model = factory()
        if model.name != name:
            raise ValueError(f"factory for {name!r} built a model named {model.name!r}")
        _BUILT[name] = model
    return _BUILT[name]


def model_names() -> list[str]:
    """Every registered model name, sorted."""
    return MODELS.names()


def all_models() -> list[SyntheticModel]:
    """Every registered model, built, in ``model_names()`` order."""
    return [get_model(name) for name in model_names()]


def _unregister(name: str) -> None:
    """Forget ``name`` (tests that register a temporary model)."""
    MODELS.remove(name)
    _BUILT.pop(name, None)
    if name in _EXAM:
        _EXAM.remove(name)
    _PLACED.pop(name, None)


def declared_models() -> list[SyntheticModel]:
    """The models registered with ``exam=True``, by name: their declarations decide the cases they join."""
    MODELS.load()
    return [get_model(name) for name in sorted(_EXAM)]


def placed_models(key: str) -> list[tuple[SyntheticModel, Placement]]:
    """The registered models placed under ``key`` with their placements, ordered by ``(rank, name)``; only those
    models are built."""
    MODELS.load()
    names = [n for n in MODELS.names() if key in _PLACED.get(n, {})]
    ordered = sorted(names, key=lambda n: (_PLACED[n][key].rank, n))
    return [(get_model(n), _PLACED[n][key]) for n in ordered]


def placement_keys() -> dict[str, list[str]]:
    """Every placement key in use -> the registered models that use it (sorted): for validation."""
    MODELS.load()
    out: dict[str, list[str]] = {}
    for name in MODELS.names():
        for key in _PLACED.get(name, {}):
            out.setdefault(key, []).append(name)
    return out
