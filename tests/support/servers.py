"""The test suites' defaults for the real servers, which `bot.launcher` starts.

    from tests.support.servers import assistant          # a module-scoped fixture
    from tests.support.servers import running_servers    # or a context manager

The model is `TEST_MODEL` when set, otherwise the newest `models/*.tar.gz`; without
either the suite fails with a message saying so (it never skips). Ports come from this
suite's range, trackers go to a SQLite file in the servers' directory, and the channels
are the project's `credentials.yml` (or `E2E_CREDENTIALS`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.channels.rest import rest_conversation_id
from bot.launcher import Stack, free_ports, model_to_serve, sqlite_tracker_store, start_stack
from tests.support.project import PROJECT_ROOT

# The REST channel's token in the e2e suite (tests/e2e/conftest.py sets it) and the
# header that carries it; the HTTP API's token where a suite switches the API on.
REST_TOKEN = "e2e-rest-token"
REST_AUTH = {"Authorization": f"Bearer {REST_TOKEN}"}
API_TOKEN = "e2e-token"
# This suite's port range (team rule).
PORT_RANGE = (5300, 5399)

# A conversation id of the REST channel, e.g. for reading a tracker.
rest_conversation = rest_conversation_id

__all__ = [
    "API_TOKEN",
    "PORT_RANGE",
    "REST_AUTH",
    "REST_TOKEN",
    "assistant",
    "credentials_file",
    "free_port",
    "model_under_test",
    "rest_conversation",
    "running_servers",
    "start_servers",
]


def model_under_test() -> Path:
    """The model under test: `TEST_MODEL`, else the newest `models/*.tar.gz`."""
    return model_to_serve(os.environ.get("TEST_MODEL"), "TEST_MODEL")


def free_port() -> int:
    """A free loopback port from this suite's range, not handed out before."""
    return free_ports(1, *PORT_RANGE)[0]


def credentials_file() -> Path:
    """The channel configuration under test: the project's, unless E2E_CREDENTIALS says."""
    return Path(os.environ.get("E2E_CREDENTIALS", PROJECT_ROOT / "credentials.yml"))


def start_servers(workdir: Path, **options: Any) -> Stack:
    """`bot.launcher.start_stack` with this suite's defaults (see the module docstring).

    `options` are `start_stack`'s; `model`, `ports`, `tracker_store` and `credentials`
    default as above.
    """
    model = options.pop("model", None) or model_under_test()
    prefix = f"{options['name']}-" if options.get("name") else ""
    options.setdefault("ports", (free_port(), free_port()))
    options.setdefault("tracker_store", sqlite_tracker_store(workdir / f"{prefix}tracker.db"))
    options.setdefault("credentials", credentials_file())
    return start_stack(model, workdir, **options)


@contextmanager
def running_servers(workdir: Path, **options: Any) -> Iterator[Stack]:
    """`start_servers(...)` as a context manager that always stops them."""
    with start_servers(workdir, **options) as servers:
        yield servers


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The assistant with the project's credentials, actions and a fresh SQLite tracker."""
    with running_servers(tmp_path_factory.mktemp("assistant")) as servers:
        yield servers
