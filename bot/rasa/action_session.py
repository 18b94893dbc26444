"""How the Rasa server reaches the action server: one HTTP session, its connections reused.

Rasa 3.6 calls the action server through `EndpointConfig.request`, which opens a new
aiohttp `ClientSession` for every call, and so a new TCP connection (and a new
connection on the action server's side) for every custom action. Every form turn makes
a call (its validation action), each of them paying for the session, the connection and
its teardown.

`install()` makes every `RemoteAction` call its endpoint through a `PooledActionEndpoint`:
the same endpoint (URL, headers, token, `enable_selective_domain`, ...) whose `session()`
lends one `ClientSession` per event loop instead of opening one. Everything else is
Rasa's own `request`: the same headers and parameters, the same timeout (the session is
built with Rasa's `ClientTimeout`, and Rasa still passes its per-request timeout), the
same `ClientResponseError` for a status of 400 or more, and so the same errors in
`RemoteAction.run`. Only action calls change; the other users of `EndpointConfig` (NLG
server, model server, callbacks) keep Rasa's behaviour.

Like bot/rasa/action_calls.py, it is installed by our tracker store
(bot/rasa/tracker_store.py), so it is in every server that runs our endpoints, and never
in stock Rasa. The session is closed when the Sanic server shuts down: it is held by a
background task of the running app, which Sanic cancels (and waits for) at shutdown.
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Any

import aiohttp
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

# Idle connections are dropped after this many seconds. It must stay below the action
# server's own keep-alive timeout (Sanic's KEEP_ALIVE_TIMEOUT, 5 s by default, which
# rasa-sdk keeps): a connection the server is about to close must never be reused, or
# the call would fail with "server disconnected" instead of opening a new connection.
# Short idle also spreads new connections over action server replicas behind a load
# balancer. Within a turn and under load, calls come milliseconds apart.
IDLE_CONNECTION_SECONDS = 3.0

_RASA_INIT = RemoteAction.__init__
_INSTALLED_FLAG = "_bot_action_session_installed"
_SESSION_TASK_PREFIX = "bot.rasa.action_session.close"

# One shared session per event loop and per (headers, basic auth): those are what Rasa
# bakes into a session; URL, token, parameters and SSL are passed per request.
_SessionKey = tuple[tuple[tuple[str, str], ...], tuple[str, str] | None]
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                     dict[_SessionKey, aiohttp.ClientSession]] = (
    weakref.WeakKeyDictionary())


class _LentSession:
    """`async with` gives the shared session and, unlike a `ClientSession`, keeps it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, traceback: TracebackType | None) -> None:
        return None


class PooledActionEndpoint(EndpointConfig):  # type: ignore[misc]
    """An action endpoint whose calls share one HTTP session (see the module's docstring)."""

    def __init__(self, endpoint: EndpointConfig) -> None:
        """The same endpoint as `endpoint`, its calls made through the shared session."""
        # The whole state of the endpoint, not `endpoint.copy()`: Rasa's copy drops
        # `cafile` (and `type`), and a TLS action server would then be called without
        # its certificate authority.
        self.__dict__.update(vars(endpoint))

    def session(self) -> Any:
        """The shared session of this event loop, lent to Rasa's `request`."""
        return _LentSession(shared_session(self))


def shared_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """The running loop's session for `endpoint`'s headers and auth, opened on first use."""
    loop = asyncio.get_running_loop()
    auth = endpoint.basic_auth or {}
    key: _SessionKey = (
        tuple(sorted((str(k), str(v)) for k, v in endpoint.headers.items())),
        (str(auth["username"]), str(auth["password"])) if auth else None,
    )
    sessions = _sessions.setdefault(loop, {})
    session = sessions.get(key)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=aiohttp.BasicAuth(*key[1]) if key[1] else None,
            # Rasa's own session timeout (rasa/utils/endpoints.py).
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            # No limit, as with Rasa's session per call: a busy replica must not queue
            # action calls behind a connection pool (that wait would eat the timeout).
            connector=aiohttp.TCPConnector(limit=0,
                                           keepalive_timeout=IDLE_CONNECTION_SECONDS),
        )
        sessions[key] = session
        _close_at_server_shutdown(session)
    return session


def _close_at_server_shutdown(session: aiohttp.ClientSession) -> None:
    """Have the running Sanic server close `session` when it shuts down.

    The tracker store that installs this module is built while the server starts, when
    Sanic no longer takes listeners; a background task of the app is still allowed, and
    Sanic cancels its tasks at shutdown and waits for them to finish.
    """
    apps = _running_sanic_apps()
    if len(apps) != 1:  # not in a Sanic server (an in-process agent, a test): caller closes
        return

    async def close_when_cancelled() -> None:
        try:
            await asyncio.Event().wait()  # until the server cancels its tasks
        finally:
            await session.close()

    apps[0].add_task(close_when_cancelled(), name=f"{_SESSION_TASK_PREFIX}.{id(session)}")


def _running_sanic_apps() -> list[Any]:
    try:
        from sanic import Sanic
    except ImportError:  # pragma: no cover - Rasa depends on Sanic
        return []
    return [app for app in Sanic._app_registry.values() if getattr(app, "is_running", False)]


async def close_sessions() -> None:
    """Close this event loop's shared sessions (servers do it at shutdown by themselves)."""
    loop = asyncio.get_running_loop()
    for session in _sessions.pop(loop, {}).values():
        await session.close()


def _init_with_pooled_endpoint(self: RemoteAction, name: str,
                               action_endpoint: EndpointConfig | None) -> None:
    if action_endpoint is not None and not isinstance(action_endpoint, PooledActionEndpoint):
        action_endpoint = PooledActionEndpoint(action_endpoint)
    _RASA_INIT(self, name, action_endpoint)


def install() -> None:
    """Make every `RemoteAction` built from now on share sessions (idempotent)."""
    if getattr(RemoteAction, _INSTALLED_FLAG, False):
        return
    RemoteAction.__init__ = _init_with_pooled_endpoint
    setattr(RemoteAction, _INSTALLED_FLAG, True)


def uninstall() -> None:
    """Give `RemoteAction` back Rasa's session per call (tests and bench.profile_turns)."""
    RemoteAction.__init__ = _RASA_INIT
    setattr(RemoteAction, _INSTALLED_FLAG, False)


def installed() -> bool:
    """Whether `install()` is in effect in this process."""
    return bool(getattr(RemoteAction, _INSTALLED_FLAG, False))


__all__ = ["IDLE_CONNECTION_SECONDS", "PooledActionEndpoint", "close_sessions", "install",
           "installed", "shared_session", "uninstall"]
