"""Real mail servers for the email tests, on loopback ports, started and stopped by the tests.

- :class:`SmtpStandIn`: an ``aiosmtpd`` SMTP server in a thread of the test process. It records
  what it receives (envelope and raw bytes), can refuse chosen recipients with a chosen reply
  (``reject``), and speaks STARTTLS and AUTH when asked to.
- :class:`Dovecot`: Debian's ``dovecot-imapd`` as a subprocess with a throwaway configuration,
  user database and Maildir in a temporary directory (IMAP, optionally IMAPS/STARTTLS). Mail is
  put into the mailbox with IMAP ``APPEND`` (``imaplib``), as a mail server's delivery would.
- :func:`self_signed_certificate`: a certificate for 127.0.0.1 made with ``openssl``; point
  ``SSL_CERT_FILE`` at it so clients verify it like a real one.

Both fail (not skip) under ``CI=true`` when their software is missing.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from .live_server import free_port, port_is_open

DOVECOT = os.environ.get("DOVECOT_PATH", "/usr/sbin/dovecot")


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 / localhost, valid for a day."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        self.message = BytesParser(policy=policy.default).parsebytes(self.data)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip().strip("<>")


class SmtpStandIn:
    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.received: list[ReceivedEmail] = []
        self.reject: dict[str, str] = {}  # recipient -> full reply, e.g. "550 5.1.1 No such user"
        self.logins: list[str] = []
        self._tls_context = tls_context
        self._credentials = credentials
        self._changed = threading.Condition()
        self.port = free_port()
        self.controller = None

    def __enter__(self) -> SmtpStandIn:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        standin = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                reply = standin.reject.get(address.lower())
                if reply:
                    return reply
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                with standin._changed:
                    standin.received.append(
                        ReceivedEmail(
                            mail_from=envelope.mail_from,
                            rcpt_tos=list(envelope.rcpt_tos),
                            data=bytes(envelope.original_content or envelope.content),
                        )
                    )
                    standin._changed.notify_all()
                return "250 Message accepted for delivery"

        def authenticator(server, session, envelope, mechanism, auth_data):
            login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else ""
            password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else ""
            ok = standin._credentials == (login, password)
            if ok:
                standin.logins.append(login)
            return AuthResult(success=ok, handled=False)

        kwargs = {}
        if self._tls_context is not None:
            kwargs.update(tls_context=self._tls_context, require_starttls=True)
        if self._credentials is not None:
            kwargs.update(authenticator=authenticator, auth_require_tls=False)
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.controller is not None:
            self.controller.stop()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[ReceivedEmail]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the SMTP server received {len(self.received)} emails, not {count}"
                    )
                self._changed.wait(left)
            return list(self.received)


# --- IMAP -------------------------------------------------------------------------------------

DOVECOT_CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
ssl = {ssl}
{ssl_files}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 200
}}
"""


class Dovecot:
    """A Dovecot IMAP server with one mailbox user (``username``/``password``)."""

    username = "support"
    password = "imap-secret-123"

    def __init__(self, *, certificate: tuple[Path, Path] | None = None) -> None:
        self.certificate = certificate
        self.port = free_port()
        self.ssl_port = free_port() if certificate else 0
        self.dir = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return Path(DOVECOT).exists()

    def __enter__(self) -> Dovecot:
        account = pwd.getpwnam("nobody")
        os.chmod(self.dir, 0o755)
        for name in ("run", "state", "mail", "home"):
            (self.dir / name).mkdir()
        for name in ("mail", "home"):
            os.chown(self.dir / name, account.pw_uid, account.pw_gid)
        (self.dir / "users").write_text(f"{self.username}:{{PLAIN}}{self.password}\n")
        ssl_files = ""
        if self.certificate:
            cert, key = self.certificate
            ssl_files = f"ssl_cert = <{cert}\nssl_key = <{key}"
        (self.dir / "dovecot.conf").write_text(
            DOVECOT_CONF.format(
                dir=self.dir,
                port=self.port,
                ssl_port=self.ssl_port,
                ssl="yes" if self.certificate else "no",
                ssl_files=ssl_files,
                uid=account.pw_uid,
                gid=account.pw_gid,
            )
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "stderr.log").open("wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not port_is_open("127.0.0.1", self.port, timeout=0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not start:\n{self.log()}")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        texts = []
        for name in ("dovecot.log", "stderr.log"):
            with contextlib.suppress(OSError):
                texts.append((self.dir / name).read_text(errors="replace"))
        return "\n".join(texts)[-5000:]

    def connect(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(self.username, self.password)
        return connection

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        connection = self.connect()
        try:
            status, data = connection.append(folder, "", None, raw)
            assert status == "OK", data
        finally:
            connection.logout()

    def uids(self, folder: str = "INBOX") -> list[int]:
        connection = self.connect()
        try:
            connection.select(folder)
            _status, data = connection.uid("SEARCH", None, "ALL")
            return [int(uid) for uid in data[0].split()]
        finally:
            connection.logout()

    def recreate(self, folder: str = "INBOX.Archive") -> None:
        """Delete and create ``folder``: its UIDVALIDITY changes."""
        connection = self.connect()
        try:
            connection.delete(folder)
            connection.create(folder)
        finally:
            connection.logout()
