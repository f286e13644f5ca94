"""The contract every synthetic model keeps: a known function plus the ground truth to judge explanations of it.

Conventions (all models):
- inputs are numpy ``float64`` arrays of shape ``[n, d]`` (images and token models are flattened; ``input_shape``
  says how to fold them back);
- ``predict`` is vectorised and returns ``[n]`` for one output or ``[n, k]`` for ``k`` outputs (then explainers
  need a ``target``);
- ``torch_module()`` returns an exact ``float64`` torch form of the same function (``[n, d] -> [n]`` or ``[n, k]``)
  built from *module* activations (``nn.ReLU``), so captum's DeepLift / LRP rules apply; ``None`` where none exists.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

import numpy as np

from .declarations import Declarations
from .targets import Target, select_column

if TYPE_CHECKING:  # torch is imported lazily: building a model must not pay torch's import time
    import torch

__all__ = [
    "Domain",
    "GroundTruth",
    "SyntheticModel",
    "FunctionModel",
    "as_batch",
    "SealedModel",
    "seal",
    "uniform_sampler",
    "binary_sampler",
]

Domain = Literal["binary", "continuous", "image", "tokens"]

#: Model forms an explainer may require; ``SyntheticModel.forms`` says which a model offers.
FORMS = ("callable", "torch", "tree", "linear", "sklearn", "text", "embedding")


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """What is known about a model's function, independent of any explainer.

    relevant / dummy: features the function does / does not depend on (``dummy`` = Sundararajan's sensitivity(b)
        sense: changing the feature never changes the output). ``relevant | dummy`` covers all features.
    symmetric_groups: groups of features the function treats interchangeably (f is invariant to swapping them).
    interactions: feature sets with a known non-additive interaction.
    formally_irrelevant: boolean models only: features in no abductive explanation (minimal sufficient reason),
        Huang & Marques-Silva 2023; ``None`` where not defined.
    mask: image models: boolean ``[d]`` mask of the patch the output depends on.
    token_weights: token models: the known weight of each feature.
    exact_attribution: optional closed form ``(x [n,d], baseline [d]|[n,d]) -> [n,d]`` where one exists.
    reference / reference_kind: a reference attribution of another kind than the Shapley value (a user's own closed
        form, ``(x [n,d], baseline [d]|[n,d]) -> [n,d]``) and the name of its kind: a truth axis of its own
        (``axioms.reference_agreement``), never averaged with the Shapley tracks.
    notes: free text shown in ``xaicheck list models``.
    """

    relevant: frozenset[int]
    dummy: frozenset[int] = frozenset()
    symmetric_groups: tuple[frozenset[int], ...] = ()
    interactions: tuple[frozenset[int], ...] = ()
    formally_irrelevant: frozenset[int] | None = None
    mask: np.ndarray | None = None
    token_weights: np.ndarray | None = None
    exact_attribution: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    reference: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    reference_kind: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if (self.reference is None) != (not self.reference_kind):
            raise ValueError("a declared reference needs both reference (a function) and reference_kind (its name); "
                             f"got reference={self.reference!r}, reference_kind={self.reference_kind!r}")

    def carries(self) -> list[str]:
        """Names of the kinds of ground truth this record holds (for listings)."""
        kinds = ["relevant"]
        if self.dummy:
            kinds.append("dummy")
        if self.symmetric_groups:
            kinds.append("symmetry")
        if self.interactions:
            kinds.append("interactions")
        if self.formally_irrelevant is not None:
            kinds.append("formal_relevance")
        if self.mask is not None:
            kinds.append("mask")
        if self.token_weights is not None:
            kinds.append("token_weights")
        if self.exact_attribution is not None:
            kinds.append("closed_form")
        if self.reference is not None:
            kinds.append(f"reference:{self.reference_kind}")
        return kinds


def as_batch(X: Any, n_features: int, *, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float64 ``[n, d]`` array, or raise a ``ValueError`` that quotes the problem."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_features:
        raise ValueError(f"Expected {name} of shape [n, {n_features}] but got shape {tuple(np.shape(X))}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Expected finite {name} but got {int((~np.isfinite(arr)).sum())} NaN/inf entries")
    return arr


class SyntheticModel(ABC):
    """A known function with its ground truth. Subclasses set the attributes and implement ``_predict``."""

    name: str
    family: str
    domain: Domain
    feature_names: tuple[str, ...]
    ground_truth: GroundTruth
    n_outputs: int = 1
    input_shape: tuple[int, ...] | None = None
    #: Which output a benchmark of this model explains (``targets.resolve_target``): ``None`` (one output), a column,
    #: or ``"predicted"`` (each row at its argmax, e.g. a classifier at its predicted class).
    explained_output: int | str | None = None
    #: What the model declares about the cases it joins (``synthetic_models.declarations``): suites, binary values,
    #: baselines, rows per suite. A built-in model declares no suite unless it says so.
    declarations: Declarations = Declarations()

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """f(X): ``[n, d] -> [n]`` (or ``[n, k]``), validated input, float64 output."""
        out = np.asarray(self._predict(as_batch(X, self.n_features)), dtype=np.float64)
        return out

    __call__ = predict

    def predict_target(self, X: np.ndarray, target: "Target" = None) -> np.ndarray:
        """The scalar output explained: ``f(X)``, its column ``target``, or row r's column ``target[r]``."""
        return select_column(self.predict(X), target, self.name)

    @abstractmethod
    def _predict(self, X: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws from the model's input distribution (used as background data)."""

    def torch_module(self) -> "torch.nn.Module | None":
        """An exact float64 torch form of ``predict`` with module activations, or ``None``."""
        return None

    @property
    def forms(self) -> frozenset[str]:
        """Which model forms this model offers (see ``FORMS``); explainers declare which one they need."""
        forms = {"callable"}
        if type(self).torch_module is not SyntheticModel.torch_module:
            forms.add("torch")
        if getattr(self, "sklearn_estimator", None) is not None:
            forms.add("sklearn")
            if getattr(self, "is_tree_model", False):
                forms.add("tree")
        if getattr(self, "linear_coefficients", None) is not None:
            forms.add("linear")
        if callable(getattr(self, "predict_text", None)):
            forms.add("text")
        return frozenset(forms)

    def spec(self) -> dict[str, Any]:
        """A JSON-serialisable description (used in counterexamples and listings)."""
        return {"name": self.name, "family": self.family, "d": self.n_features}

    def describe(self) -> dict[str, Any]:
        gt = self.ground_truth
        return {
            "name": self.name,
            "family": self.family,
            "domain": self.domain,
            "d": self.n_features,
            "outputs": self.n_outputs,
            "forms": ",".join(sorted(self.forms)),
            "ground_truth": ",".join(gt.carries()),
            "notes": gt.notes,
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} family={self.family} d={self.n_features}>"


Sampler = Callable[[int, np.random.Generator], np.ndarray]


def uniform_sampler(d: int, low: float = 0.0, high: float = 1.0) -> Sampler:
    return lambda n, rng: rng.uniform(low, high, size=(n, d))


def binary_sampler(d: int, p: float = 0.5) -> Sampler:
    return lambda n, rng: (rng.random(size=(n, d)) < p).astype(np.float64)


class FunctionModel(SyntheticModel):
    """A model from a vectorised numpy function, an optional torch factory and a sampler."""

    def __init__(
        self,
        name: str,
        family: str,
        fn: Callable[[np.ndarray], np.ndarray],
        feature_names: tuple[str, ...] | list[str],
        ground_truth: GroundTruth,
        *,
        domain: Domain = "continuous",
        sampler: Sampler | None = None,
        torch_factory: Callable[[], "torch.nn.Module"] | None = None,
        n_outputs: int = 1,
        input_shape: tuple[int, ...] | None = None,
        spec: Mapping[str, Any] | None = None,
        explained_output: int | str | None = None,
        declarations: Declarations | None = None,
    ) -> None:
        self.name = name
        self.family = family
        self._fn = fn
        self.feature_names = tuple(feature_names)
        self.ground_truth = ground_truth
        self.domain = domain
        d = len(self.feature_names)
        if declarations is not None:
            self.declarations = declarations
        if sampler is None and domain == "binary":
            bits, decl = binary_sampler(d), self.declarations
            sampler = bits if decl.domain_values == (0.0, 1.0) else (lambda n, rng: decl.corners(bits(n, rng)))
        self._sampler = sampler or uniform_sampler(d)
        self._torch_factory = torch_factory
        self.n_outputs = n_outputs
        self.input_shape = input_shape
        self.explained_output = explained_output
        self._spec = dict(spec or {})

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self._fn(X)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self._sampler(n, rng), dtype=np.float64)

    def torch_module(self) -> "torch.nn.Module | None":
        return None if self._torch_factory is None else self._torch_factory()

    @property
    def forms(self) -> frozenset[str]:
        forms = set(super().forms)
        if self._torch_factory is None:
            forms.discard("torch")
        else:
            forms.add("torch")
        return frozenset(forms)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), **self._spec}


#: What a sealed view passes through from the model unchanged (the callable's interface, never its ground truth).
_PASS_THROUGH = ("name", "domain", "feature_names", "n_outputs", "input_shape", "forms", "is_tree_model", "patches",
                 "gradcam_layer_name", "vocabulary", "attention_layers")
#: Methods of a text model an explainer may call (they only compute f on documents).
_TEXT_METHODS = ("predict_text", "vectorize", "render", "token_index")


class SealedModel:
    """What an explainer sees in the field: the callable, a fresh copy of the torch module, the fitted estimator or
    linear coefficients where that form exists, feature names, domain, output count. Never the ground truth, the
    case, a twin, a mask or token weights: those stay with the checks (issue 11).

    The full model is held only in closures, not as an attribute, so ``getattr`` finds nothing to read (a sealed view
    stops reading, not deliberate introspection of closures). ``torch_module()`` deep-copies on every call and the
    estimator is deep-copied once per view, so an explainer that edits weights or refits cannot touch a later cell;
    conversions such as ``.to(float64)`` then act on the copy, never on a user's module (issue 15).
    """

    def __init__(self, model: "SyntheticModel") -> None:
        for attr in _PASS_THROUGH:
            if hasattr(model, attr):
                value = getattr(model, attr)
                object.__setattr__(self, attr, tuple(value) if isinstance(value, list) else value)
        n_features = model.n_features
        # the name and feature names say nothing: a case's name tells its family, its padded dummies ("dummy3") and
        # which twin it is (issue 23); the view's name is opaque and per run, its features x0..x{d-1}
        object.__setattr__(self, "name", opaque_name(model.name))
        object.__setattr__(self, "feature_names", tuple(f"x{i}" for i in range(n_features)))
        predict = model.predict
        torch_factory = model.torch_module
        estimator_cache: list[Any] = []

        def _estimator() -> Any:
            if not estimator_cache:
                est = getattr(model, "sklearn_estimator", None)
                estimator_cache.append(None if est is None else copy.deepcopy(est))
            return estimator_cache[0]

        def _predict(X: np.ndarray) -> np.ndarray:
            return predict(np.array(as_batch(X, n_features)))  # a writable copy: the explainer's X is read-only

        def _torch_module() -> "torch.nn.Module | None":
            module = torch_factory()
            return None if module is None else copy.deepcopy(module)

        embedding_factory = getattr(model, "embedding_module", None)
        if callable(embedding_factory):  # token-id models: the network from its embedding layer on (fresh copy)
            object.__setattr__(self, "embedding_module", lambda: copy.deepcopy(embedding_factory()))
        object.__setattr__(self, "n_features", n_features)
        object.__setattr__(self, "_predict", _predict)
        object.__setattr__(self, "_torch_module", _torch_module)
        object.__setattr__(self, "_estimator", _estimator)
        object.__setattr__(self, "_raw_estimator", lambda: getattr(model, "sklearn_estimator", None))
        coef = getattr(model, "linear_coefficients", None)
        if coef is not None:
            w, b = coef
            w = np.array(w, dtype=np.float64)
            w.setflags(write=False)
            object.__setattr__(self, "linear_coefficients", (w, float(b)))
        for meth in _TEXT_METHODS:
            if callable(getattr(model, meth, None)):
                object.__setattr__(self, meth, _closure(getattr(model, meth)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a sealed model is read-only (tried to set {name!r})")

    def manifest(self) -> dict[str, Any]:
        """What crosses to the field process (``explainers._field``): the pass-through attributes, the pickled torch
        module and estimator where those forms exist, linear coefficients, which text methods exist. Numbers and
        library objects only: no function of this process (``predict`` is answered by a call back)."""
        attributes = {attr: getattr(self, attr) for attr in _PASS_THROUGH if attr in self.__dict__}
        coef = self.__dict__.get("linear_coefficients")
        return {
            "attributes": attributes,
            "n_features": self.n_features,
            "forms": tuple(sorted(self.forms)),
            "linear_coefficients": None if coef is None else (np.array(coef[0]), coef[1]),
            "text_methods": tuple(m for m in _TEXT_METHODS if m in self.__dict__),
            "embedding": "embedding_module" in self.__dict__,
        }

    def pickled_torch_module(self) -> bytes | None:
        """The torch module, pickled (``cloudpickle``): sent to the field process when an explainer first asks."""
        import cloudpickle

        module = self._torch_module()
        return None if module is None else cloudpickle.dumps(module)

    def pickled_embedding_module(self) -> bytes | None:
        """A token-id model's network from its embedding layer on, pickled (``None`` where none exists)."""
        import cloudpickle

        factory = self.__dict__.get("embedding_module")
        return None if factory is None else cloudpickle.dumps(factory())

    def pickled_estimator(self) -> bytes | None:
        """The fitted estimator, pickled: its bytes are the copy (no deep copy in this process)."""
        import cloudpickle

        est = self._raw_estimator()
        return None if est is None else cloudpickle.dumps(est)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """f(X) as the model computes it."""
        return np.asarray(self._predict(X), dtype=np.float64)

    __call__ = predict

    def predict_target(self, X: np.ndarray, target: "Target" = None) -> np.ndarray:
        """The scalar output explained: ``f(X)``, its only column, its column ``target``, or row r's ``target[r]``."""
        return select_column(self.predict(X), target, self.name)

    def torch_module(self) -> "torch.nn.Module | None":
        """A fresh deep copy of the model's torch module (``None`` where none exists)."""
        return self._torch_module()

    @property
    def sklearn_estimator(self) -> Any:
        """A private copy of the fitted scikit-learn (or boosting) estimator, or ``None``."""
        return self._estimator()

    def __repr__(self) -> str:
        return f"<SealedModel {getattr(self, 'name', '?')!r} d={self.n_features}>"


def _closure(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` behind a plain function (no ``__self__`` leading back to the model)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    call.__doc__ = method.__doc__
    return call


#: Per process (and inherited by its forks: one run shares it), never written anywhere: the opaque names of a run
#: cannot be computed from the public model names by anyone outside it.
_NAME_SALT = os.urandom(16)


#: Opaque name -> real name, in the exam process only (messages that go into the record name the real model).
_REAL_NAMES: dict[str, str] = {}
_OPAQUE = re.compile(r"model_[0-9a-f]{10}")


def opaque_name(name: str) -> str:
    """The per-run opaque name a sealed view shows for a model named ``name`` (``model_`` and 10 hex digits)."""
    opaque = "model_" + hashlib.blake2b(name.encode(), key=_NAME_SALT, digest_size=5).hexdigest()
    _REAL_NAMES[opaque] = name
    return opaque


def reveal(text: str) -> str:
    """``text`` with every opaque model name this process made replaced by the model's real name."""
    return _OPAQUE.sub(lambda m: _REAL_NAMES.get(m.group(0), m.group(0)), text)


def seal(model: "SyntheticModel | SealedModel") -> SealedModel:
    """The sealed view of ``model`` an explainer receives (idempotent)."""
    return model if isinstance(model, SealedModel) else SealedModel(model)
