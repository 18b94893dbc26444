"""bot/launcher.py with real processes: the action server, its command line, a stack that
fails to start, and what the benchmark reads of a running server (memory, pause)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bot.launcher import LaunchError, ServerProcess, free_ports, port_is_free, start_stack

ROOT = Path(__file__).resolve().parents[2]
PORTS = (5300, 5399)  # the tests' range (tests/support/servers.py)


def test_actions_command_runs_a_command_against_its_own_action_server(tmp_path: Path) -> None:
    (port,) = free_ports(1, *PORTS)
    probe = ("import os, sys, urllib.request; "
             "print(os.environ['ACTION_SERVER_URL']); "
             f"print(urllib.request.urlopen('http://127.0.0.1:{port}/health').status); "
             "sys.exit(3)")
    done = subprocess.run(
        [sys.executable, "-m", "bot.launcher", "actions", "--port", str(port), "--data-dir",
         str(tmp_path), "--log", str(tmp_path / "actions.log"), "--", sys.executable, "-c",
         probe], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 3, done.stderr  # the command's own exit code
    assert done.stdout.split() == [f"http://127.0.0.1:{port}/webhook", "200"]
    assert (tmp_path / "app.db").exists()  # its lead database went to --data-dir
    assert port_is_free(port)  # and it was stopped


def test_a_stack_that_cannot_start_says_why_and_leaves_nothing_running(tmp_path: Path) -> None:
    # The action server refuses a malformed DATABASE_URL at start: the stack fails with
    # its log, and the Rasa server (here without a model) is never started.
    rasa_port, action_port = free_ports(2, *PORTS)
    with pytest.raises(LaunchError, match="DATABASE_URL") as failure:
        start_stack(tmp_path / "no-model.tar.gz", tmp_path, ports=(rasa_port, action_port),
                    credentials={"rest": None}, action_env={"DATABASE_URL": "bogus://nowhere"})
    server = failure.value.server
    assert server is not None and server.name == "actions" and not server.alive()
    assert not (tmp_path / "rasa.log").exists()
    written = yaml.safe_load((tmp_path / "endpoints.yml").read_text())
    assert written["action_endpoint"]["url"] == "${ACTION_SERVER_URL}"
    assert yaml.safe_load((tmp_path / "credentials.yml").read_text()) == {"rest": None}


def test_a_server_process_reports_memory_pauses_resumes_and_restarts(tmp_path: Path) -> None:
    (port,) = free_ports(1, *PORTS)
    server = ServerProcess("static", [sys.executable, "-m", "http.server", str(port),
                                      "--bind", "127.0.0.1"], {}, port,
                           tmp_path / "static.log", "/").start()
    try:
        assert 0 < server.wait_ready(30.0) < 30.0
        peak = server.peak_rss_mb()
        assert peak is not None and peak > 1.0
        server.pause()
        started = time.monotonic()
        assert not server.answers()  # it accepts the connection but never answers
        assert time.monotonic() - started >= 4.0
        server.resume()
        assert server.answers()
        first_pid = server.pid
        server.restart()
        server.wait_ready(30.0)
        assert server.pid != first_pid
    finally:
        server.stop()
    assert not server.alive() and server.peak_rss_mb() is None
    assert port_is_free(port)
