"""The Twilio stand-in speaks the protocol the real ``twilio`` client and Twilio's webhooks use.

No browser, no database: these pin the stand-in itself so the e2e and fault suites can trust it.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels_app.sms.adapters import BaseUrlHttpClient
from tests.conftest import TWILIO_TEST_SID, TWILIO_TEST_TOKEN
from tests.support.twilio_standin import TwilioStandIn


@pytest.fixture
def standin():
    with TwilioStandIn(account_sid=TWILIO_TEST_SID, auth_token=TWILIO_TEST_TOKEN) as server:
        yield server


def client_for(standin, token=TWILIO_TEST_TOKEN):
    return Client(TWILIO_TEST_SID, token, http_client=BaseUrlHttpClient(standin.base_url))


class Receiver:
    """A local webhook endpoint recording what it was posted; answers 204."""

    def __init__(self):
        self.posts = []
        self.received = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                raw = self.rfile.read(length).decode()
                params = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                with receiver.received:
                    receiver.posts.append((self.path, dict(self.headers), params))
                    receiver.received.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count, timeout=10):
        with self.received:
            assert self.received.wait_for(lambda: len(self.posts) >= count, timeout), self.posts
            return list(self.posts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def test_real_client_creates_a_message_and_the_request_is_recorded(standin):
    message = client_for(standin).messages.create(
        to="+14155550123", from_="+15005550006", body="Hello"
    )

    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.status, message.to, message.from_, message.body) == (
        "queued",
        "+14155550123",
        "+15005550006",
        "Hello",
    )
    assert message.account_sid == TWILIO_TEST_SID
    assert message.date_created is not None  # RFC 2822, parsed by the client
    (request,) = standin.message_requests()
    assert (request.auth_username, request.auth_password) == (TWILIO_TEST_SID, TWILIO_TEST_TOKEN)
    assert request.form == {"To": "+14155550123", "From": "+15005550006", "Body": "Hello"}
    assert request.sid == message.sid
    assert client_for(standin).messages(message.sid).fetch().body == "Hello"


def test_wrong_credentials_get_twilios_401(standin):
    with pytest.raises(TwilioRestException) as raised:
        client_for(standin, token="wrong").messages.create(
            to="+14155550123", from_="+1500", body="x"
        )

    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_fail_next_answers_errors_then_recovers(standin):
    standin.fail_next(1, status=503)
    standin.fail_next(1, status=400, code=21211, message="The 'To' number is not valid.")
    client = client_for(standin)

    with pytest.raises(TwilioRestException) as transient:
        client.messages.create(to="+14155550123", from_="+15005550006", body="a")
    with pytest.raises(TwilioRestException) as permanent:
        client.messages.create(to="+14155550123", from_="+15005550006", body="b")
    ok = client.messages.create(to="+14155550123", from_="+15005550006", body="c")

    assert (transient.value.status, transient.value.code) == (503, 20500)
    assert (permanent.value.status, permanent.value.code) == (400, 21211)
    assert "'To' number" in permanent.value.msg
    assert ok.status == "queued"
    assert [r.response_status for r in standin.message_requests()] == [503, 400, 201]


def test_status_callbacks_are_posted_in_order_and_signed_like_twilio(standin, receiver):
    callback = f"{receiver.url}/webhooks/twilio/sms/status/?message=7"
    message = client_for(standin).messages.create(
        to="+14155550123", from_="+15005550006", body="Hi", status_callback=callback
    )

    posts = receiver.wait_for(2)
    validator = RequestValidator(TWILIO_TEST_TOKEN)
    assert [params["MessageStatus"] for _, _, params in posts] == ["sent", "delivered"]
    for path, headers, params in posts:
        assert path == "/webhooks/twilio/sms/status/?message=7"
        assert validator.validate(callback, params, headers["X-Twilio-Signature"])
        assert params["MessageSid"] == message.sid
        assert params["AccountSid"] == TWILIO_TEST_SID
        assert (params["From"], params["To"]) == ("+15005550006", "+14155550123")
        assert params["ApiVersion"] == "2010-04-01"
    results = standin.wait_for_callbacks(2)
    assert [(r.message_status, r.status_code) for r in results] == [
        ("sent", 204),
        ("delivered", 204),
    ]


def test_callbacks_can_be_held_and_sent_by_hand(standin, receiver):
    standin.auto_callbacks = ()
    callback = f"{receiver.url}/status/"
    client_for(standin).messages.create(
        to="+14155550123", from_="+15005550006", body="Hi", status_callback=callback
    )
    (request,) = standin.wait_for_message_requests(1)
    assert standin.callbacks == []

    result = standin.send_status_callback(request, "undelivered", ErrorCode="30003")

    assert result.status_code == 204
    (_, _, params) = receiver.wait_for(1)[0]
    assert (params["MessageStatus"], params["ErrorCode"]) == ("undelivered", "30003")


def test_inbound_sms_webhook_is_signed_over_the_exact_url(standin, receiver):
    url = f"{receiver.url}/webhooks/twilio/sms/"

    sid, response = standin.send_inbound_sms(
        url, from_="+14155550123", to="+15005550006", body="Yo"
    )

    assert response.status == 204
    (_, headers, params) = receiver.wait_for(1)[0]
    assert RequestValidator(TWILIO_TEST_TOKEN).validate(url, params, headers["X-Twilio-Signature"])
    assert (params["MessageSid"], params["Body"], params["SmsStatus"]) == (sid, "Yo", "received")
