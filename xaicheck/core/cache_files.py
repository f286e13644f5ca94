"""What every on-disk cache shares (fits, searches, exact references, attributions): atomic writes and the
fingerprint of the code and libraries a cached value depends on.

A value goes to a temporary file in the target's directory and is moved into place with ``os.replace``, so a
concurrent reader never sees half a file and two writers racing on one key leave one whole file. A directory that
cannot be written is no cache: nothing is raised, the caller keeps the value it computed.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import io
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["write_atomic", "write_array", "library_version", "source_fingerprint"]


def library_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def source_fingerprint(packages: Sequence[str], libraries: Sequence[str]) -> str:
    """sha256 of the path and bytes of every ``.py`` file of ``packages`` and of the versions of python and of
    ``libraries``: any edit of those sources or any upgrade changes it."""
    digest = hashlib.sha256()
    for package in packages:
        for root in getattr(importlib.import_module(package), "__path__", []):
            for path in sorted(Path(root).rglob("*.py")):
                digest.update(f"{package}/{path.relative_to(root).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    digest.update(json.dumps([platform.python_version(), [(d, library_version(d)) for d in libraries]]).encode())
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically (creating its directory); ``False`` if it could not be written."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True


def write_array(path: Path, value: np.ndarray) -> bool:
    """``value`` as an ``.npy`` file (no pickle: the round trip is exact), written with :func:`write_atomic`."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(value), allow_pickle=False)
    return write_atomic(path, buf.getvalue())
