"""Independent re-derivation of the eight axiom checks' scores.

For real registry explainers on real cases, each score is recomputed here from the paper's definition and the check's
documented formula with separate, minimal code: it calls the explainer and the model, never the check's internals
(no ``_measure``, ``reference_output``, ``row_scores``, ``output_scale``, ``symmetric_pairs``, ``formally_irrelevant``),
and it re-establishes the ground truth it relies on (dummy features, symmetric pairs, equivalent twins, shifted twins,
abductive explanations) from the function itself. Then it asserts ``check.run(...)`` reports the same score,
verdict and ``measured`` value.

Papers: Sundararajan, Taly & Yan 2017 (sensitivity(a), sensitivity(b) = dummy, completeness, linearity, implementation
invariance, symmetry-preserving); Kindermans et al. 2017 (input invariance); Huang & Marques-Silva 2023 (relevance).
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from itertools import combinations, product

import numpy as np
import pytest

from xaicheck.axioms import Status, cases_of, get_check
from xaicheck.explainers import get_explainer

warnings.filterwarnings("ignore", message="Setting forward, backward hooks")

#: The documented tolerances (module constants of the checks), restated: relative share of the scale.
RTOL = {"completeness": 5e-2, "dummy": 1e-3, "symmetry": 1e-3, "linearity": 1e-3, "implementation_invariance": 1e-3,
        "input_invariance": 1e-3, "sensitivity": 1e-3}
ATOL = {"sensitivity": 1e-10}
RANGE_SHARE, RANGE_SEED = 1e-2, 20171  # documented floor of an axiom scale: 1% of the output range over 256 draws
TINY = 1e-12  # documented floor of every scale
RANGE_SHARE = 1e-2  # documented: scales are floored at 1% of the model's output range over its domain


def out_range(model, target=None):
    """max f - min f over the model's domain: every corner of {0,1}^d (binary, d <= 12), else 256 draws of its
    distribution with the documented seed 20171."""
    d = model.n_features
    if model.domain == "binary" and d <= 12:
        Z = np.array(list(product((0.0, 1.0), repeat=d)))
    else:
        Z = model.sample(256, np.random.default_rng(20171))
    y = f_of(model, Z, target)
    return float(y.max() - y.min())


def axiom_scale(model, delta, *extra):
    """The size of what the axiom is about: |f(x) - ref| (and extra), floored at 1% of the output range."""
    parts = [np.abs(np.asarray(delta, float))] + [np.abs(np.asarray(e, float)) for e in extra]
    return np.maximum(np.max(parts, axis=0), max(RANGE_SHARE * out_range(model), TINY))


@pytest.fixture(autouse=True)
def _no_search(monkeypatch):
    """The score never depends on the counterexample search (evidence only); skip it to stay fast."""
    monkeypatch.setattr("xaicheck.axioms.counterexamples.SEARCH_BUDGET", 0)


def test_documented_tolerances_are_the_checks_constants():
    from xaicheck.axioms.completeness import COMPLETENESS_TOL
    from xaicheck.axioms.dummy import DUMMY_TOL
    from xaicheck.axioms.implementation_invariance import INVARIANCE_TOL
    from xaicheck.axioms.input_invariance import INPUT_INVARIANCE_TOL
    from xaicheck.axioms.linearity import LINEARITY_TOL
    from xaicheck.axioms.sensitivity import SENSITIVITY_TOL
    from xaicheck.axioms.symmetry import SYMMETRY_TOL

    tols = {"completeness": COMPLETENESS_TOL, "dummy": DUMMY_TOL, "symmetry": SYMMETRY_TOL,
            "linearity": LINEARITY_TOL, "implementation_invariance": INVARIANCE_TOL,
            "input_invariance": INPUT_INVARIANCE_TOL, "sensitivity": SENSITIVITY_TOL}
    for name, tol in tols.items():
        assert tol.rtol == RTOL[name] and tol.atol == ATOL.get(name, 1e-8), name


# ------------------------------------------------------------------------------------------------ minimal helpers
def case_of(check: str, name: str):
    (case,) = [c for c in cases_of(get_check(check)) if c.name == name]
    return case


def explain(explainer, model, X, baseline, background, target=None):
    B = None if baseline is None else np.broadcast_to(np.asarray(baseline, float), X.shape)
    return np.asarray(explainer.explain(model, X, baseline=B, background=background, target=target, seed=0), float)


def f_of(model, X, target=None):
    return np.asarray(model.predict_target(np.asarray(X, float), target), float)


def reference(explainer, model, X, baseline, background, target=None):
    """Sundararajan: f(b) for path / baseline methods (and methods with no reference, held to the case's baseline);
    Lundberg & Lee: E_z f(z) over the background for methods that use only a background."""
    caps = explainer.capabilities
    if caps.uses_background and not caps.uses_baseline:
        return np.full(len(X), f_of(model, background, target).mean())
    return f_of(model, np.broadcast_to(np.asarray(baseline, float), X.shape), target)


def shared_rule(err, scale, rtol, atol=1e-8):
    """Row score 1 within atol + rtol*scale, else max(0, 1 - err/scale); the check's score is the mean."""
    err, scale = np.asarray(err, float), np.maximum(np.asarray(scale, float), TINY)
    ok = err <= atol + rtol * scale
    return float(np.where(ok, 1.0, np.clip(1.0 - err / scale, 0.0, 1.0)).mean()), bool(ok.all())


def depends_on(model, j, X):
    """Whether changing feature j alone changes f anywhere on X (and, for binary models, on all of {0,1}^d)."""
    Z = np.array(X, float)
    if model.domain == "binary":
        Z = np.array(list(product((0.0, 1.0), repeat=model.n_features)))
    for v in (-2.0, -0.5, 0.0, 0.5, 1.0, 2.0):
        W = Z.copy()
        W[:, j] = v if model.domain != "binary" else 1.0 - Z[:, j]
        if not np.allclose(f_of(model, W), f_of(model, Z), rtol=0, atol=1e-12):
            return True
    return False


def assert_same(result, score, passed):
    assert result.status is Status.OK, result.message + (result.traceback or "")
    assert result.score == pytest.approx(score, abs=1e-9), result.message
    assert result.passed is passed, result.message
    assert result.evidence["measured"] == pytest.approx(score, abs=1e-9)
    assert result.evidence["threshold"] == 1.0
    shown = re.search(r": score (\S+) (<|>=) (\S+) \(pass threshold\): ", result.message)
    assert shown and shown[2] == (">=" if passed else "<") and float(shown[3]) == 1.0, result.message
    assert float(shown[1]) == pytest.approx(score, abs=10 ** -(len(shown[1].split(".")[-1])))


# ------------------------------------------------------------------------------------------------ the eight axioms
def sensitivity(explainer, case):
    """Sensitivity(a): x and b differ in one feature i with f(x) != f(b) => a_i != 0; paired with Sensitivity(b) at
    the same rows with every dummy moved off the baseline (a model without one gets one appended, f'(x, z) = f(x)):
    max_{j dummy} |a_j| within the shared rule. Score = min(share of (a) rows, share of (b) rows)."""
    X, b = case.X, np.asarray(case.baseline, float)
    A = explain(explainer, case.model, X, b, b[None, :], case.target)
    fx, fb = f_of(case.model, X), f_of(case.model, np.broadcast_to(b, X.shape))
    verdicts = []
    for k in range(len(X)):
        (i,) = np.flatnonzero(X[k] != b)
        delta = fx[k] - fb[k]
        if abs(delta) > 1e-10 + 1e-3 * out_range(case.model, case.target):  # the prediction changes
            verdicts.append(abs(A[k, i]) > 1e-10 + 1e-3 * abs(delta))
    share_a, ok_a = float(np.mean(verdicts)), all(verdicts)
    model, B = case.model, np.array(np.broadcast_to(b, X.shape), float)
    D = [j for j in range(model.n_features) if not depends_on(model, j, X)]
    assert D == sorted(model.ground_truth.dummy), (D, model.ground_truth.dummy)
    if not D:  # the documented padding: one appended feature at the sampler's first value (seed 2017)
        from xaicheck.axioms._padding import padded

        d = model.n_features
        model, D = padded(case.model, d + 1), [d]
        pad = model.sample(64, np.random.default_rng(2017))[0, d]
        X, B = (np.hstack([M, np.full((len(M), 1), pad)]) for M in (X, B))
        assert not depends_on(model, d, X)
        if not explainer.can_explain(model)[0]:
            return share_a, ok_a
    draws = model.sample(64, np.random.default_rng(2017))
    Xb = X.copy()
    for k in range(len(X)):
        for j in D:
            Xb[k, j] = draws[draws[:, j] != B[k, j], j][0]
    Ab = explain(explainer, model, Xb, B, B[:1], case.target)
    scale = axiom_scale(model, f_of(model, Xb) - reference(explainer, model, Xb, B, B[:1]))
    ok_b = np.abs(Ab[:, D]).max(axis=1) <= 1e-8 + 1e-3 * scale
    return min(share_a, float(ok_b.mean())), ok_a and bool(ok_b.all())


def dummy(explainer, case):
    """Sensitivity(b): f does not depend on x_j => a_j = 0 (global: I_j ~ 0 relative to max_k |I_k|)."""
    model = case.model
    D = [j for j in range(model.n_features) if not depends_on(model, j, case.X)]
    assert D == sorted(model.ground_truth.dummy), (D, model.ground_truth.dummy)
    A = explain(explainer, model, case.X, case.baseline, case.background, case.target)
    if explainer.capabilities.scope == "global":
        return shared_rule([np.abs(A[0, D]).max()], [np.abs(A[0]).max()], RTOL["dummy"])
    fx = f_of(model, case.X)
    ref = reference(explainer, model, case.X, case.baseline, case.background)
    scale = axiom_scale(model, fx - ref)
    return shared_rule(np.abs(A[:, D]).max(axis=1), scale, RTOL["dummy"])


def completeness(explainer, case):
    """Completeness: sum_i a_i = f(x) - f(b) (or f(x) - E f(z) for background methods)."""
    model = case.model
    A = explain(explainer, model, case.X, case.baseline, case.background, case.target)
    fx = f_of(model, case.X)
    ref = reference(explainer, model, case.X, case.baseline, case.background)
    scale = axiom_scale(model, fx - ref)
    return shared_rule(np.abs(A.sum(axis=1) - (fx - ref)), scale, RTOL["completeness"])


def swap_invariant_pairs(model, Z):
    out = []
    for i, j in combinations(range(model.n_features), 2):
        S = Z.copy()
        S[:, [i, j]] = Z[:, [j, i]]
        if np.allclose(f_of(model, S), f_of(model, Z), rtol=0, atol=1e-12):
            out.append((i, j))
    return out


def symmetry(explainer, case):
    """Symmetry-preserving: swapping x_i, x_j leaves f unchanged and x_i = x_j, b_i = b_j => a_i = a_j."""
    model = case.model
    Z = model.sample(64, np.random.default_rng(7))
    if model.domain == "binary":
        Z = np.vstack([Z, np.array(list(product((0.0, 1.0), repeat=model.n_features)))])
    declared = [tuple(p) for g in case.extra.get("symmetric_groups") or model.ground_truth.symmetric_groups
                for p in combinations(sorted(g), 2)]
    pairs = swap_invariant_pairs(model, Z)
    assert set(declared) <= set(pairs)  # the check judges only truly symmetric pairs (it may judge fewer)
    b = np.broadcast_to(np.asarray(case.baseline, float), case.X.shape)
    A = explain(explainer, model, case.X, case.baseline, case.background, case.target)
    fx = f_of(model, case.X)
    ref = reference(explainer, model, case.X, case.baseline, case.background)
    scale = axiom_scale(model, fx - ref)
    err, sc = [], []
    for k in range(len(case.X)):
        judged = [(i, j) for i, j in declared if case.X[k, i] == case.X[k, j] and b[k, i] == b[k, j]]
        if judged:
            err.append(max(abs(A[k, i] - A[k, j]) for i, j in judged))
            sc.append(scale[k])
    return shared_rule(err, sc, RTOL["symmetry"])


def linearity(explainer, case):
    """Linearity: a(alpha f1 + beta f2) = alpha a(f1) + beta a(f2)."""
    (f1, f2), (alpha, beta) = case.extra["models"], case.extra["coefficients"]
    h = case.model
    Z = h.sample(32, np.random.default_rng(3))
    assert np.allclose(f_of(h, Z), alpha * f_of(f1, Z) + beta * f_of(f2, Z), atol=1e-12)
    Ah, A1, A2 = (explain(explainer, m, case.X, case.baseline, case.background) for m in (h, f1, f2))
    err = np.abs(Ah - (alpha * A1 + beta * A2)).max(axis=1)
    def delta(m):
        return f_of(m, case.X) - reference(explainer, m, case.X, case.baseline, case.background)

    scale = axiom_scale(h, delta(h), abs(alpha) * np.abs(delta(f1)) + abs(beta) * np.abs(delta(f2)))
    return shared_rule(err, scale, RTOL["linearity"])


def implementation_invariance(explainer, case):
    """Functionally equivalent networks (equal outputs for all inputs) get identical attributions."""
    f, (twin,) = case.model, case.extra["models"]
    Z = np.vstack([f.sample(64, np.random.default_rng(5)), case.X])
    assert np.allclose(f_of(f, Z), f_of(twin, Z), atol=1e-9)
    A = explain(explainer, f, case.X, case.baseline, case.background, case.target)
    At = explain(explainer, twin, case.X, case.baseline, case.background, case.target)
    fx = f_of(f, case.X)
    ref = reference(explainer, f, case.X, case.baseline, case.background)
    scale = axiom_scale(f, fx - ref)
    err = np.abs(A - At).max(axis=1)
    from xaicheck.axioms._companion import scaled_companion

    c = -3.0  # the documented companion c f (Linearity's one-term case), c = -3
    comp, _ = scaled_companion(f, c)
    if comp is not None and explainer.can_explain(comp)[0]:
        assert np.allclose(f_of(comp, Z), c * f_of(f, Z), atol=1e-9)
        Ac = explain(explainer, comp, case.X, case.baseline, case.background, case.target)
        err = np.maximum(err, np.abs(Ac - c * A).max(axis=1) / abs(c))
    return shared_rule(err, scale, RTOL["implementation_invariance"])


def input_invariance(explainer, case):
    """Kindermans: f'(x + c) = f(x) for all x (bias absorbs the shift) => A(f', x + c) = A(f, x)."""
    f, (twin,), c = case.model, case.extra["models"], np.asarray(case.extra["shift"], float)
    Z = f.sample(64, np.random.default_rng(5))
    assert np.allclose(f_of(twin, Z + c), f_of(f, Z), atol=1e-9)
    A = explain(explainer, f, case.X, case.baseline, case.background, case.target)
    At = explain(explainer, twin, case.X + c, case.extra["twin_baseline"], case.extra["twin_background"], case.target)
    fx = f_of(f, case.X)
    ref = reference(explainer, f, case.X, case.baseline, case.background)
    span = np.ptp(f_of(f, f.sample(256, np.random.default_rng(RANGE_SEED))))  # the model's output range
    scale = np.maximum(np.abs(fx - ref), RANGE_SHARE * span)  # what the attribution explains, floored
    return shared_rule(np.abs(A - At).max(axis=1), scale, RTOL["input_invariance"])


def relevant_features(model, x):
    """Huang & Marques-Silva: union of the abductive explanations (subset-minimal S with f constant on {z: z_S=x_S})."""
    d = model.n_features
    cube = np.array(list(product((0.0, 1.0), repeat=d)))
    fx = f_of(model, x[None, :])[0]

    def sufficient(S):
        Z = cube[np.all(cube[:, list(S)] == x[list(S)], axis=1)] if S else cube
        return bool(np.all(f_of(model, Z) == fx))

    axps = [set(S) for r in range(d + 1) for S in combinations(range(d), r)
            if sufficient(S) and not any(sufficient(tuple(t for t in S if t != i)) for i in S)]
    return set().union(*axps)


def relevance(explainer, case):
    """Huang & Marques-Silva issues: a row is clean iff no irrelevant feature is non-zero (I1), none is ranked at or
    above a relevant one (I2) and no relevant feature is zero (I3); zero = |a| <= range f / (2 d! 2^d)."""
    from math import factorial

    model = case.model
    d = model.n_features
    A = explain(explainer, model, case.X, case.baseline, case.background, case.target)
    values = f_of(model, np.array(list(product((0.0, 1.0), repeat=d))))
    tau = (values.max() - values.min()) / (2 * factorial(d) * 2**d)
    clean = []
    for k, x in enumerate(case.X):
        rel = relevant_features(model, x)
        irr = [i for i in range(d) if i not in rel]
        a = np.abs(A[k])
        i1 = any(a[i] > tau for i in irr)
        i2 = any(a[i] + tau >= a[j] for i in irr for j in rel)
        i3 = any(a[j] <= tau for j in rel)
        clean.append(not (i1 or i2 or i3))
    return float(np.mean(clean)), bool(all(clean))


DERIVE = {"sensitivity": sensitivity, "dummy": dummy, "completeness": completeness, "symmetry": symmetry,
          "linearity": linearity, "implementation_invariance": implementation_invariance,
          "input_invariance": input_invariance, "input_invariance_fixed_reference": input_invariance,
          "relevance": relevance}

CELLS = [
    ("sensitivity", "one_minus_relu", ("saliency", "integrated_gradients", "deeplift", "exact_baseline_shapley",
                                       "occlusion", "shap_exact")),
    ("sensitivity", "and", ("saliency", "integrated_gradients", "occlusion", "exact_banzhaf", "seeded_noise",
                            "identity")),
    ("sensitivity", "linear_dummy", ("input_x_gradient", "exact_interventional_shapley")),
    ("dummy", "linear_dummy", ("saliency", "occlusion", "lime_tabular", "permutation_importance")),
    ("dummy", "mlp_base", ("integrated_gradients", "deeplift", "exact_interventional_shapley")),
    ("dummy", "gbm_additive", ("shap_tree", "saabas", "impurity_importance", "feature_ablation")),
    ("completeness", "linear_dummy", ("integrated_gradients", "saliency", "exact_interventional_shapley")),
    ("completeness", "mlp_base", ("integrated_gradients", "deeplift", "input_x_gradient", "occlusion")),
    ("completeness", "and", ("exact_baseline_shapley", "exact_banzhaf", "shap_exact")),
    ("completeness", "tree_cough_fever", ("shap_tree", "saabas", "exact_interventional_shapley", "occlusion")),
    ("completeness", "gbm_additive", ("shap_tree",)),
    ("symmetry", "symmetric_sum", ("integrated_gradients", "saliency", "exact_interventional_shapley")),
    ("symmetry", "majority3", ("occlusion", "exact_banzhaf")),
    ("symmetry", "tree_cough_fever", ("shap_tree", "saabas", "occlusion")),
    ("linearity", "linear_dummy+mlp_base",
     ("integrated_gradients", "deeplift", "saliency", "occlusion", "guided_backprop")),
    ("linearity", "and+xor", ("exact_baseline_shapley", "exact_interventional_shapley")),
    ("implementation_invariance", "ig_paper_pair", ("deeplift", "integrated_gradients", "saliency", "lrp",
                                                    "seeded_noise", "guided_backprop")),
    ("implementation_invariance", "mlp_rescaled", ("deeplift", "guided_backprop", "exact_baseline_shapley")),
    ("implementation_invariance", "mlp_split", ("integrated_gradients", "deeplift")),
    ("input_invariance_fixed_reference", "mlp_base",
     ("integrated_gradients", "saliency", "input_x_gradient", "deeplift", "shap_exact")),
    ("input_invariance", "mlp_base", ("integrated_gradients", "input_x_gradient", "occlusion", "shap_exact")),
    ("relevance", "hms_irrelevant_nonzero", ("exact_interventional_shapley", "exact_baseline_shapley", "occlusion")),
    ("relevance", "hms_relevant_zero", ("exact_interventional_shapley", "exact_banzhaf", "saliency", "gradient_sign")),
    ("relevance", "a_and_b_or_c", ("exact_interventional_shapley", "occlusion")),
]
PARAMS = [pytest.param(check, case, explainer, id=f"{check}/{case}-{explainer}")
          for check, case, explainers in CELLS for explainer in explainers]


@lru_cache(maxsize=None)
def run_cell(check: str, case_name: str, explainer_name: str):
    return get_check(check).run(get_explainer(explainer_name), case_of(check, case_name), seed=0)


@pytest.mark.parametrize("check,case_name,explainer_name", PARAMS)
def test_score_rederived_from_the_definition(check, case_name, explainer_name, monkeypatch):
    monkeypatch.setattr("xaicheck.axioms.counterexamples.SEARCH_BUDGET", 0)
    score, passed = DERIVE[check](get_explainer(explainer_name), case_of(check, case_name))
    assert_same(run_cell(check, case_name, explainer_name), score, passed)


def test_rederivations_discriminate():
    """The table above holds passes and failures of every check (none of the re-derivations is vacuous)."""
    seen: dict[str, set[bool]] = {}
    for check, case_name, explainers in CELLS:
        for name in explainers:
            result = run_cell(check, case_name, name)
            seen.setdefault(check, set()).add(bool(result.passed))
    assert all(v == {True, False} for v in seen.values()), seen
