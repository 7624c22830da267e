"""A local HTTP endpoint standing in for an integrator's webhook receiver (loopback only).

It records every request (path, headers, body) and answers from a script of status codes
(``answers``: the next request gets the first code left; the last one repeats), so a test can
make it fail a few times, then succeed. With ``script_per`` (a header name, e.g. X-CC-Delivery)
each value of that header follows its own copy of the script. :meth:`verified` checks a
request's signature the way the README tells receivers to.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from contactcenter.outbound_http import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(
        self, answers: list[int] | None = None, reply: dict | None = None, script_per: str = ""
    ) -> None:
        self.answers = list(answers or [200])
        self.script_per = script_per
        self._scripts: dict[str, list[int]] = {}
        self.reply = reply
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    script = receiver.answers
                    if receiver.script_per:
                        key = self.headers.get(receiver.script_per, "")
                        script = receiver._scripts.setdefault(key, list(receiver.answers))
                    status = script.pop(0) if len(script) > 1 else script[0]
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, status)
                    )
                payload = json.dumps(receiver.reply or {"ok": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Block until ``count`` requests arrived (bounded); returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} requests, got {len(self.requests)}")

    @staticmethod
    def verified(request: Received, secret: str) -> bool:
        return verify_signature(
            secret=secret,
            timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
            body=request.body,
            signature=request.headers.get(SIGNATURE_HEADER, ""),
        )
