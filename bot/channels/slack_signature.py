"""Slack request signatures (`v0`, HMAC-SHA256), checked before anything else is read.

See Slack's "Verifying requests from Slack": the signed string is
`v0:<X-Slack-Request-Timestamp>:<raw body>`, keyed with the app's signing secret, and
the `X-Slack-Signature` header carries `v0=<hex digest>`. Requests older (or newer)
than five minutes are refused so that a captured request cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from enum import Enum

VERSION = "v0"
MAX_AGE_SECONDS = 5 * 60


class SignatureCheck(str, Enum):
    """The outcome of a check; anything but `VALID` means the request is refused."""

    VALID = "valid"
    MISSING = "missing_signature_or_timestamp"
    MALFORMED = "malformed_timestamp"
    STALE = "stale_timestamp"
    BAD_SIGNATURE = "bad_signature"


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The `X-Slack-Signature` value Slack would send for `body` at `timestamp`."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def check_signature(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | None = None,
    max_age_seconds: int = MAX_AGE_SECONDS,
) -> SignatureCheck:
    """Check a request's signature headers against its raw body.

    Args:
        secret: the app's signing secret.
        timestamp: the `X-Slack-Request-Timestamp` header (seconds since the epoch).
        signature: the `X-Slack-Signature` header.
        body: the raw request body, exactly as received.
        now: the current time (injected by tests).
        max_age_seconds: largest accepted difference between `timestamp` and `now`.

    Returns:
        `SignatureCheck.VALID`, or the reason for refusing the request.
    """
    if not secret or not timestamp or not signature:
        return SignatureCheck.MISSING
    try:
        sent_at = int(timestamp)
    except ValueError:
        return SignatureCheck.MALFORMED
    current = time.time() if now is None else now
    if abs(current - sent_at) > max_age_seconds:
        return SignatureCheck.STALE
    expected = sign(secret, timestamp, body)
    # Constant-time comparison: the digest must not leak through response timing.
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return SignatureCheck.BAD_SIGNATURE
    return SignatureCheck.VALID
