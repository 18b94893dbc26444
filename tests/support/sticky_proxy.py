"""A sticky reverse proxy on 127.0.0.1 that stands in for the Kubernetes ingress.

It routes the way ingress-nginx does with the annotations of deploy/k8s/ingress.yaml,
one policy per Ingress path:

- `upstream-hash-by: "$arg_NAME"`: the query parameter NAME picks the replica, by
  consistent hashing, so every request that carries the same value reaches the same
  replica;
- `affinity: "cookie"`: the affinity cookie picks the replica; a request without it goes
  to the next replica in turn, and its response sets the cookie with the attributes of
  the `session-cookie-*` annotations;
- neither: round robin.

It proxies plain HTTP and websocket upgrades. `refuse_websockets` makes it act like a
network that blocks websockets, so clients have to fall back to long-polling, and
`remove_backend` takes a replica away as a rolling update does, cutting its websockets.

    with running_sticky_proxy(backends, routes_from_ingresses(docs)) as proxy:
        ...  # browse proxy.url; proxy.routed says where each request went

Tests only: it keeps every request in memory and trusts every client.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import WSMsgType, hdrs, web
from multidict import CIMultiDict

from tests.support.servers import free_port

# ingress-nginx's annotation prefix and its default cookie name.
INGRESS_ANNOTATION = "nginx.ingress.kubernetes.io/"
INGRESS_DEFAULT_COOKIE = "INGRESSCOOKIE"
_QUERY_VARIABLE = re.compile(r"\$arg_(\w+)")
# Headers that belong to one connection and are never forwarded (RFC 9110, 7.6.1), plus
# the ones aiohttp computes again for the forwarded message.
_HOP_BY_HOP = frozenset(h.lower() for h in (
    "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE",
    "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"))
# The websocket handshake's own headers: the proxy makes a handshake of its own upstream.
_WEBSOCKET_HANDSHAKE = frozenset(h.lower() for h in (
    "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol"))
# A long-poll is held open until the server has something to send or pings (25 s).
_UPSTREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=5, sock_read=60)


@dataclass(frozen=True)
class AffinityCookie:
    """The affinity cookie's name and attributes (ingress-nginx always adds HttpOnly)."""

    name: str = INGRESS_DEFAULT_COOKIE
    path: str = "/"
    same_site: str | None = None
    secure: bool = False

    def set_cookie_header(self, value: str) -> str:
        """The `Set-Cookie` value that pins a browser to a replica."""
        parts = [f"{self.name}={value}", f"Path={self.path}", "HttpOnly"]
        if self.secure:
            parts.append("Secure")
        if self.same_site:
            parts.append(f"SameSite={self.same_site}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Route:
    """One Ingress path and how its requests are balanced."""

    prefix: str
    hash_by_query: str | None = None
    cookie: AffinityCookie | None = None


def routes_from_ingresses(docs: Iterable[Mapping[str, Any]]) -> list[Route]:
    """The routes of the Ingress objects among `docs`, longest path first.

    Raises:
        ValueError: an `upstream-hash-by` other than one query parameter (`$arg_NAME`),
            which is all this proxy can hash.
    """
    routes = []
    for doc in docs:
        if doc.get("kind") != "Ingress":
            continue
        annotations = {k.removeprefix(INGRESS_ANNOTATION): str(v)
                       for k, v in (doc["metadata"].get("annotations") or {}).items()}
        hash_by = None
        if "upstream-hash-by" in annotations:
            match = _QUERY_VARIABLE.fullmatch(annotations["upstream-hash-by"])
            if not match:
                raise ValueError(f"cannot hash by {annotations['upstream-hash-by']!r}")
            hash_by = match.group(1)
        cookie = None
        if annotations.get("affinity") == "cookie":
            cookie = AffinityCookie(
                name=annotations.get("session-cookie-name", INGRESS_DEFAULT_COOKIE),
                path=annotations.get("session-cookie-path", "/"),
                same_site=annotations.get("session-cookie-samesite"),
                secure=annotations.get("session-cookie-secure", "").lower() == "true")
        for rule in doc["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                routes.append(Route(path["path"], hash_by, cookie))
    return sorted(routes, key=lambda r: len(r.prefix), reverse=True)


@dataclass(frozen=True)
class RoutedRequest:
    """One request the proxy forwarded, and what came back."""

    method: str
    path: str
    query: Mapping[str, str]
    backend: int
    route: Route
    websocket: bool
    status: int

    @property
    def transport(self) -> str | None:
        """engine.io's `transport` parameter: "polling" or "websocket"."""
        return self.query.get("transport")


class StickyProxy:
    """Routes as the Ingress objects say; see the module's docstring."""

    def __init__(self, backends: Sequence[str], routes: Sequence[Route], port: int,
                 refuse_websockets: bool = False) -> None:
        """Create the proxy (it serves once `running_sticky_proxy` starts it).

        Args:
            backends: the replicas' base URLs, e.g. `http://127.0.0.1:5301`.
            routes: path prefixes and their balancing, longest first; a request that
                matches none is refused with 404, as by an ingress.
            port: the loopback port to listen on.
            refuse_websockets: answer every websocket upgrade with 403.
        """
        self.backends = [b.rstrip("/") for b in backends]
        self.routes = list(routes)
        self.port = port
        self.refuse_websockets = refuse_websockets
        self.routed: list[RoutedRequest] = []
        self._live = list(range(len(self.backends)))
        self._next = 0
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Open websockets: the downstream side, by the replica it is piped to.
        self._websockets: dict[web.WebSocketResponse, int] = {}

    @property
    def url(self) -> str:
        """The proxy's base URL: `localhost`, so that a page on 127.0.0.1 is on another
        site, as a customer's page is."""
        return f"http://localhost:{self.port}"

    def socket_requests(self, since: int = 0) -> list[RoutedRequest]:
        """The engine.io requests (long-polls, websocket upgrades) from `routed[since]` on."""
        return [r for r in self.routed[since:] if r.path.startswith("/socket.io")]

    def cookie_value(self, backend: int) -> str:
        """The cookie value that pins to `backend` (like ingress-nginx: a hash of it)."""
        return hashlib.sha1(self.backends[backend].encode()).hexdigest()[:16]

    def remove_backend(self, backend: int) -> None:
        """Take a replica out, as a rolling update does: no new requests reach it, and
        the websockets piped to it are closed. Call it from the test's thread."""
        assert self._loop is not None, "the proxy is not running"
        asyncio.run_coroutine_threadsafe(self._remove(backend), self._loop).result(timeout=10)

    def app(self) -> web.Application:
        """The aiohttp application that does the proxying."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def open(self) -> None:
        """Prepare the upstream connections (on the loop that serves the proxy)."""
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(timeout=_UPSTREAM_TIMEOUT,
                                              auto_decompress=False)

    async def close(self) -> None:
        """Close every websocket and the upstream connections."""
        for ws in list(self._websockets):
            await ws.close()
        if self._session is not None:
            await self._session.close()

    async def _remove(self, backend: int) -> None:
        self._live.remove(backend)
        for ws, target in list(self._websockets.items()):
            if target == backend:
                await ws.close()

    def _route(self, path: str) -> Route | None:
        return next((r for r in self.routes if path.startswith(r.prefix)), None)

    def _choose_backend(self, request: web.Request, route: Route) -> tuple[int, str | None]:
        """The replica for a request, and the affinity cookie to set (if any)."""
        if route.hash_by_query is not None:
            key = request.query.get(route.hash_by_query, "")
            # Rendezvous hashing: consistent, so removing a replica moves only its keys.
            return max(self._live, key=lambda b: hashlib.sha1(
                f"{key}|{self.backends[b]}".encode()).digest()), None
        if route.cookie is not None:
            pinned = request.cookies.get(route.cookie.name)
            for backend in self._live:
                if pinned == self.cookie_value(backend):
                    return backend, None
        backend = self._live[self._next % len(self._live)]
        self._next += 1
        cookie = route.cookie.set_cookie_header(self.cookie_value(backend)) if (
            route.cookie is not None) else None
        return backend, cookie

    def _record(self, request: web.Request, backend: int, route: Route, websocket: bool,
                status: int) -> None:
        self.routed.append(RoutedRequest(request.method, request.path, dict(request.query),
                                         backend, route, websocket, status))

    def _forwarded_headers(self, request: web.Request, drop: frozenset[str]) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in request.headers.items():
            if name.lower() not in drop:
                headers.add(name, value)
        # As ingress-nginx does: the original Host is kept, the client is named.
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        headers["X-Forwarded-Proto"] = request.scheme
        return headers

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = self._route(request.path)
        if route is None:
            return web.Response(status=404, text="no Ingress path matches")
        backend, set_cookie = self._choose_backend(request, route)
        if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
            return await self._proxy_websocket(request, backend, route, set_cookie)
        return await self._proxy_http(request, backend, route, set_cookie)

    async def _proxy_http(self, request: web.Request, backend: int, route: Route,
                          set_cookie: str | None) -> web.StreamResponse:
        assert self._session is not None
        url = self.backends[backend] + request.path_qs
        async with self._session.request(
                request.method, url, data=await request.read(), allow_redirects=False,
                headers=self._forwarded_headers(request, _HOP_BY_HOP)) as upstream:
            body = await upstream.read()
            headers: CIMultiDict[str] = CIMultiDict()
            for name, value in upstream.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    headers.add(name, value)
            if set_cookie:
                headers.add(hdrs.SET_COOKIE, set_cookie)
            self._record(request, backend, route, False, upstream.status)
            return web.Response(status=upstream.status, body=body, headers=headers)

    async def _proxy_websocket(self, request: web.Request, backend: int, route: Route,
                               set_cookie: str | None) -> web.StreamResponse:
        assert self._session is not None
        if self.refuse_websockets:
            self._record(request, backend, route, True, 403)
            return web.Response(status=403, text="websockets are blocked on this network")
        url = self.backends[backend].replace("http", "ws", 1) + request.path_qs
        headers = self._forwarded_headers(request, _HOP_BY_HOP | _WEBSOCKET_HANDSHAKE)
        try:
            upstream = await self._session.ws_connect(url, headers=headers, autoping=False)
        except aiohttp.WSServerHandshakeError as exc:
            self._record(request, backend, route, True, exc.status)
            return web.Response(status=exc.status, text=exc.message)
        downstream = web.WebSocketResponse(autoping=False)
        if set_cookie:
            downstream.headers.add(hdrs.SET_COOKIE, set_cookie)
        await downstream.prepare(request)
        self._record(request, backend, route, True, 101)
        self._websockets[downstream] = backend
        try:
            await _pipe_both_ways(downstream, upstream)
        finally:
            self._websockets.pop(downstream, None)
            await upstream.close()
            await downstream.close()
        return downstream


async def _pipe_both_ways(downstream: web.WebSocketResponse,
                          upstream: aiohttp.ClientWebSocketResponse) -> None:
    """Copy frames both ways until either side closes."""
    async def copy(source: Any, sink: Any) -> None:
        # The other side closing mid-copy ends the pipe like a close frame does.
        with suppress(ConnectionResetError):
            async for message in source:
                if message.type == WSMsgType.TEXT:
                    await sink.send_str(message.data)
                elif message.type == WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                elif message.type == WSMsgType.PING:
                    await sink.ping(message.data)
                elif message.type == WSMsgType.PONG:
                    await sink.pong(message.data)

    tasks = [asyncio.ensure_future(copy(downstream, upstream)),
             asyncio.ensure_future(copy(upstream, downstream))]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


@contextmanager
def running_sticky_proxy(backends: Sequence[str], routes: Sequence[Route], *,
                         refuse_websockets: bool = False) -> Iterator[StickyProxy]:
    """Serve a `StickyProxy` on a free loopback port from a thread of its own."""
    proxy = StickyProxy(backends, routes, free_port(), refuse_websockets)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sticky-proxy", daemon=True)
    thread.start()
    runner = web.AppRunner(proxy.app(), shutdown_timeout=1.0)

    async def start() -> None:
        await proxy.open()
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", proxy.port).start()

    async def stop() -> None:
        await proxy.close()
        await runner.cleanup()

    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield proxy
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
