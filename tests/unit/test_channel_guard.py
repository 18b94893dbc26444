"""Channel guards: clean-up, size and rate limits, payload restriction, origins, bodies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from bot.channels import credentials as credentials_cli
from bot.channels.dedupe import RecentIds
from bot.channels.guard import (
    DEFAULT_RATE_LIMITED_TEXT,
    GuardResult,
    MessageGuard,
    SlidingWindowRateLimiter,
    Verdict,
    clean_text,
    is_valid_session_id,
    refusal_text,
    restrict_payload,
)
from bot.channels.origins import OriginPolicy
from bot.channels.ratelimit import LocalRateLimiter
from bot.channels.rest import RequestError, parse_rest_body
from bot.settings import Settings, SettingsError, load_settings


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard(max_chars: int = 20, per_window: int = 3, window: float = 10.0,
          clock: FakeClock | None = None) -> MessageGuard:
    return MessageGuard(max_chars, SlidingWindowRateLimiter(per_window, window,
                                                            clock or FakeClock()))


def check(g: MessageGuard, conversation_id: str, raw: str,
          address: str | None = None) -> GuardResult:
    return asyncio.run(g.check(conversation_id, raw, address))


# ---- clean_text --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello  ", "hello"),
        ("line one\r\nline two\rthree", "line one\nline two\nthree"),
        ("tab\tkept", "tab\tkept"),
        ("bell\x07 null\x00 escape\x1b[31m del\x7f c1\x85", "bell null escape[31m del c1"),
        ("emoji 🚀☁️ stay", "emoji 🚀☁️ stay"),
        ("مرحبا، هل الحاويات أرخص؟", "مرحبا، هل الحاويات أرخص؟"),
        ("שלום \u200fRTL mark kept", "שלום \u200fRTL mark kept"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("\x00\x01\x02  \n\t ", ""),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected
    clean_text(raw).encode("utf-8")  # always storable as UTF-8


# ---- MessageGuard ------------------------------------------------------------------------

def test_accepts_a_normal_message_with_its_cleaned_text() -> None:
    result = check(guard(), "c1", "  hi there\x00 ")
    assert result.accepted and result.text == "hi there"


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\x00\x1f"])
def test_empty_messages_are_rejected_without_counting(raw: str) -> None:
    g = guard(per_window=1)
    assert check(g, "c1", raw).verdict is Verdict.EMPTY
    assert check(g, "c1", "real message").accepted  # the empty one used no quota


def test_size_limit_is_inclusive() -> None:
    g = guard(max_chars=10, per_window=100)
    assert check(g, "c1", "x" * 10).accepted
    assert check(g, "c1", "x" * 11).verdict is Verdict.TOO_LONG
    assert check(g, "c1", "x" * 100_000).verdict is Verdict.TOO_LONG


def test_rate_limit_per_conversation_with_sliding_window() -> None:
    clock = FakeClock()
    g = guard(per_window=3, window=10.0, clock=clock)
    assert all(check(g, "c1", f"m{i}").accepted for i in range(3))
    refused = check(g, "c1", "one too many")
    assert refused.verdict is Verdict.RATE_LIMITED
    assert refused.retry_after_seconds == pytest.approx(10.0)
    # another conversation is not affected
    assert check(g, "c2", "hello").accepted
    clock.now += 5
    assert check(g, "c1", "still too soon").verdict is Verdict.RATE_LIMITED
    clock.now += 5.01
    assert check(g, "c1", "after the window").accepted


def test_long_messages_count_towards_the_rate_limit() -> None:
    g = guard(max_chars=5, per_window=2)
    assert check(g, "c1", "x" * 50).verdict is Verdict.TOO_LONG
    assert check(g, "c1", "x" * 50).verdict is Verdict.TOO_LONG
    assert check(g, "c1", "ok").verdict is Verdict.RATE_LIMITED


def test_rate_limit_can_be_switched_off() -> None:
    limiter = SlidingWindowRateLimiter(0, 60.0)
    assert not limiter.enabled
    assert all(limiter.hit("c1") == 0.0 for _ in range(1000))


def test_limiter_forgets_idle_conversations_instead_of_growing() -> None:
    clock = FakeClock()
    limiter = SlidingWindowRateLimiter(5, 10.0, clock, max_keys=100)
    for i in range(100):
        limiter.hit(f"c{i}")
    clock.now += 11
    limiter.hit("new")
    assert len(limiter) <= 2


def test_limiter_bounded_even_when_all_conversations_are_active() -> None:
    limiter = SlidingWindowRateLimiter(5, 10.0, FakeClock(), max_keys=100)
    for i in range(1000):
        limiter.hit(f"c{i}")
    assert len(limiter) <= 100


def test_guard_from_settings() -> None:
    settings = load_settings({"MAX_MESSAGE_CHARS": "50", "RATE_LIMIT_MESSAGES": "7",
                              "RATE_LIMIT_WINDOW_SECONDS": "30"})
    g = MessageGuard.from_settings(settings)
    conversation = g.limits.conversation
    assert isinstance(conversation, LocalRateLimiter)
    assert (g.max_chars, conversation.window.max_messages,
            conversation.window.window_seconds) == (50, 7, 30.0)


def test_default_settings_limit_messages() -> None:
    settings = Settings()
    assert settings.rate_limit_messages > 0 and settings.max_message_chars > 0


# ---- payloads, sessions, refusals -------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "offered", "expected"),
    [
        ('/inform{"workload": "web"}', {'/inform{"workload": "web"}'},
         '/inform{"workload": "web"}'),
        ('/inform{"email": "mallory@example.com"}', set(), "/inform"),
        ('/affirm{"lead_consent": true}', {"/affirm"}, "/affirm"),
        ("/affirm@0.99", set(), "/affirm"),
        ('  /inform{"email": "x@y.z"}', set(), "/inform"),
        ("/ask_difference", set(), "/ask_difference"),
        ("what is a container?", set(), "what is a container?"),
        ("and/or {braces}", set(), "and/or {braces}"),
    ],
)
def test_restrict_payload(text: str, offered: set[str], expected: str) -> None:
    assert restrict_payload(text, offered) == expected


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0123456789abcdef0123456789abcdef", True),
        ("0123456789ABCDEF0123456789ABCDEF", False),
        ("0123456789abcdef", False),
        ("U024BE7LH", False),
        ("../../etc/passwd", False),
        (None, False),
        (42, False),
    ],
)
def test_session_ids(value: object, valid: bool) -> None:
    assert is_valid_session_id(value) is valid


def test_refusal_texts() -> None:
    assert "2000" in refusal_text(Verdict.TOO_LONG, 2000)
    assert refusal_text(Verdict.TOO_LONG, 300, "At most {max_chars}, please.") == (
        "At most 300, please."
    )
    assert refusal_text(Verdict.RATE_LIMITED, 300) == DEFAULT_RATE_LIMITED_TEXT


def test_recent_ids_forget_after_ttl_and_stay_bounded() -> None:
    clock = FakeClock()
    seen = RecentIds(ttl_seconds=60, max_ids=3, clock=clock)
    assert seen.first_time("Ev1")
    assert not seen.first_time("Ev1")
    clock.now += 61
    assert seen.first_time("Ev1")
    for i in range(10):
        seen.first_time(f"E{i}")
    assert len(seen) <= 3


# ---- origins -----------------------------------------------------------------------------

def test_origin_policy() -> None:
    policy = OriginPolicy(["https://www.example.com/", "*", "http://localhost:5005"])
    assert policy.allows("https://www.example.com")
    assert policy.allows("HTTPS://WWW.EXAMPLE.COM")
    assert policy.allows("http://localhost:5005")
    assert not policy.allows("https://evil.example")  # the `*` was ignored
    assert not policy.allows("https://www.example.com.evil.example")
    assert not policy.allows("null")
    assert policy.allows(None)  # not a browser: CORS does not apply
    assert policy.allows("http://127.0.0.1:5301", own_origin="http://127.0.0.1:5301")
    assert policy.allows_environ("http://10.1.2.3:80",
                                 {"HTTP_HOST": "10.1.2.3:80", "wsgi.url_scheme": "http"})
    assert not policy.allows_environ("http://evil.example",
                                     {"HTTP_HOST": "10.1.2.3:80", "wsgi.url_scheme": "http"})


def test_default_settings_never_allow_every_origin() -> None:
    policy = OriginPolicy(Settings().allowed_origins)
    assert not policy.allows("https://evil.example")
    assert "*" not in Settings().allowed_origins


# ---- REST bodies ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\xfa",
        b"[1, 2]",
        b'"just a string"',
        b'{"message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "two words", "message": "hi"}',
        b'{"sender": "ctrl\\u0000", "message": "hi"}',
        json.dumps({"sender": "x" * 129, "message": "hi"}).encode(),
        b'{"sender": 12, "message": "hi"}',
        b'{"sender": "s1"}',
        b'{"sender": "s1", "message": {"text": "hi"}}',
        b'{"sender": "s1", "message": "hi", "metadata": "x"}',
        json.dumps({"sender": "s1", "message": "hi", "metadata": {"k": "v" * 5000}}).encode(),
    ],
)
def test_rest_body_refusals(body: bytes) -> None:
    with pytest.raises(RequestError) as error:
        parse_rest_body(body)
    # The error message never echoes the body back.
    assert "mallory" not in str(error.value)


def test_rest_body_accepted() -> None:
    sender, message, metadata = parse_rest_body(
        json.dumps({"sender": "web-42", "message": "héllo 🚀", "metadata": {"a": 1}}).encode()
    )
    assert (sender, message, metadata) == ("web-42", "héllo 🚀", {"a": 1})


# ---- effective credentials -----------------------------------------------------------------

def test_credentials_without_slack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("SLACK_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "credentials.yml"
    assert credentials_cli.main(["--out", str(out), "--public-url", "http://localhost:5005"]) == 0
    written = yaml.safe_load(out.read_text())
    assert "bot.channels.widget.WidgetInput" in written
    assert "bot.channels.rest.GuardedRestInput" in written
    assert not any("slack" in key.lower() for key in written)
    printed = capsys.readouterr().out
    assert "http://localhost:5005/webhooks/widget/demo" in printed
    assert "slack   off" in printed


def test_credentials_with_slack_keep_secrets_out_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_TOKEN", "very-secret-bot-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret-value")
    out = tmp_path / "credentials.yml"
    assert credentials_cli.main(["--out", str(out)]) == 0
    text = out.read_text()
    assert "${SLACK_TOKEN}" in text and "${SLACK_SIGNING_SECRET}" in text
    assert "very-secret-bot-token" not in text and "signing-secret-value" not in text
    assert "bot.channels.slack.GuardedSlackInput" in yaml.safe_load(text)
    assert "/webhooks/slack/webhook" in capsys.readouterr().out


def test_half_configured_slack_fails_naming_the_missing_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_TOKEN", "xoxb-token")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    assert credentials_cli.main(["--out", str(tmp_path / "c.yml")]) == 2
    assert "SLACK_SIGNING_SECRET" in capsys.readouterr().err
    assert not (tmp_path / "c.yml").exists()
    with pytest.raises(SettingsError):
        credentials_cli.effective_credentials(load_settings({"SLACK_TOKEN": "x"}))
