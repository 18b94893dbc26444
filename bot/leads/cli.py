"""`python -m bot leads ...`: look at leads, export them, drive the outbox.

    leads migrate                       bring the database schema up to date
    leads list [--tier T] [--limit N]   newest leads first
    leads show ID_OR_EMAIL              one lead, its delivery and every attempt
    leads export --format csv|json      all leads (to stdout or --output FILE)
    leads outbox [--status S]           delivery status counts and rows
    leads retry-dead [--id N ...]       give dead letters a fresh retry budget
    leads deliver [--loop]              send what is due now (or keep running)
    leads forget EMAIL --requested-by R delete a person's leads and conversations
                                        (operator only, after proof of the address;
                                        each use is logged for audit)

Errors in the configuration (DATABASE_URL, CRM_ADAPTER and its settings) print one line
naming the variable and exit with status 2.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import hashlib
import json
import logging
import os
import signal
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.advisor.summary import verdict_of
from bot.leads.db import DatabaseConfigError
from bot.leads.delivery import deliver_pending, deliver_until_idle
from bot.leads.erasure import process_erasures
from bot.leads.model import Lead, build_crm_payload, utc_now
from bot.leads.outbox import STATUSES, OutboxEntry
from bot.leads.runtime import LeadsRuntime, retry_policy, worker_options
from bot.leads.scoring import ScoringRulesError
from bot.leads.services import forget_email
from bot.leads.unit_of_work import SqlUnitOfWork
from bot.settings import SettingsError, load_settings

EXIT_CONFIG_ERROR = 2
audit_logger = logging.getLogger("bot.leads.audit")

CSV_FIELDS = (
    "lead_id", "created_at", "name", "email", "email_is_free_mail", "company", "role",
    "timeline", "size", "budget", "score", "tier", "reasons", "recommendation",
    "consent_version", "consent_given_at", "conversation_id", "delivery_status",
    "delivery_attempts", "last_error",
)


def register(subparsers: Any) -> None:
    """Add the `leads` command and its subcommands to `python -m bot`."""
    parser = subparsers.add_parser(
        "leads", help="leads, their CRM delivery and the outbox",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="leads_command", required=True)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=_guarded(_migrate)
    )

    p = commands.add_parser("list", help="newest leads first")
    p.add_argument("--tier", choices=("hot", "warm", "cold", "unqualified"))
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_guarded(_list))

    p = commands.add_parser("show", help="one lead with its delivery attempts")
    p.add_argument("lead", help="a lead id or an email address")
    p.set_defaults(func=_guarded(_show))

    p = commands.add_parser("export", help="export all leads")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--output", type=Path, help="file to write (default: standard output)")
    p.set_defaults(func=_guarded(_export))

    p = commands.add_parser("outbox", help="delivery status of the outbox")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_guarded(_outbox))

    p = commands.add_parser("retry-dead", help="give dead letters a fresh retry budget")
    p.add_argument("--id", type=int, action="append", dest="ids",
                   help="an outbox row id (repeatable; default: every dead letter)")
    p.set_defaults(func=_guarded(_retry_dead))

    p = commands.add_parser("deliver", help="send due leads to the CRM now")
    p.add_argument("--loop", action="store_true",
                   help="keep running (every LEADS_WORKER_INTERVAL_SECONDS) until stopped")
    p.add_argument("--max-seconds", type=float, default=120.0,
                   help="without --loop: stop after this long even if rows are in backoff")
    p.set_defaults(func=_guarded(_deliver))

    p = commands.add_parser(
        "forget", help="delete a person's leads and conversations (operator, audited)"
    )
    p.add_argument("email")
    p.add_argument("--requested-by", required=True,
                   help="the ticket or request that proved the address (kept in the audit log)")
    p.set_defaults(func=_guarded(_forget))


def _guarded(
    command: Callable[[LeadsRuntime, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Build the runtime and turn configuration errors into one clear line."""

    def run(args: argparse.Namespace) -> int:
        try:
            settings = load_settings()
            runtime = LeadsRuntime.from_settings(settings)
        except (SettingsError, DatabaseConfigError, ScoringRulesError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_CONFIG_ERROR
        try:
            return command(runtime, args)
        except (SettingsError, DatabaseConfigError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_CONFIG_ERROR
        finally:
            runtime.engine.dispose()

    return run


def _migrate(runtime: LeadsRuntime, args: argparse.Namespace) -> int:
    from bot.leads.migrate import current_revision

    print(f"leads schema at revision {current_revision(runtime.engine)}")
    return 0


def _list(runtime: LeadsRuntime, args: argparse.Namespace) -> int:
    with SqlUnitOfWork(runtime.engine) as uow:
        leads = uow.leads.latest(limit=args.limit, tier=args.tier)
        statuses = {lead.lead_id: _delivery(uow.outbox.for_lead(lead.lead_id)) for lead in leads}
    if not leads:
        print("no leads")
        return 0
    print(f"{'created (UTC)':<17} {'lead id':<36} {'tier':<11} {'score':>5}  "
          f"{'delivery':<9} name / company / email")
    for lead in leads:
        contact = lead.draft.contact
        print(
            f"{lead.created_at:%Y-%m-%d %H:%M} {lead.lead_id:<36} "
            f"{lead.qualification.tier:<11} {lead.qualification.score:>5}  "
            f"{statuses[lead.lead_id]:<9} "
            f"{_display(contact.name, 40)} / {_display(contact.company, 30)} / "
            f"{_display(contact.email, 60)}"
        )
    return 0


def _show(runtime: LeadsRuntime, args: argparse.Namespace) -> int:
    with SqlUnitOfWork(runtime.engine) as uow:
        lead = uow.leads.get(args.lead)
        leads = [lead] if lead else uow.leads.find_by_email(args.lead)
        if not leads:
            print(f"no lead with id or email {_display(args.lead, 80)}", file=sys.stderr)
            return 1
        for lead in leads:
            print(json.dumps(build_crm_payload(lead), ensure_ascii=False, indent=2))
            if lead.taken_by is not None:
                print(f"taken by {_display(lead.taken_by.name, 80)} "
                      f"({lead.taken_by.user_id}) at {lead.taken_by.taken_at:%Y-%m-%d %H:%M}")
            for entry in uow.outbox.for_lead(lead.lead_id, kind=None):
                print(f"outbox row {entry.id} ({entry.kind}): {entry.status}, "
                      f"{entry.attempts} attempt(s), "
                      f"next {entry.next_attempt_at:%Y-%m-%d %H:%M:%S}, "
                      f"last error: {_display(entry.last_error or '-', 200)}")
                for attempt in uow.outbox.attempts(entry.id):
                    print(f"  #{attempt.attempt_no} {attempt.started_at:%H:%M:%S} "
                          f"{attempt.outcome:<11} HTTP {attempt.http_status or '-'} "
                          f"{_display(attempt.detail, 200)}")
    return 0


def _export(runtime: LeadsRuntime, args: argparse.Namespace) -> int:
    with SqlUnitOfWork(runtime.engine) as uow:
        rows = [(lead, uow.outbox.for_lead(lead.lead_id)) for lead in uow.leads.latest()]
    out: TextIO = (
        args.output.open("w", encoding="utf-8", newline="") if args.output else sys.stdout
    )
    try:
        if args.format == "json":
            export_json(rows, out)
        else:
            export_csv(rows, out)
    finally:
        if args.output:
            out.close()
            print(f"{len(rows)} lead(s) written to {args.output}", file=sys.stderr)
    return 0


def export_json(rows: Sequence[tuple[Lead, list[OutboxEntry]]], out: TextIO) -> None:
    """Every lead as its CRM payload plus its delivery state, values intact."""
    documents = []
    for lead, entries in rows:
        document = build_crm_payload(lead)
        document["conversation_id"] = lead.draft.conversation_id
        document["delivery"] = [
            {"status": e.status, "attempts": e.attempts, "last_error": e.last_error,
             "delivered_at": e.delivered_at.isoformat() if e.delivered_at else None}
            for e in entries
        ]
        documents.append(document)
    json.dump(documents, out, ensure_ascii=False, indent=2)
    out.write("\n")


def export_csv(rows: Sequence[tuple[Lead, list[OutboxEntry]]], out: TextIO) -> None:
    """One line per lead. Cells a spreadsheet would run as a formula are prefixed with
    an apostrophe (OWASP's advice against CSV injection); JSON export keeps them as is."""
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for lead, entries in rows:
        draft, contact = lead.draft, lead.draft.contact
        entry = entries[0] if entries else None
        record: dict[str, Any] = {
            "lead_id": lead.lead_id,
            "created_at": lead.created_at.isoformat(),
            "name": contact.name,
            "email": contact.email,
            "email_is_free_mail": contact.email_is_free_mail,
            "company": contact.company,
            "role": contact.role,
            "timeline": draft.timeline,
            "size": draft.size,
            "budget": draft.budget,
            "score": lead.qualification.score,
            "tier": lead.qualification.tier,
            "reasons": "; ".join(lead.qualification.reasons),
            "recommendation": verdict_of(draft.recommendation),
            "consent_version": draft.consent.version,
            "consent_given_at": draft.consent.given_at.isoformat(),
            "conversation_id": draft.conversation_id,
            "delivery_status": entry.status if entry else "none",
            "delivery_attempts": entry.attempts if entry else 0,
            "last_error": (entry.last_error or "") if entry else "",
        }
        writer.writerow({k: _csv_safe(v) for k, v in record.items()})


def _outbox(runtime: LeadsRuntime, args: argparse.Namespace) -> int:
    with SqlUnitOfWork(runtime.engine) as uow:
        counts = uow.outbox.status_counts()
        entries = uow.outbox.entries(status=args.status, limit=args.limit)
    print("outbox: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES)
          + f" (CRM_ADAPTER={runtime.settings.crm_adapter})")
    for e in entries:
        print(f"{e.id:>6} {e.status:<9} attempts {e.attempts:>2}  lead {e.lead_id}  "
              f"next {e.next_attempt_at:%Y-%m-%d %H:%M:%S}  "
              f"{_display(e.last_error or '', 120)}")
    return 0


def _retry_dead(runtime: LeadsRuntime, args: argparse.Namespace) -> int:
    with SqlUnitOfWork(runtime.engine) as uow:
        revived = uow.outbox.retry_dead(utc_now(), args.ids)
        uow.commit()
    print(f"{revived} dead letter(s) back in the outbox with a fresh retry budget")
    return 0


def _deliver(runtime: LeadsRuntime, args: argparse.Namespace) -> int:
    settings = runtime.settings
    client = runtime.crm_client()
    sales_channel = runtime.sales_channel()
    policy = retry_policy(settings)
    options = worker_options(settings)
    if client is None and sales_channel is None:
        print("CRM_ADAPTER=none and no SLACK_SALES_CHANNEL: leads stay in the local "
              "database; nothing to send")
        process_erasures(runtime.unit_of_work(), runtime.tracker_engine())
        return 0
    if not args.loop:
        report = deliver_until_idle(
            runtime.unit_of_work(), client, policy, options,
            max_seconds=args.max_seconds, sleep=time.sleep, sales_channel=sales_channel,
        )
        process_erasures(runtime.unit_of_work(), runtime.tracker_engine())
        with SqlUnitOfWork(runtime.engine) as uow:
            counts = uow.outbox.status_counts()
        print(f"sent: {report.delivered} delivered, {report.retried} to retry, "
              f"{report.dead} dead letters; outbox now "
              + ", ".join(f"{counts[s]} {s}" for s in STATUSES))
        return 0
    stopping = False

    def _stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    receivers = " and ".join(a.name for a in (client, sales_channel) if a is not None)
    print(f"delivering to {receivers} as {options.worker_id}; Ctrl-C to stop", flush=True)
    while not stopping:
        report = deliver_pending(runtime.unit_of_work(), client, policy, options,
                                 sales_channel=sales_channel)
        process_erasures(runtime.unit_of_work(), runtime.tracker_engine())
        if report.attempted:
            print(f"{report.delivered} delivered, {report.retried} to retry, "
                  f"{report.dead} dead letters", flush=True)
            continue
        time.sleep(settings.leads_worker_interval_seconds)
    return 0


def _forget(runtime: LeadsRuntime, args: argparse.Namespace) -> int:
    report = forget_email(runtime.unit_of_work(), args.email)
    erased = process_erasures(runtime.unit_of_work(), runtime.tracker_engine())
    # The audit line names who and why, and the address only by its fingerprint: the
    # log must not keep the personal data the command has just erased.
    audit = (f"audit: leads forget by {_operator()} for {args.requested_by!r}: email "
             f"sha256:{email_fingerprint(args.email)}, {report.leads} lead(s), "
             f"{report.crm_erasures} CRM erasure(s) queued, "
             f"{len(report.conversations)} conversation(s)")
    audit_logger.warning("%s", audit)
    print(audit, file=sys.stderr)
    print(f"deleted {report.leads} lead(s), {report.outbox_rows} outbox row(s), "
          f"{report.attempts} delivery attempt(s); {erased} conversation event(s) erased "
          f"from {len(report.conversations)} conversation(s); {report.crm_erasures} "
          "CRM erasure(s) queued (the worker or `leads deliver` sends them)")
    return 0


def email_fingerprint(email: str) -> str:
    """A short, stable fingerprint of an address for audit logs (not the address)."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:16]


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _delivery(entries: Sequence[OutboxEntry]) -> str:
    return entries[0].status if entries else "none"


def _display(value: str, limit: int) -> str:
    """Make stored text safe to print: control characters (terminal escapes) shown as
    `?`, long values cut."""
    text = "".join(
        "?" if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200f\u200e" else ch
        for ch in value
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value

