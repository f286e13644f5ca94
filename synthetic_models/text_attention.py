"""Token models with attention, LayerNorm, a residual MLP and pooling, whose weights are set by hand to compute known
functions of a sentence; per-token truth = exact Shapley (and Banzhaf) values by enumeration of the 2^L coalitions.

A row is a sentence of ``L ≤ 12`` token ids (``TEXT_VOCABULARY``; id 0 is ``[PAD]``). **Masking rule**: a token left
out of a coalition is replaced by the baseline token ``[PAD]`` (the declared baseline is the all-``[PAD]`` row, id 0),
so the game is ``v(S) = f(x_S, PAD_{~S})`` (baseline Shapley, Sundararajan & Najmi 2020). Sentiment scores
``s(t)``: great 2, good 1, fun 0.5, bad -1, boring -0.5, awful -2, every other token 0.

The residual stream is made of one-hot channel groups (token, position, and the binary flags attention writes as the
pair ``(n, 1 - n)``), so every row of it has the same channel mean ``μ`` and variance ``σ²``; each pre-attention
LayerNorm is set to ``γ = sqrt(σ² + ε)``, ``β = μ`` and acts as the identity on it: a real LayerNorm that leaves the
designed function exact. Attention logits are ``±BETA = 60`` (a weight ``e^-60`` leaks to the other positions).

Functions (``m_t`` = number of positions holding token ``t``; closed forms under the masking rule, proved equal to
the enumeration in ``tests/test_models_text_attention.py``):

- ``keyword``: ``w [some position holds k]``. One head, constant query, key ``BETA [token = k]``: attention
  concentrates on the keyword positions and reads their indicator (uniform, reading 0, when there is none).
  ``φ_i = w / m_k`` on each keyword position, 0 elsewhere; Banzhaf ``β_i = w 2^{-(m_k - 1)}``.
- ``conjunction``: ``w [A present][B present]``, two such heads, MLP ``ReLU(a + b - 1)``.
  ``φ_i = w m_B / ((m_A + m_B) m_A)`` on A positions (symmetrically on B) when both occur, else 0.
- ``negation``: ``Σ_i s(x_i) (1 - 2 [x_{i-1} = not])``: a previous-token head (query position i, key position i-1)
  copies ``[not]``; the MLP forms ``s·(1 - 2n)`` with ``s n = ReLU(s + 4n - 4) - ReLU(-s + 4n - 4)``.
  ``φ_i = s(x_i) (1 - [x_{i-1} = not]) - [x_i = not] s(x_{i+1})``: a negated word gets 0, the ``not`` its flipped
  score.
- ``count``: ``w [m_k ≥ K]``: a uniform head (zero query) reads ``m_k / L``; the MLP thresholds
  ``ReLU(L c - K + 1) - ReLU(L c - K)``. ``φ_i = w / m_k`` on keyword positions if ``m_k ≥ K``, else 0.
- ``saturating``: ``clip(Σ_i s(x_i), -2, 2)``: a uniform head reads the mean score, the MLP clips it (no closed
  form: truth by enumeration only).
- ``unnegated`` (two layers): ``[some position holds k and is not preceded by 'not']``: layer 1 is the previous-token
  head writing ``(n, 1 - n)``, layer 2 attends with key ``BETA ([token = k] - n)`` and reads ``[token = k] - n``;
  the MLP keeps ``ReLU`` of it. Truth by enumeration.
- without attention (bag of embeddings → MLP → pooling): ``additive`` ``Σ_i s(x_i) g_i``, ``g_i = 1`` or, in
  ``early_double``, 2 on the first half (position-dependent evidence): ``φ_i = s(x_i) g_i``.

**Truncation** (position-dependent evidence): a model of input length ``L`` reads only its first ``T`` tokens (a
tokenizer's ``max_length``; ``params["T"]``): positions ``T..L-1`` never reach the network, are exact dummies (the
``dummy`` check) and get 0 in every closed form above, which holds with ``L`` replaced by ``T``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from .attention_net import LN_EPS, AttentionNet, Layer
from .base import FunctionModel, GroundTruth
from .declarations import Declarations
from .registry import register_model
from .shapley import baseline_banzhaf

__all__ = ["TEXT_VOCABULARY", "SCORES", "BETA", "AttentionTextModel", "TEXT_ATTENTION_MODELS", "ideal_function",
           "render_tokens"]

TEXT_VOCABULARY: tuple[str, ...] = ("[PAD]", "the", "movie", "plot", "actor", "was", "and", "not",
                                    "great", "good", "fun", "bad", "boring", "awful")
_ID = {t: i for i, t in enumerate(TEXT_VOCABULARY)}
SCORES = np.array([{"great": 2.0, "good": 1.0, "fun": 0.5, "bad": -1.0, "boring": -0.5, "awful": -2.0}.get(t, 0.0)
                   for t in TEXT_VOCABULARY])
SCORES.setflags(write=False)
BETA = 60.0
_M = 4.0  # > max |s| and > any |Σ s| the products see
V = len(TEXT_VOCABULARY)


def render_tokens(row: np.ndarray) -> str:
    """A row of token ids as words."""
    return " ".join(TEXT_VOCABULARY[int(round(v))] for v in row)


# ------------------------------------------------------------------------------------------------ the design kit
@dataclass
class _Design:
    """Channel bookkeeping: tokens one-hot, positions one-hot, named flag pairs, one output channel."""

    L: int
    flags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.D = V + self.L + 2 * len(self.flags) + 1

    def tok(self, t: str) -> int:
        return _ID[t]

    def pos(self, i: int) -> int:
        return V + i

    def flag(self, name: str, on: bool = True) -> int:
        return V + self.L + 2 * self.flags.index(name) + (0 if on else 1)

    @property
    def out(self) -> int:
        return self.D - 1

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        return np.eye(self.D)[:V], np.eye(self.D)[V:V + self.L]

    def identity_ln(self, one_hots: int) -> tuple[np.ndarray, np.ndarray]:
        """The LayerNorm that is the identity on rows holding ``one_hots`` exact one-hots (module docstring)."""
        mu = one_hots / self.D
        var = one_hots / self.D - mu**2
        return np.full(self.D, np.sqrt(var + LN_EPS)), np.full(self.D, mu)

    def head(self, H: int = 1, k: int = 1, v: int = 2) -> tuple[np.ndarray, ...]:
        return np.zeros((H, self.D, k)), np.zeros((H, self.D, k)), np.zeros((H, self.D, v)), np.zeros((H, v, self.D))

    def constant_query(self, wq: np.ndarray, h: int) -> None:
        wq[h, V:V + self.L, 0] = 1.0  # the position one-hots sum to 1

    def score_rows(self, w: np.ndarray) -> None:
        """MLP-ready: ``w[:V]`` += the sentiment scores (a linear read of the token one-hot)."""
        w[:V] += SCORES


def _previous_token_head(d: _Design, flag: str) -> tuple[np.ndarray, ...]:
    """Query position i attends to i - 1 (position 0 to itself) and writes ``(n, 1 - n)``, n = [x_{i-1} = not]:
    ``q_i = e_i``, ``k_j = BETA e_{j+1}`` (and ``k_0`` also ``BETA e_0``), so ``q_i · k_j = BETA [j = i - 1]``."""
    L = d.L
    wq, wk, wv, wo = d.head(k=L + 1)
    for i in range(L):
        wq[0, d.pos(i), i] = 1.0
        wk[0, d.pos(i), i + 1] = BETA
    wk[0, d.pos(0), 0] = BETA
    wv[0, d.tok("not"), 0] = 1.0
    wv[0, V:V + L, 1] = 1.0
    wv[0, d.tok("not"), 1] = -1.0
    wo[0, 0, d.flag(flag)] = 1.0
    wo[0, 1, d.flag(flag, on=False)] = 1.0
    return wq, wk, wv, wo


def _mlp(d: _Design, units: list[tuple[np.ndarray, float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hidden units ``(input weights [D], bias, output weight)`` writing to the output channel."""
    w1 = np.stack([u[0] for u in units], axis=1)
    b1 = np.array([u[1] for u in units])
    w2 = np.zeros((len(units), d.D))
    w2[:, d.out] = [u[2] for u in units]
    return w1, b1, w2


def _net(d: _Design, layers: list[Layer], units: list[tuple[np.ndarray, float, float]], scale: float) -> AttentionNet:
    E, P = d.embeddings()
    w1, b1, w2 = _mlp(d, units)
    r = np.zeros(d.D)
    r[d.out] = scale
    return AttentionNet(E, P, tuple(layers), w1, b1, w2, r)


def _vec(d: _Design, entries: dict[int, float], scores: float = 0.0, positions: dict[int, float] | None = None
         ) -> np.ndarray:
    w = np.zeros(d.D)
    for j, v in entries.items():
        w[j] += v
    w[:V] += scores * SCORES
    for i, v in (positions or {}).items():
        w[d.pos(i)] += v
    return w


def _signed_product(d: _Design, gate: np.ndarray, coef: float, sign_scores: float = 1.0
                    ) -> list[tuple[np.ndarray, float, float]]:
    """Units computing ``coef · s · n`` for the token score s and a {0,1} gate n (``gate`` reads n)."""
    s = _vec(d, {}, sign_scores)
    return [(s + _M * gate, -_M, coef), (-s + _M * gate, -_M, -coef)]


def _passthrough(d: _Design, w: np.ndarray, coef: float = 1.0) -> list[tuple[np.ndarray, float, float]]:
    return [(w, 0.0, coef), (-w, 0.0, -coef)]


# ------------------------------------------------------------------------------------------------ the functions
def _keyword_net(L: int, k: str, w: float) -> AttentionNet:
    d = _Design(L, ["kw"])
    wq, wk, wv, wo = d.head()
    d.constant_query(wq, 0)
    wk[0, d.tok(k), 0] = BETA
    wv[0, d.tok(k), 0] = 1.0
    wo[0, 0, d.flag("kw")] = 1.0
    layer = Layer(wq, wk, wv, wo, d.identity_ln(2))
    return _net(d, [layer], _passthrough(d, _vec(d, {d.flag("kw"): 1.0})), w)


def _conjunction_net(L: int, a: str, b: str, w: float) -> AttentionNet:
    d = _Design(L, ["a", "b"])
    wq, wk, wv, wo = d.head(H=2)
    for h, (t, f) in enumerate(((a, "a"), (b, "b"))):
        d.constant_query(wq, h)
        wk[h, d.tok(t), 0] = BETA
        wv[h, d.tok(t), 0] = 1.0
        wo[h, 0, d.flag(f)] = 1.0
    layer = Layer(wq, wk, wv, wo, d.identity_ln(2))
    return _net(d, [layer], [(_vec(d, {d.flag("a"): 1.0, d.flag("b"): 1.0}), -1.0, 1.0)], w)


def _negation_net(L: int) -> AttentionNet:
    d = _Design(L, ["neg"])
    layer = Layer(*_previous_token_head(d, "neg"), d.identity_ln(2))
    units = _passthrough(d, _vec(d, {}, 1.0)) + _signed_product(d, _vec(d, {d.flag("neg"): 1.0}), -2.0)
    return _net(d, [layer], units, float(L))


def _count_net(L: int, k: str, K: int, w: float) -> AttentionNet:
    d = _Design(L, ["count"])
    wq, wk, wv, wo = d.head()
    wv[0, d.tok(k), 0] = 1.0
    wo[0, 0, d.flag("count")] = 1.0
    layer = Layer(wq, wk, wv, wo, d.identity_ln(2))
    c = _vec(d, {d.flag("count"): float(L)})
    return _net(d, [layer], [(c, -(K - 1.0), 1.0), (c, -float(K), -1.0)], w)


def _saturating_net(L: int, cap: float) -> AttentionNet:
    d = _Design(L, ["mean"])
    wq, wk, wv, wo = d.head()
    wv[0, :V, 0] = SCORES
    wo[0, 0, d.flag("mean")] = 1.0
    layer = Layer(wq, wk, wv, wo, d.identity_ln(2))
    m = _vec(d, {d.flag("mean"): float(L)})
    # clip(z, -cap, cap) = ReLU(z + cap) - ReLU(z - cap) - cap; the constant -cap via a pass-through of the positions
    units = [(m, cap, 1.0), (m, -cap, -1.0), (_vec(d, {}, 0.0, {i: 1.0 for i in range(L)}), 0.0, -cap)]
    return _net(d, [layer], units, 1.0)


def _unnegated_net(L: int, k: str) -> AttentionNet:
    d = _Design(L, ["neg", "hit"])
    first = Layer(*_previous_token_head(d, "neg"), d.identity_ln(2))
    wq, wk, wv, wo = d.head()
    d.constant_query(wq, 0)
    wk[0, d.tok(k), 0] = BETA
    wk[0, d.flag("neg"), 0] = -BETA
    wv[0, d.tok(k), 0] = 1.0
    wv[0, d.flag("neg"), 0] = -1.0
    wo[0, 0, d.flag("hit")] = 1.0
    second = Layer(wq, wk, wv, wo, d.identity_ln(3))
    return _net(d, [first, second], [(_vec(d, {d.flag("hit"): 1.0}), 0.0, 1.0)], 1.0)


def _additive_net(L: int, weights: np.ndarray) -> AttentionNet:
    """No attention: ``Σ_i s(x_i) g_i`` with ``g_i ∈ {0, 1, 2}`` from the positions (bag of embeddings → MLP)."""
    d = _Design(L)
    units = _passthrough(d, _vec(d, {}, 1.0))  # s
    low = {i: 1.0 for i in range(L) if weights[i] == 0.0}
    high = {i: 1.0 for i in range(L) if weights[i] == 2.0}
    if low:
        units += _signed_product(d, _vec(d, {}, 0.0, low), -1.0)
    if high:
        units += _signed_product(d, _vec(d, {}, 0.0, high), 1.0)
    return _net(d, [], units, float(L))


# ------------------------------------------------------------------------------------------------ ideal functions
def ideal_function(kind: str, params: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """The function a model of ``kind`` is designed to compute, written directly on token ids (tests compare the
    network with it)."""
    T = params.get("T")

    def ids(X: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(X, dtype=np.float64)[:, :T]).astype(np.int64)

    def s(X: np.ndarray) -> np.ndarray:
        return SCORES[ids(X)]

    def prev_not(X: np.ndarray) -> np.ndarray:
        n = np.zeros(np.shape(ids(X)))
        n[:, 1:] = ids(X)[:, :-1] == _ID["not"]
        return n

    if kind == "keyword":
        return lambda X: params["w"] * (ids(X) == _ID[params["k"]]).any(axis=1)
    if kind == "conjunction":
        return lambda X: params["w"] * ((ids(X) == _ID[params["a"]]).any(axis=1)
                                        & (ids(X) == _ID[params["b"]]).any(axis=1))
    if kind == "negation":
        return lambda X: (s(X) * (1.0 - 2.0 * prev_not(X))).sum(axis=1)
    if kind == "count":
        return lambda X: params["w"] * ((ids(X) == _ID[params["k"]]).sum(axis=1) >= params["K"])
    if kind == "saturating":
        return lambda X: np.clip(s(X).sum(axis=1), -params["cap"], params["cap"])
    if kind == "unnegated":
        return lambda X: ((ids(X) == _ID[params["k"]]) & (prev_not(X) == 0)).any(axis=1).astype(np.float64)
    if kind == "additive":
        return lambda X: (s(X) * np.asarray(params.get("g", 1.0), dtype=np.float64)).sum(axis=1)
    raise ValueError(f"unknown kind {kind!r}")


# ------------------------------------------------------------------------------------------------ models
class AttentionTextModel(FunctionModel):
    """A token-id model with an embedding form (``embedding_module()``: the torch network, ids -> output); no
    ``torch`` form on its raw inputs (a gradient with respect to a token id means nothing)."""

    net: AttentionNet

    def embedding_module(self) -> "Any":
        return self.net.torch_module()

    def attention_maps(self, X: np.ndarray) -> list[np.ndarray]:
        return self.net.attention_maps(X)

    @property
    def forms(self) -> frozenset[str]:
        return frozenset((set(super().forms) - {"torch"}) | {"embedding"})


def _sampler(L: int, boost: dict[str, float]) -> Callable[[int, np.random.Generator], np.ndarray]:
    """Sentences of ``L`` tokens: no [PAD]; each word equally likely except the ``boost`` ones (their probability)."""
    p = np.ones(V)
    p[0] = 0.0
    rest = 1.0 - sum(boost.values())
    others = [i for i in range(1, V) if TEXT_VOCABULARY[i] not in boost]
    p[others] = rest / len(others)
    for t, q in boost.items():
        p[_ID[t]] = q

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(V, size=(n, L), p=p).astype(np.float64)

    return sample


_DEFAULT_ROWS = {"quick": 2, "default": 2, "full": 16}


@dataclass(frozen=True)
class _Spec:
    name: str
    kind: str
    L: int
    params: dict[str, Any]
    boost: dict[str, float]
    banzhaf: bool = False
    tiers: frozenset[str] = frozenset({"default"})


def _build(spec: _Spec) -> AttentionTextModel:
    L, p = spec.L, spec.params
    T = int(p.get("T", L))  # positions the network reads (a tokenizer's max_length); T..L-1 are exact dummies
    net = {
        "keyword": lambda: _keyword_net(T, p["k"], p["w"]),
        "conjunction": lambda: _conjunction_net(T, p["a"], p["b"], p["w"]),
        "negation": lambda: _negation_net(T),
        "count": lambda: _count_net(T, p["k"], p["K"], p["w"]),
        "saturating": lambda: _saturating_net(T, p["cap"]),
        "unnegated": lambda: _unnegated_net(T, p["k"]),
        "additive": lambda: _additive_net(T, np.asarray(p.get("g", [1.0] * T), dtype=np.float64)),
    }[spec.kind]()
    net = replace(net, input_length=L)
    dummy = frozenset(range(T, L))
    reference = None
    if spec.banzhaf:
        def reference(X: np.ndarray, b: np.ndarray) -> np.ndarray:
            return baseline_banzhaf(net.forward, X, b)
    gt = GroundTruth(relevant=frozenset(range(L)) - dummy, dummy=dummy, reference=reference,
                     reference_kind="banzhaf" if spec.banzhaf else "",
                     notes=f"{spec.kind} {p}; masking: a left-out token becomes [PAD]; truth: exact Shapley over "
                           f"the 2^{L} coalitions")
    layers = len(net.layers)
    model = AttentionTextModel(spec.name, "text_attention", net.forward, [f"t{i}" for i in range(L)], gt,
                               domain="tokens", sampler=_sampler(L, spec.boost),
                               spec={"kind": spec.kind, "params": p, "length": L, "attention_layers": layers,
                                     "vocabulary": list(TEXT_VOCABULARY), "masking": "baseline token [PAD] (id 0)"},
                               declarations=Declarations(tiers=spec.tiers, baseline=0.0, rows=_DEFAULT_ROWS))
    model.net = net
    model.attention_layers = layers  # type: ignore[attr-defined]
    model.ideal = ideal_function(spec.kind, p)  # type: ignore[attr-defined]
    model.design_kind = spec.kind  # type: ignore[attr-defined]
    return model


_SENT = {"great": 0.12, "good": 0.1, "bad": 0.1, "awful": 0.08, "not": 0.15}
_FULL = frozenset({"full"})
#: The default suite holds the L <= 8 sentences (most truncated: their last position(s) are exact dummies), two rows
#: each (the suite's cost is per model; the bootstrap resamples cases); the longer ones (2^10-2^12 coalitions per
#: row) are in ``full`` with 16 rows.
TEXT_ATTENTION_MODELS: tuple[_Spec, ...] = (
    _Spec("attn_keyword_great_l8", "keyword", 8, {"k": "great", "w": 2.0, "T": 7}, {"great": 0.15}, banzhaf=True),
    _Spec("attn_conjunction_l8", "conjunction", 8, {"a": "good", "b": "plot", "w": 1.0, "T": 7},
          {"good": 0.15, "plot": 0.15}),
    _Spec("attn_negation_l8", "negation", 8, {"T": 7}, _SENT, banzhaf=True),
    _Spec("attn_count2_l8", "count", 8, {"k": "boring", "K": 2, "w": -1.0, "T": 6}, {"boring": 0.25}),
    _Spec("attn_saturating_l8", "saturating", 8, {"cap": 2.0, "T": 7}, {"great": 0.15, "awful": 0.15}),
    _Spec("attn2_unnegated_l8", "unnegated", 8, {"k": "good", "T": 7}, {"good": 0.2, "not": 0.25}),
    _Spec("emb_truncated_l8", "additive", 8, {"T": 6}, _SENT),
    _Spec("emb_early_double_l8", "additive", 8, {"g": [2.0] * 4 + [1.0] * 3, "T": 7}, _SENT),
    _Spec("attn_keyword_awful_l8", "keyword", 8, {"k": "awful", "w": -2.0, "T": 8}, {"awful": 0.15}),
    _Spec("attn_keyword_fun_l6", "keyword", 6, {"k": "fun", "w": 1.0, "T": 5}, {"fun": 0.2}),
    _Spec("attn_conjunction_actor_great_l8", "conjunction", 8, {"a": "actor", "b": "great", "w": -2.0, "T": 7},
          {"actor": 0.15, "great": 0.15}),
    _Spec("attn_negation_l6", "negation", 6, {"T": 6}, _SENT),
    _Spec("attn_count2_fun_l8", "count", 8, {"k": "fun", "K": 2, "w": 1.5, "T": 7}, {"fun": 0.25}),
    _Spec("attn_saturating_l6", "saturating", 6, {"cap": 1.0, "T": 5}, {"good": 0.15, "bad": 0.15}),
    _Spec("attn2_unnegated_great_l8", "unnegated", 8, {"k": "great", "T": 8}, {"great": 0.2, "not": 0.25}),
    _Spec("emb_additive_l6", "additive", 6, {"T": 5}, _SENT),
    _Spec("attn_keyword_good_l7", "keyword", 7, {"k": "good", "w": 1.0}, {"good": 0.15}),
    _Spec("attn_keyword_boring_l8", "keyword", 8, {"k": "boring", "w": -1.0, "T": 6}, {"boring": 0.2}),
    _Spec("attn_conjunction_not_bad_l8", "conjunction", 8, {"a": "not", "b": "bad", "w": 1.5, "T": 8},
          {"not": 0.15, "bad": 0.15}),
    _Spec("attn_negation_l7", "negation", 7, {"T": 7}, _SENT),
    _Spec("attn_count2_great_l6", "count", 6, {"k": "great", "K": 2, "w": 2.0}, {"great": 0.3}),
    _Spec("attn_count3_bad_l8", "count", 8, {"k": "bad", "K": 3, "w": -1.0, "T": 8}, {"bad": 0.35}),
    _Spec("attn_saturating_l7", "saturating", 7, {"cap": 1.5, "T": 6}, {"great": 0.15, "awful": 0.15}),
    _Spec("attn2_unnegated_fun_l7", "unnegated", 7, {"k": "fun", "T": 7}, {"fun": 0.2, "not": 0.25}),
    _Spec("attn_keyword_bad_l12", "keyword", 12, {"k": "bad", "w": -1.5}, {"bad": 0.12}, tiers=_FULL),
    _Spec("attn_conjunction_l10", "conjunction", 10, {"a": "actor", "b": "great", "w": -2.0},
          {"actor": 0.12, "great": 0.12}, tiers=_FULL),
    _Spec("attn_negation_l12", "negation", 12, {}, _SENT, tiers=_FULL),
    _Spec("attn_count3_l10", "count", 10, {"k": "fun", "K": 3, "w": 1.0}, {"fun": 0.3}, tiers=_FULL),
    _Spec("attn_saturating_l10", "saturating", 10, {"cap": 1.5}, {"good": 0.15, "bad": 0.15}, tiers=_FULL),
    _Spec("attn2_unnegated_l10", "unnegated", 10, {"k": "great"}, {"great": 0.15, "not": 0.25}, tiers=_FULL),
    _Spec("emb_additive_l10", "additive", 10, {}, _SENT, tiers=_FULL),
)

for _spec in TEXT_ATTENTION_MODELS:
    register_model(_spec.name, exam=True)(lambda _s=_spec: _build(_s))
