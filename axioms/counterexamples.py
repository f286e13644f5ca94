"""Minimal counterexamples: search a model family with hypothesis and report the shrunk violation.

A check that has a model family exposes

    search_space(case=None) -> SearchStrategy[Example]      (model, x, baseline[, twin])
    violation(explainer, example) -> Counterexample | None  (the axiom's verdict on one example)
    violates(explainer, example) -> bool                    (``violation(...) is not None``)

and ``find_counterexample(check, explainer, budget)`` runs ``hypothesis.find`` over that space. ``find`` returns the
*shrunk* (minimal) example; we never write a shrinker. Models are drawn with small integer weights so the shrunk
example reads like a hand-made one, e.g. ``saliency on f(x)=relu(x0): x=[0], baseline=[1], ...``.

The model families here are small one- or two-layer ReLU networks (numpy and exact float64 torch forms), boolean
functions as exact ReLU networks on {0,1}^d (one unit per true minterm), and the Sundararajan et al. (2017) pair of
functionally equivalent networks ``relu(w1 relu(x0) - t - w2 relu(x1))`` / ``relu(w1 relu(x0 - t/w1) - w2 relu(x1))``;
and, from the shared ``xaicheck.synthetic_models.strategies`` (the issue's "random boolean functions, random ReLU networks with
random equivalence transforms, random linear models"): ``random_booleans`` (random truth tables, optional dummies),
``random_mlps`` x ``random_twins`` (random MLPs and a random composition of equivalence transforms) and
``random_linears``. Every model drawn there re-builds from its ``spec()`` with ``strategies.build_from_spec``, so a
counterexample's ``model_spec`` can be re-run.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Protocol, Sequence

import numpy as np
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

from . import _search_cache
from .base import Case, Counterexample, get_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = [
    "SEARCH_BUDGET",
    "MAX_PREDICATE_CALLS",
    "SKIPPED_FAMILIES",
    "Example",
    "Searchable",
    "mlp_model",
    "relu_nets",
    "boolean_nets",
    "equivalent_pairs",
    "random_booleans",
    "random_mlps",
    "random_twins",
    "random_linears",
    "model_formula",
    "small_floats",
    "small_ints",
    "bit_lists",
    "search_skip_reason",
    "find_counterexample",
    "counterexample_for",
]

#: Examples hypothesis generates per search when a cell fails (shrinking comes on top, bounded below); read at
#: call time, so setting it to 0 turns the search off (failed cells then carry their own worst row).
SEARCH_BUDGET = 15
#: Hard bound on predicate calls (generation + shrinking) so a search stays within a cell's time; once reached,
#: shrinking stops and the smallest violation found so far is returned (deterministic: calls are counted).
MAX_PREDICATE_CALLS = 30
#: Families whose explain call is too slow or too noisy to search over (decided by tags, never by name).
SKIPPED_FAMILIES = frozenset({"surrogate", "global"})

Layers = Sequence[tuple[np.ndarray, np.ndarray]]


class Example(NamedTuple):
    """One point of a search space: a model, one input row, one baseline row and (optionally) a twin model."""

    model: FunctionModel
    x: np.ndarray
    baseline: np.ndarray
    twin: FunctionModel | None = None


class Searchable(Protocol):
    name: str

    def search_space(self, case: Case | None = None) -> st.SearchStrategy[Example]: ...

    def violation(self, explainer: "Explainer", example: Example) -> Counterexample | None: ...


# --------------------------------------------------------------------------------------------- model builders
def _forward(layers: Layers, X: np.ndarray) -> np.ndarray:
    h = X
    for k, (W, b) in enumerate(layers):
        h = h @ W.T + b
        if k < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h[:, 0]


def _torch_factory(layers: Layers) -> Callable[[], Any]:
    def build() -> Any:
        import torch
        from torch import nn

        mods: list[nn.Module] = []
        for k, (W, b) in enumerate(layers):
            lin = nn.Linear(W.shape[1], W.shape[0]).double()
            with torch.no_grad():
                lin.weight.copy_(torch.as_tensor(W, dtype=torch.float64))
                lin.bias.copy_(torch.as_tensor(b, dtype=torch.float64))
            mods += [lin] if k == len(layers) - 1 else [lin, nn.ReLU()]
        return nn.Sequential(*mods, nn.Flatten(start_dim=0)).eval()

    return build


def mlp_model(layers: Layers, formula: str, *, domain: str = "continuous", name: str = "search_model",
              ground_truth: GroundTruth | None = None) -> FunctionModel:
    """A ReLU MLP (ReLU after every layer but the last) as a model with numpy and torch forms.

    ``layers`` = ``[(W [out, in], b [out]), ...]``; the last layer has one output. ``formula`` is the readable
    form used in counterexample lines.
    """
    layers = [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)) for W, b in layers]
    d = layers[0][0].shape[1]
    if layers[-1][0].shape[0] != 1:
        raise ValueError(f"the last layer must have one output; got shape {layers[-1][0].shape}")
    if ground_truth is None:  # a feature is dummy when no first-layer weight reads it
        used = np.flatnonzero(np.any(layers[0][0] != 0, axis=0))
        ground_truth = GroundTruth(relevant=frozenset(int(i) for i in used),
                                   dummy=frozenset(range(d)) - frozenset(int(i) for i in used))
    spec = {"formula": formula, "layers": [[W.tolist(), b.tolist()] for W, b in layers]}
    return FunctionModel(name, "search", lambda X: _forward(layers, X), [f"x{i}" for i in range(d)],
                         ground_truth, domain=domain,  # type: ignore[arg-type]
                         torch_factory=_torch_factory(layers), spec=spec)


def _affine(w: np.ndarray, b: float) -> str:
    terms = [("" if c == 1 else "-" if c == -1 else f"{c:g}*") + f"x{i}" for i, c in enumerate(w) if c != 0]
    if b != 0 or not terms:
        terms.append(f"{b:g}")
    return " + ".join(terms).replace("+ -", "- ")


def _one_layer_formula(W: np.ndarray, b: np.ndarray, v: np.ndarray, c: float) -> str:
    terms = [("" if vk == 1 else "-" if vk == -1 else f"{vk:g}*") + f"relu({_affine(W[k], b[k])})"
             for k, vk in enumerate(v) if vk != 0]
    if c != 0 or not terms:
        terms.append(f"{c:g}")
    return "f(x)=" + " + ".join(terms).replace("+ -", "- ")


@lru_cache(maxsize=None)
def small_floats(lo: int = -3, hi: int = 3) -> st.SearchStrategy[float]:
    """Integers in ``[lo, hi]`` as floats: shrink towards 0 and print readably (cached: strategies are built once,
    which keeps hypothesis' per-draw validation cost out of the search)."""
    return st.integers(lo, hi).map(float)


@lru_cache(maxsize=None)
def small_ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


@lru_cache(maxsize=None)
def bit_lists(n: int) -> st.SearchStrategy[list[bool]]:
    return st.lists(st.booleans(), min_size=n, max_size=n)


def relu_nets(d: int = 1, max_hidden: int = 2, dummy: int | None = None,
              symmetric: tuple[int, int] | None = None) -> st.SearchStrategy[FunctionModel]:
    """``f(x) = sum_k v_k relu(W_k x + b_k) + c`` with small integer weights (see ``_relu_nets``); cached."""
    return _relu_nets(d, max_hidden, dummy, symmetric)


@lru_cache(maxsize=None)
def _relu_nets(d: int, max_hidden: int, dummy: int | None, symmetric: tuple[int, int] | None
               ) -> st.SearchStrategy[FunctionModel]:
    return _relu_net_draw(d=d, max_hidden=max_hidden, dummy=dummy, symmetric=symmetric)


@st.composite
def _relu_net_draw(draw: st.DrawFn, d: int = 1, max_hidden: int = 2, dummy: int | None = None,
              symmetric: tuple[int, int] | None = None) -> FunctionModel:
    """``f(x) = sum_k v_k relu(W_k x + b_k) + c`` with small integer weights.

    ``dummy``: that feature's column of ``W`` is zero. ``symmetric``: those two columns of ``W`` are equal.
    """
    h = draw(small_ints(1, max_hidden))
    W = np.array([[draw(small_floats(-2, 2)) for _ in range(d)] for _ in range(h)])
    if dummy is not None:
        W[:, dummy] = 0.0
    if symmetric is not None:
        W[:, symmetric[1]] = W[:, symmetric[0]]
    b = np.array([draw(small_floats(-2, 2)) for _ in range(h)])
    v = np.array([draw(small_floats(-2, 2)) for _ in range(h)])
    c = draw(small_floats(-2, 2))
    return mlp_model([(W, b), (v[None, :], np.array([c]))], _one_layer_formula(W, b, v, c))


@lru_cache(maxsize=None)
def boolean_nets(min_d: int = 2, max_d: int = 3) -> st.SearchStrategy[FunctionModel]:
    """Boolean functions of ``min_d..max_d`` variables as exact ReLU nets (see ``_boolean_net_draw``); cached."""
    return _boolean_net_draw(min_d, max_d)


@st.composite
def _boolean_net_draw(draw: st.DrawFn, min_d: int = 2, max_d: int = 3) -> FunctionModel:
    """A boolean function from its truth table, as an exact ReLU net: one unit ``relu(x.m - |m| + 1)`` per true
    minterm ``m`` (with ``x.m = sum_{m_i=1} x_i - sum_{m_i=0} x_i``), summed; exact on {0,1}^d."""
    d = draw(small_ints(min_d, max_d))
    table = draw(bit_lists(1 << d))
    minterms = [[(code >> (d - 1 - i)) & 1 for i in range(d)] for code, on in enumerate(table) if on]
    if minterms:
        W = np.array([[1.0 if bit else -1.0 for bit in m] for m in minterms])
        b = np.array([1.0 - sum(m) for m in minterms])
    else:
        W, b = np.zeros((1, d)), np.zeros(1)
    v = np.ones((1, W.shape[0])) if minterms else np.zeros((1, 1))
    ones = ["".join(str(bit) for bit in m) for m in minterms]
    formula = f"f(x)=1 iff x in {{{', '.join(ones)}}}" if ones else "f(x)=0"
    return mlp_model([(W, b), (v, np.zeros(1))], formula, domain="binary")


@lru_cache(maxsize=None)
def equivalent_pairs() -> st.SearchStrategy[tuple[FunctionModel, FunctionModel]]:
    """Sundararajan-style equivalent pairs (see ``_equivalent_pair_draw``); cached."""
    return _equivalent_pair_draw()


@st.composite
def _equivalent_pair_draw(draw: st.DrawFn) -> tuple[FunctionModel, FunctionModel]:
    """Sundararajan et al. 2017's functionally equivalent pair, generalised (``w1, w2, t`` in {1, 2}):
    ``f1 = relu(w1 relu(x0) - w2 relu(x1) - t)`` and ``f2 = relu(w1 relu(x0 - t/w1) - w2 relu(x1))``."""
    w1, w2, t = (draw(small_floats(1, 2)) for _ in range(3))
    eye, head = np.eye(2), (np.array([[1.0]]), np.zeros(1))
    mid = np.array([[w1, -w2]])
    f1 = mlp_model([(eye, np.zeros(2)), (mid, np.array([-t])), head],
                   f"f(x)=relu({w1:g}*relu(x0) - {w2:g}*relu(x1) - {t:g})")
    f2 = mlp_model([(eye, np.array([-t / w1, 0.0])), (mid, np.zeros(1)), head],
                   f"f(x)=relu({w1:g}*relu(x0 - {t / w1:g}) - {w2:g}*relu(x1))")
    return f1, f2


@lru_cache(maxsize=None)
def random_booleans(max_vars: int = 2, dummies: bool = True) -> st.SearchStrategy[Any]:
    """``strategies.boolean_models``: a random truth table on 1..max_vars variables plus 0..2 dummies (cached)."""
    from xaicheck.synthetic_models.strategies import boolean_models

    return boolean_models(max_vars=max_vars, dummies=dummies)


@lru_cache(maxsize=None)
def random_mlps(max_inputs: int = 2, max_hidden: int = 3, max_layers: int = 2) -> st.SearchStrategy[Any]:
    """``strategies.mlp_models``: random ReLU MLPs with weights in {-2, -1.5, .., 2} (cached)."""
    from xaicheck.synthetic_models.strategies import mlp_models

    return mlp_models(max_inputs=max_inputs, max_hidden=max_hidden, max_layers=max_layers)


@lru_cache(maxsize=None)
def random_twins(max_transforms: int = 2) -> st.SearchStrategy[tuple[Any, Any]]:
    """``(source, twin)``: a random MLP and an equal function from 1..max_transforms random equivalence transforms
    (``strategies.equivalent_twins``: permuted / rescaled / split units, dead or cancelling units, identity layers,
    folded biases, functional ReLU)."""
    from xaicheck.synthetic_models.strategies import equivalent_twins

    @st.composite
    def pairs(draw: st.DrawFn) -> tuple[Any, Any]:
        source = draw(random_mlps())
        return source, draw(equivalent_twins(source, max_transforms=max_transforms))

    return pairs()


@lru_cache(maxsize=None)
def random_linears(max_features: int = 3) -> st.SearchStrategy[Any]:
    """``strategies.linear_models``: ``w.x + b`` with halves in [-2, 2] (cached)."""
    from xaicheck.synthetic_models.strategies import linear_models

    return linear_models(max_features=max_features)


def _mlp_formula(layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> str:
    """``relu(...)`` formula of an MLP: one hidden layer as a readable sum, deeper ones layer by layer."""
    if len(layers) == 2 and layers[1][0].shape[0] == 1:
        (W, b), (v, c) = layers
        return _one_layer_formula(np.asarray(W), np.asarray(b), np.asarray(v)[0], float(np.asarray(c)[0]))
    text = "x"
    for k, (W, b) in enumerate(layers):
        text = f"{np.asarray(W).tolist()} {text} + {np.asarray(b).tolist()}"
        text = f"relu({text})" if k < len(layers) - 1 else text
    return "f(x)=" + text


def model_formula(model: Any) -> str:
    """The readable form of a model in a counterexample line: its ``formula``, else its network, else its name;
    with the equivalence transforms for a twin."""
    spec = model.spec()
    drawn = str(getattr(model, "family", "")).startswith("random")  # registry models keep their (short) names
    if "formula" in spec:
        text = str(spec["formula"])
        text = text if text.startswith("f(x)=") or not drawn else f"f(x)={text}"  # e.g. f(x)=table[x0](10)
    elif not drawn:
        text = model.name
    elif spec.get("kind") == "mlp" and not spec["network"].get("constant_input"):
        text = _mlp_formula([(np.asarray(l["W"]), np.asarray(l["b"])) for l in spec["network"]["layers"]])
    elif spec.get("kind") == "linear":
        text = "f(x)=" + _affine(np.asarray(spec["w"]), float(spec["b"]))
    else:
        text = model.name
    transform = getattr(model, "transform", None) if drawn else None
    return f"{text} [{transform}]" if transform else text


# --------------------------------------------------------------------------------------------- search engine
def search_skip_reason(explainer: "Explainer") -> str | None:
    """Why no search is run for ``explainer`` (by tags: stochastic, slow families, global), or ``None``."""
    caps = explainer.capabilities
    if caps.stochastic:
        return f"skipped: {explainer.name} is stochastic (each search step would need its own sample budget)"
    if explainer.family in SKIPPED_FAMILIES or caps.scope == "global":
        return f"skipped: {explainer.family} explainers are too slow to search over"
    if caps.requires not in ("callable", "torch"):
        return f"skipped: the search families offer callable/torch models; {explainer.name} needs {caps.requires}"
    return None


def find_counterexample(check: "Searchable | str", explainer: "Explainer", budget: int = SEARCH_BUDGET,
                        case: Case | None = None) -> Counterexample | None:
    """The minimal example (hypothesis-shrunk) of ``check``'s family that ``explainer`` violates, or ``None``.

    Deterministic (``derandomize=True``, no database). At most ``budget`` generated examples and
    ``MAX_PREDICATE_CALLS`` predicate calls in all (after that, shrinking stops at the smallest violation so far);
    an explainer error on an example counts as no violation. Results are cached per process and, for registered
    explainers, on disk (``_search_cache``: keyed by check, explainer, budget, search space and code fingerprint),
    so the workers of a run and later runs each reuse one search.
    """
    chk = get_check(check) if isinstance(check, str) else check
    if not hasattr(chk, "search_space"):
        raise ValueError(f"check {chk.name!r} has no search_space(); no counterexample search is defined for it")
    if budget < 1:
        raise ValueError(f"Expected a positive search budget but got budget={budget!r}")
    key = (chk.name, explainer.name, id(explainer), budget, _space_key(chk, case))
    clock = _search_cache.SearchClock()
    if key in _FOUND:
        clock.log("memory", f"{chk.name}/{explainer.name}")
        return _FOUND[key]
    disk_key = _disk_key(chk, explainer, budget, case)
    if disk_key is not None:
        stored = _search_cache.load(disk_key)
        if not _search_cache.is_missing(stored):
            _FOUND[key] = stored
            clock.log("disk", f"{chk.name}/{explainer.name}")
            return stored
    verdicts: dict[str, bool] = {}
    calls = [0]
    best: list[Example] = []

    def predicate(example: Example) -> bool:
        calls[0] += 1
        if best and calls[0] > MAX_PREDICATE_CALLS:
            raise _StopSearch  # budget spent while shrinking: keep the smallest violation so far
        key = _example_key(example)
        if key not in verdicts:  # replays (hypothesis re-runs the final example) get the same answer
            try:
                verdicts[key] = chk.violation(explainer, example) is not None
            except Exception:  # noqa: BLE001 - an explainer that cannot run on an example has not violated it
                verdicts[key] = False
        if verdicts[key]:
            best.append(example)  # the shrinker only tries smaller candidates: the last one is the best
        return verdicts[key]

    cfg = settings(max_examples=budget, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck))
    try:
        example = find(chk.search_space(case), predicate, settings=cfg)
    except NoSuchExample:
        example = None
    except _StopSearch:
        example = best[-1]
    _FOUND[key] = None if example is None else chk.violation(explainer, example)
    if disk_key is not None:
        _search_cache.store(disk_key, _FOUND[key])
    clock.log("searched", f"{chk.name}/{explainer.name}")
    return _FOUND[key]


def _disk_key(chk: Any, explainer: "Explainer", budget: int, case: Case | None) -> str | None:
    """The on-disk cache key, or ``None`` for an explainer that is not the registered one under its name (a user's
    function, a test double): its name says nothing about its code."""
    from xaicheck.explainers.base import get_explainer

    try:
        if get_explainer(explainer.name) is not explainer:
            return None
    except KeyError:
        return None
    return _search_cache.key_for({
        "check": [chk.name, f"{type(chk).__module__}.{type(chk).__qualname__}", getattr(chk, "version", None)],
        "explainer": [explainer.name, f"{type(explainer).__module__}.{type(explainer).__qualname__}",
                      explainer.library, explainer.library_version, dict(explainer.settings)],
        "budget": budget, "max_predicate_calls": MAX_PREDICATE_CALLS, "space": _space_key(chk, case)})


class _StopSearch(BaseException):
    """Raised from the predicate to end shrinking once ``MAX_PREDICATE_CALLS`` is spent (a BaseException so that
    hypothesis does not record it as a test failure)."""


#: Searches already run in this process (they are deterministic), so many failing cases of one check and one
#: explainer pay for one search.
_FOUND: dict[tuple[Any, ...], Counterexample | None] = {}


def _example_key(example: Example) -> str:
    twin = None if example.twin is None else example.twin.spec()
    return json.dumps([example.model.spec(), example.x.tolist(), example.baseline.tolist(), twin], sort_keys=True,
                      default=str)


def _space_key(chk: Any, case: Case | None) -> Any:
    """What about ``case`` changes the search space (``check.search_key(case)`` if defined, else nothing)."""
    key_fn = getattr(chk, "search_key", None)
    return key_fn(case) if callable(key_fn) else None


def counterexample_for(check: "Searchable", explainer: "Explainer", case: Case,
                       fallback: Callable[[], Counterexample], budget: int | None = None
                       ) -> tuple[Counterexample, dict[str, Any]]:
    """For a FAILED cell: the searched minimal counterexample, else the case's own worst row; with evidence.

    ``budget`` defaults to the module's ``SEARCH_BUDGET`` at call time (0 = no search)."""
    budget = SEARCH_BUDGET if budget is None else budget
    reason = search_skip_reason(explainer) if budget > 0 else "skipped: search budget is 0"
    if reason is None:
        try:
            found = find_counterexample(check, explainer, budget, case)
        except Exception as exc:  # noqa: BLE001 - the search is best-effort evidence; the score stands
            found, reason = None, f"search error: {type(exc).__name__}: {exc}"
        if found is not None:
            return found, {"counterexample_source": "search", "search_budget": budget}
        reason = reason or f"no violation in the search family within budget {budget}"
    return fallback(), {"counterexample_source": "case", "counterexample_search": reason}
