"""Texts through an HTTP SMS gateway with Twilio's Messages API shape.

``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` with basic auth
``sid:token`` and the form fields ``To``, ``From``, ``Body``. The base URL is
the operator's, so any gateway speaking this shape (or a test server) works.
A failure is an ``SmsError`` whose message names the gateway and the status,
never the token, the destination or the message (it may hold a code). The
status is told by its standard phrase, never the gateway's own reason text,
which may quote the number (the agent's desk shows the message).
"""

from __future__ import annotations

import json

import httpx

from db.delivery.http import DeadlineClient, status_text
from db.delivery.webhook import USER_AGENT
from db.urls import shown_url


class SmsError(RuntimeError):
    """A text the gateway did not accept; the message is one line without secrets."""


class SmsSender:
    """Sends texts through one gateway account; one connection pool for all.

    Each send ends within ``timeout`` in all, reading at most a capped answer
    (``db.delivery.http``).
    """

    def __init__(
        self, base_url: str, account_sid: str, token: str, from_number: str, timeout: float
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._shown = shown_url(base_url)
        self._from = from_number
        self._client = DeadlineClient(timeout, auth=(account_sid, token))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def send(self, to: str, body: str) -> str:
        """Send ``body`` to ``to`` (E.164); the gateway's message id ("" if it gave none).

        Raises SmsError when the gateway cannot be reached or answers other than 2xx.
        """
        form = {"To": to, "From": self._from, "Body": body}
        try:
            answer = self._client.post(self._url, data=form, headers={"User-Agent": USER_AGENT})
        except httpx.TimeoutException:
            raise SmsError(
                f"SMS gateway {self._shown}: timed out (no answer within {self._client.seconds:g}s)"
            ) from None
        except httpx.HTTPError as exc:
            raise SmsError(f"SMS gateway {self._shown}: {type(exc).__name__}") from None
        if not answer.ok:
            raise SmsError(f"SMS gateway {self._shown}: {status_text(answer.status)}")
        if answer.truncated:
            return ""
        try:
            sid = json.loads(answer.body).get("sid", "")
        except (ValueError, AttributeError):
            return ""
        return sid if isinstance(sid, str) else ""
