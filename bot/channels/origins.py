"""Which web origins may use the assistant's browser-facing endpoints."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def normalise_origin(origin: str) -> str:
    """An origin as browsers send it: lowercase scheme and host, no trailing slash."""
    return origin.strip().rstrip("/").lower()


class OriginPolicy:
    """Allow the configured origins and the server's own origin; never `*`.

    The server's own origin is always allowed because the assistant serves the demo
    page itself, on whatever host and port it was started on. A `*` in the configured
    list is ignored on purpose: the widget's socket is a WebSocket, which browsers do not
    protect with CORS, so the origin check is the only thing keeping other sites out; and
    its long-polling fallback is credentialed (for load balancers that pin by cookie),
    which browsers accept only from a response that names the page's origin.
    """

    def __init__(self, allowed: Collection[str]) -> None:
        """Create a policy from the configured origins (`Settings.allowed_origins`)."""
        self.allowed = frozenset(normalise_origin(o) for o in allowed if o.strip() != "*")

    def allows(self, origin: str | None, own_origin: str | None = None) -> bool:
        """True when a browser page at `origin` may call us.

        Args:
            origin: the request's `Origin` header; None for non-browser clients, which
                CORS does not concern.
            own_origin: `scheme://host` the request was addressed to.
        """
        if origin is None:
            return True
        origin = normalise_origin(origin)
        if origin in self.allowed:
            return True
        return own_origin is not None and origin == normalise_origin(own_origin)

    def allows_environ(self, origin: str | None, environ: Mapping[str, Any]) -> bool:
        """`allows()` for an engine.io request, whose WSGI environ names our own host.

        Used as python-socketio's `cors_allowed_origins` callable.
        """
        host = environ.get("HTTP_HOST")
        scheme = environ.get("wsgi.url_scheme", "http")
        own = f"{scheme}://{host}" if host else None
        return self.allows(origin, own)
