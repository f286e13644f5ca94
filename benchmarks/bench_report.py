"""How long building the report takes, by phase, from an existing run's ``scores.csv`` (issues 15 and 16).

Run: ``python -m xaicheck.benchmarks.bench_report [RESULTS_DIR] [--repeat 2]`` (default ``results``). The run's
files (scores.csv, timings.csv, evidence.jsonl, provenance.json, papers/) are copied into a temporary directory, so
the results folder is never written; ``build_report`` runs there ``--repeat`` times and each phase's wall time (the
time between the progress lines it prints, shown before the line that ends it) is reported with the machine's core count and load, then the agreement
matrix alone (the step that was a pure-Python loop of one Spearman per pair and case).

Measured on the committed default run (4356 cells, 38 explainers; 2 cores shared with other jobs, so absolute
numbers vary with the load): before the vectorised agreement matrix and tracks 18.9 s at load 0.5 (71-76 s at
load 7-8); after, 13.9 s at load 1 (41-52 s at load 8); the agreement matrix alone 18.5 s -> 0.06 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Sequence

__all__ = ["time_report", "main"]

_FILES = ("scores.csv", "timings.csv", "evidence.jsonl", "provenance.json")


def time_report(results: Path | str) -> tuple[float, list[tuple[str, float]]]:
    """``(total seconds, [(progress line, seconds since the previous line)])`` of one ``build_report`` on a copy."""
    from .report import build_report

    results = Path(results)
    with tempfile.TemporaryDirectory(prefix="xaicheck-bench-report-") as tmp:
        work = Path(tmp)
        for name in _FILES:
            if (results / name).exists():
                shutil.copy2(results / name, work / name)
        if (results / "papers").is_dir():
            shutil.copytree(results / "papers", work / "papers")
        steps: list[tuple[str, float]] = []
        last = start = time.perf_counter()

        def log(line: str) -> None:
            nonlocal last
            now = time.perf_counter()
            steps.append((line, now - last))
            last = now

        build_report(work, log=log)
        return time.perf_counter() - start, steps


def main(argv: Sequence[str] | None = None) -> list[float]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("results", nargs="?", default="results", help="a run's directory (default: results)")
    p.add_argument("--repeat", type=int, default=2, help="builds to time (default 2)")
    args = p.parse_args(argv)
    if not (Path(args.results) / "scores.csv").exists():
        raise SystemExit(f"bench_report: no scores.csv in {args.results!r}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, load {load:.2f}; report from {Path(args.results) / 'scores.csv'}")
    totals = []
    for k in range(args.repeat):
        total, steps = time_report(args.results)
        totals.append(total)
        print(f"build {k + 1}: {total:.2f} s")
        for line, seconds in steps:
            print(f"  {seconds:7.2f} s | {line}")
    from .plots import agreement_matrix
    from .records import read_records

    records = read_records(Path(args.results))
    t = time.perf_counter()
    agreement_matrix(records)
    print(f"agreement matrix alone: {time.perf_counter() - t:.3f} s; best build {min(totals):.2f} s")
    return totals


if __name__ == "__main__":
    main()
