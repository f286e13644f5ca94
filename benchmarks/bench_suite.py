"""How long one suite run takes, phase by phase, in wall and CPU seconds, with a cold and a warm search cache.

Run: ``python -m xaicheck.benchmarks.bench_suite --suite quick|default`` (options: ``--explainers``, ``--checks``,
``--jobs``, ``--cache both|cold|current``, ``--json FILE``). Each measured run is a fresh Python process doing what
``xaicheck run --no-resume`` does (into a temporary directory), so imports, numba compilation and forking cost what
they cost a user. ``--cache both`` (default) runs twice on one new, empty search cache: *cold* (every
counterexample search computed, as on a fresh clone or in CI) then *warm* (every search read back from disk);
``current`` runs once on the cache ``XAICHECK_CACHE_DIR`` already points to.

Phases (wall seconds; shares of the run's wall time; CPU seconds = user + system of the process and its workers,
``getrusage``, which on a shared machine mean more than wall time):

- ``setup``: interpreter start-up to the first cell: imports, building the suite's cases, the applicability scan;
- ``warm-up``: the parent compiling shap's numba kernels (``engine_local.warm_up``) inside the ``cells`` phase,
  *overlapping* the first cells (forked just before it), so it has no share of its own;
- ``cells``: the pool running every cell, each in a fresh forked child (CPU: the children's and the parent's);
- ``searches``: the part of the cells' CPU spent in ``find_counterexample`` (from ``XAICHECK_SEARCH_LOG``), with
  how each was answered: ``searched`` (hypothesis ran), ``disk`` (search cache), ``memory`` (the worker's own);
- ``determinism rerun``: the ``--rerun-sample`` cells run a second time (``benchmarks/determinism.py``);
- ``outputs``: writing scores.csv, evidence.jsonl, counterexamples/, provenance.json;
- ``report``: ``build_report`` (leaderboard, plots, report.html).

``setup + cells + determinism rerun + outputs + report`` is the run's wall time (the remainder, under a
millisecond, is bookkeeping between them). Phases are timed by wrapping ``engine_local.run_pool`` and
``engine_local.warm_up`` for the duration of the run (no change to what runs); scores are those of a normal run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["PHASES", "measure", "measure_in_child", "format_run", "main"]

#: Phases in report order; ``warm-up`` overlaps ``cells`` and ``searches`` is a part of the cells' CPU.
PHASES: tuple[str, ...] = ("setup", "warm-up", "cells", "searches", "determinism rerun", "outputs", "report")
#: The phases whose wall times add up to the run's.
CRITICAL_PATH: tuple[str, ...] = ("setup", "cells", "determinism rerun", "outputs", "report")

Record = dict[str, Any]


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its reaped children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _read_search_log(path: Path, top: int = 5) -> dict[str, Any]:
    """Totals of a search log, by how each search was answered, and the ``top`` costliest searches run (CPU s)."""
    out: dict[str, Any] = {"cpu": 0.0, "wall": 0.0, "searched": 0, "disk": 0, "memory": 0, "top": []}
    if not path.is_file():
        return out
    costs: list[tuple[float, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        out[entry["answered"]] += 1
        out["cpu"] += entry["cpu"]
        out["wall"] += entry["wall"]
        if entry["answered"] == "searched":
            costs.append((entry["cpu"], entry.get("search", "")))
    out["top"] = [[name, round(cpu, 3)] for cpu, name in sorted(costs, key=lambda c: (-c[0], c[1]))[:top]]
    return out


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _timed_phases(phases: dict[str, dict[str, float]], logs: Path) -> Iterator[None]:
    """Wrap ``engine_local.run_pool`` (first call: ``cells``; later: ``determinism rerun``) and
    ``engine_local.warm_up`` (wall and thread CPU) while the block runs; each pool's searches log into
    ``logs/<phase>.jsonl``."""
    from xaicheck.axioms._search_cache import LOG_ENV

    from . import engine_local

    run_parallel, warm_up = engine_local.run_pool, engine_local.warm_up

    def timed_run_parallel(*args: Any, **kwargs: Any) -> Any:
        name = "cells" if "cells" not in phases else "determinism rerun"
        wall, cpu = time.perf_counter(), _cpu()
        try:
            with _env(**{LOG_ENV: str(logs / f"{name.replace(' ', '_')}.jsonl")}):
                return run_parallel(*args, **kwargs)
        finally:
            phases[name] = {"wall": time.perf_counter() - wall, "cpu": _cpu() - cpu}

    def timed_warm_up(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return warm_up(*args, **kwargs)
        finally:
            phases["warm-up"] = {"wall": time.perf_counter() - wall, "cpu": time.thread_time() - cpu}

    engine_local.run_pool, engine_local.warm_up = timed_run_parallel, timed_warm_up
    try:
        yield
    finally:
        engine_local.run_pool, engine_local.warm_up = run_parallel, warm_up


def measure(suite: str = "quick", *, explainers: str | None = None, checks: str | None = None,
            jobs: int | None = None, out: Path | str | None = None, rerun_sample: int | None = None,
            started: tuple[float, float] | None = None) -> Record:
    """Run the suite once in this process, as ``xaicheck run --no-resume --quiet`` does, and time its phases.

    ``started``: ``(perf_counter, cpu)`` when the process started (default: now), so that ``setup`` includes the
    imports. Returns ``{"suite", "cells", "applicable", "jobs", "cores", "load", "phases": {phase: {"wall",
    "cpu"}}, "searches": {...}, "total": {"wall", "cpu"}, "cell_seconds", "scores_sha256"}``."""
    wall0, cpu0 = started if started is not None else (time.perf_counter(), _cpu())
    from .determinism import RERUN_SAMPLE
    from .records import scores_digest
    from .report import build_report
    from .runner import default_jobs, run_suite
    from .suite import build_suite

    jobs = default_jobs() if jobs is None else jobs
    load = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        if out is None:
            out = stack.enter_context(tempfile.TemporaryDirectory(prefix="xaicheck-bench-suite-"))
        out = Path(out)
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="xaicheck-search-log-")))
        built = build_suite(suite, explainers=explainers, checks=checks)
        cells = built.cells()
        applicable = sum(built.check_of(c).applies(built.explainer_of(c), built.case_of(c))[0] for c in cells)
        phases: dict[str, dict[str, float]] = {"setup": {"wall": time.perf_counter() - wall0, "cpu": _cpu() - cpu0}}
        wall, cpu = time.perf_counter(), _cpu()
        with _timed_phases(phases, logs):
            summary = run_suite(built, out, jobs=jobs, resume=False, progress=False,
                                rerun_sample=RERUN_SAMPLE if rerun_sample is None else rerun_sample)
        phases.setdefault("warm-up", {"wall": 0.0, "cpu": 0.0})
        phases.setdefault("determinism rerun", {"wall": 0.0, "cpu": 0.0})
        pools = {k: phases[k] for k in ("cells", "determinism rerun")}
        phases["outputs"] = {"wall": time.perf_counter() - wall - sum(p["wall"] for p in pools.values()),
                             "cpu": _cpu() - cpu - sum(p["cpu"] for p in pools.values())}
        phases["cells"]["cpu"] -= phases["warm-up"]["cpu"]  # the warm-up thread ran inside the cells' pool
        wall, cpu = time.perf_counter(), _cpu()
        build_report(out, log=None)
        phases["report"] = {"wall": time.perf_counter() - wall, "cpu": _cpu() - cpu}
        searches = _read_search_log(logs / "cells.jsonl")
        rerun_searches = _read_search_log(logs / "determinism_rerun.jsonl")
        phases["searches"] = {"wall": searches["wall"], "cpu": searches["cpu"]}
        record: Record = {
            "suite": suite, "cells": len(cells), "applicable": int(applicable), "jobs": jobs,
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load": round(load, 2), "rerun": _rerun_count(out),
            "phases": {name: phases[name] for name in PHASES}, "searches": searches,
            "rerun_searches": rerun_searches,
            "total": {"wall": time.perf_counter() - wall0, "cpu": _cpu() - cpu0},
            "cell_seconds": sum(r.seconds for r in summary.records),
            "scores_sha256": scores_digest(out / "scores.csv"),
        }
    return record


def _rerun_count(out: Path) -> int:
    """How many cells the determinism rerun ran, from ``determinism.csv`` (absent when none was)."""
    import csv

    path = out / "determinism.csv"
    if not path.is_file():
        return 0
    return sum(int(r["rerun"]) for r in csv.DictReader(path.open(encoding="utf-8", newline="")))


def measure_in_child(args: Sequence[str], cache_dir: str | None) -> Record:
    """:func:`measure` in a fresh ``python -m xaicheck.benchmarks.bench_suite --child`` process (``cache_dir``:
    its ``XAICHECK_CACHE_DIR``; ``None`` leaves the environment's)."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["XAICHECK_CACHE_DIR"] = cache_dir
    with tempfile.TemporaryDirectory(prefix="xaicheck-bench-suite-") as tmp:
        result = Path(tmp) / "record.json"
        subprocess.run([sys.executable, "-m", "xaicheck.benchmarks.bench_suite", *args, "--child", str(result)],
                       env=env, check=True)
        return json.loads(result.read_text(encoding="utf-8"))


def format_run(record: Record, label: str) -> str:
    """The table of one run (see the module docstring for the phases)."""
    total = record["total"]["wall"]
    s = record["searches"]
    lines = [f"suite {record['suite']}: {record['cells']:,} cells ({record['applicable']:,} applicable), "
             f"{record['jobs']} jobs on {record['cores']} cores (load {record['load']:.1f} at start); "
             f"search cache {label}",
             f"{'phase':<28}{'wall s':>8}{'wall %':>8}{'CPU s':>9}"]
    notes = {"warm-up": "overlaps cells", "searches": "part of cells' CPU"}
    for name in PHASES:
        p = record["phases"][name]
        title = {"searches": "  counterexample searches",
                 "determinism rerun": f"determinism rerun ({record['rerun']})"}.get(name, name)
        share = f"{100 * p['wall'] / total:>7.1f}%" if name in CRITICAL_PATH and total > 0 else f"{'-':>8}"
        wall = f"{p['wall']:>8.1f}" if name != "searches" else f"{'-':>8}"
        extra = f"   {notes[name]}" if name in notes else ""
        if name == "searches":
            extra += f" ({s['searched']} searched, {s['disk']} from disk, {s['memory']} in memory)"
        lines.append(f"{title:<28}{wall}{share}{p['cpu']:>9.1f}{extra}")
    lines.append(f"{'total':<28}{total:>8.1f}{100.0:>7.1f}%{record['total']['cpu']:>9.1f}   "
                 f"(sum of cell seconds {record['cell_seconds']:.1f})")
    if s["top"]:
        lines.append("costliest searches (CPU s): " + ", ".join(f"{name} {cpu:.1f}" for name, cpu in s["top"]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[Record]:
    started = (time.perf_counter(), _cpu())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="quick", choices=("quick", "default", "full"))
    parser.add_argument("--explainers", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--checks", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--rerun-sample", type=int, default=None)
    parser.add_argument("--cache", default="both", choices=("both", "cold", "current"),
                        help="both: a cold then a warm run on a new search cache; cold: the first only; "
                             "current: one run on the cache already configured")
    parser.add_argument("--json", default=None, help="also write the records as JSON to this file")
    parser.add_argument("--out", default=None,
                        help="keep each run's outputs in OUT/<cache label> (default: a temporary directory)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one measured run, in this fresh process
        record = measure(args.suite, explainers=args.explainers, checks=args.checks, jobs=args.jobs,
                         rerun_sample=args.rerun_sample, started=started, out=args.out)
        Path(args.child).write_text(json.dumps(record), encoding="utf-8")
        return [record]
    passed = [f"--suite={args.suite}"] + [f"--{k.replace('_', '-')}={v}" for k, v in
                                          (("explainers", args.explainers), ("checks", args.checks),
                                           ("jobs", args.jobs), ("rerun_sample", args.rerun_sample)) if v is not None]
    records: list[Record] = []
    with tempfile.TemporaryDirectory(prefix="xaicheck-search-cache-") as cache:
        runs = {"both": [("cold", cache), ("warm", cache)], "cold": [("cold", cache)],
                "current": [("as configured", None)]}[args.cache]
        for label, cache_dir in runs:
            keep = [f"--out={Path(args.out) / label.replace(' ', '_')}"] if args.out else []
            record = measure_in_child(passed + keep, cache_dir)
            record["cache"] = label
            records.append(record)
            print(format_run(record, label), end="\n\n", flush=True)
    if len(records) == 2 and records[0]["scores_sha256"] != records[1]["scores_sha256"]:
        print("warning: the cold and warm runs' scores.csv differ (a search cache answer changed a score)")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return records


if __name__ == "__main__":
    main()
