"""E-mail notices over SMTP (stdlib ``smtplib``): TLS and login from the settings.

``smtp_tls`` is ``starttls`` (upgrade a plain connection, port 587), ``ssl``
(TLS from the first byte, port 465) or ``none`` (a relay on the same host).
Each notice carries ``Message-ID: <event id@callgate>`` so a retried notice is
recognizable as the same message.
"""

from __future__ import annotations

import smtplib
import ssl
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
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{event_id}@callgate>"
        message.set_content(body)
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

    def _session(self) -> smtplib.SMTP:
        """A connected, secured, logged-in session (use it as a context manager)."""
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            smtp: smtplib.SMTP
            if self.tls == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                if self.tls == "starttls":
                    smtp.starttls(context=context)
                if self.user:
                    smtp.login(self.user, self._password)
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"SMTP login to {self.host} refused ({exc.smtp_code})") from exc
        except smtplib.SMTPException as exc:
            raise MailError(f"SMTP error from {self.host}: {type(exc).__name__}") from exc
        except ssl.SSLError as exc:
            reason = exc.reason or type(exc).__name__
            raise MailError(f"TLS with SMTP {self.host}:{self.port} failed: {reason}") from exc
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise MailError(f"cannot reach SMTP {self.host}:{self.port}: {reason}") from exc
        return smtp
