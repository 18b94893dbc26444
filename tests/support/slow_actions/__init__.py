"""Test-only action package: the project's actions, each delayed by SLOW_ACTION_SECONDS.

Run it with `python -m rasa_sdk --actions tests.support.slow_actions`. It registers
every action of the `actions` package and makes the executor wait before running one,
so a test can prove that a channel answers its webhook in time while an action is slow.
`SLOW_ACTIONS` (comma-separated names) limits the delay to those actions.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import pkgutil
from typing import Any

from rasa_sdk.executor import ActionExecutor

import actions

# Import every module of the real package, so that the executor finds its actions.
for _module in pkgutil.iter_modules(actions.__path__, actions.__name__ + "."):
    importlib.import_module(_module.name)

_DELAY = float(os.environ.get("SLOW_ACTION_SECONDS", "5"))
_ONLY = {n.strip() for n in os.environ.get("SLOW_ACTIONS", "").split(",") if n.strip()}
_original_run = ActionExecutor.run


async def _slow_run(self: ActionExecutor, action_call: Any) -> Any:
    name = action_call.get("next_action")
    if not _ONLY or name in _ONLY:
        await asyncio.sleep(_DELAY)
    return await _original_run(self, action_call)


ActionExecutor.run = _slow_run
