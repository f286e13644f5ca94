"""lime adapters (Ribeiro et al. 2016): ``lime_tabular`` and ``lime_text``.

What number is returned as the attribution
------------------------------------------
LIME fits a weighted linear surrogate g(s) = c_0 + Σ_i c_i s_i in its own interpretable representation s. A raw
coefficient c_i is a slope in that representation's units, not a contribution to f(x), so both adapters return the
surrogate's *contribution at the instance relative to the representation's reference point*:

- ``lime_tabular`` (``LimeTabularExplainer``, mode "regression", ``discretize_continuous=False``, no feature
  selection, lime's default kernel width 0.75·sqrt(d) and Ridge(alpha=1) surrogate, ``num_samples=1000``,
  ``random_state=seed``, training data = the background):
  * continuous features are standardised, s_i = (z_i - mean_i)/scale_i with the background's mean and std, and we
    return a_i = c_i (x_i - mean_i)/scale_i: the surrogate's contribution relative to the background mean. For a
    linear f = w·x + b, c_i = w_i scale_i, so a_i = w_i (x_i - mean_i), the interventional Shapley value;
  * on a binary domain, features are passed as lime *categorical* features (samples stay on {0, 1} instead of
    Gaussian draws off the support); then s_i = 1[z_i = x_i] and we return a_i = c_i (1 - P_bg(z_i = x_i)), again
    the contribution relative to the background mean of s_i; for a linear f this is also w_i (x_i - mean_i).
- ``lime_text`` (``LimeTextExplainer``, bag of words, ``num_samples=1000``): feature i is vocabulary token i and a
  row of X holds token counts; the explained text repeats token i ``x_i`` times. s_t = 1 if token t is kept; the
  reference is the empty text, so we return a_t = c_t (1 - 0) = c_t for tokens present, 0 for absent ones. For a
  bag-of-words linear model f = Σ w_t x_t + b this is w_t x_t, i.e. w (x - 0).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from . import _expected_reasons as why
from .base import Capabilities, ExpectedFailure, Explainer, register
from .torch_utils import predict_fn

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["LimeTabular", "LimeText", "row_to_text"]


class LimeTabular(Explainer):
    """LIME on tabular data; returns c_i x (standardised x_i relative to the background mean)."""

    name = "lime_tabular"
    family = "surrogate"
    library = "lime"
    capabilities = Capabilities(requires="callable", uses_background=True, stochastic=True)
    settings = {"num_samples": 1000, "discretize_continuous": False, "feature_selection": "none",
                "binary_features": "categorical", "surrogate": "ridge_alpha_1"}
    expected_failures = (ExpectedFailure("fooling", why.SCAFFOLD.format(method="LIME (lime.lime_tabular)")),)

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        from lime.lime_tabular import LimeTabularExplainer

        d = X.shape[1]
        binary = model.domain == "binary"
        explainer = LimeTabularExplainer(
            background, mode="regression", discretize_continuous=False, feature_selection="none",
            categorical_features=list(range(d)) if binary else None, random_state=seed, verbose=False)
        f = predict_fn(model, target)
        out = np.zeros_like(X)
        for k, x in enumerate(X):
            exp = explainer.explain_instance(x, f, num_features=d, num_samples=int(self.settings["num_samples"]))
            coefs = exp.as_map()[1]  # regression mode: lime stores the fit under label 1 (label 0 = its negation)
            c = np.zeros(d)
            for i, value in coefs:
                c[i] = value
            if binary:
                same = np.array([np.mean(background[:, i] == x[i]) for i in range(d)])
                out[k] = c * (1.0 - same)
            else:
                out[k] = c * (x - explainer.scaler.mean_) / explainer.scaler.scale_
        return out


def row_to_text(row: np.ndarray, vocabulary: list[str] | tuple[str, ...]) -> str:
    """The text whose bag of words is ``row``: token i repeated ``round(row[i])`` times (counts must be whole)."""
    counts = np.rint(row).astype(int)
    if np.any(np.abs(row - counts) > 1e-9) or np.any(counts < 0):
        raise ValueError(f"lime_text needs non-negative whole token counts; got {row.tolist()}")
    return " ".join(tok for tok, c in zip(vocabulary, counts) for _ in range(c))


class LimeText(Explainer):
    """LIME on bag-of-words text; returns the surrogate coefficient of each present token (reference: empty text)."""

    name = "lime_text"
    family = "surrogate"
    library = "lime"
    capabilities = Capabilities(requires="text", stochastic=True)
    settings = {"num_samples": 1000, "bow": True}

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        vocab = getattr(model, "vocabulary", None)
        if ok and (vocab is None or len(vocab) != model.n_features):
            return False, f"{self.name} needs model.vocabulary with one token per feature"
        if ok and any(not re.fullmatch(r"\w+", str(t)) for t in vocab):
            return False, f"{self.name} needs word-character tokens (lime splits on \\W+)"
        return ok, why

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        from lime.lime_text import LimeTextExplainer

        ok, why = self.can_explain(model)
        if not ok:
            raise ValueError(why)
        vocab = [str(t) for t in model.vocabulary]
        index = {t: i for i, t in enumerate(vocab)}
        col = 0 if target is None else target

        def classifier_fn(texts: list[str]) -> np.ndarray:
            out = np.asarray(model.predict_text(list(texts)), dtype=np.float64)
            return out[:, None] if out.ndim == 1 else out

        explainer = LimeTextExplainer(bow=True, random_state=seed)
        result = np.zeros_like(X)
        for k, row in enumerate(X):
            text = row_to_text(row, vocab)
            if not text:
                continue  # nothing to remove: every token's attribution is 0
            exp = explainer.explain_instance(text, classifier_fn, labels=(col,), num_features=len(vocab),
                                             num_samples=int(self.settings["num_samples"]))
            words = exp.domain_mapper.indexed_string
            for fid, value in exp.as_map()[col]:
                result[k, index[words.word(fid)]] = value
        return result


for _cls in (LimeTabular, LimeText):
    register(_cls())
