"""The contract every explainer keeps, and the registry that finds them by name.

``explain(model, X, *, baseline, background, target, seed) -> ndarray[n, d]`` (global explainers: ``[1, d]``).

Conventions:
- The baseline is always explicit: an explainer with ``uses_baseline`` raises ``MissingInputError`` when it gets none;
  nothing defaults silently to zero. Likewise ``background`` for ``uses_background``.
- Attributions explain the scalar output ``model.predict_target(X, target)``; positive = pushes the output up.
- Stochastic explainers are reproducible for a given ``seed``; sample budgets live in ``settings`` and are recorded.
- The output is validated (shape, finiteness); a violation raises ``ExplainerOutputError`` naming the explainer.
"""

from __future__ import annotations

import importlib.metadata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

import numpy as np

from xaicheck._version import __version__ as _XAICHECK_VERSION
from xaicheck.core.errors import ExplainerError, ExplainerOutputError, MissingInputError
from xaicheck.core.registry import Registry
from xaicheck.synthetic_models.base import SealedModel, as_batch, reveal, seal
from xaicheck.synthetic_models.targets import by_target, is_per_row

from . import _attribution_cache, _field
from ._patches import explain_by_patches, players, uses_patches

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = [
    "Family",
    "Capabilities",
    "Explainer",
    "FunctionExplainer",
    "ExplainerError",
    "ExplainerOutputError",
    "MissingInputError",
    "ExpectedFailure",
    "EXPLAINERS",
    "ENTRY_POINT_GROUP",
    "register",
    "explainer",
    "get_explainer",
    "explainer_names",
    "all_explainers",
]

Family = Literal[
    "gradient", "path", "perturbation", "shapley", "surrogate", "tree", "global", "control", "oracle", "user"
]
Requirement = Literal["callable", "torch", "tree", "linear", "sklearn", "text", "embedding"]

# ExplainerError, ExplainerOutputError and MissingInputError are defined in ``xaicheck.core.errors`` (the axioms and
# benchmarks layers catch them) and re-exported here, their public home (``from xaicheck import ExplainerError``).


@dataclass(frozen=True)
class Capabilities:
    """Tags from which applicability follows (never from names).

    requires: the model form the explainer needs (``SyntheticModel.forms``).
    uses_baseline / uses_background: which reference the explainer takes.
    scope: ``local`` (one attribution per row) or ``global`` (one importance vector, shape ``[1, d]``).
    stochastic: results depend on ``seed``.
    multiplies_by_input: attributions scale with ``x - baseline`` (captum's ``multiplies_by_inputs``).
    max_features: the largest number of input features the explainer can handle (e.g. an exact enumeration's
    ``2^d`` limit); a larger model is not applicable, with the reason, instead of an error.
    """

    requires: Requirement = "callable"
    uses_baseline: bool = False
    uses_background: bool = False
    scope: Literal["local", "global"] = "local"
    stochastic: bool = False
    multiplies_by_input: bool = False
    max_features: int | None = None
    #: ``0``: one attribution per feature (``[n, d]``); ``k >= 1``: an interaction explainer, one value per feature
    #: subset of size ``1..k`` (``[n, M(d, k)]``, ``synthetic_models.interaction_subsets``), judged by the
    #: interaction checks only (``Check.interactions``).
    interaction_order: int = 0

    def as_tags(self) -> list[str]:
        tags = [f"requires:{self.requires}", self.scope]
        tags += [t for t, on in (("baseline", self.uses_baseline), ("background", self.uses_background),
                                  ("stochastic", self.stochastic), ("x_input", self.multiplies_by_input)) if on]
        if self.interaction_order:
            tags += ["interaction", f"order:{self.interaction_order}"]
        return tags


@dataclass(frozen=True)
class ExpectedFailure:
    """A known axiom violation an explainer declares: ``check`` (optionally one ``case``), with reason and citation."""

    check: str
    reason: str
    case: str | None = None

    def matches(self, check: str, case: str) -> bool:
        return self.check == check and (self.case is None or self.case == case)


class Explainer(ABC):
    """Base class: subclasses set the class attributes and implement ``_explain``."""

    name: str
    family: Family
    library: str = "xaicheck"
    capabilities: Capabilities = Capabilities()
    settings: Mapping[str, Any] = {}
    expected_failures: tuple[ExpectedFailure, ...] = ()
    description: str = ""

    @property
    def library_version(self) -> str:
        if self.library in ("xaicheck", "user"):
            return _XAICHECK_VERSION  # the one version source (xaicheck/_version.py), installed or not
        dist = DISTRIBUTIONS.get(self.library, self.library)
        return importlib.metadata.version(dist) if _installed(dist) else "not installed"

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        """Whether this explainer can run on ``model`` (from tags), and why not."""
        need = self.capabilities.requires
        if need not in model.forms:
            return False, f"{self.name} needs a {need} model; {model.name} offers {', '.join(sorted(model.forms))}"
        limit = self.capabilities.max_features
        # a black box on a model with declared patches plays the patches (explainers/_patches.py)
        d = players(self, model)
        if limit is not None and d > limit:
            return False, f"{self.name} handles at most {limit} features (max_features); {model.name} has {d}"
        return True, ""

    def explain(
        self,
        model: "SyntheticModel",
        X: np.ndarray,
        *,
        baseline: np.ndarray | None = None,
        background: np.ndarray | None = None,
        target: "int | np.ndarray | None" = None,
        seed: int = 0,
    ) -> np.ndarray:
        """Attributions ``[n, d]`` (``[1, d]`` for global explainers) for ``model`` at the rows of ``X``.

        ``target``: the explained output column, or one column per row (``synthetic_models.targets``: the rows are
        explained in groups sharing a column).

        The explainer receives what it would have in the field: a sealed view of ``model`` (``seal``: no ground
        truth, a fresh torch module per call, a private copy of a fitted estimator) and its own read-only copies of
        ``X``, ``baseline`` and ``background``, so it cannot affect any later cell (issues 11, 17). ``_explain``
        runs in a field process that holds nothing else (``explainers._field``, issue 23): no truth, case or check
        is reachable from it by any route, and what it sends back is decoded as plain data.
        """
        X = _private(as_batch(X, model.n_features))
        caps = self.capabilities
        if caps.uses_baseline and baseline is None:
            raise MissingInputError(f"{self.name} uses a baseline and none was given (no silent zero default)")
        if caps.uses_background and background is None:
            raise MissingInputError(f"{self.name} uses background data and none was given")
        if baseline is not None:
            baseline = _private(np.broadcast_to(np.asarray(baseline, dtype=np.float64), X.shape))
        if background is not None:
            background = _private(as_batch(background, model.n_features, name="background"))
        if model.n_outputs > 1 and target is None:
            raise MissingInputError(f"{self.name}: model {model.name} has {model.n_outputs} outputs; give a target")
        first = _attribution_cache.take_first()  # a run's cells share their first question's answer (module doc)
        if is_per_row(target):
            return self._explain_per_row(model, X, baseline, background, target, seed)
        key = None
        if first:
            try:
                key = _attribution_cache.key_for(self, model, X, baseline, background, target, seed)
            except Exception:  # noqa: BLE001 - a model the probe cannot evaluate is simply not shared
                key = None
        if key is not None:
            stored = _attribution_cache.load(key, self.output_shape(X.shape))
            if stored is not None:
                return stored
        try:
            if uses_patches(self, model):  # the patches are the players (explainers/_patches.py)
                out = explain_by_patches(self, model, X, baseline, background, target, seed, ask=self._ask)
            else:
                out = self._ask(model, X, baseline=baseline, background=background, target=target, seed=seed)
        except _field.FieldError as exc:
            raise ExplainerError(f"{self.name} failed on {model.name}: {exc}") from exc
        except ExplainerError as exc:
            _rename(exc)
            raise
        except ValueError as exc:
            text = reveal(str(exc))
            if "read-only" in text:
                raise ExplainerError(f"{self.name} wrote into its input on {model.name} (X, baseline and background "
                                     f"are read-only): {text}") from exc
            raise ExplainerError(f"{self.name} failed on {model.name}: {type(exc).__name__}: {text}") from exc
        except Exception as exc:
            text = reveal(str(exc))
            raise ExplainerError(f"{self.name} failed on {model.name}: {type(exc).__name__}: {text}") from exc
        arr = self._validate(out, X.shape)
        if key is not None:
            _attribution_cache.store(key, arr)
        return arr

    def _ask(self, model: Any, X: np.ndarray, *, baseline: np.ndarray | None, background: np.ndarray | None,
             target: Any, seed: int) -> Any:
        """``_explain`` on the sealed view of ``model``, in the field process (``explainers._field``; inline only
        under ``XAICHECK_FIELD=inline``)."""
        if _field.field_mode() == "inline":
            # a fresh view per question, as the field gives one estimator copy per question: what one explainer
            # does to its copy (a refit) never reaches the next
            view = model if isinstance(model, SealedModel) else seal(model)
            return self._explain(view, X, baseline=baseline, background=background, target=target, seed=seed)
        return _field.explain_in_field(self, sealed_view(model), X, baseline=baseline, background=background, target=target,
                                       seed=seed)

    def _explain_per_row(self, model: "SyntheticModel", X: np.ndarray, baseline: np.ndarray | None,
                         background: np.ndarray | None, target: Any, seed: int) -> np.ndarray:
        """A per-row target (``synthetic_models.targets``): each group of rows sharing a column is explained at that
        column (same seed, same background), and the rows are put back in order. Local explainers only."""
        if self.capabilities.scope == "global":
            raise ExplainerError(f"{self.name} is global (one importance vector): it cannot explain each row at its "
                                 f"own target")
        try:
            groups = list(by_target(target, X.shape[0]))
        except ValueError as exc:
            raise MissingInputError(f"{self.name}: {exc}") from exc
        out = np.zeros(X.shape)
        for t, idx in groups:
            out[idx] = self.explain(model, X[idx], baseline=None if baseline is None else baseline[idx],
                                    background=background, target=t, seed=seed)
        return out

    @abstractmethod
    def _explain(
        self,
        model: "SyntheticModel",
        X: np.ndarray,
        *,
        baseline: np.ndarray | None,
        background: np.ndarray | None,
        target: int | None,
        seed: int,
    ) -> np.ndarray: ...

    def output_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        """The shape of the answer for inputs of ``shape`` ``(n, d)``: ``(n, d)``, ``(1, d)`` for a global explainer
        (an interaction explainer: one column per subset, ``explainers.interaction_base``)."""
        n, d = shape
        return (1, d) if self.capabilities.scope == "global" else (n, d)

    def _validate(self, out: Any, shape: tuple[int, int]) -> np.ndarray:
        from ._output import to_real_array

        arr = np.array(to_real_array(out, self.name, ExplainerOutputError))  # a fresh, writable array the caller owns
        d = shape[1]
        expected = self.output_shape(shape)
        if arr.shape == (d,) and expected[0] == 1:
            arr = arr[None, :]
        if arr.shape != expected:
            raise ExplainerOutputError(f"{self.name} returned shape {arr.shape}; expected {expected}")
        if not np.all(np.isfinite(arr)):
            raise ExplainerOutputError(f"{self.name} returned {int((~np.isfinite(arr)).sum())} non-finite values")
        return arr

    def enumeration_limit(self) -> int | None:
        """The ``d`` at which this explainer's exact ``2^d`` enumeration stops (default: ``max_features``), else
        ``None`` (a budgeted or gradient method): what the report calls a method that does not scale
        (``benchmarks/recommend.py``)."""
        return self.capabilities.max_features

    def describe(self) -> dict[str, Any]:
        limit = self.enumeration_limit()
        return {
            "name": self.name,
            "library": self.library,
            "version": self.library_version,
            "family": self.family,
            "tags": ",".join(self.capabilities.as_tags()),
            "settings": ",".join(f"{k}={v}" for k, v in sorted(self.settings.items())),
            "enumerates_up_to": "" if limit is None else int(limit),
        }

    def __repr__(self) -> str:
        return f"<Explainer {self.name!r} ({self.library}, {self.family})>"


#: The sealed view of each model this process has shown an explainer: one view per model, so the field process
#: receives a model's manifest once (bounded; the oldest is dropped first).
_VIEWS: dict[int, tuple[Any, SealedModel]] = {}
MAX_VIEWS = 512


def sealed_view(model: Any) -> SealedModel:
    """The sealed view of ``model`` (``synthetic_models.base.seal``), the same object for the same model."""
    if isinstance(model, SealedModel):
        return model
    entry = _VIEWS.get(id(model))
    if entry is not None and entry[0] is model:
        return entry[1]
    view = seal(model)
    _VIEWS[id(model)] = (model, view)
    if len(_VIEWS) > MAX_VIEWS:
        _VIEWS.pop(next(iter(_VIEWS)))
    return view


def applicability(explainer: "Explainer", model: Any) -> tuple[bool, str]:
    """``explainer.can_explain`` asked of the sealed view of ``model`` (an explainer's code never receives the model
    itself, not even to say whether it applies); the reason names the model by its real name."""
    view = sealed_view(model)
    ok, why = explainer.can_explain(view)
    return ok, reveal(why)


def _rename(exc: BaseException) -> None:
    """Put the models' real names back into an error the explainer raised (its messages go into the record, and the
    opaque names change from run to run)."""
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (reveal(exc.args[0]), *exc.args[1:])


def _private(arr: np.ndarray) -> np.ndarray:
    """A read-only copy of ``arr``: the explainer's own, and a write into it fails loudly."""
    out = np.array(arr, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


def has_image_shape(model: Any) -> bool:
    """Whether ``model.input_shape`` is an image's ``(C, H, W)`` that flattens to its ``n_features``."""
    shape = getattr(model, "input_shape", None)
    return shape is not None and len(shape) == 3 and int(np.prod(shape)) == model.n_features


#: Libraries whose installed distribution has another name than the library (``library_version`` looks it up).
DISTRIBUTIONS: dict[str, str] = {"interpret": "interpret-core"}


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.version(dist)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


ExplainFn = Callable[..., np.ndarray]


class FunctionExplainer(Explainer):
    """An explainer from a plain function ``fn(model, X, *, baseline, background, target, seed) -> [n, d]``."""

    def __init__(
        self,
        fn: ExplainFn,
        name: str,
        *,
        family: Family = "user",
        library: str = "user",
        capabilities: Capabilities = Capabilities(),
        settings: Mapping[str, Any] | None = None,
        expected_failures: tuple[ExpectedFailure, ...] = (),
        description: str = "",
    ) -> None:
        self._fn = fn
        self.name = name
        self.family = family
        self.library = library
        self.capabilities = capabilities
        self.settings = dict(settings or {})
        self.expected_failures = tuple(expected_failures)
        self.description = description or (fn.__doc__ or "").strip().split("\n")[0]

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        return self._fn(model, X, baseline=baseline, background=background, target=target, seed=seed)


#: The entry-point group of third-party explainers: an entry point names an ``Explainer`` instance (registered
#: under its own name) or a module whose import registers its explainers.
ENTRY_POINT_GROUP = "xaicheck.explainers"


def _adopt(name: str, obj: Any) -> None:
    if not isinstance(obj, Explainer):
        raise TypeError(f"entry point {name!r} of {ENTRY_POINT_GROUP} must name an Explainer instance or a module; "
                        f"got {obj!r}")
    register(obj)


#: Explainers by name: the public modules of this package (one adapter module per library: discovery, not a
#: hand-kept list) and the ``xaicheck.explainers`` entry points (``xaicheck.core.registry.Registry``).
EXPLAINERS: Registry[Explainer] = Registry("explainer", packages=(__package__,), group=ENTRY_POINT_GROUP,
                                           adopt=_adopt)


def register(obj: Explainer) -> Explainer:
    """Register an ``Explainer`` instance under its name; returns it (usable as a class-instance decorator).

    The same instance again is a no-op; another explainer under a taken name raises ``RegistryError``.
    """
    if isinstance(obj, Explainer):
        return EXPLAINERS.add(obj.name, obj)
    raise TypeError(f"register() takes an Explainer instance; got {obj!r} (decorate functions with @explainer)")


def explainer(
    name: str,
    *,
    family: Family = "user",
    capabilities: Capabilities = Capabilities(),
    settings: Mapping[str, Any] | None = None,
    expected_failures: tuple[ExpectedFailure, ...] = (),
    library: str = "user",
) -> Callable[[ExplainFn], FunctionExplainer]:
    """Decorator: turn a plain ``explain``-signature function into a registered explainer.

    >>> @explainer("my_grad", capabilities=Capabilities(requires="torch"))
    ... def my_grad(model, X, *, baseline, background, target, seed): ...
    """

    def decorate(fn: ExplainFn) -> FunctionExplainer:
        exp = FunctionExplainer(fn, name, family=family, library=library, capabilities=capabilities,
                                settings=settings, expected_failures=expected_failures)
        register(exp)
        return exp

    return decorate


def get_explainer(name: str) -> Explainer:
    """The explainer registered as ``name``; ``KeyError`` naming the known ones if none is."""
    return EXPLAINERS.get(name)


def explainer_names() -> list[str]:
    """Every registered explainer name, sorted."""
    return EXPLAINERS.names()


def all_explainers() -> list[Explainer]:
    """Every registered explainer, in ``explainer_names()`` order."""
    return [get_explainer(n) for n in explainer_names()]
