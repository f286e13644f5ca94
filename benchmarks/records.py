"""The row format of a run and its files: ``scores.csv``, ``timings.csv``, ``evidence.jsonl``, the partial log.

One :class:`CellRecord` per cell (explainer x case x seed). ``scores.csv`` holds only what is a pure function of
(explainer, case, seed), with scores rounded to 10 significant digits, so the same seed gives the same bytes; wall
times go to ``timings.csv``; evidence, counterexamples and tracebacks to ``evidence.jsonl`` (sorted by cell id).
The partial log ``.partial/cells.jsonl`` is appended one fsync'ed line per finished cell so a run can resume.

Cross-machine bytes: numbers below ``NOISE`` (1e-12) in magnitude are floating-point noise (summation order, BLAS
kernels); messages in ``scores.csv`` print them as ``0`` and ``evidence.jsonl`` stores floats to 12 significant
digits with such noise as 0, so the same seed gives the same bytes on another machine.

Everything read back is validated (:class:`RecordError`, one line naming file, line and problem): columns, statuses,
score in [0, 1] for ``ok`` rows and empty otherwise, ``passed``, seeds, duplicate cells; each partial-log line
carries a digest of the run's fingerprint and the record, keyed (HMAC-SHA256) with this machine's key kept outside
``--out`` (``run_key``), so an edited, foreign or forged line is re-run, not trusted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from xaicheck.axioms.cell_record import CellRecord, format_score, jsonable

from .errors import RecordError
from .run_key import keyed_digest, run_key
from .safe_io import OutDirError, atomic_write_text, safe_dir, safe_file
from .verified_reads import verify_run

__all__ = [
    "SCORE_COLUMNS",
    "TIMING_COLUMNS",
    "CellRecord",
    "format_score",
    "jsonable",
    "write_scores",
    "read_scores",
    "write_timings",
    "read_timings",
    "write_evidence",
    "read_evidence",
    "read_records",
    "PartialLog",
    "RecordError",
    "NOISE",
    "STATUSES",
    "validate_record",
    "fingerprint_digest",
    "scores_digest",
]

SCORE_COLUMNS: tuple[str, ...] = (
    "explainer", "case", "check", "category", "status", "score", "passed", "seed", "message",
)
TIMING_COLUMNS: tuple[str, ...] = ("explainer", "case", "check", "seed", "status", "seconds")
#: Magnitudes below this are floating-point noise: printed and stored as 0.
NOISE = 1e-12
STATUSES: tuple[str, ...] = ("ok", "not_applicable", "error", "timeout")


def _stable(obj: Any) -> Any:
    """``obj`` (already JSON-able) with floats to 12 significant digits and noise (< ``NOISE``) as 0."""
    if isinstance(obj, dict):
        return {k: _stable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_stable(v) for v in obj]
    if isinstance(obj, float):
        return 0.0 if abs(obj) < NOISE else float(f"{obj:.12g}")
    return obj


def _sort_key(r: CellRecord) -> tuple[str, str, str, int]:
    return (r.explainer, r.check, r.case, r.seed)


def _atomic_write(path: Path, text: str) -> None:
    atomic_write_text(path, text)


def write_scores(records: Iterable[CellRecord], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SCORE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in sorted(records, key=_sort_key):
        writer.writerow(r.score_row())
    _atomic_write(Path(path), buf.getvalue())


def _read_text(path: Path) -> str:
    try:
        return safe_file(Path(path)).read_text(encoding="utf-8")
    except OutDirError as exc:
        raise RecordError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _parse_score(text: str, where: str) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise RecordError(f"{where}: score {text!r} is not a number") from None
    if not (0.0 <= value <= 1.0):  # also refuses nan and inf
        raise RecordError(f"{where}: score {text} is outside [0, 1]")
    return value


def _parse_seed(text: Any, where: str) -> int:
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise RecordError(f"{where}: seed {text!r} is not an integer") from None
    if seed < 0:
        raise RecordError(f"{where}: seed {seed} is negative")
    return seed


def _check_row(status: str, score: float | None, passed: bool | None, where: str) -> None:
    if status not in STATUSES:
        raise RecordError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    if status == "ok" and passed is None:
        raise RecordError(f"{where}: an ok row needs passed true or false")
    if status != "ok" and (score is not None or passed is not None):
        raise RecordError(f"{where}: a {status} row has no score and no passed value")


def read_scores(path: Path) -> list[dict[str, Any]]:
    """Rows of ``scores.csv`` with ``score`` as float|None, ``passed`` as bool|None and ``seed`` as int.

    Validated: the columns of :data:`SCORE_COLUMNS`, statuses, score in [0, 1] (``ok`` rows) or empty (others),
    passed, seeds, no cell twice; raises :class:`RecordError` naming file, line and problem."""
    text = _read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fields = reader.fieldnames or []
        missing = [c for c in SCORE_COLUMNS if c not in fields]
        if missing:
            raise RecordError(f"{path}: missing column(s) {', '.join(missing)} (expected {','.join(SCORE_COLUMNS)})")
        rows = []
        seen: set[tuple[str, str, str, int]] = set()
        for i, row in enumerate(reader, start=2):
            where = f"{path} line {i}"
            if None in row or any(row.get(c) is None for c in SCORE_COLUMNS):
                raise RecordError(f"{where}: expected {len(fields)} fields")
            for c in ("explainer", "check", "case"):
                if not row[c]:
                    raise RecordError(f"{where}: empty {c}")
            row["score"] = _parse_score(row["score"], where)
            passed = row["passed"]
            if passed not in ("true", "false", ""):
                raise RecordError(f"{where}: passed {passed!r} is not true, false or empty")
            row["passed"] = {"true": True, "false": False}.get(passed)
            row["seed"] = _parse_seed(row["seed"], where)
            _check_row(row["status"], row["score"], row["passed"], where)
            key = (row["explainer"], row["check"], row["case"], row["seed"])
            if key in seen:
                raise RecordError(f"{where}: cell {'/'.join(map(str, key))} appears twice")
            seen.add(key)
            rows.append(row)
    except csv.Error as exc:
        raise RecordError(f"{path}: not a CSV file: {exc}") from None
    return rows


def write_timings(records: Iterable[CellRecord], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TIMING_COLUMNS)
    for r in sorted(records, key=_sort_key):
        writer.writerow([r.explainer, r.case, r.check, r.seed, r.status, f"{r.seconds:.4f}"])
    _atomic_write(Path(path), buf.getvalue())


def read_timings(path: Path) -> list[dict[str, Any]]:
    """Rows of ``timings.csv`` (empty when absent); seconds must be finite and >= 0."""
    if not Path(path).exists() and not Path(path).is_symlink():
        return []
    rows = list(csv.DictReader(io.StringIO(_read_text(path), newline="")))
    for i, row in enumerate(rows, start=2):
        where = f"{path} line {i}"
        try:
            row["seed"] = _parse_seed(row["seed"], where)
            row["seconds"] = float(row["seconds"])
        except (KeyError, TypeError, ValueError):
            raise RecordError(f"{where}: expected columns {','.join(TIMING_COLUMNS)} with numeric seconds") from None
        if not (math.isfinite(row["seconds"]) and row["seconds"] >= 0):
            raise RecordError(f"{where}: seconds {row['seconds']} is not a finite number >= 0")
    return rows


def write_evidence(records: Iterable[CellRecord], path: Path) -> None:
    lines = []
    for r in sorted(records, key=lambda r: r.cell_id):
        obj = {"cell_id": r.cell_id, "explainer": r.explainer, "check": r.check, "case": r.case, "seed": r.seed,
               "status": r.status, "evidence": r.evidence, "counterexample": r.counterexample,
               "traceback": r.traceback}
        lines.append(json.dumps(_stable(jsonable(obj)), sort_keys=True, allow_nan=False))
    _atomic_write(Path(path), "".join(line + "\n" for line in lines))


def read_evidence(path: Path) -> dict[str, dict[str, Any]]:
    """``evidence.jsonl`` keyed by cell id (empty when the file is absent); each line a JSON object with a cell id,
    explainer, check, case, seed and status."""
    out: dict[str, dict[str, Any]] = {}
    if not Path(path).exists() and not Path(path).is_symlink():
        return out
    for i, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RecordError(f"{path} line {i}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict) or not all(isinstance(obj.get(k), str) for k in ("cell_id", "explainer",
                                                                                         "check", "case", "status")):
            raise RecordError(f"{path} line {i}: expected an object with cell_id, explainer, check, case, status")
        obj["seed"] = _parse_seed(obj.get("seed"), f"{path} line {i}")
        if obj["status"] not in STATUSES:
            raise RecordError(f"{path} line {i}: status {obj['status']!r} is not one of {', '.join(STATUSES)}")
        if not isinstance(obj.get("evidence") or {}, dict):
            raise RecordError(f"{path} line {i}: evidence is not an object")
        out[obj["cell_id"]] = obj
    return out


def scores_digest(path: Path) -> str:
    """sha256 of the bytes of ``scores.csv`` (recorded in ``provenance.json`` as ``scores_sha256``)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_records(directory: Path, *, verify: bool = True) -> list[CellRecord]:
    """Rebuild the records of a finished run from ``scores.csv`` + ``timings.csv`` + ``evidence.jsonl``, each first
    verified against the digests ``provenance.json`` recorded (``verified_reads.verify_run``: a missing provenance,
    an edited file or a forged keyed digest is refused with one line). ``verify=False`` only for a caller that has
    just verified the folder itself (``report.build_report``), so the files are not hashed twice."""
    directory = Path(directory)
    scores = read_scores(directory / "scores.csv")
    times = {(t["explainer"], t["check"], t["case"], t["seed"]): t["seconds"]
             for t in read_timings(directory / "timings.csv")}
    evidence = read_evidence(directory / "evidence.jsonl")
    by_key = {(e["explainer"], e["check"], e["case"], e["seed"]): e for e in evidence.values()}
    rows = {(r["explainer"], r["check"], r["case"], r["seed"]): r for r in scores}
    for key, ev in by_key.items():
        row = rows.get(key)
        if row is None:
            raise RecordError(f"{directory / 'evidence.jsonl'}: cell {ev['cell_id']} has no row in scores.csv "
                              "(the files come from different runs)")
        if row["status"] != ev["status"]:
            raise RecordError(f"{directory / 'evidence.jsonl'}: cell {ev['cell_id']} is {ev['status']} there but "
                              f"{row['status']} in scores.csv (the files come from different runs)")
    if verify:
        verify_run(directory)  # after the content checks, which name the line of a malformed file
    records = []
    for row in scores:
        key = (row["explainer"], row["check"], row["case"], row["seed"])
        ev = by_key.get(key, {})
        records.append(CellRecord(
            cell_id=ev.get("cell_id", "/".join(map(str, key))), explainer=row["explainer"], check=row["check"],
            case=row["case"], category=row["category"], seed=row["seed"], status=row["status"],
            score=row["score"], passed=row["passed"], message=row["message"], evidence=ev.get("evidence") or {},
            counterexample=ev.get("counterexample"), traceback=ev.get("traceback"), seconds=times.get(key, 0.0)))
    return records


def fingerprint_digest(fingerprint: Mapping[str, Any]) -> str:
    """sha256 of a run fingerprint (canonical JSON)."""
    return hashlib.sha256(json.dumps(jsonable(dict(fingerprint)), sort_keys=True).encode()).hexdigest()


def validate_record(rec: CellRecord) -> str | None:
    """Why ``rec`` is not a record xaicheck writes (``None`` when it is valid): types, status, score range,
    ``passed``, seed, and a cell id made of its explainer, check, case and seed."""
    if not all(isinstance(getattr(rec, f), str) and getattr(rec, f) for f in ("explainer", "check", "case",
                                                                                  "category")):
        return "explainer, check, case and category must be non-empty strings"
    if not isinstance(rec.seed, int) or isinstance(rec.seed, bool) or rec.seed < 0:
        return f"seed {rec.seed!r} is not an integer >= 0"
    if rec.cell_id != f"{rec.explainer}/{rec.check}/{rec.case}/s{rec.seed}":
        return f"cell id {rec.cell_id!r} does not match its explainer, check, case and seed"
    if rec.status not in STATUSES:
        return f"status {rec.status!r} is not one of {', '.join(STATUSES)}"
    if rec.status == "ok":
        if isinstance(rec.score, bool) or not isinstance(rec.score, (int, float)) or not 0.0 <= rec.score <= 1.0:
            return f"score {rec.score!r} of an ok cell is not a number in [0, 1]"
        if not isinstance(rec.passed, bool):
            return f"passed {rec.passed!r} of an ok cell is not true or false"
    elif rec.score is not None or rec.passed is not None:
        return f"a {rec.status} cell has a score or passed value"
    if not isinstance(rec.message, str) or not isinstance(rec.evidence, dict):
        return "message must be a string and evidence an object"
    if isinstance(rec.seconds, bool) or not isinstance(rec.seconds, (int, float)) or not (
            math.isfinite(rec.seconds) and rec.seconds >= 0):
        return f"seconds {rec.seconds!r} is not a finite number >= 0"
    return None


class PartialLog:
    """``DIR/.partial/cells.jsonl``: a header line (run fingerprint) then one record per finished cell.

    Each line is written, flushed and fsync'ed before the next cell is recorded, so after a crash every complete
    line is a finished cell; a torn last line is ignored on reading. Each record line is ``{"record": ...,
    "digest": sha256(fingerprint digest + record JSON)}``: a line edited by hand, copied from another run or
    failing :func:`validate_record` is dropped on resume (its cell runs again) and counted in ``rejected``. The
    digest is HMAC-SHA256 under this machine's key (``run_key``, outside ``--out``), so a line forged with its
    digest recomputed from the log's own header is rejected too; with no key (``XAICHECK_CACHE_DIR=off``) it is
    the plain sha256, which catches edits and foreign lines only.
    """

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / ".partial" / "cells.jsonl"
        self.rejected: list[str] = []
        self._fp = ""
        self._key = run_key()

    def _digest(self, fp_digest: str, body: str) -> str:
        data = (fp_digest + "\n" + body).encode()
        return keyed_digest(self._key, data) if self._key else hashlib.sha256(data).hexdigest()

    def _line(self, record: CellRecord) -> str:
        body = json.dumps(record.to_json(), sort_keys=True, allow_nan=False)
        return json.dumps({"digest": self._digest(self._fp, body), "record": json.loads(body)}, sort_keys=True)

    def load(self, fingerprint: Mapping[str, Any]) -> dict[str, CellRecord]:
        """Finished, valid records of a previous run with the same fingerprint; empty if none or if it differs."""
        self.rejected = []
        safe_dir(self.path.parent)
        if self.path.is_symlink():
            raise RecordError(f"{self.path} is a symbolic link; refusing to read through it")
        if not self.path.exists():
            return {}
        done: dict[str, CellRecord] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").split("\n")
            header = json.loads(lines[0])
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, IndexError):
            return {}
        if not isinstance(header, dict) or header.get("fingerprint") != jsonable(dict(fingerprint)):
            return {}
        fp = fingerprint_digest(fingerprint)
        for k, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                rec = CellRecord.from_json(obj["record"])
                why = validate_record(rec)
                if why:
                    raise ValueError(why)
                body = json.dumps(obj["record"], sort_keys=True, allow_nan=False)
                if obj.get("digest") != self._digest(fp, body):
                    raise ValueError("digest does not match the record and the run's fingerprint")
            except (json.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError) as exc:
                if k < len(lines) or line.endswith("}"):  # not just a torn last line
                    self.rejected.append(f"line {k}: {exc}")
                continue
            done[rec.cell_id] = rec
        return done

    def start(self, fingerprint: Mapping[str, Any], keep: Iterable[CellRecord] = ()) -> None:
        """Rewrite the log with the header and the records kept from a resumed run (drops any torn line)."""
        safe_dir(self.path.parent)
        self._fp = fingerprint_digest(fingerprint)
        text = json.dumps({"fingerprint": jsonable(dict(fingerprint))}, sort_keys=True) + "\n"
        text += "".join(self._line(r) + "\n" for r in keep)
        _atomic_write(self.path, text)
        self._fh = open(self.path, "a", encoding="utf-8")

    def append(self, record: CellRecord) -> None:
        self._fh.write(self._line(record) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        fh = getattr(self, "_fh", None)
        if fh is not None:
            fh.close()
            self._fh = None
