"""Fixtures shared by every kind of test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.project import load_domain


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """domain.yml as plain data (read once)."""
    return load_domain()
