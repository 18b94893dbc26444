"""The container image's start command, run as the image runs it (issue 13, items 7 and 13).

Docker is not needed: the runtime stage of `deploy/Dockerfile` is laid out in a
temporary directory from its own `COPY` lines (so a file the image lacks is missing here
too), its `ENV` lines are applied, and its `CMD` is run there unchanged with the
production endpoints on the machine's PostgreSQL and Redis. Only the listening address
and the model (the one under test, where the image has the one it trained) differ.

- With the Slack variables set, `/webhooks/slack/webhook` is served.
- With `RASA_API_TOKEN` set, the HTTP API is on, and no process's command line (what
  `ps` shows) holds the token.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from bot.channels.slack_signature import sign
from bot.launcher import ServerProcess
from tests.support.databases import REDIS_URL, fresh_postgres_database, redis_client
from tests.support.fake_slack import FakeSlack
from tests.support.servers import free_port, model_under_test

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
SIGNING_SECRET = "image-signing-secret"
API_TOKEN = "image-api-token-" + uuid.uuid4().hex

pytestmark = [pytest.mark.server, pytest.mark.redis]


def _instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _runtime_stage() -> list[str]:
    instructions = _instructions()
    start = next(i for i, line in enumerate(instructions) if line.endswith("AS runtime"))
    return instructions[start:]


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in _instructions():  # ENV of the base stage is inherited by the runtime one
        if line.startswith("ENV "):
            for pair in line[4:].split():
                key, value = pair.split("=", 1)
                env[key] = value
    return env


def lay_out_image(app: Path, model: Path) -> list[str]:
    """Copy what the runtime stage copies into `app`; return its CMD."""
    command: list[str] = []
    for line in _runtime_stage():
        words = line.split()
        if words[0] == "COPY" and not any(w.startswith("--from=") for w in words):
            *sources, dest = [w for w in words[1:] if not w.startswith("--")]
            for source in sources:
                # As Docker does: a folder's contents go into the destination; a file
                # goes into it when it ends with "/" (or there are several sources).
                target = app / dest
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, target, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                    continue
                if dest.endswith("/") or len(sources) > 1:
                    target = target / Path(source).name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / source, target)
        elif words[0] == "COPY":  # the model the build trained: the one under test here
            (app / "models").mkdir(exist_ok=True)
        elif words[0] == "CMD":
            command = json.loads(line[3:].strip())
    trained = re.search(r"--fixed-model-name\s+(\S+)", DOCKERFILE.read_text())
    assert trained, "the Dockerfile trains a model with a fixed name"
    (app / "models" / f"{trained.group(1)}.tar.gz").symlink_to(model.resolve())
    assert command, "the Dockerfile has an exec-form CMD"
    return command


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, FakeSlack]]:
    app = tmp_path_factory.mktemp("image") / "app"
    app.mkdir()
    command = lay_out_image(app, model_under_test())
    port = free_port()
    location = urlsplit(REDIS_URL)
    redis_client().close()  # fails clearly when Redis is not running
    with fresh_postgres_database("image") as database, FakeSlack() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RASA_"))},
            **_image_env(),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "RASA_INTERFACE": "127.0.0.1", "RASA_PORT": str(port),
            "TMPDIR": str(tmp_path_factory.mktemp("tmp")),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}/webhook",
            "DB_HOST": database.host, "DB_PORT": str(database.port),
            "DB_NAME": database.name, "DB_USER": database.user,
            "DB_PASSWORD": database.password,
            "REDIS_HOST": location.hostname or "127.0.0.1",
            "REDIS_PORT": str(location.port or 6379),
            "REDIS_DB": location.path.strip("/") or "0", "REDIS_PASSWORD": "",
            "REDIS_KEY_PREFIX": "image" + uuid.uuid4().hex[:8],
            "SLACK_TOKEN": slack.token, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_BASE_URL": slack.base_url, "RASA_API_TOKEN": API_TOKEN,
        }
        # The image's environment only (not ours), in the image's working directory.
        server = ServerProcess("the image's start command", command, env, port,
                               app.parent / "server.log", "/", cwd=app,
                               inherit_env=False).start()
        try:
            server.wait_ready(240.0)
            yield server.url, server.pid, slack
        finally:
            server.stop(timeout=30.0)


def _signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(SIGNING_SECRET, stamp, body)}


def test_with_the_slack_variables_set_the_image_serves_the_slack_webhook(
        image: tuple[str, int, FakeSlack]) -> None:
    base, _, _ = image
    body = json.dumps({"type": "url_verification", "challenge": "c-123"}).encode()
    verified = requests.post(base + "/webhooks/slack/webhook", data=body,
                             headers=_signed(body), timeout=10)
    assert verified.status_code == 200 and verified.json() == {"challenge": "c-123"}
    unsigned = requests.post(base + "/webhooks/slack/webhook", data=body, timeout=10,
                             headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401


def test_a_slack_message_is_answered_through_the_image(
        image: tuple[str, int, FakeSlack]) -> None:
    base, _, slack = image
    channel = "D" + uuid.uuid4().hex[:8].upper()
    body = json.dumps({
        "type": "event_callback", "event_id": "Ev" + uuid.uuid4().hex[:10],
        "event": {"type": "message", "text": "hello", "user": "U0IMAGE",
                  "ts": f"{time.time():.6f}", "channel": channel, "channel_type": "im"},
    }).encode()
    answer = requests.post(base + "/webhooks/slack/webhook", data=body,
                           headers=_signed(body), timeout=10)
    assert answer.status_code == 200
    assert slack.wait_for(lambda _: bool(slack.posts(channel=channel)), timeout=60)


def _command_lines() -> dict[int, str]:
    lines = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                raw: Any = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            lines[int(proc.name)] = raw.replace(b"\0", b" ").decode(errors="replace")
    return lines


def test_the_api_token_is_on_no_command_line(image: tuple[str, int, FakeSlack]) -> None:
    base, pid, _ = image
    assert requests.get(base + "/status", timeout=10).status_code == 401
    assert requests.get(base + "/status", params={"token": API_TOKEN},
                        timeout=10).status_code == 200
    lines = _command_lines()
    assert pid in lines and "bot.serve" in lines[pid]
    assert not [line for line in lines.values() if API_TOKEN in line]
