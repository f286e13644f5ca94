"""The image track's constructions (issue 24): planted-evidence CNNs, saturating additive CNNs, their twins, the
patch games, and black-box explainers playing the declared patches."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pytest

from xaicheck.axioms.base import cases_of, get_check
from xaicheck.explainers.base import get_explainer
from xaicheck.synthetic_models.image_additive import ADDITIVE, additive_cnn
from xaicheck.synthetic_models.image_cnn import PLANTED, evidence_patches, planted_cnn
from xaicheck.synthetic_models.patches import (baseline_patch_shapley, grid_patches, interventional_patch_shapley,
                                               spread_per_patch, sum_per_patch)
from xaicheck.synthetic_models.shapley import baseline_shapley

DEFAULT_PLANTED = [s for s in PLANTED if s.tier == "default"]


def _subset_shapley(v, P: int) -> np.ndarray:
    """Shapley values of the game ``v(frozenset)`` by the subset formula, written independently of the code."""
    phi = np.zeros(P)
    for p in range(P):
        others = [q for q in range(P) if q != p]
        for k in range(P):
            for S in combinations(others, k):
                w = factorial(k) * factorial(P - k - 1) / factorial(P)
                phi[p] += w * (v(frozenset(S) | {p}) - v(frozenset(S)))
    return phi


def test_grid_patches_partition_every_pixel_over_all_channels():
    ids = grid_patches((3, 16, 16), 3, 3)
    assert ids.shape == (768,) and set(np.unique(ids)) == set(range(9))
    per_channel = ids.reshape(3, 16, 16)
    assert (per_channel == per_channel[0]).all()
    counts = np.bincount(per_channel[0].reshape(-1))
    assert counts.max() - counts.min() <= 16  # rows and columns of 5 or 6 pixels
    A = np.random.default_rng(0).normal(size=(2, 9))
    assert np.allclose(sum_per_patch(spread_per_patch(A, ids), ids), A)


@pytest.mark.parametrize("spec", PLANTED[:6], ids=lambda s: s.name)
def test_planted_pixels_are_the_only_ones_that_change_the_output(spec):
    model = planted_cnn(spec)
    rng = np.random.default_rng(1)
    X = model.sample(16, rng)
    mask = model.ground_truth.mask
    moved = X.copy()
    moved[:, ~mask] = rng.uniform(-1.0, 2.0, size=(16, int((~mask).sum())))  # even outside [0, 1]
    assert np.array_equal(model.predict(moved), model.predict(X))
    phi = baseline_patch_shapley(model.predict, X[:2], np.zeros(model.n_features), model.patches)
    outside = [p for p in range(phi.shape[1]) if p not in evidence_patches(spec)]
    # dummies: zero up to the rounding of Σ_S w_S v(S) over equal values (the model output itself is unchanged)
    assert np.abs(phi[:, outside]).max() <= 1e-12 * np.abs(phi).max()
    assert np.all(np.abs(phi[:, evidence_patches(spec)]).max(axis=1) > 1e-3)  # the evidence matters
    changed = X.copy()
    changed[:, mask] = rng.uniform(0.0, 1.0, size=(16, int(mask.sum())))
    assert np.abs(model.predict(changed) - model.predict(X)).max() > 1e-3


def test_patch_shapley_enumeration_matches_the_subset_formula_and_efficiency():
    model = planted_cnn(DEFAULT_PLANTED[2])  # batch norm, 9 patches
    rng = np.random.default_rng(2)
    x, b = model.sample(1, rng)[0], model.sample(1, rng)[0] * 0.2
    M = model.patches

    def v(S: frozenset) -> float:
        keep = np.isin(M, list(S))
        return float(model.predict(np.where(keep, x, b)[None])[0])

    phi = baseline_patch_shapley(model.predict, x[None], b, M)[0]
    assert np.allclose(phi, _subset_shapley(v, 9), atol=1e-12)
    assert np.isclose(phi.sum(), model.predict(x[None])[0] - model.predict(b[None])[0])
    Z = model.sample(3, rng)
    inter = interventional_patch_shapley(model.predict, x[None], Z, M)[0]

    def v_int(S: frozenset) -> float:
        keep = np.isin(M, list(S))
        return float(np.mean(model.predict(np.where(keep[None], x[None], Z))))

    assert np.allclose(inter, _subset_shapley(v_int, 9), atol=1e-12)


@pytest.mark.parametrize("spec", [s for s in PLANTED if s.twins], ids=lambda s: s.name)
def test_twins_equal_their_source_on_a_grid_of_inputs(spec):
    model = planted_cnn(spec)
    rng = np.random.default_rng(3)
    grid = np.vstack([model.sample(32, rng), np.zeros((1, model.n_features)), np.ones((1, model.n_features)),
                      rng.uniform(-1, 2, size=(8, model.n_features))])
    f = model.predict(grid)
    for twin in model.twins:
        assert np.abs(twin.predict(grid) - f).max() <= 1e-12 * max(1.0, np.abs(f).max()), twin.transform
        assert twin.torch_module() is not None and twin.declarations.tiers == frozenset()
    if "bn_folded" in spec.twins:
        folded = next(t for t in model.twins if t.transform == "bn_folded").torch_module()
        assert folded.bn1 is None and folded.bn2 is None  # a different implementation, not a copy


@pytest.mark.parametrize("spec", ADDITIVE[:4], ids=lambda s: s.name)
def test_additive_closed_form_matches_enumeration_and_saturates(spec):
    model = additive_cnn(spec)
    rng = np.random.default_rng(4)
    b = model.sample(1, rng)[0] * 0.5
    x = b.copy()
    free = rng.choice(np.flatnonzero(model.ground_truth.mask), size=8, replace=False)
    x[free] = rng.uniform(0, 1, 8)
    x[free[0]] = 0.99  # above every τ: saturated

    def g(Z: np.ndarray) -> np.ndarray:
        full = np.repeat(b[None], len(Z), axis=0)
        full[:, free] = Z
        return model.predict(full)

    enumerated = baseline_shapley(g, x[free][None], b[free])[0]
    closed = model.ground_truth.exact_attribution(x[None], b)[0]
    assert np.allclose(closed[free], enumerated, atol=1e-12)
    assert np.all(closed[np.setdiff1d(np.arange(model.n_features), free)] == 0.0)
    import torch

    xt = torch.tensor(x[None], requires_grad=True)
    (grad,) = torch.autograd.grad(model.torch_module()(xt).sum(), xt)
    assert grad[0, free[0]].item() == 0.0 and closed[free[0]] != 0.0  # the gradient misses a saturated pixel
    outside = ~model.ground_truth.mask
    moved = x.copy()
    moved[outside] = rng.uniform(0, 1, int(outside.sum()))
    assert np.isclose(model.predict(moved[None])[0], model.predict(x[None])[0], rtol=0, atol=1e-12)


def test_black_box_explainers_play_the_declared_patches():
    model = planted_cnn(DEFAULT_PLANTED[0])
    rng = np.random.default_rng(5)
    X, b = model.sample(2, rng), np.zeros(model.n_features)
    exact = baseline_patch_shapley(model.predict, X, b, model.patches)
    A = get_explainer("exact_baseline_shapley").explain(model, X, baseline=b)
    assert np.allclose(sum_per_patch(A, model.patches), exact, atol=1e-10)
    assert np.allclose(A, spread_per_patch(exact, model.patches), atol=1e-12)
    ablation = sum_per_patch(get_explainer("feature_ablation").explain(model, X, baseline=b), model.patches)
    for p in range(9):  # leave one patch out
        off = np.where(model.patches == p, 0.0, X)
        assert np.allclose(ablation[:, p], model.predict(X) - model.predict(off), atol=1e-10)
    ok, _ = get_explainer("shap_exact").can_explain(model)  # 9 players, not 256 pixels
    assert ok


def test_default_suite_has_at_least_30_scored_image_cases():
    scored = [case for name in ("localisation", "ground_truth_agreement")
              for case in cases_of(get_check(name), 0, "default")
              if "default" in case.tiers and case.model.domain == "image"]
    assert len(scored) >= 30
    twins = [c for c in cases_of(get_check("implementation_invariance"), 0, "full")
             if "full" in c.tiers and c.model.domain == "image"]
    assert {c.name.rsplit("_", 1)[-1] for c in twins} >= {"permuted", "folded", "branch"}
    gates = ("completeness", "dummy", "sensitivity", "implementation_invariance")
    assert not [c for name in gates for c in cases_of(get_check(name), 0, "default") if c.model.domain == "image"]
    full = [c for name in gates for c in cases_of(get_check(name), 0, "full") if c.model.domain == "image"]
    assert full and all(c.tiers == frozenset({"full"}) for c in full)  # image gates cost too much for default


@pytest.mark.parametrize("check_name", ["localisation", "ground_truth_agreement"])
def test_image_checks_fail_a_bad_explainer_and_pass_the_exact_one(check_name):
    check = get_check(check_name)
    case = next(c for c in cases_of(check, 0, "default") if c.name == DEFAULT_PLANTED[0].name)
    good = check.run(get_explainer("exact_baseline_shapley"), case, seed=0)
    assert good.status.value == "ok" and good.passed and good.score > 0.99
    for bad in ("random", "constant", "ground_truth_reader"):
        result = check.run(get_explainer(bad), case, seed=0)
        assert result.status.value == "ok" and not result.passed, bad
