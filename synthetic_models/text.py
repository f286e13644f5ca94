"""A bag-of-words sentiment model with known per-token weights.

``token_sentiment``: features = presence ``{0,1}`` of each of 10 vocabulary tokens; ``f(x) = w·x`` with
``w = TOKEN_WEIGHTS`` (six sentiment words, four neutral words of weight 0). Because f is linear, every additive
attribution with baseline ``b`` is exactly ``w ⊙ (x - b)`` (``ground_truth.exact_attribution``); removing a word from a
document (what LIME text does) changes the score by exactly minus its weight.

Text interface: ``vectorize(texts) -> [n, 10]`` (lower-cased words ``[a-z']+``; unknown words are ignored; repeats
count once), ``predict_text(texts) = predict(vectorize(texts))`` and ``render(X)`` (a presence row as a document, words
in vocabulary order) so text explainers can start from the model's own inputs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cached_property
from typing import Sequence

import numpy as np

from .additive import LinearModel, linear_model
from .base import binary_sampler
from .registry import register_model

__all__ = ["VOCABULARY", "TOKEN_WEIGHTS", "TokenModel", "tokenize", "token_sentiment"]

#: Token -> weight; four neutral words (weight 0, dummy features) interleaved, and feature 0 neutral, so no position
#: carries the answer (a trick that favours the first feature, like the ``huge_feature`` control, gains nothing).
VOCAB_WEIGHTS: dict[str, float] = {
    "the": 0.0,
    "great": 2.0,
    "movie": 0.0,
    "bad": -1.0,
    "good": 1.0,
    "plot": 0.0,
    "awful": -2.0,
    "fun": 0.5,
    "actor": 0.0,
    "boring": -0.5,
}
VOCABULARY: tuple[str, ...] = tuple(VOCAB_WEIGHTS)
TOKEN_WEIGHTS = np.array(list(VOCAB_WEIGHTS.values()))
TOKEN_WEIGHTS.setflags(write=False)
_WORD = re.compile(r"[a-z']+")


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text``."""
    if not isinstance(text, str):
        raise TypeError(f"Expected a str but got {type(text).__name__}: {text!r}")
    return _WORD.findall(text.lower())


class TokenModel(LinearModel):
    """A linear model over token presence, with a text interface."""

    vocabulary: tuple[str, ...]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {tok: i for i, tok in enumerate(self.vocabulary)}

    def token_index(self, token: str) -> int | None:
        """Feature index of ``token`` (case-insensitive), or ``None`` when it is not in the vocabulary."""
        return self._index.get(token.lower())

    def vectorize(self, texts: Sequence[str]) -> np.ndarray:
        """Presence matrix ``[n, V]`` of the vocabulary tokens in each text."""
        if isinstance(texts, str):
            raise TypeError("Expected a list of texts but got a single str; wrap it in a list")
        X = np.zeros((len(texts), len(self.vocabulary)))
        for row, text in enumerate(texts):
            for word in tokenize(text):
                j = self._index.get(word)
                if j is not None:
                    X[row, j] = 1.0
        return X

    def predict_text(self, texts: Sequence[str]) -> np.ndarray:
        """``f(vectorize(texts))`` -> ``[n]``."""
        return self.predict(self.vectorize(texts))

    def render(self, X: np.ndarray) -> list[str]:
        """Each presence row as a document: the present tokens, space-separated, in vocabulary order."""
        X = np.asarray(X, dtype=np.float64)
        X = X[None, :] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != len(self.vocabulary) or not np.all((X == 0) | (X == 1)):
            raise ValueError(f"Expected presence rows in {{0,1}}^{len(self.vocabulary)} but got shape {X.shape}")
        return [" ".join(tok for tok, on in zip(self.vocabulary, row) if on) for row in X]


@register_model("token_sentiment", placed={
    "ground_truth_agreement": "quick",
    "faithfulness_saturated": "quick",
})
def token_sentiment() -> TokenModel:
    """Bag-of-words sentiment: ``f = Σ_token weight(token)·[token present]``."""
    model = linear_model(
        TOKEN_WEIGHTS,
        0.0,
        name="token_sentiment",
        family="text",
        feature_names=VOCABULARY,
        sampler=binary_sampler(len(VOCABULARY), 0.4),
        domain="tokens",
        notes="bag of words; token weights " + ", ".join(f"{t}={w:g}" for t, w in VOCAB_WEIGHTS.items()),
        cls=TokenModel,
        spec_extra={"vocabulary": list(VOCABULARY)},
    )
    model.vocabulary = VOCABULARY
    model.ground_truth = replace(model.ground_truth, token_weights=TOKEN_WEIGHTS)
    return model
