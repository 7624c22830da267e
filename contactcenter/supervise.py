"""Run the processes of a Procfile together and restart any that exits.

    python -m contactcenter.supervise Procfile [name ...]

Each line ``name: command`` is started with ``sh -c`` (environment inherited, ``$PORT`` etc.
expanded), its output prefixed with its name. A process that exits is started again after a
backoff (1 s, doubling to 30 s; reset once it stayed up for a minute), so a worker that dies with
Redis comes back when Redis does. SIGINT/SIGTERM stop everything (SIGTERM to each process group,
SIGKILL after 10 s). ``make run`` uses it in services mode; in production, systemd units in
``deploy/`` do the same job.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

LINE = re.compile(r"^(?P<name>[A-Za-z0-9_-]+):\s*(?P<command>.+)$")
STABLE_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass
class Proc:
    name: str
    command: str
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float = 0.0
    restarts: int = 0
    buffer: bytes = field(default=b"", repr=False)


def read_procfile(path: Path, only: list[str]) -> list[Proc]:
    procs = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if not match:
            raise SystemExit(f"{path}: cannot read line {raw!r}")
        if not only or match["name"] in only:
            procs.append(Proc(match["name"], match["command"]))
    if not procs:
        raise SystemExit(f"{path}: no processes to run")
    return procs


class Supervisor:
    def __init__(self, procs: list[Proc]) -> None:
        self.procs = procs
        self.selector = selectors.DefaultSelector()
        self.stopping = False
        self.width = max(len(proc.name) for proc in procs)

    def log(self, name: str, text: str) -> None:
        sys.stdout.write(f"{name:<{self.width}} | {text}\n")
        sys.stdout.flush()

    def start(self, proc: Proc) -> None:
        proc.process = subprocess.Popen(
            ["/bin/sh", "-c", proc.command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped as a whole
        )
        proc.started_at = time.monotonic()
        self.selector.register(proc.process.stdout, selectors.EVENT_READ, proc)
        self.log("supervise", f"started {proc.name} (pid {proc.process.pid})")

    def reap(self, proc: Proc) -> None:
        process = proc.process
        if process is None or process.poll() is None:
            return
        self.drain(proc)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(process.stdout)
        process.stdout.close()
        proc.process = None
        if self.stopping:
            return
        lived = time.monotonic() - proc.started_at
        if lived >= STABLE_SECONDS:
            proc.backoff = 1.0
        proc.restart_at = time.monotonic() + proc.backoff
        code = process.returncode
        self.log("supervise", f"{proc.name} exited ({code}); restarting in {proc.backoff:.0f} s")
        proc.backoff = min(proc.backoff * 2, MAX_BACKOFF_SECONDS)
        proc.restarts += 1

    def drain(self, proc: Proc) -> None:
        stream = proc.process.stdout if proc.process else None
        if stream is None:
            return
        data = os.read(stream.fileno(), 65536) if _readable(stream) else b""
        while data:
            proc.buffer += data
            data = os.read(stream.fileno(), 65536) if _readable(stream) else b""
        self.flush(proc, final=True)

    def flush(self, proc: Proc, *, final: bool = False) -> None:
        *lines, proc.buffer = proc.buffer.split(b"\n")
        if final and proc.buffer:
            lines.append(proc.buffer)
            proc.buffer = b""
        for line in lines:
            self.log(proc.name, line.decode(errors="replace"))

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        for proc in self.procs:
            self.start(proc)
        while not self.stopping:
            for key, _ in self.selector.select(timeout=0.5):
                proc = key.data
                data = os.read(key.fileobj.fileno(), 65536)
                if data:
                    proc.buffer += data
                    self.flush(proc)
            now = time.monotonic()
            for proc in self.procs:
                self.reap(proc)
                if proc.process is None and not self.stopping and now >= proc.restart_at:
                    self.start(proc)
        self.stop_all()
        return 0

    def request_stop(self, signum: int, _frame: object) -> None:
        self.stopping = True

    def stop_all(self) -> None:
        live = [proc for proc in self.procs if proc.process and proc.process.poll() is None]
        for proc in live:
            _signal_group(proc.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for proc in live:
            try:
                proc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.process, signal.SIGKILL)
                proc.process.wait(timeout=5)
            self.drain(proc)
        self.log("supervise", "stopped")


def _readable(stream) -> bool:
    ready = selectors.DefaultSelector()
    ready.register(stream, selectors.EVENT_READ)
    try:
        return bool(ready.select(timeout=0))
    finally:
        ready.close()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit(__doc__)
    procs = read_procfile(Path(argv[0]), argv[1:])
    return Supervisor(procs).run()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
