"""localisation: does the attribution land where the model's evidence is known to be?

Image models (``ground_truth.mask``, the pixels the output depends on) - relevance mass accuracy (Arras, Osman &
Samek 2022, "CLEVR-XAI: a benchmark dataset for the ground truth evaluation of neural network explanations", sec. 4):

    RMA(x) = Σ_{i ∈ mask} max(a_i, 0) / Σ_i max(a_i, 0)     (0 when no attribution is positive)

Only positive relevance counts, as in the paper (the evidence FOR the output); the cases use inputs with
f(x) > f(baseline), so a faithful explanation has positive mass. Relevance rank accuracy
RRA = |top_K(a) ∩ mask| / K with K = |mask| (ranked by |a|, ties at random) is reported in evidence.

Location alone is met by a degenerate map (the sign of the gradient puts all its positive mass on the patch, issue
11), so each row's location score is multiplied by the ranking inside the evidence:

    rank(x) = max(0, Spearman(|a_i|, |φ_i|) over the evidence features)       (Krishna et al. 2022 rank agreement)

with φ the exact baseline Shapley value of the patch pixels (the 9 pixels are enumerated, every other pixel is a dummy,
Sundararajan & Najmi 2020) for images and the known weights |w_i| of the present tokens for text; values closer than
``LOC_TOLERANCE`` of max |φ| are tied (the truth's units). A flat map inside the evidence has no ranking and gets 0.
Larger images (``_image_truth``): a model that declares ``patches`` ranks its evidence patches, the explainer's map
summed per patch against the exact baseline patch Shapley values (2^P coalitions); a model with a pixel-level closed
form ranks its mask pixels against that closed form.

Token models (``ground_truth.token_weights`` w, presence features), token level:

    mass(x) = Σ_{i : w_i ≠ 0} |a_i| / Σ_i |a_i|      (share of attribution on tokens that carry weight; 0 if a = 0)
    sign(x) = #{i : x_i = 1, w_i ≠ 0, sign_tol(a_i) = sign(w_i)} / #{i : x_i = 1, w_i ≠ 0}
    row score = mass × sign × rank      (image: RMA × rank)

(signs are judged on present tokens only: for an absent token the true contribution relative to a background has
the sign of -w_i; |a_i| <= tol counts as no sign). score = mean over rows. ``LOC_TOLERANCE`` is relative to the
largest |w_i| (the true contributions' units, never the explainer's own output), so the score is invariant to
f -> alpha f + c; mass and RMA are ratios of the explainer's own attributions (a share, unit-free).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.image_watermark import WATERMARK_CLASS, localisation_rows, watermark_cnn
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.seeding import case_rng, case_seed

from xaicheck.synthetic_models.shapley import baseline_shapley
from xaicheck.synthetic_models.targets import is_per_row, per_target

from xaicheck.synthetic_models.patches import sum_per_patch
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

from ._image_truth import patch_reference, patches_of
from .agreement_metrics import rank_correlation, top_k_membership
from ._declared import declared_case
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import rows, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["Localisation", "relevance_mass_accuracy", "relevance_rank_accuracy", "token_localisation",
           "patch_shapley", "evidence_rank"]

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


def patch_shapley(model: "SyntheticModel", X: np.ndarray, baseline: np.ndarray, mask: np.ndarray,
                  target: int | None = None) -> np.ndarray:
    """``[n, |mask|]`` exact baseline Shapley values of the mask features (the others are dummies, held at ``b``);
    a per-row target gives each row the values of its own output."""
    if is_per_row(target):
        return per_target(lambda X_g, t: patch_shapley(model, X_g, baseline, mask, t), X, target)
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    b = np.asarray(baseline, dtype=np.float64).reshape(-1)

    def g(P: np.ndarray) -> np.ndarray:
        Z = np.repeat(b[None, :], len(P), axis=0)
        Z[:, idx] = P
        return model.predict_target(Z, target)

    return baseline_shapley(g, np.asarray(X, dtype=np.float64)[:, idx], b[idx])


def evidence_rank(A: np.ndarray, truth: np.ndarray, features: list[np.ndarray],
                  tol: Tolerance = LOC_TOLERANCE) -> np.ndarray:
    """``[n]`` max(0, Spearman(|a|, |truth|)) per row over that row's evidence ``features`` (ties within ``tol`` of the
    row's max |truth|); rows with fewer than two evidence features, or whose truth is tied on all of them, score 1
    (no ranking to get wrong)."""
    out = np.ones(len(A))
    for k, feats in enumerate(features):
        if len(feats) < 2:
            continue
        unit = max(float(np.abs(truth[k, feats]).max()), 1e-300)
        if np.ptp(np.abs(truth[k, feats])) <= tol.rtol * unit:
            continue  # e.g. 'great' (+2) and 'awful' (-2): equal magnitudes, no order to match
        rho = rank_correlation(A[k:k + 1, feats] / unit, truth[k:k + 1, feats] / unit, absolute=True, atol=tol.rtol)
        flat_a = np.ptp(np.abs(A[k, feats])) <= tol.rtol * unit
        out[k] = 0.0 if flat_a else max(0.0, float(rho[0]))
    return out


def token_localisation(A: np.ndarray, X: np.ndarray, weights: np.ndarray,
                       tol: Tolerance = LOC_TOLERANCE) -> dict[str, np.ndarray]:
    """Per-row ``mass``, ``sign`` and ``score = mass × sign`` for a token model (see the module docstring)."""
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    weighted = np.abs(w) > 0
    total = np.abs(A).sum(axis=1)
    mass = np.where(total > 0, np.abs(A[:, weighted]).sum(axis=1) / np.where(total > 0, total, 1.0), 0.0)
    present = (np.asarray(X) > 0.5) & weighted[None, :]
    sign_a = np.where(np.abs(A) > tol.bound(np.abs(w).max()), np.sign(A), 0.0)  # the truth's units, not A's
    hits = ((sign_a == np.sign(w)[None, :]) & present).sum(axis=1)
    count = present.sum(axis=1)
    sign = np.where(count > 0, hits / np.maximum(count, 1), np.nan)
    truth = np.broadcast_to(w, A.shape) * present
    rank = evidence_rank(A, truth, [np.flatnonzero(row) for row in present], tol)
    return {"mass": mass, "sign": sign, "rank": rank, "score": mass * sign * rank}


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
    """Image: relevance mass accuracy in the known patch × rank agreement there. Text: mass on weighted tokens × sign
    agreement × rank agreement (module docstring)."""

    name = "localisation"
    category = "ground_truth"
    threshold = 0.8
    version = 2
    #: Floor 0.35: the best degenerate map is the sign of the gradient times the input (the memoiser's answer): right
    #: location, ranking by |x| rather than by contribution, 0.34 on the quick cases; huge_feature 0.25, random 0.09,
    #: zero / constant / sign of the gradient / split_equally 0 (tests/test_degenerate_panel.py).
    floor = 0.35
    citation = ("Arras, Osman & Samek 2022, CLEVR-XAI (relevance mass / rank accuracy); "
                "token weights: known linear bag-of-words model; Krishna et al. 2022 (rank agreement)")

    def cases(self) -> list[Case]:
        return [_image_case(get_model("image_patch")), _text_case(get_model("token_sentiment")), _watermark_case()]

    def cases_for(self, model: "SyntheticModel", suite: str) -> list[Case]:
        """Models that declare a ``mask`` (of at most ``MAX_EXACT_FEATURES`` features, or with declared patches or a
        closed form: the rank inside it needs its exact Shapley values) or token weights: the ``rows`` draws of 4 x rows with the largest gain f(x) - f(b) of
        the explained output (so a faithful map has positive mass), the declared baseline."""
        from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES
        from xaicheck.synthetic_models.targets import resolve_target

        gt = model.ground_truth
        if gt.mask is None and gt.token_weights is None:
            return []
        if (gt.mask is not None and int(np.sum(gt.mask)) > MAX_EXACT_FEATURES and patches_of(model) is None
                and gt.exact_attribution is None):
            return []
        n = model.declarations.n_rows(suite)
        rng = np.random.default_rng(5)
        pool = model.sample(max(32, 4 * n), rng)
        B = np.broadcast_to(model.declarations.baseline_for(pool), pool.shape)
        target = resolve_target(model, pool)
        gain = model.predict_target(pool, target) - model.predict_target(np.array(B), target)
        X = pool[np.argsort(-gain, kind="stable")[:n]]
        return [declared_case(self.name, model, X, "attribution inside the declared mask / on the weighted tokens",
                              background=model.sample(n, rng))]

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        gt = case.model.ground_truth
        evidence: dict = {"threshold": self.threshold, "attributions": rows(A)}
        if gt.mask is not None:
            rma = relevance_mass_accuracy(A, gt.mask)
            rra = relevance_rank_accuracy(A, gt.mask)
            idx = np.flatnonzero(gt.mask)
            phi = np.zeros(A.shape)
            B = np.broadcast_to(case.baseline, case.X.shape)
            patches = patches_of(case.model)
            A_rank = A
            if patches is not None:  # rank the evidence patches: patch sums vs exact patch Shapley (_image_truth)
                idx = np.unique(patches[np.asarray(gt.mask, dtype=bool)])
                A_rank = sum_per_patch(A, patches)
                phi = patch_reference("baseline_shapley", case.model, case.X, baseline=B, background=None,
                                      target=case.target)
            elif len(idx) > MAX_EXACT_FEATURES:  # a closed form (checked by cases_for)
                phi = np.asarray(gt.exact_attribution(case.X, B), dtype=np.float64)
            elif np.ndim(case.baseline) == 1:
                phi[:, idx] = patch_shapley(case.model, case.X, B[0], gt.mask, case.target)
            else:  # a declared per-row baseline: each row's patch values against its own baseline
                phi[:, idx] = np.vstack([patch_shapley(case.model, case.X[k:k + 1], B[k], gt.mask,
                                                       case.target[k:k + 1] if is_per_row(case.target) else case.target)
                                         for k in range(len(case.X))])
            rank = evidence_rank(A_rank, phi, [idx] * len(A))
            row = rma * rank
            measured = float(row.mean())
            worst = int(np.argmin(row))
            evidence.update(measured=measured, relevance_mass_accuracy=rma.tolist(), evidence_rank=rank.tolist(),
                            relevance_rank_accuracy=rra.tolist(), mask=np.flatnonzero(gt.mask).tolist(),
                            input_shape=list(case.model.input_shape or ()))
            what = "relevance mass accuracy x rank agreement inside the patch (mean over rows)"
            detail = (f"row {worst}: {rma[worst]:.3f} of the positive attribution in the {int(np.sum(gt.mask))}-pixel "
                      f"patch, Spearman with exact patch Shapley {rank[worst]:.3f} (rank accuracy {rra[worst]:.3f})")
        elif gt.token_weights is not None:
            parts = token_localisation(A, case.X, gt.token_weights)
            scored = np.isfinite(parts["score"])
            if not scored.any():
                return CheckResult.not_applicable(f"{case.id}: no input contains a weighted token")
            measured = float(parts["score"][scored].mean())
            worst = int(np.flatnonzero(scored)[np.argmin(parts["score"][scored])])
            evidence.update(measured=measured, mass=parts["mass"].tolist(), evidence_rank=parts["rank"].tolist(),
                            sign=[None if not np.isfinite(s) else float(s) for s in parts["sign"]],
                            token_weights=np.asarray(gt.token_weights, dtype=float).tolist(),
                            tokens=list(case.model.feature_names), inputs=rows(case.X))
            what = "token localisation (mean of mass on weighted tokens x sign agreement x rank agreement)"
            present = [case.model.feature_names[i] for i in np.flatnonzero(case.X[worst] > 0.5)]
            detail = (f"row {worst} (tokens {present}): mass on weighted tokens {parts['mass'][worst]:.3f} x "
                      f"sign {parts['sign'][worst]:.3f} x rank {parts['rank'][worst]:.3f}")
        else:
            return CheckResult.not_applicable(f"{case.id}: the model has neither a mask nor token weights")
        evidence["worst_row"] = worst
        message = verdict(explainer, self.name, case, measured, self.threshold, what, detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
