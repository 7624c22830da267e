"""Services of a test's own, for fault tests that stop and restart them: a Redis server and a
PostgreSQL cluster on new loopback ports, started by the test, stopped and restarted by pid (or by
``pg_ctl`` on the test's own data directory), removed at the end. The machine's own PostgreSQL and
Redis are never touched.

Also the Celery beat and a supervised worker as managed processes, and small clients that drive
the live server the way an agent's browser and Twilio do (HTTP with a session, websockets).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from .live_server import VENV_BIN, ManagedProcess, free_port, port_is_open

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


class OwnRedis(ManagedProcess):
    """``redis-server`` on a free port, keeping nothing on disk."""

    ready_timeout = 15.0

    def __init__(self, *, log_path: Path) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="test-redis-"))
        argv = [
            REDIS_SERVER,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir),
        ]
        super().__init__(name=f"redis:{self.port}", argv=argv, env=os.environ, log_path=log_path)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def is_ready(self) -> bool:
        return port_is_open("127.0.0.1", self.port, timeout=0.5)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnPostgres:
    """A PostgreSQL cluster of the test's own (``initdb`` in a temp directory, run as the
    ``postgres`` system user when the tests run as root), on a free port."""

    def __init__(self, *, log_path: Path) -> None:
        if PG_BIN is None:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="test-pg-"))
        self.data = self.dir / "data"
        self.log_path = log_path
        self.as_user = "postgres" if os.geteuid() == 0 else None
        if self.as_user:
            entry = pwd.getpwnam(self.as_user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"])
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n"
            )

    def _run(self, command: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
        argv = [str(PG_BIN / command[0]), *command[1:]]
        if self.as_user:
            argv = ["runuser", "-u", self.as_user, "--", *argv]
        return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run(
            ["pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "start"]
        )

    def stop(self) -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)

    def create_database(self, name: str) -> None:
        self._run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return (self.dir / "server.log").read_text(errors="replace")
        return ""

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class CeleryBeat(ManagedProcess):
    """``celery -A contactcenter beat`` with its schedule file in a temp directory."""

    ready_timeout = 60.0

    def __init__(self, *, env: Mapping[str, str], log_path: Path) -> None:
        schedule = Path(tempfile.mkdtemp(prefix="test-beat-")) / "schedule"
        argv = [
            str(VENV_BIN / "celery"),
            "-A",
            "contactcenter",
            "beat",
            "--loglevel=INFO",
            "-s",
            str(schedule),
        ]
        super().__init__(name="celery-beat", argv=argv, env=env, log_path=log_path)

    def is_ready(self) -> bool:
        return "beat: Starting" in self.log_text(current_run_only=True)


class SupervisedProcfile(ManagedProcess):
    """``python -m contactcenter.supervise`` running a Procfile written for the test: what the
    deployment does to keep workers alive (a worker that exits is started again)."""

    def __init__(self, *, lines: dict[str, str], env: Mapping[str, str], log_path: Path) -> None:
        procfile = Path(tempfile.mkdtemp(prefix="test-procfile-")) / "Procfile"
        procfile.write_text("".join(f"{name}: {command}\n" for name, command in lines.items()))
        argv = [str(VENV_BIN / "python"), "-m", "contactcenter.supervise", str(procfile)]
        env = {**env, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
        super().__init__(name="supervise", argv=argv, env=env, log_path=log_path)

    def is_ready(self) -> bool:
        return " ready." in self.log_text(current_run_only=True)


def worker_command(*, queues: str, name: str) -> str:
    return (
        f"celery -A contactcenter worker -Q {queues} -n {name}@%h --pool=solo --loglevel=INFO "
        "--without-gossip --without-mingle"
    )


# --- Clients ------------------------------------------------------------------------------------


class AgentHttp:
    """An agent's browser, over HTTP: logs in through the form, then posts like the desktop."""

    def __init__(self, base_url: str, username: str, password: str = "password") -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        page = self.session.get(f"{self.base_url}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.session.post(
            f"{self.base_url}/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": username, "password": password},
            headers={"Referer": f"{self.base_url}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code != 302:
            raise AssertionError(f"login of {username} failed: {response.status_code}")

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)

    def post(self, path: str, data: dict | None = None) -> requests.Response:
        return self.session.post(
            f"{self.base_url}{path}",
            data=data or {},
            headers={
                "X-CSRFToken": self.session.cookies.get("csrftoken", ""),
                "Referer": f"{self.base_url}/",
                "Accept": "application/json",
            },
            timeout=15,
        )

    def reply(self, conversation_id: int, body: str, **extra: str) -> requests.Response:
        return self.post(f"/conversations/{conversation_id}/reply/", {"body": body, **extra})


class AgentSocketClient:
    """The desktop's websocket as ``static/js/realtime.js`` speaks it, on a thread: hello with a
    cursor, events kept in arrival order, pings every ``ping_seconds``, reconnect on drop."""

    def __init__(
        self, ws_url: str, *, cookie: str, origin: str, cursor: int = 0, ping_seconds: float = 5
    ) -> None:
        self.ws_url = ws_url
        self.cookie = cookie
        self.origin = origin
        self.cursor = cursor
        self.ping_seconds = ping_seconds
        self.events: list[dict] = []
        self.seen: set[int] = set()
        self.pongs = 0
        self.duplicates: list[int] = []
        self.connections = 0
        self.closed_codes: list[int | None] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> AgentSocketClient:
        self._thread.start()
        deadline = time.monotonic() + 15
        while self.connections == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.connections == 0:
            raise AssertionError(f"socket never connected: {self.errors}")
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        from websockets.sync.client import connect

        while not self._stop.is_set():
            try:
                with connect(
                    self.ws_url,
                    additional_headers={"Cookie": self.cookie, "Origin": self.origin},
                    open_timeout=10,
                ) as socket:
                    self.connections += 1
                    with self._lock:
                        seen = [i for i in self.seen if i > self.cursor]
                    socket.send(json.dumps({"type": "hello", "cursor": self.cursor, "seen": seen}))
                    next_ping = time.monotonic() + self.ping_seconds
                    while not self._stop.is_set():
                        timeout = max(0.05, next_ping - time.monotonic())
                        try:
                            raw = socket.recv(timeout=min(timeout, 0.5))
                        except TimeoutError:
                            raw = None
                        if raw is not None:
                            self._receive(json.loads(raw))
                        if time.monotonic() >= next_ping:
                            socket.send(json.dumps({"type": "ping"}))
                            next_ping = time.monotonic() + self.ping_seconds
            except Exception as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                self.closed_codes.append(code)
                self.errors.append(f"{type(exc).__name__}: {exc}")
                if not self._stop.is_set():
                    time.sleep(0.5)

    def _receive(self, data: dict) -> None:
        with self._lock:
            if data["type"] == "event":
                event = data["event"]
                if event["id"] in self.seen:
                    self.duplicates.append(event["id"])
                elif event["id"] > self.cursor:
                    self.seen.add(event["id"])
                    self.events.append(event)
                self._advance(data.get("cursor"))
            elif data["type"] in ("ready", "pong"):
                if data["type"] == "pong":
                    self.pongs += 1
                self._advance(data.get("cursor"))

    def _advance(self, cursor) -> None:
        if isinstance(cursor, int) and cursor > self.cursor:
            self.cursor = cursor

    def received(self) -> list[dict]:
        with self._lock:
            return list(self.events)

    def wait_for_pongs(self, count: int, timeout: float) -> None:
        start = self.pongs
        deadline = time.monotonic() + timeout
        while self.pongs < start + count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no pong within {timeout}s: {self.errors}")
            time.sleep(0.05)
