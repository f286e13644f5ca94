"""The Dask ``distributed`` engine: the runner's cells on a cluster, with the local engine's semantics and bytes.

``xaicheck run --engine dask`` starts a ``LocalCluster`` (``--jobs`` worker processes, one thread each);
``--scheduler tcp://host:8786`` uses a running cluster instead (``dask scheduler`` + ``dask worker``, or one made by
dask-jobqueue / dask-kubernetes / a cloud deployer). How it keeps the local engine's guarantees:

- **Same cells, same bytes.** The suite travels once per worker, pickled inside a ``WorkerPlugin`` (so a worker that
  joins or is restarted mid-run gets it too); each cell's record comes back as JSON and the *client* appends it to
  the run's resumable log through the runner's ``emit``, so the log, resume and outputs are the runner's own.
- **Isolation.** Every cell runs with :func:`~xaicheck.axioms.cell.run_cell`, as on the local engine: a fresh child
  forked from the warm Dask worker, in its own process group, killed with every descendant when it answers, dies or
  outlives ``timeout + KILL_GRACE``; its reply carries the cell id, pid and a nonce. A hang becomes ``timeout``, a
  ``sys.exit``/``os._exit``/signal becomes ``error`` with the reason, and the Dask worker lives on. A Dask worker
  that dies itself (killed, out of memory) costs the cell it ran: ``KilledWorker`` is recorded as ``error`` (a
  ``LocalCluster`` allows no retry; an external scheduler retries ``distributed.scheduler.allowed-failures`` times
  first); the cell's child gets ``SIGKILL`` when the worker thread that forked it dies (``PR_SET_PDEATHSIG``).
- **Warm-up once per worker.** The plugin's ``setup`` runs :func:`~xaicheck.benchmarks.warm_up.warm_up` in the
  worker process before its first cell, so the cells forked from it inherit shap's compiled kernels.
- **Longest first.** Cells are submitted in the runner's schedule order (``client.map`` gives the first key the
  highest priority), and a worker holds one cell at a time (``worker-saturation`` 1.0 on a ``LocalCluster``), so an
  expensive cell does not land last.
- **A scheduler that goes away** ends the run with :class:`~xaicheck.benchmarks.engines.EngineLost` after the
  finished cells are logged; cells lost in flight are not recorded, so a later run (any engine) runs them again.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import uuid
from typing import Any, Callable

from distributed import WorkerPlugin

from xaicheck.axioms import isolation
from xaicheck.axioms.base import Status
from xaicheck.axioms.cell import Cell, CellContext, CellRecord, failed_record, run_cell

from .engine_base import EngineError, EngineLost
from .threads import default_jobs, limit_blas_threads, limit_torch_threads
from .warm_up import WARM_UP_LIBRARIES, warm_process, warm_up

__all__ = ["DaskEngine", "SuiteOnWorker", "LOCAL_CLUSTER_CONFIG", "worker_lost_message"]

#: Dask settings of the ``LocalCluster`` the engine starts: a worker that dies fails its cell at once (no retry on
#: another worker), one cell per worker at a time (strict priority order), worker processes may fork (not daemonic),
#: no statistical profiler thread sampling the stacks of a process about to fork.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.daemon": False,
    "distributed.worker.profile.enabled": False,
}
_PREFIX = "xaicheck-"
#: Seconds to reach an external scheduler, and to close a client or cluster (a lost scheduler must not hang us).
CONNECT_TIMEOUT = 20.0
CLOSE_TIMEOUT = 10.0


def worker_lost_message(exc: BaseException) -> str:
    """The record's message for a cell whose Dask worker died: stable across runs (no address, no pid)."""
    return f"process died: the Dask worker running the cell was lost ({type(exc).__name__})"


class SuiteOnWorker(WorkerPlugin):
    """The suite held by each worker, its warm-up, and what every cell forked from the worker starts from.

    ``setup`` (once per worker, before its first cell): one torch and one BLAS thread in the worker process, the
    warm-up of the ``explainers`` of compiling libraries and the per-process memos, and the worker's
    :class:`~xaicheck.axioms.isolation.CellContext` (its working directory and cache directory, captured now).
    Each cell then runs with :func:`~xaicheck.axioms.cell.run_cell`: a fresh child forked from the warm worker."""

    def __init__(self, suite: Any, explainers: list[str], warm: bool) -> None:
        self.suite, self.explainers, self.warm = suite, explainers, warm
        self.spent: dict[str, float] = {}
        self.context: CellContext | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"suite": self.suite, "explainers": self.explainers, "warm": self.warm}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["suite"], state["explainers"], state["warm"])  # type: ignore[misc]

    def setup(self, worker: Any = None) -> None:
        proc = multiprocessing.current_process()
        if proc.daemon:  # a nanny's worker is daemonic by default, and a daemonic process may not fork children
            proc.daemon = False
        limit_torch_threads()
        self._blas = limit_blas_threads()
        warm_process(self.suite.explainers.values())
        if self.warm and self.explainers:
            self.spent = warm_up(self.suite.explainers[n] for n in self.explainers)
        self.context = CellContext.capture()

    def run(self, key: tuple[str, str, str, int], timeout: float, grace: float) -> CellRecord:
        """The cell ``key`` in a fresh child forked from this worker: its record (or recorded timeout/death)."""
        if not getattr(_THREAD, "limited", False):  # OpenMP's limit is per thread: set it where we fork
            limit_torch_threads()
            _THREAD.blas = limit_blas_threads()
            _THREAD.limited = True
        return run_cell(self.suite.cell(tuple(key)), timeout=timeout, context=self.context, grace=grace)


_THREAD = threading.local()


def _cell_task(key: tuple[str, str, str, int], *, plugin: str, timeout: float, grace: float) -> dict[str, Any]:
    """On a Dask worker: the cell ``key`` in a fresh child of the worker; its record as JSON."""
    from distributed import get_worker

    return get_worker().plugins[plugin].run(key, timeout, grace).to_json()


def _warm_spent(dask_worker: Any, plugin: str) -> dict[str, float]:
    state = dask_worker.plugins.get(plugin)
    return dict(state.spent) if state is not None else {}


class DaskEngine:
    """Runs cells on a Dask cluster: ``scheduler`` address, else a ``LocalCluster`` of ``workers`` processes."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None, *,
                 grace: float | None = None) -> None:
        if workers is not None and int(workers) < 1:
            raise ValueError(f"workers must be >= 1; got {workers}")
        self.scheduler, self.workers, self.grace = scheduler, workers, grace
        self._client: Any = None
        self._cluster: Any = None
        self._plugins: dict[int, tuple[str, Any, set[str]]] = {}

    # -- connection ----------------------------------------------------------------------------------------------
    def client(self) -> Any:
        """The ``distributed.Client`` (connected, or its ``LocalCluster`` started, on first use)."""
        if self._client is not None:
            return self._client
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            n = default_jobs() if self.workers is None else int(self.workers)
            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                             dashboard_address=":0", silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
            return self._client
        try:
            self._client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {self.scheduler!r}: "
                              f"{type(exc).__name__}: {exc}") from None
        return self._client

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"name": self.name,
                                "scheduler": "LocalCluster" if self.scheduler is None else "external"}
        if self._client is not None:
            try:
                info["workers"] = len(self._client.scheduler_info(n_workers=-1)["workers"])
            except Exception:  # noqa: BLE001 - informative only; the scheduler may be gone
                pass
        return info

    def close(self) -> None:
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        if client is not None and cluster is None:  # a shared cluster: tidy up
            self._drop_plugins(client)
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close(timeout=CLOSE_TIMEOUT)
                except Exception:  # noqa: BLE001 - closing after a lost scheduler may fail; nothing to keep
                    pass

    def __enter__(self) -> "DaskEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the run -------------------------------------------------------------------------------------------------
    def run(self, suite: Any, cells: list[Cell], todo: list[int], *, timeout: float,
            emit: Callable[[CellRecord], None], warm: bool, context: CellContext | None = None,
            alone: bool = False) -> dict[str, float]:
        """Submit ``todo`` in order (first = highest priority), ``emit`` each record as it completes. ``context`` is
        not sent: each worker's cells start from the worker's own (captured at its setup); nothing is shared. Every
        cell runs alone (``alone`` changes nothing here)."""
        from distributed import as_completed

        if not todo:
            return {}
        client = self.client()
        grace = isolation.KILL_GRACE if self.grace is None else float(self.grace)
        batch = f"{_PREFIX}{uuid.uuid4().hex[:12]}"
        pending: dict[Any, int] = {}
        try:
            try:
                plugin, spent = self._plugin(client, suite, [cells[i] for i in todo], warm)
                futures = client.map(_cell_task, [cells[i].key for i in todo], plugin=plugin, timeout=timeout,
                                     grace=grace, key=[f"{batch}-{i}" for i in todo], pure=False)
            except (OSError, TimeoutError) as exc:
                raise self._lost(exc) from None
            pending = dict(zip(futures, todo))
            done = as_completed(list(pending))
            for fut in done:
                if fut.status in ("lost", "pending") and client.status == "running":
                    done.add(fut)  # finished, but its result was on a worker that died: the scheduler recomputes it
                    continue
                idx = pending.pop(fut)
                emit(self._record(suite, cells[idx], fut))
        finally:
            self._cancel(client, list(pending))
        return spent

    def _plugin(self, client: Any, suite: Any, todo: list[Cell], warm: bool) -> tuple[str, dict[str, float]]:
        """The plugin holding ``suite`` on the workers (registered once per suite and engine, warming up the
        ``WARM_UP_LIBRARIES`` explainers of ``todo``), and the warm-up seconds (slowest worker; ``{}`` if reused)."""
        names = sorted({c.explainer.name for c in todo if c.explainer.library in WARM_UP_LIBRARIES})
        known = self._plugins.get(id(suite))
        if known is not None and known[1] is suite and (not warm or set(names) <= known[2]):
            return known[0], {}
        self._drop_plugins(client)  # one suite on the workers at a time (a restarted worker sets up every plugin)
        name = f"{_PREFIX}{uuid.uuid4().hex[:12]}"
        client.register_plugin(SuiteOnWorker(suite, names if warm else [], warm), name=name)
        self._plugins[id(suite)] = (name, suite, set(names) if warm else set())
        spent: dict[str, float] = {}
        if warm and names:
            for per_worker in client.run(_warm_spent, plugin=name).values():
                for k, v in per_worker.items():
                    spent[k] = max(spent.get(k, 0.0), v)
        return name, spent

    def _record(self, suite: Any, cell: Cell, fut: Any) -> CellRecord:
        from distributed import KilledWorker

        status = fut.status
        if status == "finished":
            try:
                return CellRecord.from_json(fut.result(timeout=60))
            except Exception as exc:  # noqa: BLE001 - the result could not be fetched: the scheduler is gone
                raise self._lost(exc) from None
        if status == "error":
            exc = fut.exception(timeout=60)
            if isinstance(exc, KilledWorker):
                return failed_record(cell, Status.ERROR, worker_lost_message(exc))
            return failed_record(cell, Status.ERROR, f"{type(exc).__name__}: {exc}")
        raise self._lost(None)  # cancelled or lost: not this cell's outcome

    def _lost(self, exc: BaseException | None) -> EngineLost:
        why = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        return EngineLost(f"the Dask scheduler went away mid-run{why}; the finished cells are in the run's log: "
                          "rerun the same command (any engine) to resume")

    def _drop_plugins(self, client: Any) -> None:
        plugins, self._plugins = [p[0] for p in self._plugins.values()], {}
        if client.status != "running":
            return
        for name in plugins:
            try:
                client.unregister_worker_plugin(name)
            except Exception:  # noqa: BLE001 - best effort: no cell process outlives its cell anyway
                pass

    @staticmethod
    def _cancel(client: Any, pending: list[Any]) -> None:
        """Cancel what did not finish (best effort: the scheduler may be gone)."""
        if pending and client.status == "running":
            try:
                client.cancel(pending)
            except Exception:  # noqa: BLE001 - cleanup after an error; the original error is what matters
                pass
