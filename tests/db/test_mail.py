"""E-mail notices through the outbox to a real SMTP server (aiosmtpd) on loopback.

STARTTLS and implicit TLS use a throwaway certificate made by ``openssl`` for
127.0.0.1, trusted through ``smtp_ca_file``; logins are checked by the server.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.orm import Session, sessionmaker

from db.delivery.mail import MailError, MailSender
from db.delivery.outbox import enqueue_notice
from db.delivery.worker import Deliverer
from db.engine import unit_of_work
from db.models import AccountUser, OutboxState, Tenant
from db.settings import Settings
from tests.helpers.outbox_data import rows
from tests.helpers.review_data import make_account

USER, PASSWORD = "callgate", "s3cret-smtp"


@dataclass
class Inbox:
    """What the SMTP server accepted."""

    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

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
            and data.password.decode() == PASSWORD
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
