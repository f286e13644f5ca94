"""benchmarks.spread: per scored check, the spread of the real methods (controls left out), and the flag for a check
every real method passes."""

from __future__ import annotations

import pandas as pd
import pytest

from xaicheck.benchmarks.spread import ALL_PASS_BAR, format_spread, main, spread


def _frame(rows):
    return pd.DataFrame(rows, columns=["explainer", "check", "case", "status", "score", "passed", "seed"])


def test_spread_leaves_controls_out_and_flags_a_check_everyone_passes():
    rows = []
    for case in ("a", "b"):
        rows += [("m1", "easy", case, "ok", 1.0, True, 0), ("m2", "easy", case, "ok", 0.9, True, 0),
                 ("zero", "easy", case, "ok", 0.0, False, 0)]  # the control fails: it must not count
    rows += [("m1", "hard", "a", "ok", 1.0, True, 0), ("m2", "hard", "a", "ok", 0.2, False, 0),
             ("m2", "hard", "a", "ok", 0.4, False, 1), ("m1", "hard", "b", "ok", 0.6, False, 0),
             ("m2", "hard", "b", "not_applicable", None, None, 0),
             ("m1", "gate", "a", "ok", 1.0, True, 0), ("m2", "gate", "a", "ok", 1.0, True, 0)]
    out = {r.check: r for r in spread(_frame(rows), {"m1": "oracle", "m2": "path", "zero": "control"},
                                      {"easy": "score", "hard": "score", "gate": "gate"})}
    assert set(out) == {"easy", "hard"}  # a gate is not a scored check
    easy, hard = out["easy"], out["hard"]
    assert (easy.methods, easy.lo, easy.hi, easy.all_pass, easy.min_pass_rate) == (2, 0.9, 1.0, 1.0, 1.0)
    assert easy.separates_nothing and not hard.separates_nothing
    # m1: cases a (1.0) and b (0.6) -> 0.8; m2: case a, mean over seeds (0.3)
    assert (hard.lo, hard.hi, hard.median) == pytest.approx((0.3, 0.8, 0.55))
    assert hard.all_pass == 0.0 and hard.min_pass_rate == 0.0 and hard.min_pass_by == "m2"
    text = format_spread([easy, hard])
    assert "SEPARATES NOTHING" in text.splitlines()[2] and "SEPARATES" not in text.splitlines()[3]
    assert ALL_PASS_BAR == 0.97


def test_cli_reads_a_results_directory(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2  # no scores.csv
    rows = [("exact_baseline_shapley", "ground_truth_agreement", "c", "ok", "0.5", "false", "0"),
            ("integrated_gradients", "ground_truth_agreement", "c", "ok", "0.9", "true", "0")]
    lines = ["explainer,case,check,category,status,score,passed,seed,message"]
    lines += [f"{e},{c},{k},ground_truth,{s},{v},{p},{seed}," for e, k, c, s, v, p, seed in rows]
    (tmp_path / "scores.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ground_truth_agreement" in out and "0.500" in out and "0.900" in out
