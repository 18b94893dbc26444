"""The project's own files, as the tests read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def load_domain() -> dict[str, Any]:
    """domain.yml as plain data."""
    data = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), "domain.yml is not a YAML mapping"
    return data
