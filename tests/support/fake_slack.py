"""A stand-in for Slack's Web API: a real HTTP server on 127.0.0.1 that records calls.

    with FakeSlack() as slack:            # listens on a free loopback port
        ... SLACK_API_BASE_URL=slack.base_url ...
        slack.wait_for(lambda calls: len(calls) >= 1, timeout=10)
        slack.calls("chat.postMessage")   # [{"channel": ..., "text": ..., ...}, ...]

It answers like Slack (`{"ok": true, "ts": ...}`), accepts JSON and form bodies, checks
the bearer token, and can be told to answer the next calls with an error
(`slack.fail_next(...)`), to test retries and refusals; with `after_handling=True`, or
with `slack.stall_next(seconds)`, the call takes effect but its answer is lost (an error
or a timeout), the window in which a sender cannot know whether it posted.

It keeps the channels' messages, as Slack does: `chat.postMessage` adds one (with its
`metadata`), `chat.update` and `chat.delete` change them (`message_not_found` when there
is none), `conversations.history` lists them newest first (from `oldest`, with their
metadata when `include_all_metadata` is set): `slack.messages("C0SALES")`. Threads:
`conversations.replies` lists a thread's messages (its first one first), as does
`slack.replies("C0SALES", ts)`; `users.info` answers with the name set in
`slack.user_names` (or "Test Engineer").
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs


@dataclass
class ApiCall:
    """One recorded Web API call."""

    method: str
    args: dict[str, Any]
    token: str
    ts: str = ""  # the message timestamp the fake answered with
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    """The fake Web API server; use it as a context manager."""

    def __init__(self, token: str = "test-bot-token", host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.token = token
        self._calls: list[ApiCall] = []
        # (status, body, whether the call takes effect first, seconds to stall first)
        self._failures: list[tuple[int, dict[str, Any], bool, float]] = []
        self._messages: dict[str, list[dict[str, Any]]] = {}
        # user id -> the display name `users.info` answers with.
        self.user_names: dict[str, str] = {}
        self._lock = threading.Condition()
        self._ts = time.time()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:  # slack_sdk reads with GET (users.info)
                fake._handle(self)

            def log_message(self, *_: Any) -> None:  # keep test output quiet
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The Web API base URL to configure (`SLACK_API_BASE_URL`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, status: int = 200, body: dict[str, Any] | None = None,
                  after_handling: bool = False) -> None:
        """Answer the next call with `status` and `body` (default `ok: false`); with
        `after_handling`, the call takes effect first (a post whose answer is lost)."""
        with self._lock:
            self._failures.append(
                (status, body or {"ok": False, "error": "internal_error"}, after_handling, 0.0))

    def stall_next(self, seconds: float) -> None:
        """Let the next call take effect, then wait `seconds` before answering (so that
        a client with a shorter timeout gives up without knowing it succeeded)."""
        with self._lock:
            self._failures.append((200, {}, True, seconds))

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The messages the channel holds now, oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages.get(channel, [])]

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The thread's messages now, its first message first."""
        return [m for m in self.messages(channel)
                if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The recorded calls, optionally of one method only, oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def posts(self, **match: Any) -> list[dict[str, Any]]:
        """Arguments of `chat.postMessage` calls whose arguments include `match`."""
        return [c.args for c in self.calls("chat.postMessage")
                if all(c.args.get(k) == v for k, v in match.items())]

    def wait_for(self, predicate: Callable[[list[ApiCall]], bool], timeout: float) -> bool:
        """Wait until `predicate(all calls)` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(list(self._calls)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path, _, query = request.path.partition("?")
        method = path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        content_type = (request.headers.get("Content-Type") or "").split(";")[0]
        args: dict[str, Any]
        if request.command == "GET":
            args = {k: v[0] for k, v in parse_qs(query).items()}
        elif content_type == "application/json":
            args = json.loads(raw or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            for key in ("blocks", "attachments"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        auth = request.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() or str(args.get("token", ""))
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            handled = token == self.token and (failure is None or failure[2])
            body: dict[str, Any] = {}
            if handled:
                self._ts = max(time.time(), self._ts + 0.000001)
                ts = f"{self._ts:.6f}"
                self._calls.append(ApiCall(method, args, token, ts))
                body = self._apply(method, args, ts)
                self._lock.notify_all()
        if failure is not None and failure[3]:
            time.sleep(failure[3])
            status = 200
        elif failure is not None:
            status, body = failure[0], failure[1]
        elif token != self.token:
            status, body = 200, {"ok": False, "error": "invalid_auth"}
        else:
            status = 200
        payload = json.dumps(body).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a stall)
            pass

    def _apply(self, method: str, args: dict[str, Any], ts: str) -> dict[str, Any]:
        """What Slack would do and answer for `method` (the lock is held)."""
        channel = str(args.get("channel") or "")
        held = self._messages.setdefault(channel, [])
        found = [m for m in held if m["ts"] == args.get("ts")]
        if method == "chat.postMessage":
            message = {"ts": ts, "text": args.get("text"), "blocks": args.get("blocks"),
                       "thread_ts": args.get("thread_ts"), "metadata": args.get("metadata")}
            held.append(message)
            return {"ok": True, "channel": channel, "ts": ts,
                    "message": {"text": args.get("text"), "ts": ts}}
        if method in ("chat.update", "chat.delete") and not found:
            return {"ok": False, "error": "message_not_found"}
        if method == "chat.update":
            found[0].update(text=args.get("text"), blocks=args.get("blocks"))
            return {"ok": True, "channel": channel, "ts": found[0]["ts"]}
        if method == "chat.delete":
            held.remove(found[0])
            return {"ok": True, "channel": channel, "ts": found[0]["ts"]}
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            with_metadata = str(args.get("include_all_metadata")).lower() == "true"
            listed = [{k: v for k, v in m.items() if with_metadata or k != "metadata"}
                      for m in reversed(held) if float(m["ts"]) >= oldest]
            return {"ok": True, "messages": listed, "has_more": False}
        if method == "conversations.replies":
            thread = str(args.get("ts") or "")
            listed = [m for m in held if m["ts"] == thread or m.get("thread_ts") == thread]
            if not listed:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": listed, "has_more": False}
        if method == "users.info":
            user = str(args.get("user") or "")
            name = self.user_names.get(user, "Test Engineer")
            return {"ok": True, "user": {"id": user, "name": name.lower().replace(" ", "."),
                                         "real_name": name,
                                         "profile": {"display_name": name,
                                                     "real_name": name}}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {"text": args.get("text"), "ts": ts}}
