"""``callgate deliver``: send the outbox to the webhook(s) and over SMTP.

A long-running worker for systemd: logs go to stderr, SIGTERM (or Ctrl-C)
finishes the event in flight, hands back the rest of its batch and exits 0.
Two workers may run at once. ``--once`` sends what is due and exits;
``--check`` says what is configured and whether each endpoint answers.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from db.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``deliver`` to the command line."""
    parser = subparsers.add_parser(
        "deliver",
        help="deliver decisions to the billing webhook and notices over SMTP",
        description="Deliver outbox events: signed JSON POSTs to webhook_urls and e-mail "
        "notices over SMTP, retried with backoff up to delivery_max_attempts, then parked "
        "for a supervisor. Secrets come from CALLGATE_WEBHOOK_SECRET / CALLGATE_SMTP_PASSWORD "
        "or the files named by webhook_secret_file / smtp_password_file.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    mode.add_argument(
        "--check",
        action="store_true",
        help="show the delivery settings and whether each endpoint answers; exit 1 if one does not",
    )
    parser.set_defaults(handler=run_deliver)


def run_deliver(args: argparse.Namespace, settings: Settings) -> int:
    """Run the worker (or one pass, or the check)."""
    import logging
    import signal
    import threading

    from db.delivery.worker import Deliverer, NothingToDeliver
    from db.engine import make_sessionmaker
    from db.migrate import SchemaError, prepare_for_desk
    from db.settings import SettingsError, smtp_password, webhook_secret
    from tui.commands.common import CommandError, engine_for

    try:
        secret, password = webhook_secret(settings), smtp_password(settings)
    except SettingsError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    engine = engine_for(settings)
    try:
        try:
            prepare_for_desk(engine)
        except SchemaError as exc:
            raise CommandError(str(exc)) from exc
        factory = make_sessionmaker(engine)
        if args.check:
            return _check(factory, settings, secret, password)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        # Our own line per event says more; httpx's per-request line would double it.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        try:
            worker = Deliverer(factory, settings, webhook_secret=secret, smtp_password=password)
        except NothingToDeliver as exc:
            raise CommandError(str(exc), exit_code=2) from exc
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        log = logging.getLogger("callgate.deliver")
        try:
            if args.once:
                report = worker.run_due(stop)
            else:
                log.info("delivering via %s", ", ".join(c.value for c in worker.channels))
                report = worker.run(stop)
        finally:
            worker.close()
        log.info(
            "done: %d delivered, %d to retry, %d parked as failed, %d canceled",
            report.delivered,
            report.retrying,
            report.failed,
            report.canceled,
        )
        return 0
    finally:
        engine.dispose()


def _check(factory: sessionmaker[Session], settings: Settings, secret: str, password: str) -> int:
    """Print the delivery settings (never a secret) and try each endpoint."""
    from db.delivery.mail import MailError, MailSender
    from db.delivery.outbox import counts
    from db.delivery.webhook import WebhookSender, ping_body
    from db.types import utcnow
    from db.urls import shown_url

    ok = True
    waiting = counts(factory)
    print("outbox: " + ", ".join(f"{n} {state.value}" for state, n in waiting.items()))
    print(
        f"retries: up to {settings.delivery_max_attempts} attempts, from "
        f"{settings.delivery_retry_base_seconds}s to {settings.delivery_retry_max_seconds}s apart"
    )
    if not settings.webhook_urls:
        print("webhook: not configured (webhook_urls)")
    elif not secret:
        print("webhook: no secret (CALLGATE_WEBHOOK_SECRET or webhook_secret_file)")
        ok = False
    else:
        print(f"webhook: {len(settings.webhook_urls)} URL(s), secret set")
        sender = WebhookSender(secret, settings.delivery_timeout_seconds)
        try:
            for url in settings.webhook_urls:
                now = utcnow()
                ping_id, body = ping_body(now)
                error = sender.send(url, ping_id, body, now)
                answered = "answered 2xx to a signed ping"
                # The error names the URL itself; the line starts with it only on success.
                print(f"  {shown_url(url)}: {answered}" if error is None else f"  {error}")
                ok = ok and error is None
        finally:
            sender.close()
    if not settings.smtp_host:
        print("smtp: not configured (smtp_host)")
    else:
        login = f", login as {settings.smtp_user}" if settings.smtp_user else ", no login"
        print(
            f"smtp: {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_tls}{login}), "
            f"from {settings.smtp_from or '(smtp_from not set)'}"
        )
        try:
            MailSender(settings, password).check()
            print("  answered (connected, secured and logged in as configured)")
        except MailError as exc:
            print(f"  {exc}")
            ok = False
        ok = ok and bool(settings.smtp_from)
    if not settings.webhook_urls and not settings.smtp_host:
        ok = False
    return 0 if ok else 1
