"""A throwaway PostgreSQL server for the tests, started from the machine's own binaries."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """PostgreSQL server binaries are missing or the server would not start."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl (PATH first, then Debian's layout)."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version_key)
    if candidates:
        return candidates[-1].parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run 'make test', which installs "
        "them (scripts/ensure-postgres.sh), or install PostgreSQL yourself"
    )


def _version_key(path: Path) -> tuple[int, ...]:
    version = path.parent.parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """initdb + pg_ctl in a temporary directory; as root, the server runs as user 'postgres'."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.base = Path(tempfile.mkdtemp(prefix="clarion-pg-"))
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; hand the directory to the postgres user.
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root and 'runuser' is missing")
            self._as_user = [runuser, "-u", "postgres", "--"]
            self.base.chmod(0o755)
            shutil.chown(self.base, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self._as_user, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            command = Path(args[0]).name
            raise PostgresUnavailable(
                f"{command} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
            )

    def start(self) -> str:
        """Start the server; returns a SQLAlchemy URL of its maintenance database."""
        data = self.base / "data"
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(data), "-U", "clarion", "--auth=trust", "-E", "UTF8", "--no-locale",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D", str(data), "-o", options, "-l", str(self.base / "server.log"), "-w", "start",
        )  # fmt: skip
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://clarion@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.base / "data"),
                "-m",
                "immediate",
                "stop",
            )
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
