"""What units save: the same cells run with a process per cell and in units, as ratios of wall and CPU time.

Run: ``python -m xaicheck.benchmarks.bench_units [--suite quick] [--explainers a,b] [--checks a,b] [--jobs 2]
[--pairs 2] [--baseline]``.

``--baseline`` compares the default (sealed field processes, units) against the runner before issue 28 instead of
against a process per cell: ``XAICHECK_FIELD=inline XAICHECK_UNITS=explainer``, every cell of one explainer and seed
in one process, explainers in it (no sandbox at all): the ratio is what the whole sandbox costs.

Each measurement is one fresh ``xaicheck run --no-resume --quiet --rerun-sample 0`` in a subprocess, into its own
temporary directory, with ``XAICHECK_UNITS=cell`` (every cell a unit of its own: a fork of the runner and a field
process per cell) or the default grouping (``units``: up to 64 cells of one explainer and seed share both;
``axioms.unit``); ``--by-case`` measures ``XAICHECK_UNITS=case`` (one explainer, case and seed) instead. Modes alternate (``--pairs`` pairs, cell first), so a change in the machine's load hits both.
CPU time is the machine's busy time over the run (``/proc/stat``: user + nice + system + irq + softirq + steal, all
cores), since the field processes are children of the zygote, which no ``getrusage`` of the run counts: on a
shared machine it includes other work, so compare the ratios of pairs, not absolute numbers. Also printed: the
number of applicable cells and units, and whether ``scores.csv`` and ``evidence.jsonl`` are byte-identical between
the modes (they must be for deterministic explainers: a unit changes which process a cell runs in, never what it
answers).

Measured on 2026-12-06/07 (2 cores, every explainer on the whole quick suite, 2,582 applicable cells, one pair each):
``--by-case`` 283 s per cell against 177 s in units per case (wall 0.626, busy CPU 0.610; load 3-5); ``--baseline``
102.9 s for the pre-sandbox worker loop against 86.1 s sealed in 77 units (wall 0.837, busy CPU 0.793; load 2.8);
byte-identical outputs every time (README, *Speed*).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from .bench_field import run_command

__all__ = ["DEFAULT_EXPLAINERS", "busy_seconds", "run_mode", "bench", "main"]

DEFAULT_EXPLAINERS = ("saliency", "integrated_gradients", "gradient_shap", "occlusion", "shap_kernel",
                      "lime_tabular", "exact_if_small", "random")
#: Environment of each mode: ``cell``, ``case`` and ``units`` (the default) are sealed; ``worker`` is the pre-sandbox
#: baseline.
ENV = {"cell": {"XAICHECK_UNITS": "cell", "XAICHECK_FIELD": "process"},
       "case": {"XAICHECK_UNITS": "case", "XAICHECK_FIELD": "process"},
       "units": {"XAICHECK_UNITS": "explainer", "XAICHECK_FIELD": "process"},
       "worker": {"XAICHECK_UNITS": "explainer", "XAICHECK_FIELD": "inline"}}


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (``/proc/stat``; 0 off Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _default_units(out: Path) -> int:
    """How many units the default grouping makes of ``out``'s applicable cells (up to ``MAX_UNIT_CELLS`` per
    explainer and seed)."""
    from collections import Counter

    from xaicheck.axioms.unit import MAX_UNIT_CELLS

    with open(out / "timings.csv", newline="", encoding="utf-8") as fh:
        per = Counter((r["explainer"], r["seed"]) for r in csv.DictReader(fh) if r["status"] != "not_applicable")
    return sum(-(-n // MAX_UNIT_CELLS) for n in per.values())


def _cells_and_units(out: Path) -> tuple[int, int]:
    path = out / "timings.csv"
    if not path.is_file():
        return 0, 0
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["status"] != "not_applicable"]
    return len(rows), len({(r["explainer"], r["case"], r["seed"]) for r in rows})


def run_mode(mode: str, out: Path, *, suite: str, explainers: Sequence[str], checks: Sequence[str],
             jobs: int) -> dict[str, Any]:
    """One ``xaicheck run`` with ``XAICHECK_UNITS=mode`` into ``out``: wall and busy seconds, cells and units."""
    cmd = run_command(out, suite=suite, explainers=explainers, checks=checks, jobs=jobs)
    env = {**os.environ, **ENV[mode]}
    busy, start = busy_seconds(), time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, busy_seconds() - busy
    cells, units = _cells_and_units(out)
    if mode == "cell":
        units = cells  # a unit per cell
    elif mode == "worker":
        units = 0  # one process per explainer and seed: not units
    elif mode == "units":
        units = _default_units(out)
    return {"mode": mode, "wall_s": wall, "busy_s": cpu, "cells": cells, "units": units}


def bench(*, suite: str = "quick", explainers: Sequence[str] = DEFAULT_EXPLAINERS, checks: Sequence[str] = (),
          jobs: int = 2, pairs: int = 2, baseline: bool = False, by_case: bool = False) -> dict[str, Any]:
    """``pairs`` alternating pairs of runs; the median ratios units / per cell (``baseline``: units / the
    pre-sandbox worker loop; ``by_case``: units per case instead of the default grouping) and whether the outputs
    agree. The measured mode is under the key ``"units"``."""
    ref = "worker" if baseline else "cell"
    measured = "case" if by_case else "units"
    runs: list[dict[str, Any]] = []
    same = True
    with tempfile.TemporaryDirectory(prefix="xaicheck-bench-units-") as tmp:
        for k in range(pairs):
            pair = {m: run_mode(m, Path(tmp) / f"{m}{k}", suite=suite, explainers=explainers, checks=checks,
                                jobs=jobs) for m in (ref, measured)}
            same = same and all((Path(tmp) / f"{ref}{k}" / n).read_bytes() == (Path(tmp) / f"{measured}{k}" / n)
                                .read_bytes() for n in ("scores.csv", "evidence.jsonl"))
            pair["units"] = pair.pop(measured)
            runs.append(pair)
    wall = statistics.median(p["units"]["wall_s"] / p[ref]["wall_s"] for p in runs)
    busy = statistics.median(p["units"]["busy_s"] / max(p[ref]["busy_s"], 1e-9) for p in runs)
    return {"runs": runs, "wall_ratio": wall, "busy_ratio": busy, "identical": same}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xaicheck.benchmarks.bench_units",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--explainers", default=",".join(DEFAULT_EXPLAINERS))
    parser.add_argument("--checks", default="")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--baseline", action="store_true",
                        help="compare against the pre-sandbox worker loop instead of a process per cell")
    parser.add_argument("--by-case", action="store_true", help="measure units per explainer, case and seed")
    args = parser.parse_args(argv)
    res = bench(suite=args.suite, explainers=[e for e in args.explainers.split(",") if e],
                checks=[c for c in args.checks.split(",") if c], jobs=args.jobs, pairs=args.pairs,
                baseline=args.baseline, by_case=args.by_case)
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    for k, pair in enumerate(res["runs"]):
        for mode, r in pair.items():
            print(f"pair {k} {mode:6s} wall {r['wall_s']:7.1f} s  busy {r['busy_s']:7.1f} core-s  "
                  f"{r['cells']} cells in {r['units'] or 'no'} units")
    ref = "the pre-sandbox worker loop" if args.baseline else "per cell"
    print(f"units / {ref} (median over pairs): wall {res['wall_ratio']:.3f}, busy CPU {res['busy_ratio']:.3f}; "
          f"scores and evidence identical: {res['identical']}")
    return 0 if res["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
