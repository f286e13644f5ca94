"""What glibc's transparent huge pages save per cell: the same run with ``XAICHECK_HUGEPAGES=0`` and without.

Run: ``python -m xaicheck.benchmarks.bench_hugepages [--explainers a,b] [--suite quick] [--pairs 3]``.

Each pair runs ``xaicheck run --no-resume --quiet --rerun-sample 0 --jobs 1`` twice in turn (off, on) through the
console script, into temporary directories, and reads each run's CPU (user + system of the run and every process it
waited for: ``resource.getrusage(RUSAGE_CHILDREN)`` before and after) and wall time. It prints every pair, the median
ratios on/off, and whether ``scores.csv`` is byte-identical between the modes (it must be: the tunable moves malloc's
memory, not what is computed). Pairs alternate so drifting machine load hits both modes alike; compare the ratios.
``xaicheck._entry`` explains the mechanism (the page table a fork copies).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

__all__ = ["DEFAULT_EXPLAINERS", "run_once", "main"]

DEFAULT_EXPLAINERS = ("integrated_gradients", "saliency", "occlusion", "random", "exact_baseline_shapley")


def run_once(out: Path, explainers: Sequence[str], suite: str, hugepages: bool) -> dict[str, float]:
    """One run into ``out``: its wall seconds and the CPU seconds (user, system) of everything it waited for."""
    env = {k: v for k, v in os.environ.items() if k not in ("XAICHECK_HUGEPAGES",)}
    if not hugepages:
        env["XAICHECK_HUGEPAGES"] = "0"
    script = shutil.which("xaicheck") or "xaicheck"
    cmd = [script, "run", "--suite", suite, "--explainers", ",".join(explainers), "--out", str(out), "--jobs", "1",
           "--no-resume", "--quiet", "--rerun-sample", "0"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "user": after.ru_utime - before.ru_utime, "sys": after.ru_stime - before.ru_stime}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--explainers", default=",".join(DEFAULT_EXPLAINERS))
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args(argv)
    explainers = [e for e in args.explainers.split(",") if e]
    ratios: dict[str, list[float]] = {"wall": [], "cpu": [], "sys": []}
    with tempfile.TemporaryDirectory(prefix="xaicheck_bench_hp_") as tmp:
        same = True
        for i in range(args.pairs):
            off = run_once(Path(tmp) / f"off{i}", explainers, args.suite, hugepages=False)
            on = run_once(Path(tmp) / f"on{i}", explainers, args.suite, hugepages=True)
            same &= (Path(tmp) / f"off{i}" / "scores.csv").read_bytes() == (Path(tmp) / f"on{i}" / "scores.csv").read_bytes()
            for k in ("wall", "sys"):
                ratios[k].append(on[k] / off[k])
            ratios["cpu"].append((on["user"] + on["sys"]) / (off["user"] + off["sys"]))
            print(f"pair {i}: off wall {off['wall']:.1f} s cpu {off['user'] + off['sys']:.1f} s (sys {off['sys']:.1f}); "
                  f"on wall {on['wall']:.1f} s cpu {on['user'] + on['sys']:.1f} s (sys {on['sys']:.1f})", flush=True)
    print("median on/off: " + ", ".join(f"{k} {statistics.median(v):.3f}" for k, v in ratios.items())
          + f"; scores.csv identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
