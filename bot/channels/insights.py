"""`GET /admin/insights`: the insight page for sales and marketing, behind ADMIN_TOKEN.

Registered as a Rasa input channel (credentials.yml) because that is how this server
adds routes; it takes no messages. Its prefix is `/admin`, not `/webhooks/insights`.

- Off unless `ADMIN_TOKEN` is set: without it the route does not exist (404).
- The token comes as `Authorization: Bearer <token>`, or as the password of HTTP Basic
  auth so that a browser can ask for it; it is compared in constant time, and never
  accepted in the URL, where access logs would keep it. A wrong or missing token gets 401.
- Query parameters: `since=7d` (or `24h`), or `from=YYYY-MM-DD&to=YYYY-MM-DD`;
  `details=1` adds the scrubbed texts of the messages the assistant did not understand
  (bot/insights/fallbacks.py). Nothing of a page is logged, and none is cached.
- The figures are computed in a worker thread from the tracker store this server writes
  (its database, through an engine with `hide_parameters`) and the leads database
  (`DATABASE_URL`), so turns are not held up.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from bot.insights.period import PeriodError, parse_period
from bot.insights.queries import read_engine
from bot.insights.render import render_page
from bot.insights.service import build_insights
from bot.leads.db import DatabaseConfigError
from bot.leads.model import utc_now
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)

PAGE_PATH = "/insights"
QUERY_KEYS = ("since", "from", "to")
# The page is the server's own, and loads nothing from anywhere (no script at all).
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def presented_token(authorization: str) -> str:
    """The token in an `Authorization` header (Bearer, or Basic's password); "" if none."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return ""


def token_matches(presented: str, expected: str) -> bool:
    """Constant-time comparison; an unset expected token matches nothing."""
    if not expected:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def store_database_url(agent: Any) -> sa.engine.URL | None:
    """The database URL of the server's own tracker store, under Rasa's wrappers."""
    store = getattr(agent, "tracker_store", None)
    for _ in range(3):
        engine = getattr(store, "engine", None)
        if isinstance(engine, Engine):
            return engine.url
        store = getattr(store, "_tracker_store", None)
    return None


class InsightsInput(InputChannel):  # type: ignore[misc]
    """The insight page, as a channel that only adds a route."""

    @classmethod
    def name(cls) -> str:
        return "insights"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel; its only setting, ADMIN_TOKEN, comes from the environment."""
        return cls()

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._leads_engine: Engine | None = None
        self._tracker_engine: Engine | None = None

    def url_prefix(self) -> str:
        # Rasa joins this onto `/webhooks/`; an absolute path replaces that prefix.
        return "/admin"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The page's route; none at all when ADMIN_TOKEN is unset."""
        blueprint = Blueprint("admin_insights", __name__)
        if not self.settings.admin_token:
            logger.info("insights: /admin/insights is off (ADMIN_TOKEN is not set)")
            return blueprint

        async def page(request: Request) -> HTTPResponse:
            token = presented_token(request.headers.get("authorization", ""))
            if not token_matches(token, self.settings.admin_token):
                return response.text(
                    "An admin token is needed (ADMIN_TOKEN).", status=HTTPStatus.UNAUTHORIZED,
                    headers={**_HEADERS,
                             "WWW-Authenticate": 'Basic realm="insights", charset="UTF-8"'})
            query = {key: str(request.args.get(key, "")) for key in QUERY_KEYS}
            details = request.args.get("details", "") in ("1", "true", "yes")
            try:
                period = parse_period(query["since"] or None, query["from"] or None,
                                      query["to"] or None, utc_now())
            except PeriodError as exc:
                return response.text(str(exc), status=HTTPStatus.BAD_REQUEST, headers=_HEADERS)
            try:
                tracker = self._tracker(getattr(request.app.ctx, "agent", None))
                insights = await asyncio.to_thread(
                    build_insights, tracker, self._leads(), period, details)
            except (sa.exc.SQLAlchemyError, DatabaseConfigError) as exc:
                logger.error("insights: cannot read the tracker store (%s)", type(exc).__name__)
                return response.text("The conversation database could not be read.",
                                     status=HTTPStatus.SERVICE_UNAVAILABLE, headers=_HEADERS)
            return response.html(render_page(insights, {k: v for k, v in query.items() if v}),
                                 headers=_HEADERS)

        blueprint.add_route(page, PAGE_PATH, methods=["GET"])
        return blueprint

    def _leads(self) -> Engine | None:
        if self._leads_engine is None:
            try:
                self._leads_engine = read_engine(self.settings.resolved_database_url(),
                                                 "DATABASE_URL")
            except DatabaseConfigError as exc:
                logger.error("insights: %s", exc)
        return self._leads_engine

    def _tracker(self, agent: Any) -> Engine:
        # The store's database, through an engine of our own: it hides bound values
        # from errors (Rasa's plain store does not) and does not take the store's
        # connections. Settings' TRACKER_DATABASE_URL only for a store that is not SQL.
        if self._tracker_engine is None:
            url = store_database_url(agent)
            self._tracker_engine = (
                sa.create_engine(url, hide_parameters=True, pool_pre_ping=True, future=True)
                if url is not None else
                read_engine(self.settings.tracker_database_url, "TRACKER_DATABASE_URL"))
        return self._tracker_engine
