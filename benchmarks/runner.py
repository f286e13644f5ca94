"""Run every cell of a suite, each in a fresh forked process, in parallel, resumable; write sorted outputs.

A cell is a pure function of (explainer, case, seed), run by :func:`xaicheck.axioms.cell.run_cell` semantics on
every engine: a fresh child forked from this warm process per applicable cell, in its own process group, under a
per-cell ``SIGALRM`` timeout, killed with every descendant when it answers, dies or outlives ``timeout + grace``;
its reply carries its cell id, pid and a nonce (anything else on its pipe is discarded and logged). Nothing a cell
does to its process (patching a library, leaking descriptors, changing directory or environment, forking) reaches
another cell: each starts from the :class:`~xaicheck.axioms.isolation.CellContext` captured here once (absolute
working directory, cache directory, the run's attribution-sharing directory under the absolute ``--out``).
``run`` never raises for what a cell does: an explainer that calls ``sys.exit``/``os._exit``, dies by a signal,
hangs or swallows the alarm costs its cell (recorded as error/timeout with the reason), never the run.

Before the first fork the parent warms up (``warm_up``: shap's numba kernels; ``warm_process``: per-process memos)
so every cell inherits the compiled code and no cell's time includes a compile. Finished cells are appended to
``DIR/.partial/cells.jsonl`` one fsync'ed line at a time, so an interrupted run resumes where it stopped; each line
read back is validated and checked against a digest (an edited line's cell runs again). Serial and parallel runs
give the same rows. Cells are scheduled longest first (the previous run's ``timings.csv`` in ``--out`` when there
is one, else a cost estimate) so an expensive cell does not land last. After the cells, a deterministic sample of
each explainer's cells (``rerun_sample`` per explainer) runs again: an explainer whose sample differs is flagged
nondeterministic in ``determinism.csv`` and ``provenance.json``. The engine (``engines``: ``local`` forks here,
``engine_dask`` on a Dask cluster) owns its processes; the log, resume and outputs are the runner's on every one.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from xaicheck.axioms.cell import DEFAULT_TIMEOUT, Cell, CellContext, CellRecord
from xaicheck.axioms.isolation import KILL_GRACE, validate_timeout
from xaicheck.core.limits import recorded_limits
from xaicheck.core.cache_files import library_version, source_fingerprint
from xaicheck.core.errors import CellTimeout

from . import provenance as prov
from .case_facts import case_facts
from .determinism import RERUN_SAMPLE, determinism_report, determinism_sample, write_determinism
from .engines import LocalEngine
from .records import (PartialLog, fingerprint_digest, jsonable, scores_digest, write_evidence, write_scores,
                      write_timings)
from .safe_io import atomic_write_text, check_out_dir, remove_files, safe_dir, write_gitignore
from .out_lock import out_lock
from .progress import Progress
from .scheduling import cell_costs, schedule
from .suite import Suite, seeds_for
from .threads import default_jobs, limit_blas_threads, limit_torch_threads, one_thread
from .warm_up import WARM_UP_LIBRARIES, warm_up

__all__ = ["DEFAULT_TIMEOUT", "WARM_UP_LIBRARIES", "RERUN_SAMPLE", "CellTimeout", "RunSummary", "run_suite",
           "write_outputs", "fingerprint", "default_jobs", "warm_up", "schedule", "determinism_sample", "one_thread",
           "KILL_GRACE", "Cell"]


# ----------------------------------------------------------------------------------------------- the run
#: The installed packages whose code a run executes (their ``.py`` files make the fingerprint's ``code``).
CODE_PACKAGES: tuple[str, ...] = ("xaicheck", "xaicheck.axioms", "xaicheck.benchmarks", "xaicheck.explainers",
                                  "xaicheck.synthetic_models")
#: The libraries whose versions the fingerprint records (an upgrade can move a score).
FINGERPRINT_LIBRARIES: tuple[str, ...] = ("torch", "captum", "shap", "lime", "numpy", "scikit-learn")


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """sha256 of the path and bytes of every ``.py`` file of :data:`CODE_PACKAGES` (sorted paths) and the python
    version, computed once per process (``xaicheck.core.cache_files.source_fingerprint``)."""
    return source_fingerprint(CODE_PACKAGES, ())


def fingerprint(suite: Suite) -> dict[str, Any]:
    """What must match for a partial log to be resumed: suite, base seed, versions of xaicheck and checks, the
    explainers' settings, the code (:func:`source_digest`) and the versions of :data:`FINGERPRINT_LIBRARIES`.
    Any difference makes ``PartialLog.load`` return nothing: every cell runs again under the new code."""
    return {"suite": suite.name, "base_seed": suite.base_seed, "xaicheck_version": prov.xaicheck_version(),
            "checks": {name: check.version for name, check in sorted(suite.checks.items())},
            "explainer_settings": {name: jsonable(dict(e.settings)) for name, e in sorted(suite.explainers.items())},
            "code": source_digest(), "libraries": {lib: library_version(lib) for lib in FINGERPRINT_LIBRARIES}}


@dataclass
class RunSummary:
    out: Path
    records: list[CellRecord]
    resumed: int
    ran: int
    rejected: int = 0
    nondeterministic: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[r.status] = out.get(r.status, 0) + 1
        return dict(sorted(out.items()))


def run_suite(suite: Suite, out: Path | str, *, jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT,
              resume: bool = True, progress: bool = True, warm: bool = True,
              rerun_sample: int = RERUN_SAMPLE, engine: Any = None, console: IO[str] | None = None) -> RunSummary:
    """Run every cell of ``suite`` (resuming a matching partial run) and write the outputs into ``out``.

    ``warm=False`` skips the parent warm-up (:func:`warm_up`); results are the same either way. ``rerun_sample``
    cells per explainer run twice to notice nondeterminism (0: none). ``engine`` runs the cells
    (``engines.LocalEngine(jobs)`` when ``None``; ``engines.make_engine("dask", ...)`` for a Dask cluster): the
    caller owns it and closes it; the log, resume and outputs are the same on every engine. ``console``: where the
    progress lines go (default ``sys.stderr``; :mod:`xaicheck.benchmarks.progress`)."""
    timeout = validate_timeout(timeout, "timeout")
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1; got {jobs}")
    if int(rerun_sample) < 0:
        raise ValueError(f"rerun_sample must be >= 0; got {rerun_sample}")
    if engine is None:
        engine = LocalEngine(jobs)
    out = Path(os.path.abspath(check_out_dir(out)))  # absolute once: a cell that changes directory changes nothing
    with out_lock(out):  # one run at a time per folder (re-entrant: the CLI already holds it)
        return _run_locked(suite, out, jobs=jobs, timeout=timeout, resume=resume, progress=progress, warm=warm,
                           rerun_sample=rerun_sample, engine=engine, console=console)


def _run_locked(suite: Suite, out: Path, *, jobs: int, timeout: float, resume: bool, progress: bool, warm: bool,
                rerun_sample: int, engine: Any, console: IO[str] | None) -> RunSummary:
    cells = suite.cells()
    ids = {c.id for c in cells}
    fp = fingerprint(suite)
    log = PartialLog(out)
    done = {k: r for k, r in log.load(fp).items() if k in ids} if resume else {}
    if log.rejected:
        print(f"xaicheck: {len(log.rejected)} partial-log record(s) rejected and re-run "
              f"({log.rejected[0]})", file=sys.stderr)
    started = prov.now_utc()
    log.start(fp, [done[c.id] for c in cells if c.id in done])
    pending = [i for i, c in enumerate(cells) if c.id not in done]
    costs = cell_costs(suite, cells, pending, out)
    todo = schedule(suite, cells, pending, out, cost=costs)
    records = dict(done)
    bar = (Progress(len(cells), len(done), {cells[i].id: c for i, c in costs.items()}, console=console)
           if progress else None)
    reruns: list[CellRecord] = []

    def emit(rec: CellRecord) -> None:
        log.append(rec)
        records[rec.cell_id] = rec
        if bar is not None:
            bar.update(rec)

    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    threads = torch.get_num_threads() if torch is not None else None
    blas = None
    warmed: dict[str, float] = {}
    shared = (log.path.parent / "attributions").resolve()
    try:
        limit_torch_threads()
        blas = limit_blas_threads()
        if todo:  # every unit of cells in a fresh forked process of its own (axioms.unit), on every engine
            shutil.rmtree(shared, ignore_errors=True)  # never an answer from an interrupted run of other code
            # what every cell starts from, fixed now: working directory, cache directory, the sharing directory
            warmed = engine.run(suite, cells, todo, timeout=timeout, emit=emit, warm=warm,
                                context=CellContext.capture(share_dir=shared))
        sample = determinism_sample([records[c.id] for c in cells], int(rerun_sample))
        if sample:
            index = {c.id: i for i, c in enumerate(cells)}
            if bar is not None:
                bar.note(f"re-running {len(sample)} cells to check determinism")
            again = sorted(sample, key=lambda cid: -records[cid].seconds)  # longest first, as the cells ran
            # no sharing directory: the determinism rerun computes every attribution afresh
            # and every cell alone: a unit's shared processes (axioms.unit) are part of what the rerun tests
            engine.run(suite, cells, [index[cid] for cid in again], timeout=timeout, emit=reruns.append, warm=False,
                       context=CellContext.capture(), alone=True)
    finally:
        if blas is not None:
            blas.restore_original_limits()
        log.close()
        if bar is not None:
            bar.close()
        if threads is not None:
            torch.set_num_threads(threads)
    ordered = [records[c.id] for c in cells]
    determinism = determinism_report(records, reruns)
    write_outputs(ordered, out, suite=suite, started=started, determinism=determinism,
                  extra={"timeout": timeout, "jobs": jobs, "engine": engine.describe(),
                         "cell_limits": recorded_limits(timeout),
                         "warm_up_seconds": {k: round(v, 3) for k, v in sorted(warmed.items())}})
    shutil.rmtree(log.path.parent, ignore_errors=True)
    return RunSummary(out, ordered, resumed=len(done), ran=len(todo), rejected=len(log.rejected),
                      nondeterministic=sorted(k for k, v in determinism.items() if v["nondeterministic"]))


def write_outputs(records: list[CellRecord], out: Path, *, suite: Suite, started: str,
                  extra: dict[str, Any] | None = None,
                  determinism: dict[str, dict[str, Any]] | None = None) -> None:
    """``scores.csv``, ``timings.csv``, ``evidence.jsonl``, ``counterexamples/``, ``determinism.csv`` (when a
    sample was re-run), ``provenance.json`` (with every case's facts, ``case_facts``, the run fingerprint's digest
    and scores.csv's sha256) and a ``.gitignore`` listing the machine-dependent outputs. Never writes through a
    link."""
    out = check_out_dir(out)
    write_scores(records, out / "scores.csv")
    write_timings(records, out / "timings.csv")
    write_evidence(records, out / "evidence.jsonl")
    _write_counterexamples(records, out / "counterexamples")
    info: dict[str, Any] = {}
    if determinism is not None:
        write_determinism(determinism, out / "determinism.csv")
        info["nondeterministic"] = sorted(k for k, v in determinism.items() if v["nondeterministic"])
    write_gitignore(out)
    seeds = {name: seeds_for(e, suite.name, suite.base_seed) for name, e in suite.explainers.items()}
    record = prov.collect(
        suite=suite.name, base_seed=suite.base_seed, seeds=seeds,
        explainers={n: e.describe() for n, e in suite.explainers.items()},
        checks={n: c.describe() for n, c in suite.checks.items()},
        cases={cid: case_facts(suite.checks[case.check], case).to_json() for cid, case in suite.cases.items()},
        started=started, finished=prov.now_utc(),
        extra={"cells": len(records), "fingerprint": fingerprint_digest(fingerprint(suite)),
               "scores_sha256": scores_digest(out / "scores.csv"), **info, **(extra or {})})
    prov.write_provenance(record, out)  # last: it records the digests of the files written above


def _write_counterexamples(records: list[CellRecord], directory: Path) -> None:
    import json

    from .escaping import md_escape

    directory = safe_dir(directory)
    remove_files(directory.glob("*.json"))
    failing = [r for r in sorted(records, key=lambda r: r.cell_id) if r.counterexample and r.passed is False]
    lines = ["# Counterexamples", "", f"{len(failing)} failing cells with a counterexample.", ""]
    for r in failing:
        slug = r.slug
        atomic_write_text(directory / f"{slug}.json", json.dumps(
            {"cell_id": r.cell_id, "message": r.message, "counterexample": r.counterexample},
            indent=2, sort_keys=True) + "\n")
        line = str(r.counterexample.get("line", "")).strip() or r.message
        lines.append(f"- {md_escape(r.cell_id)}: {md_escape(line)}")
    atomic_write_text(directory / "counterexamples.md", "\n".join(lines) + "\n")
