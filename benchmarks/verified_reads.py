"""Verified reads: every file ``xaicheck report`` reads is checked against digests recorded when the run wrote it.

At write time ``provenance.write_provenance`` records in ``provenance.json`` the sha256 of every file the report
reads and a keyed digest (HMAC) of the whole record under a key kept outside ``--out`` (:mod:`.digests`;
:mod:`.run_key` states what the key does and does not protect).

On reading (:func:`verify_run`) ``provenance.json`` must exist (a folder without it is refused), every recorded file
that is present must match its digest, a file the report reads that is present but not recorded is refused, a
recorded file that is missing is refused unless it is machine-dependent (``timings.csv`` and ``history/`` are
git-ignored, so a committed folder lacks them), a file in ``history/`` that is neither recorded nor this run's own
copy is refused, a recorded name that is not one of those files (``../x``) is refused, and the keyed digest is
checked when this machine holds the key that made it; otherwise the result says the origin is not verifiable here.
Every refusal is one line (:class:`RecordError`). A folder of a format before ``DIGESTS_FORMAT`` (written before
digests were recorded) is refused: a lower ``format_version`` must not be a way around the checks.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import RecordError
from .digests import DIGESTED, OPTIONAL, canonical, file_digest, history_files, record_digests
from .provenance import FORMAT_VERSION, read_provenance
from .run_key import key_id, keyed_digest, run_key

__all__ = ["DIGESTED", "OPTIONAL", "DIGESTS_FORMAT", "Verified", "file_digest", "record_digests", "verify_run"]

#: The first format whose ``provenance.json`` records ``digests`` (format 2 recorded only ``scores_sha256``).
DIGESTS_FORMAT = 3
_HISTORY_NAME = re.compile(r"history/provenance-[A-Za-z0-9_.:-]+\.json")


@dataclass(frozen=True)
class Verified:
    """What :func:`verify_run` checked: the files, and whether the keyed digest was checked (``origin``)."""

    files: tuple[str, ...]
    origin: str

    def line(self) -> str:
        return f"verified {len(self.files)} file(s) against provenance.json ({', '.join(self.files)}); {self.origin}"


def verify_run(directory: Path) -> Verified:
    """Check the files of the run in ``directory`` against its ``provenance.json`` (module docstring); raises
    :class:`RecordError` (one line) on the first mismatch."""
    directory = Path(directory)
    where = directory / "provenance.json"
    if not where.exists() and not where.is_symlink():
        raise RecordError(f"{where} is missing: the folder's files cannot be verified; rerun `xaicheck run`")
    record = read_provenance(directory)
    version = record.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < DIGESTS_FORMAT:
        raise RecordError(f"{where}: format {version!r} records no file digests (format {DIGESTS_FORMAT} or later "
                          "does); rerun `xaicheck run` to write a verifiable folder")
    digests = record.get("digests")
    if not isinstance(digests, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in digests.items()):
        raise RecordError(f"{where}: no file digests recorded (format {version}); it was edited or comes from "
                          "elsewhere; rerun `xaicheck run`")
    for name in digests:
        if name not in DIGESTED and not _HISTORY_NAME.fullmatch(name):
            raise RecordError(f"{where}: digest recorded for {name!r}, which is not a file of a run; it was edited")
    origin = keyed_origin(record, where)  # the record itself first: an edited provenance is named as such
    if "scores_sha256" in record and digests.get("scores.csv") != record["scores_sha256"]:
        raise RecordError(f"{where}: scores_sha256 and digests disagree; it was edited after the run")
    for name in DIGESTED:  # a file the report reads that was not there when the run recorded its digests
        if name not in digests and ((directory / name).exists() or (directory / name).is_symlink()):
            raise RecordError(f"{directory / name} is not recorded in provenance.json: it was added after the run")
    checked = []
    for name, want in sorted(digests.items()):
        path = directory / name
        if path.is_symlink():
            raise RecordError(f"{path} is a symbolic link; refusing to read through it")
        if not path.is_file():
            if name in OPTIONAL or name.startswith("history/"):
                continue  # machine-dependent: git-ignored, so a committed folder does not have it
            raise RecordError(f"{path} is missing but provenance.json records it; the folder is incomplete")
        if file_digest(path) != want:
            raise RecordError(f"{path} does not match its digest in provenance.json: it was edited after the run "
                              "or comes from another run; rerun `xaicheck run`")
        checked.append(name)
    own = file_digest(where)
    for path in history_files(directory):
        name = f"history/{path.name}"
        if name not in digests and file_digest(path) != own:
            raise RecordError(f"{path} is not recorded in provenance.json: it was edited or added after the run")
    return Verified(tuple(c for c in checked if not c.startswith("history/"))
                    + ((f"{sum(c.startswith('history/') for c in checked)} history file(s)",)
                       if any(c.startswith("history/") for c in checked) else ()), origin)


def keyed_origin(record: Mapping[str, Any], where: Path, writer: str = "`xaicheck run`",
                 what: str = "the run") -> str:
    """Where the record's keyed digest (``digests_key_id`` / ``digests_hmac``, :mod:`.run_key`) says it comes from;
    raises :class:`RecordError` when this machine holds the key and the HMAC does not match (the record was edited
    after ``writer`` wrote ``what``). Shared by a run's ``provenance.json`` and ``metrics/provenance.json``."""
    made_by, mac = record.get("digests_key_id"), record.get("digests_hmac")
    if not made_by or not mac:
        return "no keyed digest recorded: origin not verifiable"
    key = run_key(create=False)
    if key is None or key_id(key) != made_by:
        return f"digests verified, origin not verifiable here (keyed with {made_by}, a key this machine does not hold)"
    if not isinstance(mac, str) or not hmac.compare_digest(mac, keyed_digest(key, canonical(record))):
        raise RecordError(f"{where}: the keyed digest does not match (the record or a file digest in it was edited "
                          f"after {what}); rerun {writer}")
    return f"keyed digest verified with this machine's key {made_by}"
