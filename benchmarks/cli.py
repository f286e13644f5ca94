"""``xaicheck``: run suites, list what exists, regenerate reports, diff runs, reproduce papers.

Exit codes: 0 success; 1 ``diff`` found differences; 2 bad input (one clear line on stderr, checked before any
cell runs where possible; also an engine that cannot be used: dask missing, scheduler unreachable); 3 an unexpected
internal error (one line; ``XAICHECK_DEBUG=1`` shows the traceback); 4 the engine went away mid-run (a Dask scheduler
lost: what finished is logged, rerun to resume); 130 interrupted; 141 stdout closed early (``xaicheck diff A B |
head``: quiet, no traceback).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

__all__ = ["main", "build_parser", "format_table"]

EPILOG = """examples:
  xaicheck run --out my_results                    # the default suite, every explainer -> my_results/
  xaicheck run                                     # -> results/ (refused where git tracks results/: a clone)
  xaicheck run --suite quick --out /tmp/quick      # a smoke run (about 2 minutes on 2 cores)
  xaicheck run --suite full --jobs 2 --out results/full
  xaicheck run --engine dask --scheduler tcp://10.0.0.5:8786   # cells on a Dask cluster (no --scheduler: local)
  xaicheck run --explainers integrated_gradients,shap_exact --checks completeness,dummy --out /tmp/two
  xaicheck run --models my_zoo.py --suite quick --out my_results   # your own models (a module name works too)
  xaicheck list explainers                         # library, version, family, tags
  xaicheck list cases --suite quick
  xaicheck report results                          # leaderboard, plots, report.html from scores.csv
  xaicheck diff results/old results/new
  xaicheck reproduce --list ; xaicheck reproduce sundararajan2017 ; xaicheck reproduce --all
  xaicheck metrics --suite quick --out /tmp/metrics  # truth-free metrics judged against exact truth
  xaicheck observe --library shap --releases 0.47.2,0.51.0 --suite quick --out /tmp/obs  # verdicts per release
"""


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``xaicheck run: error: ...``) instead of usage + error."""

    def error(self, message: str) -> "NoReturn":  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _finite(value: float, option: str, *, positive: bool = False) -> float:
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = "> 0" if positive else ">= 0"
        raise UsageError(f"{option} must be a finite number {need}; got {value:g}")
    return value


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], max_width: int = 60) -> str:
    """Left-aligned plain-text columns (cells longer than ``max_width`` are shortened with …)."""
    def cell(v: Any) -> str:
        s = "" if v is None else str(v)
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    body = [[cell(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(b[i]) for b in body]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths)).rstrip() for b in body]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- commands
DEFAULT_OUT = "results"


def _committed_files(directory: Path) -> int:
    """How many files under ``directory`` git tracks (0 outside a git work tree, or without git)."""
    import subprocess

    if not directory.is_dir():
        return 0
    try:
        proc = subprocess.run(["git", "-C", str(directory), "ls-files", "--", "."], capture_output=True, text=True,
                              timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return 0
    return len(proc.stdout.splitlines()) if proc.returncode == 0 else 0


def _out_dir(args: argparse.Namespace) -> str:
    """``--out``; without it ``results``, unless that folder holds committed results (a clone of this repository):
    then the run is refused, so the default never rewrites files git tracks (``--out results`` says to)."""
    if args.out is not None:
        return args.out
    tracked = _committed_files(Path(DEFAULT_OUT))
    if tracked:
        raise UsageError(f"{DEFAULT_OUT}/ holds committed results ({tracked} files tracked by git); a run would "
                         f"rewrite them: pass --out DIR for a new folder, or --out {DEFAULT_OUT} to overwrite them")
    return DEFAULT_OUT


def _zoo_spec(spec: str) -> str:
    """``--models``: a module name (``my_zoo``, ``pkg.zoo``), or a path to a ``.py`` file (its folder is put on
    ``sys.path`` and its stem imported). A path that does not exist is explained in one line."""
    if not (spec.endswith(".py") or os.sep in spec or "/" in spec):
        return spec
    path = Path(spec)
    if path.suffix == ".py" and path.is_file():
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        return path.stem
    stem = path.stem if path.suffix == ".py" else path.name
    raise UsageError(f"--models takes a module name (e.g. --models {stem}, run from the folder that holds "
                     f"{stem}.py, or --models my_package.{stem}) or an existing .py file; {spec!r} is neither")


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    from .safe_io import check_out_dir
    from .suite import build_suite, validate_seed

    t0 = time.monotonic()
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1; got {args.jobs}")
    _finite(args.timeout, "--timeout", positive=True)
    if args.rerun_sample < 0:
        raise UsageError(f"--rerun-sample must be >= 0; got {args.rerun_sample}")
    if args.scheduler is not None and args.engine != "dask":
        raise UsageError("--scheduler needs --engine dask")
    if args.scheduler is not None and args.jobs is not None:
        raise UsageError("--jobs sets the workers of a local run; with --scheduler the cluster has its own")
    try:
        validate_seed(args.seed)
    except ValueError as exc:
        raise UsageError(f"--seed: {exc}") from None
    out_arg = _out_dir(args)
    check_out_dir(out_arg, create=False)  # a file, under a file, a link inside: refused before any work
    from .engines import make_engine

    engine = make_engine(args.engine, jobs=args.jobs, scheduler=args.scheduler)  # dask missing: refused here
    if args.models:
        from .user_models import build_user_suite

        try:
            suite = build_user_suite(_zoo_spec(args.models), args.suite, explainers=args.explainers,
                                     checks=args.checks, base_seed=args.seed)
        except (ImportError, TypeError, ValueError) as exc:  # a zoo that cannot be loaded or declares a wrong truth
            raise UsageError(str(exc)) from None
    else:
        suite = build_suite(args.suite, explainers=args.explainers, checks=args.checks, base_seed=args.seed)
    cells = suite.cells()
    if not cells:
        raise UsageError(f"suite {args.suite!r} has no cells for the selected explainers/checks")
    reasons = [suite.check_of(c).applies(suite.explainer_of(c), suite.case_of(c)) for c in cells]
    if not any(ok for ok, _ in reasons):
        example = next(why for ok, why in reasons if not ok)
        raise UsageError(f"none of the {len(cells)} selected cells applies (e.g. {example}); choose other "
                         "explainers or checks (xaicheck list explainers / checks)")
    out = check_out_dir(out_arg)  # created and probed for writing
    from .out_lock import out_lock

    with out_lock(out):  # a second run into the same folder stops here with one line
        return _run_locked(args, suite, cells, reasons, out, engine, t0)


def _run_locked(args: argparse.Namespace, suite: Any, cells: list[Any], reasons: list[tuple[bool, str]], out: Path,
                engine: Any, t0: float) -> int:
    import time

    from .report import build_report
    from .run_log import LOG_NAME, count_lines, library_output_to
    from .runner import run_suite

    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    say(f"xaicheck: {len(suite.explainers)} explainers x {len(suite.cases)} cases -> {len(cells)} cells "
        f"({sum(ok for ok, _ in reasons)} applicable; suite {args.suite}, seed {args.seed}) -> {out}")
    log_path = out / LOG_NAME
    before = count_lines(log_path)
    with engine:  # a Dask engine starts its LocalCluster (or connects) when the first cell is submitted
        with library_output_to(log_path) as console:  # library warnings -> run.log, progress -> the terminal
            summary = run_suite(suite, out, jobs=args.jobs, timeout=args.timeout, resume=not args.no_resume,
                                progress=not args.quiet, rerun_sample=args.rerun_sample, engine=engine,
                                console=console)
    logged = count_lines(log_path) - before
    say("xaicheck: building leaderboard, plots and report.html ...")
    info = build_report(out, jobs=args.jobs, log=None if args.quiet else _stderr_line)
    counts = ", ".join(f"{v} {k}" for k, v in summary.counts().items())
    skipped = {k: v for k, v in info["plots"].items() if v != "ok"}
    line = (f"{len(summary.records)} cells ({counts}); resumed {summary.resumed}, ran {summary.ran}"
            + (f"; {summary.rejected} partial-log records rejected and re-run" if summary.rejected else ""))
    if args.quiet:  # one line: what ran, where it went, anything to look at
        extra = ([f"nondeterministic (same seed, different result): {', '.join(summary.nondeterministic)}"]
                 if summary.nondeterministic else []) + (
            [f"{len(skipped)} plot(s) skipped"] if skipped else [])
        print(f"{line} -> {out / 'report.html'} in {time.monotonic() - t0:.0f} s"
              + (f" ({', '.join(extra)})" if extra else ""))
        return 0
    print(line)
    if summary.nondeterministic:
        print(f"nondeterministic (same seed, different result): {', '.join(summary.nondeterministic)} "
              f"(see {out / 'determinism.csv'})")
    for name, why in skipped.items():
        print(f"plot {name} skipped: {why}", file=sys.stderr)
    if logged > 0:
        print(f"library output while the cells ran: {logged} line(s) in {log_path}", file=sys.stderr)
    print(f"wrote {out / 'scores.csv'}, leaderboard.md, {out / 'report.html'} in {time.monotonic() - t0:.0f} s")
    return 0


def _stderr_line(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _list_explainers(args: argparse.Namespace) -> str:
    from xaicheck.explainers.base import all_explainers

    rows = [e.describe() for e in all_explainers()]
    text = format_table(rows, ["name", "library", "version", "family", "tags"])
    return text


def _list_checks(args: argparse.Namespace) -> str:
    from xaicheck.axioms.base import all_checks

    rows = [c.describe() for c in all_checks()]
    return format_table(rows, ["name", "category", "threshold", "version", "citation"])


def _list_cases(args: argparse.Namespace) -> str:
    from xaicheck.axioms.base import all_cases

    rows = [{"id": c.id, "model": c.model.name, "n": c.X.shape[0], "d": c.X.shape[1],
             "tiers": ",".join(t for t in ("quick", "default", "full") if t in c.tiers),
             "description": c.description} for c in all_cases(args.suite)]
    return format_table(rows, ["id", "model", "n", "d", "tiers", "description"])


def _list_models(args: argparse.Namespace) -> str:
    from xaicheck.synthetic_models.registry import all_models

    rows = [m.describe() for m in all_models()]
    return format_table(rows, ["name", "family", "domain", "d", "forms", "ground_truth"])


LISTERS: dict[str, Callable[[argparse.Namespace], str]] = {
    "explainers": _list_explainers, "checks": _list_checks, "cases": _list_cases, "models": _list_models,
}


def _cmd_list(args: argparse.Namespace) -> int:
    print(LISTERS[args.what](args))
    return 0


def _existing_run(directory: str) -> Path:
    from .safe_io import check_out_dir

    if not str(directory).strip() or not Path(directory).exists():
        raise UsageError(f"no scores.csv in {directory!r}: the directory does not exist; run `xaicheck run --out "
                         f"{directory}` first")
    path = check_out_dir(directory, create=False, must_exist=True)
    if not (path / "scores.csv").is_file():
        raise UsageError(f"no scores.csv in {directory!r}; run `xaicheck run --out {directory}` first")
    return path


def _cmd_report(args: argparse.Namespace) -> int:
    from .records import read_records
    from .report import build_report

    path = _existing_run(args.dir)
    read_records(path)  # validated before anything is written
    info = build_report(path)
    for name, why in info["plots"].items():
        if why != "ok":
            print(f"plot {name} skipped: {why}", file=sys.stderr)
    print(f"{info['explainers']} explainers, {info['cells']} cells -> {path / 'report.html'}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from .diff import diff_dirs, format_changes

    _finite(args.tol, "--tol")
    for d in (args.a, args.b):
        _existing_run(d)
    changes = diff_dirs(args.a, args.b, tol=args.tol)
    print(format_changes(changes, args.a, args.b))
    return 1 if changes else 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    try:
        from xaicheck.benchmarks.papers import list_papers, run_paper
    except ImportError as exc:
        print(f"xaicheck reproduce: paper reproductions are not available yet ({exc})", file=sys.stderr)
        return 2
    names = list_papers()
    if args.list or (not args.all and not args.name):
        print("\n".join(names))
        return 0
    todo = names if args.all else [args.name]
    unknown = [n for n in todo if n not in names]
    if unknown:
        raise UsageError(f"unknown paper {unknown[0]!r}; known: {', '.join(names)}")
    from .safe_io import check_out_dir

    check_out_dir(args.out)
    for name in todo:
        result = run_paper(name, out_dir=args.out)
        print(result.to_table() if hasattr(result, "to_table") else result)
        print()
    if (Path(args.out) / "scores.csv").exists():  # a run lives here: refresh report.html so it links the papers
        from .report import refresh_report  # scores and HTML only: the plots are kept

        refresh_report(args.out)
        print(f"updated {Path(args.out) / 'report.html'} (links papers/*.md)")
    return 0


# ------------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="xaicheck", description="Axiom tests and a scored leaderboard for XAI attribution methods, on "
        "synthetic models with known ground truth.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="{run,list,report,diff,reproduce,metrics,observe}")

    r = sub.add_parser("run", help="run a suite and write scores, leaderboard, plots and report.html",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--suite", choices=("quick", "default", "full"), default="default",
                   help="quick ⊂ default ⊂ full (default: default; on 2 cores quick takes about 2 minutes, "
                        "default about 9 minutes)")
    r.add_argument("--out", default=None,
                   help="result directory (default: results; refused when results/ holds files git tracks, as in a "
                        "clone of this repository: pass --out results to overwrite the committed results)")
    r.add_argument("--explainers", help="comma-separated explainer names (default: all registered)")
    r.add_argument("--checks", help="comma-separated check names (default: all registered)")
    r.add_argument("--models", help="a module of your own models (MODELS list): run on their cases only, e.g. "
                                    "my_zoo, my_package.my_zoo or a path to my_zoo.py")
    r.add_argument("--jobs", type=int, default=None, help="worker processes (default: number of cores)")
    r.add_argument("--seed", type=int, default=0,
                   help="base seed in [0, 2**32 - 4] (stochastic explainers use seed, seed+1, ...)")
    r.add_argument("--timeout", type=float, default=120.0, help="seconds per cell before it is a timeout (120)")
    r.add_argument("--no-resume", action="store_true", help="ignore a partial run in --out and start over")
    r.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="who runs the cells: local (forked worker processes, default) or dask (a Dask cluster; "
                        "needs `pip install 'xaicheck[dask]'`)")
    r.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="with --engine dask: a running scheduler, e.g. tcp://10.0.0.5:8786 (default: start a "
                        "LocalCluster of --jobs one-thread workers)")
    r.add_argument("--quiet", action="store_true", help="no progress output; one summary line at the end")
    r.add_argument("--rerun-sample", type=int, default=2, metavar="K",
                   help="cells per explainer run twice to notice nondeterminism -> determinism.csv (default 2; 0: off)")
    r.set_defaults(func=_cmd_run)

    li = sub.add_parser("list", help="list explainers, checks, cases or models")
    li.add_argument("what", choices=tuple(LISTERS))
    li.add_argument("--suite", choices=("quick", "default", "full"), default="full",
                    help="for `list cases`: only cases of this suite (default: full)")
    li.set_defaults(func=_cmd_list)

    rep = sub.add_parser("report", help="regenerate leaderboard, plots and report.html from an existing run")
    rep.add_argument("dir", nargs="?", default="results", help="result directory (default: results)")
    rep.set_defaults(func=_cmd_report)

    d = sub.add_parser("diff", help="cells whose status or score changed between two result directories "
                                    "(exit 1 when any did)")
    d.add_argument("a")
    d.add_argument("b")
    d.add_argument("--tol", type=float, default=1e-9, help="score change that counts (default 1e-9)")
    d.set_defaults(func=_cmd_diff)

    rp = sub.add_parser("reproduce", help="reproduce published claims (see --list)")
    rp.add_argument("name", nargs="?", help="paper name")
    rp.add_argument("--all", action="store_true", help="every paper")
    rp.add_argument("--list", action="store_true", help="list paper names")
    rp.add_argument("--out", default="results", help="writes OUT/papers/NAME.md (default: results)")
    rp.set_defaults(func=_cmd_reproduce)

    me = sub.add_parser("metrics", help="judge truth-free evaluation metrics (Quantus, captum, OpenXAI) against "
                                        "exact truth -> metric_validity.csv/.md/.png")
    me.add_argument("--suite", choices=("quick", "default", "full"), default="quick",
                    help="quick: 25 small cases (8 tabular, 4 image, 5 text, 8 trees), 25 explainers (about 20 "
                         "minutes on 2 cores); default / full: every eligible case of that suite and the full panel "
                         "(hours; default: quick)")
    me.add_argument("--out", default="results/metrics", help="output directory (default: results/metrics)")
    me.add_argument("--seed", type=int, default=0, help="seed of every draw (same seed, same bytes; default 0)")
    me.add_argument("--metrics", help="comma-separated metric names (default: all; see metric_validity.csv)")
    me.add_argument("--boot", type=int, default=1000, help="bootstrap replicates over cases (default 1000)")
    me.add_argument("--quiet", action="store_true", help="no progress output")
    me.set_defaults(func=_cmd_metrics)

    ob = sub.add_parser(
        "observe", help="run a suite under several releases of one library -> OUT/versions/LIB/ (scores per "
        "release, changes.csv between consecutive releases, summary.md)",
        description="Each release is installed alone (pip install --no-deps --target ENVS/envs/LIB/REL/site, the "
        "package index must be reachable) and put first on the path of this interpreter, so everything else stays "
        "pinned; the explainer field is checked to import that release; then `xaicheck run --jobs 1` runs the "
        "suite restricted to the library's explainers. Releases run one after another. A release that does not "
        "install or import is recorded with the one-line reason.",
        epilog="example:\n  xaicheck observe --library captum --releases 0.7.0,0.8.0,0.9.0 --suite quick --out "
               "results", formatter_class=argparse.RawDescriptionHelpFormatter)
    ob.add_argument("--library", required=True, help="distribution name as in `xaicheck list explainers` (shap, "
                                                     "captum, lime, ...)")
    ob.add_argument("--releases", required=True, help="comma-separated versions, oldest first; changes are "
                                                      "attributed to the later release of each consecutive pair")
    ob.add_argument("--suite", choices=("quick", "default", "full"), default="quick", help="(default: quick)")
    ob.add_argument("--out", default="results", help="writes OUT/versions/LIBRARY/ (default: results)")
    ob.add_argument("--explainers", help="a subset of the library's explainers (default: all of them)")
    ob.add_argument("--checks", help="comma-separated check names (default: all registered)")
    ob.add_argument("--envs", default="~/.cache/xaicheck/observatory",
                    help="where release environments and run folders live (reused; default: "
                         "~/.cache/xaicheck/observatory)")
    ob.add_argument("--timeout", type=float, default=120.0, help="seconds per cell (120)")
    ob.add_argument("--engine", choices=("local", "dask"), default="local", help="engine of each run (local)")
    ob.add_argument("--with", dest="with_pin", action="append", metavar="NAME==VERSION",
                    help="also install this pin beside every release (e.g. numpy==1.26.4 for releases that need "
                         "numpy 1): a separate series, written to OUT/versions/LIB+NAME-VERSION/")
    ob.add_argument("--quiet", action="store_true", help="no progress output")
    ob.set_defaults(func=_cmd_observe)
    return p


def _cmd_observe(args: argparse.Namespace) -> int:
    from .observatory.observe import library_explainers, observe

    releases = [r.strip() for r in args.releases.split(",") if r.strip()]
    if len(releases) < 1 or len(set(releases)) != len(releases):
        raise UsageError(f"--releases needs one or more distinct versions, oldest first; got {args.releases!r}")
    known = library_explainers(args.library)
    names = [n.strip() for n in args.explainers.split(",") if n.strip()] if args.explainers else known
    if not known:
        raise UsageError(f"no registered explainer has library {args.library!r} (see xaicheck list explainers)")
    foreign = [n for n in names if n not in known]
    if foreign:
        raise UsageError(f"explainer(s) {', '.join(foreign)} are not {args.library}'s; its explainers: "
                         f"{', '.join(known)}")
    _finite(args.timeout, "--timeout", positive=True)
    envs = Path(args.envs).expanduser()
    pins = tuple(args.with_pin or ())
    bad = [p for p in pins if p.count("==") != 1 or not all(p.split("=="))]
    if bad:
        raise UsageError(f"--with needs NAME==VERSION; got {bad[0]!r}")
    say = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    checks: Sequence[str] = ()
    if args.checks is not None:
        from xaicheck.axioms.base import check_names

        from .suite import _select, parse_names

        checks = _select("check", parse_names(args.checks, "check"), check_names())  # unknown: one line, did you mean
    result = observe(args.library, releases, args.suite, Path(args.out), envs=envs, explainers=names,
                     timeout=args.timeout, engine=args.engine, with_pins=pins, say=say, checks=checks)
    for r in result["releases"]:
        why = f": {r['reason']}" if r["reason"] else ""
        print(f"{args.library} {r['release']}: {r['status']}{why} ({r['total_s']} s)")
    print(f"{len(result['changes'])} changed cells between consecutive releases -> {result['dir'] / 'changes.csv'}, "
          f"{result['dir'] / 'summary.md'}")
    return 0


def _cmd_metrics(args: argparse.Namespace) -> int:
    from .metrics import all_metrics, run_metrics

    names = None
    if args.metrics:
        names = [n.strip() for n in args.metrics.split(",") if n.strip()]
        known = sorted({m.name for m in all_metrics()})
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UsageError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if args.boot < 1:
        raise UsageError(f"--boot must be >= 1; got {args.boot}")
    say = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    result = run_metrics(Path(args.out), suite=args.suite, seed=args.seed, n_boot=args.boot, metric_names=names,
                         progress=say)
    if not args.quiet:
        print(f"{len(result['metrics'])} metrics x {len(result['explainers'])} explainers x {len(result['cases'])} "
              f"cases -> {args.out}/metric_validity.csv ({result['seconds']:.0f} s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from xaicheck.core.errors import SelectionError

    from .engines import EngineError, EngineLost
    from .records import RecordError
    from .safe_io import OutDirError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args))
        sys.stdout.flush()
        return code
    except EngineLost as exc:
        print(f"xaicheck {args.command}: error: {exc}", file=sys.stderr)
        return 4
    except (UsageError, SelectionError, RecordError, OutDirError, EngineError) as exc:
        print(f"xaicheck {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `xaicheck diff A B | head`: the reader went away; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("xaicheck: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, never a traceback
        if os.environ.get("XAICHECK_DEBUG"):
            raise
        line = " ".join(str(exc).split())
        print(f"xaicheck {args.command}: internal error: {type(exc).__name__}: {line} "
              "(set XAICHECK_DEBUG=1 for the traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
