"""The delivery worker behind ``callgate deliver``: claim, send, record, repeat.

Webhook events go to every URL in ``webhook_urls`` (each URL that answered 2xx
is not sent the event again); e-mail notices go over SMTP. A worker sends
only the channels that are configured, so rows of another channel wait for a
worker that has it. Timing (``clock``, ``jitter``) is injectable for tests;
nothing here sleeps except ``run``'s wait between empty polls, which a stop
request cuts short.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.delivery.mail import MailError, MailSender
from db.delivery.notices import recipient_now
from db.delivery.outbox import AttemptResult, Claimed, RetryPolicy, claim_due, record, release
from db.delivery.webhook import WebhookSender
from db.expedited.cooling import finalize_due
from db.models import OutboxChannel, OutboxState
from db.settings import Settings
from db.types import utcnow

log = logging.getLogger("callgate.deliver")

BATCH_SIZE = 20
POLL_SECONDS = 2.0
# Longest wait between tries while the database is unreachable.
MAX_OUTAGE_WAIT = 60.0
# What a lease adds to the slowest attempt: the time to record it.
LEASE_MARGIN_SECONDS = 60


def lease_for(timeout_seconds: float, urls: int) -> timedelta:
    """How long a claim holds a row: longer than the slowest attempt can last, so a
    live worker never loses its row to a second one mid-send.

    A row's attempt is one POST per URL, or one SMTP session, each ending by
    its deadline of ``timeout_seconds`` in all (``db.delivery.http``,
    ``db.delivery.mail``); the margin covers recording the result.
    """
    slowest = timeout_seconds * max(1, urls)
    lease = timedelta(seconds=slowest + LEASE_MARGIN_SECONDS)
    assert lease > timedelta(seconds=slowest)
    return lease


class NothingToDeliver(ValueError):
    """Neither webhooks nor SMTP are configured (or a webhook has no secret)."""


@dataclass(frozen=True)
class BatchReport:
    """What one pass did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    canceled: int = 0

    @property
    def attempted(self) -> int:
        """Rows tried in the pass."""
        return self.delivered + self.retrying + self.failed + self.canceled

    def __add__(self, other: BatchReport) -> BatchReport:
        return BatchReport(
            self.delivered + other.delivered,
            self.retrying + other.retrying,
            self.failed + other.failed,
            self.canceled + other.canceled,
        )


class Deliverer:
    """One worker; ``close()`` it when done."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        webhook_secret: str,
        smtp_password: str,
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] = random.random,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if settings.webhook_urls and not webhook_secret:
            raise NothingToDeliver(
                "webhook_urls are set but no secret: set CALLGATE_WEBHOOK_SECRET "
                "or webhook_secret_file"
            )
        channels = []
        if settings.webhook_urls:
            channels.append(OutboxChannel.WEBHOOK)
        if settings.smtp_host:
            if not settings.smtp_from:
                raise NothingToDeliver("smtp_host is set but smtp_from is not")
            channels.append(OutboxChannel.EMAIL)
        if not channels:
            raise NothingToDeliver("nothing to deliver to: set webhook_urls or smtp_host")
        self.channels = tuple(channels)
        self.factory = factory
        self.urls = settings.webhook_urls
        self.clock = clock
        self.jitter = jitter
        self.batch_size = batch_size
        timeout = settings.delivery_timeout_seconds
        self.policy = RetryPolicy(
            max_attempts=settings.delivery_max_attempts,
            base_seconds=settings.delivery_retry_base_seconds,
            max_seconds=settings.delivery_retry_max_seconds,
            lease=lease_for(timeout, len(self.urls)),
        )
        self.webhook = WebhookSender(webhook_secret, timeout) if self.urls else None
        self.mail = MailSender(settings, smtp_password) if settings.smtp_host else None

    def close(self) -> None:
        """Release the HTTP connection pool."""
        if self.webhook is not None:
            self.webhook.close()

    def run_batch(self, stop: threading.Event | None = None) -> BatchReport:
        """Claim one batch of due rows and try each; on ``stop``, hand back the untried rest.

        Each pass first marks final the expedited requests due now
        (``db.expedited.cooling.finalize_due``), so their ``expedited.final`` events go out in it.
        """
        finalized = finalize_due(self.factory, self.clock())
        if finalized:
            log.info("marked %d expedited request(s) final", finalized)
        claimed = claim_due(
            self.factory, self.channels, self.clock(), self.batch_size, self.policy.lease
        )
        report = BatchReport()
        for index, item in enumerate(claimed):
            if stop is not None and stop.is_set():
                release(self.factory, claimed[index:], self.clock())
                log.info("stopping: %d claimed event(s) handed back", len(claimed) - index)
                break
            report += self._attempt(item)
        return report

    def run_due(self, stop: threading.Event | None = None) -> BatchReport:
        """Try every row due now, batch after batch (``deliver --once``)."""
        total = BatchReport()
        while stop is None or not stop.is_set():
            report = self.run_batch(stop)
            total += report
            if report.attempted == 0:
                break
        return total

    def run(self, stop: threading.Event, poll_seconds: float = POLL_SECONDS) -> BatchReport:
        """Deliver until ``stop`` is set, polling when nothing is due.

        A database that cannot be reached (a server restart, a failover) is
        waited for, not fatal: rows claimed before it went away come back when
        their lease ends, and are sent with the same idempotency key.
        """
        total = BatchReport()
        outage = 0.0
        while not stop.is_set():
            try:
                report = self.run_batch(stop)
            except OperationalError as exc:
                outage = min(MAX_OUTAGE_WAIT, max(poll_seconds, outage * 2))
                detail = str(exc.orig or exc).strip().splitlines()[0]
                log.warning("database unavailable, trying again in %.0fs: %s", outage, detail)
                stop.wait(outage)
                continue
            outage = 0.0
            total += report
            if report.attempted == 0:
                stop.wait(poll_seconds)
        return total

    def _attempt(self, item: Claimed) -> BatchReport:
        try:
            if item.channel is OutboxChannel.WEBHOOK:
                outcome = self._send_webhook(item)
            else:
                outcome = self._send_mail(item)
        except Exception as exc:  # one message, or one bad setting, never stops the worker
            # The exception's text may quote a setting or a secret: its type is said.
            outcome = AttemptResult((), f"could not send: {type(exc).__name__}")
        state = record(self.factory, item, outcome, self.clock(), self.policy, self.jitter())
        if state is OutboxState.CANCELED:
            log.info("canceled %s %s: %s", item.type, item.event_id, outcome.canceled)
            return BatchReport(canceled=1)
        if state is OutboxState.DELIVERED:
            log.info("delivered %s %s (attempt %d)", item.type, item.event_id, item.attempts)
            return BatchReport(delivered=1)
        if state is OutboxState.FAILED:
            log.warning(
                "parked %s %s after %d attempts: %s",
                item.type,
                item.event_id,
                item.attempts,
                outcome.error,
            )
            return BatchReport(failed=1)
        log.info("will retry %s %s: %s", item.type, item.event_id, outcome.error)
        return BatchReport(retrying=1)

    def _send_webhook(self, item: Claimed) -> AttemptResult:
        assert self.webhook is not None  # only claimed when configured
        body = item.payload.encode("utf-8")
        acked: list[str] = []
        errors: list[str] = []
        for url in self.urls:
            if url in item.acked:
                continue
            error = self.webhook.send(url, item.event_id, body, self.clock())
            if error is None:
                acked.append(url)
            else:
                errors.append(error)
        return AttemptResult(tuple(acked), "; ".join(errors) or None)

    def _send_mail(self, item: Claimed) -> AttemptResult:
        assert self.mail is not None  # only claimed when configured
        address, why = recipient_now(self.factory, item.recipient_user_id)
        if address is None:
            return AttemptResult((), None, canceled=why)
        notice = json.loads(item.payload)
        try:
            self.mail.send(address, notice["subject"], notice["body"], item.event_id)
        except MailError as exc:
            return AttemptResult((), str(exc))
        return AttemptResult(("smtp",), None)
