"""A catalogue of bad input (issue 17 item 7, issue 15): each kind is one line on stderr naming the problem, a
non-zero exit, no traceback, and (for ``run``) no cell run and nothing written. API misuse raises an error naming
the known values (no silent green). The figures in the module's report: ``len(CLI_CASES) + len(API_CASES)`` kinds.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from xaicheck.axioms.pytest_api import SelectionError, as_explainer, check_explainer, parametrize_with_checks
from xaicheck.benchmarks.cli import main
from xaicheck.benchmarks.suite import build_suite

RUN = ["--suite", "quick", "--explainers", "zero", "--checks", "linearity", "--quiet", "--jobs", "1"]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good") / "run"
    assert main(["run", "--out", str(out), *RUN]) == 0
    return out


def _edit_scores(d: Path, fn: Callable[[list[str]], list[str]], keep_digest: bool = False) -> None:
    lines = (d / "scores.csv").read_text().splitlines()
    (d / "scores.csv").write_text("\n".join(fn(lines)) + "\n")
    if not keep_digest:  # only the content check under test, not the provenance digest
        prov = json.loads((d / "provenance.json").read_text())
        prov.pop("scores_sha256", None)
        (d / "provenance.json").write_text(json.dumps(prov))


def _field(line: str, k: int, value: str) -> str:
    parts = line.split(",", 8)
    parts[k] = value
    return ",".join(parts)


# (id, prepare(tmp, good) -> argv, text the one-line error must contain)
CLI_CASES: list[tuple[str, Callable[[Path, Path], list[str]], str]] = [
    ("out_empty", lambda t, g: ["run", "--out", "", *RUN], "output directory is empty"),
    ("out_is_file", lambda t, g: (t / "f").write_text("x") and ["run", "--out", str(t / "f"), *RUN], "is a file"),
    ("out_under_file", lambda t, g: (t / "f").write_text("x") and ["run", "--out", str(t / "f" / "sub"), *RUN],
     "which is a file"),
    ("out_under_proc", lambda t, g: ["run", "--out", "/proc/xaicheck-out", *RUN], "cannot create output directory"),
    ("out_not_writable", lambda t, g: ["run", "--out", "/proc/self", *RUN], "not writable"),
    ("out_scores_is_dir", lambda t, g: (t / "o" / "scores.csv").mkdir(parents=True) or
     ["run", "--out", str(t / "o"), *RUN], "not a regular file"),
    ("explainers_empty", lambda t, g: ["run", "--out", str(t / "o"), "--explainers", ""], "names no explainer"),
    ("explainers_commas", lambda t, g: ["run", "--out", str(t / "o"), "--explainers", ",,"], "names no explainer"),
    ("explainers_unknown", lambda t, g: ["run", "--out", str(t / "o"), "--explainers", "zero,integrated_gradient"],
     "unknown explainer 'integrated_gradient' (did you mean 'integrated_gradients'?); known: "),
    ("checks_empty", lambda t, g: ["run", "--out", str(t / "o"), "--checks", " "], "names no check"),
    ("checks_unknown", lambda t, g: ["run", "--out", str(t / "o"), "--checks", "symetry"],
     "unknown check 'symetry' (did you mean 'symmetry'?); known: "),
    ("nothing_applicable", lambda t, g: ["run", "--out", str(t / "o"), "--explainers", "lime_text", "--checks",
                                         "completeness"], "none of the"),
    ("jobs_zero", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--jobs", "0"], "--jobs must be >= 1"),
    ("jobs_negative", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--jobs", "-2"], "--jobs must be >= 1"),
    ("jobs_text", lambda t, g: ["run", "--jobs", "two"], "invalid int value: 'two'"),
    ("timeout_nan", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--timeout", "nan"], "finite number > 0"),
    ("timeout_inf", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--timeout", "inf"], "finite number > 0"),
    ("timeout_negative", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--timeout", "-1"], "finite number > 0"),
    ("timeout_zero", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--timeout", "0"], "finite number > 0"),
    ("seed_negative", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--seed", "-1"], "seed must be in [0, "),
    ("seed_huge", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--seed", str(2**70)], "seed must be in [0, "),
    ("suite_unknown", lambda t, g: ["run", "--suite", "nightly"], "invalid choice: 'nightly'"),
    ("rerun_sample_negative", lambda t, g: ["run", "--out", str(t / "o"), *RUN, "--rerun-sample", "-1"],
     "--rerun-sample must be >= 0"),
    ("unknown_option", lambda t, g: ["run", "--fast"], "unrecognized arguments: --fast"),
    ("report_missing_dir", lambda t, g: ["report", str(t / "nope")], "the directory does not exist"),
    ("report_no_scores", lambda t, g: (t / "e").mkdir() or ["report", str(t / "e")], "no scores.csv"),
]


def _tampered(edit: Callable[[Path], object]) -> Callable[[Path, Path], list[str]]:
    def prepare(t: Path, g: Path) -> list[str]:
        d = t / "t"
        shutil.copytree(g, d)
        edit(d)
        return ["report", str(d)]
    return prepare


def _row1(fn: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda d: _edit_scores(d, lambda ls: [ls[0], fn(ls[1]), *ls[2:]])


CLI_CASES += [
    ("score_not_number", _tampered(_row1(lambda l: _field(l, 5, "high"))), "score 'high' is not a number"),
    ("score_out_of_range", _tampered(_row1(lambda l: _field(l, 5, "57.5"))), "score 57.5 is outside [0, 1]"),
    ("score_nan", _tampered(_row1(lambda l: _field(l, 5, "nan"))), "outside [0, 1]"),
    ("score_negative", _tampered(_row1(lambda l: _field(l, 5, "-0.1"))), "outside [0, 1]"),
    ("missing_column", _tampered(lambda d: _edit_scores(d, lambda ls: [",".join(x.split(",")[:4] + x.split(",")[5:])
                                                                        for x in ls])), "missing column(s) status"),
    ("seed_not_int", _tampered(_row1(lambda l: _field(l, 7, "x"))), "seed 'x' is not an integer"),
    ("seed_negative_in_csv", _tampered(_row1(lambda l: _field(l, 7, "-4"))), "seed -4 is negative"),
    ("status_unknown", _tampered(_row1(lambda l: _field(l, 4, "great"))), "status 'great' is not one of"),
    ("passed_unknown", _tampered(_row1(lambda l: _field(l, 6, "maybe"))), "passed 'maybe'"),
    ("duplicate_row", _tampered(lambda d: _edit_scores(d, lambda ls: [*ls, ls[1]])), "appears twice"),
    ("error_row_with_score", _tampered(_row1(lambda l: _field(l, 4, "error"))), "has no score"),
    ("extra_field", _tampered(_row1(lambda l: l + ",extra")), "fields"),
    ("scores_not_utf8", _tampered(lambda d: (d / "scores.csv").write_bytes(b"explainer,\xff\xfe\n")), "not UTF-8"),
    ("scores_is_dir", _tampered(lambda d: ((d / "scores.csv").unlink(), (d / "scores.csv").mkdir())),
     "not a regular file"),
    ("scores_edited_in_range", _tampered(lambda d: _edit_scores(d, lambda ls: [ls[0], _field(ls[1], 5, "0.5"),
                                                                              *ls[2:]], keep_digest=True)),
     "scores.csv does not match its digest in provenance.json"),
    ("evidence_corrupt", _tampered(lambda d: (d / "evidence.jsonl").write_text("{not json\n")), "not JSON"),
    ("evidence_foreign_cell", _tampered(lambda d: (d / "evidence.jsonl").write_text(json.dumps(
        {"cell_id": "x/y/z/s0", "explainer": "x", "check": "y", "case": "z", "seed": 0, "status": "ok"}) + "\n")),
     "has no row in scores.csv"),
    ("provenance_corrupt", _tampered(lambda d: (d / "provenance.json").write_text("{\"suite\": ")), "not JSON"),
    ("provenance_not_object", _tampered(lambda d: (d / "provenance.json").write_text("[1, 2]")),
     "expected a JSON object"),
    ("provenance_bad_seed", _tampered(lambda d: (d / "provenance.json").write_text('{"base_seed": "zero"}')),
     "base_seed 'zero' is not an integer"),
    ("timings_negative", _tampered(lambda d: (d / "timings.csv").write_text(
        "explainer,case,check,seed,status,seconds\nzero,a,b,0,ok,-3\n")), "seconds -3.0 is not a finite number"),
    ("diff_tol_nan", lambda t, g: ["diff", str(g), str(g), "--tol", "nan"], "--tol must be a finite number >= 0"),
    ("diff_tol_negative", lambda t, g: ["diff", str(g), str(g), "--tol", "-1"], "--tol must be a finite number >= 0"),
    ("diff_tol_inf", lambda t, g: ["diff", str(g), str(g), "--tol", "inf"], "--tol must be a finite number >= 0"),
    ("diff_missing_dir", lambda t, g: ["diff", str(g), str(t / "nope")], "the directory does not exist"),
    ("diff_bad_csv", lambda t, g: [*_tampered(_row1(lambda l: _field(l, 5, "1e9")))(t, g)[:0], "diff", str(g),
                                   str(t / "t")], "outside [0, 1]"),
    ("reproduce_unknown", lambda t, g: ["reproduce", "sundararajan2071"], "unknown paper 'sundararajan2071'"),
    ("list_unknown", lambda t, g: ["list", "metrics"], "invalid choice: 'metrics'"),
    ("command_unknown", lambda t, g: ["rnu"], "invalid choice: 'rnu'"),
]


@pytest.mark.parametrize("prepare, needle", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_is_one_line_and_nonzero(prepare, needle, good, tmp_path, capsys):
    argv = prepare(tmp_path, good)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code not in (0, None), captured
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert needle in lines[0], lines[0]
    assert "internal error" not in lines[0]
    if argv[0] == "run":  # refused before any work: no output directory was made or no cell ran
        out = tmp_path / "o"
        assert not (out / "scores.csv").is_file() and not (out / ".partial").exists()


def _fn(model, X, *, baseline, background, target, seed):
    return X * 0.0


API_CASES: list[tuple[str, Callable[[], object], type[BaseException], str]] = [
    ("requires_typo", lambda: check_explainer(_fn, requires="troch"), SelectionError,
     "unknown requires='troch'; known: callable, torch"),
    ("scope_typo", lambda: as_explainer(_fn, scope="globl"), SelectionError, "unknown scope='globl'"),
    ("capability_not_bool", lambda: as_explainer(_fn, uses_baseline="yes"), TypeError, "must be True or False"),
    ("checks_empty_list", lambda: check_explainer("zero", checks=[]), SelectionError, "selects no check"),
    ("check_typo", lambda: check_explainer("zero", checks=["symetry"]), SelectionError, "unknown check 'symetry'"),
    ("case_typo", lambda: check_explainer("zero", checks=["symmetry/nope"]), SelectionError, "unknown case"),
    ("suite_typo", lambda: check_explainer("zero", suite="quik"), SelectionError, "unknown suite 'quik'"),
    ("parametrize_empty", lambda: parametrize_with_checks([]), SelectionError, "no explainer given"),
    ("expected_failures_check_typo", lambda: check_explainer("zero", checks=["linearity"], expected_failures={
        "zero": {"linerity": "why"}}), SelectionError, "unknown check 'linerity'"),
    ("expected_failures_explainer_typo", lambda: check_explainer("zero", checks=["linearity"], expected_failures={
        "zer0": {"linearity": "why"}}), SelectionError, "names explainer 'zer0'"),
    ("check_explainer_timeout_nan", lambda: check_explainer("zero", timeout=math.nan), ValueError, "finite"),
    ("nothing_applicable", lambda: check_explainer(_fn, checks=["linearity"], requires="text"), SelectionError,
     "no cell of suite 'quick' applies"),
    ("build_suite_empty", lambda: build_suite("quick", explainers=""), SelectionError, "names no explainer"),
    ("build_suite_seed", lambda: build_suite("quick", base_seed=-1), ValueError, "seed must be in"),
]


@pytest.mark.parametrize("call, exc, needle", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_bad_input_raises_naming_the_problem(call, exc, needle):
    with pytest.raises(exc) as info:
        call()
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_diff_into_a_closed_pipe_is_quiet(tmp_path):
    """`xaicheck diff A B | head -1`: no BrokenPipeError traceback."""
    header = "explainer,case,check,category,status,score,passed,seed,message\n"
    for name, score in (("a", "0.1"), ("b", "0.9")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "scores.csv").write_text(header + "".join(
            f"e{i},case{i},dummy,axioms,ok,{score},true,0,m\n" for i in range(20000)))
    cmd = f"{sys.executable} -m xaicheck.benchmarks.cli diff {tmp_path / 'a'} {tmp_path / 'b'} | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=300,
                          env={**os.environ})
    assert proc.stdout.startswith("20000 cells differ") and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == ""
