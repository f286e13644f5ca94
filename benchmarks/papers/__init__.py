"""Reproductions of published XAI results: each paper's claims as data beside what the project's own code measures.

>>> from benchmarks.papers import list_papers, run_paper
>>> result = run_paper("sundararajan2017", out_dir="results")   # writes results/papers/sundararajan2017.{md,csv}
>>> print(result.to_table())

Each module ``benchmarks/papers/<name>.py`` defines ``PAPER`` (a ``claims.Paper``). Modules are imported lazily, so
listing papers costs nothing and one paper's missing dependency never breaks another.
"""

from __future__ import annotations

import importlib
from pathlib import Path

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

#: Reproduced papers by name -> module (``benchmarks.papers.<module>``), in reading order.
PAPERS: dict[str, str] = {
    "sundararajan2017": "benchmarks.papers.sundararajan2017",
    "kindermans2017": "benchmarks.papers.kindermans2017",
    "adebayo2018": "benchmarks.papers.adebayo2018",
    "lundberg2018": "benchmarks.papers.lundberg2018",
    "sundararajan_najmi2020": "benchmarks.papers.sundararajan_najmi2020",
    "janzing2020": "benchmarks.papers.janzing2020",
    "huang_marques_silva2023": "benchmarks.papers.huang_marques_silva2023",
    "compare_xai2022": "benchmarks.papers.compare_xai2022",
    "krishna2022": "benchmarks.papers.krishna2022",
}


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
