"""One cheap environment per release: the release alone, on top of the pinned project environment.

The project interpreter (``sys.executable``: numpy, torch and every other library at their pinned versions) is reused
as it is; the release is installed with ``pip install --no-deps --target T LIB==VER`` into its own directory ``T`` and
``T`` is put **first** on ``sys.path`` through ``PYTHONPATH``. ``PYTHONPATH`` entries precede site-packages, so
``import LIB`` and ``importlib.metadata.version(LIB)`` find the release; the explainer zygote (``multiprocessing``'s
forkserver, ``explainers/_field.py``) is started by the run process with the same environment and ``sys.path``
(forkserver preparation data), so the field processes import the release too -- :mod:`.probe` checks this for every
release rather than assuming it. A release costs one wheel download and unpack (seconds), not an install of torch.

Requirements the release declares are compared with the pinned environment: one that is missing, or pinned at a
version outside the release's range, is installed into ``T`` as well (``--no-deps``) -- except the libraries in
:data:`PINNED` (numpy, torch, scipy), which stay as they are; such a conflict is recorded, and the import probe says
whether the release works with them anyway.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from email.parser import Parser
from pathlib import Path
from typing import Mapping, Sequence

__all__ = ["PINNED", "ReleaseEnv", "target_dir", "release_environ", "requirement_gaps", "last_line"]

#: Libraries never replaced inside a release environment ("everything else pinned").
PINNED = frozenset({"numpy", "torch", "scipy"})
_RELEASE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+!_-]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def target_dir(root: Path | str, library: str, release: str) -> Path:
    """``root/envs/<library>/<release>/site``: where the release is installed (refuses names that could escape)."""
    if not _NAME.match(library) or not _RELEASE.match(release) or ".." in release:
        raise ValueError(f"not a library/release name: {library!r} {release!r}")
    return Path(root) / "envs" / _canon(library) / release / "site"


def release_environ(base: Mapping[str, str], target: Path | str) -> dict[str, str]:
    """A copy of ``base`` with ``target`` first on ``PYTHONPATH`` (before any entry already there, hence before
    site-packages) and the user site off (``PYTHONNOUSERSITE``), so nothing but the target differs."""
    env = dict(base)
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p) != Path(target)]
    env["PYTHONPATH"] = os.pathsep.join([str(target), *rest])
    env["PYTHONNOUSERSITE"] = "1"
    return env


def last_line(text: str) -> str:
    """The last non-empty line of ``text`` (an exception's one-line reason), at most 300 characters."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "")[:300]


def _metadata(target: Path, library: str) -> tuple[Path | None, str]:
    for info in sorted(target.glob("*.dist-info")):
        if _canon(info.name.split("-")[0]) == _canon(library):
            meta = info / "METADATA"
            return info, meta.read_text(encoding="utf-8", errors="replace") if meta.exists() else ""
    return None, ""


def requirement_gaps(metadata: str, installed: Mapping[str, str | None]) -> list[tuple[str, str, str | None]]:
    """Declared requirements (``Requires-Dist``, markers evaluated, extras ignored) the pinned environment does not
    meet: ``(name, requirement, installed version or None)``. ``installed`` maps canonical names to versions."""
    from packaging.requirements import Requirement

    gaps = []
    for line in Parser().parsestr(metadata).get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        have = installed.get(_canon(req.name))
        if have is None or (req.specifier and not req.specifier.contains(have, prereleases=True)):
            gaps.append((_canon(req.name), str(req), have))
    return gaps


def _installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass
class ReleaseEnv:
    """The environment of one release of ``library`` under ``root`` (see the module docstring)."""

    library: str
    release: str
    root: Path
    module: str = ""  # the import name (default: the library name)
    installed_extra: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    install_error: str = ""
    #: Extra pins installed into the target too (``--with numpy==1.26.4``): a series run with *those* pinned instead.
    with_pins: tuple[str, ...] = ()

    @property
    def target(self) -> Path:
        return target_dir(self.root, self.library, self.release)

    @property
    def import_name(self) -> str:
        return self.module or self.library.replace("-", "_")

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        return release_environ(os.environ if base is None else base, self.target)

    def _pip(self, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
               "--disable-pip-version-check", "--target", str(self.target), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def build(self, timeout: float = 600.0) -> bool:
        """Install the release into :attr:`target` (reused when already there); then the declared requirements the
        pinned environment misses, except :data:`PINNED` (recorded in :attr:`conflicts`). False: not installed
        (:attr:`install_error` has pip's last line)."""
        info, meta = _metadata(self.target, self.library)
        if info is None or f"-{self.release}.dist-info" not in info.name:
            self.target.mkdir(parents=True, exist_ok=True)
            done = self._pip([f"{self.library}=={self.release}", *self.with_pins], timeout)
            info, meta = _metadata(self.target, self.library)
            if done.returncode != 0 or info is None:
                self.install_error = last_line(done.stderr or done.stdout) or f"pip exit {done.returncode}"
                return False
        names = [_canon(n) for n in _requires(meta)]
        installed = {n: _installed_version(n) for n in names}
        for pin in self.with_pins:  # what the target holds instead of the project's version
            name, _, version = pin.partition("==")
            installed[_canon(name)] = version
        for name, req, have in requirement_gaps(meta, installed):
            if name in PINNED:
                self.conflicts.append(f"declares {req}; pinned {name} {have} kept")
                continue
            got = self._pip([req], timeout)
            if got.returncode == 0:
                self.installed_extra.append(req)
            else:
                self.conflicts.append(f"declares {req}; install failed: {last_line(got.stderr)}")
        return True

    def import_probe(self, timeout: float = 300.0) -> tuple[bool, str]:
        """Import the library in the release environment: ``(True, "VERSION at PATH")`` or ``(False, reason)``."""
        code = (f"import importlib.metadata as m, {self.import_name} as L; "
                f"print(m.version({self.library!r}), L.__file__)")
        try:
            done = subprocess.run([sys.executable, "-c", code], env=self.environ(), capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"import timed out after {timeout:.0f} s"
        if done.returncode != 0:
            return False, last_line(done.stderr) or f"exit {done.returncode}"
        return True, last_line(done.stdout)


def _requires(metadata: str) -> list[str]:
    from packaging.requirements import Requirement

    return [Requirement(r).name for r in Parser().parsestr(metadata).get_all("Requires-Dist") or []]
