"""Start and stop a Rasa server and an action server on loopback ports, and train models.

The benchmark needs more than "a running server": it times the cold start of each
process and reads its peak memory from /proc, so it owns its processes here. The e2e
suites reuse this module until a shared launcher exists.
"""

from __future__ import annotations

import contextlib
import fcntl
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The interpreter running us lives in the project's virtualenv; its `rasa` sits next to it.
VENV_BIN = Path(sys.executable).parent
TRAIN_LOCK = Path("/tmp/rasa-train.lock")
REST_WEBHOOK = "/webhooks/rest/webhook"
LOOPBACK = "127.0.0.1"

# Quiet, offline servers: no telemetry calls leave the machine during a benchmark.
BASE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONUNBUFFERED": "1",
}


class LaunchError(RuntimeError):
    """A server did not come up; the message points at its log."""


def port_is_free(port: int) -> bool:
    """Tell whether nothing listens on `port` on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_ports(count: int, start: int = 5400, end: int = 5499) -> list[int]:
    """Pick `count` free ports in [start, end] (our team's range).

    In random order: two suites started at the same moment would otherwise both pick the
    lowest free ports and one would fail to bind.
    """
    candidates = list(range(start, end + 1))
    random.shuffle(candidates)
    found = [p for p in candidates if port_is_free(p)][:count]
    if len(found) < count:
        raise LaunchError(f"need {count} free ports in {start}-{end}, found {found}")
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


def latest_model(directory: Path) -> Path | None:
    """The newest `*.tar.gz` model in `directory`, if any."""
    models = sorted(directory.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


@contextlib.contextmanager
def training_lock() -> Iterator[float]:
    """Hold the machine-wide training lock (the same flock(2) lock `flock(1)` takes).

    Yields the seconds spent waiting, so that callers can leave it out of timings.
    """
    started = time.monotonic()
    with TRAIN_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield time.monotonic() - started
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def train(
    config: Path,
    out_dir: Path,
    fixed_name: str,
    *,
    force: bool,
    log_path: Path,
    attempts: int = 3,
    retry_wait: float = 60.0,
    domain: Path | None = None,
) -> tuple[Path, float]:
    """Train a model with `rasa train` under the training lock.

    The data is written by several people at once, so a failed training is retried a few
    times after a pause before giving up.

    Args:
        config: Pipeline and policy configuration.
        out_dir: Where the model goes.
        fixed_name: File name of the model (without `.tar.gz`).
        force: Retrain even when Rasa thinks nothing changed (needed for timing).
        log_path: File receiving Rasa's output.
        attempts: How many times to try.
        retry_wait: Seconds between attempts.
        domain: Domain file (default: the project's `domain.yml`).

    Returns:
        The model path and the training wall time in seconds (lock wait excluded).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(VENV_BIN / "rasa"), "train",
        "--config", str(config),
        "--domain", str(domain or PROJECT_ROOT / "domain.yml"),
        "--data", str(PROJECT_ROOT / "data"),
        "--out", str(out_dir),
        "--fixed-model-name", fixed_name,
    ]
    if force:
        cmd.append("--force")
    env = {**os.environ, **BASE_ENV,
           # A private cache: other people's trainings must not feed our timings.
           "RASA_CACHE_DIRECTORY": str(out_dir / ".cache")}
    last_error = ""
    for attempt in range(1, attempts + 1):
        with training_lock(), log_path.open("w") as log:
            started = time.monotonic()
            result = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, check=False)
            elapsed = time.monotonic() - started
        model = out_dir / f"{fixed_name}.tar.gz"
        if result.returncode == 0 and model.exists():
            return model, elapsed
        last_error = _tail(log_path)
        if attempt < attempts:
            time.sleep(retry_wait)
    raise LaunchError(f"training with {config} failed {attempts} times:\n{last_error}")


def _tail(path: Path, lines: int = 25) -> str:
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


@dataclass
class ServerProcess:
    """A server we started: its process, where it listens and where it logs."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path
    started_at: float
    ready_after: float | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process group we created for this server (SIGTERM, then SIGKILL)."""
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

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it accepts connections but never answers."""
        os.killpg(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Undo `pause`."""
        os.killpg(self.pid, signal.SIGCONT)


def _spawn(name: str, cmd: list[str], port: int, log_path: Path,
           env: Mapping[str, str]) -> ServerProcess:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        started = time.monotonic()
        # A session of its own, so that stopping it by its id also stops any children.
        popen = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                 env={**os.environ, **BASE_ENV, **env},
                                 start_new_session=True)
    return ServerProcess(name=name, popen=popen, port=port, log_path=log_path,
                         started_at=started)


def action_server_env(port: int) -> dict[str, str]:
    """The settings that put the action server on `port` and point Rasa at it.

    The same path as scripts/run.sh: the action server reads ACTIONS_PORT, and an
    endpoints file with `url: ${ACTION_SERVER_URL}` gets the URL that bot/settings.py
    derives from it.
    """
    from bot.settings import load_settings

    settings = load_settings({"ACTIONS_PORT": str(port)})
    return {"ACTIONS_PORT": str(settings.actions_port),
            "ACTION_SERVER_URL": settings.action_server_url()}


def start_action_server(port: int, log_path: Path,
                        env: Mapping[str, str] | None = None,
                        package: str = "actions") -> ServerProcess:
    """Start our action server (`python -m bot.action_server`) on loopback.

    The port reaches it as ACTIONS_PORT, as it does under scripts/run.sh.
    """
    cmd = [str(VENV_BIN / "python"), "-m", "bot.action_server", "--actions", package,
           "--host", LOOPBACK]
    # Its lead database goes beside its log unless the caller chose one, so that
    # servers started for tests never share the project's var/app.db.
    return _spawn("actions", cmd, port, log_path,
                  {"APP_DATA_DIR": str(log_path.parent), **(env or {}),
                   "ACTIONS_PORT": str(port)})


def start_rasa_server(
    model: Path,
    port: int,
    endpoints: Path,
    log_path: Path,
    *,
    credentials: Path | None = None,
    auth_token: str | None = None,
    env: Mapping[str, str] | None = None,
    cors: Sequence[str] | None = None,
) -> ServerProcess:
    """Start `rasa run` on loopback; the HTTP API is on only when `auth_token` is given.

    `cors` passes the allowed origins as scripts/run.sh does (`--cors ...`).
    """
    cmd = [str(VENV_BIN / "rasa"), "run", "-m", str(model), "--port", str(port),
           "--interface", LOOPBACK, "--endpoints", str(endpoints),
           "--credentials", str(credentials or PROJECT_ROOT / "credentials.yml")]
    if auth_token:
        cmd += ["--enable-api", "--auth-token", auth_token]
    if cors is not None:
        cmd += ["--cors", *cors]
    return _spawn("rasa", cmd, port, log_path, env or {})


def start_actions_then_rasa(
    start_actions: Callable[[], ServerProcess],
    start_rasa: Callable[[], ServerProcess],
    ready_timeout: float,
) -> tuple[ServerProcess, ServerProcess, float]:
    """Start the action server and wait for it, then the Rasa server and wait for it.

    The order matters: Rasa's first turns may call actions. Whatever was started is
    stopped again if a later step fails.

    Returns:
        The action server, the Rasa server, and the action server's start-up seconds.
    """
    with contextlib.ExitStack() as on_failure:
        actions = start_actions()
        on_failure.callback(actions.stop)
        actions_ready_s = wait_until_ready(actions, "/health", 120.0)
        rasa = start_rasa()
        on_failure.callback(rasa.stop)
        wait_until_ready(rasa, "/", ready_timeout)
        on_failure.pop_all()  # both answer: the caller owns them now
    return actions, rasa, actions_ready_s


def wait_until_ready(server: ServerProcess, path: str, timeout: float,
                     method: str = "GET", body: Any = None) -> float:
    """Poll `path` until it answers 200; return seconds since the process started."""
    deadline = server.started_at + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise LaunchError(f"{server.name} exited with {server.popen.returncode}; log "
                              f"{server.log_path}:\n{server.log_tail()}")
        try:
            status, _ = http_json(method, server.url + path, body, timeout=5.0)
            if status == 200:
                server.ready_after = time.monotonic() - server.started_at
                return server.ready_after
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.05)
    raise LaunchError(f"{server.name} not ready on port {server.port} after {timeout:.0f} s; "
                      f"log {server.log_path}:\n{server.log_tail()}")


# What endpoints.yml says; Rasa substitutes it from the server's environment.
ACTION_URL_FROM_ENV = "${ACTION_SERVER_URL}"


def product_action_endpoint_options() -> dict[str, Any]:
    """endpoints.yml's `action_endpoint` keys other than its URL."""
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    return {key: value for key, value in (endpoints.get("action_endpoint") or {}).items()
            if key != "url"}


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
    """A Rasa server and its action server, started together."""

    rasa: ServerProcess
    actions: ServerProcess
    auth_token: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()


def start_stack(
    model: Path,
    rasa_port: int,
    action_port: int,
    workdir: Path,
    *,
    tracker_store: Mapping[str, Any] | None,
    lock_store: Mapping[str, Any] | None = None,
    auth_token: str | None = "bench-token",
    credentials: Path | None = None,
    ready_timeout: float = 300.0,
    env: Mapping[str, str] | None = None,
    name: str = "stack",
) -> Stack:
    """Start the action server, then the Rasa server, and wait until both answer."""
    endpoints = write_endpoints(workdir / f"{name}-endpoints.yml", None,
                                tracker_store, lock_store)
    rasa_env = {**(env or {}), **action_server_env(action_port)}
    actions, rasa, _ = start_actions_then_rasa(
        lambda: start_action_server(action_port, workdir / f"{name}-actions.log", env),
        lambda: start_rasa_server(model, rasa_port, endpoints, workdir / f"{name}-rasa.log",
                                  credentials=credentials, auth_token=auth_token,
                                  env=rasa_env),
        ready_timeout)
    return Stack(rasa=rasa, actions=actions, auth_token=auth_token)
