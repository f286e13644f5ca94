"""Test-session order: the longest tests start first, so that under ``pytest -n 2`` (the README's test command)
they do not land last on one worker while the other sits idle."""

from __future__ import annotations

import os

import pytest

# Explainers run in field processes forked from a zygote (explainers/_field.py): sealed, and the way every run and
# check_explainer works. Most tests judge checks, scoring and reports, not the seal, and each of their processes
# would start its own zygote (seconds of imports); they run explainers inline. The seal is tested where it is the
# subject (tests/test_field_seal.py, the runner's fault tests), which set XAICHECK_FIELD=process themselves.
os.environ.setdefault("XAICHECK_FIELD", "inline")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("longest_first") is None)  # stable: the rest keep their order
