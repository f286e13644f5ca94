"""Run every cell of a suite, each isolated, in parallel, resumable; write sorted deterministic outputs.

A cell is a pure function of (explainer, case, seed): ``check.run(explainer, case, seed)`` under a per-cell timeout
(``setitimer``/SIGALRM inside the process running it -> ``Status.TIMEOUT``). ``run`` never raises; anything that
escapes anyway is recorded as an error with its traceback. Workers are forked processes with one thread each for
``torch`` and for BLAS/OpenMP (``threadpoolctl``; oversubscribed OpenBLAS pools made small predicts 100x slower under
load); a worker that dies or ignores the alarm (stuck in C code) is killed after ``timeout + grace`` and replaced,
and its cell is recorded as a timeout (or error). Before the first cell, explainers of libraries that compile code
on first use (``WARM_UP_LIBRARIES``: shap's numba kernels, ~6-15 s) explain a tiny model once in the parent, so
forked workers inherit the compiled code instead of each compiling it, and no cell's time includes a compile.
Finished cells are appended to ``DIR/.partial/cells.jsonl`` one fsync'ed line at a time, so an interrupted run
resumes where it stopped; each line read back is validated and checked against a digest (an edited line's cell runs
again). Serial and parallel runs give the same rows.

Every path isolates: ``--jobs 1`` is a pool of one worker, so an explainer that calls ``sys.exit``/``os._exit``,
dies by a signal, hangs or swallows the alarm costs its cell (recorded as error/timeout with the reason), never the
run, and the record is logged so a resume does not run it again. :func:`run_cell_isolated` (one forked child per
cell) serves the in-process pytest plugin. Cells are scheduled longest first (the previous run's ``timings.csv`` in
``--out`` when there is one, else a cost estimate) so an expensive cell does not land last. After the cells, a
deterministic sample of each explainer's cells (``rerun_sample`` per explainer) runs again in another worker: an
explainer whose sample differs is flagged nondeterministic in ``determinism.csv`` and ``provenance.json``.
The pool is the ``local`` engine; ``run_suite(engine=...)`` hands the cells to another (``engines``, ``engine_dask``:
a Dask cluster) with the same log, resume and outputs.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, Iterator

from xaicheck.axioms.base import CheckResult, Status
from xaicheck.explainers import _attribution_cache as attribution_cache
from xaicheck.explainers.base import applicability
from xaicheck.axioms.isolation import (KILL_GRACE, Isolated, alarm, call_isolated, died_message, timeout_message,
                                       validate_timeout)
from xaicheck.core.errors import CellTimeout

from . import provenance as prov
from .case_facts import case_facts
from .records import (CellRecord, PartialLog, fingerprint_digest, jsonable, scores_digest, write_evidence, write_scores,
                      write_timings)
from .determinism import RERUN_SAMPLE, determinism_report, determinism_sample, write_determinism
from .safe_io import atomic_write_text, check_out_dir, remove_files, safe_dir, write_gitignore
from .scheduling import schedule
from .suite import Cell, Suite, seeds_for

__all__ = ["DEFAULT_TIMEOUT", "WARM_UP_LIBRARIES", "RERUN_SAMPLE", "CellTimeout", "RunSummary", "run_cell",
           "run_cell_isolated", "run_suite", "write_outputs", "fingerprint", "default_jobs", "warm_up",
           "schedule", "determinism_sample", "one_thread", "KILL_GRACE"]

DEFAULT_TIMEOUT = 120.0
#: Libraries whose explainers compile code (numba) on first use: warmed up once in the parent before forking.
WARM_UP_LIBRARIES: tuple[str, ...] = ("shap",)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


_timeout_message = timeout_message


def _record(cell: Cell, category: str, result: CheckResult, seconds: float) -> CellRecord:
    cx = result.counterexample
    return CellRecord(
        cell_id=cell.id, explainer=cell.explainer, check=cell.check, case=cell.case, category=category,
        seed=cell.seed, status=str(result.status), score=result.score, passed=result.passed,
        message=" ".join(str(result.message).split()), evidence=jsonable(dict(result.evidence)),
        counterexample=jsonable(cx.to_json()) if cx is not None else None, traceback=result.traceback,
        seconds=round(seconds, 6))


def run_cell(suite: Suite, cell: Cell, timeout: float = DEFAULT_TIMEOUT) -> CellRecord:
    """Run one cell in this process, with a SIGALRM timeout (main thread only; ``timeout <= 0`` disables it).

    ``sys.exit`` inside the cell is recorded as an error; other ways to end a process (``os._exit``, signals) need
    a separate process: :func:`run_cell_isolated` or the pool."""
    check, explainer, case = suite.check_of(cell), suite.explainer_of(cell), suite.case_of(cell)
    attribution_cache.begin_cell()
    start = time.perf_counter()
    try:
        with alarm(timeout):
            result = check.run(explainer, case, cell.seed)
    except CellTimeout:
        result = CheckResult(Status.TIMEOUT, message=_timeout_message(timeout))
    except SystemExit as exc:
        result = CheckResult(Status.ERROR, message=f"SystemExit: sys.exit({exc.code!r}) inside the cell",
                             traceback=traceback.format_exc())
    except Exception as exc:  # noqa: BLE001 - a check whose run() raised despite the contract
        result = CheckResult(Status.ERROR, message=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    if not isinstance(result, CheckResult):
        result = CheckResult(Status.ERROR, message=f"{check.name}.run returned {type(result).__name__}")
    return _record(cell, check.category, result, time.perf_counter() - start)


def run_cell_isolated(suite: Suite, cell: Cell, timeout: float = DEFAULT_TIMEOUT) -> CellRecord:
    """:func:`run_cell` in a forked child: a cell that exits, dies or hangs is recorded, this process goes on."""
    start = time.perf_counter()
    out = call_isolated(lambda: run_cell(suite, cell, timeout), timeout=timeout)
    if isinstance(out, Isolated):
        return _failed(suite, cell, Status(out.status), out.message, time.perf_counter() - start)
    return out


# ----------------------------------------------------------------------------------------------- worker pool
_STATE: dict[str, Any] = {}


def _limit_torch_threads() -> None:
    """One intra-op thread: workers do not oversubscribe cores, and serial and parallel runs compute alike."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.set_num_threads(1)


def _limit_blas_threads() -> Any:
    """One BLAS/OpenMP thread in this process (``threadpoolctl``); returns the limiter (``None`` if unavailable)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return None
    return threadpool_limits(limits=1)


@contextmanager
def one_thread() -> Iterator[None]:
    """One torch and one BLAS/OpenMP thread in this process while the block runs (then restored): a process that
    forks workers must not hold a thread pool the children would inherit half of."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    threads = torch.get_num_threads() if torch is not None else None
    blas = None
    try:
        _limit_torch_threads()
        blas = _limit_blas_threads()
        yield
    finally:
        if blas is not None:
            blas.restore_original_limits()
        if threads is not None:
            torch.set_num_threads(threads)


def _warm_up_model() -> Any:
    from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

    return FunctionModel("xaicheck_warm_up", "warm_up", lambda X: X[:, 0] * X[:, 1] + X[:, 2], ("a", "b", "c"),
                         GroundTruth(relevant=frozenset({0, 1, 2})))


def warm_up(suite: Suite, cells: list[Cell] | None = None) -> dict[str, float]:
    """Let each explainer of a ``WARM_UP_LIBRARIES`` library that has a cell to run explain a 3-feature model once.

    Best effort: an explainer that cannot explain a plain callable is skipped and any error is ignored (the real
    cells record their own). Returns ``{explainer: seconds}`` for the explainers that ran."""
    from xaicheck.explainers import _field

    _field.warm()  # the zygote explainers run in (issue 23): started here, shared by every worker forked after
    names = {c.explainer for c in cells} if cells is not None else set(suite.explainers)
    todo = [e for n, e in sorted(suite.explainers.items()) if n in names and e.library in WARM_UP_LIBRARIES]
    if not todo:
        return {}
    import numpy as np

    model = _warm_up_model()
    rng = np.random.default_rng(0)
    X, background = rng.uniform(size=(2, 3)), rng.uniform(size=(8, 3))
    spent: dict[str, float] = {}
    state = np.random.get_state()  # a warmed-up run draws exactly what a cold one does
    for exp in todo:
        try:
            if not applicability(exp, model)[0]:
                continue
            start = time.perf_counter()
            exp.explain(model, X, baseline=np.zeros(3), background=background, seed=0)
            spent[exp.name] = time.perf_counter() - start
        except Exception:  # noqa: BLE001 - warm-up is an optimisation, never a failure
            continue
        finally:
            np.random.set_state(state)
    return spent


def _worker_main(conn: Connection, timeout: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _limit_torch_threads()
    _limit_blas_threads()
    suite, cells = _STATE["suite"], _STATE["cells"]
    while True:
        try:
            idx = conn.recv()
        except EOFError:
            return
        if idx is None:
            return
        try:
            rec = run_cell(suite, cells[idx], timeout)
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt & co. raised by the cell itself (SIGINT is ignored here)
            rec = _failed(suite, cells[idx], Status.ERROR, f"{type(exc).__name__} raised inside the cell")
        conn.send((idx, rec.to_json()))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: int | None = None
    since: float = 0.0
    cold: bool = False  # forked before the warm-up finished: gets no cell of a warm-up library


def _spawn(ctx: Any, timeout: float, cold: bool = False) -> _Worker:
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_worker_main, args=(child, timeout), daemon=True)
    proc.start()
    child.close()
    return _Worker(proc, parent, cold=cold)


def _kill(worker: _Worker) -> None:
    if worker.process.is_alive():
        worker.process.kill()
    worker.process.join(timeout=5)
    worker.conn.close()


class _WarmUp:
    """The parent's warm-up, run in a thread while one cold worker (forked before it) takes the other cells.

    Nothing is forked while the thread runs; the other workers are forked once it has finished, so they inherit
    the compiled code."""

    def __init__(self, suite: Suite, cells: list[Cell]) -> None:
        self.explainers = {c.explainer for c in cells if suite.explainers[c.explainer].library in WARM_UP_LIBRARIES}
        self.spent: dict[str, float] = {}
        self._thread: threading.Thread | None = None
        if self.explainers:
            self._thread = threading.Thread(target=self._run, args=(suite, cells), name="xaicheck-warm-up",
                                            daemon=True)

    def _run(self, suite: Suite, cells: list[Cell]) -> None:
        self.spent = warm_up(suite, cells)

    def start(self) -> None:
        if self._thread is not None:
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()


def _run_parallel(suite: Suite, cells: list[Cell], todo: list[int], jobs: int, timeout: float,
                  emit: Callable[[CellRecord], None], warm: "_WarmUp | None" = None) -> None:
    ctx = multiprocessing.get_context("fork")
    _STATE.update(suite=suite, cells=cells)
    queue = deque(todo)
    n_workers = min(jobs, len(queue))
    overlap = warm is not None and warm.explainers and n_workers > 1
    if warm is not None and not overlap:
        warm.start()
        warm.join()
    workers = [_spawn(ctx, timeout, cold=True)] if overlap else [_spawn(ctx, timeout) for _ in range(n_workers)]
    if overlap:
        warm.start()
    hard_limit = timeout + KILL_GRACE if timeout > 0 else float("inf")
    cold_names = warm.explainers if overlap else set()

    def next_task(w: _Worker) -> int | None:
        if not w.cold:
            return queue.popleft() if queue else None
        for k, idx in enumerate(queue):  # a cold worker takes the first cell no warm-up library is needed for
            if cells[idx].explainer not in cold_names:
                del queue[k]
                return idx
        return None

    try:
        while queue or any(w.task is not None for w in workers):
            if overlap and not warm.running and (len(workers) < n_workers or any(w.cold for w in workers)):
                warm.join()  # warm-up done: fork the warm workers, retire idle cold ones
                for w in [w for w in workers if w.cold and w.task is None]:
                    _replace(workers, w, ctx, timeout)
                while len(workers) < n_workers:
                    workers.append(_spawn(ctx, timeout))
            for w in workers:
                if w.task is None and queue:
                    idx = next_task(w)
                    if idx is not None:
                        w.task, w.since = idx, time.monotonic()
                        w.conn.send(w.task)
            busy = {w.conn: w for w in workers if w.task is not None}
            if not busy:  # only a cold worker, waiting for the warm-up to finish
                time.sleep(0.05)
                continue
            for conn in wait(list(busy), timeout=0.5):
                w = busy[conn]
                try:
                    idx, obj = conn.recv()
                except (EOFError, OSError):
                    w.process.join(timeout=5)
                    code = w.process.exitcode
                    task = w.task
                    _retire(workers, w, ctx, timeout, warm)
                    emit(_failed(suite, cells[task], Status.ERROR, died_message(code)))
                    continue
                w.task = None
                emit(CellRecord.from_json(obj))
            now = time.monotonic()
            for w in list(workers):
                if w.task is not None and now - w.since > hard_limit:
                    idx = w.task
                    _retire(workers, w, ctx, timeout, warm)
                    emit(_failed(suite, cells[idx], Status.TIMEOUT,
                                 _timeout_message(timeout) + " (did not stop at the alarm: killed)",
                                 now - w.since))
        if warm is not None:
            warm.join()  # already finished: cells of its libraries waited for it (on Ctrl-C the daemon is left)
    finally:
        for w in workers:
            try:
                w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in workers:
            w.process.join(timeout=2)
            _kill(w)
        _STATE.clear()


def _retire(workers: list[_Worker], w: _Worker, ctx: Any, timeout: float, warm: "_WarmUp | None") -> None:
    """Kill ``w``; replace it now, or (no fork while the warm-up thread runs) once the warm-up has finished."""
    if warm is not None and warm.running:
        _kill(w)
        workers.remove(w)
    else:
        _replace(workers, w, ctx, timeout)


def _replace(workers: list[_Worker], w: _Worker, ctx: Any, timeout: float) -> None:
    _kill(w)
    workers[workers.index(w)] = _spawn(ctx, timeout)


def _failed(suite: Suite, cell: Cell, status: Status, message: str, seconds: float = 0.0) -> CellRecord:
    return _record(cell, suite.check_of(cell).category, CheckResult(status, message=message), seconds)


# ----------------------------------------------------------------------------------------------- the run
def fingerprint(suite: Suite) -> dict[str, Any]:
    """What must match for a partial log to be resumed: suite, base seed, versions of xaicheck and checks."""
    return {"suite": suite.name, "base_seed": suite.base_seed, "xaicheck_version": prov.xaicheck_version(),
            "checks": {name: check.version for name, check in sorted(suite.checks.items())},
            "explainer_settings": {name: jsonable(dict(e.settings)) for name, e in sorted(suite.explainers.items())}}


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
              rerun_sample: int = RERUN_SAMPLE, engine: Any = None) -> RunSummary:
    """Run every cell of ``suite`` (resuming a matching partial run) and write the outputs into ``out``.

    ``warm=False`` skips the parent warm-up (:func:`warm_up`); results are the same either way. ``rerun_sample``
    cells per explainer run twice to notice nondeterminism (0: none). ``engine`` runs the cells
    (``engines.LocalEngine(jobs)`` when ``None``; ``engines.make_engine("dask", ...)`` for a Dask cluster): the
    caller owns it and closes it; the log, resume and outputs are the same on every engine."""
    timeout = validate_timeout(timeout, "timeout")
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1; got {jobs}")
    if int(rerun_sample) < 0:
        raise ValueError(f"rerun_sample must be >= 0; got {rerun_sample}")
    if engine is None:
        from .engines import LocalEngine

        engine = LocalEngine(jobs)
    out = check_out_dir(out)
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
    todo = schedule(suite, cells, [i for i, c in enumerate(cells) if c.id not in done], out)
    records = dict(done)
    bar = _progress(len(cells), len(done), progress)
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
    try:
        _limit_torch_threads()
        blas = _limit_blas_threads()
        if todo:  # every path runs cells in worker processes (jobs=1: a pool of one)
            shared = log.path.parent / "attributions"
            shutil.rmtree(shared, ignore_errors=True)  # never an answer from an interrupted run of other code
            attribution_cache.activate(shared)  # inherited by the forked workers (never by remote Dask workers)
            warmed = engine.run(suite, cells, todo, timeout=timeout, emit=emit, warm=warm)
        attribution_cache.deactivate()  # the determinism rerun computes every attribution afresh
        sample = determinism_sample([records[c.id] for c in cells], int(rerun_sample))
        if sample:
            index = {c.id: i for i, c in enumerate(cells)}
            if bar is not None:
                bar.note(f"re-running {len(sample)} cells to check determinism")
            again = sorted(sample, key=lambda cid: -records[cid].seconds)  # longest first, as the cells ran
            engine.run(suite, cells, [index[cid] for cid in again], timeout=timeout, emit=reruns.append, warm=False)
    finally:
        attribution_cache.deactivate()
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
                         "warm_up_seconds": {k: round(v, 3) for k, v in sorted(warmed.items())}})
    shutil.rmtree(log.path.parent, ignore_errors=True)
    return RunSummary(out, ordered, resumed=len(done), ran=len(todo), rejected=len(log.rejected),
                      nondeterministic=sorted(k for k, v in determinism.items() if v["nondeterministic"]))


class _Progress:
    """A tqdm bar on a terminal; elsewhere (CI logs, pipes) one line every 30 s or 10% of the cells."""

    def __init__(self, total: int, initial: int) -> None:
        self.total, self.n = total, initial
        self.start = self.last = time.monotonic()
        self.last_n = initial
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, file=sys.stderr, unit="cell", dynamic_ncols=True)

    def update(self, rec: CellRecord) -> None:
        self.n += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{rec.explainer} {rec.check}", refresh=False)
            self.bar.update(1)
            return
        now = time.monotonic()
        if now - self.last >= 30 or self.n - self.last_n >= max(1, self.total // 10) or self.n == self.total:
            self.last, self.last_n = now, self.n
            print(f"xaicheck: {self.n}/{self.total} cells ({now - self.start:.0f} s; last {rec.cell_id}: "
                  f"{rec.status})", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(f"xaicheck: {text}", file=sys.stderr)
        else:
            print(f"xaicheck: {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _progress(total: int, initial: int, enabled: bool) -> "_Progress | None":
    return _Progress(total, initial) if enabled else None


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
    prov.write_provenance(record, out)


def _write_counterexamples(records: list[CellRecord], directory: Path) -> None:
    import json

    from .escaping import md_escape

    directory = safe_dir(directory)
    remove_files(directory.glob("*.json"))
    failing = [r for r in sorted(records, key=lambda r: r.cell_id) if r.counterexample and r.passed is False]
    lines = ["# Counterexamples", "", f"{len(failing)} failing cells with a counterexample.", ""]
    for r in failing:
        slug = Cell(r.explainer, r.check, r.case, r.seed).slug
        atomic_write_text(directory / f"{slug}.json", json.dumps(
            {"cell_id": r.cell_id, "message": r.message, "counterexample": r.counterexample},
            indent=2, sort_keys=True) + "\n")
        line = str(r.counterexample.get("line", "")).strip() or r.message
        lines.append(f"- {md_escape(r.cell_id)}: {md_escape(line)}")
    atomic_write_text(directory / "counterexamples.md", "\n".join(lines) + "\n")
