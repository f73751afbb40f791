"""Where returned mail comes from: .eml files, mbox files, directories, IMAP and POP3 mailboxes."""

from __future__ import annotations

import imaplib
import mailbox
import poplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from clarion.core.errors import ClarionError, FieldProblem, InvalidInput

MAX_MESSAGES: Final = 100_000  # per import: a runaway mailbox is cut, not exhausted
MAX_MESSAGE_BYTES: Final = 10 * 1024 * 1024


@dataclass(frozen=True)
class Raw:
    """One returned email as read, and where it came from (for error messages)."""

    ref: str  # e.g. "bounces/0001.eml", "inbox.mbox#3", "imap INBOX uid 17"
    data: bytes


def _is_mbox(path: Path) -> bool:
    if path.suffix.lower() == ".mbox":
        return True
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def read_path(path: Path) -> Iterator[Raw]:
    """Every email in a file (one .eml, or an mbox) or a directory of them (sorted, recursive)."""
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or directory", [FieldProblem("path", "missing")])
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if file.name.startswith("."):
            continue
        if _is_mbox(file):
            box = mailbox.mbox(file, create=False)
            try:
                for index, key in enumerate(box.iterkeys()):
                    yield Raw(f"{file}#{index + 1}", box.get_bytes(key)[:MAX_MESSAGE_BYTES])
            finally:
                box.close()
        elif file.suffix.lower() in (".eml", ".msg", ".txt", ""):
            with file.open("rb") as handle:
                yield Raw(str(file), handle.read(MAX_MESSAGE_BYTES))


@dataclass(frozen=True)
class MailboxUrl:
    """``imap[s]://user:password@host[:port]/FOLDER`` or ``pop3[s]://user:password@host[:port]``."""

    scheme: str
    host: str
    port: int
    user: str
    password: str
    folder: str

    @property
    def secure(self) -> bool:
        return self.scheme.endswith("s")


_PORTS: Final = {"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}


def parse_mailbox_url(url: str, *, protocol: str) -> MailboxUrl:
    """Check and split a mailbox URL; InvalidInput naming what is wrong (never the password)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    problems = []
    if scheme not in (protocol, protocol + "s"):
        problems.append(FieldProblem("url", f"scheme must be {protocol}:// or {protocol}s://"))
    if not parts.hostname:
        problems.append(FieldProblem("url", "names no host"))
    if not parts.username or parts.password is None:
        problems.append(FieldProblem("url", "needs user:password@ before the host"))
    try:
        port = parts.port
    except ValueError:
        problems.append(FieldProblem("url", "port is not a number"))
        port = None
    if problems:
        raise InvalidInput(f"mailbox URL: {problems[0].problem}", problems)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return MailboxUrl(
        scheme=scheme,
        host=parts.hostname or "",
        port=port or _PORTS[scheme],
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=folder,
    )


class MailboxError(ClarionError):
    """A mailbox could not be reached or read; the message names the server, never the password."""

    def __init__(self, box: MailboxUrl, problem: object) -> None:
        text = problem.decode("utf-8", "replace") if isinstance(problem, bytes) else str(problem)
        where = f"{box.scheme}://{box.host}:{box.port}"
        super().__init__(f"{where}: {text[:300]}", {"server": where}, "mailbox_error")


def read_imap(url: str, *, delete: bool = False, timeout: float = 30.0) -> Iterator[Raw]:
    """The messages of an IMAP folder (read-only unless ``delete``: then read ones are removed)."""
    box = parse_mailbox_url(url, protocol="imap")
    try:
        yield from _imap(box, delete=delete, timeout=timeout)
    except (imaplib.IMAP4.error, OSError) as error:
        raise MailboxError(box, error.args[0] if error.args else error) from None


def _imap(box: MailboxUrl, *, delete: bool, timeout: float) -> Iterator[Raw]:
    client: imaplib.IMAP4 = (
        imaplib.IMAP4_SSL(
            box.host, box.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
        if box.secure
        else imaplib.IMAP4(box.host, box.port, timeout=timeout)
    )
    try:
        client.login(box.user, box.password)
        status, _ = client.select(_quoted(box.folder), readonly=not delete)
        if status != "OK":
            raise InvalidInput(
                f"IMAP folder {box.folder!r} cannot be opened", [FieldProblem("url", "folder")]
            )
        _, found = client.uid("SEARCH", "ALL")
        uids = found[0].split()[:MAX_MESSAGES] if found and found[0] else []
        for uid in uids:
            _, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
            body = next((d[1] for d in data if isinstance(d, tuple)), None)
            if isinstance(body, bytes):
                yield Raw(f"imap {box.folder} uid {uid.decode()}", body[:MAX_MESSAGE_BYTES])
                if delete:
                    client.uid("STORE", uid, "+FLAGS", r"(\Deleted)")
        if delete:
            client.expunge()
        client.close()
    finally:
        client.logout()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_pop3(url: str, *, delete: bool = False, timeout: float = 30.0) -> Iterator[Raw]:
    """The messages of a POP3 mailbox (left on the server unless ``delete``)."""
    box = parse_mailbox_url(url, protocol="pop3")
    try:
        yield from _pop3(box, delete=delete, timeout=timeout)
    except (poplib.error_proto, OSError) as error:
        raise MailboxError(box, error.args[0] if error.args else error) from None


def _pop3(box: MailboxUrl, *, delete: bool, timeout: float) -> Iterator[Raw]:
    client: poplib.POP3 = (
        poplib.POP3_SSL(box.host, box.port, context=ssl.create_default_context(), timeout=timeout)
        if box.secure
        else poplib.POP3(box.host, box.port, timeout=timeout)
    )
    try:
        client.user(box.user)
        client.pass_(box.password)
        count, _ = client.stat()
        for number in range(1, min(count, MAX_MESSAGES) + 1):
            _, lines, _ = client.retr(number)
            yield Raw(f"pop3 message {number}", b"\r\n".join(lines)[:MAX_MESSAGE_BYTES])
            if delete:
                client.dele(number)
    finally:
        client.quit()  # commits deletions
