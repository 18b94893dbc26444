"""Train the benchmark's models with `rasa train`, timed, under the machine-wide lock.

The servers are started by `bot.launcher`; this module only trains. Unlike
scripts/train.sh (which the tests and `make run` use, and which reuses a model whose
inputs did not change), the benchmark forces a training each time it measures one, into
a cache of its own, so that other people's trainings do not feed its timings.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bot.launcher import BASE_ENV, VENV_BIN, LaunchError, log_tail
from bot.settings import PROJECT_ROOT

TRAIN_LOCK = Path("/tmp/rasa-train.lock")


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
        last_error = log_tail(log_path, 25)
        if attempt < attempts:
            time.sleep(retry_wait)
    raise LaunchError(f"training with {config} failed {attempts} times:\n{last_error}")
