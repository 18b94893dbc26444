"""Slack `v0` request signatures: Slack's documented example, replay window, forgeries."""

from __future__ import annotations

import pytest
from rasa.shared.exceptions import InvalidConfigException
from slack_sdk.signature import Clock, SignatureVerifier

from bot.channels.slack import GuardedSlackInput, SlackOutput
from bot.channels.slack_signature import MAX_AGE_SECONDS, SignatureCheck, check_signature, sign

# The worked example in Slack's "Verifying requests from Slack" documentation.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
    b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
NOW = float(DOC_TIMESTAMP) + 10


def test_sign_reproduces_slacks_documented_example() -> None:
    assert sign(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE


def test_documented_request_is_valid_at_its_time() -> None:
    assert check_signature(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=NOW) is (
        SignatureCheck.VALID
    )


def test_agrees_with_slack_sdks_own_verifier() -> None:
    body = b'{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}'
    signature = sign("s3cret", 1_700_000_000, body)
    verifier = SignatureVerifier("s3cret", clock=_FixedClock(1_700_000_030))
    assert verifier.is_valid(body, "1700000000", signature)
    assert check_signature("s3cret", "1700000000", signature, body, now=1_700_000_030) is (
        SignatureCheck.VALID
    )


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


@pytest.mark.parametrize(
    ("secret", "timestamp", "signature", "body", "now", "expected"),
    [
        # a body changed after signing
        (DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY + b"&x=1", NOW,
         SignatureCheck.BAD_SIGNATURE),
        # signed with another secret
        ("another-secret", DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, NOW,
         SignatureCheck.BAD_SIGNATURE),
        # the timestamp header changed (it is part of the signed string)
        (DOC_SECRET, str(int(DOC_TIMESTAMP) + 1), DOC_SIGNATURE, DOC_BODY, NOW,
         SignatureCheck.BAD_SIGNATURE),
        # another version prefix
        (DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE.replace("v0=", "v1="), DOC_BODY, NOW,
         SignatureCheck.BAD_SIGNATURE),
        # unsigned
        (DOC_SECRET, DOC_TIMESTAMP, None, DOC_BODY, NOW, SignatureCheck.MISSING),
        (DOC_SECRET, None, DOC_SIGNATURE, DOC_BODY, NOW, SignatureCheck.MISSING),
        (DOC_SECRET, DOC_TIMESTAMP, "", DOC_BODY, NOW, SignatureCheck.MISSING),
        # no secret configured: nothing can be valid
        ("", DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, NOW, SignatureCheck.MISSING),
        (DOC_SECRET, "yesterday", DOC_SIGNATURE, DOC_BODY, NOW, SignatureCheck.MALFORMED),
        # a replay after five minutes, and a timestamp from the future
        (DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY,
         float(DOC_TIMESTAMP) + MAX_AGE_SECONDS + 1, SignatureCheck.STALE),
        (DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY,
         float(DOC_TIMESTAMP) - MAX_AGE_SECONDS - 1, SignatureCheck.STALE),
    ],
)
def test_refusals(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    expected: SignatureCheck,
) -> None:
    assert check_signature(secret, timestamp, signature, body, now=now) is expected


def test_a_request_exactly_five_minutes_old_is_still_accepted() -> None:
    now = float(DOC_TIMESTAMP) + MAX_AGE_SECONDS
    assert check_signature(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=now) is (
        SignatureCheck.VALID
    )


@pytest.mark.parametrize(
    ("credentials", "named"),
    [({"slack_token": "xoxb-1"}, "signing secret"),
     ({"slack_token": "xoxb-1", "slack_signing_secret": ""}, "signing secret"),
     ({"slack_signing_secret": "s"}, "SLACK_TOKEN")],
)
def test_the_slack_channel_refuses_to_start_without_its_secrets(
    credentials: dict[str, str], named: str
) -> None:
    with pytest.raises(InvalidConfigException, match=named):
        GuardedSlackInput.from_credentials(credentials)


def test_replies_go_to_the_configured_web_api_in_threads() -> None:
    channel = GuardedSlackInput.from_credentials({
        "slack_token": "xoxb-1", "slack_signing_secret": "s",
        "slack_api_base_url": "http://127.0.0.1:9/api"})
    output = channel.get_output_channel("D123", "1700000000.000100")
    assert isinstance(output, SlackOutput)
    assert output.client.base_url == "http://127.0.0.1:9/api/"
    assert output.client.timeout == 10
    assert (output.slack_channel, output.thread_id) == ("D123", "1700000000.000100")
