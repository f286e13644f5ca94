"""generating_relevance: does the explanation separate the generating function's relevant features from its
irrelevant ones? Judged against the *generating* truth of a trained model, never against its exact Shapley values.

A model trained on data from a known function ``g`` (``synthetic_models.trained_tabular``, ``boosted``: ``g`` reads
six features, four others vary in the data but are irrelevant to ``g``) has two truths (issue 12, "judged against the generating
function's relevant set"; Kim et al. 2021, "Sanity simulations for saliency methods"; Arras et al. 2022, CLEVR-XAI;
Zhou et al. 2022, "Do feature attribution methods correctly attribute features?" — attributions scored against
features known to generate the label):

- the trained model's own exact Shapley values (``ground_truth_agreement``: what a faithful explainer must report);
- the generating function's relevant set ``G`` (``model.true_ground_truth.relevant``) and irrelevant set ``U``
  (``true_ground_truth.dummy``): what a data scientist wants the explanation to find.

This check scores the second. Per row r, the AUC of separating G from U by |a| (Mann-Whitney / Hanley & McNeil
1982: the probability that a relevant feature outranks an irrelevant one, ties counting 1/2):

    AUC_r = (1 / |G||U|) Σ_{i∈G, j∈U} [ |a_ri| > |a_rj| + τ ] + ½ [ ||a_ri| - |a_rj|| <= τ ]
    score = clip(2 · mean_r AUC_r - 1, 0, 1)          (the Gini coefficient of the mean AUC; 0 = chance)

τ = ``TIE_RTOL`` × the model's output range on the case's rows and background (the model's units, never the
explainer's own output), so a row of zeros, a constant and "split f(x) - f(b) equally" tie everywhere (AUC ½,
score 0). The score depends on |a| only through comparisons, and τ scales with f, so under f -> αf + c (α > 0) it is
unchanged (unit-invariant). Chance-correcting the *mean* AUC (not each row's) keeps random noise at ~0 instead of
rewarding its per-row luck.

**Cases.** Three ReLU MLPs (10-32-16-1, draws of the case seed) and three boosters (xgboost, lightgbm, scikit-learn
GBM) trained on ``g`` with its relevant features at positions 4..9 (``trained_tabular.LATE_ORDER``: the irrelevant
ones first, so a trick that always ranks feature 0 first finds an irrelevant feature there); 32 rows each, a zero
baseline and 16 background rows.

**Floor 0.1** (degenerate panel, ``explainers.degenerate``): every member has AUC ~ ½ or below: zero, constant and
split_equally tie everywhere; random, identity (|x_i| iid), the memoiser and exact_if_small (random at d = 10) are
noise; ``huge_feature``'s 1e4 lands on irrelevant x0 (AUC 9/24: clipped to 0; with the relevant features first it
won 1/6, measured up to 0.31 on one case); gradient_sign's |sign| ties every feature the model moves; the
``ground_truth_reader`` finds nothing on a sealed model (the generating truth lives on the full model, which only the
check holds) and returns zeros: score 0.

**The trap: the model's fault is not the explainer's.** A trained model may genuinely rely on an irrelevant feature
(it fits noise, or a correlate); a faithful explainer then reports that reliance and "loses" here. So this check is
its own truth axis (``truth = "generating"``): shown in its own column and ranked in its own tracks
(``benchmarks.ranking``), never averaged with the exact-Shapley tracks. The evidence carries what a reader needs to
tell the two apart: ``model_irrelevant_mass`` (the share of the trained model's exact Shapley mass Σ_U|φ| / Σ|φ|,
in the game the explainer is judged on in ``ground_truth_agreement``) and ``exact_shapley_score`` (this check's score
for the exact Shapley values themselves: what a perfectly faithful explainer reaches on this model). A score far
below ``exact_shapley_score`` is the explainer's fault; ``exact_shapley_score`` below 1 is the model's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from xaicheck.synthetic_models.boosted import planted_booster
from xaicheck.synthetic_models.seeding import case_seed
from xaicheck.synthetic_models.trained_tabular import LATE_ORDER, planted_model

from .base import Case, Check, CheckResult, register_check
from .ground_truth_agreement import reference_attribution, reference_kind, rows, standard_case, tree_case, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["GeneratingRelevance", "relevance_auc", "score_of_auc", "generating_score", "TIE_RTOL", "N_ROWS"]

#: Ties: ``||a_i| - |a_j|| <= TIE_RTOL × (the model's output range)``: numerical noise around an exact zero is a tie.
TIE_RTOL = 1e-6
#: Rows per case (issue 12: at least 32).
N_ROWS = 32
_QUICK, _DEFAULT = frozenset({"quick", "default", "full"}), frozenset({"default", "full"})
#: Trained MLPs on the planted function, drawn from the case seed plus these offsets (three draws: a track with
#: fewer than three cases declares no rank); the first is the quick suite's case (an MLP evaluates far faster than
#: a booster's ``predict``, which every exact reference calls 2^10 times per row).
MLP_DRAWS = (0, 1, 2)
#: Boosted trees fitted to the planted function: (library, tiers); ``gbm`` is scikit-learn's.
TREE_MODELS: tuple[tuple[str, frozenset[str]], ...] = (("xgboost", _DEFAULT), ("lightgbm", _DEFAULT), ("gbm", _DEFAULT))


def relevance_auc(A: np.ndarray, relevant: Sequence[int], irrelevant: Sequence[int], tie: float) -> np.ndarray:
    """Per row of ``A`` [n, d]: the AUC of separating ``relevant`` from ``irrelevant`` features by ``|a|`` (ties,
    within ``tie``, count one half)."""
    absA = np.abs(np.atleast_2d(np.asarray(A, dtype=np.float64)))
    g = absA[:, list(relevant)][:, :, None]
    u = absA[:, list(irrelevant)][:, None, :]
    diff = g - u
    wins = (diff > tie).astype(np.float64) + 0.5 * (np.abs(diff) <= tie)
    return wins.mean(axis=(1, 2))


def score_of_auc(auc: np.ndarray) -> float:
    """``clip(2 · mean_r AUC_r - 1, 0, 1)`` of the per-row AUCs (module docstring)."""
    return float(np.clip(2.0 * np.mean(auc) - 1.0, 0.0, 1.0))


def generating_score(A: np.ndarray, relevant: Sequence[int], irrelevant: Sequence[int], tie: float) -> float:
    """``clip(2 · mean_r AUC_r - 1, 0, 1)`` (module docstring)."""
    return score_of_auc(relevance_auc(A, relevant, irrelevant, tie))


def irrelevant_mass(A: np.ndarray, irrelevant: Sequence[int]) -> float:
    """``Σ_rows Σ_{j∈U} |a_j| / Σ |a|`` (0 when every attribution is zero)."""
    absA = np.abs(np.asarray(A, dtype=np.float64))
    total = float(absA.sum())
    return float(absA[:, list(irrelevant)].sum() / total) if total > 0 else 0.0


@register_check
class GeneratingRelevance(Check):
    """Separation of the generating function's relevant from irrelevant features: clip(2·mean AUC − 1, 0, 1)."""

    name = "generating_relevance"
    category = "ground_truth"
    threshold = 0.8
    version = 1
    role = "score"
    #: Its own truth axis: ranked in its own tracks, never averaged with the exact-Shapley checks.
    truth = "generating"
    #: Every panel member is at chance or below, clipped to 0; 0.1 leaves room for noise (module docstring).
    floor = 0.1
    accepts_global = True
    citation = ("Zhou, Booth, Ribeiro & Shah 2022, Do feature attribution methods correctly attribute features? "
                "(AAAI); Kim et al. 2021, Sanity simulations for saliency methods; Hanley & McNeil 1982 (AUC)")

    def cases(self) -> list[Case]:
        out = []
        seed = case_seed()
        for k in MLP_DRAWS:
            model = planted_model("mlp", seed + k, LATE_ORDER)
            name = "trained_mlp_d10_late" + (f"_draw{k}" if k else "")  # stable across case seeds
            tiers = _QUICK if k == 0 else _DEFAULT
            out.append(replace(standard_case(self.name, model, tiers, n=N_ROWS, seed=k), name=name,
                               description=f"ReLU MLP trained on the planted function (draw {k}): relevant x4..x9"))
        for library, tiers in TREE_MODELS:
            model = (planted_model("gbm", seed, LATE_ORDER) if library == "gbm"
                     else planted_booster(library, 0, LATE_ORDER))
            name = f"{library}_d10_late"
            out.append(replace(tree_case(self.name, model, tiers, n=N_ROWS), name=name,
                               description=f"{name} fitted to the planted function: relevant x4..x9"))
        return out

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        truth = getattr(case.model, "true_ground_truth", None)
        if truth is None or not truth.relevant or not truth.dummy:
            return CheckResult.not_applicable(f"{case.id}: the model carries no generating relevant/irrelevant split")
        G, U = sorted(truth.relevant), sorted(truth.dummy)
        A = case.explain(explainer, seed=seed)  # the sealed model: the explainer never sees true_ground_truth
        ref_rows = case.X if case.background is None else np.vstack([case.X, case.background])
        f = case.model.predict_target(ref_rows, case.target)
        tie = TIE_RTOL * float(np.ptp(f)) if np.ptp(f) > 0 else 0.0
        auc = relevance_auc(A, G, U, tie)
        measured = score_of_auc(auc)
        R = reference_attribution(explainer, case.model, case.X, baseline=case.baseline, background=case.background,
                                  target=case.target, training_data=case.extra.get("training_data"))
        ceiling = generating_score(R, G, U, tie)
        model_mass = irrelevant_mass(R, U)
        worst = int(np.argmin(auc))
        evidence: dict[str, Any] = {
            "measured": measured,
            "threshold": self.threshold,
            "pass_if": "clip(2 x mean over rows of AUC(relevant vs irrelevant of g by |a|) - 1, 0, 1) >= threshold",
            "relevant": G,
            "irrelevant": U,
            "mean_auc": float(auc.mean()),
            "row_auc": [float(v) for v in auc],
            "explainer_irrelevant_mass": irrelevant_mass(A, U),
            "model_irrelevant_mass": model_mass,
            "exact_shapley_score": ceiling,
            "exact_reference_kind": reference_kind(explainer),
            "model_error": getattr(case.model, "model_error", None),
            "tie": tie,
            "attributions": rows(A),
        }
        where = "global importance" if A.shape[0] == 1 and case.X.shape[0] != 1 else f"row {worst}"
        detail = (f"{where}: AUC {auc[worst]:.2f}, |a|={np.round(np.abs(A[worst]), 3).tolist()}; the trained model's "
                  f"own exact Shapley values put {model_mass:.1%} of their mass on irrelevant {U} and score "
                  f"{ceiling:.3f} (a faithful explainer's score here: below it is the explainer's fault, the rest "
                  f"the model's)")
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "separation of g's relevant from irrelevant features (2 AUC - 1)", detail)
        return CheckResult.scored(measured, self.threshold, message, evidence)
