"""Progress of a run: done/total, percent and time left, on a terminal (a tqdm bar) or in a log (a line every 30 s or
10% of the cells).

Time left is weighted by the scheduler's cost estimate of each cell (``scheduling.cell_costs``: the previous run's
seconds, else a cost model), because cells run longest first and a count-based rate would overstate the time left
early on: ``left = elapsed * (sum of estimated costs still to run) / (sum of estimated costs finished)``. Without
estimates every cell weighs 1. ``console`` is where the lines go (default ``sys.stderr``): the CLI passes the
terminal while library output of the cells goes to ``run.log`` (:mod:`xaicheck.benchmarks.run_log`).
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any, Mapping

__all__ = ["Progress", "format_seconds"]

#: Seconds between two plain-text progress lines (and every tenth of the cells).
EVERY_SECONDS = 30.0


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    """Counts finished cells and estimates the time left (module docstring)."""

    def __init__(self, total: int, initial: int, costs: Mapping[str, float] | None = None,
                 console: IO[str] | None = None, clock: Any = time.monotonic) -> None:
        self.total, self.n = total, initial
        self.costs = dict(costs or {})
        self.left_cost = sum(self.costs.values()) if self.costs else float(total - initial)
        self.done_cost = 0.0
        self.clock = clock
        self.start = self.last = clock()
        self.last_n = initial
        self.console = console if console is not None else sys.stderr
        self.bar = None
        if getattr(self.console, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, file=self.console, unit="cell", dynamic_ncols=True,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")

    def _weight(self, cell_id: str) -> float:
        return float(self.costs.get(cell_id, 0.0)) if self.costs else 1.0

    def seconds_left(self, now: float | None = None) -> float | None:
        """Estimated seconds to the last cell (``None`` before the first finished cell of this run)."""
        if self.done_cost <= 0:
            return None
        elapsed = (self.clock() if now is None else now) - self.start
        return elapsed * max(self.left_cost, 0.0) / self.done_cost

    def status(self, now: float | None = None) -> str:
        """``120/1000 cells (12%), 45 s elapsed, about 5 min 10 s left``."""
        now = self.clock() if now is None else now
        pct = 100.0 * self.n / self.total if self.total else 100.0
        left = self.seconds_left(now)
        tail = "" if left is None or self.n >= self.total else f", about {format_seconds(left)} left"
        return f"{self.n}/{self.total} cells ({pct:.0f}%), {format_seconds(now - self.start)} elapsed{tail}"

    def update(self, rec: Any) -> None:
        self.n += 1
        w = self._weight(rec.cell_id)
        self.done_cost += w
        self.left_cost -= w
        if self.bar is not None:
            left = self.seconds_left()
            self.bar.set_postfix_str("" if left is None else f", ~{format_seconds(left)} left", refresh=False)
            self.bar.update(1)
            return
        now = self.clock()
        if now - self.last >= EVERY_SECONDS or self.n - self.last_n >= max(1, self.total // 10) or self.n == self.total:
            self.last, self.last_n = now, self.n
            print(f"xaicheck: {self.status(now)} (last {rec.cell_id}: {rec.status})", file=self.console, flush=True)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(f"xaicheck: {text}", file=self.console)
        else:
            print(f"xaicheck: {text}", file=self.console, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
