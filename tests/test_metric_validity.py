"""The metrics layer (``benchmarks/metrics``, issue 26): the validity measure on rankings whose answer is known, one
metric wrapper per library against a hand computation, and a known-good and a planted bad metric through the run."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from xaicheck.benchmarks.metrics.context import MetricContext
from xaicheck.benchmarks.metrics.openxai_metrics import pgi_pgu, stability_ratios
from xaicheck.benchmarks.metrics.validity import (case_ranks, control_test, kendall_tau_b, validity,
                                                  verdict_moves)


# ------------------------------------------------------------------ the validity measure, answers known
def test_kendall_tau_b_matches_scipy_with_ties():
    x, y = [1, 2, 2, 3, 5, 4], [2, 1, 3, 3, 6, 5]
    assert kendall_tau_b(x, y) == pytest.approx(kendalltau(x, y).statistic, abs=1e-12)
    assert kendall_tau_b([1, 2, 3], [1, 2, 3]) == 1.0
    assert kendall_tau_b([1, 2, 3], [3, 2, 1]) == -1.0
    assert np.isnan(kendall_tau_b([1, 1, 1], [1, 2, 3]))  # a constant ranking has no order


def test_case_ranks_leave_nan_out_and_scale_to_unit_interval():
    r = case_ranks(np.array([[0.5, 1.0], [np.nan, 1.0], [0.9, 1.0]]))
    assert r[[0, 2], 0].tolist() == [0.0, 1.0] and np.isnan(r[1, 0])  # NaN is not ranked (not last)
    assert r[:, 1].tolist() == [0.5, 0.5, 0.5]  # all tied


def test_a_metric_constant_where_defined_cannot_rank_by_where_it_fails():
    """Quantus's Monotonicity (Arya) is 1 wherever it is defined; ranking its NaN cells last once made it 'track the
    truth' by where it failed. Left out, NaNs carry no order: the metric cannot rank."""
    T = _truth()
    M = np.ones_like(T)
    M[:3, :2] = np.nan  # the worst explainers on two cases: where the metric fails
    v = validity(M, T, n_boot=200)
    assert np.isnan(v.tau) and v.verdict == "cannot rank"
    # where it is defined it still counts: a good metric with holes keeps tracking the truth
    good = T.copy()
    good[:3, :2] = np.nan
    assert validity(good, T, n_boot=200).verdict == "tracks the truth"
    # a control the metric never scores has no position (never 'below' by default)
    below, frac = control_test(np.array([[np.nan], [0.3], [0.4]]), np.array([True, False, False]))
    assert below is False and np.isnan(frac)


def _truth(n_explainers: int = 8, n_cases: int = 12, seed: int = 0) -> np.ndarray:
    """Explainer e has quality e; each case sees it with a little noise (the order mostly kept)."""
    rng = np.random.default_rng(seed)
    return np.arange(n_explainers)[:, None] + 0.3 * rng.standard_normal((n_explainers, n_cases))


def test_truth_against_itself_is_one():
    T = _truth()
    v = validity(T, T, n_boot=200)
    assert (v.tau, v.lo, v.hi) == (1.0, 1.0, 1.0)
    assert v.verdict == "tracks the truth"


def test_good_anti_and_random_metrics_are_told_apart():
    T = _truth()
    rng = np.random.default_rng(1)
    good = 5 * T + 2 + 0.2 * rng.standard_normal(T.shape)  # other units, same order up to noise
    anti = -T
    random = rng.standard_normal(T.shape)
    g, a, r = (validity(m, T, n_boot=300, seed=0) for m in (good, anti, random))
    assert g.lo > 0.6 and g.verdict == "tracks the truth"
    assert a.tau == -1.0 and a.hi == -1.0 and a.verdict == "does not track the truth here"
    assert r.lo < 0 < r.hi and r.verdict == "does not track the truth here"


def test_control_test_by_hand():
    # mean ranks over one case: controls 1, 2; real 3, 4 -> all below; swap one -> 3 of 4 pairs ordered
    ok = control_test(np.array([[0.1], [0.2], [0.3], [0.4]]), np.array([True, True, False, False]))
    assert ok == (True, 1.0)
    bad = control_test(np.array([[0.1], [0.35], [0.3], [0.4]]), np.array([True, True, False, False]))
    assert bad == (False, 0.75)


def test_verdict_moves_by_hand():
    before = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    assert verdict_moves(before, 2.5 * before - 0.7) == 1.0
    after = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])  # case 2 reversed: (1 + -1) / 2
    assert verdict_moves(before, after) == 0.0


# ------------------------------------------------------------------ one wrapper per library, by hand
def _linear_ctx(A: np.ndarray, seed: int = 0) -> MetricContext:
    from xaicheck.explainers.base import get_explainer
    from xaicheck.synthetic_models.registry import get_model

    model = get_model("linear_dummy")
    X = model.sample(5, np.random.default_rng(3))
    return MetricContext("linear_dummy", get_explainer("zero"), model, model.torch_module(), X,
                         np.zeros_like(X), None, A, seed)


def _weights() -> tuple[np.ndarray, float]:
    from xaicheck.synthetic_models.registry import get_model

    lin = get_model("linear_dummy").torch_module()[0]
    return lin.weight.detach().numpy().reshape(-1).astype(np.float64), float(lin.bias.detach())


def test_captum_infidelity_is_the_formula_on_a_linear_model():
    """f = w·x + c, A = k w: Iᵀa - (f(x) - f(x - I)) = (k - 1) Iᵀw, so INFD = (k - 1)² mean (Iᵀw)² on the same
    draws: k = 1 gives 0, k = 3 gives 4x k = 2 (captum's unnormalised score grows with the norm), and the optimally
    scaled one (normalize=True, Yeh et al. sec. 6) is 0 for every k."""
    pytest.importorskip("captum")
    from xaicheck.benchmarks.metrics.captum_metrics import _infidelity, infidelity_by_formula

    w, c = _weights()
    ctx = _linear_ctx(np.zeros((5, len(w))))
    rows = {k: _infidelity(MetricContext(**{**ctx.__dict__, "A": np.tile(k * w, (5, 1))}), normalize=False)
            for k in (1.0, 2.0, 3.0)}
    np.testing.assert_allclose(rows[1.0], 0.0, atol=1e-20)
    np.testing.assert_allclose(rows[3.0], 4.0 * rows[2.0], rtol=1e-9)
    assert np.all(rows[2.0] > 0)
    scaled = _infidelity(MetricContext(**{**ctx.__dict__, "A": np.tile(3 * w, (5, 1))}), normalize=True)
    np.testing.assert_allclose(scaled, 0.0, atol=1e-18)
    # the formula itself, with explicit draws, on the same model
    noises = np.random.default_rng(0).normal(0, 0.003, (10, *ctx.X.shape))
    f = lambda Z: Z @ w + c  # noqa: E731
    np.testing.assert_allclose(infidelity_by_formula(f, ctx.X, np.tile(2 * w, (5, 1)), noises),
                               np.mean([((I @ w)) ** 2 for I in noises], axis=0), rtol=1e-12)


def test_quantus_faithfulness_estimate_is_pearson_of_a_and_single_feature_removal():
    """FaithfulnessEstimate (Alvarez-Melis & Jaakkola 2018): Pearson(a_i, f(x) - f(x with x_i -> 0)); for a linear f
    the drops are w_i x_i, so the value is Pearson(a, w ⊙ x) per row."""
    pytest.importorskip("quantus")
    from xaicheck.benchmarks.metrics.quantus_metrics import quantus_metrics

    w, _ = _weights()
    A = np.random.default_rng(5).standard_normal((5, len(w)))
    ctx = _linear_ctx(A)
    metric = next(m for m in quantus_metrics(quick=True)
                  if m.name == "quantus_faithfulness_estimate" and m.variant == "reference")
    theirs = np.asarray(metric.compute(ctx), dtype=np.float64)
    ours = [np.corrcoef(A[r], w * ctx.X[r])[0, 1] for r in range(5)]
    np.testing.assert_allclose(theirs, ours, atol=1e-5)  # Quantus runs the model in float32


def test_openxai_pgi_pgu_hand_worked():
    """d = 4, k = ceil(4/4) = 1; f = w·x with w = (4, 3, 2, 1); |a| largest on feature 1 (w = 3).
    Draws z1 = (1, 1, 1, 1), z2 = (-2, 0.5, 0, 0): PGI = (|3·1| + |3·0.5|)/2 = 2.25;
    PGU = (|4 + 2 + 1| + |-8|)/2 = 7.5."""
    w = np.array([4.0, 3.0, 2.0, 1.0])
    X = np.array([[0.2, 0.4, 0.6, 0.8]])
    A = np.array([[0.1, 0.9, 0.2, 0.3]])
    noise = np.array([[[1.0, 1.0, 1.0, 1.0]], [[-2.0, 0.5, 0.0, 0.0]]])
    pgi, pgu = pgi_pgu(lambda Z: Z @ w, X, A, 1, noise)
    assert pgi.tolist() == [2.25] and pgu.tolist() == [7.5]


def test_openxai_relative_stability_hand_worked():
    """e_x = (1, 2); neighbours x' = (1.1, 1), (1, 1.2) of x = (1, 1) with e_x' = (1, 2), (2, 2):
    numerators ‖(e - e')/e‖ = 0, 1; input ratios 0.1, 0.2 -> RIS = max(0/0.1, 1/0.2) = 5.
    Outputs f = 2, f' = 2.2, 2.4 -> ratios 0.1, 0.2 -> ROS = 5; with L = f, RRS = ROS."""
    E, E_p = np.array([[1.0, 2.0]]), np.array([[[1.0, 2.0]], [[2.0, 2.0]]])
    X, X_p = np.array([[1.0, 1.0]]), np.array([[[1.1, 1.0]], [[1.0, 1.2]]])
    F, F_p = np.array([[2.0]]), np.array([[[2.2]], [[2.4]]])
    out = stability_ratios(E, E_p, X, X_p, F, F_p, F, F_p)
    np.testing.assert_allclose([out["ris"][0], out["ros"][0], out["rrs"][0]], [5.0, 5.0, 5.0])


# ------------------------------------------------------------------ a known-good and a planted bad metric, end to end
def test_oracle_metric_tracks_and_random_metric_does_not(tmp_path):
    """Through ``run_metrics`` on the quick cells: a metric that *is* the exact-truth score ranks like the truth
    (τ = 1, interval [1, 1]); one that is the truth's negative lies below 0; a seeded random one does not track."""
    import zlib

    from xaicheck.benchmarks.metrics import Metric, run_metrics
    from xaicheck.benchmarks.metrics.cells import truth_of

    def oracle(ctx: MetricContext) -> np.ndarray:
        return np.array([truth_of(ctx.explainer, ctx.model, ctx.X, ctx.A, baseline=ctx.baseline,
                                  background=ctx.background)])

    def noise(ctx: MetricContext) -> np.ndarray:
        key = zlib.crc32(f"{ctx.explainer.name}/{ctx.case}".encode())
        return np.random.default_rng(key).standard_normal(1)

    metrics = [Metric("oracle", "test", "ground_truth", 1, oracle),
               Metric("anti_oracle", "test", "ground_truth", -1, oracle),
               Metric("planted_random", "test", "noise", 1, noise)]
    rows = run_metrics(tmp_path, suite="quick", n_boot=200, metrics=metrics)["rows"]
    by = {(r["track"], r["metric"]): r for r in rows}
    for track in ("tabular_baseline", "tabular_background", "tabular_exact", "image", "text", "trees"):
        truth = by[(track, "exact_truth")]  # the exact truth against itself, on every ranked attribution track
        assert (truth["tau"], truth["tau_lo"], truth["tau_hi"], truth["verdict"]) == ("1", "1", "1",
                                                                                      "tracks the truth")
        assert int(truth["n_cases"]) >= 2 and int(truth["n_methods"]) >= 6, (track, truth)
        good = by[(track, "oracle")]  # a metric that is the truth, computed through the metric layer's views
        assert (good["tau"], good["verdict"]) == ("1", "tracks the truth"), (track, good)
    assert "interactions" not in {r["track"] for r in rows}  # interaction indices are not attributions
    good = by[("tabular_baseline", "oracle")]
    assert (good["tau"], good["tau_lo"], good["tau_hi"], good["verdict"]) == ("1", "1", "1", "tracks the truth")
    anti = by[("tabular_baseline", "anti_oracle")]
    assert float(anti["tau_hi"]) < 0 and anti["verdict"] == "does not track the truth here"
    bad = by[("tabular_baseline", "planted_random")]
    assert float(bad["tau_lo"]) < 0 < float(bad["tau_hi"]) and bad["verdict"] == "does not track the truth here"
    assert (tmp_path / "metric_validity.csv").read_text().startswith("track,metric,variant")


# ------------------------------------------------------------------ the new tracks: what a metric is handed
def test_quick_cells_cover_image_text_and_trees_with_their_panels():
    """The quick selection (``cells`` docstring): the three tabular tracks' cases plus 4 image, 5 text and 8 tree
    cases; each track's panel holds at least 6 real methods, and a tree explainer is on no other track's panel."""
    from collections import Counter

    from xaicheck.benchmarks.metrics.cells import CONTROLS, QUICK_CASES, REAL, in_panel, metric_cases, track_of

    cases = metric_cases("quick")
    count = Counter(track_of(c.model) for c in cases)
    new = ("image", "text", "trees")
    assert {k: count[k] for k in new} == {k: QUICK_CASES[k] for k in new} == {"image": 4, "text": 5, "trees": 8}
    assert count["tabular"] >= 8
    for family in ("image", "text", "trees"):
        assert len(set(REAL[family]) - set(CONTROLS)) >= 6
    image = next(c for c in cases if track_of(c.model) == "image")
    from xaicheck.explainers.base import get_explainer

    assert not in_panel(get_explainer("shap_tree"), image, "quick") and in_panel(get_explainer("random"), image, "quick")


def test_a_control_on_an_image_case_sits_below_the_exact_patch_oracle():
    """On a quick image case (a planted CNN with 9 patches): the exact patch Shapley oracle scores 1 against the
    truth and the random control far less; OpenXAI's PGI (noise on the top-k pixels) and Quantus's pixel flipping to the
    declared baseline (blocks of d/16 pixels) both put the random control where it belongs, below the oracle."""
    from xaicheck.benchmarks.metrics.cells import metric_cases, track_of, truth_score
    from xaicheck.benchmarks.metrics.context import base_module
    from xaicheck.benchmarks.metrics.openxai_metrics import openxai_metrics
    from xaicheck.benchmarks.metrics.quantus_metrics import quantus_metrics
    from xaicheck.explainers.base import get_explainer

    case = next(c for c in metric_cases("quick") if track_of(c.model) == "image")
    b = np.broadcast_to(np.asarray(case.baseline, dtype=np.float64), case.X.shape).copy()
    pgi = next(m for m in openxai_metrics(quick=True) if m.name == "openxai_pgi")
    flip = next(m for m in quantus_metrics(quick=True) if m.key == "quantus_pixel_flipping[reference]")
    out = {}
    for name in ("exact_baseline_shapley", "random"):
        x = get_explainer(name)
        A = x.explain(case.model, case.X, baseline=b, seed=0)
        ctx = MetricContext(case.name, x, case.model, base_module(case.model), case.X, b, case.background, A, 0,
                            shape=tuple(case.model.input_shape))
        assert ctx.unit == case.model.n_features // 16 and ctx.side == 4
        out[name] = (truth_score(x, case, A), pgi.value(ctx), flip.value(ctx))
    oracle, control = out["exact_baseline_shapley"], out["random"]
    assert oracle[0] == pytest.approx(1.0) and control[0] < 0.5
    assert oracle[1] > control[1]  # PGI: higher is better
    assert oracle[2] < control[2]  # pixel flipping: the output after removal, lower is better


def test_a_metric_without_an_order_on_all_cases_cannot_rank_even_if_resamples_have_one():
    """Found on the 4-case image track: Sensitivity-n scored few cells, its point τ over all cases was undefined
    while some bootstrap resamples had one; the row said "does not track the truth here" with an empty τ. A metric
    with no order over the cases as a whole cannot rank."""
    from xaicheck.benchmarks.metrics.validity import Validity

    assert Validity(float("nan"), -1.0, 1.0, 4, 9).verdict == "cannot rank"
    assert Validity(0.2, float("nan"), float("nan"), 4, 9).verdict == "cannot rank"
    assert Validity(0.2, -0.1, 0.5, 4, 9).verdict == "does not track the truth here"
    assert Validity(0.4, 0.1, 0.6, 4, 9).verdict == "tracks the truth"
