"""Fixtures of the bundle tests shared by their modules."""

from __future__ import annotations

import pytest
from bundle_cases import TinyRuns


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> TinyRuns:
    """Each bundle's tiny training, run at most once per session (the slow part of the bundle tests)."""
    return TinyRuns(tmp_path_factory)
