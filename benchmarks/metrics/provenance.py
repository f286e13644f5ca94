"""Provenance of an ``xaicheck metrics`` folder: what made it, and digests of its files, keyed like a run's.

:func:`write_metrics_provenance` writes ``<out>/provenance.json`` after the other files:

- ``kind`` = ``"metrics"``, ``format_version`` (:data:`METRICS_FORMAT`), the suite, seed, bootstrap replicates,
  metric names, xaicheck version, git commit and library versions (with quantus's);
- ``digests``: ``{name: sha256 of the file's bytes}`` for every file of :data:`DIGESTED` present;
- ``digests_key_id`` / ``digests_hmac``: the id of this machine's key (:mod:`..run_key`) and HMAC-SHA256 (RFC 2104)
  under it of the whole record (:func:`..digests.canonical`), exactly as a run's ``provenance.json`` is keyed.

:func:`verify_metrics` is what ``xaicheck report DIR`` calls before it reads ``DIR/metrics/``: ``provenance.json``
must exist and be a metrics record of this format, every recorded name must be a file of :data:`DIGESTED`, every
recorded file present must match its digest, a file of :data:`DIGESTED` present but not recorded is refused, a
recorded file missing is refused unless it is machine-dependent (:data:`OPTIONAL`), links are refused, and the keyed
digest is checked when this machine holds the key that made it. Every refusal is one line (``RecordError``). The
same limits as a run's digests apply (:mod:`..run_key`): an integrity check, not a signature.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from xaicheck.benchmarks.digests import canonical, file_digest
from xaicheck.benchmarks.errors import RecordError
from xaicheck.benchmarks.provenance import git_commit, library_versions, now_utc, xaicheck_version
from xaicheck.benchmarks.run_key import key_id, keyed_digest, run_key
from xaicheck.benchmarks.safe_io import atomic_write_text
from xaicheck.benchmarks.verified_reads import keyed_origin

__all__ = ["METRICS_FORMAT", "DIGESTED", "OPTIONAL", "write_metrics_provenance", "verify_metrics",
           "VerifiedMetrics"]

METRICS_FORMAT = 1
#: The files of a metrics folder that are digested (and that ``report`` may read).
DIGESTED: tuple[str, ...] = ("metric_validity.csv", "metric_validity.md", "metric_validity.png",
                             "metric_values.csv", "metric_cost.csv")
#: Recorded files a folder may lack (machine-dependent timings).
OPTIONAL: tuple[str, ...] = ("metric_cost.csv",)
_KIND = "metrics"


def write_metrics_provenance(out: Path, *, suite: str, seed: int, n_boot: int, metrics: Sequence[str],
                             started: str) -> Path:
    """Write ``out/provenance.json`` for the files of :data:`DIGESTED` now in ``out`` (module docstring);
    ``metrics``: the name of every metric setting run (a name appears once per setting)."""
    out = Path(out)
    record: dict[str, Any] = {
        "kind": _KIND, "format_version": METRICS_FORMAT, "suite": suite, "seed": int(seed), "n_boot": int(n_boot),
        "metrics": sorted(set(metrics)), "settings": len(metrics), "xaicheck_version": xaicheck_version(),
        "git_commit": git_commit(), "libraries": {**library_versions(), "quantus": _quantus_version()},
        "started": started, "finished": now_utc(),
        "digests": {n: file_digest(out / n) for n in DIGESTED if (out / n).is_file() and not (out / n).is_symlink()},
    }
    key = run_key()
    record["digests_key_id"] = key_id(key) if key else None
    record["digests_hmac"] = keyed_digest(key, canonical(record)) if key else None
    path = out / "provenance.json"
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    return path


def _quantus_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("quantus")
    except PackageNotFoundError:
        return "not installed"


class VerifiedMetrics:
    """The record and what :func:`verify_metrics` checked (``files``; ``origin``: whether the keyed digest was)."""

    def __init__(self, record: Mapping[str, Any], files: tuple[str, ...], origin: str) -> None:
        self.record, self.files, self.origin = dict(record), files, origin

    def line(self) -> str:
        return (f"verified {len(self.files)} metrics file(s) against metrics/provenance.json "
                f"({', '.join(self.files)}); {self.origin}")


def _read_record(where: Path) -> dict[str, Any]:
    if where.is_symlink():
        raise RecordError(f"{where} is a symbolic link; refusing to read through it")
    if not where.is_file():
        raise RecordError(f"{where} is missing: the metrics folder cannot be verified; rerun `xaicheck metrics`")
    try:
        record = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{where}: not a readable JSON record ({type(exc).__name__}); rerun `xaicheck metrics`") \
            from None
    if not isinstance(record, dict) or record.get("kind") != _KIND:
        raise RecordError(f"{where}: not the provenance of an `xaicheck metrics` folder")
    if record.get("format_version") != METRICS_FORMAT:
        raise RecordError(f"{where}: format {record.get('format_version')!r}, expected {METRICS_FORMAT}; rerun "
                          "`xaicheck metrics`")
    return record


def verify_metrics(directory: Path) -> VerifiedMetrics:
    """Check the metrics folder ``directory`` against its ``provenance.json`` (module docstring); raises
    ``RecordError`` (one line) on the first mismatch."""
    directory = Path(directory)
    if directory.is_symlink() or not directory.is_dir():
        raise RecordError(f"{directory} is not a folder (or is a symbolic link); refusing to read it")
    where = directory / "provenance.json"
    record = _read_record(where)
    digests = record.get("digests")
    if not isinstance(digests, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in digests.items()):
        raise RecordError(f"{where}: no file digests recorded; it was edited; rerun `xaicheck metrics`")
    for name in digests:
        if name not in DIGESTED:
            raise RecordError(f"{where}: digest recorded for {name!r}, which is not a file of a metrics folder")
    origin = keyed_origin(record, where, "`xaicheck metrics`", "`xaicheck metrics`")
    checked = []
    for name in DIGESTED:
        path = directory / name
        if path.is_symlink():
            raise RecordError(f"{path} is a symbolic link; refusing to read through it")
        if name not in digests:
            if path.exists():
                raise RecordError(f"{path} is not recorded in metrics/provenance.json: it was added afterwards")
            continue
        if not path.is_file():
            if name in OPTIONAL:
                continue
            raise RecordError(f"{path} is missing but metrics/provenance.json records it; the folder is incomplete")
        if file_digest(path) != digests[name]:
            raise RecordError(f"{path} does not match its digest in metrics/provenance.json: it was edited after "
                              "`xaicheck metrics` wrote it; rerun `xaicheck metrics`")
        checked.append(name)
    if "metric_validity.csv" not in checked:
        raise RecordError(f"{directory / 'metric_validity.csv'} is not recorded: nothing to report")
    return VerifiedMetrics(record, tuple(checked), origin)

