"""Signed HTTP POSTs to an integrator's endpoint: outbound webhooks and the API channel's replies.

Every request carries ``X-CC-Timestamp`` (Unix seconds) and ``X-CC-Signature: v1=<hex>``, the
HMAC-SHA256 of ``"<timestamp>." + body`` with the endpoint's secret. Receivers recompute it,
compare in constant time and refuse timestamps older than a few minutes (replays); see
:func:`verify_signature` and the README's snippet.

Outcomes: a 2xx is delivered; a timeout, a connection error, 408, 425, 429 or a 5xx is transient
(retried with backoff); anything else (other 4xx, a redirect, a refused address) is permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

TIMESTAMP_HEADER = "X-CC-Timestamp"
SIGNATURE_HEADER = "X-CC-Signature"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
TRANSIENT_STATUSES = {408, 425, 429}
USER_AGENT = "ContactCenter/1.0 (+webhooks)"
KEEP_CHARS = 500


def compute_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify_signature(
    *,
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does (also used by our tests' receivers)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(compute_signature(secret, sent_at, body), signature or "")


class DeliveryError(Exception):
    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status_code: int | None = None,
        response_body: str = "",
        duration_ms: int = 0,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.status_code = status_code
        self.response_body = response_body
        self.duration_ms = duration_ms


@dataclass(frozen=True)
class DeliveryResult:
    status_code: int
    response_body: str
    duration_ms: int
    data: object  # the parsed JSON answer, or None


def encode_body(payload: object) -> bytes:
    return json.dumps(
        payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode()


def url_problem(url: str) -> str:
    """Why ``url`` cannot be delivered to (empty when it can)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return ""
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return ""  # unresolvable now: the request itself fails (transient)
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"{parts.hostname} resolves to a non-public address ({address})"
    return ""


def signed_post(
    *, url: str, secret: str, payload: object, headers: dict[str, str] | None = None
) -> DeliveryResult:
    body = encode_body(payload)
    problem = url_problem(url)
    if problem:
        raise DeliveryError(problem, transient=False)
    timestamp = int(time.time())
    request_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: compute_signature(secret, timestamp, body),
        **(headers or {}),
    }
    started = time.monotonic()
    try:
        response = requests.post(
            url,
            data=body,
            headers=request_headers,
            timeout=(3.05, settings.WEBHOOK_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise DeliveryError(
            f"timeout: {exc}"[:KEEP_CHARS], transient=True, duration_ms=_ms(started)
        ) from exc
    except requests.RequestException as exc:
        raise DeliveryError(
            f"{type(exc).__name__}: {exc}"[:KEEP_CHARS], transient=True, duration_ms=_ms(started)
        ) from exc
    duration = _ms(started)
    text = response.text[:KEEP_CHARS]
    if 200 <= response.status_code < 300:
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        return DeliveryResult(
            status_code=response.status_code, response_body=text, duration_ms=duration, data=data
        )
    transient = response.status_code >= 500 or response.status_code in TRANSIENT_STATUSES
    raise DeliveryError(
        f"HTTP {response.status_code}",
        transient=transient,
        status_code=response.status_code,
        response_body=text,
        duration_ms=duration,
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
