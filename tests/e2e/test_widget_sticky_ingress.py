"""The widget on another site, through the ingress, with two Rasa replicas (issue 13, 8).

Two Rasa servers share one PostgreSQL tracker store and one Redis lock store, as the
Kubernetes Deployment's replicas do. In front of them runs `tests.support.sticky_proxy`,
which balances each path the way deploy/k8s/ingress.yaml tells ingress-nginx to: the
socket by the widget's `affinity` key, everything else round robin. The page that embeds
the widget is on 127.0.0.1 and the assistant (the proxy) on localhost: two sites, as a
customer's page and the assistant are. This Chromium blocks third-party cookies, as
Safari always does, so nothing here may depend on a cookie.

- Websocket, the usual path: the conversation works, and goes on when the replica that
  holds the socket goes away (a rolling update).
- Long-polling, the fallback when the network blocks websockets: every request of the
  session reaches one replica, although the proxy spreads everything else over both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests
import yaml
from playwright.sync_api import BrowserContext, Page

from bot.launcher import ServerProcess
from tests.e2e import test_widget_browser as widget_suite
from tests.e2e.stack import wait_for
from tests.e2e.test_widget_browser import (
    EMBED_PAGE,
    QUESTION,
    REPLY_TIMEOUT_MS,
    StaticSite,
    ask,
    watch_errors,
)
from tests.support.databases import fresh_postgres_database, redis_client, redis_lock_store
from tests.support.project import PROJECT_ROOT
from tests.support.servers import running_servers, start_servers
from tests.support.sticky_proxy import (
    Route,
    StickyProxy,
    routes_from_ingresses,
    running_sticky_proxy,
)

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.postgres,
              pytest.mark.redis, pytest.mark.timeout(600)]

# The widget suite's fixtures: the customer's site (on 127.0.0.1), the browser and a
# fresh browser context per test.
customer_site = widget_suite.customer_site
playwright = widget_suite.playwright
browser = widget_suite.browser
context = widget_suite.context

FOLLOW_UP = "Which one starts faster?"
SOCKET_HANDSHAKE = "/socket.io/?EIO=4&transport=polling&affinity=0123456789abcdef"


def ingress_routes() -> list[Route]:
    """How the production Ingress objects balance each path."""
    text = (PROJECT_ROOT / "deploy" / "k8s" / "ingress.yaml").read_text()
    return routes_from_ingresses(d for d in yaml.safe_load_all(text) if d)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory,
             customer_site: StaticSite) -> Iterator[list[ServerProcess]]:
    """Two Rasa replicas (each with its action server) on one PostgreSQL and one Redis."""
    workdir = tmp_path_factory.mktemp("sticky-ingress")
    prefix = "sticky" + uuid.uuid4().hex[:8]
    env = {"ALLOWED_ORIGINS": customer_site.origin, "RATE_LIMIT_MESSAGES": "200"}
    with fresh_postgres_database("test_sticky") as database, ExitStack() as servers:
        stores = {"tracker_store": database.tracker_store(),
                  "lock_store": redis_lock_store(prefix)}
        # Replica B is launched before replica A is waited for, so that the two model
        # loads overlap (the suite's time budget); both race to create the tables, as
        # replicas do.
        replica_b = servers.enter_context(
            start_servers(workdir / "b", env=env, wait=False, **stores))
        replica_a = servers.enter_context(running_servers(workdir / "a", env=env, **stores))
        replica_b.wait_ready()
        yield [replica_a.rasa, replica_b.rasa]
    client = redis_client()
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def wait_until_ready_to_send(page: Page) -> None:
    page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)


def open_embedded_chat(context: BrowserContext, site: StaticSite,
                       proxy: StickyProxy) -> tuple[Page, list[str]]:
    """Open the chat on a page of the customer's site that embeds the widget through
    `proxy`; returns the page and the list its errors are collected in."""
    name = f"embed-{proxy.port}.html"
    (site.root / name).write_text(EMBED_PAGE % proxy.url)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{site.origin}/{name}")
    page.click(".ca-launcher")
    wait_until_ready_to_send(page)
    return page, errors


def finish_turn(page: Page, text: str) -> None:
    ask(page, text)
    page.wait_for_selector(".ca-typing", state="hidden", timeout=REPLY_TIMEOUT_MS)


def assert_history_shows(page: Page, *texts: str) -> None:
    """After a reload: the visitor's earlier messages are drawn once each."""
    page.wait_for_selector(".ca-user .ca-bubble", timeout=REPLY_TIMEOUT_MS)
    wait_until_ready_to_send(page)
    for text in texts:
        assert page.locator(".ca-user .ca-bubble", has_text=text).count() == 1, text


def test_socket_requests_are_answered_with_credentials_for_allowed_origins_only(
        replicas: list[ServerProcess], customer_site: StaticSite) -> None:
    with running_sticky_proxy([r.url for r in replicas], ingress_routes()) as ingress:
        allowed = requests.get(ingress.url + SOCKET_HANDSHAKE, timeout=10,
                               headers={"Origin": customer_site.origin})
        foreign = requests.get(ingress.url + SOCKET_HANDSHAKE, timeout=10,
                               headers={"Origin": "https://evil.example"})
    assert allowed.status_code == 200
    # Echoed, never `*`: browsers refuse `*` on a credentialed response.
    assert allowed.headers["Access-Control-Allow-Origin"] == customer_site.origin
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert foreign.status_code == 400
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert "Access-Control-Allow-Credentials" not in foreign.headers


def test_websocket_conversation_goes_on_when_its_replica_goes_away(
        replicas: list[ServerProcess], customer_site: StaticSite,
        context: BrowserContext) -> None:
    with running_sticky_proxy([r.url for r in replicas], ingress_routes()) as ingress:
        page, errors = open_embedded_chat(context, customer_site, ingress)
        finish_turn(page, QUESTION)
        sockets = ingress.socket_requests()
        assert sockets and all(r.websocket and r.status == 101 for r in sockets), sockets
        assert all(r.query.get("affinity") for r in sockets), sockets
        first = sockets[-1].backend

        # A rolling update takes that replica away and cuts its socket: the widget
        # reconnects to the other one and the conversation goes on there.
        seen = len(ingress.routed)
        ingress.remove_backend(first)
        # The widget saw the cut (it disables sending) before it opens the new socket.
        wait_for(lambda: ingress.socket_requests(since=seen), REPLY_TIMEOUT_MS / 1000,
                 "the widget did not reconnect")
        wait_until_ready_to_send(page)
        finish_turn(page, FOLLOW_UP)
        moved = ingress.socket_requests(since=seen)
        assert moved and all(r.websocket and r.backend != first for r in moved), moved

        # A reload draws the whole conversation, served by the replica that is left.
        page.reload()
        assert_history_shows(page, QUESTION, FOLLOW_UP)
    assert errors == [], errors


def test_polling_fallback_keeps_every_request_of_the_socket_on_one_replica(
        replicas: list[ServerProcess], customer_site: StaticSite,
        context: BrowserContext) -> None:
    with running_sticky_proxy([r.url for r in replicas], ingress_routes(),
                              refuse_websockets=True) as blocked:
        page, errors = open_embedded_chat(context, customer_site, blocked)
        finish_turn(page, QUESTION)
        page.reload()
        assert_history_shows(page, QUESTION)
        finish_turn(page, FOLLOW_UP)

    sockets = blocked.socket_requests()
    attempts = [r for r in sockets if r.websocket]
    polls = [r for r in sockets if r.transport == "polling"]
    assert attempts and all(r.status == 403 for r in attempts)  # websocket tried first
    assert len(polls) >= 6, polls  # two handshakes, their messages and long-polls
    assert len({r.query.get("affinity") for r in polls} - {None}) == 1, polls
    # Every poll reached the same replica, so none failed with 400 "Invalid session"...
    assert len({r.backend for r in polls}) == 1, polls
    assert all(r.status < 400 for r in polls), [r for r in polls if r.status >= 400]
    # ... because of the key: the proxy spread the rest of the page's requests (the
    # widget's files, the history) over both replicas.
    others = [r for r in blocked.routed if not r.path.startswith("/socket.io")]
    assert {r.backend for r in others} == {0, 1}, others
    # The refused websocket attempts are the only errors the browser reports.
    assert [e for e in errors if "WebSocket" not in e] == [], errors
