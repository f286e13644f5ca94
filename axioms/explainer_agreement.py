"""explainer_agreement (diagnostic): how well an explainer agrees with a fixed panel of other explainers.

Role ``diagnostic`` (version 3): agreement with a fixed panel is circular as a quality score - it rewards conformity
to whatever the panel members share, errors included, and a panel member can never disagree with itself. Krishna et
al. 2022 present agreement as a *disagreement problem* to be shown to the user, not as correctness (which
``ground_truth_agreement`` judges against the exact attribution). So the check is shown, never scored: the report
displays ``agreement_matrix`` (every pair of explainers on a case) and this cell's row of it (``per_member``).

Krishna et al. 2022 ("The disagreement problem in explainable machine learning") show that popular methods often
disagree; this check measures where an explainer stands relative to a fixed reference panel (``PANEL``: integrated
gradients, gradient x input, KernelSHAP, LIME, occlusion - gradient, path, Shapley, surrogate and perturbation
families). Agreement is not correctness (``ground_truth_agreement`` judges that); it tells a user whether switching
to this method would change the story their explanation tells.

For one pair of explanations A, B and one row, with k = ceil(d / 2) (``agreement_k``):

    FA  = feature agreement@k (Krishna et al. sec. 3.1)            SA = sign agreement@k
    ρ+  = max(0, Spearman(|A|, |B|)) over all features             s  = SA / FA  (1 if FA = 0; sign share)
    pair(A, B) = s × (FA + ρ+) / 2

(the sign share gates the ranking as in ``ground_truth_agreement``: two explanations ranking the same features but
with opposite signs disagree). The check's score is the mean over panel members m ≠ the explainer (applicable to the
case's model and not failing) of the mean over rows of pair(a, a_m). Every explainer runs with the cell's seed, so
the score is a pure function of (explainer, case, seed); panel results are cached per process.
``agreement_matrix`` returns the full pairwise matrix for the report's plot.

Top-k is by |a|; a tie at the k-th place is broken by a random order of the features shared by A and B, and FA, SA
are the exact expectations over that order (``expected_feature_agreement``): breaking it by feature index (version 1)
gave a constant explanation full feature agreement whenever the important features had the low indices
(``linear_dummy``); now it gets k/d against an untied explanation, and identical explanations still agree fully.
Values within ``AGREEMENT_TOLERANCE`` (relative to the row's largest |a|) are tied, in the top-k and in Spearman's
ranks, so float noise in an exact tie does not decide a rank.
"""

from __future__ import annotations

import weakref
from math import ceil
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .agreement_metrics import expected_feature_agreement, expected_sign_agreement, rank_correlation
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import rows, standard_case, verdict

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["AGREEMENT_TOLERANCE", "ExplainerAgreement", "PANEL", "agreement_k", "pair_agreement", "agreement_matrix"]

#: Relative to a row's largest |a|: values closer than this are tied (top-k and ranks).
AGREEMENT_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-12)

#: The reference panel, by registry name (members that do not exist or do not apply are skipped).
PANEL: tuple[str, ...] = ("integrated_gradients", "input_x_gradient", "shap_kernel", "lime_tabular", "occlusion")

#: Panel attributions per case object (cases are built once per process), then per (explainer name, seed).
_CACHE: "weakref.WeakKeyDictionary[Case, dict[tuple[str, int], np.ndarray | str]]" = weakref.WeakKeyDictionary()


def agreement_k(d: int) -> int:
    return max(1, ceil(d / 2))


def pair_agreement(A: np.ndarray, B: np.ndarray, k: int | None = None) -> np.ndarray:
    """``[n]`` pair(A, B) = sign share × (feature agreement@k + max(0, Spearman ρ of |a|)) / 2 per row."""
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    B = np.atleast_2d(np.asarray(B, dtype=np.float64))
    k = agreement_k(A.shape[1]) if k is None else k
    tol_a = AGREEMENT_TOLERANCE.bound(np.abs(A).max(axis=1))
    tol_b = AGREEMENT_TOLERANCE.bound(np.abs(B).max(axis=1))
    fa = expected_feature_agreement(A, B, k, tol_a, tol_b)
    sa = expected_sign_agreement(A, B, k, tol_a, tol_b)
    share = np.where(fa > 0, sa / np.where(fa > 0, fa, 1.0), 1.0)
    scale = lambda M: M / np.where(np.abs(M).max(axis=1) > 0, np.abs(M).max(axis=1), 1.0)[:, None]  # noqa: E731
    rho = np.maximum(0.0, rank_correlation(scale(A), scale(B), absolute=True, atol=AGREEMENT_TOLERANCE.rtol))
    return share * (fa + rho) / 2.0


def _usable(explainer: "Explainer", case: Case) -> tuple[bool, str]:
    if explainer.capabilities.scope != "local":
        return False, "global"
    from xaicheck.explainers.base import applicability

    return applicability(explainer, case.model)


def _attributions(explainer: "Explainer", case: Case, seed: int) -> np.ndarray | str:
    """Attributions of ``explainer`` on ``case`` (cached), or the error message if it failed."""
    from xaicheck.explainers.base import ExplainerError

    cache = _CACHE.setdefault(case, {})
    key = (explainer.name, seed)
    if key not in cache:
        try:
            cache[key] = case.explain(explainer, seed=seed)
        except ExplainerError as exc:
            cache[key] = f"{type(exc).__name__}: {exc}"
    return cache[key]


def _panel(case: Case, exclude: str) -> list["Explainer"]:
    """The case's panel (registry names, or ``Explainer`` objects for custom panels) minus ``exclude``."""
    from xaicheck.explainers.base import get_explainer

    out = []
    for item in case.extra.get("panel", PANEL):
        if isinstance(item, str):
            try:
                member = get_explainer(item)
            except KeyError:
                continue
        else:
            member = item
        if member.name != exclude and _usable(member, case)[0]:
            out.append(member)
    return out


def agreement_matrix(explainers: Sequence["Explainer | str"], case: Case, seed: int = 0
                     ) -> tuple[list[str], np.ndarray]:
    """Names of the explainers that ran on ``case`` and the symmetric matrix of mean pair agreement between them."""
    from xaicheck.explainers.base import get_explainer

    names, attrs = [], []
    for item in explainers:
        exp = get_explainer(item) if isinstance(item, str) else item
        if not _usable(exp, case)[0]:
            continue
        A = _attributions(exp, case, seed)
        if isinstance(A, np.ndarray):
            names.append(exp.name)
            attrs.append(A)
    m = len(names)
    matrix = np.ones((m, m))
    for i in range(m):
        for j in range(i + 1, m):
            matrix[i, j] = matrix[j, i] = float(pair_agreement(attrs[i], attrs[j]).mean())
    return names, matrix


@register_check
class ExplainerAgreement(Check):
    """Diagnostic: mean agreement (sign share × mean(feature agreement@k, ρ+)) with a fixed panel of explainers."""

    name = "explainer_agreement"
    category = "agreement"
    threshold = 0.6
    version = 3
    #: Shown beside the ranking (one row of the agreement matrix), never counted: agreement is not correctness.
    role = "diagnostic"
    citation = "Krishna et al. 2022, The disagreement problem in explainable machine learning (arXiv:2202.01602)"

    def cases(self) -> list[Case]:
        return placed_cases(self.name, self._placed_case)

    def _placed_case(self, model: "SyntheticModel", place: "Placement") -> Case:
        """A placed model (any): ``standard_case`` rows (4, seed 9), the panel ``PANEL``."""
        base = standard_case(self.name, model, place.tiers, n=4, seed=9)
        return Case(check=self.name, name=model.name, model=model, X=base.X, baseline=base.baseline,
                    background=base.background, extra={"panel": PANEL}, tiers=place.tiers,
                    description=f"agreement with the panel {', '.join(PANEL)}")

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        A = case.explain(explainer, seed=seed)
        k = agreement_k(case.model.n_features)
        per_member: dict[str, float] = {}
        failed: dict[str, str] = {}
        for member in _panel(case, exclude=explainer.name):
            B = _attributions(member, case, seed)
            if isinstance(B, str):
                failed[member.name] = B
                continue
            per_member[member.name] = float(pair_agreement(A, B, k).mean())
        if not per_member:
            return CheckResult.not_applicable(f"{case.id}: no other panel member ran on {case.model.name}")
        measured = float(np.mean(list(per_member.values())))
        least = min(per_member, key=per_member.get)  # type: ignore[arg-type]
        evidence = {
            "measured": measured,
            "threshold": self.threshold,
            "attributions": rows(A),
            "k": k,
            "per_member": per_member,
            "failed_members": failed,
        }
        evidence["least_agreeing_member"] = least
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          f"mean pair agreement with {len(per_member)} panel members",
                          f"panel member {least}: pair agreement {per_member[least]:.3f} (k={k})")
        return CheckResult.scored(measured, self.threshold, message, evidence)
