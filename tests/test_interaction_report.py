"""The true-vs-estimated interaction matrices (issue 25): interaction_agreement's evidence carries the first row's
exact and estimated pair matrices, the report draws them per interaction family from the run's files alone, and the
figure is byte-identical for a seed."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms.base import Status, cases_of, get_check
from xaicheck.axioms.cell_record import CellRecord
from xaicheck.benchmarks.case_facts import CaseFacts
from xaicheck.benchmarks.plots import interaction_family, matrix_explainer
from xaicheck.benchmarks.scoring import compute_scores
from xaicheck.explainers.base import get_explainer
from xaicheck.explainers.interaction_base import pair_matrix
from xaicheck.synthetic_models.interaction_truth import interaction_truth

pytest.importorskip("shapiq")


def _case(model: str = "ia_pairwise_d8"):
    return next(c for c in cases_of(get_check("interaction_agreement"), 0, "quick") if c.name == model)


def test_agreement_evidence_carries_the_first_rows_pair_matrices():
    case = _case()
    d = case.X.shape[1]
    T = interaction_truth(case.model, case.X, case.baseline, "baseline", "k-SII", 2)
    for name in ("exact_ksii", "shapiq_permutation_b128"):
        result = get_check("interaction_agreement").run(get_explainer(name), case, seed=0)
        assert result.status is Status.OK
        true, est = np.array(result.evidence["pair_true"]), np.array(result.evidence["pair_estimated"])
        assert true.shape == est.shape == (d, d) and np.array_equal(true, true.T) and np.array_equal(est, est.T)
        assert np.allclose(true, pair_matrix(T[:1], d, 2)[0], atol=5e-7)
        x, b = case.X[0], np.broadcast_to(case.baseline, case.X.shape)[0]  # f = ... - 0.5 x2 x3 + 2 x4 x5
        assert true[4, 5] == pytest.approx(2.0 * (x[4] - b[4]) * (x[5] - b[5]), abs=1e-6)
        assert true[2, 3] == pytest.approx(-0.5 * (x[2] - b[2]) * (x[3] - b[3]), abs=1e-6) and true[6, 7] == 0.0
        if name == "exact_ksii":
            assert np.array_equal(true, est)
        else:  # 128 evaluations: off the truth (the agreement check fails it on this case)
            assert np.abs(true - est).max() > 1e-3


def _rec(exp: str, case: str, score: float) -> CellRecord:
    return CellRecord(f"{exp}/interaction_agreement/{case}/s0", exp, "interaction_agreement", case, "ground_truth", 0,
                      "ok", score, score >= 0.9, "", {"measured": score, "pair_true": [[0.0]],
                                                      "pair_estimated": [[0.0]]})


def test_the_figure_shows_the_best_non_oracle_and_families_come_from_recorded_facts():
    records = [_rec(e, c, s) for e, c, s in (("exact_ksii", "a", 1.0), ("approx_hi", "a", 0.95),
                                             ("approx_lo", "a", 0.5), ("noise", "a", 0.99))]
    meta = {"exact_ksii": {"family": "oracle"}, "approx_hi": {"family": "shapley"},
            "approx_lo": {"family": "shapley"}, "noise": {"family": "control"}}
    assert matrix_explainer(compute_scores(records, meta=meta), records) == "approx_hi"
    fact = lambda domain, forms: CaseFacts("interaction_agreement", domain, forms, 6, "score", "interaction", (), 2)  # noqa: E731
    assert [interaction_family(fact(*a)) for a in (("binary", ("callable",)), ("continuous", ("callable",)),
                                                  ("continuous", ("callable", "sklearn", "tree")),
                                                  ("continuous", ("callable", "torch")))] == \
        ["boolean", "polynomial", "trees", "networks"]


def _run(out) -> None:
    from xaicheck.benchmarks import cli

    code = cli.main(["run", "--suite", "quick", "--checks", "interaction_agreement", "--explainers",
                     "exact_ksii,shapiq_kernelshapiq_b512,shapiq_permutation_b128,interaction_random",
                     "--out", str(out), "--jobs", "1", "--quiet", "--no-resume"])
    assert code == 0


def test_the_report_embeds_the_figure_and_it_is_byte_identical_for_a_seed(tmp_path):
    from xaicheck.benchmarks.report import build_report

    a, b = tmp_path / "a", tmp_path / "b"
    _run(a)
    _run(b)
    png = a / "plots" / "interaction_matrices.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.read_bytes() == (b / "plots" / "interaction_matrices.png").read_bytes()
    html = (a / "report.html").read_text(encoding="utf-8")
    assert '<figure id="plot-interaction_matrices">' in html and "not an exact oracle" in html
    first = png.read_bytes()
    build_report(a, log=None, jobs=1)  # redrawn from the run's files alone: the same bytes
    assert png.read_bytes() == first
