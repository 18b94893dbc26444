"""`python -m bot.serve`: start the Rasa server the way the container image does.

    python -m bot.serve --model models/cloud-advisor.tar.gz \\
        --endpoints deploy/endpoints.production.yml

Before Rasa starts, the settings are checked (a switched-on feature without its secret
fails here, naming the variable) and the effective channel configuration is written:
`credentials.yml` plus Slack when `SLACK_TOKEN` and `SLACK_SIGNING_SECRET` are set (see
`bot.channels.credentials`). It goes to a fresh private temporary directory, the only
file written, so the server runs on a read-only root filesystem with `TMPDIR` on a
writable volume.

Then `rasa run` runs in this process: on `RASA_INTERFACE`:`RASA_PORT`, with CORS for
`ALLOWED_ORIGINS`, and with the HTTP API on only when `RASA_API_TOKEN` is set. The token
reaches Rasa in memory: it is never on a command line, where `ps` would show it to every
user of the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from bot.channels.credentials import channel_label, effective_credentials
from bot.settings import Settings, SettingsError, load_settings


def write_credentials(settings: Settings, directory: Path) -> Path:
    """Write the effective credentials (no secret: `${VAR}` stays as written) to `directory`.

    Raises:
        SettingsError: a switched-on feature lacks a secret.
    """
    credentials = effective_credentials(settings)
    path = directory / "credentials.yml"
    path.write_text("# Written by `python -m bot.serve` at start.\n"
                    + yaml.safe_dump(credentials, sort_keys=False), encoding="utf-8")
    return path


def rasa_arguments(settings: Settings, model: str, endpoints: str,
                   credentials: Path) -> list[str]:
    """The arguments of `rasa run` (the API token among them when it is set)."""
    arguments = ["run", "--model", model, "--endpoints", endpoints,
                 "--credentials", str(credentials), "--interface", settings.rasa_interface,
                 "--port", str(settings.rasa_port), "--cors", *settings.allowed_origins]
    if settings.rasa_api_token:
        arguments += ["--enable-api", "--auth-token", settings.rasa_api_token]
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    """Check the settings, write the credentials and run Rasa; returns an exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot.serve",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the trained model (.tar.gz)")
    parser.add_argument("--endpoints", required=True, help="the endpoints file")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        credentials = write_credentials(settings,
                                        Path(tempfile.mkdtemp(prefix="advisor-rasa-")))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    channels = ", ".join(channel_label(key) for key in
                         yaml.safe_load(credentials.read_text(encoding="utf-8")))
    print(f"==> channels: {channels}; HTTP API "
          f"{'on (RASA_API_TOKEN)' if settings.rasa_api_token else 'off'}", flush=True)

    import rasa.__main__

    # Rasa reads its arguments from sys.argv; this process's command line, which `ps`
    # shows, stays the one it was started with.
    sys.argv = ["rasa", *rasa_arguments(settings, args.model, args.endpoints, credentials)]
    rasa.__main__.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
