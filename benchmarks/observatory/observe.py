"""``xaicheck observe``: one suite, one library, several releases; what each release changed.

For each release, in the order given and one after another (``--jobs 1`` inside: the machine is shared):

1. build its environment (:class:`.envs.ReleaseEnv`; seconds: a wheel into a target directory);
2. import the library there; a release that does not install or import is recorded with pip's or Python's last
   line as ``did not install`` / ``did not import`` -- never skipped silently;
3. ask the explainer zygote which version it imported (:mod:`.probe`), so a run is never attributed to a release its
   field processes did not load;
4. run ``xaicheck run --suite S --explainers <that library's explainers> [--checks C] --jobs 1 --no-resume`` in that
   environment
   (a subprocess of the same interpreter) and keep ``scores.csv`` and ``provenance.json``.

Then ``changes.csv`` (:func:`.changes.consecutive_changes`), ``releases.csv`` (status, reason, seconds per step,
version the field saw, requirement conflicts, changelog line) and ``summary.md`` under ``OUT/versions/<library>/``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from ..records import read_scores
from ..safe_io import atomic_write_text
from .changelog import changelog_line
from .changes import CHANGE_COLUMNS, consecutive_changes, release_pairs
from .envs import ReleaseEnv, last_line
from .library import library_explainers

__all__ = ["RELEASE_COLUMNS", "library_explainers", "observe", "write_outputs"]

RELEASE_COLUMNS = ("release", "status", "reason", "field_version", "field_file", "install_s", "probe_s", "run_s",
                   "total_s", "cells", "conflicts", "extra_installs", "changelog")
#: Import names that differ from the distribution name.
MODULES = {"scikit-learn": "sklearn", "xgboost-cpu": "xgboost"}


def _csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _observe_one(env: ReleaseEnv, suite: str, explainers: list[str], out: Path, work: Path, timeout: float,
                 engine: str, say: Callable[[str], None], checks: Sequence[str] = ()) -> dict[str, Any]:
    rel = env.release
    row: dict[str, Any] = {"release": rel, "status": "", "reason": "", "install_s": "", "probe_s": "", "run_s": ""}
    t0 = time.monotonic()
    ok = env.build()
    row["install_s"] = f"{time.monotonic() - t0:.1f}"
    row["conflicts"] = "; ".join(env.conflicts)
    row["extra_installs"] = " ".join(env.installed_extra)
    if not ok:
        row.update(status="did not install", reason=env.install_error)
        return row
    row["changelog"] = changelog_line(env.target, env.import_name, rel)
    t1 = time.monotonic()
    imported, what = env.import_probe()
    if not imported:
        row.update(status="did not import", reason=what, probe_s=f"{time.monotonic() - t1:.1f}")
        return row
    probe = subprocess.run([sys.executable, "-m", "xaicheck.benchmarks.observatory.probe", env.import_name],
                           env=env.environ(), capture_output=True, text=True, timeout=600, cwd=str(work))
    row["probe_s"] = f"{time.monotonic() - t1:.1f}"
    try:
        seen = json.loads(last_line(probe.stdout) or "{}")
    except json.JSONDecodeError:
        seen = {"error": last_line(probe.stderr)}
    row["field_version"], row["field_file"] = seen.get("version", ""), seen.get("file", "")
    if seen.get("error") or seen.get("version") != rel:
        row.update(status="field mismatch", reason=seen.get("error") or f"the field imported {seen.get('version')}")
        return row
    run_dir = work / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    say(f"observe {env.library} {rel}: running {len(explainers)} explainers on the {suite} suite")
    t2 = time.monotonic()
    cmd = [sys.executable, "-m", "xaicheck.benchmarks.cli", "run", "--suite", suite, "--out", str(run_dir),
           "--explainers", ",".join(explainers), "--jobs", "1", "--no-resume", "--quiet", "--timeout", str(timeout),
           "--engine", engine, *(["--checks", ",".join(checks)] if checks else [])]
    done = subprocess.run(cmd, env=env.environ(), capture_output=True, text=True, cwd=str(work))
    row["run_s"] = f"{time.monotonic() - t2:.1f}"
    if done.returncode != 0 or not (run_dir / "scores.csv").exists():
        row.update(status="run failed", reason=last_line(done.stderr) or f"exit {done.returncode}")
        return row
    dest = out / rel
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("scores.csv", "provenance.json"):
        shutil.copyfile(run_dir / name, dest / name)
    row["cells"] = sum(1 for _ in read_scores(dest / "scores.csv"))
    row["status"] = "ran"
    return row


def observe(library: str, releases: Sequence[str], suite: str, out: Path | str, *, envs: Path | str,
            explainers: Sequence[str] | None = None, timeout: float = 120.0, engine: str = "local",
            with_pins: Sequence[str] = (), say: Callable[[str], None] = lambda s: None,
            checks: Sequence[str] = ()) -> dict[str, Any]:
    """Run ``suite`` under each release of ``library``; write ``OUT/versions/<library>/`` (see module docstring).

    ``checks`` restricts every run to those checks (default: all registered)."""
    names = list(explainers) if explainers else library_explainers(library)
    if not names:
        raise ValueError(f"no registered explainer has library {library!r} (see xaicheck list explainers)")
    series = library + "".join(f"+{p.replace('==', '-')}" for p in with_pins)
    base = Path(out) / "versions" / series
    base.mkdir(parents=True, exist_ok=True)
    rows = []
    for rel in releases:
        t0 = time.monotonic()
        root = Path(envs) / series if with_pins else Path(envs)
        env = ReleaseEnv(library, rel, root, module=MODULES.get(library, ""), with_pins=tuple(with_pins))
        work = root / "work" / library / rel
        work.mkdir(parents=True, exist_ok=True)
        say(f"observe {library} {rel}: building the environment in {env.target}")
        row = _observe_one(env, suite, names, base, work, timeout, engine, say, checks)
        row["total_s"] = f"{time.monotonic() - t0:.1f}"
        say(f"observe {library} {rel}: {row['status']} {row['reason']} ({row['total_s']} s)")
        rows.append(row)
        atomic_write_text(base / "releases.csv", _csv(rows, RELEASE_COLUMNS))
    return write_outputs(base, library, suite, names, releases, rows, with_pins)


def write_outputs(base: Path, library: str, suite: str, names: Sequence[str], releases: Sequence[str],
                  rows: Sequence[dict[str, Any]], with_pins: Sequence[str] = ()) -> dict[str, Any]:
    """``changes.csv`` and ``summary.md`` from the per-release ``scores.csv`` under ``base`` and the release rows
    (also to rebuild them from a ``releases.csv`` without running anything)."""
    from .summary import summary_markdown

    scores = {r["release"]: read_scores(base / r["release"] / "scores.csv") for r in rows if r["status"] == "ran"}
    changes = consecutive_changes(list(releases), scores)
    atomic_write_text(base / "changes.csv", _csv(changes, CHANGE_COLUMNS))
    atomic_write_text(base / "summary.md", summary_markdown(library, suite, names, list(releases), rows, changes,
                                                            release_pairs(list(releases), scores), with_pins))
    return {"dir": base, "releases": list(rows), "changes": changes}
