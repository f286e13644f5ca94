"""One registry mechanism, name -> item, for models, explainers and checks (pytest's one plugin manager for its
default plugins and its ``pytest11`` entry points).

A :class:`Registry` loads on first use: it imports the public modules of its built-in packages (discovery, not a
hand-kept list; their import registers what they define) and then every entry point of its group (third-party
plug-ins). Loading is

- **loud**: if a module or an entry point raises, the registry remembers the failure, and this and *every later*
  call (``get``, ``names``, ``items``, ``load``) raises :class:`~xaicheck.core.errors.RegistryError` naming the
  module or entry point and its exception; never a silently partial registry ("unknown check 'completeness';
  known: " with an empty list);
- **idempotent**: a second load after a successful one does nothing; adding the same item under its name again is
  a no-op, a different item under a taken name is an error.

While a load is under way, a module that asks the registry (at its own import) sees what is registered so far.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterator, Sequence, TypeVar

from .discovery import entry_points_of, public_modules
from .errors import NameTakenError, RegistryError

__all__ = ["Registry", "RegistryState"]

T = TypeVar("T")


@dataclass
class RegistryState(Generic[T]):
    """A copy of a registry's state (``Registry.snapshot``), to restore after a test that changes it."""

    items: dict[str, T]
    loaded: bool
    failure: str | None
    extra: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """Items of one kind by name, loaded from built-in packages and an entry-point group.

    kind: what the items are, for messages (``"check"``, ``"explainer"``, ``"model"``).
    packages: built-in packages whose public modules are imported on load (``core.discovery``).
    group: the entry-point group of third-party plug-ins (``"xaicheck.checks"``, ...); an entry point may name a
    module (importing it registers) or an object, handed to ``adopt(entry_point_name, obj)``.
    same: whether an item offered under a taken name is the one already there (default: identity).
    after_load: called once after a successful load (e.g. to validate what was registered); if it raises, the load
    failed.
    """

    def __init__(self, kind: str, *, packages: Sequence[str] = (), group: str | None = None,
                 adopt: Callable[[str, Any], None] | None = None,
                 same: Callable[[T, T], bool] | None = None,
                 after_load: Sequence[Callable[[], None]] = ()) -> None:
        self.kind = kind
        self.packages = tuple(packages)
        self.group = group
        self._adopt = adopt
        self._same = same or (lambda a, b: a is b)
        self._after_load = list(after_load)
        self._on_add: list[Callable[[str, T], None]] = []
        self._items: dict[str, T] = {}
        self._loaded = False
        self._loading = False
        self._failure: str | None = None

    # -- registering -----------------------------------------------------------------------------------------
    def add(self, name: str, item: T) -> T:
        """Register ``item`` under ``name``; the same item again is a no-op, another one under a taken name raises."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} needs a non-empty string name; got {name!r}")
        present = self._items.get(name)
        if present is not None and not self._same(present, item):
            raise NameTakenError(f"{self.kind} name {name!r} is already registered (by {_origin(present)}); "
                                f"{_origin(item)} cannot take it")
        if present is None:
            for hook in self._on_add:  # a validator that raises keeps the item out
                hook(name, item)
            self._items[name] = item
        return self._items[name]

    def on_add(self, hook: Callable[[str, T], None]) -> None:
        """Call ``hook(name, item)`` before each new item is registered (not for items already there); if it raises,
        the item is not registered and the error propagates (inside a load: the load fails, naming the module).
        Adding the same hook twice is a no-op."""
        if not any(h is hook for h in self._on_add):
            self._on_add.append(hook)

    def remove(self, name: str) -> T | None:
        """Unregister ``name`` (what a test or a session that registered it temporarily undoes); its item or None."""
        return self._items.pop(name, None)

    def on_load(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` after the registry has loaded (at once if it already has)."""
        self._after_load.append(hook)
        if self._loaded and self._failure is None:
            self._run_hook(hook)

    # -- loading ---------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Import the built-in modules and the entry points (once); raise if this or an earlier load failed."""
        if self._failure is not None:
            raise RegistryError(self._failure)
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for package in self.packages:
                modules: list[str] = []
                self._guard(f"importing package {package}", lambda p=package: modules.extend(public_modules(p)))
                for module in modules:
                    self._guard(f"importing module {module}", importlib.import_module, module)
            if self.group is not None:
                for ep in entry_points_of(self.group):
                    self._guard(f"loading entry point {ep.name} = {ep.value} (group {self.group})",
                                self._load_entry_point, ep)
            for hook in self._after_load:
                self._run_hook(hook)
        finally:
            self._loading = False
        self._loaded = True

    def _run_hook(self, hook: Callable[[], None]) -> None:
        self._guard(f"validating after load ({getattr(hook, '__qualname__', hook)})", hook)

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        obj = ep.load()
        if self._adopt is not None and not _is_module(obj):
            self._adopt(ep.name, obj)

    def _guard(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - remembered and re-raised on every later call
            self._failure = (f"the {self.kind} registry failed to load: {what} raised "
                             f"{type(exc).__name__}: {exc}")
            raise RegistryError(self._failure) from exc

    # -- reading ---------------------------------------------------------------------------------------------
    def get(self, name: str) -> T:
        """The item registered as ``name``; ``KeyError`` naming the known ones if there is none."""
        self.load()
        if name not in self._items:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._items))}")
        return self._items[name]

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self.load()
        return sorted(self._items)

    def items(self) -> dict[str, T]:
        """A copy of ``{name: item}`` after loading."""
        self.load()
        return dict(self._items)

    def registered(self) -> dict[str, T]:
        """What is registered so far, without loading (for validation hooks of another registry)."""
        return dict(self._items)

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    @property
    def loaded(self) -> bool:
        """Whether a load has finished successfully."""
        return self._loaded and self._failure is None

    @property
    def failure(self) -> str | None:
        """The message of the load that failed, or ``None``."""
        return self._failure

    # -- tests -----------------------------------------------------------------------------------------------
    def snapshot(self) -> RegistryState[T]:
        """The current state, for :meth:`restore` (tests that register or break things put the registry back)."""
        return RegistryState(dict(self._items), self._loaded, self._failure)

    def restore(self, state: RegistryState[T]) -> None:
        """Put back a state taken with :meth:`snapshot`."""
        self._items = dict(state.items)
        self._loaded = state.loaded
        self._failure = state.failure
        self._loading = False

    def __repr__(self) -> str:
        status = "failed" if self._failure else ("loaded" if self._loaded else "not loaded")
        return f"<Registry {self.kind}: {len(self._items)} items, {status}>"


def _is_module(obj: Any) -> bool:
    return isinstance(obj, types.ModuleType)


def _origin(item: Any) -> str:
    """Where an item comes from, for a name-clash message."""
    target = item if isinstance(item, type) else type(item)
    module = getattr(item, "__module__", None) or getattr(target, "__module__", "?")
    return f"{type(item).__name__} from {module}"
