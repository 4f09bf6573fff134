"""A minimal callgate webhook receiver: check the signature, apply each event once.

Run: CALLGATE_WEBHOOK_SECRET=... python examples/webhook_receiver.py 8080
"""

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

applied: set[str] = set()  # a real receiver keeps applied event ids in its database


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
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        secret = os.environ["CALLGATE_WEBHOOK_SECRET"].encode()
        if not verify(secret, self.headers.get("Callgate-Signature", ""), body):
            self.send_response(401)
        else:
            event = json.loads(body)
            if self.headers["Idempotency-Key"] not in applied:  # a retry: already done
                applied.add(self.headers["Idempotency-Key"])
                print(event["type"], event.get("tenant_ref"), event.get("effective"), flush=True)
            self.send_response(200)
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
