"""This machine's key for keyed digests of a run's files (HMAC-SHA256, RFC 2104), kept outside every ``--out``.

The key is 32 random bytes (``secrets.token_bytes``), stored hex-encoded in ``run-key`` under the cache directory
(``XAICHECK_CACHE_DIR``, default ``~/.cache/xaicheck/searches``; ``synthetic_models._fit_cache.cache_root``), created
on first use with mode 0600 (written to a fresh temporary file, then hard-linked into place, so two processes
creating it at once agree on one key). ``XAICHECK_CACHE_DIR=off`` means no key: nothing is keyed and nothing keyed
can be checked.

What the key protects, and what it does not:

- It detects an edit of ``scores.csv``, ``evidence.jsonl``, ``timings.csv``, ``determinism.csv``, ``history/`` or
  ``provenance.json`` made after the run *on a machine holding the key that made the run*, even when the editor
  recomputed the plain sha256 digests recorded in ``provenance.json`` (:mod:`.verified_reads`), and a partial-log
  record forged with its digest recomputed from the log's own header (``records.PartialLog``).
- It does not authenticate a run made elsewhere: a run reported on a machine without its key has its plain digests
  checked (accidental edits, truncation, files mixed from two runs) and is reported with "origin not verifiable
  here". Anyone who can read the key file (the same user, root) can forge a keyed digest, and anyone can strip
  the keyed digest from ``provenance.json`` (the run then reads as one made elsewhere). It is an integrity check
  against accidental and naive edits, not a signature.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

from xaicheck.synthetic_models._fit_cache import cache_root

__all__ = ["KEY_NAME", "key_path", "run_key", "key_id", "keyed_digest"]

KEY_NAME = "run-key"


def key_path() -> Path | None:
    """Where this machine's key lives (``None``: the cache directory is off)."""
    root = cache_root()
    return None if root is None else Path(root).resolve() / KEY_NAME


def _read(path: Path) -> bytes | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return key if len(key) == 32 else None


def run_key(*, create: bool = True) -> bytes | None:
    """This machine's key: read from :func:`key_path`, created there (mode 0600) when absent and ``create``.
    ``None`` when the cache directory is off, the key cannot be created, or the file is not a key."""
    path = key_path()
    if path is None:
        return None
    key = _read(path)
    if key is not None or not create or path.exists() or path.is_symlink():
        return key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".run-key.", dir=path.parent)  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_bytes(32).hex() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # atomic and exclusive: a key another process made first wins
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    except OSError:
        return None
    return _read(path)


def key_id(key: bytes) -> str:
    """A public name of ``key`` (16 hex digits of sha256 over a fixed label and the key): which key made a digest."""
    return hashlib.sha256(b"xaicheck run key id\0" + key).hexdigest()[:16]


def keyed_digest(key: bytes, data: bytes) -> str:
    """HMAC-SHA256 of ``data`` under ``key`` (hex)."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()
