"""bot/launcher.py without starting a server: its import, ports, endpoints and models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.launcher import LaunchError, free_ports, model_to_serve, port_is_free

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_launcher_loads_neither_rasa_nor_tensorflow() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.launcher; print(' '.join(sorted("
         "m for m in sys.modules if m.split('.')[0] in ('rasa', 'tensorflow', 'tests', "
         "'bench'))))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_free_ports_are_free_in_range_and_never_handed_out_twice() -> None:
    first = free_ports(3, 5650, 5699)
    second = free_ports(3, 5650, 5699)
    assert len(set(first + second)) == 6
    assert all(5650 <= p <= 5699 and port_is_free(p) for p in first + second)


def test_a_range_without_enough_free_ports_is_an_error() -> None:
    with pytest.raises(LaunchError, match="need 2 free ports in 5660-5660"):
        free_ports(2, 5660, 5660)


def test_the_model_given_else_the_newest(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match=r"TEST_MODEL=.*does not exist"):
        model_to_serve(tmp_path / "missing.tar.gz", "TEST_MODEL")
    given = tmp_path / "given.tar.gz"
    given.write_bytes(b"")
    assert model_to_serve(str(given)) == given
    newest = model_to_serve(None)
    assert newest.parent == ROOT / "models" and newest.name.endswith(".tar.gz")
    assert all(m.stat().st_mtime <= newest.stat().st_mtime
               for m in (ROOT / "models").glob("*.tar.gz"))

