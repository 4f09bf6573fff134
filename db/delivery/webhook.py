"""Webhook delivery: the signature scheme and the POST, over httpx.

One home for the signature recipe (Stripe's scheme, so receivers can reuse
their verification code): ``Callgate-Signature: t=<unix seconds>,v1=<hex>``
where ``v1 = HMAC-SHA256(secret, f"{t}.{body}")`` over the exact body bytes.
``Idempotency-Key`` is the event id, the same on every retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import httpx

from db.delivery.http import DeadlineClient, status_text
from db.urls import mask_urls, shown_url

SIGNATURE_HEADER = "Callgate-Signature"
USER_AGENT = "callgate-deliver/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Callgate-Signature`` header value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def ping_body(now: datetime) -> tuple[str, bytes]:
    """The test event ``deliver --check`` signs and sends, with its id; receivers answer 2xx
    and ignore it. It never enters the outbox."""
    event_id = str(uuid.uuid4())
    event = {
        "id": event_id,
        "type": "ping",
        "version": 1,
        "created_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    return event_id, json.dumps(event, sort_keys=True, separators=(",", ":")).encode("utf-8")


class WebhookSender:
    """POSTs signed events to the operator's webhook URLs; one connection pool for all.

    Each POST ends within ``timeout_seconds`` in all (``db.delivery.http``).
    """

    def __init__(self, secret: str, timeout_seconds: float) -> None:
        self._secret = secret
        self._client = DeadlineClient(timeout_seconds)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def send(self, url: str, event_id: str, body: bytes, now: datetime) -> str | None:
        """POST one event; None when the receiver answered 2xx, else the error in one line.

        The error names the URL (masked: ``db.urls``) and the status or the
        connection failure, never the response body (it is the receiver's, and
        may hold anything).
        """
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": event_id,
            SIGNATURE_HEADER: signature(self._secret, int(now.timestamp()), body),
        }
        shown = shown_url(url)
        try:
            answer = self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return f"{shown}: timed out (no answer within {self._client.seconds:g}s)"
        except httpx.HTTPError as exc:
            return mask_urls(f"{shown}: {type(exc).__name__}: {exc}".strip())
        if answer.ok:
            return None
        return f"{shown}: {status_text(answer.status)}"
