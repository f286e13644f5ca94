"""A tiny local world for the benchmark-engine tests: one model, a few explainers, two checks (nothing registered).

Other ``test_bench_*`` modules import from here (``from test_bench_fixtures import toy_suite``).
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from xaicheck.axioms.base import Case, Check, CheckResult
from xaicheck.benchmarks.suite import Suite
from xaicheck.explainers.base import Capabilities, FunctionExplainer
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

W = np.array([2.0, -1.0, 0.0])

TOY_MODEL = FunctionModel(
    "bench_toy_linear", "bench_toy", lambda X: X @ W, ("x0", "x1", "x2"),
    GroundTruth(relevant=frozenset({0, 1}), dummy=frozenset({2})), sampler=lambda n, rng: rng.uniform(size=(n, 3)))


def _exact(model, X, *, baseline, background, target, seed):
    return (X - baseline) * W


def _noisy(model, X, *, baseline, background, target, seed):
    rng = np.random.default_rng(seed)
    return (X - baseline) * W + rng.normal(scale=0.05, size=X.shape)


def _random(model, X, *, baseline, background, target, seed):
    return np.random.default_rng(1000 + seed).normal(size=X.shape)


def _boom(model, X, *, baseline, background, target, seed):
    raise RuntimeError("boom: this explainer always fails")


def _sleepy(model, X, *, baseline, background, target, seed):
    time.sleep(30)
    return np.zeros_like(X)


def _global(model, X, *, baseline, background, target, seed):
    return np.abs(W)[None, :]


BASE = Capabilities(uses_baseline=True)
EXPLAINERS = {
    "exact": FunctionExplainer(_exact, "exact", family="oracle", library="xaicheck", capabilities=BASE),
    "noisy": FunctionExplainer(_noisy, "noisy", family="perturbation", library="xaicheck",
                               capabilities=Capabilities(uses_baseline=True, stochastic=True)),
    "random": FunctionExplainer(_random, "random", family="control", library="xaicheck",
                                capabilities=Capabilities(stochastic=True)),
    "boom": FunctionExplainer(_boom, "boom", family="user", capabilities=BASE),
    "sleepy": FunctionExplainer(_sleepy, "sleepy", family="user", capabilities=BASE),
    "global_imp": FunctionExplainer(_global, "global_imp", family="global", library="scikit-learn",
                                    capabilities=Capabilities(scope="global")),
}


def _cases(check: str) -> list[Case]:
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(4, 3))
    return [
        Case(check, "toy_a", TOY_MODEL, X, baseline=np.zeros(3), tiers=frozenset({"quick", "default", "full"})),
        Case(check, "toy_b", TOY_MODEL, X[:2] + 1.0, baseline=np.full(3, 0.5), tiers=frozenset({"default", "full"})),
    ]


class ToyDummy(Check):
    """Dummy feature gets no attribution: score = 1 - min(1, max|a_dummy| / max|a|)."""

    name = "bench_toy_dummy"
    category = "axioms"
    threshold = 0.9
    citation = "Sundararajan et al. 2017"

    def cases(self) -> Sequence[Case]:
        return _cases(self.name)

    def evaluate(self, explainer, case, seed):
        a = case.explain(explainer, seed=seed)
        leak = float(np.max(np.abs(a[:, 2])) / max(np.max(np.abs(a)), 1e-12))
        return CheckResult.scored(1.0 - min(1.0, leak), self.threshold, f"dummy share {leak:.3g}",
                                  {"measured": leak, "threshold": self.threshold, "attributions": a[:4].tolist()})


class ToyTruth(Check):
    """Agreement with the exact attribution: score = max(0, cosine(a, a*))."""

    name = "bench_toy_truth"
    category = "ground_truth"
    threshold = 0.95
    citation = "toy"

    def cases(self) -> Sequence[Case]:
        return _cases(self.name)

    def evaluate(self, explainer, case, seed):
        a = case.explain(explainer, seed=seed).ravel()
        b = ((case.X - case.baseline) * W).ravel()
        cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
        return CheckResult.scored(max(0.0, cos), self.threshold, f"cosine {cos:.3g}",
                                  {"measured": cos, "threshold": self.threshold})


CHECKS = [ToyDummy(), ToyTruth()]


def toy_suite(name: str = "quick", explainers: Sequence[str] = ("exact", "noisy", "random", "boom"),
              base_seed: int = 0) -> Suite:
    return Suite.from_objects(name, [EXPLAINERS[e] for e in explainers], CHECKS, base_seed)


def test_toy_suite_expands_to_expected_cells():
    quick = toy_suite("quick")
    # 4 explainers x 2 checks x 1 case (quick) x 1 seed
    assert len(quick.cells()) == 8
    default = toy_suite("default")
    # one seed each in default (the seed replication is in full); 2 checks x 2 cases
    assert len(default.cells()) == 4 * 4
    full = toy_suite("full")
    # deterministic: exact, boom -> 1 seed; stochastic noisy, random -> 3 seeds; 2 checks x 2 cases
    assert len(full.cells()) == (1 + 3 + 3 + 1) * 4
    ids = [c.id for c in full.cells()]
    assert len(set(ids)) == len(ids) and "noisy/bench_toy_dummy/toy_b/s2" in ids
