"""The one place where configuration is read.

Every setting comes from an environment variable with a safe default, so that the
assistant runs on embedded defaults (SQLite, no CRM, no Slack) with nothing set.
Secrets are never given defaults: a feature that needs one is off until it is set, and
`Settings.check()` names what is missing when a feature is switched on without it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
# The insight page shows the business's figures: a guessable token is no protection.
MIN_ADMIN_TOKEN_CHARS = 16


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _split_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Configuration of the assistant, read once from the environment."""

    data_dir: Path = DEFAULT_DATA_DIR
    # The app's own database (leads, outbox). SQLite by default; PostgreSQL in production.
    database_url: str = ""
    # Origins allowed to embed the widget and call the server (CORS and socket.io).
    allowed_origins: tuple[str, ...] = ("http://localhost:5005", "http://127.0.0.1:5005")
    # Incoming messages larger than this are refused politely instead of parsed.
    max_message_chars: int = 2000
    # The action server: the port `python -m bot.action_server` listens on, and the URL
    # the Rasa server calls (endpoints.yml reads `${ACTION_SERVER_URL}`; scripts/run.sh
    # exports `action_server_url()`, which follows ACTIONS_PORT unless the URL is set).
    actions_port: int = 5055
    action_server_url_override: str = ""

    # --- advisor ---
    advisor_rules_path: Path = PROJECT_ROOT / "bot" / "advisor" / "rules.yml"

    # --- leads and CRM ---
    crm_adapter: str = "none"  # none | hubspot | webhook
    hubspot_token: str = ""
    hubspot_base_url: str = "https://api.hubapi.com"
    crm_webhook_url: str = ""
    crm_webhook_secret: str = ""
    crm_timeout_seconds: float = 10.0
    meeting_link: str = ""
    # The CRM's page of a contact, `{id}` standing for its id, linked from the sales
    # channel's alerts (e.g. https://app.hubspot.com/contacts/PORTAL/record/0-1/{id}).
    crm_contact_url_template: str = ""
    # HubSpot property <- payload field pairs ("firstname=first_name,..."); empty: defaults.
    hubspot_property_map: tuple[tuple[str, str], ...] = ()
    # Delivery worker: retry budget, capped exponential backoff, lease on claimed rows
    # (longer than one request can take, so a live worker never loses its claim).
    crm_max_attempts: int = 10
    crm_backoff_base_seconds: float = 2.0
    crm_backoff_cap_seconds: float = 600.0
    crm_retry_after_cap_seconds: float = 3600.0
    leads_lease_seconds: float = 120.0
    leads_worker_interval_seconds: float = 5.0
    leads_batch_size: int = 20
    # Rasa's tracker store, where "forget me" deletes the conversation's events.
    tracker_database_url: str = "sqlite:///var/tracker.db"

    # --- Redis, shared by the replicas (the same variables as the lock store's) ---
    # Set in production: Slack's delivery ids are remembered there, so a retry that
    # reaches another replica is not answered twice. Unset: each process remembers alone.
    redis_host: str = ""
    redis_port: int = 6379
    redis_db: int = 0
    redis_password: str = ""
    redis_key_prefix: str = ""

    # --- Slack ---
    slack_token: str = ""
    slack_signing_secret: str = ""
    slack_api_base_url: str = "https://slack.com/api"
    # Hot leads are posted to this channel (its id) through the lead outbox; unset, none
    # is. Its buttons come back through the Slack channel's interactivity endpoint.
    slack_sales_channel: str = ""
    # Live handoff to a sales engineer in a thread of that channel (bot/handoff/): offered
    # within these hours ("Mon-Fri 09:00-17:00, Sat 10:00-14:00", wall-clock time in
    # HANDOFF_TIMEZONE); after HANDOFF_WAIT_SECONDS without an answer the visitor is
    # offered the lead form instead.
    handoff_hours: str = "Mon-Fri 09:00-17:00"
    handoff_timezone: str = "UTC"
    handoff_wait_seconds: float = 120.0

    # --- the Rasa server, as `python -m bot.serve` starts it ---
    rasa_port: int = 5005
    rasa_interface: str = "127.0.0.1"
    # Turns on Rasa's HTTP API, protected by this token; handed to Rasa in memory, never
    # on a command line (where `ps` shows it to every user of the machine).
    rasa_api_token: str = ""
    # onnxruntime threads for the sentence encoder, which runs on the Rasa server's event
    # loop. One leaves the second core of a two-core machine to the action server.
    encoder_threads: int = 1
    # 1: with one encoder thread, it gets a CPU of its own and the event loop the others
    # (`MiniLMEncoder.pin_to_own_cpu`). Off until `make bench` shows it pays: in-process
    # parses were faster pinned, but one run over REST was slower.
    encoder_pin_cpu: int = 0

    # --- channels (widget, REST guard, Slack) ---
    # The REST channel is for server-side integrations only and off until this is set:
    # callers send `Authorization: Bearer <token>` or `X-Signature: sha256=<HMAC of the
    # body under the token>`.
    rest_channel_token: str = ""
    # Per-conversation rate limit: at most this many messages per window; 0 switches it off.
    rate_limit_messages: int = 30
    rate_limit_window_seconds: float = 60.0
    # Per client address and for the whole server, in the same window; unset they are
    # 4 and 100 times the per-conversation limit (so 0 there switches all three off).
    rate_limit_client_messages: int = 120
    rate_limit_global_messages: int = 3000
    # Proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed; a request
    # from anywhere else is limited by its own address, whatever the header says.
    trusted_proxies: tuple[str, ...] = ()
    # Longest a visitor waits for a turn before the channel answers for it (the turn goes
    # on); Rasa itself waits up to 300 s for a custom action. 0 or less: no limit.
    turn_timeout_seconds: float = 10.0

    # --- the insight page (bot/channels/insights.py) ---
    # /admin/insights is served only when this is set; callers send it as
    # `Authorization: Bearer <token>` or as the password of HTTP Basic auth (a browser).
    admin_token: str = ""

    def _check_handoff(self) -> None:
        # Imported here: only this check needs the hours parser.
        from bot.opening_hours import HoursError, parse_hours, time_zone

        try:
            parse_hours(self.handoff_hours)
        except HoursError as exc:
            raise SettingsError(f"HANDOFF_HOURS: {exc}") from exc
        try:
            time_zone(self.handoff_timezone)
        except HoursError as exc:
            raise SettingsError(f"HANDOFF_TIMEZONE: {exc}") from exc
        if self.handoff_wait_seconds <= 0:
            raise SettingsError("HANDOFF_WAIT_SECONDS must be more than 0")

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_token or self.slack_signing_secret or self.slack_sales_channel)

    def action_server_url(self) -> str:
        """The action server's webhook: ACTION_SERVER_URL, else loopback on ACTIONS_PORT."""
        if self.action_server_url_override:
            return self.action_server_url_override
        return f"http://127.0.0.1:{self.actions_port}/webhook"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'app.db'}"

    def check(self) -> None:
        """Fail with a message naming the variable when a switched-on feature lacks a secret."""
        missing: list[str] = []
        if self.crm_adapter not in ("none", "hubspot", "webhook"):
            raise SettingsError(
                f"CRM_ADAPTER must be one of none, hubspot, webhook; got {self.crm_adapter!r}"
            )
        if self.crm_adapter == "hubspot" and not self.hubspot_token:
            missing.append("HUBSPOT_TOKEN (needed because CRM_ADAPTER=hubspot)")
        if self.crm_adapter == "webhook":
            if not self.crm_webhook_url:
                missing.append("CRM_WEBHOOK_URL (needed because CRM_ADAPTER=webhook)")
            if not self.crm_webhook_secret:
                missing.append("CRM_WEBHOOK_SECRET (needed because CRM_ADAPTER=webhook)")
        if self.slack_enabled:
            # The sales channel needs both: the token posts, the secret checks the clicks.
            why = "SLACK_SALES_CHANNEL is set" if self.slack_sales_channel else (
                "Slack is configured")
            if not self.slack_token:
                missing.append(f"SLACK_TOKEN (needed because {why})")
            if not self.slack_signing_secret:
                missing.append(f"SLACK_SIGNING_SECRET (needed because {why})")
        self._check_handoff()
        if self.crm_contact_url_template and "{id}" not in self.crm_contact_url_template:
            raise SettingsError("CRM_CONTACT_URL_TEMPLATE must contain {id}, where the "
                                "contact's id goes")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise SettingsError(
                    f"TRUSTED_PROXIES must list addresses or CIDR ranges, got {proxy!r}"
                ) from exc
        if self.admin_token and len(self.admin_token) < MIN_ADMIN_TOKEN_CHARS:
            raise SettingsError(f"ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_CHARS} "
                                "characters long (e.g. `openssl rand -hex 24`)")
        if missing:
            raise SettingsError("missing settings: " + "; ".join(missing))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("APP_DATA_DIR", "") or DEFAULT_DATA_DIR)
    origins = _split_list(env.get("ALLOWED_ORIGINS", ""))
    defaults = Settings()
    return Settings(
        data_dir=data_dir,
        database_url=env.get("DATABASE_URL", "").strip(),
        allowed_origins=origins or defaults.allowed_origins,
        max_message_chars=_int(env, "MAX_MESSAGE_CHARS", defaults.max_message_chars),
        actions_port=_int(env, "ACTIONS_PORT", defaults.actions_port),
        action_server_url_override=env.get("ACTION_SERVER_URL", "").strip(),
        advisor_rules_path=Path(env.get("ADVISOR_RULES", "") or defaults.advisor_rules_path),
        crm_adapter=env.get("CRM_ADAPTER", "none").strip().lower() or "none",
        hubspot_token=env.get("HUBSPOT_TOKEN", ""),
        hubspot_base_url=env.get("HUBSPOT_BASE_URL", "") or defaults.hubspot_base_url,
        crm_webhook_url=env.get("CRM_WEBHOOK_URL", ""),
        crm_webhook_secret=env.get("CRM_WEBHOOK_SECRET", ""),
        crm_timeout_seconds=_float(env, "CRM_TIMEOUT_SECONDS", defaults.crm_timeout_seconds),
        meeting_link=env.get("MEETING_LINK", ""),
        crm_contact_url_template=env.get("CRM_CONTACT_URL_TEMPLATE", "").strip(),
        hubspot_property_map=tuple(
            (prop.strip(), field.strip())
            for prop, _, field in (
                pair.partition("=") for pair in _split_list(env.get("HUBSPOT_PROPERTY_MAP", ""))
            )
        ),
        crm_max_attempts=_int(env, "CRM_MAX_ATTEMPTS", defaults.crm_max_attempts),
        crm_backoff_base_seconds=_float(
            env, "CRM_BACKOFF_BASE_SECONDS", defaults.crm_backoff_base_seconds
        ),
        crm_backoff_cap_seconds=_float(
            env, "CRM_BACKOFF_CAP_SECONDS", defaults.crm_backoff_cap_seconds
        ),
        crm_retry_after_cap_seconds=_float(
            env, "CRM_RETRY_AFTER_CAP_SECONDS", defaults.crm_retry_after_cap_seconds
        ),
        leads_lease_seconds=_float(env, "LEADS_LEASE_SECONDS", defaults.leads_lease_seconds),
        leads_worker_interval_seconds=_float(
            env, "LEADS_WORKER_INTERVAL_SECONDS", defaults.leads_worker_interval_seconds
        ),
        leads_batch_size=_int(env, "LEADS_BATCH_SIZE", defaults.leads_batch_size),
        tracker_database_url=(
            env.get("TRACKER_DATABASE_URL", "").strip() or defaults.tracker_database_url
        ),
        redis_host=env.get("REDIS_HOST", "").strip(),
        redis_port=_int(env, "REDIS_PORT", defaults.redis_port),
        redis_db=_int(env, "REDIS_DB", defaults.redis_db),
        redis_password=env.get("REDIS_PASSWORD", ""),
        redis_key_prefix=env.get("REDIS_KEY_PREFIX", "").strip(),
        slack_token=env.get("SLACK_TOKEN", ""),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        slack_api_base_url=env.get("SLACK_API_BASE_URL", "") or defaults.slack_api_base_url,
        slack_sales_channel=env.get("SLACK_SALES_CHANNEL", "").strip(),
        handoff_hours=env.get("HANDOFF_HOURS", "").strip() or defaults.handoff_hours,
        handoff_timezone=env.get("HANDOFF_TIMEZONE", "").strip() or defaults.handoff_timezone,
        handoff_wait_seconds=_float(env, "HANDOFF_WAIT_SECONDS",
                                    defaults.handoff_wait_seconds),
        rasa_port=_int(env, "RASA_PORT", defaults.rasa_port),
        rasa_interface=env.get("RASA_INTERFACE", "").strip() or defaults.rasa_interface,
        rasa_api_token=env.get("RASA_API_TOKEN", "").strip(),
        encoder_threads=_int(env, "ENCODER_THREADS", defaults.encoder_threads),
        encoder_pin_cpu=_int(env, "ENCODER_PIN_CPU", defaults.encoder_pin_cpu),
        # --- channels ---
        rest_channel_token=env.get("REST_CHANNEL_TOKEN", "").strip(),
        rate_limit_messages=_int(env, "RATE_LIMIT_MESSAGES", defaults.rate_limit_messages),
        rate_limit_window_seconds=_float(
            env, "RATE_LIMIT_WINDOW_SECONDS", defaults.rate_limit_window_seconds
        ),
        rate_limit_client_messages=_int(
            env, "RATE_LIMIT_CLIENT_MESSAGES",
            4 * _int(env, "RATE_LIMIT_MESSAGES", defaults.rate_limit_messages)),
        rate_limit_global_messages=_int(
            env, "RATE_LIMIT_GLOBAL_MESSAGES",
            100 * _int(env, "RATE_LIMIT_MESSAGES", defaults.rate_limit_messages)),
        trusted_proxies=_split_list(env.get("TRUSTED_PROXIES", "")),
        turn_timeout_seconds=_float(env, "TURN_TIMEOUT_SECONDS", defaults.turn_timeout_seconds),
        admin_token=env.get("ADMIN_TOKEN", "").strip(),
    )
