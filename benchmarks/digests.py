"""Digests of a run's files, recorded in ``provenance.json`` when it is written (read back by ``verified_reads``).

:func:`record_digests` adds to a provenance record about to be written into a folder

- ``digests``: ``{name: sha256 of the file's bytes}`` for ``scores.csv``, ``evidence.jsonl``, ``timings.csv``,
  ``determinism.csv`` (when present) and every ``history/provenance-*.json`` already there (earlier runs of the
  folder; this run's own copy in ``history/`` is byte-identical to ``provenance.json``);
- ``digests_key_id`` and ``digests_hmac``: the id of this machine's key (``run_key``) and HMAC-SHA256 (RFC 2104)
  under it of the whole record (canonical JSON, sorted keys, without ``digests_hmac``), so an edit with the plain
  digests recomputed is still detected on this machine. Both ``null`` when there is no key
  (``XAICHECK_CACHE_DIR=off``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from .run_key import key_id, keyed_digest, run_key

__all__ = ["DIGESTED", "OPTIONAL", "file_digest", "canonical", "history_files", "record_digests"]

#: Files of a run that are digested when present (``history/provenance-*.json`` too).
DIGESTED: tuple[str, ...] = ("scores.csv", "evidence.jsonl", "timings.csv", "determinism.csv")
#: Recorded files that may be absent from a folder (machine-dependent, git-ignored: a committed folder lacks them).
OPTIONAL: tuple[str, ...] = ("timings.csv",)
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """sha256 (hex) of the bytes of ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes the keyed digest covers: ``record`` without ``digests_hmac`` as JSON with sorted keys (after the
    same ``default=str`` round trip ``provenance.write_provenance`` applies)."""
    body = {k: v for k, v in json.loads(json.dumps(dict(record), default=str)).items() if k != "digests_hmac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def history_files(directory: Path) -> list[Path]:
    history = Path(directory) / "history"
    if history.is_symlink() or not history.is_dir():
        return []
    return sorted(p for p in history.glob("provenance-*.json") if p.is_file() and not p.is_symlink())


def record_digests(directory: Path, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` (a provenance record about to be written into ``directory``) with ``digests``, ``digests_key_id``
    and ``digests_hmac`` added (module docstring)."""
    directory = Path(directory)
    digests = {name: file_digest(directory / name) for name in DIGESTED if (directory / name).is_file()}
    digests.update({f"history/{p.name}": file_digest(p) for p in history_files(directory)})
    key = run_key()
    out = {**record, "digests": dict(sorted(digests.items())), "digests_key_id": key_id(key) if key else None}
    out["digests_hmac"] = keyed_digest(key, canonical(out)) if key else None
    return out
