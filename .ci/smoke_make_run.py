"""Drive a freshly started `make run` like a new user for a while: an agent goes Ready, a customer
texts (the outbox's "play the customer" form) and another chats in the widget's socket; everything
stays in flight for `seconds`. The caller then reads the server's log for tracebacks.

    .venv/bin/python .ci/smoke_make_run.py http://127.0.0.1:8765 30
"""

import json
import re
import sys
import time

import requests
from websockets.sync.client import connect


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": username},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, f"login of {username}: {response.status_code}"
    return session


def post(session: requests.Session, base: str, path: str, data: dict) -> requests.Response:
    return session.post(
        f"{base}{path}",
        data=data,
        headers={"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": f"{base}/"},
        timeout=10,
    )


def main(base: str, seconds: float) -> None:
    agent = login(base, "agent1")
    assert post(agent, base, "/agent/state/", {"state": "ready"}).ok, "agent1 could not go Ready"

    supervisor = login(base, "admin")
    page = supervisor.get(f"{base}/channels/outbox/", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    entry_point = re.search(r'<option value="(\d+)">Support SMS', page).group(1)
    sent = supervisor.post(
        f"{base}/channels/outbox/",
        data={
            "csrfmiddlewaretoken": token,
            "from_number": "+14155550123",
            "entry_point": entry_point,
            "body": "Smoke test: where is my order?",
        },
        headers={"Referer": f"{base}/channels/outbox/"},
        timeout=10,
    )
    assert sent.ok, f"simulated SMS: {sent.status_code}"

    ws = base.replace("http://", "ws://") + "/ws/chat/website/"
    with connect(ws, additional_headers={"Origin": base}, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "hello", "token": None, "page": None, "language": "en"}))
        welcome = json.loads(socket.recv(timeout=10))
        assert welcome["type"] == "welcome", welcome
        fields = {
            "prechat-name": "Smoke Test",
            "prechat-email": "smoke@example.com",
            "prechat-phone": "",
            "prechat-question": "Hello from the smoke test",
        }
        socket.send(json.dumps({"type": "prechat", "client_id": "smoke-000001", "fields": fields}))
        deadline = time.monotonic() + seconds
        next_ping = time.monotonic() + 10
        frames = 0
        while time.monotonic() < deadline:
            try:
                json.loads(socket.recv(timeout=1))
                frames += 1
            except TimeoutError:
                pass
            if time.monotonic() >= next_ping:
                socket.send(json.dumps({"type": "ping"}))
                next_ping = time.monotonic() + 10
    print(
        f"smoke: an agent Ready, an SMS and a chat in flight for {seconds:.0f} s ({frames} frames)"
    )


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), float(sys.argv[2]) if len(sys.argv) > 2 else 30)
