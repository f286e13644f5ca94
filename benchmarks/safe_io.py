"""Reading and writing inside a result directory without ever following a link out of it.

A result directory (``--out``) is often committed, so a symbolic link inside it can come from anyone's commit: a
link named ``counterexamples`` pointing at ``~/papers`` must never make a run delete files there, and a link named
``scores.csv`` must never be written through or read. The rules:

- :func:`check_out_dir` runs before any work: ``--out`` is non-empty, is (or can be created as) a writable
  directory, and none of the names xaicheck reads or writes inside it (``OUTPUT_NAMES``, and the entries of its
  sub-directories) is a symbolic link;
- files are written by :func:`atomic_write_text` / :func:`atomic_write_bytes` (every output: scores, evidence,
  leaderboards, plots, report): a *fresh* temporary file (``mkstemp``, ``O_EXCL``) in the same directory, then
  ``os.replace``, which replaces a symbolic link instead of writing through it and gives a hard-linked name a new
  inode (the other names of the old inode keep their bytes);
- :func:`safe_dir` creates a sub-directory and refuses a link; :func:`remove_files` deletes only regular files
  (a link is unlinked itself, never followed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

__all__ = ["OUTPUT_NAMES", "MACHINE_DEPENDENT", "OutDirError", "check_out_dir", "atomic_write_text",
           "atomic_write_bytes", "safe_dir", "safe_file", "remove_files", "write_gitignore"]

#: Every name xaicheck reads or writes directly inside a result directory (a test runs a suite and its report and
#: checks that every entry they leave in the directory is listed here).
OUTPUT_NAMES: tuple[str, ...] = (
    "scores.csv", "timings.csv", "evidence.jsonl", "provenance.json", "determinism.csv", "counterexamples",
    "history", ".partial", "leaderboard.csv", "leaderboard_tracks.csv", "leaderboard.md", "report.html", "plots",
    "papers", ".gitignore", "run.log", ".lock",
)
#: Outputs that differ between machines for the same seed (wall times, timestamps, platform): kept out of the
#: committed, compared set by the ``.gitignore`` the runner writes into the result directory.
MACHINE_DEPENDENT: tuple[str, ...] = ("timings.csv", "history/", "plots/pareto.png", ".partial/", "run.log", ".lock")


class OutDirError(ValueError):
    """A result directory that cannot be used: one line naming the path and the problem."""


def _first_file_ancestor(path: Path) -> Path | None:
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def check_out_dir(out: str | os.PathLike[str], *, create: bool = True, must_exist: bool = False) -> Path:
    """``out`` as a ``Path`` after checking it is usable; raises :class:`OutDirError` (one line) otherwise.

    Creates the directory when ``create``; probes that a file can be created in it."""
    text = os.fspath(out)
    if not text.strip():
        raise OutDirError("the output directory is empty (''): give a directory, e.g. --out results")
    path = Path(text)
    blocker = _first_file_ancestor(path)
    if blocker is not None:
        what = "is a file" if blocker == path else f"is under {blocker}, which is a file"
        raise OutDirError(f"output directory {text} {what}, not a directory")
    if not path.exists():
        if must_exist:
            raise OutDirError(f"no directory {text}")
        if not create:
            return path
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutDirError(f"cannot create output directory {text}: {exc.strerror or exc}") from None
    for name in OUTPUT_NAMES:
        entry = path / name
        if entry.is_symlink():
            raise OutDirError(f"{entry} is a symbolic link (to {os.readlink(entry)}); xaicheck never reads or writes "
                              "through links in a result directory: remove it")
    for sub in ("counterexamples", "history", "plots", "papers", ".partial"):
        if (path / sub).is_dir():
            for entry in sorted((path / sub).iterdir()):
                if entry.is_symlink():
                    raise OutDirError(f"{entry} is a symbolic link (to {os.readlink(entry)}); xaicheck never reads or "
                                      "writes through links in a result directory: remove it")
    for name in ("scores.csv", "timings.csv", "evidence.jsonl", "provenance.json"):
        if (path / name).exists() and not (path / name).is_file():
            raise OutDirError(f"{path / name} is not a regular file (a directory?): remove or rename it")
    try:
        fd, probe = tempfile.mkstemp(prefix=".xaicheck-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutDirError(f"output directory {text} is not writable: {exc.strerror or exc}") from None
    return path


def safe_dir(path: Path) -> Path:
    """Create directory ``path`` (and parents); refuse when it is a symbolic link or a file."""
    path = Path(path)
    if path.is_symlink():
        raise OutDirError(f"{path} is a symbolic link (to {os.readlink(path)}); refusing to write through it")
    if path.exists() and not path.is_dir():
        raise OutDirError(f"{path} is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_file(path: Path) -> Path:
    """``path`` if it is a regular file that is not a link (for reading); raises :class:`OutDirError`."""
    path = Path(path)
    if path.is_symlink():
        raise OutDirError(f"{path} is a symbolic link (to {os.readlink(path)}); refusing to read through it")
    if not path.is_file():
        raise OutDirError(f"{path} is not a regular file")
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` with :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a fresh temporary file and ``os.replace``: always a *new inode*, so a symbolic
    link at ``path`` is replaced (never followed) and a hard link's other names keep their old bytes; a crash
    leaves the old file or the new one, never half of it. Refuses a directory at ``path`` or a linked parent."""
    path = Path(path)
    if path.parent.is_symlink():
        raise OutDirError(f"{path.parent} is a symbolic link; refusing to write {path.name} through it")
    if path.is_dir() and not path.is_symlink():
        raise OutDirError(f"{path} is a directory; refusing to replace it with a file")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_files(paths: Iterable[Path]) -> None:
    """Delete each path that is a regular file or a link (the link itself); directories are left alone."""
    for p in paths:
        if p.is_symlink() or p.is_file():
            p.unlink()


def write_gitignore(out: Path) -> None:
    """``OUT/.gitignore`` listing :data:`MACHINE_DEPENDENT`, so committing a result directory keeps only what the
    same seed reproduces on any machine."""
    text = ("# written by xaicheck: machine-dependent outputs (wall times, timestamps), not part of the compared set\n"
            + "".join(f"{name}\n" for name in MACHINE_DEPENDENT))
    atomic_write_text(Path(out) / ".gitignore", text)
