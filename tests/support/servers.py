"""Real servers for end-to-end suites: `rasa run` and an action server on free ports.

    from tests.support.servers import assistant          # a module-scoped fixture
    from tests.support.servers import running_servers    # or a context manager

The model is `TEST_MODEL` when set, otherwise the newest `models/*.tar.gz`; without
either the suite fails with a message saying so (it never skips). The process handling
(`ServerProcess`, readiness polling, endpoints files) is `bench.launcher`'s, so the
benchmark and the tests start servers the same way.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.launcher import (
    BASE_ENV,
    LOOPBACK,
    PROJECT_ROOT,
    LaunchError,
    ServerProcess,
    action_server_env,
    port_is_free,
    start_action_server,
    start_actions_then_rasa,
    start_rasa_server,
    wait_until_ready,
    write_endpoints,
)

# The REST channel's token in the e2e suite (tests/e2e/conftest.py sets it), the header
# that carries it, and the conversation id Rasa gives a REST sender.
REST_TOKEN = "e2e-rest-token"
REST_AUTH = {"Authorization": f"Bearer {REST_TOKEN}"}


def rest_conversation(sender: str) -> str:
    return f"rest:{sender}"


# This suite's port range (team rule); outside it, the OS picks a free port.
PORT_RANGE = (5300, 5399)
_taken: set[int] = set()

__all__ = [
    "BASE_ENV",
    "REST_AUTH",
    "REST_TOKEN",
    "AssistantServers",
    "LaunchError",
    "assistant",
    "free_port",
    "model_under_test",
    "rest_conversation",
    "running_servers",
]


def model_under_test() -> Path:
    """The model under test: `TEST_MODEL`, else the newest `models/*.tar.gz`.

    Raises:
        LaunchError: there is none; the message says how to get one.
    """
    given = os.environ.get("TEST_MODEL", "").strip()
    if given:
        path = Path(given)
        if not path.exists():
            raise LaunchError(f"TEST_MODEL={given} does not exist")
        return path
    models = sorted((PROJECT_ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise LaunchError("no trained model in models/: run `make train` or set TEST_MODEL")
    return models[-1]


def free_port() -> int:
    """A free loopback port, from this suite's range when one is free there."""
    for port in range(*PORT_RANGE):
        if port not in _taken and port_is_free(port):
            _taken.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port = int(sock.getsockname()[1])
    _taken.add(port)
    return port


@dataclass
class AssistantServers:
    """A running Rasa server and its action server."""

    rasa: ServerProcess
    actions: ServerProcess
    workdir: Path
    model: Path
    endpoints: Path
    credentials: Path
    env: dict[str, str]
    cors: Sequence[str] | None = None
    ready_timeout: float = 300.0

    @property
    def url(self) -> str:
        """The Rasa server's base URL, e.g. `http://127.0.0.1:5301`."""
        return self.rasa.url

    def logs(self, lines: int = 60) -> str:
        """The end of both servers' logs, for assertion messages."""
        return (f"--- rasa ({self.rasa.log_path}) ---\n{self.rasa.log_tail(lines)}\n"
                f"--- actions ({self.actions.log_path}) ---\n{self.actions.log_tail(lines)}")

    def restart_rasa(self, down_seconds: float = 0.0) -> None:
        """Stop the Rasa server and start it again on the same port with the same files.

        Args:
            down_seconds: how long to stay down between the two, so that clients notice.
        """
        self.rasa.stop()
        time.sleep(down_seconds)
        self.rasa = start_rasa_server(self.model, self.rasa.port, self.endpoints,
                                      self.workdir / "rasa-restarted.log",
                                      credentials=self.credentials, env=self.env,
                                      cors=self.cors)
        wait_until_ready(self.rasa, "/", self.ready_timeout)

    def stop(self) -> None:
        """Stop both servers (each by its own process group)."""
        self.rasa.stop()
        self.actions.stop()


def start_servers(
    workdir: Path,
    *,
    model: Path | None = None,
    credentials: Mapping[str, Any] | Path | None = None,
    env: Mapping[str, str] | None = None,
    actions_package: str = "actions",
    action_env: Mapping[str, str] | None = None,
    tracker_store: Mapping[str, Any] | None = None,
    lock_store: Mapping[str, Any] | None = None,
    cors: Sequence[str] | None = None,
    ready_timeout: float = 300.0,
) -> AssistantServers:
    """Start the action server, then `rasa run`, and wait until both answer.

    Args:
        workdir: where the endpoints file, the credentials file and the logs go.
        model: the model; `model_under_test()` by default.
        credentials: a credentials mapping (written to a file) or a file; the
            project's `credentials.yml` by default.
        env: extra environment of the Rasa server (settings such as ALLOWED_ORIGINS).
        actions_package: the package the action server loads.
        action_env: extra environment of the action server.
        tracker_store: tracker store endpoint; a SQLite file in `workdir` by default.
        lock_store: lock store endpoint; Rasa's in-memory one by default.
        cors: origins for `rasa run --cors` (as scripts/run.sh passes them); none by
            default.
        ready_timeout: seconds to wait for the Rasa server.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    model = model or model_under_test()
    if credentials is None:
        credentials_path = PROJECT_ROOT / "credentials.yml"
    elif isinstance(credentials, Path):
        credentials_path = credentials
    else:
        credentials_path = workdir / "credentials.yml"
        credentials_path.write_text(yaml.safe_dump(dict(credentials), sort_keys=False),
                                    encoding="utf-8")
    store = tracker_store or {"type": "SQL", "dialect": "sqlite",
                              "db": str(workdir / "tracker.db")}
    action_port, rasa_port = free_port(), free_port()
    # As endpoints.yml does: the action server's URL comes from the settings
    # (ACTIONS_PORT -> ACTION_SERVER_URL), through `${ACTION_SERVER_URL}`.
    endpoints = write_endpoints(workdir / "endpoints.yml", None, store, lock_store)
    rasa_env = {**(env or {}), **action_server_env(action_port)}
    actions, rasa, _ = start_actions_then_rasa(
        lambda: start_action_server(action_port, workdir / "actions.log", env=action_env,
                                    package=actions_package),
        lambda: start_rasa_server(model, rasa_port, endpoints, workdir / "rasa.log",
                                  credentials=credentials_path, env=rasa_env, cors=cors),
        ready_timeout)
    return AssistantServers(rasa=rasa, actions=actions, workdir=workdir, model=model,
                            endpoints=endpoints, credentials=credentials_path,
                            env=rasa_env, cors=cors, ready_timeout=ready_timeout)


@contextmanager
def running_servers(workdir: Path, **kwargs: Any) -> Iterator[AssistantServers]:
    """`start_servers(...)` as a context manager that always stops them."""
    servers = start_servers(workdir, **kwargs)
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssistantServers]:
    """The assistant with the project's credentials, actions and a fresh SQLite tracker."""
    with running_servers(tmp_path_factory.mktemp("assistant")) as servers:
        yield servers
