"""The live-process fixtures behave as the reliability suites will rely on: restart and crash
keep the server's address, and every process is stopped by pid."""

import urllib.request

import pytest


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


@pytest.mark.django_db(transaction=True)
def test_asgi_server_restarts_and_recovers_from_a_crash_on_the_same_address(asgi_server):
    login_url = f"{asgi_server.url}/accounts/login/"
    first_pid = asgi_server.pid
    assert get(login_url) == 200

    asgi_server.restart()
    second_pid = asgi_server.pid
    assert get(login_url) == 200

    assert asgi_server.kill() == -9  # SIGKILL: a crash, no graceful shutdown
    assert not asgi_server.running
    with pytest.raises(OSError):
        get(login_url)
    asgi_server.start()

    assert get(login_url) == 200
    assert len({first_pid, second_pid, asgi_server.pid}) == 3
    assert asgi_server.log_text().count("Uvicorn running on") == 3
