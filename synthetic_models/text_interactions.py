"""A token model with negation and intensifier interactions, whose per-token truth is exact.

``token_negation``: presence features of a 12-token vocabulary: six sentiment words (weights w as in
``text.VOCAB_WEIGHTS``), the modifiers ``not`` and ``very``, four neutral words (dummies). The score is

    f(x) = s(x) · (1 - 2·[not]) · (1 + [very]),        s(x) = Σ_t w_t [t present]

so "not" flips the polarity of the whole document and "very" doubles it: the contribution of a word depends on its
context, unlike the bag-of-words ``token_sentiment`` where every method paints the same words. The per-token truth
is the exact baseline Shapley value against the empty document (b = 0), by enumeration of the 2^12 coalitions; e.g.
for "not good": φ_good = ½·1 + ½·(-1 - 0) = 0 and φ_not = ½·0 + ½·(-1 - 1) = -1 (the negation carries the
sentiment); for "very good": φ_good = 1.5, φ_very = 0.5. Neutral words are exact dummies.
The text interface (``vectorize``, ``predict_text``, ``render``) is ``text.TokenModel``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import GroundTruth
from .registry import register_model
from .seeding import case_seed
from .text import VOCAB_WEIGHTS, TokenModel

if TYPE_CHECKING:
    import torch

__all__ = ["NEGATION_VOCABULARY", "SENTIMENT_WEIGHTS", "negation_score", "token_negation", "negation_case_parts"]

_SENTIMENT = {t: w for t, w in VOCAB_WEIGHTS.items() if w != 0.0}
NEGATION_VOCABULARY: tuple[str, ...] = (*_SENTIMENT, "not", "very", "the", "movie", "plot", "actor")
#: Weight of each token in the sentiment sum s(x) (0 for the modifiers and the neutral words).
SENTIMENT_WEIGHTS = np.array([_SENTIMENT.get(t, 0.0) for t in NEGATION_VOCABULARY])
SENTIMENT_WEIGHTS.setflags(write=False)
NOT, VERY = NEGATION_VOCABULARY.index("not"), NEGATION_VOCABULARY.index("very")
_PRESENCE = np.array([0.3] * len(_SENTIMENT) + [0.4, 0.4] + [0.5] * 4)


def negation_score(X: np.ndarray) -> np.ndarray:
    """``s(x) (1 - 2 [not]) (1 + [very])`` for presence rows ``X [n, 12]``."""
    X = np.asarray(X, dtype=np.float64)
    return (X @ SENTIMENT_WEIGHTS) * (1.0 - 2.0 * X[:, NOT]) * (1.0 + X[:, VERY])


def _torch_factory() -> "torch.nn.Module":
    import torch
    from torch import nn

    class NegationModel(nn.Module):
        """``(x @ w) * (1 - 2 x_not) * (1 + x_very)`` as tensor ops."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("w", torch.tensor(SENTIMENT_WEIGHTS.tolist(), dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x @ self.w) * (1.0 - 2.0 * x[:, NOT]) * (1.0 + x[:, VERY])

    return NegationModel().eval()


def _sampler(n: int, rng: np.random.Generator) -> np.ndarray:
    return (rng.random((n, len(NEGATION_VOCABULARY))) < _PRESENCE).astype(np.float64)


@register_model("token_negation")
def token_negation() -> TokenModel:
    """Sentiment with negation ("not" flips) and an intensifier ("very" doubles); exact per-token Shapley truth."""
    d = len(NEGATION_VOCABULARY)
    relevant = frozenset(range(len(_SENTIMENT))) | {NOT, VERY}
    gt = GroundTruth(relevant=relevant, dummy=frozenset(range(d)) - relevant,
                     interactions=tuple(frozenset({i, m}) for m in (NOT, VERY) for i in range(len(_SENTIMENT))),
                     notes="f = s(x)(1 - 2[not])(1 + [very]); per-token truth = exact Shapley vs the empty document")
    model = TokenModel("token_negation", "text", negation_score, NEGATION_VOCABULARY, gt, domain="tokens",
                       sampler=_sampler, torch_factory=_torch_factory,
                       spec={"kind": "negation_tokens", "vocabulary": list(NEGATION_VOCABULARY),
                             "weights": SENTIMENT_WEIGHTS.tolist()})
    model.vocabulary = NEGATION_VOCABULARY
    return model


def negation_case_parts(rows: int = 32, seed: int | None = None
                        ) -> tuple[str, TokenModel, np.ndarray, np.ndarray, np.ndarray]:
    """``(case name, model, X, baseline, background)``: ``rows`` documents with at least one sentiment word and, in
    half of them, a modifier (drawn from the case seed); the empty document as baseline."""
    from .registry import get_model

    seed = case_seed() if seed is None else int(seed)
    model = get_model("token_negation")
    rng = np.random.default_rng([1601, seed])
    pool = _sampler(8 * rows, rng)
    has_word = pool[:, :len(_SENTIMENT)].any(axis=1)
    modified = pool[:, [NOT, VERY]].any(axis=1)
    X = np.vstack([pool[has_word & modified][: rows - rows // 2], pool[has_word & ~modified][: rows // 2]])
    return "token_negation", model, X, np.zeros(model.n_features), _sampler(16, rng)
