"""The REST channel in a real server (issue 13, item 2): off without a token, only
authenticated callers, and senders in a namespace of their own."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Iterator

import pytest
import requests

from bot.launcher import LaunchError, ServerProcess
from tests.support.servers import free_port

TOKEN = "rest-test-token"


def start_rest_channel(token: str, **settings: str) -> tuple[ServerProcess, str]:
    """Start the guarded REST channel with `settings` added to our environment;
    (its process, its webhook URL)."""
    port = free_port()
    server = ServerProcess(
        "REST channel app", [sys.executable, "-m", "tests.support.rest_channel_app", str(port)],
        {"REST_CHANNEL_TOKEN": token, "RATE_LIMIT_MESSAGES": "100", **settings}, port, None,
        "/webhooks/rest/").start()
    try:
        server.wait_ready(60.0)
    except LaunchError:
        server.stop()
        raise
    return server, server.url + "/webhooks/rest/webhook"


@pytest.fixture(scope="module")
def channel() -> Iterator[str]:
    server, url = start_rest_channel(TOKEN)
    yield url
    server.stop()


def _post(url: str, body: dict[str, object], **headers: str) -> requests.Response:
    return requests.post(url, data=json.dumps(body).encode(), timeout=10,
                         headers={"Content-Type": "application/json", **headers})


def test_the_rest_channel_is_off_without_a_token() -> None:
    server, url = start_rest_channel("")
    try:
        answer = _post(url, {"sender": "a", "message": "hi"}, Authorization="Bearer x")
        assert answer.status_code == 403
        assert "REST_CHANNEL_TOKEN" in answer.json()["error"]
    finally:
        server.stop()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"X-Signature": "sha256=00"}])
def test_an_unauthenticated_caller_is_refused(channel: str, headers: dict[str, str]) -> None:
    answer = _post(channel, {"sender": "a", "message": "forget me"}, **headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_bearer_token_or_a_body_signature_is_accepted(channel: str) -> None:
    answer = _post(channel, {"sender": "a", "message": "hi"}, Authorization=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    body = json.dumps({"sender": "b", "message": "hi"}).encode()
    signature = "sha256=" + hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    signed = requests.post(channel, data=body, timeout=10,
                           headers={"Content-Type": "application/json",
                                    "X-Signature": signature})
    assert signed.status_code == 200


@pytest.mark.parametrize("sender", ["0123456789abcdef0123456789abcdef",  # a widget session
                                    "U024BE7LH_D0123ABCD"])  # a Slack conversation
def test_a_rest_sender_never_reaches_a_widget_or_slack_conversation(
    channel: str, sender: str
) -> None:
    answer = _post(channel, {"sender": sender, "message": "forget me"},
                   Authorization=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    (reply,) = answer.json()
    assert reply["text"] == f"conversation=rest:{sender}"
    assert reply["recipient_id"] == sender  # the caller's own name for it
