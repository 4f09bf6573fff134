"""A minimal callgate webhook receiver: check the signature, apply each event once.

Run: CALLGATE_WEBHOOK_SECRET=... python examples/webhook_receiver.py 8080

Nothing in a request is trusted before its signature and its timestamp are
checked. The event is then applied once by the ``id`` inside the signed body,
never by the ``Idempotency-Key`` header: the signature does not cover the
headers, so a captured request replayed with a new key would be applied again.
"""

import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024  # callgate's events are a few hundred bytes
applied: set[str] = set()  # a real receiver keeps applied event ids in its database
applied_lock = threading.Lock()


def verify(secret: bytes, header: str, body: bytes, now: float | None = None) -> bool:
    """True when ``Callgate-Signature`` signs ``body`` with ``secret``, sent in the last 5 min."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        signed = fields["t"].encode() + b"." + body
        fresh = abs((time.time() if now is None else now) - int(fields["t"])) <= 300
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return fresh and hmac.compare_digest(expected, fields.get("v1", ""))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", 0))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.answer(413 if length > MAX_BODY else 400)
            return
        body = self.rfile.read(length)
        secret = os.environ["CALLGATE_WEBHOOK_SECRET"].encode()
        if not verify(secret, self.headers.get("Callgate-Signature", ""), body):
            self.answer(401)
            return
        event = json.loads(body)
        with applied_lock:  # the check and the record in one step, as a database would
            first = event["id"] not in applied
            applied.add(event["id"])
        if first:  # else a retry (or a replay): already done, acknowledged again
            print(event["type"], event.get("tenant_ref"), event.get("effective"), flush=True)
        self.answer(200)

    def answer(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
