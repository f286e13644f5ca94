"""Nothing outside ``--out`` is read, written or deleted (issue 17 item 3), whatever links a result directory holds.

A victim directory outside ``--out`` holds files; links to it (or to its files) are planted under every name xaicheck
reads or writes. ``run``, ``report`` and ``diff`` refuse with one line before any work, and the victim's files keep
their bytes and their modification times; the writers replace a link planted later instead of writing through it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from xaicheck.benchmarks.cli import main
from xaicheck.benchmarks.records import CellRecord, write_scores
from xaicheck.benchmarks.safe_io import OutDirError, atomic_write_text, check_out_dir

RUN = ["--suite", "quick", "--explainers", "zero", "--checks", "linearity", "--quiet", "--jobs", "1"]


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("base") / "run"
    assert main(["run", "--out", str(out), *RUN]) == 0
    return out


@pytest.fixture()
def victim(tmp_path) -> Path:
    v = tmp_path / "victim"
    v.mkdir()
    for name in ("a.json", "scores.csv", "report.html", "provenance-x.json", "keep.txt"):
        (v / name).write_text(f"victim {name}\n")
    return v


LINKS = [  # (name inside --out, link to the victim directory itself, or to one of its files)
    ("counterexamples", None), ("history", None), (".partial", None), ("plots", None), ("papers", None),
    ("scores.csv", "scores.csv"), ("report.html", "report.html"), ("provenance.json", "a.json"),
    ("evidence.jsonl", "keep.txt"), ("timings.csv", "keep.txt"), ("leaderboard.md", "keep.txt"),
    ("counterexamples/x.json", "a.json"), ("history/provenance-2026.json", "provenance-x.json"),
    ("plots/heatmap.png", "keep.txt"), ("leaderboard_tracks.csv", "keep.txt"), ("leaderboard.csv", "keep.txt"),
    ("determinism.csv", "keep.txt"), (".gitignore", "keep.txt"),
]


@pytest.mark.parametrize("command", ["run", "report", "diff"])
@pytest.mark.parametrize("name, target", LINKS, ids=[n for n, _ in LINKS])
def test_links_in_out_are_refused_and_nothing_outside_changes(command, name, target, finished_run, victim, tmp_path,
                                                              capsys):
    out = tmp_path / "out"
    shutil.copytree(finished_run, out)
    link = out / name
    if link.exists() or link.is_symlink():
        shutil.rmtree(link) if link.is_dir() and not link.is_symlink() else link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(victim / target if target else victim)
    before = _snapshot(victim)
    argv = {"run": ["run", "--out", str(out), *RUN], "report": ["report", str(out)],
            "diff": ["diff", str(finished_run), str(out)]}[command]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "symbolic link" in err and len(err.strip().splitlines()) == 1, err
    assert _snapshot(victim) == before
    assert link.is_symlink()  # refused, not silently removed either


def test_writers_replace_a_link_instead_of_writing_through_it(victim, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores.csv").symlink_to(victim / "scores.csv")
    before = _snapshot(victim)
    write_scores([CellRecord("e/c/k/s0", "e", "c", "k", "axioms", 0, "ok", 1.0, True)], out / "scores.csv")
    atomic_write_text(out / "report.html", "<html></html>\n")
    assert _snapshot(victim) == before
    assert not (out / "scores.csv").is_symlink() and (out / "scores.csv").read_text().startswith("explainer,")
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))  # fresh temporaries, all replaced


def test_out_itself_may_be_a_link_to_a_directory(tmp_path, finished_run):
    """The user's own --out link is theirs to choose; links *inside* it are refused."""
    real = tmp_path / "real"
    shutil.copytree(finished_run, real)
    (tmp_path / "alias").symlink_to(real)
    assert check_out_dir(tmp_path / "alias") == tmp_path / "alias"
    os.symlink(tmp_path, real / "history2")  # an unrelated name xaicheck never touches is left alone
    check_out_dir(tmp_path / "alias")
    (real / "plots" / "evil.png").symlink_to(tmp_path / "nowhere.png")
    with pytest.raises(OutDirError, match="evil.png is a symbolic link"):
        check_out_dir(tmp_path / "alias")


HARDLINKED = ("plots/heatmap.png", "leaderboard.md", "leaderboard.csv", "leaderboard_tracks.csv",
              "report.html", "provenance.json", "scores.csv", "counterexamples/counterexamples.md")


@pytest.mark.parametrize("command", ["run", "report"])
def test_hard_links_in_out_are_never_written_through(command, finished_run, victim, tmp_path):
    """A hard link shares its inode with a file outside --out: every writer gives the name a new inode (temporary
    file, ``os.replace``), so the file outside keeps its bytes."""
    out = tmp_path / "out"
    shutil.copytree(finished_run, out)
    names = HARDLINKED if command == "run" else HARDLINKED[:5]  # report reads the run's files: links to what it writes
    assert all((out / name).is_file() for name in names), [n for n in names if not (out / n).is_file()]
    for k, name in enumerate(names):
        outside = victim / f"hard-{k}"
        outside.write_bytes(b"victim bytes\n")
        (out / name).unlink()
        os.link(outside, out / name)
    before = _snapshot(victim)
    argv = {"run": ["run", "--out", str(out), "--no-resume", *RUN], "report": ["report", str(out)]}[command]
    assert main(argv) == 0
    assert _snapshot(victim) == before
    for k, name in enumerate(names):
        assert (out / name).stat().st_ino != (victim / f"hard-{k}").stat().st_ino, name
    assert (out / "leaderboard.md").read_text().startswith("# Leaderboard")  # written: under the name, not the inode
    if command == "run":
        assert (out / "scores.csv").read_bytes() == (finished_run / "scores.csv").read_bytes()


def test_every_name_a_run_and_its_report_leave_in_out_is_known(finished_run):
    """OUTPUT_NAMES (what ``check_out_dir`` checks for links) lists every entry the writers leave in --out."""
    from xaicheck.benchmarks.safe_io import OUTPUT_NAMES

    assert sorted(p.name for p in finished_run.iterdir() if p.name not in OUTPUT_NAMES) == []
