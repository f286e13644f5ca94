"""localisation: does the attribution land where the model's evidence is known to be?

Image models (``ground_truth.mask``, the pixels the output depends on) - relevance mass accuracy (Arras, Osman &
Samek 2022, "CLEVR-XAI: a benchmark dataset for the ground truth evaluation of neural network explanations", sec. 4):

    RMA(x) = Σ_{i ∈ mask} max(a_i, 0) / Σ_i max(a_i, 0)     (0 when no attribution is positive)

Only positive relevance counts, as in the paper (the evidence FOR the output); the cases use inputs with
f(x) > f(baseline), so a faithful explanation has positive mass. Relevance rank accuracy
RRA = |top_K(a) ∩ mask| / K with K = |mask| (ranked by |a|, ties at random) is reported in evidence.

Token models (``ground_truth.token_weights`` w, presence features), token level:

    mass(x) = Σ_{i : w_i ≠ 0} |a_i| / Σ_i |a_i|      (share of attribution on tokens that carry weight; 0 if a = 0)
    sign(x) = #{i : x_i = 1, w_i ≠ 0, sign_tol(a_i) = sign(w_i)} / #{i : x_i = 1, w_i ≠ 0}
    row score = mass × sign

(signs are judged on present tokens only: for an absent token the true contribution relative to a background has
the sign of -w_i; |a_i| <= tol counts as no sign). score = mean over rows. ``LOC_TOLERANCE`` is relative to the
row's largest |a|.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.image_watermark import WATERMARK_CLASS, localisation_rows, watermark_cnn
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.seeding import case_rng, case_seed

from .agreement_metrics import top_k_membership
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import rows, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["Localisation", "relevance_mass_accuracy", "relevance_rank_accuracy", "token_localisation"]

LOC_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-12)


def relevance_mass_accuracy(A: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``[n]`` share of positive attribution inside ``mask`` (0 for rows without positive attribution)."""
    pos = np.maximum(np.atleast_2d(np.asarray(A, dtype=np.float64)), 0.0)
    total = pos.sum(axis=1)
    inside = pos[:, np.asarray(mask, dtype=bool)].sum(axis=1)
    return np.where(total > 0, inside / np.where(total > 0, total, 1.0), 0.0)


def relevance_rank_accuracy(A: np.ndarray, mask: np.ndarray, tol: Tolerance = LOC_TOLERANCE) -> np.ndarray:
    """``[n]`` expected share of the top-|mask| features (by |a|, ties broken at random) that lie inside ``mask``."""
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    mask = np.asarray(mask, dtype=bool)
    k = int(mask.sum())
    member = top_k_membership(A, k, tol.bound(np.abs(A).max(axis=1)))
    return member[:, mask].sum(axis=1) / k


def token_localisation(A: np.ndarray, X: np.ndarray, weights: np.ndarray,
                       tol: Tolerance = LOC_TOLERANCE) -> dict[str, np.ndarray]:
    """Per-row ``mass``, ``sign`` and ``score = mass × sign`` for a token model (see the module docstring)."""
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    weighted = np.abs(w) > 0
    total = np.abs(A).sum(axis=1)
    mass = np.where(total > 0, np.abs(A[:, weighted]).sum(axis=1) / np.where(total > 0, total, 1.0), 0.0)
    present = (np.asarray(X) > 0.5) & weighted[None, :]
    sign_a = np.where(np.abs(A) > tol.bound(np.abs(A).max(axis=1))[:, None], np.sign(A), 0.0)
    hits = ((sign_a == np.sign(w)[None, :]) & present).sum(axis=1)
    count = present.sum(axis=1)
    sign = np.where(count > 0, hits / np.maximum(count, 1), np.nan)
    return {"mass": mass, "sign": sign, "score": mass * sign}


def _image_case(model: "SyntheticModel") -> Case:
    rng = case_rng(5)
    pool = model.sample(32, rng)
    baseline = np.zeros(model.n_features)
    gain = model.predict_target(pool) - model.predict_target(baseline[None, :])[0]
    X = pool[np.argsort(-gain, kind="stable")[:2]]
    return Case(check="localisation", name=model.name, model=model, X=X, baseline=baseline,
                background=model.sample(8, rng), tiers=frozenset({"quick", "default", "full"}),
                description="relevance mass accuracy inside the known patch (inputs with the largest f(x) - f(0))")


def _text_case(model: "SyntheticModel") -> Case:
    rng = case_rng(6)
    pool = model.sample(64, rng)
    w = np.asarray(model.ground_truth.token_weights, dtype=np.float64)
    useful = ((pool > 0.5) & (np.abs(w) > 0)[None, :]).sum(axis=1) >= 2
    X = pool[useful][:4]
    return Case(check="localisation", name=model.name, model=model, X=X, baseline=np.zeros(model.n_features),
                background=model.sample(16, rng), tiers=frozenset({"quick", "default", "full"}),
                description="token-level mass on weighted tokens x sign agreement with the known weights")


def _watermark_case() -> Case:
    """The digits CNN with a planted watermark (synthetic_models/image_watermark.py): class 1 explained on held-out
    watermarked images of other digits, which the model misclassifies as 1 because of the watermark."""
    rng = case_rng(7)
    model = watermark_cnn(case_seed())
    return Case(check="localisation", name="digits_watermark_cnn", model=model, X=localisation_rows(model, 4, rng),
                baseline=np.zeros(model.n_features), background=model.sample(8, rng), target=WATERMARK_CLASS,
                tiers=frozenset({"default", "full"}),
                description="relevance mass accuracy on the planted watermark (misclassified digits, class 1)")


@register_check
class Localisation(Check):
    """Image: relevance mass accuracy in the known patch. Text: mass on weighted tokens × sign agreement."""

    name = "localisation"
    category = "ground_truth"
    threshold = 0.8
    version = 1
    citation = ("Arras, Osman & Samek 2022, CLEVR-XAI (relevance mass / rank accuracy); "
                "token weights: known linear bag-of-words model")

    def cases(self) -> list[Case]:
        return [_image_case(get_model("image_patch")), _text_case(get_model("token_sentiment")), _watermark_case()]

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        gt = case.model.ground_truth
        evidence: dict = {"threshold": self.threshold, "attributions": rows(A)}
        if gt.mask is not None:
            rma = relevance_mass_accuracy(A, gt.mask)
            rra = relevance_rank_accuracy(A, gt.mask)
            measured = float(rma.mean())
            worst = int(np.argmin(rma))
            evidence.update(measured=measured, relevance_mass_accuracy=rma.tolist(),
                            relevance_rank_accuracy=rra.tolist(), mask=np.flatnonzero(gt.mask).tolist(),
                            input_shape=list(case.model.input_shape or ()))
            what = "relevance mass accuracy (mean share of positive attribution inside the patch)"
            detail = (f"row {worst}: {rma[worst]:.3f} of the positive attribution in the {int(np.sum(gt.mask))}-pixel "
                      f"patch (rank accuracy {rra[worst]:.3f})")
        elif gt.token_weights is not None:
            parts = token_localisation(A, case.X, gt.token_weights)
            scored = np.isfinite(parts["score"])
            if not scored.any():
                return CheckResult.not_applicable(f"{case.id}: no input contains a weighted token")
            measured = float(parts["score"][scored].mean())
            worst = int(np.flatnonzero(scored)[np.argmin(parts["score"][scored])])
            evidence.update(measured=measured, mass=parts["mass"].tolist(),
                            sign=[None if not np.isfinite(s) else float(s) for s in parts["sign"]],
                            token_weights=np.asarray(gt.token_weights, dtype=float).tolist(),
                            tokens=list(case.model.feature_names), inputs=rows(case.X))
            what = "token localisation (mean of mass on weighted tokens x sign agreement)"
            present = [case.model.feature_names[i] for i in np.flatnonzero(case.X[worst] > 0.5)]
            detail = (f"row {worst} (tokens {present}): mass on weighted tokens {parts['mass'][worst]:.3f} x "
                      f"sign {parts['sign'][worst]:.3f}")
        else:
            return CheckResult.not_applicable(f"{case.id}: the model has neither a mask nor token weights")
        evidence["worst_row"] = worst
        message = verdict(explainer, self.name, case, measured, self.threshold, what, detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
