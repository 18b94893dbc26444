"""Which address a request is counted under, and how the three limits combine."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.ratelimit import (
    LocalRateLimiter,
    RateLimits,
    SlidingWindowRateLimiter,
    client_address,
    parse_proxies,
)
from bot.settings import SettingsError, load_settings

PROXIES = parse_proxies(["10.0.0.0/8", "192.0.2.1"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        # not from a proxy: the header is the client's own claim, ignored
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        # the client may prepend anything; the proxy's hop (rightmost) is believed
        ("10.1.2.3", "1.1.1.1, 198.51.100.1", "198.51.100.1"),
        # two proxies in a row are skipped
        ("10.1.2.3", "198.51.100.1, 192.0.2.1", "198.51.100.1"),
        ("10.1.2.3", "garbage", "10.1.2.3"),
        ("10.1.2.3", None, "10.1.2.3"),
    ],
)
def test_client_address(peer: str, forwarded_for: str | None, expected: str) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == expected


def test_a_malformed_proxy_fails_at_start_naming_the_setting() -> None:
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        parse_proxies(["10.0.0.0/8", "proxy.example.com"])


def test_address_and_global_limits_default_to_multiples_of_the_conversation_limit() -> None:
    settings = load_settings({"RATE_LIMIT_MESSAGES": "10"})
    assert (settings.rate_limit_client_messages, settings.rate_limit_global_messages) == (
        40, 1000)
    off = load_settings({"RATE_LIMIT_MESSAGES": "0"})
    assert (off.rate_limit_client_messages, off.rate_limit_global_messages) == (0, 0)
    own = load_settings({"RATE_LIMIT_CLIENT_MESSAGES": "7", "TRUSTED_PROXIES": "10.0.0.1"})
    assert own.rate_limit_client_messages == 7 and own.trusted_proxies == ("10.0.0.1",)


def _limits(conversation: int, client: int, everyone: int) -> RateLimits:
    return RateLimits(*(LocalRateLimiter(SlidingWindowRateLimiter(n, 60.0))
                        for n in (conversation, client, everyone)))


def test_new_conversations_from_one_address_hit_the_address_limit() -> None:
    limits = _limits(conversation=5, client=3, everyone=100)

    async def flood() -> list[float]:
        return [await limits.hit(f"c{n}", "198.51.100.1") for n in range(4)]

    waits = asyncio.run(flood())
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] > 0
    assert asyncio.run(limits.hit("c9", "198.51.100.2")) == 0.0  # another visitor


def test_a_channel_without_addresses_is_still_under_the_global_limit() -> None:
    limits = _limits(conversation=5, client=1, everyone=2)

    async def flood() -> list[float]:
        return [await limits.hit(f"c{n}", None) for n in range(3)]

    waits = asyncio.run(flood())
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0


def test_python_m_bot_check_names_a_malformed_trusted_proxy() -> None:
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        load_settings({"TRUSTED_PROXIES": "10.0.0.0/8,not-an-address"}).check()
    load_settings({"TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.1,2001:db8::/32"}).check()
