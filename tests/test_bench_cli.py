"""The ``xaicheck`` command line: help, list, run (on the local toy registry), report, diff, bad input."""

from __future__ import annotations

import pytest

import xaicheck.benchmarks.suite as suite_mod
from xaicheck.benchmarks import cli
from test_bench_fixtures import CHECKS, EXPLAINERS, TOY_MODEL, _cases


@pytest.fixture()
def toy_registry(monkeypatch):
    """Point the suite builder and the listings at the local toy explainers, checks and model."""
    exps = {k: EXPLAINERS[k] for k in ("exact", "noisy", "random", "boom")}
    checks = {c.name: c for c in CHECKS}
    monkeypatch.setattr(suite_mod, "explainer_names", lambda: sorted(exps))
    monkeypatch.setattr(suite_mod, "get_explainer", exps.__getitem__)
    monkeypatch.setattr(suite_mod, "check_names", lambda: list(checks))
    monkeypatch.setattr(suite_mod, "get_check", checks.__getitem__)
    monkeypatch.setattr("xaicheck.explainers.base.all_explainers", lambda: [exps[k] for k in sorted(exps)])
    monkeypatch.setattr("xaicheck.axioms.base.all_checks", lambda: list(checks.values()))
    monkeypatch.setattr("xaicheck.axioms.base.all_cases", lambda tier="full": [
        c for chk in CHECKS for c in _cases(chk.name) if tier in c.tiers])
    monkeypatch.setattr("xaicheck.synthetic_models.registry.all_models", lambda: [TOY_MODEL])
    return exps


def test_help_lists_every_command_with_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in ("run", "list", "report", "diff", "reproduce", "examples:", "xaicheck run --suite quick"):
        assert word in out
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = capsys.readouterr().out
    assert "--timeout" in out and "--no-resume" in out and "--jobs" in out
    # a bare `xaicheck run` runs the default suite (the README's main job); --suite quick still parses
    parser = cli.build_parser()
    assert parser.parse_args(["run"]).suite == "default"
    assert parser.parse_args(["run", "--suite", "quick"]).suite == "quick"


def test_list_tables(toy_registry, capsys):
    assert cli.main(["list", "explainers"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "library", "version", "family", "tags"]
    assert any(line.startswith("noisy ") and "stochastic" in line for line in out)
    assert cli.main(["list", "checks"]) == 0
    out = capsys.readouterr().out
    assert "bench_toy_dummy" in out and "axioms" in out and "Sundararajan et al. 2017" in out
    assert cli.main(["list", "cases", "--suite", "quick"]) == 0
    out = capsys.readouterr().out
    assert "bench_toy_dummy/toy_a" in out and "toy_b" not in out
    assert cli.main(["list", "models"]) == 0
    assert "bench_toy_linear" in capsys.readouterr().out


def test_run_report_diff_and_bad_input(toy_registry, tmp_path, capsys):
    out = tmp_path / "res"
    assert cli.main(["run", "--suite", "quick", "--out", str(out), "--jobs", "1", "--quiet",
                     "--explainers", "exact,random,boom"]) == 0
    text = capsys.readouterr().out
    assert "6 cells (2 error, 4 ok)" in text
    for name in ("scores.csv", "timings.csv", "evidence.jsonl", "provenance.json", "leaderboard.csv",
                 "leaderboard.md", "report.html"):
        assert (out / name).exists(), name
    (out / "report.html").unlink()
    assert cli.main(["report", str(out)]) == 0 and (out / "report.html").exists()
    capsys.readouterr()
    assert cli.main(["diff", str(out), str(out)]) == 0
    assert "no cell changed" in capsys.readouterr().out
    # bad input: one line on stderr, exit code 2
    assert cli.main(["run", "--out", str(out), "--explainers", "nope", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown explainer 'nope'" in err[0]
    assert cli.main(["report", str(tmp_path / "missing")]) == 2
    assert "no scores.csv" in capsys.readouterr().err
    assert cli.main(["run", "--jobs", "0", "--quiet"]) == 2
    assert cli.main(["diff", str(out), str(tmp_path / "missing")]) == 2


def test_reproduce_delegates_or_says_not_available(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "xaicheck.benchmarks.papers", None)  # import fails
    assert cli.main(["reproduce", "--list"]) == 2
    assert "not available yet" in capsys.readouterr().err
