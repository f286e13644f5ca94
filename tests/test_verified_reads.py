"""Verified reads (issue 28, item 4) and resume under changed code (item 5).

Every file ``xaicheck report`` reads is checked against the digests ``provenance.json`` recorded at write time, with
an HMAC under a key kept outside ``--out`` (the cache directory): each tampered file is refused with one line, an
untampered run reports, a run reported on a machine without its key is reported with "origin not verifiable here",
and the committed ``results/`` stays reportable on a fresh machine. A partial-log record forged with a recomputed
plain digest is rejected on resume; a run resumed under changed code gets the fresh run's bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import pytest

from xaicheck.axioms.base import CheckResult
from xaicheck.benchmarks import cli, runner
from xaicheck.benchmarks.errors import RecordError
from xaicheck.benchmarks.records import PartialLog, fingerprint_digest
from xaicheck.benchmarks.run_key import key_path
from xaicheck.benchmarks.verified_reads import file_digest, verify_run
from test_bench_fixtures import toy_suite

RESULTS = Path(__file__).resolve().parents[1] / "results"
EARLIER = "history/provenance-20000101T000000Z.json"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One toy run (with an earlier run's provenance already in ``history/``) and the cache holding its key."""
    base = tmp_path_factory.mktemp("verified")
    out, cache = base / "run", base / "cache"
    (out / "history").mkdir(parents=True)
    (out / EARLIER).write_text(json.dumps({"started": "2000-01-01T00:00:00Z", "suite": "quick"}) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XAICHECK_CACHE_DIR", str(cache))
        runner.run_suite(toy_suite("quick", ("exact", "random")), out, jobs=1, progress=False, rerun_sample=1)
    return out, cache


@pytest.fixture
def run(made, tmp_path, monkeypatch):
    """A fresh copy of the run, reported with the key that made it."""
    out, cache = made
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(cache))
    return copy


def _refused(directory: Path, capsys, match: str) -> str:
    capsys.readouterr()
    assert cli.main(["report", str(directory)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in captured.err and match in err, err
    assert not (directory / "report.html").exists()
    return err


def _provenance(directory: Path) -> dict:
    return json.loads((directory / "provenance.json").read_text(encoding="utf-8"))


def _write_provenance(directory: Path, record: dict) -> None:
    (directory / "provenance.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def test_the_run_records_every_digest_and_a_key_outside_out(made):
    out, cache = made
    record = _provenance(out)
    assert record["format_version"] == 3
    assert set(record["digests"]) == {"scores.csv", "evidence.jsonl", "timings.csv", "determinism.csv", EARLIER}
    assert record["digests"]["evidence.jsonl"] == hashlib.sha256((out / "evidence.jsonl").read_bytes()).hexdigest()
    assert record["scores_sha256"] == record["digests"]["scores.csv"]
    key = key_path()  # the environment of the fixture is gone: compute where the key was made
    assert key is not None and cache in (cache / "run-key").parents
    assert stat.S_IMODE((cache / "run-key").stat().st_mode) == 0o600
    assert not any(p.name == "run-key" for p in out.rglob("*"))
    assert len(record["digests_key_id"]) == 16 and len(record["digests_hmac"]) == 64


def test_an_untampered_run_reports_with_the_keyed_digest_checked(run, capsys):
    assert cli.main(["report", str(run)]) == 0
    err = capsys.readouterr().err
    assert "verified 5 file(s)" in err and "keyed digest verified" in err
    assert (run / "report.html").is_file()


def test_scores_edited_with_the_plain_digests_recomputed_is_refused_by_the_keyed_digest(run, capsys):
    path = run / "scores.csv"
    text = path.read_text()
    assert ",ok,1.0,true," in text or ",ok,1,true," in text
    path.write_text(text.replace(",ok,1.0,true,", ",ok,0.5,true,", 1).replace(",ok,1,true,", ",ok,0.5,true,", 1))
    err = _refused(run, capsys, "scores.csv does not match its digest")  # a naive edit: the plain digest differs
    record = _provenance(run)
    record["scores_sha256"] = record["digests"]["scores.csv"] = file_digest(path)
    _write_provenance(run, record)
    err = _refused(run, capsys, "keyed digest does not match")
    assert err.startswith("xaicheck report: error:")


def test_without_the_key_the_plain_digests_are_checked_and_the_origin_is_not_verifiable(run, tmp_path, monkeypatch):
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "another-machine"))
    assert "origin not verifiable here" in verify_run(run).line()
    (run / "evidence.jsonl").write_text((run / "evidence.jsonl").read_text().replace('"exact"', '"exakt"', 1))
    with pytest.raises(RecordError, match="evidence.jsonl does not match its digest"):
        verify_run(run)


def test_edited_evidence_is_refused(run, capsys):
    path = run / "evidence.jsonl"
    lines = path.read_text().splitlines()
    obj = json.loads(lines[0])
    obj["evidence"] = {**(obj.get("evidence") or {}), "forged": 1.0}
    lines[0] = json.dumps(obj, sort_keys=True)
    path.write_text("\n".join(lines) + "\n")
    _refused(run, capsys, "evidence.jsonl does not match its digest")


def test_a_deleted_provenance_is_refused(run, capsys):
    (run / "provenance.json").unlink()
    _refused(run, capsys, "provenance.json is missing")


@pytest.mark.parametrize("row, needle", [("exact,x,y,0,ok,-5", "seconds -5.0 is not a finite number"),
                                         ("exact,x,y,0,ok,12.5", "timings.csv does not match its digest")])
def test_garbage_timings_are_refused(run, capsys, row, needle):
    (run / "timings.csv").write_text(f"explainer,case,check,seed,status,seconds\n{row}\n")
    _refused(run, capsys, needle)


def test_absent_machine_dependent_files_are_fine_but_a_missing_recorded_file_is_not(run, capsys):
    (run / "timings.csv").unlink()
    shutil.rmtree(run / "history")  # git-ignored: a committed folder has neither
    verify_run(run)
    (run / "determinism.csv").unlink()
    _refused(run, capsys, "determinism.csv is missing but provenance.json records it")


def test_corrupt_or_added_history_files_are_refused(run, capsys):
    (run / EARLIER).write_text("{not json")
    _refused(run, capsys, "provenance-20000101T000000Z.json does not match its digest")
    (run / EARLIER).unlink()
    (run / "history" / "provenance-20010101T000000Z.json").write_text("{}\n")
    _refused(run, capsys, "is not recorded in provenance.json")


def test_a_digest_naming_a_path_outside_the_run_is_refused(run, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "no-key"))  # even where the keyed digest is not checked
    record = _provenance(run)
    record["digests"]["../outside.txt"] = "0" * 64
    _write_provenance(run, record)
    _refused(run, capsys, "which is not a file of a run")


def test_a_provenance_without_digests_is_refused(run, capsys):
    record = _provenance(run)
    del record["digests"]
    _write_provenance(run, record)
    _refused(run, capsys, "no file digests recorded")


def test_the_committed_results_report_on_a_machine_without_the_key(tmp_path, monkeypatch):
    """``results/`` as CI sees it (no key, no git-ignored files): verified, and the report builds."""
    if not (RESULTS / "provenance.json").is_file():
        pytest.skip("no committed results/")
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "empty-cache"))
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy, ignore=shutil.ignore_patterns("timings.csv", "history", ".partial", "run.log",
                                                                 ".lock"))
    line = verify_run(copy).line()
    assert "scores.csv" in line and "keyed digest verified" not in line
    from xaicheck.benchmarks.report import build_report

    info = build_report(copy, plots=False, log=None)
    assert info["cells"] > 0 and (copy / "report.html").is_file()


# ------------------------------------------------------------------------------------------ partial log, resume
def test_a_forged_partial_record_with_a_recomputed_plain_digest_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "cache"))
    suite = toy_suite("quick", ("exact",))
    done = runner.run_suite(suite, tmp_path / "ref", jobs=1, progress=False, rerun_sample=0).records
    fp = runner.fingerprint(suite)
    log = PartialLog(tmp_path / "run")
    log.start(fp, done)
    log.close()
    assert len(PartialLog(tmp_path / "run").load(fp)) == len(done)
    lines = log.path.read_text().splitlines()
    obj = json.loads(lines[1])
    assert obj["record"]["status"] == "ok"
    obj["record"]["score"] = 0.25 if obj["record"]["score"] != 0.25 else 0.5
    body = json.dumps(obj["record"], sort_keys=True, allow_nan=False)
    obj["digest"] = hashlib.sha256((fingerprint_digest(fp) + "\n" + body).encode()).hexdigest()
    lines[1] = json.dumps(obj, sort_keys=True)
    log.path.write_text("\n".join(lines) + "\n")
    again = PartialLog(tmp_path / "run")
    assert len(again.load(fp)) == len(done) - 1 and "digest does not match" in again.rejected[0]


def test_the_fingerprint_names_the_code_and_the_libraries():
    fp = runner.fingerprint(toy_suite("quick", ("exact",)))
    assert len(fp["code"]) == 64 and fp["code"] == runner.source_digest()
    assert set(fp["libraries"]) == {"torch", "captum", "shap", "lime", "numpy", "scikit-learn"}


def test_resume_under_changed_code_gets_the_fresh_runs_bytes(tmp_path, monkeypatch):
    """An interrupted run resumed after the check code changed keeps none of its records: every cell runs again
    under the new code, and the bytes are those of an uninterrupted run of the new code."""
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path / "cache"))
    suite = toy_suite("default", ("exact", "noisy"))
    real = PartialLog.append
    calls = {"n": 0}

    def flaky(self, rec):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt  # after 5 finished cells were logged
        return real(self, rec)

    monkeypatch.setattr(PartialLog, "append", flaky)
    with pytest.raises(KeyboardInterrupt):
        runner.run_suite(suite, tmp_path / "run", jobs=1, progress=False, rerun_sample=0)
    monkeypatch.setattr(PartialLog, "append", real)
    log = PartialLog(tmp_path / "run")
    assert len(log.load(runner.fingerprint(suite))) == 5  # same code: these five would be resumed
    # the check code changes: a check computes another score, and the installed sources' digest moves
    check = suite.checks["bench_toy_truth"]
    real_evaluate = type(check).evaluate

    def changed(self, explainer, case, seed):
        result = real_evaluate(self, explainer, case, seed)
        return CheckResult.scored(round(result.score / 2, 6), self.threshold, "changed code", {})

    monkeypatch.setattr(type(check), "evaluate", changed)
    monkeypatch.setattr(runner, "source_digest", lambda: "0" * 64)
    assert log.load(runner.fingerprint(suite)) == {}
    resumed = runner.run_suite(suite, tmp_path / "run", jobs=1, progress=False, rerun_sample=0)
    assert resumed.resumed == 0 and resumed.ran == len(suite.cells())
    fresh = runner.run_suite(suite, tmp_path / "fresh", jobs=1, progress=False, rerun_sample=0, resume=False)
    assert fresh.ran == len(suite.cells())
    assert (tmp_path / "run" / "scores.csv").read_bytes() == (tmp_path / "fresh" / "scores.csv").read_bytes()
    assert (tmp_path / "run" / "evidence.jsonl").read_bytes() == (tmp_path / "fresh" / "evidence.jsonl").read_bytes()


def test_a_lower_format_version_is_no_way_around_the_digests(run, capsys):
    """A folder claiming the format before digests (2) is refused, not read with fewer checks."""
    record = _provenance(run)
    record["format_version"] = 2
    for key in ("digests", "digests_hmac", "digests_key_id"):
        record.pop(key, None)
    _write_provenance(run, record)
    assert "records no file digests" in _refused(run, capsys, "format 2")
