"""Krishna et al. 2022: the disagreement problem — popular explainers disagree on the same inputs.

They define, per instance and top-k, feature agreement, rank agreement, sign agreement, signed rank agreement,
plus rank correlation (Spearman) and pairwise rank agreement over a feature set, and apply them to
LIME, KernelSHAP, Gradient, SmoothGrad, Integrated Gradients and Gradient x Input on trained models, finding that the
methods often disagree, more so under the stricter (rank / sign) metrics.

We explain ``N_INPUTS`` seeded inputs of ``pairwise_interactions`` (a polynomial with three pairwise feature
interactions and a dummy, d = 6; a stand-in for their non-linear trained models) with every available method of
their list (project adapters) and compute the metrics with ``xaicheck.axioms.agreement_metrics`` for every pair.

Citation: S. Krishna, T. Han, A. Gu, J. Pombra, S. Jabbari, S. Wu, H. Lakkaraju, "The disagreement problem in
explainable machine learning: a practitioner's perspective", arXiv:2202.01602 (2022).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from ._common import explain
from .claims import Claim, Measurement, NotAvailable, Paper, fmt, measures, need_attr, need_model

__all__ = ["PAPER", "CLAIMS"]

MODEL = "pairwise_interactions"
#: Their six methods, by project name.
METHODS: tuple[str, ...] = ("lime_tabular", "shap_kernel", "saliency", "smoothgrad", "integrated_gradients",
                            "input_x_gradient")
N_INPUTS = 8
N_BACKGROUND = 16
TOP_K = 3
SEED = 0

CLAIMS: tuple[Claim, ...] = (
    Claim("methods_disagree", "Explanation methods often disagree on the top-k features of the same instance.",
          "empirical analysis (agreement metrics)", "feature agreement@k < 1 for most method pairs"),
    Claim("stricter_metrics_lower", "Agreement is lower still under the stricter metrics that also require the same "
          "rank and sign.", "empirical analysis (agreement metrics)", "signed rank agreement < feature agreement"),
    Claim("rank_correlation_below_one", "The rank correlation of the full feature rankings is below 1 for most "
          "method pairs.", "empirical analysis (rank correlation)",
          "Spearman ρ < 1 for most pairs (their values are for their datasets and models, not comparable)"),
)


def _attributions() -> tuple[dict[str, np.ndarray], list[str], Any]:
    from xaicheck.explainers import get_explainer
    from xaicheck.explainers.base import applicability

    model = need_model(MODEL)
    rng = np.random.default_rng(SEED)
    X = model.sample(N_INPUTS, rng)
    background = model.sample(N_BACKGROUND, rng)
    baseline = background.mean(axis=0)
    got, missing = {}, []
    for name in METHODS:
        try:
            exp = get_explainer(name)
        except KeyError:
            missing.append(name)
            continue
        if not applicability(exp, model)[0]:
            missing.append(name)
            continue
        got[name] = explain(exp, model, X, baseline=baseline, background=background, seed=SEED)
    if len(got) < 3:
        raise NotAvailable(f"needs at least 3 of {list(METHODS)}; available: {sorted(got)}")
    return got, missing, model


@measures("methods_disagree", "stricter_metrics_lower", "rank_correlation_below_one")
def _measure() -> list[Measurement]:
    fa = need_attr("xaicheck.axioms.agreement_metrics", "feature_agreement")
    sra = need_attr("xaicheck.axioms.agreement_metrics", "signed_rank_agreement")
    rc = need_attr("xaicheck.axioms.agreement_metrics", "rank_correlation")
    attrs, missing, model = _attributions()
    pairs: dict[str, dict[str, float]] = {}
    for a, b in combinations(sorted(attrs), 2):
        A, B = attrs[a], attrs[b]
        tol = 1e-9 * (1 + max(np.abs(A).max(), np.abs(B).max()))
        pairs[f"{a}~{b}"] = {"feature_agreement": float(fa(A, B, TOP_K).mean()),
                             "signed_rank_agreement": float(sra(A, B, TOP_K).mean()),
                             "rank_correlation": float(rc(A, B, atol=tol).mean())}
    fa_all = np.array([p["feature_agreement"] for p in pairs.values()])
    sra_all = np.array([p["signed_rank_agreement"] for p in pairs.values()])
    rc_all = np.array([p["rank_correlation"] for p in pairs.values()])
    disagreeing = int((fa_all < 1 - 1e-12).sum())
    below = int((rc_all < 1 - 1e-9).sum())
    setup = (f"{MODEL}, {N_INPUTS} inputs, top-{TOP_K} of {model.n_features} features, methods {sorted(attrs)}"
             + (f" (not available: {missing})" if missing else ""))
    by_rho = sorted(pairs, key=lambda p: pairs[p]["rank_correlation"])
    lo, hi = by_rho[0], by_rho[-1]
    return [
        Measurement("methods_disagree", disagreeing > len(pairs) / 2,
                    {"pairs": len(pairs), "pairs_below_full_agreement": disagreeing,
                     "mean_feature_agreement": float(fa_all.mean()), "per_pair": pairs},
                    f"{setup}: {disagreeing} of {len(pairs)} pairs have mean feature agreement@{TOP_K} < 1 "
                    f"(mean over pairs {fmt(fa_all.mean())}, min {fmt(fa_all.min())})"),
        Measurement("stricter_metrics_lower", float(sra_all.mean()) < float(fa_all.mean()),
                    {"mean_feature_agreement": float(fa_all.mean()),
                     "mean_signed_rank_agreement": float(sra_all.mean())},
                    f"mean over pairs: feature agreement {fmt(fa_all.mean())}, signed rank agreement "
                    f"{fmt(sra_all.mean())}"),
        Measurement("rank_correlation_below_one", below > len(pairs) / 2,
                    {"pairs_below_one": below, "pairs": len(pairs), "min_rank_correlation": float(rc_all.min()),
                     "max_rank_correlation": float(rc_all.max()), "lowest_pair": lo, "highest_pair": hi},
                    f"{below} of {len(pairs)} pairs have mean Spearman ρ < 1; it ranges from {fmt(rc_all.min())} "
                    f"({lo}) to {fmt(rc_all.max())} ({hi})"),
    ]


PAPER = Paper(
    name="krishna2022",
    title="The disagreement problem in explainable machine learning: a practitioner's perspective",
    citation="Krishna et al., arXiv:2202.01602, 2022",
    claims=CLAIMS,
    measure_fns=(_measure,),
    setup=f"Six methods of the paper (where available) on {N_INPUTS} inputs of {MODEL}; baseline = background "
          f"mean, background = {N_BACKGROUND} seeded draws; agreement metrics from xaicheck.axioms.agreement_metrics.",
)
