"""The e2e servers inherit this process's environment: switch the REST channel on with
the suite's token (it is off without one, issue 13 item 2)."""

from __future__ import annotations

import os

from tests.support.servers import REST_TOKEN

os.environ.setdefault("REST_CHANNEL_TOKEN", REST_TOKEN)
