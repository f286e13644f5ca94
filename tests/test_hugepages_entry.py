"""``xaicheck._entry.hugepage_env``: when the console script re-executes itself with glibc's huge-page tunable."""

from __future__ import annotations

import sys

import pytest

from xaicheck import _entry


@pytest.fixture()
def thp_madvise(tmp_path, monkeypatch):
    mode = tmp_path / "enabled"
    mode.write_text("always [madvise] never\n")
    monkeypatch.setattr(_entry, "THP_MODE", mode)
    monkeypatch.setattr(_entry, "_glibc_at_least", lambda major, minor: True)
    monkeypatch.setattr(sys, "platform", "linux")
    return mode


def test_cell_commands_get_the_tunable_once(thp_madvise):
    env = _entry.hugepage_env({"PATH": "/bin"}, ["xaicheck", "run", "--suite", "quick"])
    assert env == {"PATH": "/bin", "XAICHECK_HUGEPAGES": "1", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
    assert _entry.hugepage_env(env, ["xaicheck", "run"]) is None  # the re-executed process does not loop
    kept = _entry.hugepage_env({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, ["xaicheck", "metrics"])
    assert kept is not None and kept["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"


@pytest.mark.parametrize("environ,argv", [
    ({}, ["xaicheck", "report", "results"]),  # forks no cell
    ({}, ["xaicheck"]),
    ({"XAICHECK_HUGEPAGES": "0"}, ["xaicheck", "run"]),  # switched off
    ({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, ["xaicheck", "run"]),  # the user chose
])
def test_no_reexec_where_it_does_not_apply(thp_madvise, environ, argv):
    assert _entry.hugepage_env(environ, argv) is None


def test_no_reexec_without_madvise_mode_or_glibc(thp_madvise, monkeypatch):
    thp_madvise.write_text("always madvise [never]\n")
    assert _entry.hugepage_env({}, ["xaicheck", "run"]) is None
    thp_madvise.write_text("always [madvise] never\n")
    monkeypatch.setattr(_entry, "_glibc_at_least", lambda major, minor: False)
    assert _entry.hugepage_env({}, ["xaicheck", "run"]) is None
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _entry.hugepage_env({}, ["xaicheck", "run"]) is None
