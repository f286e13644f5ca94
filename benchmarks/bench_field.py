"""What the sealed field process costs: the same cells with explainers in field processes and inline, as a ratio.

Run: ``python -m xaicheck.benchmarks.bench_field [--explainers a,b] [--checks a,b] [--suite quick] [--jobs 1]``.

Each mode is one fresh ``xaicheck run --no-resume --quiet --rerun-sample 0`` in a subprocess, into its own temporary
directory: ``XAICHECK_FIELD=process`` (the default: each cell asks a fresh field process forked from the warm
zygote, issue 23) and ``XAICHECK_FIELD=inline`` (the explainer runs in the cell's process, unsealed: a debugging
mode). It prints both wall times, their ratio, the sum of the cells' own seconds (``timings.csv``) per mode, and
whether ``scores.csv`` and ``evidence.jsonl`` are byte-identical (they must be: the seal changes where the explainer
runs, never what it answers). Measured on 2026-12-06 (2 cores, load 1.2, ``integrated_gradients,guided_ig,
shap_kernel`` on the quick suite, 162 scored cells, one job, after the zygote's captum warm-up): 67.9 s sealed,
28.9 s inline, ratio 2.35 (the cells' own seconds 43.4 against 16.4), identical bytes. The machine is shared:
compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

__all__ = ["DEFAULT_EXPLAINERS", "run_command", "run_mode", "bench", "main"]

DEFAULT_EXPLAINERS = ("integrated_gradients", "guided_ig", "shap_kernel")
MODES = ("process", "inline")


def _cell_seconds(out: Path) -> float:
    """Sum of the cells' own seconds in ``out/timings.csv`` (0 when absent)."""
    path = out / "timings.csv"
    if not path.is_file():
        return 0.0
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(float(r["seconds"] or 0) for r in csv.DictReader(fh))


def run_command(out: Path, *, suite: str, explainers: Sequence[str], checks: Sequence[str], jobs: int) -> list[str]:
    """``xaicheck run --no-resume --quiet --rerun-sample 0`` of ``explainers`` (and ``checks``) into ``out``, as a
    subprocess command (the benchmarks that compare run modes run this)."""
    cmd = [sys.executable, "-m", "xaicheck.benchmarks.cli", "run", "--suite", suite, "--out", str(out),
           "--jobs", str(jobs), "--no-resume", "--quiet", "--rerun-sample", "0",
           "--explainers", ",".join(explainers)]
    return cmd + (["--checks", ",".join(checks)] if checks else [])


def run_mode(mode: str, out: Path, *, suite: str, explainers: Sequence[str], checks: Sequence[str],
             jobs: int) -> dict[str, Any]:
    """One ``xaicheck run`` with ``XAICHECK_FIELD=mode`` into ``out``: wall seconds and the cells' own seconds."""
    cmd = run_command(out, suite=suite, explainers=explainers, checks=checks, jobs=jobs)
    env = {**os.environ, "XAICHECK_FIELD": mode}
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return {"mode": mode, "wall_s": time.perf_counter() - start, "cell_s": _cell_seconds(out)}


def bench(*, suite: str = "quick", explainers: Sequence[str] = DEFAULT_EXPLAINERS, checks: Sequence[str] = (),
          jobs: int = 1) -> dict[str, Any]:
    """Both modes on the same cells: their times, the ratio sealed / inline and whether the outputs are identical."""
    with tempfile.TemporaryDirectory(prefix="xaicheck-bench-field-") as tmp:
        runs = {m: run_mode(m, Path(tmp) / m, suite=suite, explainers=explainers, checks=checks, jobs=jobs)
                for m in MODES}
        same = all((Path(tmp) / "process" / name).read_bytes() == (Path(tmp) / "inline" / name).read_bytes()
                   for name in ("scores.csv", "evidence.jsonl"))
    return {"runs": runs, "ratio": runs["process"]["wall_s"] / max(runs["inline"]["wall_s"], 1e-9),
            "identical": same}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xaicheck.benchmarks.bench_field",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--explainers", default=",".join(DEFAULT_EXPLAINERS))
    parser.add_argument("--checks", default="")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    res = bench(suite=args.suite, explainers=[e for e in args.explainers.split(",") if e],
                checks=[c for c in args.checks.split(",") if c], jobs=args.jobs)
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    for mode, r in res["runs"].items():
        print(f"{mode:8s} wall {r['wall_s']:7.1f} s   cells' own seconds {r['cell_s']:7.1f}")
    print(f"sealed / inline wall: {res['ratio']:.2f}; scores and evidence identical: {res['identical']}")
    return 0 if res["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
