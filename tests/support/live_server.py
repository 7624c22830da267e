"""The ASGI server and the Celery worker as real subprocesses, for e2e and reliability tests.

They run against the pytest-django test database, so tests that use them must commit their data
(``transactional_db``): SQLite through ``SQLITE_PATH`` (the test database file), PostgreSQL through
``DATABASE_URL`` with the test database's name. With ``REDIS_URL`` set, the server enqueues to
Redis (tasks are not eager) and a worker process runs them; without it, tasks run in-process in
the server.

Every process is started by this module, remembered by pid, and stopped by pid (SIGTERM, then
SIGKILL after a bound); on Linux it also gets SIGTERM if the test process dies.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

# Variables of the test process that must not leak into the servers.
_NOT_INHERITED = ("DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER")

_running: dict[int, ManagedProcess] = {}
_names = itertools.count(1)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_open(host: str, port: int, timeout: float = 1.0) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def url_with_database(url: str, name: str) -> str:
    """``url`` (a DATABASE_URL) pointing at database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def database_env(settings_dict: Mapping) -> dict[str, str]:
    """Env vars that point a subprocess at the database ``settings_dict`` describes.

    Call it at test time: pytest-django has then swapped NAME for the test database.
    """
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        if not name or name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("a live server needs a file SQLite test database, not :memory:")
        return {"SQLITE_PATH": name, "DATABASE_URL": ""}
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        raise RuntimeError(
            f"cannot hand a {engine} test database to a subprocess without DATABASE_URL"
        )
    return {"DATABASE_URL": url_with_database(database_url, name)}


def subprocess_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """The test process's environment minus test-only variables, plus ``overrides``.

    An override with an empty value removes the variable.
    """
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "contactcenter.settings",
            # TESTING: the default SECRET_KEY, ALLOWED_HOSTS for 127.0.0.1, plain-http cookies.
            "TESTING": "1",
            "DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for key, value in overrides.items():
        if value == "":
            env.pop(key, None)
        else:
            env[key] = value
    return env


try:  # resolved here: the child may run only already-loaded code between fork and exec
    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
except (OSError, AttributeError):
    _prctl = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """The child gets SIGTERM when the test process dies, so nothing outlives a crashed run."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class ProcessFailed(RuntimeError):
    pass


class ManagedProcess:
    """A subprocess with a log file, a readiness check and start/stop/kill/restart by pid."""

    ready_timeout = 30.0
    stop_timeout = 10.0

    def __init__(self, *, name: str, argv: list[str], env: Mapping[str, str], log_path: Path):
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None
        self._log_offset = 0

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> ManagedProcess:
        if self.running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            log.write(f"=== {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if _prctl is not None else None,
            )
        _running[self.process.pid] = self
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, wait, SIGKILL if needed. Returns the exit code (None if never started)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        _running.pop(process.pid, None)
        return process.returncode

    def kill(self) -> int | None:
        """SIGKILL now (a crash, for fault tests)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        _running.pop(process.pid, None)
        return process.returncode

    def restart(self) -> ManagedProcess:
        self.stop()
        return self.start()

    # --- logs -----------------------------------------------------------------------------------

    def log_text(self, *, current_run_only: bool = False) -> str:
        """The whole log (every start of this process), or only since the last start."""
        try:
            data = self.log_path.read_bytes()
        except FileNotFoundError:
            return ""
        if current_run_only:
            data = data[self._log_offset :]
        return data.decode(errors="replace")

    def log_tail(self, lines: int = 200) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, pattern: str | re.Pattern, timeout: float = 15.0) -> str:
        """Block until the log since the last start contains ``pattern`` (a literal string or a
        compiled regex); returns the first match."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        found: list[str] = []

        def search() -> bool:
            match = regex.search(self.log_text(current_run_only=True))
            if match:
                found.append(match.group(0))
            return match is not None

        self._poll(search, timeout, f"log matching {regex.pattern!r}")
        return found[0]

    # --- readiness ------------------------------------------------------------------------------

    def is_ready(self) -> bool:
        raise NotImplementedError

    def _wait_until_ready(self) -> None:
        self._poll(self.is_ready, self.ready_timeout, "readiness")

    def _poll(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.02
        while not predicate():
            if self.process is not None and self.process.poll() is not None:
                raise ProcessFailed(
                    f"{self.name} exited with code {self.process.returncode} while waiting for "
                    f"{what}; log:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise ProcessFailed(
                    f"{self.name} (pid {self.pid}) not showing {what} after {timeout}s; "
                    f"log:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


class AsgiServer(ManagedProcess):
    """``uvicorn contactcenter.asgi:application`` on 127.0.0.1:``port`` (kept across restarts)."""

    def __init__(self, *, port: int, env: Mapping[str, str], log_path: Path, host="127.0.0.1"):
        self.host = host
        self.port = port
        argv = [
            str(VENV_BIN / "uvicorn"),
            "contactcenter.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--log-level",
            "info",
            "--lifespan",
            "off",
            "--timeout-graceful-shutdown",
            "5",
        ]
        super().__init__(name=f"asgi-server:{port}", argv=argv, env=env, log_path=log_path)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as response:
                return response.status == 200
        except urllib.error.HTTPError as exc:
            return exc.code < 500
        except OSError:
            return False


class CeleryWorker(ManagedProcess):
    """``celery -A contactcenter worker`` on all our queues, solo pool, one task at a time."""

    ready_timeout = 60.0

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        log_path: Path,
        queues: str = "realtime,outbound,maintenance",
    ):
        self.nodename = f"e2e-{os.getpid()}-{next(_names)}@%h"
        argv = [
            str(VENV_BIN / "celery"),
            "-A",
            "contactcenter",
            "worker",
            "-Q",
            queues,
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "-n",
            self.nodename,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        super().__init__(name="celery-worker", argv=argv, env=env, log_path=log_path)

    def is_ready(self) -> bool:
        text = self.log_text(current_run_only=True)
        return " ready." in text


def stop_all() -> None:
    """Stop every process this module started and that is still running (by pid)."""
    for process in list(_running.values()):
        with contextlib.suppress(Exception):
            process.stop(timeout=5)


atexit.register(stop_all)
