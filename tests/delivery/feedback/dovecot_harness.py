"""A throwaway Dovecot (IMAP + POP3) on loopback, from the Debian package, for mailbox tests."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "bounces", "s3cret pass"


def available() -> bool:
    return Path(DOVECOT).exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DovecotServer:
    """Dovecot with one user whose Maildir the test fills; stop() kills what start() ran."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: Dovecot's unprivileged processes must reach the files,
        # and pytest's directories are private to the user running the tests.
        self.root = Path(tempfile.mkdtemp(prefix="clarion-dovecot-"))
        self.imap_port = _free_port()
        self.pop3_port = _free_port()
        self.maildir = self.root / "home" / USER / "Maildir"

    def _account(self) -> tuple[str, int, int]:
        if os.geteuid() == 0:  # Dovecot refuses to serve mail as root: use its own user
            entry = pwd.getpwnam("dovecot")
            return entry.pw_name, entry.pw_uid, entry.pw_gid
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_name, entry.pw_uid, entry.pw_gid

    def start(self) -> None:
        name, uid, gid = self._account()
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        config = self.root / "dovecot.conf"
        config.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {name}
default_internal_group = {grp.getgrgid(gid).gr_name}
default_login_user = {name}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = 0
mail_location = maildir:~/Maildir
pop3_uidl_format = %g
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
""",
            encoding="utf-8",
        )
        self.config = config
        if os.geteuid() == 0:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, uid, gid)
            os.chown(self.root / "passwd", 0, gid)
        subprocess.run(
            [DOVECOT, "-c", str(config)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.imap_port), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", self.pop3_port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start: " + self.log())

    def deliver(self, name: str, data: bytes) -> None:
        path = self.maildir / "new" / f"{time.time_ns()}.{name}.test"
        path.write_bytes(data)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("dovecot")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        subprocess.run(
            [DOVECOT, "-c", str(self.config), "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(self.root, ignore_errors=True)
