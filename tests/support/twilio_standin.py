"""A local stand-in for Twilio's Messages API, driven through the real ``twilio`` client.

The application points ``TWILIO_API_BASE_URL`` at :attr:`TwilioStandIn.base_url`; its
``twilio.rest.Client`` then POSTs ``/2010-04-01/Accounts/{AccountSid}/Messages.json`` here, form
encoded, with HTTP basic auth (account SID, auth token), exactly as it would to api.twilio.com.

The stand-in answers like Twilio (``201`` and the Message JSON; Twilio's error JSON on failures),
records every request, and, when the request carried a ``StatusCallback``, posts the status
callbacks Twilio would (``sent`` then ``delivered`` by default), form encoded and signed with
``X-Twilio-Signature`` over the exact callback URL. It also plays Twilio's inbound side:
:meth:`TwilioStandIn.send_inbound_sms` posts a signed inbound-message webhook.

Knobs for fault tests: :meth:`fail_next` (answer the next N creates with an error),
:meth:`hang_next` (take the next N creates, then answer only after a delay, like a provider that
hangs), ``auto_callbacks`` (which statuses to post, ``()`` for none), :meth:`send_status_callback`
(post one by hand, e.g. late or out of order), :meth:`set_status` (what a fetch answers),
:meth:`reset`. Messages can be fetched (``GET .../Messages/{sid}.json``) and listed, newest first,
filtered by ``To``/``From`` (``GET .../Messages.json``), as the reconciliation of the outbox does.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from .twilio_voice import VoiceSide

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages\.json$")
MESSAGE_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages/(?P<sid>(SM|MM)[0-9a-f]{32})\.json$"
)
CALLBACK_USER_AGENT = "TwilioProxy/1.1"


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def rfc2822_now() -> str:
    return format_datetime(datetime.now(UTC).replace(microsecond=0))


def twilio_error(status: int, code: int, message: str) -> dict:
    """Twilio's REST error body (what ``TwilioRestException`` parses)."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def sms_segments(body: str) -> int:
    """Rough GSM-7 segment count (enough for the ``num_segments`` field)."""
    if len(body) <= 160:
        return 1
    return math.ceil(len(body) / 153)


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: str
    headers: dict[str, str]


def signed_post(
    url: str, params: dict[str, str], *, auth_token: str, timeout: float = 10.0, **headers: str
) -> HttpResult:
    """POST ``params`` form encoded to ``url`` signed like Twilio signs its webhooks.

    The signature covers the full URL (query string included) and the POST parameters.
    Returns the response whatever its status (4xx/5xx do not raise).
    """
    signature = RequestValidator(auth_token).compute_signature(url, params)
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "User-Agent": CALLBACK_USER_AGENT,
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(
                response.status, response.read().decode(errors="replace"), dict(response.headers)
            )
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, exc.read().decode(errors="replace"), dict(exc.headers))


@dataclass
class RecordedRequest:
    """One request the stand-in received, with what it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    auth_username: str | None
    auth_password: str | None
    response_status: int = 0
    response_json: dict = field(default_factory=dict)

    @property
    def sid(self) -> str | None:
        """The Message SID the stand-in created (None when it answered with an error)."""
        return self.response_json.get("sid") if self.response_status == 201 else None

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")


@dataclass(frozen=True)
class CallbackResult:
    """One status callback the stand-in posted, and how the application answered."""

    url: str
    params: dict[str, str]
    status_code: int | None  # None: could not connect
    error: str = ""

    @property
    def message_status(self) -> str:
        return self.params.get("MessageStatus", "")


@dataclass(frozen=True)
class Failure:
    status: int
    code: int
    message: str


class TwilioStandIn:
    """A threaded HTTP server on 127.0.0.1 speaking the parts of Twilio's API we use.

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        auto_callbacks: tuple[str, ...] = ("sent", "delivered"),
        callback_timeout: float = 10.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.auto_callbacks = tuple(auto_callbacks)
        self.callback_timeout = callback_timeout
        self.requests: list[RecordedRequest] = []
        self.callbacks: list[CallbackResult] = []
        self.messages: dict[str, dict] = {}
        self._failures: deque[Failure] = deque()
        self._hangs: deque[float] = deque()
        self._order = 0
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._callback_threads: list[threading.Thread] = []
        self.voice = VoiceSide(self)

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What ``TWILIO_API_BASE_URL`` should be set to (stands for https://api.twilio.com)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> TwilioStandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"twilio-standin-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for thread in list(self._callback_threads):
            thread.join(timeout=self.callback_timeout + 1)
        self._callback_threads.clear()

    def __enter__(self) -> TwilioStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- configuration --------------------------------------------------------------------------

    def fail_next(
        self, count: int = 1, *, status: int = 500, code: int | None = None, message: str = ""
    ) -> None:
        """Answer the next ``count`` message creates with an error (no message, no callbacks).

        Defaults: 500 / 20500 "Internal Server Error" (transient). For a permanent failure use
        e.g. ``status=400, code=21211, message="The 'To' number is not a valid phone number."``.
        """
        failure = Failure(
            status=status,
            code=code if code is not None else (20500 if status >= 500 else 21211),
            message=message or ("Internal Server Error" if status >= 500 else "Invalid request"),
        )
        with self._changed:
            self._failures.extend([failure] * count)

    def hang_next(self, count: int = 1, *, seconds: float = 30.0) -> None:
        """Store the next ``count`` creates (they reached the provider) but answer each only after
        ``seconds``: a hanging provider, or a worker killed while it waits."""
        with self._changed:
            self._hangs.extend([seconds] * count)

    def set_status(self, sid: str, status: str) -> None:
        """What the provider says of ``sid`` when it is fetched (no callback is posted)."""
        with self._changed:
            self.messages[sid]["status"] = status

    def created_messages(self) -> list[dict]:
        """Every message created (including those whose answer hung), oldest first."""
        with self._changed:
            return sorted(
                ({k: v for k, v in m.items()} for m in self.messages.values()),
                key=lambda m: m["_order"],
            )

    def reset(self) -> None:
        """Forget recorded traffic and pending failures (keeps running on the same port)."""
        with self._changed:
            self.requests.clear()
            self.callbacks.clear()
            self.messages.clear()
            self._failures.clear()
            self._hangs.clear()
        self.voice.reset()

    # --- observation ----------------------------------------------------------------------------

    def message_requests(self) -> list[RecordedRequest]:
        """Recorded POSTs to the Messages list resource (message creates), in arrival order."""
        with self._changed:
            return [r for r in self.requests if r.method == "POST" and MESSAGES_PATH.match(r.path)]

    def wait_for_message_requests(self, count: int, timeout: float = 15.0) -> list[RecordedRequest]:
        """Block until at least ``count`` creates arrived; AssertionError after ``timeout``."""
        self._wait(lambda: len(self.message_requests()) >= count, timeout, f"{count} request(s)")
        return self.message_requests()

    def wait_for_callbacks(self, count: int, timeout: float = 15.0) -> list[CallbackResult]:
        """Block until at least ``count`` status callbacks were posted and answered."""
        self._wait(lambda: len(self.callbacks) >= count, timeout, f"{count} callback(s)")
        with self._changed:
            return list(self.callbacks)

    def _wait(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"Twilio stand-in: timed out after {timeout}s waiting for {what}; "
                        f"got {len(self.requests)} request(s), {len(self.callbacks)} callback(s)"
                    )
                self._changed.wait(remaining)

    # --- Twilio -> application ------------------------------------------------------------------

    def send_status_callback(
        self, request_or_sid: RecordedRequest | str, status: str, **extra: str
    ) -> CallbackResult:
        """Post one status callback for a message this stand-in created, signed like Twilio."""
        sid = request_or_sid if isinstance(request_or_sid, str) else request_or_sid.sid
        message = self.messages[sid]
        url = message["_status_callback"]
        if not url:
            raise ValueError(f"message {sid} was created without a StatusCallback")
        with self._changed:
            message["status"] = status
        params = {
            "SmsSid": sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": message["to"],
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": message["from"],
            "ApiVersion": API_VERSION,
            **extra,
        }
        return self._post_callback(url, params)

    def _post_callback(self, url: str, params: dict[str, str]) -> CallbackResult:
        try:
            response = signed_post(
                url, params, auth_token=self.auth_token, timeout=self.callback_timeout
            )
            result = CallbackResult(url=url, params=params, status_code=response.status)
        except OSError as exc:  # connection refused, timeout: Twilio would retry or give up
            result = CallbackResult(url=url, params=params, status_code=None, error=str(exc))
        with self._changed:
            self.callbacks.append(result)
            self._changed.notify_all()
        return result

    def _schedule_callbacks(self, sid: str) -> None:
        statuses = self.auto_callbacks

        def run() -> None:
            for status in statuses:
                self.send_status_callback(sid, status)

        thread = threading.Thread(target=run, name=f"twilio-callbacks-{sid[:8]}", daemon=True)
        self._callback_threads.append(thread)
        thread.start()

    def send_inbound_sms(
        self, webhook_url: str, *, from_: str, to: str, body: str, message_sid: str | None = None
    ) -> tuple[str, HttpResult]:
        """Post an inbound SMS to the application's webhook the way Twilio does, signed.

        Returns the MessageSid used and the application's response.
        """
        sid = message_sid or new_sid()
        params = {
            "ToCountry": "US",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US",
            "To": to,
            "ToZip": "",
            "NumSegments": str(sms_segments(body)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
        return sid, signed_post(webhook_url, params, auth_token=self.auth_token)

    # --- request handling (called from handler threads) -----------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def _create_message(self, request: RecordedRequest, account: str) -> tuple[int, dict]:
        if request.auth_username != self.account_sid or request.auth_password != self.auth_token:
            return 401, {
                **twilio_error(401, 20003, "Authenticate"),
                "detail": "Your AccountSid or AuthToken was incorrect.",
            }
        if account != self.account_sid:
            return 404, twilio_error(
                404, 20404, f"The requested resource {request.path} was not found"
            )
        with self._changed:
            failure = self._failures.popleft() if self._failures else None
        if failure:
            return failure.status, twilio_error(failure.status, failure.code, failure.message)
        form = request.form
        if not form.get("To"):
            return 400, twilio_error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, twilio_error(400, 21603, "A 'From' phone number is required.")
        if not form.get("Body") and not form.get("MediaUrl"):
            return 400, twilio_error(400, 21602, "Message body is required.")
        sid = new_sid()
        now = rfc2822_now()
        body = form.get("Body", "")
        uri = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json"
        message = {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "1" if form.get("MediaUrl") else "0",
            "num_segments": str(sms_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json",
                "feedback": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Feedback.json",
            },
            "to": form["To"],
            "uri": uri,
        }
        with self._changed:
            self._order += 1
            self.messages[sid] = {
                **message,
                "_status_callback": form.get("StatusCallback", ""),
                "_order": self._order,
            }
            hang = self._hangs.popleft() if self._hangs else 0.0
        if hang:
            time.sleep(hang)
        return 201, message

    def _list_messages(self, request: RecordedRequest, account: str) -> tuple[int, dict]:
        if request.auth_username != self.account_sid or request.auth_password != self.auth_token:
            return 401, twilio_error(401, 20003, "Authenticate")
        if account != self.account_sid:
            return 404, twilio_error(
                404, 20404, f"The requested resource {request.path} was not found"
            )
        query = request.query
        size = min(int(query.get("PageSize") or 50), 1000)
        with self._changed:
            found = [
                {k: v for k, v in m.items() if not k.startswith("_")}
                for m in sorted(self.messages.values(), key=lambda m: -m["_order"])
                if (not query.get("To") or m["to"] == query["To"])
                and (not query.get("From") or m["from"] == query["From"])
            ][:size]
        uri = request.path
        return 200, {
            "messages": found,
            "end": max(len(found) - 1, 0),
            "first_page_uri": f"{uri}?PageSize={size}&Page=0",
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{uri}?PageSize={size}&Page=0",
        }

    def _fetch_message(self, request: RecordedRequest, account: str, sid: str) -> tuple[int, dict]:
        if request.auth_username != self.account_sid or request.auth_password != self.auth_token:
            return 401, twilio_error(401, 20003, "Authenticate")
        with self._changed:
            message = self.messages.get(sid)
        if account != self.account_sid or message is None:
            return 404, twilio_error(
                404, 20404, f"The requested resource {request.path} was not found"
            )
        return 200, {k: v for k, v in message.items() if not k.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    owner: TwilioStandIn
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections end instead of pinning a thread forever
    server_version = "TwilioStandIn/1.0"

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("twilio stand-in: " + format, *args)

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        username, password = _basic_auth(self.headers.get("Authorization", ""))
        request = RecordedRequest(
            method=method,
            path=split.path,
            query={k: v[0] for k, v in parse_qs(split.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            form=form,
            auth_username=username,
            auth_password=password,
        )
        owner = self.owner
        created = MESSAGES_PATH.match(split.path)
        fetched = MESSAGE_PATH.match(split.path)
        voice = owner.voice.handle(request)
        if voice is not None:
            status, payload = voice
        elif method == "POST" and created:
            status, payload = owner._create_message(request, created["account"])
        elif method == "GET" and fetched:
            status, payload = owner._fetch_message(request, fetched["account"], fetched["sid"])
        elif method == "GET" and created:
            status, payload = owner._list_messages(request, created["account"])
        else:
            status, payload = (
                404,
                twilio_error(404, 20404, f"The requested resource {split.path} was not found"),
            )
        request.response_status = status
        binary = isinstance(payload, bytes)
        request.response_json = {} if binary else payload
        owner._record(request)
        data = payload if binary else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type", "audio/x-wav" if binary else "application/json; charset=utf-8"
        )
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        # Like Twilio: callbacks come after the API answered, asynchronously.
        if voice is None and status == 201 and form.get("StatusCallback") and owner.auto_callbacks:
            owner._schedule_callbacks(payload["sid"])


def _basic_auth(header: str) -> tuple[str | None, str | None]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None, None
    try:
        decoded = base64.b64decode(value.strip()).decode()
    except ValueError:
        return None, None
    username, _, password = decoded.partition(":")
    return username, password
