"""ground_truth_agreement: how closely an explainer's attributions agree with the exact ground-truth attribution.

Reference R (computed by exact enumeration, ``xaicheck.synthetic_models.shapley``):
- explainers that take background data and no baseline (KernelSHAP, GradientSHAP, DeepLiftSHAP, LIME, ...):
  interventional Shapley values over the case's background, ``v(S) = mean_z f(x_S, z_~S)`` (Janzing et al. 2020;
  Lundberg & Lee 2017 sec. 4 - the quantity these methods estimate);
- every other explainer: baseline Shapley at the case baseline, ``v(S) = f(x_S, b_~S)`` (Sundararajan & Najmi 2020
  "The many Shapley values"; equal to IG / DeepLift / occlusion targets on additive models, and the unique
  attribution satisfying the Shapley axioms for the baseline game). When ``d > MAX_EXACT_FEATURES`` and the model
  declares ``ground_truth.exact_attribution``, that closed form is used instead.

Per row, with S = {i : |R_i| > tol_R} the features that truly carry attribution (rows with S = ∅ are skipped):
- recall  = Σ_{i∈S} P(i ∈ top_|S|(|A|)) / |S|   Krishna et al. 2022 feature agreement at k = |S|, taken against
  the reference's support (so ties inside the reference cannot split the top-k) with ties in A broken at random
  (``top_k_membership``, so a constant explanation scores |S|/d, not 1); left out when |S| = d (trivially 1);
- sign    = #{i∈S : sign_tol(A_i) = sign(R_i)} / |S|   (Krishna's sign agreement on S; |A_i| <= tol_A counts as 0,
  i.e. as wrong: a zero attribution of a feature that matters is no sign);
- rho     = max(0, Spearman(|A|, |R|)) over all d features, values within the tolerance tied (Krishna's rank
  correlation, clipped because an anti-correlated ranking is no better than an unrelated one); left out when every
  |R_i| is tied (e.g. majority at (1,1,1): R = (1/3, 1/3, 1/3) has no ranking, and Spearman against a noisy but
  correct estimate would be arbitrary).
- mag     = max(0, 1 - ||A - R||_2 / ||R||_2)   (local explainers only: the relative error in the truth's units,
  partial credit scaled by the norm of the true attribution; global importances have units of their own, e.g.
  a loss increase, so they are judged on sign and ranks only).
row score = sign × mean of the components present (sign alone when all are left out); score = mean over scored
rows. The sign gates the ranking: a feature ranked right but pushing the output the wrong way is not agreement, so
a sign-flipped exact attribution scores 0, and a constant one sign · (|S|/d + 0) / 2 where R has a ranking and a
partial support. 1 = same support, signs, ranking and values as the exact attribution. Without ``mag`` (version 2)
"x - b", "split f(x) - f(b) equally" and "noise plus one huge feature" earned 0.4-0.55 on sign and ranks alone.
Tolerances (``GT_TOLERANCE``) are relative to the row's largest |R_i| (the norm of the true attribution, in the
model's units) on both sides, never to the explainer's own output: noise plus one huge feature cannot widen them, and
under f -> alpha f + c both A and R scale by alpha, so the score is unchanged (issue 11).

Tree explainers that explain the model's own training distribution (``settings["feature_perturbation"] ==
"tree_path_dependent"``: Saabas) are judged against interventional Shapley over the case's training data
(``extra["training_data"]``, else its background): path-dependent Tree SHAP estimates E[f | x_S] from node covers,
which for independent features is exactly that game (Lundberg, Erion & Lee 2018); judging them against baseline
Shapley at 0 would charge them for a reference they never claimed.

Images at scale (``_image_truth``): a model that declares ``patches`` is judged patch by patch, the explainer's map
summed over each patch against the exact patch Shapley values (baseline or interventional as above, the patches as
the players, enumerated over 2^P coalitions); black-box explainers play the patches themselves
(``explainers/_patches.py``). An image with a pixel-level closed form is judged pixel by pixel, its interventional
value the mean of the closed form at the background rows.

Global importances (scope ``global``, one ``[1, d]`` vector: permutation / impurity importance) are judged against
the global Shapley importance ``R = mean over the case inputs x of |φ(x)|`` (Lundberg et al. 2020, "From local
explanations to global understanding with explainable AI for trees"), with φ the interventional Shapley value over
the case's background (a global importance describes the model on its data, not relative to one baseline). The same
formula then applies to the single row: every R_i >= 0, so ``sign`` asks that each feature that matters gets a
positive importance, ``recall`` that the |S| largest importances are the features that matter, ``rho`` that the
importances are ranked like R. Tree cases (``tree_cough_fever_10_90``: Lundberg 2018 model B, where split gain /
impurity importance ranks Fever above Cough although the model depends more on Cough) use all of {0,1}^d as inputs
and as background (the trees' training data, uniform), so every reference is exact.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from xaicheck.synthetic_models.behaviour_units import UNITS, unit_case_parts
from xaicheck.synthetic_models.scaled import EXACT_GRID, UNIT_CHANGES, GridPoint, scaled_case_parts, scaled_units
from xaicheck.synthetic_models.seeding import case_rng, case_seed
from xaicheck.synthetic_models.text_interactions import negation_case_parts
from xaicheck.synthetic_models.trained_tabular import planted_model
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES, baseline_shapley, interventional_shapley
from xaicheck.synthetic_models.targets import is_per_row, per_target

from xaicheck.synthetic_models.patches import sum_per_patch

from ._image_truth import closed_form_interventional, patch_reference, patches_of
from ._reference_cache import cached_reference
from .agreement_metrics import cosine_similarity, rank_correlation, top_k_membership
from ._declared import declared_case, declared_inputs
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Tolerance, register_check

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = [
    "GT_TOLERANCE",
    "GroundTruthAgreement",
    "ground_truth_score",
    "reference_attribution",
    "reference_kind",
    "rows",
    "standard_case",
    "tree_case",
    "verdict",
]

#: Relative to the row's largest |exact attribution|: below it a value counts as zero; closer than it is a tie.
GT_TOLERANCE = Tolerance(rtol=1e-3, atol=1e-12)
#: Absolute floor of both tolerances, relative to the model's output units (``output_scale``): float64 round-off of
#: an exact enumeration is ~1e-16 of the outputs it sums, so 1e-9 of the output range is zero, not signal.
ZERO_FLOOR = 1e-9
#: Rows of attributions kept in evidence.
EVIDENCE_ROWS = 4


def rows(A: np.ndarray, limit: int = EVIDENCE_ROWS) -> list[list[float]]:
    """At most ``limit`` rows of ``A`` as JSON-serialisable lists."""
    return np.asarray(A, dtype=np.float64)[:limit].tolist()


def verdict(explainer: "Explainer", check: str, case: Case, measured: float, threshold: float, what: str,
            worst: str) -> str:
    """The failure/success line shared by these checks: who, what was compared with which threshold, worst instance.

    ``<explainer> <check> on <case id>: FAIL, <what> = 0.412 < pass threshold 0.8; worst <...>``
    """
    passed = measured >= threshold
    return (f"{explainer.name} {check} on {case.id}: {'PASS' if passed else 'FAIL'}, {what} = {measured:.3f} "
            f"{'>=' if passed else '<'} pass threshold {threshold:g}; worst {worst}")


def reference_kind(explainer: "Explainer") -> str:
    """Which exact attribution ``explainer`` is judged against (see the module docstring)."""
    caps = explainer.capabilities
    if caps.scope == "global":
        return "mean_abs_interventional_shapley"
    if explainer.settings.get("feature_perturbation") == "tree_path_dependent":
        return "training_data_shapley"
    return "interventional_shapley" if caps.uses_background and not caps.uses_baseline else "baseline_shapley"


def reference_attribution(
    explainer: "Explainer",
    model: "SyntheticModel",
    X: np.ndarray,
    *,
    baseline: np.ndarray | None,
    background: np.ndarray | None,
    target: int | None = None,
    training_data: np.ndarray | None = None,
) -> np.ndarray:
    """The exact attribution an explainer is judged against: ``[n, d]``, or ``[1, d]`` for a global explainer.

    A per-row target (``synthetic_models.targets``) gives each row the exact attribution of its own output."""
    if is_per_row(target):
        if reference_kind(explainer) == "mean_abs_interventional_shapley":
            raise ValueError(f"{explainer.name} is global: no reference for per-row targets")
        return per_target(lambda X_g, b_g, t: reference_attribution(
            explainer, model, X_g, baseline=b_g, background=background, target=t, training_data=training_data),
            X, target, None if baseline is None else np.asarray(baseline, dtype=np.float64))

    def predict(Z: np.ndarray) -> np.ndarray:
        return model.predict_target(Z, target)

    kind = reference_kind(explainer)
    if (kind == "interventional_shapley" and model.domain == "image" and model.n_features > MAX_EXACT_FEATURES
            and model.ground_truth.exact_attribution is not None and background is not None):
        return closed_form_interventional(model, X, background)  # images at scale (axioms/_image_truth.py)
    if kind != "baseline_shapley":
        data = training_data if kind == "training_data_shapley" and training_data is not None else background
        if data is None:
            raise ValueError(f"{explainer.name}: the {kind} reference needs background data; the case has none")
        phi = cached_reference("interventional_shapley", model, predict, X, data, data, target,
                               lambda: interventional_shapley(predict, X, data))
        return np.abs(phi).mean(axis=0, keepdims=True) if kind == "mean_abs_interventional_shapley" else phi
    if baseline is None:
        raise ValueError(f"{explainer.name}: baseline Shapley reference needs a baseline; the case has none")
    if model.n_features > MAX_EXACT_FEATURES and model.ground_truth.exact_attribution is not None:
        return np.asarray(model.ground_truth.exact_attribution(X, baseline), dtype=np.float64)
    B = np.broadcast_to(np.asarray(baseline, dtype=np.float64), np.shape(X))
    return cached_reference("baseline_shapley", model, predict, X, B, None, target,
                            lambda: baseline_shapley(predict, X, baseline))


def _row_scale_tol(A: np.ndarray, tol: Tolerance) -> np.ndarray:
    """``rtol * max_i |A_ri| + atol * max |A|`` per row: both terms in the units of ``A`` (the batch's largest value
    replaces an absolute floor, which would make a row of tiny values count in one unit and not in another)."""
    return tol.rtol * np.abs(A).max(axis=1) + tol.atol * float(np.abs(A).max(initial=0.0))


def output_scale(predict: Any, X: np.ndarray, baseline: np.ndarray | None,
                 background: np.ndarray | None = None) -> np.ndarray:
    """Per row ``max(|f(x) - f(b)|, max f - min f)`` over the case's inputs, baseline and background: the model's
    output units, for the absolute floor of a zero reference (``ZERO_FLOOR``)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    n = len(X)
    B, Z = (None if z is None else np.atleast_2d(np.asarray(z, dtype=np.float64)) for z in (baseline, background))
    f = np.asarray(predict(np.vstack([p for p in (X, B, Z) if p is not None])), dtype=np.float64).reshape(-1)
    fx = f[:n]
    spread = float(np.ptp(f)) if f.size else 0.0
    if B is not None:  # one baseline for every row, or one per row
        fb = f[n:n + len(B)] if len(B) == n else f[n]
    else:
        fb = float(np.mean(f[n:])) if f.size > n else fx
    return np.maximum(np.abs(fx - fb), spread)


def ground_truth_score(A: np.ndarray, R: np.ndarray, tol: Tolerance = GT_TOLERANCE, *,
                       magnitude: bool = False, scale: np.ndarray | None = None) -> dict[str, Any]:
    """Per-row components and the score of attributions ``A`` against the exact reference ``R`` (both ``[n, d]``).

    ``magnitude`` adds ``max(0, 1 - ||A - R|| / ||R||)`` (relative error in the truth's units) to the ranking mean.
    Returns ``score`` (float, NaN if no row has a non-empty support), ``row_score`` / ``recall`` / ``sign`` /
    ``rho`` / ``magnitude`` / ``cosine`` (lists over all rows, NaN where not defined) and ``scored_rows`` (indices).

    ``scale`` (per row, the model's output units: :func:`output_scale`) adds an absolute floor ``ZERO_FLOOR *
    scale`` to both tolerances: a reference that is zero up to round-off (``|R_i| ~ 1e-17`` where ``f(x) = f(b)``)
    has an empty support instead of a support of round-off. When *every* row's support is empty (the exact
    attribution is zero), each row scores the share of features the explainer also leaves at zero
    (``|A_i| <= tol``): a correct all-zero explanation scores 1, random attributions ~0 (issue 23).
    """
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    R = np.atleast_2d(np.asarray(R, dtype=np.float64))
    if A.shape != R.shape:
        raise ValueError(f"attributions of shape {A.shape} cannot be compared with a reference of shape {R.shape}")
    n, d = A.shape
    tol_r = _row_scale_tol(R, tol)
    if scale is not None:
        tol_r = np.maximum(tol_r, ZERO_FLOOR * np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,)))
    tol_a = tol_r  # the truth's units on both sides (module docstring)
    support = np.abs(R) > tol_r[:, None]
    size = support.sum(axis=1)
    scored = size > 0
    recall = np.full(n, np.nan)
    partial = scored & (size < d)
    if partial.any():
        member = top_k_membership(A[partial], size[partial], tol_a[partial])
        recall[partial] = (member * support[partial]).sum(axis=1) / size[partial]
    sign_a = np.where(np.abs(A) > tol_a[:, None], np.sign(A), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sign = np.where(scored, ((sign_a == np.sign(R)) & support).sum(axis=1) / size, np.nan)
    # ranks in the truth's units: divide both rows by the largest |R_i| so one relative tolerance ties both sides
    unit = np.where(np.abs(R).max(axis=1) > 0, np.abs(R).max(axis=1), 1.0)[:, None]
    norm_a, norm_r = A / unit, R / unit
    rho = np.maximum(0.0, rank_correlation(norm_a, norm_r, absolute=True, atol=tol.rtol))
    abs_r = np.abs(R)
    flat_reference = (abs_r.max(axis=1) - abs_r.min(axis=1)) <= tol_r  # every feature tied: no ranking to match
    rho = np.where(scored & ~flat_reference, rho, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm_r2 = np.sqrt((R**2).sum(axis=1))
        rel = np.maximum(0.0, 1.0 - np.sqrt(((A - R) ** 2).sum(axis=1)) / norm_r2)
    magnitude_part = np.where(scored & magnitude, rel, np.nan)
    parts = np.vstack([recall, rho, magnitude_part])
    count = (~np.isnan(parts)).sum(axis=0)
    ranking = np.where(count > 0, np.nansum(parts, axis=0) / np.maximum(count, 1), 1.0)
    row_score = np.where(scored, sign * ranking, np.nan)
    if scale is not None and not scored.any():  # the exact attribution is zero: zero is the answer
        row_score = (np.abs(A) <= tol_a[:, None]).mean(axis=1)
        scored = np.ones(n, dtype=bool)
    score = float(np.mean(row_score[scored])) if scored.any() else float("nan")
    return {
        "score": score,
        "row_score": row_score.tolist(),
        "recall": recall.tolist(),
        "sign": sign.tolist(),
        "rho": rho.tolist(),
        "magnitude": magnitude_part.tolist(),
        "cosine": cosine_similarity(A, R).tolist(),
        "scored_rows": np.flatnonzero(scored).tolist(),
    }


def _nan_to_none(values: Sequence[float]) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in values]


def _truth_table_rows(d: int, limit: int) -> np.ndarray:
    """The non-zero rows of {0,1}^d (most ones first), at most ``limit`` of them."""
    codes = np.arange(1, 1 << d)
    table = ((codes[:, None] >> np.arange(d)) & 1).astype(np.float64)
    order = np.argsort(-table.sum(axis=1), kind="stable")
    return table[order][:limit]


_QUICK, _DEFAULT, _FULL = frozenset({"quick", "default", "full"}), frozenset({"default", "full"}), frozenset({"full"})


def standard_case(check: str, model: "SyntheticModel", tiers: frozenset[str], *, n: int = 4, seed: int = 0,
                  n_background: int = 16, description: str = "") -> Case:
    """A case on ``model``: binary models use non-zero truth-table rows, others ``n`` seeded samples; zero baseline."""
    rng = case_rng(seed)
    d = model.n_features
    X = _truth_table_rows(d, n) if model.domain == "binary" else model.sample(n, rng)
    background = model.sample(n_background, rng)
    return Case(check=check, name=model.name, model=model, X=X, baseline=np.zeros(d), background=background,
                tiers=tiers, description=description)


def tree_case(check: str, model: "SyntheticModel", tiers: frozenset[str], *, n: int = 8, seed: int = 0) -> Case:
    """A case on a fitted tree model: binary models use all of {0,1}^d as inputs, background and training data
    (the trees were fitted on the uniform truth table); others ``n`` inputs and 16 background rows."""
    if model.domain == "binary":
        table = np.vstack([np.zeros(model.n_features), _truth_table_rows(model.n_features, 1 << model.n_features)])
        return Case(check=check, name=model.name, model=model, X=table, baseline=np.zeros(model.n_features),
                    background=table, extra={"training_data": table}, tiers=tiers,
                    description=f"fitted tree {model.name}: every input of {{0,1}}^{model.n_features}, uniform data")
    base = standard_case(check, model, tiers, n=n, seed=seed)
    return Case(check=check, name=model.name, model=model, X=base.X, baseline=base.baseline,
                background=base.background, tiers=tiers, description=f"fitted tree ensemble {model.name}")


@register_check
class GroundTruthAgreement(Check):
    """Agreement with the exact Shapley attribution: mean over rows of sign-on-S × mean(recall@|S|, max(0, ρ), mag)."""

    name = "ground_truth_agreement"
    category = "ground_truth"
    threshold = 0.8
    version = 3
    #: Floor 0.6: ``exact_if_small`` is the exact oracle on the 3 quick cases with d <= 4 and random on the 3 with
    #: d > 4, so it scores (3 * 1 + 3 * ~0.2) / 6 ~= 0.6; every other panel member measured lower (memoiser's
    #: sign-of-gradient x input 0.56, split_equally 0.41, identity 0.33, random 0.15; tests/test_degenerate_panel.py).
    #: A score at or below 0.6 says nothing a suite-gaming explainer could not also achieve.
    floor = 0.6
    citation = ("Krishna et al. 2022, The disagreement problem in explainable ML (metrics); "
                "Sundararajan & Najmi 2020, The many Shapley values (reference); "
                "Lundberg et al. 2020, From local explanations to global understanding (global reference)")
    accepts_global = True

    def _placed_case(self, model: "SyntheticModel", place: "Placement") -> Case | None:
        """A placed model: fitted trees (``"tree"`` in its forms) get ``tree_case`` (scored by tree explainers and
        global importances); any other model with d <= ``MAX_EXACT_FEATURES`` gets ``standard_case`` (4 rows)."""
        if "tree" in model.forms:
            return tree_case(self.name, model, place.tiers)
        if model.n_features > MAX_EXACT_FEATURES:
            return None
        return standard_case(self.name, model, place.tiers,
                             description=f"exact Shapley attribution of {model.name}")

    def cases(self) -> list[Case]:
        out = placed_cases(self.name, self._placed_case)
        for point in EXACT_GRID:  # scale in every family, drawn from the case seed (synthetic_models/scaled.py)
            name, model, X, b, background = scaled_case_parts(point)
            out.append(Case(self.name, name, model, X, baseline=b, background=background, tiers=point.tiers,
                            description=f"exact Shapley attribution of {model.name} ({point.rows} rows, d={point.d})"))
        for label, _, _ in UNIT_CHANGES:  # the scaled MLP in other units: separates what its twin cannot (scaled.py)
            point = GridPoint("mlp", 8, 32, _DEFAULT)
            name, _, X, b, background = scaled_case_parts(point)
            model = scaled_units(point.d, label)
            out.append(Case(self.name, f"{name}_{label}", model, X, baseline=b, background=background, tiers=_DEFAULT,
                            description=f"exact Shapley attribution of {model.name} (the mlp_d8 case in other units)"))
        for unit in UNITS:  # behaviour units that break methods (synthetic_models/behaviour_units.py)
            name, model, X, b, background, target = unit_case_parts(unit)
            out.append(Case(self.name, name, model, X, baseline=b, background=background, target=target,
                            tiers=_DEFAULT, description=f"exact Shapley attribution of {model.name}"))
        for kind in ("mlp", "gbm"):  # trained on a planted function at d=10 (synthetic_models/trained_tabular.py)
            model = planted_model(kind, case_seed())
            make = tree_case if kind == "gbm" else standard_case
            name = "gbm_d10" if kind == "gbm" else "trained_mlp_d10"  # stable across case seeds
            out.append(replace(make(self.name, model, _DEFAULT, n=32), name=name))
        name, model, X, b, background = negation_case_parts()  # tokens with negation (text_interactions.py)
        out.append(Case(self.name, name, model, X, baseline=b, background=background, tiers=_DEFAULT,
                        description="per-token exact Shapley of a sentiment model with 'not' and 'very'"))
        return out

    def cases_for(self, model: "SyntheticModel", suite: str) -> Sequence[Case]:
        """Models whose exact attribution is known: d <= ``MAX_EXACT_FEATURES`` (enumerated), a declared closed
        form, or an image with declared patches (judged patch by patch: ``_image_truth``); the declared rows (as
        many background rows) and baseline."""
        if (model.n_features > MAX_EXACT_FEATURES and model.ground_truth.exact_attribution is None
                and patches_of(model) is None):
            return []
        X, background = declared_inputs(model, suite)
        return [declared_case(self.name, model, X, "exact attribution", background=background)]

    def applies(self, explainer: "Explainer", case: Case) -> tuple[bool, str]:
        """As ``Check.applies``; a global importance is not judged on an image (the image track ranks local maps, and
        a global importance over thousands of pixels costs minutes a case)."""
        if explainer.capabilities.scope == "global" and case.model.domain == "image":
            return False, f"{self.name} judges images by local maps; {explainer.name} is global"
        return super().applies(explainer, case)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        kind = reference_kind(explainer)
        # per target column (a per-row target explains each row at its own column)
        scale = per_target(lambda Xg, b, t: output_scale(lambda Z: case.model.predict_target(Z, t), Xg, b,
                                                         case.background), case.X, case.target, case.baseline)
        if A.shape[0] != np.shape(case.X)[0]:  # one global row: the largest scale of the case's rows
            scale = np.array([float(np.max(scale))])
        patches = patches_of(case.model)
        if patches is not None and kind != "mean_abs_interventional_shapley":
            # an image with declared patches: pixel maps summed per patch vs exact patch Shapley (_image_truth)
            A = sum_per_patch(A, patches)
            R = patch_reference(kind, case.model, case.X, baseline=case.baseline, background=case.background,
                                target=case.target)
        else:
            R = reference_attribution(explainer, case.model, case.X, baseline=case.baseline,
                                      background=case.background, target=case.target,
                                      training_data=case.extra.get("training_data"))
        parts = ground_truth_score(A, R, magnitude=kind != "mean_abs_interventional_shapley", scale=scale)
        if not parts["scored_rows"]:
            return CheckResult.not_applicable(f"{case.id}: the exact attribution is zero on every row")
        measured = parts["score"]
        worst = min(parts["scored_rows"], key=lambda r: parts["row_score"][r])
        evidence = {
            "measured": measured,
            "threshold": self.threshold,
            "pass_if": "score = mean over scored rows of sign x mean(recall@|S|, max(0, rho)) >= threshold",
            "attributions": rows(A),
            "reference": rows(R),
            "reference_kind": kind,
            "row_score": _nan_to_none(parts["row_score"]),
            "recall": _nan_to_none(parts["recall"]),
            "sign": _nan_to_none(parts["sign"]),
            "rho": _nan_to_none(parts["rho"]),
            "cosine": _nan_to_none(parts["cosine"]),
            "worst_row": worst,
            "tolerance": {"rtol": GT_TOLERANCE.rtol, "atol": GT_TOLERANCE.atol},
        }
        where = ("global importance" if A.shape[0] == 1 and case.X.shape[0] != 1
                 else f"row {worst}" if case.model.domain == "image"  # an image row: thousands of pixels
                 else f"row {worst} x={np.round(case.X[worst], 3).tolist()}")
        if case.model.domain == "image" and patches is None:
            top = np.argsort(-np.abs(R[worst]), kind="stable")[:4]
            where += f" (largest true pixels {top.tolist()}: a={np.round(A[worst, top], 3).tolist()})"
            A_show, R_show = A[:, :0], R[:, :0]
        else:
            A_show, R_show = A, R
        comp = ", ".join(f"{k} {parts[k][worst]:.2f}" if np.isfinite(parts[k][worst]) else f"{k} n/a"
                         for k in ("sign", "recall", "rho"))
        detail = (f"{where}: row score {parts['row_score'][worst]:.3f} ({comp}), a={np.round(A_show[worst], 3).tolist()} "
                  f"vs {kind}={np.round(R_show[worst], 3).tolist()}")
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "agreement with the exact attribution (mean row score)", detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
