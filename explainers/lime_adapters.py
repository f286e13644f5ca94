"""lime adapters (Ribeiro et al. 2016): ``lime_tabular``, ``lime_text`` and ``lime_image`` (see its class docstring).

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

import contextlib
import io
import re
from typing import TYPE_CHECKING

import numpy as np

from . import _expected_reasons as why
from .base import Capabilities, ExpectedFailure, Explainer, has_image_shape, register
from .torch_utils import predict_fn

if TYPE_CHECKING:
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["LimeTabular", "LimeText", "LimeImage", "row_to_text"]


class LimeTabular(Explainer):
    """LIME on tabular data; returns c_i x (standardised x_i relative to the background mean)."""

    name = "lime_tabular"
    family = "surrogate"
    library = "lime"
    capabilities = Capabilities(requires="callable", uses_background=True, stochastic=True)
    settings = {"num_samples": 1000, "discretize_continuous": False, "feature_selection": "none",
                "binary_features": "categorical", "surrogate": "ridge_alpha_1"}
    expected_failures = (ExpectedFailure("fooling", why.SCAFFOLD.format(method="LIME (lime.lime_tabular)")),)

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if ok and has_image_shape(model):
            return False, (f"{self.name} samples each feature from the training data's distribution; on an image "
                           "the reference is one all-off patch row (or single pixels), so it draws no informative "
                           "perturbation: LIME's image explainer is lime_image")
        return ok, why

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


class LimeImage(Explainer):
    """LIME's image explainer (``lime.lime_image.LimeImageExplainer``, Ribeiro et al. 2016, sec. 3.3-3.4).

    Its interpretable representation is on/off per segment: s_p = 1 keeps segment p of x, s_p = 0 replaces it by the
    hidden image, here the case's baseline b (LIME's ``hide_color``). It draws ``num_samples`` on/off vectors
    uniformly (the first all on), weights them by the exponential kernel of the cosine distance to all-on (width
    0.25) and fits a weighted ridge surrogate g(s) = c_0 + sum_p c_p s_p; c_p (the contribution of showing segment
    p against hiding it) is the segment's attribution. Segments are the model's declared patches: on such a model the
    explainer is handed the patch game (``explainers._patches``), each patch one segment; on a model without patches
    each pixel is a segment. A segment's value is spread over its pixels (the map sums per patch to c_p).

    The library takes an image and a segmentation function; the ``d`` features are passed as a 1 x d grey image
    holding ``x - b`` with segment ids ``0..d-1`` and ``hide_color=0``, and the classifier adds b back, so a sample
    is exactly ``b + (x - b) * s`` (LIME converts the grey image to three equal channels; channel 0 is read).
    """

    name = "lime_image"
    family = "surrogate"
    library = "lime"
    capabilities = Capabilities(requires="callable", uses_baseline=True, stochastic=True)
    settings = {"num_samples": 1000, "kernel_width": 0.25, "distance": "cosine", "hide_color": "baseline",
                "segments": "declared patches, else one per pixel", "surrogate": "ridge_alpha_1"}

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if ok and not has_image_shape(model):
            return False, f"{self.name} explains images (model.input_shape = (C, H, W)); {model.name} is not one"
        return ok, why

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        from lime.lime_image import LimeImageExplainer

        f = predict_fn(model, target)
        n, d = X.shape
        segments = np.arange(d).reshape(1, d)
        out = np.zeros_like(X)
        for k in range(n):
            b = np.asarray(baseline[k], dtype=np.float64)
            shown = (X[k] - b).reshape(1, d)

            def classifier_fn(images: np.ndarray, b: np.ndarray = b) -> np.ndarray:
                Z = b[None, :] + np.asarray(images, dtype=np.float64)[:, 0, :, 0]
                return np.asarray(f(Z), dtype=np.float64).reshape(-1, 1)

            explainer = LimeImageExplainer(kernel_width=float(self.settings["kernel_width"]), random_state=seed)
            with contextlib.redirect_stderr(io.StringIO()):  # lime_image always draws a tqdm bar on stderr
                exp = explainer.explain_instance(shown, classifier_fn, labels=(0,), hide_color=0, top_labels=None,
                                                 num_features=d, num_samples=int(self.settings["num_samples"]),
                                                 batch_size=int(self.settings["num_samples"]),
                                                 segmentation_fn=lambda image: segments, random_seed=seed)
            for p, value in exp.local_exp[0]:
                out[k, p] = value
        return out


for _cls in (LimeTabular, LimeText, LimeImage):
    register(_cls())
