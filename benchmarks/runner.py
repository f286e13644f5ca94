"""Run every cell of a suite, each isolated, in parallel, resumable; write sorted deterministic outputs.

A cell is a pure function of (explainer, case, seed): ``check.run(explainer, case, seed)`` under a per-cell timeout
(``setitimer``/SIGALRM inside the process running it -> ``Status.TIMEOUT``). ``run`` never raises; anything that
escapes anyway is recorded as an error with its traceback. Workers are forked processes (``torch`` limited to one
thread); a worker that dies or ignores the alarm (stuck in C code) is killed after ``timeout + grace`` and replaced,
and its cell is recorded as a timeout (or error). Finished cells are appended to ``DIR/.partial/cells.jsonl`` one
fsync'ed line at a time, so an interrupted run resumes where it stopped. Serial and parallel runs give the same rows.
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
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable

from axioms.base import CheckResult, Status

from . import provenance as prov
from .records import CellRecord, PartialLog, jsonable, write_evidence, write_scores, write_timings
from .suite import Cell, Suite, seeds_for

__all__ = ["DEFAULT_TIMEOUT", "CellTimeout", "RunSummary", "run_cell", "run_suite", "write_outputs",
           "fingerprint", "default_jobs"]

DEFAULT_TIMEOUT = 120.0
#: Extra seconds the parent waits beyond the in-worker alarm before killing a stuck worker.
KILL_GRACE = 10.0


class CellTimeout(BaseException):
    """Raised by the alarm inside a cell. A ``BaseException`` so a check's ``except Exception`` cannot swallow it."""


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _on_alarm(signum: int, frame: Any) -> None:
    raise CellTimeout()


def _timeout_message(timeout: float) -> str:
    return f"timed out after {timeout:g} s"


def _record(cell: Cell, category: str, result: CheckResult, seconds: float) -> CellRecord:
    cx = result.counterexample
    return CellRecord(
        cell_id=cell.id, explainer=cell.explainer, check=cell.check, case=cell.case, category=category,
        seed=cell.seed, status=str(result.status), score=result.score, passed=result.passed,
        message=" ".join(str(result.message).split()), evidence=jsonable(dict(result.evidence)),
        counterexample=jsonable(cx.to_json()) if cx is not None else None, traceback=result.traceback,
        seconds=round(seconds, 6))


def run_cell(suite: Suite, cell: Cell, timeout: float = DEFAULT_TIMEOUT) -> CellRecord:
    """Run one cell in this process, with a SIGALRM timeout (main thread only; ``timeout <= 0`` disables it)."""
    check, explainer, case = suite.check_of(cell), suite.explainer_of(cell), suite.case_of(cell)
    use_alarm = (timeout > 0 and hasattr(signal, "setitimer")
                 and threading.current_thread() is threading.main_thread())
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    start = time.perf_counter()
    try:
        try:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, timeout)
            result = check.run(explainer, case, cell.seed)
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except CellTimeout:
        result = CheckResult(Status.TIMEOUT, message=_timeout_message(timeout))
    except Exception as exc:  # noqa: BLE001 - a check whose run() raised despite the contract
        result = CheckResult(Status.ERROR, message=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, previous)
    if not isinstance(result, CheckResult):
        result = CheckResult(Status.ERROR, message=f"{check.name}.run returned {type(result).__name__}")
    return _record(cell, check.category, result, time.perf_counter() - start)


# ----------------------------------------------------------------------------------------------- worker pool
_STATE: dict[str, Any] = {}


def _limit_torch_threads() -> None:
    """One intra-op thread: workers do not oversubscribe cores, and serial and parallel runs compute alike."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.set_num_threads(1)


def _worker_main(conn: Connection, timeout: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _limit_torch_threads()
    suite, cells = _STATE["suite"], _STATE["cells"]
    while True:
        try:
            idx = conn.recv()
        except EOFError:
            return
        if idx is None:
            return
        rec = run_cell(suite, cells[idx], timeout)
        conn.send((idx, rec.to_json()))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: int | None = None
    since: float = 0.0


def _spawn(ctx: Any, timeout: float) -> _Worker:
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_worker_main, args=(child, timeout), daemon=True)
    proc.start()
    child.close()
    return _Worker(proc, parent)


def _kill(worker: _Worker) -> None:
    if worker.process.is_alive():
        worker.process.kill()
    worker.process.join(timeout=5)
    worker.conn.close()


def _run_parallel(suite: Suite, cells: list[Cell], todo: list[int], jobs: int, timeout: float,
                  emit: Callable[[CellRecord], None]) -> None:
    ctx = multiprocessing.get_context("fork")
    _STATE.update(suite=suite, cells=cells)
    queue = deque(todo)
    workers = [_spawn(ctx, timeout) for _ in range(min(jobs, len(queue)))]
    hard_limit = timeout + KILL_GRACE if timeout > 0 else float("inf")
    try:
        while queue or any(w.task is not None for w in workers):
            for w in workers:
                if w.task is None and queue:
                    w.task, w.since = queue.popleft(), time.monotonic()
                    w.conn.send(w.task)
            busy = {w.conn: w for w in workers if w.task is not None}
            for conn in wait(list(busy), timeout=0.5):
                w = busy[conn]
                try:
                    idx, obj = conn.recv()
                except (EOFError, OSError):
                    w.process.join(timeout=5)
                    code = w.process.exitcode
                    _replace(workers, w, ctx, timeout)
                    emit(_failed(suite, cells[w.task], Status.ERROR, f"worker process died (exit code {code})"))
                    continue
                w.task = None
                emit(CellRecord.from_json(obj))
            now = time.monotonic()
            for w in list(workers):
                if w.task is not None and now - w.since > hard_limit:
                    idx = w.task
                    _replace(workers, w, ctx, timeout)
                    emit(_failed(suite, cells[idx], Status.TIMEOUT, _timeout_message(timeout), now - w.since))
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

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[r.status] = out.get(r.status, 0) + 1
        return dict(sorted(out.items()))


def run_suite(suite: Suite, out: Path | str, *, jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT,
              resume: bool = True, progress: bool = True) -> RunSummary:
    """Run every cell of ``suite`` (resuming a matching partial run) and write the outputs into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1; got {jobs}")
    cells = suite.cells()
    ids = {c.id for c in cells}
    fp = fingerprint(suite)
    log = PartialLog(out)
    done = {k: r for k, r in log.load(fp).items() if k in ids} if resume else {}
    started = prov.now_utc()
    log.start(fp, [done[c.id] for c in cells if c.id in done])
    todo = [i for i, c in enumerate(cells) if c.id not in done]
    records = dict(done)
    bar = _progress(len(cells), len(done), progress)

    def emit(rec: CellRecord) -> None:
        log.append(rec)
        records[rec.cell_id] = rec
        if bar is not None:
            bar.set_postfix_str(f"{rec.explainer} {rec.check}", refresh=False)
            bar.update(1)

    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    try:
        if jobs == 1 or len(todo) <= 1:
            _limit_torch_threads()
            for i in todo:
                emit(run_cell(suite, cells[i], timeout))
        else:
            _run_parallel(suite, cells, todo, jobs, timeout, emit)
    finally:
        log.close()
        if bar is not None:
            bar.close()
        if threads is not None:
            torch.set_num_threads(threads)
    ordered = [records[c.id] for c in cells]
    write_outputs(ordered, out, suite=suite, started=started, extra={"timeout": timeout, "jobs": jobs})
    shutil.rmtree(log.path.parent, ignore_errors=True)
    return RunSummary(out, ordered, resumed=len(done), ran=len(todo))


def _progress(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, file=sys.stderr, unit="cell", dynamic_ncols=True)


def write_outputs(records: list[CellRecord], out: Path, *, suite: Suite, started: str,
                  extra: dict[str, Any] | None = None) -> None:
    """``scores.csv``, ``timings.csv``, ``evidence.jsonl``, ``counterexamples/`` and ``provenance.json``."""
    out = Path(out)
    write_scores(records, out / "scores.csv")
    write_timings(records, out / "timings.csv")
    write_evidence(records, out / "evidence.jsonl")
    _write_counterexamples(records, out / "counterexamples")
    seeds = {name: seeds_for(e, suite.name, suite.base_seed) for name, e in suite.explainers.items()}
    record = prov.collect(
        suite=suite.name, base_seed=suite.base_seed, seeds=seeds,
        explainers={n: e.describe() for n, e in suite.explainers.items()},
        checks={n: c.describe() for n, c in suite.checks.items()},
        started=started, finished=prov.now_utc(), extra={"cells": len(records), **(extra or {})})
    prov.write_provenance(record, out)


def _write_counterexamples(records: list[CellRecord], directory: Path) -> None:
    import json

    if directory.exists():
        for old in directory.glob("*.json"):
            old.unlink()
    failing = [r for r in sorted(records, key=lambda r: r.cell_id) if r.counterexample and r.passed is False]
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["# Counterexamples", "", f"{len(failing)} failing cells with a counterexample.", ""]
    for r in failing:
        slug = Cell(r.explainer, r.check, r.case, r.seed).slug
        (directory / f"{slug}.json").write_text(
            json.dumps({"cell_id": r.cell_id, "message": r.message, "counterexample": r.counterexample},
                       indent=2, sort_keys=True) + "\n", encoding="utf-8")
        line = str(r.counterexample.get("line", "")).strip() or r.message
        lines.append(f"- `{r.cell_id}`: {line}")
    (directory / "counterexamples.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
