"""Independent re-derivation of the ground-truth, stability, agreement and fragility scores.

For real registry explainers on the registered cases, each score is recomputed here from the paper's definition and
the check's documented formula with separate, deliberately plain code (loops over coalitions, permutations and
features; no import of the checks' scoring helpers, of ``agreement_metrics`` or of ``xaicheck.synthetic_models.shapley``) and
compared with ``check.run``. Only data is taken from the check: its cases (inputs, baselines, background, the baseline
panel, the randomised twins) and its documented constants.

- ground truth: Shapley (1953) by enumeration of coalitions; Krishna et al. 2022 feature / sign agreement and rank
  correlation (ranks of |a|, ties within the documented tolerance, ties in the top-k shared at random);
- explainer_agreement: Krishna et al. 2022 feature agreement@k and sign agreement@k (top-k by |a|, lower index wins a
  tie), Spearman of |a|;
- model_randomisation: Adebayo et al. 2018 cascading randomisation, the change of |a| correlated (over features)
  with the change of the exact attribution's |R|;
- robustness: Yeh et al. 2019 max-sensitivity, Monte Carlo over the L_inf ball, of the explanation's movement error
  against the exact attribution's movement, relative to the exact attribution's own max-sensitivity;
- localisation: Arras et al. 2022 relevance mass accuracy; token mass x sign;
- relevance: Huang & Marques-Silva 2023 abductive explanations by enumeration, issues I1-I3 per row;
- fooling: Slack et al. 2020, the share of inputs whose top feature (ties at random) is the sensitive one;
- scaffold_shapley: the scaffold's exact Shapley values by enumeration, ground-truth agreement formula;
- baseline_sensitivity: Sturmfels et al. 2020 baselines, ground-truth agreement at each baseline of the panel.
"""

from __future__ import annotations

from itertools import combinations, permutations
from math import factorial

import numpy as np
import pytest

from xaicheck.axioms.base import Case, cases_of, get_check
from xaicheck.explainers.base import get_explainer

GT_RTOL = 1e-3  # ground_truth_agreement.GT_TOLERANCE (documented: relative to the row's largest |exact value|)


def case(check: str, name: str) -> Case:
    found = [c for c in cases_of(get_check(check)) if c.name == name]
    assert found, f"no case {check}/{name}"
    return found[0]


def explain(explainer_name: str, c: Case, *, seed: int = 0, model=None, X=None, baseline=None) -> np.ndarray:
    e = get_explainer(explainer_name)
    return np.asarray(e.explain(model if model is not None else c.model, c.X if X is None else X,
                                baseline=c.baseline if baseline is None else baseline, background=c.background,
                                target=c.target, seed=seed), dtype=float)


# ----------------------------------------------------------------------------------------------- paper definitions
def shapley(f, x: np.ndarray, references: np.ndarray) -> np.ndarray:
    """phi_i = sum_S |S|!(d-|S|-1)!/d! [v(S+i) - v(S)], v(S) = mean_z f(x_S, z_rest) over the reference rows z."""
    d = x.size

    def v(S: tuple[int, ...]) -> float:
        Z = np.array(references, dtype=float, copy=True)
        Z[:, list(S)] = x[list(S)]
        return float(np.mean(f(Z)))

    phi = np.zeros(d)
    for i in range(d):
        others = [j for j in range(d) if j != i]
        for size in range(d):
            w = factorial(size) * factorial(d - size - 1) / factorial(d)
            for S in combinations(others, size):
                phi[i] += w * (v(tuple(sorted(S + (i,)))) - v(S))
    return phi


def reference(explainer_name: str, c: Case, model=None, baseline=None) -> np.ndarray:
    """Which Shapley game the check documents for this explainer, computed by enumeration."""
    e = get_explainer(explainer_name)
    model = model if model is not None else c.model
    f = lambda Z: model.predict_target(Z, c.target)  # noqa: E731
    caps = e.capabilities
    if caps.scope == "global":
        return np.mean([np.abs(shapley(f, x, c.background)) for x in c.X], axis=0, keepdims=True)
    if e.settings.get("feature_perturbation") == "tree_path_dependent":
        data = c.extra.get("training_data", c.background)
        return np.array([shapley(f, x, data) for x in c.X])
    if caps.uses_background and not caps.uses_baseline:
        return np.array([shapley(f, x, c.background) for x in c.X])
    b = np.broadcast_to(c.baseline if baseline is None else baseline, c.X.shape)
    return np.array([shapley(f, x, b[r][None, :]) for r, x in enumerate(c.X)])


def tied_ranks(v: np.ndarray, tol: float) -> np.ndarray:
    """Average ranks, values within ``tol`` of each other tied: 1 + #{lower} + (#{tied} - 1) / 2."""
    return np.array([1 + sum(w < u - tol for w in v) + (sum(abs(w - u) <= tol for w in v) - 1) / 2 for u in v])


def spearman(a: np.ndarray, b: np.ndarray, tol: float = 0.0) -> float:
    """Spearman's rho = Pearson correlation of the (tied) ranks; both constant -> 1, one constant -> 0."""
    ra, rb = tied_ranks(a, tol), tied_ranks(b, tol)
    flat_a, flat_b = np.ptp(ra) == 0, np.ptp(rb) == 0
    if flat_a or flat_b:
        return 1.0 if flat_a and flat_b else 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def top_k_probability(a: np.ndarray, k: int, tol: float) -> np.ndarray:
    """P(feature in the top-k by |a|) when values within ``tol`` of the k-th largest are ordered at random,
    by enumerating every tie-breaking order."""
    mag = np.abs(a)
    kth = sorted(mag, reverse=True)[k - 1]
    tied = [i for i in range(a.size) if abs(mag[i] - kth) <= tol]
    sure = [i for i in range(a.size) if mag[i] > kth + tol]
    hits = np.zeros(a.size)
    orders = list(permutations(tied))
    for order in orders:
        for i in sure + list(order)[: k - len(sure)]:
            hits[i] += 1
    return hits / len(orders)


def gt_row_score(a: np.ndarray, r: np.ndarray, magnitude: bool = False) -> float | None:
    """sign on S x mean(recall@|S| if |S| < d, max(0, rho) unless |R| is flat, 1 - ||a - r|| / ||r|| if
    ``magnitude``); tolerances in the truth's units (max |r|) on both sides; None when S is empty."""
    tol_r = 1e-12 + GT_RTOL * np.abs(r).max()
    tol_a = tol_r
    S = [i for i in range(r.size) if abs(r[i]) > tol_r]
    if not S:
        return None
    sign = np.mean([(np.sign(a[i]) if abs(a[i]) > tol_a else 0.0) == np.sign(r[i]) for i in S])
    parts = []
    if len(S) < r.size:
        parts.append(top_k_probability(a, len(S), tol_a)[S].mean())
    if np.ptp(np.abs(r)) > tol_r:
        na = np.abs(a) / np.abs(r).max()
        nr = np.abs(r) / np.abs(r).max()
        parts.append(max(0.0, spearman(na, nr, GT_RTOL)))
    if magnitude:
        parts.append(max(0.0, 1.0 - np.linalg.norm(a - r) / np.linalg.norm(r)))
    return float(sign * (np.mean(parts) if parts else 1.0))


def gt_score(A: np.ndarray, R: np.ndarray, magnitude: bool = False) -> float:
    scores = [s for s in (gt_row_score(a, r, magnitude) for a, r in zip(A, R)) if s is not None]
    return float(np.mean(scores))


# ------------------------------------------------------------------------------------------------ ground truth
GT_CELLS = [
    ("linear_dummy", ["integrated_gradients", "saliency", "occlusion", "random", "constant",
                      "permutation_importance"]),
    ("a_and_b_or_c", ["exact_banzhaf", "occlusion", "shap_kernel", "random"]),
    ("product_x0x1", ["input_x_gradient", "feature_ablation", "constant"]),
    ("tree_cough_fever_10_90", ["shap_tree", "saabas", "impurity_importance", "permutation_importance",
                                "occlusion", "constant"]),
    ("gbm_additive", ["shap_tree", "saabas", "impurity_importance", "random"]),
]


@pytest.mark.parametrize("case_name,explainers", GT_CELLS, ids=[c for c, _ in GT_CELLS])
def test_ground_truth_agreement_rederived(case_name: str, explainers: list[str]) -> None:
    check = get_check("ground_truth_agreement")
    c = case("ground_truth_agreement", case_name)
    for name in explainers:
        result = check.run(get_explainer(name), c, seed=0)
        local = get_explainer(name).capabilities.scope == "local"  # magnitudes are judged for local attributions
        expected = gt_score(explain(name, c), reference(name, c), magnitude=local)
        assert result.score == pytest.approx(expected, abs=1e-9), f"{name}: {result.message}"
        assert result.evidence["measured"] == result.score and result.evidence["threshold"] == check.threshold
        assert result.passed == (expected >= check.threshold)
        assert name in result.message and c.id in result.message and f"{result.score:.3f}" in result.message


def test_global_importances_are_judged_on_trees_and_lundberg_inconsistency_shows() -> None:
    """Lundberg et al. 2018 model B: split-gain (impurity) importance and Saabas rank Fever above Cough although the
    model depends more on Cough; Tree SHAP and permutation importance do not."""
    check = get_check("ground_truth_agreement")
    c = case("ground_truth_agreement", "tree_cough_fever_10_90")
    ref = reference("impurity_importance", c)[0]
    assert ref[0] > ref[1]  # mean |phi|: cough above fever
    verdicts = {n: check.run(get_explainer(n), c).passed for n in
                ("impurity_importance", "saabas", "shap_tree", "permutation_importance")}
    assert verdicts == {"impurity_importance": False, "saabas": False, "shap_tree": True,
                        "permutation_importance": True}


# ---------------------------------------------------------------------------------------- explainer agreement
def top_k_in_order(v: np.ndarray, k: int, tol: float, order: tuple[int, ...]) -> set[int]:
    """The top-k by |v| when values within ``tol`` of the k-th largest are ranked by their place in ``order``."""
    mag = np.abs(v)
    kth = sorted(mag, reverse=True)[k - 1]
    place = {f: j for j, f in enumerate(order)}
    bucket = lambda i: 0 if mag[i] > kth + tol else (1 if abs(mag[i] - kth) <= tol else 2)  # noqa: E731
    return set(sorted(range(v.size), key=lambda i: (bucket(i), place[i]))[:k])


def krishna_pair(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """sign share x (feature agreement@k + max(0, rho)) / 2; ties at the k-th place broken by one random order of
    the features shared by a and b (averaged over all d! orders), ties within 1e-6 of the row max."""
    tol_a, tol_b = 1e-12 + 1e-6 * np.abs(a).max(), 1e-12 + 1e-6 * np.abs(b).max()
    fa = sa = 0.0
    orders = list(permutations(range(a.size)))
    for order in orders:
        common = top_k_in_order(a, k, tol_a, order) & top_k_in_order(b, k, tol_b, order)
        fa += len(common) / k / len(orders)
        sa += sum(np.sign(a[i]) == np.sign(b[i]) for i in common) / k / len(orders)
    share = sa / fa if fa > 0 else 1.0
    na, nb = np.abs(a) / (np.abs(a).max() or 1.0), np.abs(b) / (np.abs(b).max() or 1.0)
    return share * (fa + max(0.0, spearman(na, nb, 1e-6))) / 2


PANEL = ("integrated_gradients", "input_x_gradient", "shap_kernel", "lime_tabular", "occlusion")


@pytest.mark.parametrize("name", ["saliency", "occlusion", "random", "constant"])
def test_explainer_agreement_rederived(name: str) -> None:
    check = get_check("explainer_agreement")
    c = case("explainer_agreement", "linear_dummy")
    result = check.run(get_explainer(name), c, seed=0)
    A = explain(name, c)
    k = int(np.ceil(c.model.n_features / 2))
    per_member = {}
    for member in PANEL:
        if member == name:  # a panel member is not compared with itself
            continue
        B = explain(member, c)
        per_member[member] = np.mean([krishna_pair(a, b, k) for a, b in zip(A, B)])
    assert result.evidence["per_member"] == pytest.approx(per_member, abs=1e-9)
    assert result.score == pytest.approx(np.mean(list(per_member.values())), abs=1e-9), result.message


# --------------------------------------------------------------------------------------- model randomisation
@pytest.mark.parametrize("name", ["saliency", "integrated_gradients", "guided_backprop", "random", "constant"])
def test_model_randomisation_rederived(name: str) -> None:
    """Adebayo et al. 2018 cascade; per stage and row the Pearson correlation over features of the change of |a|
    with the change of |exact attribution|, averaged, clipped at 0."""
    check = get_check("model_randomisation")
    c = case("model_randomisation", "mlp_base")
    A, R = np.abs(explain(name, c)), np.abs(reference(name, c))
    values = []
    for twin in c.extra["models"]:
        dA, dR = np.abs(explain(name, c, model=twin)) - A, np.abs(reference(name, c, model=twin)) - R
        for k in range(len(A)):
            da, dr = dA[k] - dA[k].mean(), dR[k] - dR[k].mean()
            if np.linalg.norm(dr) <= 1e-12 + 1e-6 * max(R[k].max(), (R[k] + dR[k]).max()):
                continue
            na, nr = np.linalg.norm(da), np.linalg.norm(dr)
            values.append(0.0 if na == 0 else float(da @ dr / (na * nr)))
    result = check.run(get_explainer(name), c, seed=0)
    assert result.score == pytest.approx(max(0.0, np.mean(values)), abs=1e-9), result.message


# -------------------------------------------------------------------------------------------------- robustness
@pytest.mark.parametrize("name", ["saliency", "integrated_gradients", "occlusion", "shap_kernel", "random", "constant"])
def test_robustness_tracking_rederived(name: str) -> None:
    """Yeh et al. max over the L_inf ball of the explanation's movement error against the exact attribution's
    movement on the same perturbations, relative to the exact attribution's own max-sensitivity."""
    from xaicheck.axioms.robustness import N_PERTURBATIONS, PERTURBATION_SEED, RADIUS_FRACTION

    check = get_check("robustness")
    c = case("robustness", "logistic_two_class/near")
    n, d = c.X.shape
    m = N_PERTURBATIONS
    r = RADIUS_FRACTION * (c.background.max(axis=0) - c.background.min(axis=0))
    # the draws of issue 23: feature i's [n, m] uniforms from default_rng((seed, hash of the ranks of its column in
    # the inputs stacked over the background, its occurrence among equal columns)), so a permutation permutes them
    import hashlib

    key = np.vstack([c.X, c.background]).T
    delta, seen = np.empty((n, m, d)), {}
    for i in range(d):
        ranks = np.argsort(np.argsort(key[i], kind="stable"), kind="stable").astype(np.int64)
        h = int.from_bytes(hashlib.blake2b(ranks.tobytes(), digest_size=8).digest(), "little")
        seen[h] = seen.get(h, -1) + 1
        delta[:, :, i] = np.random.default_rng((PERTURBATION_SEED, h, seen[h])).uniform(-1.0, 1.0, size=(n, m))
    delta = delta * r
    assert np.all(np.abs(delta) <= r)  # inside the L_inf ball of radius r
    B = np.repeat(np.broadcast_to(c.baseline, (n, d)), m, axis=0)
    A = explain(name, c)
    P = (c.X[:, None, :] + delta).reshape(-1, d)
    A_pert = explain(name, c, X=P, baseline=B).reshape(n, m, d)
    R = reference(name, c)
    R_pert = reference(name, Case(c.check, c.name, c.model, P, baseline=B, background=c.background,
                                  target=c.target)).reshape(n, m, d)
    scores = []
    for i in range(n):
        err = max(np.linalg.norm((A_pert[i, j] - A[i]) - (R_pert[i, j] - R[i])) for j in range(m))
        move = max(np.linalg.norm(R_pert[i, j] - R[i]) for j in range(m))
        if move > 1e-12 + 1e-6 * np.abs(R[i]).max():
            scores.append(max(0.0, 1.0 - err / move))
    result = check.run(get_explainer(name), c, seed=0)
    assert result.score == pytest.approx(np.mean(scores), abs=1e-9), result.message


# --------------------------------------------------------------------------------------------------- relevance
def axp_relevant(f, x: np.ndarray) -> set[int]:
    """Huang & Marques-Silva: features in some subset-minimal S with f(x_S, z) = f(x) for every z in {0,1}^d."""
    d = x.size
    corners = [np.array([(c >> i) & 1 for i in range(d)], dtype=float) for c in range(1 << d)]

    def sufficient(S: tuple[int, ...]) -> bool:
        Z = np.array([[x[i] if i in S else z[i] for i in range(d)] for z in corners])
        return bool(np.all(f(Z) == f(x[None, :])[0]))

    suff = [set(S) for k in range(d + 1) for S in combinations(range(d), k) if sufficient(S)]
    minimal = [S for S in suff if not any(T < S for T in suff)]
    return set().union(*minimal) if minimal else set()


@pytest.mark.parametrize("name", ["exact_interventional_shapley", "occlusion", "shap_kernel", "constant", "zero"])
def test_relevance_issues_rederived(name: str) -> None:
    check = get_check("relevance")
    for cname in ("hms_irrelevant_nonzero", "hms_relevant_zero"):
        c = case("relevance", cname)
        d = c.model.n_features
        table = np.array([[(k >> i) & 1 for i in range(d)] for k in range(1 << d)], dtype=float)
        values = c.model.predict(table)
        tau = (values.max() - values.min()) / (2 * factorial(d) * 2**d)
        A = np.asarray(get_explainer(name).explain(c.model, c.X, baseline=c.baseline, background=c.background,
                                                   seed=0), dtype=float)
        clean = []
        for x, a in zip(c.X, A):
            rel = axp_relevant(c.model.predict, x)
            irr = [i for i in range(d) if i not in rel]
            i1 = any(abs(a[i]) > tau for i in irr)
            i2 = any(abs(a[i]) + tau >= abs(a[j]) for i in irr for j in rel)
            i3 = any(abs(a[j]) <= tau for j in rel)
            clean.append(not (i1 or i2 or i3))
        result = check.run(get_explainer(name), c, seed=0)
        assert result.score == pytest.approx(np.mean(clean), abs=1e-12), result.message


# ------------------------------------------------------------------------------------------------ localisation
@pytest.mark.parametrize("name", ["saliency", "occlusion", "layer_gradcam", "guided_gradcam", "random", "zero"])
def test_relevance_mass_accuracy_rederived(name: str) -> None:
    check = get_check("localisation")
    c = case("localisation", "image_patch")
    mask = np.asarray(c.model.ground_truth.mask, dtype=bool).ravel()
    rma = []
    for a in explain(name, c):
        positive = [max(v, 0.0) for v in a]
        total = sum(positive)
        rma.append(sum(p for p, m in zip(positive, mask) if m) / total if total > 0 else 0.0)
    # x rank agreement with the exact baseline Shapley values of the 9 patch pixels (the rest are dummies)
    idx = np.flatnonzero(mask)
    b = np.broadcast_to(c.baseline, c.X.shape)[0]

    def g(P: np.ndarray) -> np.ndarray:
        Z = np.repeat(b[None, :], len(P), axis=0)
        Z[:, idx] = P
        return c.model.predict_target(Z, c.target)

    rank = []
    for a, x in zip(explain(name, c), c.X):
        phi = shapley(g, x[idx], b[idx][None, :])
        unit = np.abs(phi).max()
        flat = np.ptp(np.abs(a[idx])) <= 1e-6 * unit
        rank.append(0.0 if flat else max(0.0, spearman(np.abs(a[idx]) / unit, np.abs(phi) / unit, 1e-6)))
    result = check.run(get_explainer(name), c, seed=0)
    assert result.score == pytest.approx(np.mean(np.array(rma) * np.array(rank)), abs=1e-9), result.message
    assert "quick" in c.tiers  # GradCAM variants only apply here: every explainer gets a quick-suite score


@pytest.mark.parametrize("name", ["occlusion", "lime_text", "constant"])
def test_token_localisation_rederived(name: str) -> None:
    check = get_check("localisation")
    c = case("localisation", "token_sentiment")
    w = np.asarray(c.model.ground_truth.token_weights, dtype=float)
    scores = []
    for a, x in zip(explain(name, c), c.X):
        total = np.abs(a).sum()
        mass = np.abs(a[w != 0]).sum() / total if total > 0 else 0.0
        tol = 1e-12 + 1e-6 * np.abs(w).max()  # the truth's units
        present = [i for i in range(w.size) if x[i] > 0.5 and w[i] != 0]
        if present:
            sign = np.mean([(np.sign(a[i]) if abs(a[i]) > tol else 0.0) == np.sign(w[i]) for i in present])
            rank = 1.0
            if len(present) >= 2 and np.ptp(np.abs(w[present])) > 1e-6 * np.abs(w[present]).max():  # truth not tied
                unit = np.abs(w[present]).max()
                flat = np.ptp(np.abs(a[present])) <= 1e-6 * unit
                rank = 0.0 if flat else max(0.0, spearman(np.abs(a[present]) / unit, np.abs(w[present]) / unit, 1e-6))
            scores.append(mass * sign * rank)
    result = check.run(get_explainer(name), c, seed=0)
    assert result.score == pytest.approx(np.mean(scores), abs=1e-9), result.message


# ------------------------------------------------------------------------------------------------------ fooling
@pytest.mark.parametrize("scaffold", ["fooling_scaffold", "fooling_scaffold_torch"])
@pytest.mark.parametrize("name", ["occlusion", "exact_interventional_shapley", "constant", "random"])
def test_fooling_rederived(name: str, scaffold: str) -> None:
    check = get_check("fooling")
    c = case("fooling", scaffold)
    sensitive = int(c.model.sensitive_feature)
    A = explain(name, c)
    share = [top_k_probability(a, 1, 1e-12 + 1e-6 * np.abs(a).max())[sensitive] for a in A]
    result = check.run(get_explainer(name), c, seed=0)
    assert result.score == pytest.approx(np.mean(share), abs=1e-9), result.message


@pytest.mark.parametrize("name", ["saliency", "occlusion", "exact_interventional_shapley", "constant"])
def test_scaffold_shapley_rederived(name: str) -> None:
    """The scaffold as implemented, judged by ground_truth_agreement's formula against Shapley by enumeration."""
    c = case("scaffold_shapley", "fooling_scaffold_torch")
    result = get_check("scaffold_shapley").run(get_explainer(name), c, seed=0)
    assert result.score == pytest.approx(gt_score(explain(name, c), reference(name, c)), abs=1e-9), result.message


# ------------------------------------------------------------------------------------------ baseline sensitivity
@pytest.mark.parametrize("name", ["integrated_gradients", "occlusion", "exact_baseline_shapley"])
def test_baseline_sensitivity_rederived(name: str) -> None:
    check = get_check("baseline_sensitivity")
    c = case("baseline_sensitivity", "linear_dummy")
    per_baseline = []
    for B in c.extra["panel"].values():
        A = explain(name, c, baseline=B)
        R = reference(name, c, baseline=B)
        if np.abs(R).max() > 0:
            per_baseline.append(gt_score(A, R))
    result = check.run(get_explainer(name), c, seed=0)
    assert result.score == pytest.approx(np.mean(per_baseline), abs=1e-9), result.message


# ---------------------------------------------------------------------------------------------------- messages
MY_CHECKS = ("ground_truth_agreement", "explainer_agreement", "baseline_sensitivity", "model_randomisation",
             "robustness", "localisation", "fooling", "scaffold_shapley")


@pytest.mark.parametrize("check_name", MY_CHECKS)
def test_messages_name_explainer_case_measured_value_threshold_and_worst_instance(check_name: str) -> None:
    check = get_check(check_name)
    for c in [c for c in cases_of(check) if "quick" in c.tiers]:
        for name in ("occlusion", "constant"):
            result = check.run(get_explainer(name), c, seed=0)
            if result.status.value != "ok":
                continue
            ev, msg = result.evidence, result.message
            assert ev["measured"] == pytest.approx(result.score) and ev["threshold"] == check.threshold
            verdict = "PASS" if result.passed else "FAIL"
            relation = ">=" if result.passed else "<"
            assert msg.startswith(f"{name} {check_name} on {c.id}: {verdict}, "), msg
            assert f"= {result.score:.3f} {relation} pass threshold {check.threshold:g}; worst " in msg, msg
