"""Reproductions of published XAI results: each paper's claims as data beside what the project's own code measures.

>>> from xaicheck.benchmarks.papers import list_papers, run_paper
>>> result = run_paper("sundararajan2017", out_dir="results")   # writes results/papers/sundararajan2017.{md,csv}
>>> print(result.to_table())

Each module ``benchmarks/papers/<name>.py`` defines ``PAPER`` (a ``claims.Paper``). Modules are imported lazily, so
listing papers costs nothing and one paper's missing dependency never breaks another.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from xaicheck.core.discovery import public_modules

from .claims import Claim, Measurement, NotAvailable, Paper, PaperResult, evaluate

__all__ = [
    "PAPERS",
    "list_papers",
    "load_paper",
    "run_paper",
    "Claim",
    "Measurement",
    "NotAvailable",
    "Paper",
    "PaperResult",
]

#: Reproduced papers by name -> module (``xaicheck.benchmarks.papers.<name>``), found by walking this package:
#: every public module except the claim machinery is one paper, named after its module.
PAPERS: dict[str, str] = {m.rsplit(".", 1)[1]: m for m in public_modules(__name__, skip=("claims",))}


def list_papers() -> list[str]:
    """Names of every reproduced paper (the ``xaicheck reproduce NAME`` keys)."""
    return list(PAPERS)


def load_paper(name: str) -> Paper:
    """The ``Paper`` record of ``name`` (claims and measures), importing its module on first use."""
    if name not in PAPERS:
        raise KeyError(f"unknown paper {name!r}; known: {', '.join(PAPERS)}")
    module = importlib.import_module(PAPERS[name])
    paper = getattr(module, "PAPER")
    if paper.name != name:
        raise ValueError(f"module {PAPERS[name]} defines paper {paper.name!r}, expected {name!r}")
    return paper


def run_paper(name: str, out_dir: str | Path | None = "results") -> PaperResult:
    """Measure every claim of paper ``name``; write ``OUT/papers/NAME.md`` and ``.csv`` unless ``out_dir`` is None."""
    result = evaluate(load_paper(name))
    if out_dir is not None:
        files = result.write(out_dir)
        result = PaperResult(result.paper, result.results, result.seconds, files)
    return result
