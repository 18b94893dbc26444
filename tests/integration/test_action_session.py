"""Rasa's action calls through bot/rasa/action_session.py: one connection, the same errors.

A real HTTP server on 127.0.0.1 stands in for the action server and counts the TCP
connections it accepts (one client port is one connection). Rasa's own `RemoteAction`
opens one per call; installed, the calls share one. The errors a visitor's turn can
meet (a 500, a rejection, no server) come out of `RemoteAction.run` exactly as without.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig
from sanic.config import DEFAULT_CONFIG as SANIC_DEFAULTS

from bot.launcher import LOOPBACK, free_ports
from bot.rasa import action_session
from bot.settings import PROJECT_ROOT

CALLS = 5


@dataclass
class StandInActionServer:
    """An action server stand-in: answers each call, counts connections and requests."""

    port: int
    answer: tuple[int, dict[str, Any]] = (200, {"events": [], "responses": []})
    client_ports: set[int] = field(default_factory=set)
    requests: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/webhook"

    @property
    def connections(self) -> int:
        return len(self.client_ports)

    async def handle(self, request: web.Request) -> web.Response:
        assert request.transport is not None
        self.client_ports.add(request.transport.get_extra_info("peername")[1])
        self.requests += 1
        self.bodies.append(await request.json())
        status, body = self.answer
        return web.json_response(body, status=status)


@asynccontextmanager
async def serving(server: StandInActionServer) -> AsyncIterator[StandInActionServer]:
    app = web.Application()
    app.router.add_post("/webhook", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, server.port).start()
    try:
        yield server
    finally:
        await runner.cleanup()  # closes the server's side of every connection


@pytest.fixture
def pooled() -> Iterator[None]:
    """bot/rasa/action_session.py installed for the test, then as it was before."""
    was_installed = action_session.installed()
    action_session.install()
    yield
    if not was_installed:
        action_session.uninstall()


@pytest.fixture
def rasa_as_shipped() -> Iterator[None]:
    """Rasa's own action calls (a session per call), then as it was before."""
    was_installed = action_session.installed()
    action_session.uninstall()
    yield
    if was_installed:
        action_session.install()


async def call_action(url: str, name: str = "action_recommend") -> list[Any]:
    """Run a custom action as Rasa's processor does."""
    domain = Domain.empty()
    return list(await RemoteAction(name, EndpointConfig(url=url)).run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
        DialogueStateTracker("visitor", domain.slots), domain))


async def calls_through(server: StandInActionServer, count: int = CALLS) -> None:
    try:
        async with serving(server):
            for _ in range(count):
                await call_action(server.url)
    finally:
        await action_session.close_sessions()


@pytest.mark.usefixtures("rasa_as_shipped")
def test_rasa_opens_a_connection_per_action_call() -> None:
    server = StandInActionServer(free_ports(1)[0])
    asyncio.run(calls_through(server))
    assert (server.requests, server.connections) == (CALLS, CALLS)


@pytest.mark.usefixtures("pooled")
def test_installed_action_calls_share_one_connection() -> None:
    server = StandInActionServer(free_ports(1)[0])
    asyncio.run(calls_through(server))
    assert (server.requests, server.connections) == (CALLS, 1)
    assert server.bodies[-1]["next_action"] == "action_recommend"


@pytest.mark.usefixtures("pooled")
def test_the_tracker_store_installs_it(tmp_path: Any) -> None:
    from bot.rasa.tracker_store import StrictSQLTrackerStore

    action_session.uninstall()
    StrictSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert action_session.installed()


@pytest.mark.usefixtures("pooled")
def test_a_restarted_action_server_gets_a_new_connection() -> None:
    port = free_ports(1)[0]

    async def scenario() -> tuple[StandInActionServer, StandInActionServer]:
        first, second = StandInActionServer(port), StandInActionServer(port)
        try:
            async with serving(first):
                await call_action(first.url)
            # The first server closed its side of the kept connection on the way out.
            async with serving(second):
                await call_action(second.url)
                await call_action(second.url)
        finally:
            await action_session.close_sessions()
        return first, second

    first, second = asyncio.run(scenario())
    assert (first.connections, second.connections, second.requests) == (1, 1, 2)


# (answer of the action server or None for no server, the error Rasa raises)
FAILURES = [
    ((500, {"error": "boom"}), RasaException),
    ((400, {"action_name": "action_recommend", "error": "no"}), ActionExecutionRejection),
    ((404, {}), RasaException),
    (None, RasaException),
]


async def failure_of(answer: tuple[int, dict[str, Any]] | None) -> Exception:
    port = free_ports(1)[0]
    try:
        if answer is None:  # nothing listens on the port
            await call_action(f"http://{LOOPBACK}:{port}/webhook")
        else:
            async with serving(StandInActionServer(port, answer)):
                await call_action(f"http://{LOOPBACK}:{port}/webhook")
    except Exception as exc:  # compared with Rasa's own below
        return exc
    finally:
        await action_session.close_sessions()
    raise AssertionError("the action call did not fail")


def _described(error: BaseException) -> tuple[type[BaseException], str]:
    # The port differs from one run to the next; the message is otherwise the same.
    return type(error), str(error).split(f"http://{LOOPBACK}:")[0]


@pytest.mark.parametrize(("answer", "expected"), FAILURES)
def test_failures_are_the_errors_rasa_raises(answer: tuple[int, dict[str, Any]] | None,
                                             expected: type[BaseException]) -> None:
    was_installed = action_session.installed()
    try:
        action_session.uninstall()
        rasa_error = asyncio.run(failure_of(answer))
        action_session.install()
        pooled_error = asyncio.run(failure_of(answer))
    finally:
        (action_session.install if was_installed else action_session.uninstall)()
    assert type(rasa_error) is expected
    assert _described(pooled_error) == _described(rasa_error)


@pytest.mark.usefixtures("pooled")
def test_timeout_is_rasas_and_idle_connections_end_before_the_servers_keep_alive() -> None:
    async def sessions() -> tuple[Any, Any]:
        endpoint = EndpointConfig(url="http://127.0.0.1:1/webhook")
        async with endpoint.session() as rasa_session:
            rasa_timeout = rasa_session.timeout
        try:
            return rasa_timeout, action_session.shared_session(endpoint).timeout
        finally:
            await action_session.close_sessions()

    rasa_timeout, pooled_timeout = asyncio.run(sessions())
    assert pooled_timeout == rasa_timeout
    # The action server is rasa-sdk's Sanic app, with Sanic's default keep-alive.
    keep_alive = SANIC_DEFAULTS["KEEP_ALIVE_TIMEOUT"]
    assert isinstance(keep_alive, int | float)
    assert keep_alive > action_session.IDLE_CONNECTION_SECONDS


SANIC_SERVER = textwrap.dedent("""
    import json
    import sys
    from sanic import Sanic, response
    from rasa.utils.endpoints import EndpointConfig
    from bot.rasa import action_session

    app = Sanic("action_session_shutdown")
    opened = []

    @app.get("/open")
    async def open_session(request):
        opened.append(action_session.shared_session(EndpointConfig(url="http://x/")))
        return response.json({"open": not opened[0].closed})

    @app.listener("after_server_stop")
    async def report(app, loop):
        print(json.dumps({"closed_at_shutdown": opened[0].closed}), flush=True)

    app.run("127.0.0.1", int(sys.argv[1]), access_log=False)
""")


def test_a_sanic_server_closes_the_session_when_it_shuts_down() -> None:
    import time
    import urllib.request

    port = free_ports(1)[0]
    process = subprocess.Popen([sys.executable, "-c", SANIC_SERVER, str(port)],
                               cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/open", timeout=5) as r:
                    assert json.loads(r.read()) == {"open": True}
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        process.terminate()
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert '{"closed_at_shutdown": true}' in output, output[-2000:]
    assert "Unclosed client session" not in output
