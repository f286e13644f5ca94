"""Reproductions built on exact Shapley oracles: Sundararajan & Najmi 2020, Janzing 2020, Huang & Marques-Silva 2023,
Lundberg 2018."""

from __future__ import annotations

from itertools import permutations
from math import factorial

import numpy as np
import pytest

from xaicheck.benchmarks.papers import run_paper
from xaicheck.benchmarks.papers import huang_marques_silva2023 as hms


def test_sundararajan_najmi2020_verdicts():
    r = run_paper("sundararajan_najmi2020", out_dir=None)
    assert r.verdicts() == {"ces_violates_dummy": "reproduced", "bshap_satisfies_dummy": "reproduced",
                            "rbshap_satisfies_dummy": "reproduced", "all_efficient": "reproduced"}
    # copy_feature: conditional Shapley gives the unused copy (x0 - 1/2)/2, i.e. 1/4 in absolute value
    assert r.results[0].measured["max_abs_dummy_ces"] == pytest.approx(0.25)


def test_janzing2020_verdicts():
    r = run_paper("janzing2020", out_dir=None)
    assert set(r.verdicts().values()) == {"reproduced"}
    dep = r.results[2].measured["janzing_dependent"]
    # at x = (0, 1): observational (-0.9, 0.9) vs interventional (-0.5, 0.5) (closed form in distributions.py)
    assert dep["max_abs_obs_minus_itv"] == pytest.approx(0.4)


def test_lundberg2018_verdicts():
    r = run_paper("lundberg2018", out_dir=None)
    assert set(r.verdicts().values()) == {"reproduced"}
    saabas, tree = r.results[0].measured, r.results[1].measured
    assert (saabas["cough_A"], saabas["cough_B"]) == pytest.approx((40.0, 25.0))
    assert (tree["cough_A"], tree["cough_B"]) == pytest.approx((30.0, 35.0))


def _brute_force_issues(n: int) -> tuple[int, int]:
    """Independent count of (function, instance) pairs with each issue: Shapley by permutations, relevance by AXps."""
    pts = hms._points(n)
    irr_nonzero = rel_zero = 0
    for code in range(1 << (1 << n)):
        truth = np.array([(code >> k) & 1 for k in range(1 << n)], dtype=float)
        for k in range(1 << n):
            x = pts[k]

            def v(S: frozenset) -> float:
                agree = np.all((pts == x) | ~np.isin(np.arange(n), list(S)), axis=1)
                return float(truth[agree].mean())

            phi = np.zeros(n)
            for order in permutations(range(n)):
                S: frozenset = frozenset()
                for i in order:
                    phi[i] += v(S | {i}) - v(S)
                    S = S | {i}
            phi /= factorial(n)
            irr = [hms._irrelevant(truth, n, k, i) for i in range(n)]
            zero = np.abs(phi) <= hms.ZERO_TOL
            irr_nonzero += any(irr[i] and not zero[i] for i in range(n))
            rel_zero += any(not irr[i] and zero[i] for i in range(n))
    return irr_nonzero, rel_zero


def test_huang_marques_silva_counts_match_brute_force_n2_n3():
    for n in (2, 3):
        c = hms.relevance_issue_counts(n)
        assert (c["irrelevant_nonzero_pairs"], c["relevant_zero_pairs"]) == _brute_force_issues(n)
    with pytest.raises(ValueError, match="1 <= n <= 4"):
        hms.relevance_issue_counts(5)


def test_huang_marques_silva_verdicts_n3(monkeypatch):
    monkeypatch.setattr(hms, "N_VALUES", (3,))
    got = {m.claim_id: m.holds for fn in hms.PAPER.measure_fns for m in fn()}
    assert got == {"irrelevant_nonzero_example": True, "relevant_zero_example": True,
                   "irrelevant_nonzero_n3": True, "relevant_zero_n3": True}
