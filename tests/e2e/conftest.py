"""The e2e servers inherit this process's environment: switch the REST channel on with
the suite's token (it is off without one, issue 13 item 2), and raise the per-address
rate limit, since this one client on 127.0.0.1 stands in for every visitor (the limit
itself is tested in tests/integration/test_rate_limits.py, issue 13 item 9)."""

from __future__ import annotations

import os

from tests.support.servers import REST_TOKEN

os.environ.setdefault("REST_CHANNEL_TOKEN", REST_TOKEN)
os.environ.setdefault("RATE_LIMIT_CLIENT_MESSAGES", "100000")
