"""Start, wait for and stop the action server and the Rasa server: the one launcher.

    python -m bot.launcher run --model MODEL [--endpoints FILE] [--credentials FILE]
    python -m bot.launcher actions [--port N] [--data-dir DIR] [--log FILE] [-- COMMAND ...]

`run` is `make run` (scripts/run.sh): both servers on the settings' ports, their output
on this terminal, the addresses printed once both answer; Ctrl-C stops both. `actions`
starts the action server, waits until `/health` answers and runs COMMAND with
`ACTION_SERVER_URL` pointing at it (scripts/test.sh's conversation tests), then stops it;
without a COMMAND it serves until Ctrl-C.

From Python, the benchmark (bench/) and the end-to-end tests start their servers here
too: `start_stack` for an action server and the Rasa server that calls it, or
`start_action_server` and `start_rasa_server` alone. Each server runs in a session of its
own, so that stopping it by its id stops its children too, and its `ServerProcess`
gives what the benchmark reads: the pid, the peak memory from /proc, the seconds until
it answered (`ready_after`), pause and resume. Nothing here imports Rasa.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT, load_settings

# The interpreter running us lives in the project's virtualenv; its `rasa` sits next to it.
VENV_BIN = Path(sys.executable).parent
MODELS_DIR = PROJECT_ROOT / "models"
REST_WEBHOOK = "/webhooks/rest/webhook"
LOOPBACK = "127.0.0.1"
# Where `free_ports` picks from unless told otherwise (the team's range for the benchmark;
# the tests have their own, tests/support/servers.py).
PORT_RANGE = (5400, 5499)
# Quiet, offline servers: no telemetry calls leave the machine.
BASE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONUNBUFFERED": "1",
}
# What endpoints.yml says; Rasa substitutes it from the server's environment.
ACTION_URL_FROM_ENV = "${ACTION_SERVER_URL}"
# How the messages of `run` name the servers.
LABELS = {"actions": "the action server", "rasa": "the Rasa server"}


class LaunchError(RuntimeError):
    """A server did not come up; the message points at its log."""

    def __init__(self, message: str, server: ServerProcess | None = None) -> None:
        super().__init__(message)
        self.server = server


# ---- ports, memory, models ------------------------------------------------------------

_handed_out: set[int] = set()


def port_is_free(port: int) -> bool:
    """Tell whether nothing listens on `port` on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_ports(count: int, start: int = PORT_RANGE[0], end: int = PORT_RANGE[1]) -> list[int]:
    """Pick `count` free loopback ports in [start, end], none handed out before here.

    In random order: two suites started at the same moment would otherwise both pick the
    lowest free ports and one would fail to bind; and a port handed out is not handed out
    again by this process, as its server may not be listening yet.
    """
    candidates = [p for p in range(start, end + 1) if p not in _handed_out]
    random.shuffle(candidates)
    found = [p for p in candidates if port_is_free(p)][:count]
    if len(found) < count:
        raise LaunchError(f"need {count} free ports in {start}-{end}, found {found}")
    _handed_out.update(found)
    return found


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of a live process in MiB, or None when it is gone."""
    return _status_kb(pid, "VmHWM")


def current_rss_mb(pid: int) -> float | None:
    """Current resident memory (VmRSS) of a live process in MiB, or None when it is gone."""
    return _status_kb(pid, "VmRSS")


def _status_kb(pid: int, key: str) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    return None


def latest_model(directory: Path = MODELS_DIR) -> Path | None:
    """The newest `*.tar.gz` model in `directory`, if any."""
    models = sorted(directory.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def model_to_serve(given: str | Path | None, source: str = "--model") -> Path:
    """The model `given` (named by `source` in messages), else the newest in models/.

    Raises:
        LaunchError: the given file does not exist, or there is no model at all.
    """
    if given and str(given).strip():
        path = Path(str(given).strip())
        if not path.exists():
            raise LaunchError(f"{source}={given} does not exist")
        return path
    newest = latest_model()
    if newest is None:
        raise LaunchError(f"no trained model in models/: run `make train` or set {source}")
    return newest


def new_sender(prefix: str = "probe") -> str:
    """A REST sender nobody used before: a new conversation."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def log_tail(path: Path | None, lines: int = 40) -> str:
    """The last `lines` lines of a log file ("" when there is none)."""
    if path is None:
        return ""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def http_json(
    method: str,
    url: str,
    body: Any = None,
    timeout: float = 10.0,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """A small blocking JSON request (stdlib only) for readiness checks and assertions.

    `headers` are added, e.g. the REST channel's `Authorization: Bearer <token>`.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


# ---- one server ------------------------------------------------------------------------

@dataclass
class ServerProcess:
    """A server we started: its command, its process, where it listens and where it logs.

    `log_path` None leaves its output on our own standard output (`run`). `env` is added
    to ours, or with `inherit_env` False is all of its environment (with `BASE_ENV`).
    """

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    log_path: Path | None
    ready_path: str
    host: str = LOOPBACK
    cwd: Path = PROJECT_ROOT
    inherit_env: bool = True
    popen: subprocess.Popen[bytes] = field(init=False, repr=False)
    started_at: float = field(init=False, default=0.0)
    ready_after: float | None = field(init=False, default=None)

    def start(self) -> ServerProcess:
        """Spawn the process (again, after `stop`); its log is appended to."""
        if getattr(self, "popen", None) is not None and self.alive():
            raise LaunchError(f"{self.name} is already running (pid {self.pid})", self)
        output: Any = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            output = self.log_path.open("ab")
        try:
            self.started_at = time.monotonic()
            self.ready_after = None
            # A session of its own, so that stopping it by its id also stops any children,
            # and a Ctrl-C on the terminal reaches us, who stop it, rather than it.
            self.popen = subprocess.Popen(
                self.command, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT if output else None,
                env={**(os.environ if self.inherit_env else {}), **BASE_ENV, **self.env},
                start_new_session=True)
        finally:
            if output is not None:
                output.close()
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.pid)

    def current_rss_mb(self) -> float | None:
        return current_rss_mb(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def exited_message(self) -> str:
        where = (f"log {self.log_path}:\n{self.log_tail()}" if self.log_path
                 else "see its output above")
        return f"{self.name} exited with {self.popen.returncode}; {where}"

    def answers(self, path: str | None = None) -> bool:
        """Whether `path` (default: its readiness path) answers 200 right now."""
        try:
            status, _ = http_json("GET", self.url + (path or self.ready_path), timeout=5.0)
        except (OSError, urllib.error.URLError):
            return False
        return status == 200

    def wait_ready(self, timeout: float, path: str | None = None) -> float:
        """Poll until it answers 200; return (and keep) the seconds since it was spawned.

        Raises:
            LaunchError: it exited, or did not answer within `timeout` seconds of its start.
        """
        deadline = self.started_at + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise LaunchError(self.exited_message(), self)
            if self.answers(path):
                self.ready_after = time.monotonic() - self.started_at
                return self.ready_after
            time.sleep(0.05)
        raise LaunchError(f"{self.name} not ready on port {self.port} after {timeout:.0f} s; "
                          f"log {self.log_path}:\n{self.log_tail()}", self)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop its process group (SIGTERM, then SIGKILL); nothing when it is not running."""
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=timeout)

    def restart(self, down_seconds: float = 0.0) -> ServerProcess:
        """Stop it, stay down `down_seconds` (so that clients notice), and start it again
        on the same port with the same command; wait for it with `wait_ready`."""
        self.stop()
        time.sleep(down_seconds)
        return self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it accepts connections but never answers."""
        os.killpg(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Undo `pause`."""
        os.killpg(self.pid, signal.SIGCONT)


def action_server_env(port: int) -> dict[str, str]:
    """The settings that put the action server on `port` and point Rasa at it.

    As under `make run`: the action server reads ACTIONS_PORT, and an endpoints file with
    `url: ${ACTION_SERVER_URL}` gets the URL that bot/settings.py derives from it.
    """
    settings = load_settings({"ACTIONS_PORT": str(port)})
    return {"ACTIONS_PORT": str(settings.actions_port),
            "ACTION_SERVER_URL": settings.action_server_url()}


def start_action_server(
    port: int,
    log_path: Path | None,
    *,
    data_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    package: str = "actions",
) -> ServerProcess:
    """Start our action server (`python -m bot.action_server`) on loopback.

    Args:
        port: reaches it as ACTIONS_PORT, as under `make run`.
        log_path: its output; None leaves it on ours.
        data_dir: its APP_DATA_DIR (the SQLite lead database); None keeps the settings'
            (var/), which servers started for tests must not share.
        env: further environment.
        package: the actions package it loads.
    """
    command = [str(VENV_BIN / "python"), "-m", "bot.action_server", "--actions", package,
               "--host", LOOPBACK]
    data = {"APP_DATA_DIR": str(data_dir)} if data_dir is not None else {}
    return ServerProcess("actions", command, {**data, **(env or {}), "ACTIONS_PORT": str(port)},
                         port, log_path, "/health").start()


def start_rasa_server(
    model: Path,
    port: int,
    endpoints: Path,
    log_path: Path | None,
    *,
    credentials: Path | None = None,
    auth_token: str | None = None,
    env: Mapping[str, str] | None = None,
    cors: Sequence[str] | None = None,
    interface: str = LOOPBACK,
) -> ServerProcess:
    """Start `rasa run`; the HTTP API is on only when `auth_token` is given.

    `cors` passes the allowed origins as `make run` does (`--cors ...`); `interface` is
    where it listens (it is checked on loopback unless that is a specific other address).
    """
    command = [str(VENV_BIN / "rasa"), "run", "-m", str(model), "--port", str(port),
               "--interface", interface, "--endpoints", str(endpoints),
               "--credentials", str(credentials or PROJECT_ROOT / "credentials.yml")]
    if auth_token:
        command += ["--enable-api", "--auth-token", auth_token]
    if cors is not None:
        command += ["--cors", *cors]
    host = LOOPBACK if interface in ("0.0.0.0", "::", "localhost") else interface
    return ServerProcess("rasa", command, dict(env or {}), port, log_path, "/",
                         host=host).start()


def wait_for_reply(
    server: ServerProcess,
    timeout: float,
    *,
    headers: Mapping[str, str] | None = None,
    webhook: str = REST_WEBHOOK,
    answered: Callable[[int, Any], bool] | None = None,
) -> float:
    """Seconds from spawning the Rasa server until its REST webhook answers a new visitor.

    The cold start as a visitor sees it: the model loaded, the first turn's lazily built
    parts built. `answered(status, body)` decides what counts as an answer (default: a
    200 with at least one message).

    Raises:
        LaunchError: it exited, or gave no answer within `timeout` seconds of its start.
    """
    def replied(status: int, body: Any) -> bool:
        return status == 200 and isinstance(body, list) and bool(body)

    check = answered or replied
    deadline = server.started_at + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise LaunchError(server.exited_message(), server)
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            status, body = http_json("POST", server.url + webhook,
                                     {"sender": new_sender("cold"), "message": "hello"},
                                     timeout=30.0, headers=headers)
            if check(status, body):
                return time.monotonic() - server.started_at
        time.sleep(0.1)
    raise LaunchError(f"no reply from {server.name} after {timeout:.0f} s; "
                      f"log {server.log_path}:\n{server.log_tail()}", server)


# ---- endpoints and a stack ----------------------------------------------------------------

def product_action_endpoint_options() -> dict[str, Any]:
    """endpoints.yml's `action_endpoint` keys other than its URL."""
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    return {key: value for key, value in (endpoints.get("action_endpoint") or {}).items()
            if key != "url"}


def sqlite_tracker_store(path: Path) -> dict[str, Any]:
    """Endpoint config of Rasa's SQL tracker store on a SQLite file."""
    return {"type": "SQL", "dialect": "sqlite", "db": str(path)}


def write_endpoints(path: Path, action_port: int | None,
                    tracker_store: Mapping[str, Any] | None,
                    lock_store: Mapping[str, Any] | None = None,
                    action_endpoint: Mapping[str, Any] | None = None) -> Path:
    """Write an endpoints file pointing at our action server and the given stores.

    Args:
        path: the file to write.
        action_port: the action server's port on loopback, written as a literal URL;
            None writes endpoints.yml's `${ACTION_SERVER_URL}` instead, and the Rasa
            server then needs that variable (`action_server_env`).
        tracker_store: tracker store endpoint; None keeps trackers in memory.
        lock_store: lock store endpoint; None is Rasa's in-memory one.
        action_endpoint: further `action_endpoint` keys; None takes endpoints.yml's (such
            as `enable_selective_domain`), so that servers run as the product does; `{}`
            gives Rasa's defaults, as a stock project has them.
    """
    url = ACTION_URL_FROM_ENV if action_port is None else (
        f"http://{LOOPBACK}:{action_port}/webhook")
    options = product_action_endpoint_options() if action_endpoint is None else action_endpoint
    content: dict[str, Any] = {"action_endpoint": {"url": url, **options}}
    if tracker_store:
        content["tracker_store"] = dict(tracker_store)
    if lock_store:
        content["lock_store"] = dict(lock_store)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(content, sort_keys=False)
    # safe_dump quotes "${...}", and Rasa only substitutes variables in plain scalars.
    text = text.replace(f"'{ACTION_URL_FROM_ENV}'", ACTION_URL_FROM_ENV)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Stack:
    """An action server and the Rasa server that calls it, started together."""

    actions: ServerProcess
    rasa: ServerProcess
    workdir: Path
    endpoints: Path
    auth_token: str | None = None

    @property
    def url(self) -> str:
        """The Rasa server's base URL, e.g. `http://127.0.0.1:5301`."""
        return self.rasa.url

    def wait_ready(self, timeout: float = 300.0, actions_timeout: float = 120.0) -> None:
        """Wait for the action server, then the Rasa server (see `start_stack(wait=False)`)."""
        self.actions.wait_ready(actions_timeout)
        self.rasa.wait_ready(timeout)

    def logs(self, lines: int = 60) -> str:
        """The end of both servers' logs, for assertion messages."""
        return (f"--- rasa ({self.rasa.log_path}) ---\n{self.rasa.log_tail(lines)}\n"
                f"--- actions ({self.actions.log_path}) ---\n{self.actions.log_tail(lines)}")

    def restart_rasa(self, down_seconds: float = 0.0, timeout: float = 300.0) -> None:
        """Restart the Rasa server on its port with its files and wait until it answers."""
        self.rasa.restart(down_seconds)
        self.rasa.wait_ready(timeout)

    def stop(self) -> None:
        """Stop both servers (each by its own process group)."""
        self.rasa.stop()
        self.actions.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_stack(
    model: Path,
    workdir: Path,
    *,
    name: str = "",
    ports: tuple[int, int] | None = None,
    endpoints: Path | None = None,
    tracker_store: Mapping[str, Any] | None = None,
    lock_store: Mapping[str, Any] | None = None,
    action_endpoint: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | Path | None = None,
    auth_token: str | None = None,
    cors: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    action_env: Mapping[str, str] | None = None,
    actions_package: str = "actions",
    ready_timeout: float = 300.0,
    wait: bool = True,
) -> Stack:
    """Start the action server, then the Rasa server, and wait until both answer.

    The order matters: Rasa's first turns may call actions. Whatever was started is
    stopped again if a later step fails. The Rasa server finds the action server as under
    `make run`: endpoints `url: ${ACTION_SERVER_URL}`, set from the action server's port.

    Args:
        model: the trained model.
        workdir: the logs, the endpoints (and credentials) file, and the action server's
            APP_DATA_DIR (its SQLite lead database, `app.db`).
        name: prefix of the file names, for several stacks in one `workdir`.
        ports: (Rasa, action server); free ones from `PORT_RANGE` by default.
        endpoints: an endpoints file to use as it is (it must read the action server's
            URL from `${ACTION_SERVER_URL}`); by default one is written from
            `tracker_store`, `lock_store` and `action_endpoint` (see `write_endpoints`).
        credentials: a credentials mapping (written to a file) or a file; the project's
            `credentials.yml` by default.
        auth_token: switches the HTTP API on, protected by this token.
        cors: origins for `rasa run --cors` (as `make run` passes them); none by default.
        env: further environment of the Rasa server (e.g. ALLOWED_ORIGINS).
        action_env: further environment of the action server.
        actions_package: the package the action server loads.
        ready_timeout: seconds to wait for the Rasa server.
        wait: False returns once both are spawned; then call `Stack.wait_ready`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = f"{name}-" if name else ""
    rasa_port, action_port = ports or tuple(free_ports(2))
    if endpoints is None:
        endpoints = write_endpoints(workdir / f"{prefix}endpoints.yml", None, tracker_store,
                                    lock_store, action_endpoint)
    if credentials is not None and not isinstance(credentials, Path):
        path = workdir / f"{prefix}credentials.yml"
        path.write_text(yaml.safe_dump(dict(credentials), sort_keys=False), encoding="utf-8")
        credentials = path
    with contextlib.ExitStack() as on_failure:
        actions = start_action_server(action_port, workdir / f"{prefix}actions.log",
                                      data_dir=workdir, env=action_env,
                                      package=actions_package)
        on_failure.callback(actions.stop)
        if wait:
            actions.wait_ready(120.0)
        rasa = start_rasa_server(model, rasa_port, endpoints, workdir / f"{prefix}rasa.log",
                                 credentials=credentials, auth_token=auth_token,
                                 env={**(env or {}), **action_server_env(action_port)},
                                 cors=cors)
        on_failure.callback(rasa.stop)
        if wait:
            rasa.wait_ready(ready_timeout)
        on_failure.pop_all()  # the caller owns them now
    return Stack(actions=actions, rasa=rasa, workdir=workdir, endpoints=endpoints,
                 auth_token=auth_token)


@contextlib.contextmanager
def running_stack(model: Path, workdir: Path, **options: Any) -> Iterator[Stack]:
    """`start_stack(...)` as a context manager that always stops both."""
    stack = start_stack(model, workdir, **options)
    try:
        yield stack
    finally:
        stack.stop()


# ---- the command line -------------------------------------------------------------------

class _StopSignalError(Exception):
    """SIGTERM or SIGHUP arrived: stop as on Ctrl-C."""


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _StopSignalError(signum)


@contextlib.contextmanager
def _stopping_on_signals(servers: Sequence[ServerProcess],
                         message: str | None = None) -> Iterator[None]:
    """Stop `servers` however the block ends (Ctrl-C, SIGTERM, SIGHUP, an error),
    printing `message` first."""
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGTERM,
                                                                    signal.SIGHUP)}
    # Ctrl-C, even when we were started with SIGINT ignored (as `cmd &` in a script is).
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        # A second Ctrl-C must not cut the stopping short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if message:
            print(message, flush=True)
        for server in reversed(servers):
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _banner(rasa_port: int) -> str:
    base = f"http://127.0.0.1:{rasa_port}"
    return f"""
The assistant is running. Talk to it:
  - website widget demo:  {base}/webhooks/widget/demo
  - REST webhook:         (on when REST_CHANNEL_TOKEN is set)
                          curl -s -XPOST {base}/webhooks/rest/webhook \\
                            -H "Authorization: Bearer $REST_CHANNEL_TOKEN" \\
                            -d '{{"sender": "me", "message": "what is a container?"}}'
  - insight page:         {base}/admin/insights   (on when ADMIN_TOKEN is set)
  - terminal:             make shell   (in another terminal; a second Rasa server on port \
5006 that uses this action server)
Press Ctrl-C to stop both servers."""


def _run(args: argparse.Namespace) -> int:
    """Both servers with the settings, until Ctrl-C or one of them stops."""
    settings = load_settings()
    url = settings.action_server_url()
    env = {"ACTIONS_PORT": str(settings.actions_port), "ACTION_SERVER_URL": url}
    servers: list[ServerProcess] = []
    try:
        with _stopping_on_signals(servers, "\n==> stopping the servers"):
            print(f"==> starting the action server on port {settings.actions_port} "
                  f"(Rasa calls {url})", flush=True)
            servers.append(start_action_server(settings.actions_port, None, env=env))
            print(f"==> starting the Rasa server on port {settings.rasa_port} with "
                  f"{args.model} (loading takes a few seconds)", flush=True)
            # The HTTP API (/model, /conversations) stays off unless RASA_API_TOKEN
            # protects it.
            if settings.rasa_api_token:
                print("    HTTP API enabled, protected by RASA_API_TOKEN", flush=True)
            servers.append(start_rasa_server(
                Path(args.model), settings.rasa_port, Path(args.endpoints), None,
                credentials=Path(args.credentials), auth_token=settings.rasa_api_token or None,
                env=env, cors=settings.allowed_origins, interface=settings.rasa_interface))
            try:
                _wait_all_ready(servers, timeout=args.timeout)
            except LaunchError as exc:
                if exc.server is None or exc.server.alive():
                    print(f"error: {exc}", file=sys.stderr)
                else:
                    print(f"error: {LABELS[exc.server.name]} stopped; see above",
                          file=sys.stderr)
                return 1
            print(_banner(settings.rasa_port), flush=True)
            while all(server.alive() for server in servers):
                time.sleep(0.5)
            gone = next(server for server in servers if not server.alive())
            print(f"error: {LABELS[gone.name]} stopped (exit code {gone.returncode}); "
                  "see above", file=sys.stderr)
            code = gone.returncode or 0
            return code if code > 0 else 1  # a signal (negative) or 0: still a failure
    except KeyboardInterrupt:
        return 130
    except _StopSignalError as stopped:
        return 128 + int(stopped.args[0])


def _wait_all_ready(servers: Sequence[ServerProcess], timeout: float) -> None:
    """Wait until every server answers, failing as soon as one of them exits."""
    waiting = list(servers)
    deadline = time.monotonic() + timeout
    while waiting:
        for server in list(waiting):
            if not server.alive():
                raise LaunchError(server.exited_message(), server)
            if server.answers():
                server.ready_after = time.monotonic() - server.started_at
                waiting.remove(server)
        if time.monotonic() > deadline:
            raise LaunchError(f"not ready after {timeout:.0f} s", waiting[0])
        time.sleep(0.2)


def _actions(args: argparse.Namespace) -> int:
    """The action server, while COMMAND runs (or until Ctrl-C)."""
    port = args.port if args.port is not None else load_settings().actions_port
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    servers: list[ServerProcess] = []
    try:
        with _stopping_on_signals(servers):
            servers.append(start_action_server(
                port, Path(args.log) if args.log else None,
                data_dir=Path(args.data_dir) if args.data_dir else None))
            try:
                servers[0].wait_ready(args.timeout)
            except LaunchError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            if not command:
                print(f"==> action server on port {port}; Ctrl-C stops it", flush=True)
                return servers[0].popen.wait()
            # The command finds the action server as `make run`'s Rasa server does.
            return subprocess.run(command, env={**os.environ, **action_server_env(port)},
                                  check=False).returncode
    except KeyboardInterrupt:
        return 130
    except _StopSignalError as stopped:
        return 128 + int(stopped.args[0])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.launcher",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command_name", required=True)
    run = commands.add_parser(
        "run", help="both servers on the settings' ports until Ctrl-C (make run)",
        description="Start the action server and the Rasa server with the settings "
                    "(RASA_PORT, RASA_INTERFACE, ACTIONS_PORT, ACTION_SERVER_URL, "
                    "ALLOWED_ORIGINS, RASA_API_TOKEN); Ctrl-C stops both.")
    run.add_argument("--model", required=True, help="the trained model (.tar.gz)")
    run.add_argument("--endpoints", default="endpoints.yml", help="the endpoints file")
    run.add_argument("--credentials", default="credentials.yml",
                     help="the channels file (make run writes var/credentials.yml)")
    run.add_argument("--timeout", type=float, default=600.0,
                     help="seconds to wait for both servers to answer")
    run.set_defaults(func=_run)
    actions = commands.add_parser(
        "actions", help="the action server, while COMMAND runs (or until Ctrl-C)",
        description="Start the action server, wait until /health answers, run COMMAND "
                    "with ACTION_SERVER_URL pointing at it, stop the server and exit with "
                    "COMMAND's exit code. Without COMMAND it serves until Ctrl-C.")
    actions.add_argument("--port", type=int, default=None, help="default: ACTIONS_PORT")
    actions.add_argument("--data-dir", default=None,
                         help="its APP_DATA_DIR (default: the settings', var/)")
    actions.add_argument("--log", default=None, help="its output (default: ours)")
    actions.add_argument("--timeout", type=float, default=120.0,
                         help="seconds to wait for /health")
    actions.add_argument("command", nargs=argparse.REMAINDER,
                         help="-- COMMAND [ARG ...] to run while it serves")
    actions.set_defaults(func=_actions)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
