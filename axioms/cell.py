"""One cell type and one way to run it: :class:`Cell` and :func:`run_cell`, for ``xaicheck run`` (every engine),
``check_explainer``, ``parametrize_with_checks`` and the pytest plugin.

A cell is an explainer judged by a check on one case with one seed; its record (:class:`CellRecord`) is a pure
function of those four. :func:`run_cell` is the only place a cell is run, and the only place its guards live:

- **Applicability** is decided from tags in the caller (``Check.applies``): a not-applicable cell is recorded without
  a process, exactly as ``Check.run`` would record it.
- **Isolation**: an applicable cell runs in a fresh forked child (:class:`~xaicheck.axioms.isolation.Forked`: its
  own process group, killed with every descendant when the cell ends; a reply carrying the cell id, the child's pid
  and a nonce), starting from the caller's :class:`~xaicheck.axioms.isolation.CellContext` (working directory,
  cache directory, the run's attribution-sharing directory), so nothing one cell does reaches another. A run's local
  engine groups up to 64 cells of one explainer and seed into one child (:mod:`xaicheck.axioms.unit`), each
  starting from that context, the forked random states and a rewound field process.
- **Timeout**: ``SIGALRM`` after ``timeout`` s in the child (``timeout``), a kill ``grace`` s later if it ignores it
  (``timeout`` with "(did not stop at the alarm: killed)"); 0 disables both.
- **Type guards**: ``sys.exit`` inside the cell, anything raised, ``os._exit`` or a fatal signal (``error`` with the
  reason), a ``run`` that returns something other than a ``CheckResult`` (``error``).

:func:`start_cell` is the same cell started without waiting, for a pool that runs several at once (the local
engine); ``isolate=False`` runs the cell in this process (same guards, no fork: for callers that already are a
sandbox, and for tests of the cache).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xaicheck.core.errors import CellTimeout
from xaicheck.explainers import _attribution_cache

from .base import Case, Check, CheckResult, Status
from .cell_record import CellRecord, cell_id, cell_slug, record_of
from xaicheck.core.limits import CPULimitExceeded

from .isolation import CAN_FORK, CellContext, Forked, Isolated, alarm, died_message, timeout_message, validate_timeout

if TYPE_CHECKING:
    from xaicheck.explainers.base import Explainer

__all__ = ["Cell", "CellRecord", "CellContext", "RunningCell", "run_cell", "start_cell", "not_applicable",
           "failed_record", "DEFAULT_TIMEOUT"]

#: Seconds one cell may take (``xaicheck run``, ``check_explainer``, ``parametrize_with_checks``).
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True, eq=False)
class Cell:
    """One benchmark cell: ``explainer`` judged by ``check`` on ``case`` with ``seed``.

    expected: the reason the explainer is expected to fail this cell (``None`` if it should pass); show_seed: the
    pytest id names the seed (a run with several seeds). Equal, hashed and ordered by
    ``(explainer, check, case, seed)`` names."""

    explainer: "Explainer"
    check: Check
    case: Case
    seed: int = 0
    expected: str | None = None
    show_seed: bool = False

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.explainer.name, self.check.name, self.case.name, int(self.seed))

    @property
    def id(self) -> str:
        """``explainer/check/case/sSEED``: the record's id, stable across runs and machines."""
        return cell_id(*self.key)

    @property
    def test_id(self) -> str:
        """``<explainer>-<check>-<case>`` (``-seed<N>`` when a run uses several seeds): the pytest id."""
        base = f"{self.explainer.name}-{self.check.name}-{self.case.name}"
        return f"{base}-seed{self.seed}" if self.show_seed else base

    @property
    def case_id(self) -> str:
        return f"{self.check.name}/{self.case.name}"

    @property
    def slug(self) -> str:
        return cell_slug(*self.key)

    @property
    def category(self) -> str:
        return self.check.category

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cell) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: "Cell") -> bool:
        return self.key < other.key

    def __repr__(self) -> str:
        return f"Cell({self.id})"


def failed_record(cell: Cell, status: Status, message: str, seconds: float = 0.0) -> CellRecord:
    """The record of a cell that produced no result of its own (died, killed, lost with its worker)."""
    return record_of(cell.key, cell.category, CheckResult(status, message=message), seconds)


def not_applicable(cell: Cell) -> CellRecord | None:
    """The cell's record if its check does not apply (decided from tags, as ``Check.run`` does first), else ``None``
    (also when ``applies`` raises: the cell then runs and records the error)."""
    try:
        ok, why = cell.check.applies(cell.explainer, cell.case)
    except Exception:  # noqa: BLE001 - recorded by the cell itself
        return None
    return None if ok else record_of(cell.key, cell.category, CheckResult.not_applicable(why), 0.0)


def _evaluate(cell: Cell, timeout: float) -> CellRecord:
    """The cell in this process under ``alarm(timeout)``, with every guard (module docstring)."""
    start = time.perf_counter()
    try:
        with alarm(timeout):
            result = cell.check.run(cell.explainer, cell.case, cell.seed)
    except CellTimeout:
        result = CheckResult(Status.TIMEOUT, message=timeout_message(timeout))
    except CPULimitExceeded as exc:  # the cell's soft CPU limit (``xaicheck.core.limits``)
        result = CheckResult(Status.ERROR, message=str(exc))
    except SystemExit as exc:
        result = CheckResult(Status.ERROR, message=f"SystemExit: sys.exit({exc.code!r}) inside the cell",
                             traceback=traceback.format_exc())
    except Exception as exc:  # noqa: BLE001 - a check whose run() raised despite the contract
        result = CheckResult(Status.ERROR, message=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt & co. raised by the cell itself
        result = CheckResult(Status.ERROR, message=f"{type(exc).__name__} raised inside the cell")
    if not isinstance(result, CheckResult):
        result = CheckResult(Status.ERROR, message=f"{cell.check.name}.run returned {type(result).__name__}")
    return record_of(cell.key, cell.category, result, time.perf_counter() - start)


def _in_child(cell: Cell, timeout: float, context: CellContext | None) -> dict[str, Any]:
    """What the forked child runs: start from ``context``, run the cell, answer its record as JSON."""
    if context is not None:
        context.apply()
    with _attribution_cache.sharing(context.share_dir if context is not None else None):
        return _evaluate(cell, timeout).to_json()


def _one_torch_thread() -> Any:
    """Fork with one intra-op torch thread (a child must not inherit half an OpenMP pool); returns the undo."""
    import sys

    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    if threads is None or threads == 1:
        return lambda: None
    torch.set_num_threads(1)
    return lambda: torch.set_num_threads(threads)


def record_from_answer(cell: Cell, out: Any, seconds: float, silent: str) -> CellRecord:
    """A cell's record from its child's answer (:func:`~xaicheck.axioms.isolation.value_of`): the record it sent, or
    its failure (``silent``: why, when it sent nothing); ``seconds``: the wall time the parent saw (for a failure,
    which measured nothing of its own)."""
    if isinstance(out, Isolated) or out is None:
        why = out if isinstance(out, Isolated) else Isolated("error", silent)
        return failed_record(cell, Status(why.status), why.message, seconds)
    try:
        rec = CellRecord.from_json(out)
    except TypeError:
        return failed_record(cell, Status.ERROR, "the cell answered something that is not a record", seconds)
    if rec.cell_id != cell.id:
        return failed_record(cell, Status.ERROR, f"the cell answered for another cell ({rec.cell_id})", seconds)
    return rec


class RunningCell:
    """A cell started in its forked child (:func:`start_cell`): ``fileno()`` to wait on, :meth:`feed` when readable,
    :meth:`record` once done (or :meth:`expire` / :meth:`lost` when it never answers)."""

    def __init__(self, cell: Cell, timeout: float, context: CellContext | None, grace: float | None,
                 close_fds: tuple[int, ...] = ()) -> None:
        self.cell = cell
        self.timeout = timeout
        self.start = time.perf_counter()
        undo = _one_torch_thread()
        try:
            self.proc = Forked(lambda: _in_child(cell, timeout, context), label=cell.id, timeout=timeout,
                               grace=grace, close_fds=close_fds)
        finally:
            undo()

    def fileno(self) -> int:
        return self.proc.fd

    def feed(self) -> bool:
        """Read what arrived; ``True`` once the cell's outcome is known."""
        return self.proc.feed()

    def overdue(self, now: float | None = None) -> bool:
        return self.proc.overdue(now)

    def gone(self) -> bool:
        """The child exited and nothing is left to read: it will never answer."""
        import select

        return self.proc.exited() and not select.select([self.proc.fd], [], [], 0)[0]

    def record(self, wait: bool = True) -> CellRecord:
        """The cell's record from its outcome; kills the child's tree (idempotent). ``wait=False``: do not wait for
        the killed child to be reaped (a pool reaps it later: :meth:`reaped`)."""
        from .isolation import value_of

        self.proc.close(wait=wait)
        out = value_of(self.proc.outcome)
        seconds = time.perf_counter() - self.start
        return record_from_answer(self.cell, out, seconds, died_message(self.proc._exit))

    def expire(self) -> CellRecord:
        """Kill a cell past its deadline: its ``timeout`` record."""
        self.proc.outcome = Isolated("timeout", timeout_message(self.timeout) + " (did not stop at the alarm: killed)")
        return self.record()

    def lost(self) -> CellRecord:
        """A child that exited without answering: its ``error`` record."""
        self.proc.close()
        self.proc.outcome = Isolated("error", died_message(self.proc._exit))
        return self.record()

    def kill(self) -> None:
        self.proc.close()

    def reaped(self) -> bool:
        """Whether the (closed) child has been reaped; never waits."""
        return self.proc.exited()


def start_cell(cell: Cell, *, timeout: float = DEFAULT_TIMEOUT, context: CellContext | None = None,
               grace: float | None = None, close_fds: tuple[int, ...] = ()) -> RunningCell:
    """``cell`` started in a fresh forked child (its own process group); read it with :class:`RunningCell`.
    ``close_fds``: the caller's descriptors the child must not inherit (other cells' pipes)."""
    from xaicheck.explainers import _field

    _field.warm()  # the zygote explainers run in (issue 23): started once, in the process that forks the cells
    return RunningCell(cell, validate_timeout(timeout), context, grace, close_fds)


def run_cell(cell: Cell, *, timeout: float = DEFAULT_TIMEOUT, context: CellContext | None = None,
             isolate: bool = True, grace: float | None = None) -> CellRecord:
    """Run ``cell`` (module docstring) and return its record; never raises for anything the cell does."""
    timeout = validate_timeout(timeout)
    skipped = not_applicable(cell)
    if skipped is not None:
        return skipped
    if not isolate or not CAN_FORK:
        if context is not None:
            with _attribution_cache.sharing(context.share_dir):
                return _evaluate(cell, timeout)
        return _evaluate(cell, timeout)
    running = start_cell(cell, timeout=timeout, context=context, grace=grace)
    import select

    try:
        while True:
            wait = 0.5 if running.proc.deadline == float("inf") else min(
                0.5, max(0.0, running.proc.deadline - time.monotonic()))
            if select.select([running.fileno()], [], [], wait)[0]:
                if running.feed():
                    return running.record()
            elif running.overdue():
                return running.expire()
            elif running.gone():
                return running.lost()
    finally:
        running.kill()
