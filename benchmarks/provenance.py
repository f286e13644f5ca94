"""Provenance of a run: versions, commit, suite, seeds, explainer settings, check versions, times.

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

__all__ = ["LIBRARIES", "FORMAT_VERSION", "xaicheck_version", "library_versions", "git_commit", "now_utc",
           "collect", "write_provenance", "read_provenance", "read_history"]

LIBRARIES: tuple[str, ...] = ("torch", "captum", "shap", "lime", "scikit-learn", "numpy", "pandas", "matplotlib",
                              "hypothesis", "saliency", "xgboost", "lightgbm")
#: Version of the results-directory format written by the runner.
FORMAT_VERSION = 1


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
            checks: Mapping[str, Any], started: str, finished: str, extra: Mapping[str, Any] | None = None
            ) -> dict[str, Any]:
    """The provenance record of one run (JSON-serialisable)."""
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
        "started": started,
        "finished": finished,
        **dict(extra or {}),
    }


def write_provenance(record: Mapping[str, Any], directory: Path) -> Path:
    """Write ``provenance.json`` and a copy in ``history/``; returns the main path."""
    directory = Path(directory)
    text = json.dumps(record, indent=2, sort_keys=True, default=str) + "\n"
    path = directory / "provenance.json"
    path.write_text(text, encoding="utf-8")
    history = directory / "history"
    history.mkdir(exist_ok=True)
    stamp = str(record.get("started", now_utc())).replace(":", "")
    target, k = history / f"provenance-{stamp}.json", 1
    while target.exists() and target.read_text(encoding="utf-8") != text:  # two runs started in the same second
        k += 1
        target = history / f"provenance-{stamp}-{k}.json"
    target.write_text(text, encoding="utf-8")
    return path


def read_history(directory: Path) -> list[dict[str, Any]]:
    """The provenance records in ``DIR/history/`` (oldest first), each with its file name under ``"file"``."""
    out = []
    for path in sorted((Path(directory) / "history").glob("provenance-*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        out.append({**record, "file": path.name})
    return sorted(out, key=lambda r: (str(r.get("started", "")), r["file"]))


def read_provenance(directory: Path) -> dict[str, Any]:
    path = Path(directory) / "provenance.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
