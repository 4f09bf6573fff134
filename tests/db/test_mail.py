"""E-mail notices through the outbox to a real SMTP server (aiosmtpd) on loopback.

STARTTLS and implicit TLS use a throwaway certificate made by ``openssl`` for
127.0.0.1, trusted through ``smtp_ca_file``; logins are checked by the server.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from db.delivery.mail import MailError, MailSender
from db.delivery.outbox import enqueue_notice
from db.delivery.worker import Deliverer
from db.engine import unit_of_work
from db.models import AccountUser, OutboxEvent, OutboxState, Tenant
from db.settings import Settings
from tests.helpers.outbox_data import queue_plain_notice, rows, turn_auto_renew_off
from tests.helpers.receiver import running_receiver
from tests.helpers.review_data import make_account, make_staff
from tests.helpers.slow_servers import drip_greeting, hostile_server

USER, PASSWORD = "callgate", "s3cret-smtp"


@dataclass
class Inbox:
    """What the SMTP server accepted."""

    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    password: str = PASSWORD

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(content))
        )
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USER
            and data.password.decode("utf-8") == self.password
        )
        if isinstance(data, LoginPassword):
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[Inbox, int, str]]:
    """A real SMTP server: ``starttls`` (login required after TLS), ``ssl`` or ``none``."""
    mode: str = request.param
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    # Login is required only once STARTTLS has run; over implicit TLS, or on a
    # plain relay, it is offered and checked but the server cannot insist.
    options: dict[str, Any] = {"authenticator": inbox.authenticate}
    if mode == "starttls":
        options |= {"tls_context": context, "require_starttls": True, "auth_required": True}
    elif mode == "ssl":
        options |= {"ssl_context": context, "auth_require_tls": False}
    else:
        options |= {"auth_require_tls": False}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, port, mode
    finally:
        controller.stop()


def mail_settings(port: int, mode: str, cert: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite://",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": mode,
        "smtp_user": USER,
        "smtp_from": "callgate@desk.example",
        "smtp_ca_file": str(cert),
        "delivery_timeout_seconds": 5,
    } | changes
    return Settings(**values)


def queue_notice(factory: sessionmaker[Session], now: datetime) -> tuple[str, str]:
    """A notice to a tenant's admin, as the step-up notices will queue it: (event id, address)."""
    account = make_account(factory, "Contoso", "+14255550100", now.date())
    with unit_of_work(factory) as session:
        tenant = session.get(Tenant, account.tenant_id)
        admin = session.query(AccountUser).filter_by(user_id=account.user_id).one()
        assert tenant is not None
        row = enqueue_notice(
            session,
            type="notice.test",
            tenant=tenant,
            recipient=admin,
            subject="Your subscription",
            body="Auto-renew was turned off. Reference CG-7K4-Q2M.",
            now=now,
        )
        return row.event_id, account.user_id


@pytest.mark.parametrize("smtp_server", ["starttls", "ssl", "none"], indirect=True)
def test_a_notice_reaches_the_smtp_server_with_tls_and_login(
    factory: sessionmaker[Session],
    smtp_server: tuple[Inbox, int, str],
    certificate: tuple[Path, Path],
) -> None:
    inbox, port, mode = smtp_server
    event_id, address = queue_notice(factory, datetime.now(UTC))
    [row] = rows(factory)
    assert address not in row.payload  # the outbox keeps a reference, not the address
    worker = Deliverer(
        factory,
        mail_settings(port, mode, certificate[0]),
        webhook_secret="",
        smtp_password=PASSWORD,
    )
    assert worker.run_due().delivered == 1
    [(sender, recipients, message)] = inbox.messages
    assert sender == "callgate@desk.example" and recipients == [address]
    assert message["Subject"] == "Your subscription"
    assert message["Message-ID"] == f"<{event_id}@callgate>"
    assert "Reference CG-7K4-Q2M." in message.get_payload()
    assert inbox.logins == [USER]
    [row] = rows(factory)
    assert row.state is OutboxState.DELIVERED


@pytest.mark.parametrize("smtp_server", ["starttls"], indirect=True)
def test_a_refused_login_is_retried_later_and_the_error_names_no_secret(
    factory: sessionmaker[Session],
    smtp_server: tuple[Inbox, int, str],
    certificate: tuple[Path, Path],
) -> None:
    inbox, port, mode = smtp_server
    queue_notice(factory, datetime.now(UTC))
    worker = Deliverer(
        factory, mail_settings(port, mode, certificate[0]), webhook_secret="", smtp_password="wrong"
    )
    report = worker.run_due()
    assert report.retrying == 1 and inbox.messages == []
    [row] = rows(factory)
    assert row.state is OutboxState.PENDING and row.attempts == 1
    assert row.last_error == "SMTP login to 127.0.0.1 refused (535)"


@pytest.mark.parametrize("smtp_server", ["starttls"], indirect=True)
def test_check_says_whether_the_server_answers(
    smtp_server: tuple[Inbox, int, str], certificate: tuple[Path, Path]
) -> None:
    _inbox, port, mode = smtp_server
    MailSender(mail_settings(port, mode, certificate[0]), PASSWORD).check()
    # Without the private CA the certificate is not trusted: said in one line.
    with pytest.raises(
        MailError, match=r"TLS with SMTP 127\.0\.0\.1:\d+ failed: CERTIFICATE_VERIFY_FAILED"
    ):
        MailSender(mail_settings(port, mode, certificate[0], smtp_ca_file=""), PASSWORD).check()
    closed = free_port()
    with pytest.raises(MailError, match=rf"cannot reach SMTP 127\.0\.0\.1:{closed}"):
        MailSender(mail_settings(closed, mode, certificate[0]), PASSWORD).check()


NON_ASCII = "Pässwörd-ñ-密码"


@pytest.fixture
def utf8_smtp(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    """STARTTLS, login required, and the account's password is not ASCII."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(password=NON_ASCII), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_a_password_that_is_not_ascii_logs_in_and_the_notice_leaves(
    factory: sessionmaker[Session], utf8_smtp: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = utf8_smtp
    settings = mail_settings(port, "starttls", certificate[0])
    MailSender(settings, NON_ASCII).check()  # deliver --check
    with pytest.raises(MailError) as refused:
        MailSender(settings, "Pässwörd-wrong").check()
    assert str(refused.value) == "SMTP login to 127.0.0.1 refused (535)"
    event_id, address = queue_notice(factory, datetime.now(UTC))
    worker = Deliverer(factory, settings, webhook_secret="", smtp_password=NON_ASCII)
    assert worker.run_due().delivered == 1  # deliver --once and the worker
    [(_sender, recipients, message)] = inbox.messages
    assert recipients == [address] and message["Message-ID"] == f"<{event_id}@callgate>"
    assert inbox.logins == [USER, USER, USER]


def test_a_bad_mail_setting_never_stops_the_worker_and_webhooks_still_leave(
    factory: sessionmaker[Session], utf8_smtp: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = utf8_smtp
    queue_notice(factory, datetime.now(UTC))
    [event_id] = [r.event_id for r in rows(factory)]
    staff = make_staff(factory)
    [webhook_event] = [
        e for e in turn_auto_renew_off(factory, staff.agent, 1, datetime.now(UTC)) if e != event_id
    ]
    # A line break in the sender cannot be written into a header: one bad setting.
    settings = mail_settings(
        port, "starttls", certificate[0], smtp_from="desk@example.com\r\nBcc: x@evil.example"
    )
    with running_receiver() as receiver:
        settings = replace(settings, webhook_urls=(receiver.url,))
        worker = Deliverer(factory, settings, webhook_secret="whsec", smtp_password=NON_ASCII)
        report = worker.run_due()
        worker.close()
    assert report.delivered == 1 and report.retrying == 1
    assert receiver.applied == {webhook_event: 1} and inbox.messages == []
    notice, hook = rows(factory)
    assert hook.state is OutboxState.DELIVERED
    assert notice.state is OutboxState.PENDING and notice.claim is None
    assert notice.next_attempt_at > datetime.now(UTC)  # backed off, not held to the lease end
    assert notice.last_error == "the notice cannot be written: ValueError"


def test_an_smtp_server_that_drips_is_cut_at_the_deadline(certificate: tuple[Path, Path]) -> None:
    with hostile_server(drip_greeting, http=False) as server:
        settings = mail_settings(server.port, "none", certificate[0], delivery_timeout_seconds=1)
        with pytest.raises(MailError) as caught:
            MailSender(settings, PASSWORD).check()
    assert str(caught.value) == f"SMTP 127.0.0.1:{server.port} timed out (no answer within 1s)"


def test_a_notice_the_worker_cannot_read_is_retried_and_the_worker_goes_on(
    factory: sessionmaker[Session], utf8_smtp: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = utf8_smtp
    broken, _address = queue_notice(factory, datetime.now(UTC))
    with unit_of_work(factory) as session:
        session.execute(
            update(OutboxEvent).where(OutboxEvent.event_id == broken).values(payload="{")
        )
    now = datetime.now(UTC)
    fine = queue_plain_notice(factory, "Fabrikam", "+14255550111", now.date(), now)[0].event_id
    settings = mail_settings(port, "starttls", certificate[0])
    worker = Deliverer(factory, settings, webhook_secret="", smtp_password=NON_ASCII)
    report = worker.run_due()
    assert report.delivered == 1 and report.retrying == 1
    [(_sender, _to, message)] = inbox.messages
    assert message["Message-ID"] == f"<{fine}@callgate>"
    [row] = [r for r in rows(factory) if r.event_id == broken]
    assert row.state is OutboxState.PENDING and row.claim is None
    assert row.last_error == "could not send: JSONDecodeError"
