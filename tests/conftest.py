"""Test-session order: the longest tests start first, so that under ``pytest -n 2`` (the README's test command)
they do not land last on one worker while the other sits idle."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("longest_first") is None)  # stable: the rest keep their order
