"""The ``xaicheck`` console script: asks glibc for transparent huge pages, then runs ``benchmarks.cli.main``.

Why: every cell runs in a fresh process forked from a warm parent of about 600 MB (issue 28), and a fork copies the
parent's page table: with 4 KiB pages that is ~150 000 entries per fork, two forks per cell (the cell and its
field process). glibc >= 2.35 can back ``malloc``'s heap with transparent huge pages (``GLIBC_TUNABLES=
glibc.malloc.hugetlb=1``: ``madvise(MADV_HUGEPAGE)`` on its arenas), which cuts the entries the fork copies. The
tunable is read once, when the process starts, so the commands that run cells (``run``, ``metrics``, ``observe``,
``reproduce``) re-execute themselves once with it set, before importing anything heavy. Measured on the quick suite
restricted to five explainers (``benchmarks/bench_hugepages.py``): see README "Speed".

It changes no result (the same bytes: it changes where malloc's memory lives, not what is computed) and is skipped
where it cannot apply: not Linux/glibc >= 2.35, transparent huge pages not in ``madvise`` mode, the tunable already
set, ``XAICHECK_HUGEPAGES=0``, or ``main`` called with an argument list (from Python, never re-executed).
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

__all__ = ["main", "hugepage_env"]

TUNABLE = "glibc.malloc.hugetlb=1"
SWITCH = "XAICHECK_HUGEPAGES"
#: Commands that fork a process per cell.
CELL_COMMANDS = frozenset({"run", "metrics", "observe", "reproduce"})
THP_MODE = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _glibc_at_least(major: int, minor: int) -> bool:
    lib, version = platform.libc_ver()
    if lib != "glibc":
        return False
    try:
        got = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        return False
    return got >= (major, minor)


def hugepage_env(environ: dict[str, str], argv: list[str]) -> dict[str, str] | None:
    """The environment to re-execute with, or ``None`` when the tunable does not apply (module docstring)."""
    if environ.get(SWITCH, "") in ("0", "1") or not sys.platform.startswith("linux"):
        return None  # "1": this process is the re-executed one
    if len(argv) < 2 or argv[1] not in CELL_COMMANDS or "glibc.malloc.hugetlb" in environ.get("GLIBC_TUNABLES", ""):
        return None
    try:
        if "[madvise]" not in THP_MODE.read_text():
            return None
    except OSError:
        return None
    if not _glibc_at_least(2, 35):
        return None
    tunables = environ.get("GLIBC_TUNABLES", "")
    return {**environ, SWITCH: "1", "GLIBC_TUNABLES": f"{tunables}:{TUNABLE}" if tunables else TUNABLE}


def main() -> int:
    env = hugepage_env(dict(os.environ), sys.argv)
    if env is not None:
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    from xaicheck.benchmarks.cli import main as cli_main

    return cli_main()
