"""E-mail notices over SMTP (stdlib ``smtplib``): TLS and login from the settings.

``smtp_tls`` is ``starttls`` (upgrade a plain connection, port 587), ``ssl``
(TLS from the first byte, port 465) or ``none`` (a relay on the same host).
Each notice carries ``Message-ID: <event id@callgate>`` so a retried notice is
recognizable as the same message.

A user name or password that is not ASCII is sent as UTF-8 in ``AUTH PLAIN``
(RFC 4954 with RFC 6531's UTF-8): ``smtplib.login`` encodes every mechanism
as ASCII and would crash. A session ends within ``delivery_timeout_seconds``
in all, however slowly the server answers: at the deadline its socket is
shut, as ``db.delivery.http`` bounds an HTTP attempt. Every failure is a
``MailError`` in one line that names no secret.
"""

from __future__ import annotations

import base64
import contextlib
import smtplib
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate

from db.settings import Settings


class MailError(Exception):
    """A notice could not be handed to the SMTP server; the message says why, in one line."""


class MailSender:
    """Sends notices through the SMTP server in the settings."""

    def __init__(self, settings: Settings, password: str) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.tls = settings.smtp_tls
        self.user = settings.smtp_user
        self.sender = settings.smtp_from
        self.timeout = settings.delivery_timeout_seconds
        # A private CA's certificate file, else the system's trusted CAs.
        self.ca_file = settings.smtp_ca_file or None
        self._password = password

    def send(self, to: str, subject: str, body: str, event_id: str) -> None:
        """Hand one notice to the server; raises ``MailError``."""
        try:
            message = EmailMessage()
            message["From"] = self.sender
            message["To"] = to
            message["Subject"] = subject
            message["Date"] = formatdate(usegmt=True)
            message["Message-ID"] = f"<{event_id}@callgate>"
            message.set_content(body)
        except (ValueError, TypeError) as exc:
            # A header that cannot be written (a line break in smtp_from, say): not quoted.
            raise MailError(f"the notice cannot be written: {type(exc).__name__}") from exc
        with self._session() as smtp:
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = sorted({code for code, _ in exc.recipients.values()})
                # The server's text often quotes the address: keep only the codes.
                raise MailError(f"SMTP recipient refused ({', '.join(map(str, codes))})") from exc
            except smtplib.SMTPResponseException as exc:
                raise MailError(f"SMTP {exc.smtp_code} from {self.host}") from exc
            except smtplib.SMTPException as exc:
                raise MailError(f"SMTP error from {self.host}: {type(exc).__name__}") from exc

    def check(self) -> None:
        """Connect, secure and log in as a send would, then say NOOP; raises ``MailError``."""
        with self._session() as smtp:
            code, _ = smtp.noop()
            if code != 250:
                raise MailError(f"SMTP {code} from {self.host} to NOOP")

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """A connected, secured, logged-in session, closed on leaving; raises ``MailError``."""
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
        except OSError as exc:
            raise MailError(f"smtp_ca_file cannot be read: {exc.strerror or exc}") from exc
        smtp: smtplib.SMTP
        if self.tls == "ssl":
            smtp = smtplib.SMTP_SSL(timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(timeout=self.timeout)
        # What the constructor would set from a host: TLS checks the certificate against it.
        smtp._host = self.host  # type: ignore[attr-defined]
        cut = threading.Event()
        timer = threading.Timer(self.timeout, _shut, (smtp, cut))
        timer.daemon = True
        timer.start()
        try:
            try:
                smtp.connect(self.host, self.port)
                if self.tls == "starttls":
                    smtp.starttls(context=context)
                if self.user:
                    _login(smtp, self.host, self.user, self._password)
                yield smtp
            finally:
                timer.cancel()
                smtp.close()
        except MailError:
            raise
        except BaseException as exc:
            if cut.is_set():
                raise MailError(
                    f"SMTP {self.host}:{self.port} timed out (no answer within {self.timeout:g}s)"
                ) from exc
            if not isinstance(exc, Exception):
                raise
            raise self._error(exc) from exc

    def _error(self, exc: Exception) -> MailError:
        """The one line an exception of a session becomes."""
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return MailError(f"SMTP login to {self.host} refused ({exc.smtp_code})")
        if isinstance(exc, smtplib.SMTPException):
            return MailError(f"SMTP error from {self.host}: {type(exc).__name__}")
        if isinstance(exc, ssl.SSLError):
            reason = exc.reason or type(exc).__name__
            return MailError(f"TLS with SMTP {self.host}:{self.port} failed: {reason}")
        if isinstance(exc, OSError):
            reason = exc.strerror or type(exc).__name__
            return MailError(f"cannot reach SMTP {self.host}:{self.port}: {reason}")
        # A setting the message or the session cannot carry: its text may quote it.
        return MailError(f"SMTP {self.host}: cannot send ({type(exc).__name__})")


def _login(smtp: smtplib.SMTP, host: str, user: str, password: str) -> None:
    """Log in; UTF-8 ``AUTH PLAIN`` when the user or password is not ASCII."""
    if user.isascii() and password.isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise MailError(
            f"SMTP {host}: a login that is not ASCII needs AUTH PLAIN, which it does not offer"
        )
    token = b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")
    code, reply = smtp.docmd("AUTH", "PLAIN " + base64.b64encode(token).decode("ascii"))
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)


def _shut(smtp: smtplib.SMTP, cut: threading.Event) -> None:
    """The deadline: shut the session's socket, so a read waiting on it ends now."""
    cut.set()
    sock = smtp.sock
    if sock is not None:
        # The plain socket's shutdown, also under TLS: it wakes a blocked read.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
