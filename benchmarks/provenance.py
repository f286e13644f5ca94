"""Provenance of a run: versions, commit, suite, seeds, explainer and check records, case facts, times.

Times live only here (and in ``timings.csv``), never in ``scores.csv``. Each run also leaves a copy under
``history/provenance-<started>.json`` so earlier runs of the same directory stay traceable.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from .digests import record_digests
from .errors import RecordError
from .safe_io import atomic_write_text, safe_dir

__all__ = ["LIBRARIES", "FORMAT_VERSION", "CASE_FACTS_FORMAT", "xaicheck_version", "library_versions",
           "git_commit", "now_utc", "collect", "write_provenance", "read_provenance", "read_history"]

LIBRARIES: tuple[str, ...] = ("torch", "captum", "shap", "lime", "scikit-learn", "numpy", "pandas", "matplotlib",
                              "hypothesis", "saliency", "xgboost", "lightgbm", "shapiq", "interpret-core")
#: Version of the results-directory format written by the runner. 2: ``cases`` records every case's facts
#: (``case_facts``), so scoring and the report read only the run folder; a folder of format 1 is refused. 3:
#: ``digests`` of every file the report reads and a keyed digest (``verified_reads``); format 2 is still read.
FORMAT_VERSION = 3
#: The oldest format that records every case's facts (what scoring and the report need).
CASE_FACTS_FORMAT = 2


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:  # a module installed under another distribution name (xgboost as xgboost-cpu)
        return str(importlib.import_module(dist).__version__)
    except (ImportError, AttributeError):
        return "not installed"


def xaicheck_version() -> str:
    return _version("xaicheck")


def library_versions() -> dict[str, str]:
    return {lib: _version(lib) for lib in LIBRARIES}


def git_commit(repo: Path | None = None) -> str | None:
    """The current commit of the source tree (``+dirty`` when it has changes), or ``None`` outside git.

    The committed ``results/`` folder is what a run writes, not source, so changes there do not make the tree dirty.
    """
    where = Path(repo) if repo else Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"], cwd=where,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def collect(*, suite: str, base_seed: int, seeds: Mapping[str, list[int]], explainers: Mapping[str, Any],
            checks: Mapping[str, Any], started: str, finished: str, cases: Mapping[str, Any] | None = None,
            extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The provenance record of one run (JSON-serialisable): ``explainers`` and ``checks`` hold their
    ``describe()`` records, ``cases`` each case's facts (``case_facts.CaseFacts.to_json``) by case id."""
    return {
        "format_version": FORMAT_VERSION,
        "xaicheck_version": xaicheck_version(),
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": library_versions(),
        "suite": suite,
        "base_seed": base_seed,
        "seeds": {k: list(v) for k, v in sorted(seeds.items())},
        "explainers": {k: dict(v) for k, v in sorted(explainers.items())},
        "checks": {k: dict(v) for k, v in sorted(checks.items())},
        "cases": {k: dict(v) for k, v in sorted((cases or {}).items())},
        "started": started,
        "finished": finished,
        **dict(extra or {}),
    }


def write_provenance(record: Mapping[str, Any], directory: Path) -> Path:
    """Write ``provenance.json`` and a copy in ``history/`` (fresh temporary files, never through a link), with the
    digests of the run's files in ``directory`` and a keyed digest of the record (``digests.record_digests``):
    write it after the files it vouches for."""
    directory = Path(directory)
    record = record_digests(directory, dict(record))  # the files the report will read, as they are now
    text = json.dumps(record, indent=2, sort_keys=True, default=str) + "\n"
    path = directory / "provenance.json"
    atomic_write_text(path, text)
    history = safe_dir(directory / "history")
    stamp = str(record.get("started", now_utc())).replace(":", "")
    target, k = history / f"provenance-{stamp}.json", 1
    while target.is_symlink() or (target.exists() and target.read_text(encoding="utf-8") != text):
        k += 1  # two runs started in the same second
        target = history / f"provenance-{stamp}-{k}.json"
    atomic_write_text(target, text)
    return path


def read_history(directory: Path) -> list[dict[str, Any]]:
    """The provenance records in ``DIR/history/`` (oldest first), each with its file name under ``"file"``;
    links and unreadable files are skipped."""
    out = []
    history = Path(directory) / "history"
    if history.is_symlink() or not history.is_dir():
        return out
    for path in sorted(history.glob("provenance-*.json")):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict):
            out.append({**record, "file": path.name})
    return sorted(out, key=lambda r: (str(r.get("started", "")), r["file"]))


def read_provenance(directory: Path) -> dict[str, Any]:
    """``provenance.json`` as a dict (empty when absent); raises ``RecordError`` (one line) when it is a link, not
    JSON, not an object, or carries a non-integer ``base_seed``/``cells``."""
    path = Path(directory) / "provenance.json"
    if path.is_symlink():
        raise RecordError(f"{path} is a symbolic link; refusing to read through it")
    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(record, dict):
        raise RecordError(f"{path}: expected a JSON object, got {type(record).__name__}")
    for key in ("base_seed", "cells"):
        value = record.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise RecordError(f"{path}: {key} {value!r} is not an integer >= 0")
    return record
