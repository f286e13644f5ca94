"""pytest plugin ``xaicheck`` (entry point ``pytest11``): ``pytest benchmarks`` runs a suite as pytest items.

Loaded in every pytest run once xaicheck is installed, so importing it is cheap and inert: it only adds options and
markers. Work starts only when a test asks for the ``xaicheck_cell`` argument (``benchmarks/test_suite.py`` does):
then every applicable cell of the suite (explainer x case x seed, exactly the cells of ``xaicheck run``) becomes an
item with id ``<explainer>-<check>-<case>[-seed<N>]``, a mark for its check's category, ``slow`` for expensive
explainer families, and a strict ``xfail`` for known violations (the ``expected_failures`` each adapter declares,
``xaicheck.explainers.expectations``). Cells run through
the runner's engine once collection is final (``--xaicheck-jobs`` cells at a time, 1 by default, each in a fresh
forked child), with
the same per-cell timeout, so an explainer that exits, dies or hangs costs its cell, not the session; a cell asked
for outside the selection runs through ``axioms.cell.run_cell`` (a fresh forked child, as every cell). Bad options (a non-finite timeout, an empty or unknown selection, an unusable
``--xaicheck-out``) are one-line ``pytest.UsageError``s before collection ends. At
session end the records (plus the suite's not-applicable cells) go through the same two steps as ``xaicheck run``:
``runner.write_outputs`` (scores.csv, timings, evidence, provenance) and ``report.build_report`` (leaderboard,
plots, report.html).

Options: ``--xaicheck-suite quick|default|full``, ``--xaicheck-out DIR``, ``--xaicheck-jobs N``,
``--xaicheck-explainers a,b`` / ``--xaicheck-checks c,d`` (restrict the suite before collection), ``--xaicheck-seed``,
``--xaicheck-baseline DIR``, ``--xaicheck-engine local|dask`` and ``--xaicheck-scheduler ADDRESS`` (the cells run on
a Dask cluster, as ``xaicheck run --engine dask``; if the scheduler goes away mid-run, the cells it did not finish
run here, each in a forked child).

Baseline (``--xaicheck-baseline DIR``, a previous results directory with ``scores.csv``, e.g. the committed
``results/``): every outcome recorded there becomes an expectation, so only *changes* fail the run, each naming its
cell. Per cell, matched on explainer, check, case and seed:

- recorded ``ok`` and failed -> strict ``xfail(raises=AssertionError)``, reason ``recorded in baseline DIR (commit C):
  <recorded message>``; a theory reason an adapter declares wins (its reason is kept);
- recorded ``error`` or ``timeout`` -> strict ``xfail(raises=CellError)`` (reason as above, with the status): it stays
  expected only while it still errors or times out (the two are not told apart: both raise ``CellError``); if it now
  passes it is a strict XPASS, if it now fails its check the ``AssertionError`` is not the expected exception; both
  fail the run. A theory reason is then quoted after the recorded one (the recorded error is what the code does);
- recorded ``ok`` and passed -> no mark: a new violation fails as usual;
- no row (new cell, other seed, or not applicable in the baseline) -> the built-in expectations only; such cells are
  counted in the terminal summary, as are baseline rows that match no collected cell.

Without the option nothing changes: only the built-in expectations mark cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # heavy imports happen only when a benchmark module is collected
    from xaicheck.axioms.cell import Cell, CellRecord
    from xaicheck.benchmarks.suite import Suite

__all__ = ["CATEGORY_MARKERS", "SLOW_FAMILIES", "CELL_ARG", "XaicheckSession"]

#: One marker per check category (kept equal to ``xaicheck.axioms.base.CATEGORIES``; a test asserts it).
CATEGORY_MARKERS: dict[str, str] = {
    "axioms": "cells of axiom checks (sensitivity, dummy, completeness, ...)",
    "ground_truth": "cells of ground-truth checks (agreement with exact attributions, localisation)",
    "stability": "cells of stability checks (baseline sensitivity, robustness)",
    "agreement": "cells of explainer-agreement checks",
    "fragility": "cells of fragility checks (model randomisation, fooling)",
}
#: Explainer families whose cells are expensive (sampling surrogates and Shapley estimators).
SLOW_FAMILIES: frozenset[str] = frozenset({"surrogate", "shapley"})
#: The argument a test function takes to be parametrized over the suite's cells.
CELL_ARG = "xaicheck_cell"
_SUITES = ("quick", "default", "full")
_KEY = pytest.StashKey["XaicheckSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xaicheck", "xaicheck benchmark suites")
    group.addoption("--xaicheck-suite", choices=_SUITES, default="quick",
                    help="suite run by benchmark modules (default: quick)")
    group.addoption("--xaicheck-out", default="results", metavar="DIR",
                    help="directory for scores.csv, leaderboard and plots (default: results)")
    group.addoption("--xaicheck-jobs", type=int, default=1, metavar="N",
                    help="worker processes that precompute the selected cells (default: 1, in-process)")
    group.addoption("--xaicheck-explainers", default=None, metavar="A,B",
                    help="only these explainers (comma-separated names)")
    group.addoption("--xaicheck-checks", default=None, metavar="C,D",
                    help="only these checks (comma-separated names)")
    group.addoption("--xaicheck-seed", type=int, default=0, metavar="SEED", help="base seed (default: 0)")
    group.addoption("--xaicheck-baseline", default=None, metavar="DIR",
                    help="a previous results directory (its scores.csv, e.g. the committed results/): cells that "
                         "failed there become strict xfails quoting the recorded message (cells that errored: strict "
                         "xfail raises=CellError); so a run on unchanged code is green and a changed outcome (new "
                         "failure, unexpected pass, new or vanished error) fails and names the cell (default: none)")
    group.addoption("--xaicheck-timeout", type=float, default=120.0, metavar="S",
                    help="per-cell timeout in seconds, as in `xaicheck run` (default: 120; 0 disables)")
    group.addoption("--xaicheck-engine", choices=("local", "dask"), default="local",
                    help="who precomputes the cells: local worker processes (default) or a Dask cluster "
                         "(a LocalCluster of --xaicheck-jobs workers unless --xaicheck-scheduler is given)")
    group.addoption("--xaicheck-scheduler", default=None, metavar="ADDRESS",
                    help="with --xaicheck-engine dask: a running Dask scheduler, e.g. tcp://10.0.0.5:8786")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in CATEGORY_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: xaicheck {text}")
    config.addinivalue_line("markers", "slow: long-running benchmark cells (deselect with -m 'not slow')")
    config.stash[_KEY] = XaicheckSession(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if CELL_ARG not in metafunc.fixturenames:
        return
    session = metafunc.config.stash[_KEY]
    metafunc.parametrize(CELL_ARG, session.params())


def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash.get(_KEY, None)
    if state is None or not state.started:
        return
    selected = [item.callspec.params[CELL_ARG] for item in session.items
                if hasattr(item, "callspec") and CELL_ARG in item.callspec.params]
    state.selected(selected)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_KEY, None)
    if state is not None and state.started and state.records:
        state.write()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_KEY, None)
    if state is not None and state.summary:
        terminalreporter.write_sep("-", "xaicheck")
        for line in state.summary:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def xaicheck_session(request: pytest.FixtureRequest) -> "XaicheckSession":
    """The plugin's run state: ``xaicheck_session.check(cell)`` runs a cell, records it and asserts."""
    return request.config.stash[_KEY]


class XaicheckSession:
    """The suite of this pytest run, its cells, and the records written at session end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.suite_name: str = config.getoption("--xaicheck-suite", "quick")
        self.out_dir: str = config.getoption("--xaicheck-out", "results")
        self.jobs: int = max(1, int(config.getoption("--xaicheck-jobs", 1) or 1))
        self.explainers: str | None = config.getoption("--xaicheck-explainers", None)
        self.checks: str | None = config.getoption("--xaicheck-checks", None)
        self.base_seed: int = int(config.getoption("--xaicheck-seed", 0) or 0)
        self.timeout: float = float(config.getoption("--xaicheck-timeout", 120.0))
        self.jobs_requested = int(config.getoption("--xaicheck-jobs", 1))
        self.engine: str = config.getoption("--xaicheck-engine", "local") or "local"
        self.scheduler: str | None = config.getoption("--xaicheck-scheduler", None)
        _check_options(self.timeout, self.jobs_requested, self.explainers, self.checks, self.base_seed)
        if self.scheduler is not None and self.engine != "dask":
            raise pytest.UsageError("--xaicheck-scheduler needs --xaicheck-engine dask")
        self.baseline_dir: str | None = config.getoption("--xaicheck-baseline", None)
        if self.baseline_dir is not None and not (Path(self.baseline_dir) / "scores.csv").is_file():
            raise pytest.UsageError(f"--xaicheck-baseline {self.baseline_dir}: no scores.csv there")
        #: ``(explainer, check, case, seed) -> scores.csv row`` of the baseline (failed or errored rows only).
        self.baseline: dict[tuple[str, str, str, int], dict[str, Any]] = {}
        self._baseline_keys: set[tuple[str, str, str, int]] = set()
        self._baseline_label = ""
        self.started = False
        self.suite: "Suite | None" = None
        self.cells: list["Cell"] = []
        self.not_applicable: list["CellRecord"] = []
        self.records: dict[str, "CellRecord"] = {}
        self._precomputed: dict[str, "CellRecord"] = {}
        self._all_selected = True
        self._selected_pairs: set[tuple[str, str]] = set()
        self._selected_cells: list["Cell"] = []
        self._started_at = ""
        self.summary: list[str] = []

    # -- collection -------------------------------------------------------------------------------------------
    def build(self) -> None:
        """Resolve the suite (imports the adapters) and split its cells into applicable and not applicable."""
        if self.started:
            return
        from xaicheck.axioms.cell import Cell, not_applicable
        from xaicheck.axioms.pytest_api import expected_reason
        from xaicheck.benchmarks.provenance import now_utc
        from xaicheck.benchmarks.suite import build_suite, seeds_for

        from xaicheck.axioms.isolation import validate_timeout
        from xaicheck.core.errors import SelectionError
        from xaicheck.benchmarks.safe_io import OutDirError, check_out_dir

        self.started = True
        self._started_at = now_utc()
        try:
            if self.jobs_requested < 1:
                raise ValueError(f"--xaicheck-jobs must be >= 1; got {self.jobs_requested}")
            validate_timeout(self.timeout, "--xaicheck-timeout")
            check_out_dir(self.out_dir, create=False)
            suite = build_suite(self.suite_name, explainers=self.explainers, checks=self.checks,
                                base_seed=self.base_seed)
        except (SelectionError, OutDirError, ValueError) as exc:
            raise pytest.UsageError(f"xaicheck: {exc}") from None
        self.suite = suite
        if self.baseline_dir is not None:
            from xaicheck.benchmarks.records import RecordError

            try:
                self._load_baseline()
            except RecordError as exc:
                raise pytest.UsageError(f"--xaicheck-baseline: {exc}") from None
        for sc in suite.cells():
            exp, check, case = sc.explainer, sc.check, sc.case
            cell = Cell(exp, check, case, sc.seed, expected_reason(exp, check, case, None),
                        show_seed=len(seeds_for(exp, suite.name, suite.base_seed)) > 1)
            skipped = not_applicable(cell)  # the record every runner makes, so the rows match `xaicheck run`
            if skipped is None:
                self.cells.append(cell)
            else:
                self.not_applicable.append(skipped)

    def _load_baseline(self) -> None:
        from xaicheck.benchmarks.provenance import read_provenance
        from xaicheck.benchmarks.records import read_scores

        directory = Path(str(self.baseline_dir))
        rows = read_scores(directory / "scores.csv")
        commit = read_provenance(directory).get("git_commit")
        self._baseline_label = f"{self.baseline_dir}" + (f" (commit {commit})" if commit else "")
        for row in rows:
            self._baseline_keys.add((row["explainer"], row["check"], row["case"], row["seed"]))
            if (row["status"] == "ok" and row["passed"] is False) or row["status"] in ("error", "timeout"):
                self.baseline[(row["explainer"], row["check"], row["case"], row["seed"])] = row

    def expectation(self, cell: "Cell") -> tuple[str, type[BaseException]] | None:
        """``(reason, exception)`` if ``cell`` is expected to fail (built-in theory table, then the baseline)."""
        row = self.baseline.get((cell.explainer.name, cell.check.name, cell.case.name, cell.seed))
        if row is not None and row["status"] != "ok":
            from xaicheck.core.errors import CellError

            reason = f"recorded in baseline {self._baseline_label}: {row['status']}: {row['message']}"
            return (f"{reason}; theory: {cell.expected}" if cell.expected else reason), CellError
        if cell.expected:
            return cell.expected, AssertionError
        if row is not None:
            return f"recorded in baseline {self._baseline_label}: {row['message']}", AssertionError
        return None

    def params(self) -> list[Any]:
        self.build()
        return [pytest.param(cell, id=cell.test_id, marks=self._marks(cell)) for cell in self.cells]

    def _marks(self, cell: "Cell") -> list[Any]:
        marks = [getattr(pytest.mark, cell.category)]
        if cell.explainer.family in SLOW_FAMILIES:
            marks.append(pytest.mark.slow)
        expected = self.expectation(cell)
        if expected is not None:
            marks.append(pytest.mark.xfail(strict=True, raises=expected[1], reason=expected[0]))
        return marks

    def baseline_summary(self, cells: list["Cell"]) -> list[str]:
        """Terminal lines: how the baseline's rows mapped onto the collected ``cells``."""
        if self.baseline_dir is None:
            return []
        keys = {(c.explainer.name, c.check.name, c.case.name, c.seed) for c in cells}
        kinds = [self.expectation(c) for c in cells]
        n_fail = sum(1 for c, k in zip(cells, kinds) if k and k[1] is AssertionError and not c.expected)
        n_err = sum(1 for k in kinds if k and k[1] is not AssertionError)
        n_theory = sum(1 for c, k in zip(cells, kinds) if k and k[1] is AssertionError and c.expected)
        missing = len(keys - self._baseline_keys)
        unmatched = sum(1 for key in self.baseline if key not in keys)
        return [f"baseline {self._baseline_label}: of {len(cells)} cells run, {n_fail} expected to fail and "
                f"{n_err} to error as recorded there, {n_theory} expected to fail by theory, {missing} without a "
                f"baseline row; {unmatched} recorded failures/errors match no cell run"]

    def selected(self, cells: list["Cell"]) -> None:
        """Called once collection is final (after ``-k`` / ``-m``): precompute in a pool when ``jobs > 1``."""
        self._all_selected = len(cells) == len(self.cells)
        self._selected_pairs = {(c.explainer.name, c.check.name) for c in cells}
        self._selected_cells = list(cells)
        if cells:  # every jobs value runs the cells in worker processes (1: a pool of one), longest first
            from xaicheck.axioms.cell import CellContext
            from xaicheck.benchmarks.engines import EngineError, EngineLost, make_engine
            from xaicheck.benchmarks.scheduling import schedule
            from xaicheck.benchmarks.threads import one_thread

            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            where = (f"the Dask cluster at {self.scheduler}" if self.scheduler else
                     f"{self.jobs} {'Dask ' if self.engine == 'dask' else ''}worker process"
                     f"{'es' if self.jobs > 1 else ''}")
            if reporter is not None:
                reporter.write_line(f"xaicheck: running {len(cells)} cells on {where} ...")

            order = schedule(self.suite, list(cells), list(range(len(cells))))
            try:
                engine = make_engine(self.engine, jobs=None if self.scheduler else self.jobs, scheduler=self.scheduler)
            except (EngineError, ValueError) as exc:
                raise pytest.UsageError(f"xaicheck: {exc}") from None
            # as `xaicheck run`: no OpenMP/BLAS pool in the parent for forked cells to inherit; the local engine
            # does not warm up here (as before), a Dask worker does once (its cells are forked from it)
            with one_thread(), engine:
                try:
                    engine.run(self.suite, list(cells), order, timeout=self.timeout, warm=self.engine != "local",
                               emit=lambda rec: self._precomputed.__setitem__(rec.cell_id, rec),
                               context=CellContext.capture())
                except EngineLost as exc:  # what did not finish runs here, cell by cell (run_cell)
                    if reporter is not None:
                        reporter.write_line(f"xaicheck: {exc}; the {len(cells) - len(self._precomputed)} cells "
                                            "left run in this process's forked children")

    # -- running ----------------------------------------------------------------------------------------------
    def run(self, cell: "Cell") -> "CellRecord":
        """The cell's record: precomputed by the engine, else run here (``run_cell``: a fresh forked child)."""
        rec = self._precomputed.get(cell.id)
        if rec is None:
            from xaicheck.axioms.cell import run_cell

            rec = run_cell(cell, timeout=self.timeout)
        self.records[rec.cell_id] = rec
        return rec

    def check(self, cell: "Cell") -> None:
        """Run ``cell``, record it, and raise ``AssertionError`` (violation) or ``CellError`` (error/timeout)."""
        from xaicheck.axioms.pytest_api import assert_result

        __tracebackhide__ = True
        assert_result(cell, self.run(cell).result())

    # -- writing ----------------------------------------------------------------------------------------------
    def write(self) -> None:
        """Write what ran with the same writer as ``xaicheck run``, plus the suite's not-applicable cells (all of
        them on an unfiltered run; those of the selected explainer x check pairs after ``-k`` / ``-m``)."""
        from xaicheck.benchmarks.report import build_report
        from xaicheck.benchmarks.runner import write_outputs

        keep = self.not_applicable if self._all_selected else [
            r for r in self.not_applicable if (r.explainer, r.check) in self._selected_pairs]
        records = [*self.records.values(), *keep]
        from xaicheck.benchmarks.safe_io import check_out_dir

        out = check_out_dir(self.out_dir)
        write_outputs(records, out, suite=self.suite, started=self._started_at,
                      extra={"timeout": self.timeout, "jobs": self.jobs, "via": "pytest",
                             "engine": {"name": self.engine, **({"scheduler": "external"} if self.scheduler else {})}})
        info = build_report(out)  # the same two steps as `xaicheck run`: outputs, then leaderboard/plots/report
        skipped = [f"plot {k} skipped: {v}" for k, v in sorted(info.get("plots", {}).items()) if v != "ok"]
        self.summary = [*self.baseline_summary(self._selected_cells),
                        f"{len(records)} cells ({len(self.records)} run, {len(keep)} not applicable) -> "
                        f"{out / 'scores.csv'}, leaderboard.md, report.html", *skipped]


def _check_options(timeout: float, jobs: int, explainers: str | None, checks: str | None, seed: int) -> None:
    """The cheap option checks, at configure time (no registry import): one-line ``pytest.UsageError``."""
    import math

    if not math.isfinite(timeout) or timeout < 0:
        raise pytest.UsageError(f"--xaicheck-timeout must be a finite number of seconds >= 0; got {timeout:g}")
    if jobs < 1:
        raise pytest.UsageError(f"--xaicheck-jobs must be >= 1; got {jobs}")
    if seed < 0:
        raise pytest.UsageError(f"--xaicheck-seed must be >= 0; got {seed}")
    for option, value in (("--xaicheck-explainers", explainers), ("--xaicheck-checks", checks)):
        if value is not None and not [v for v in value.split(",") if v.strip()]:
            raise pytest.UsageError(f"{option} {value!r} names nothing; leave it out to select all")
