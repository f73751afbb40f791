"""Reading returned mail over IMAP and POP3 from a real Dovecot on loopback, and the CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import typer
from dovecot_harness import PASSWORD, USER, DovecotServer, available
from typer.testing import CliRunner, Result

from clarion.cli.feedback import feedback_app
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.core.ids import SeededIds
from clarion.delivery.feedback.sources import (
    MailboxError,
    parse_mailbox_url,
    read_imap,
    read_pop3,
)
from clarion.instance import initialise
from clarion.settings import Settings

CORPUS = Path(__file__).parent / "corpus"
FILES = ("postfix_hard_user_unknown.eml", "yahoo_arf_complaint.eml", "auto_reply_precedence.eml")

app = typer.Typer(help="A stand-in for the clarion command, with only its feedback commands.")
app.add_typer(feedback_app, name="feedback")

# Skipped locally without Dovecot (`make dovecot` installs it); in CI a missing one fails.
needs_dovecot = pytest.mark.skipif(
    not available() and not os.environ.get("CI"), reason="Debian's dovecot is not installed"
)


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    server = DovecotServer()
    server.start()
    for name in FILES:
        server.deliver(name.split(".")[0], (CORPUS / name).read_bytes())
    yield server
    server.stop()


def url(scheme: str, server: DovecotServer, port: int, folder: str = "") -> str:
    return f"{scheme}://{USER}:{quote(PASSWORD)}@127.0.0.1:{port}/{folder}"


@needs_dovecot
def test_imap_reads_every_message_and_leaves_them_by_default(dovecot: DovecotServer) -> None:
    first = list(read_imap(url("imap", dovecot, dovecot.imap_port, "INBOX")))
    assert len(first) == 3
    assert sorted(b"msg_postfix_hard" in r.data for r in first) == [False, False, True]
    assert all(r.ref.startswith("imap INBOX uid ") for r in first)
    assert len(list(read_imap(url("imap", dovecot, dovecot.imap_port)))) == 3


@needs_dovecot
def test_imap_and_pop3_delete_only_when_asked(dovecot: DovecotServer) -> None:
    assert len(list(read_pop3(url("pop3", dovecot, dovecot.pop3_port)))) == 3
    assert len(list(read_pop3(url("pop3", dovecot, dovecot.pop3_port), delete=True))) == 3
    assert list(read_pop3(url("pop3", dovecot, dovecot.pop3_port))) == []
    dovecot.deliver("again", (CORPUS / FILES[0]).read_bytes())
    assert len(list(read_imap(url("imap", dovecot, dovecot.imap_port), delete=True))) == 1
    assert list(read_imap(url("imap", dovecot, dovecot.imap_port))) == []


@needs_dovecot
def test_a_wrong_password_is_an_error_not_an_empty_mailbox(dovecot: DovecotServer) -> None:
    bad = f"imap://{USER}:wrong@127.0.0.1:{dovecot.imap_port}/"
    with pytest.raises(MailboxError, match=r"(?i)auth") as caught:
        list(read_imap(bad))
    assert "wrong" not in str(caught.value)
    with pytest.raises(MailboxError, match=r"(?i)auth|pass"):
        list(read_pop3(f"pop3://{USER}:wrong@127.0.0.1:{dovecot.pop3_port}"))


def test_an_unreachable_server_is_a_sentence_not_a_traceback() -> None:
    with pytest.raises(MailboxError, match=r"imap://127\.0\.0\.1:9: "):
        list(read_imap("imap://u:p@127.0.0.1:9/"))


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("http://u:p@host/", "scheme must be imap"),
        ("imap://host/", "user:password"),
        ("imap://u:p@:143/", "no host"),
        ("imap://u:p@host:port/", "port is not a number"),
    ],
)
def test_a_bad_mailbox_url_is_named_without_its_password(given: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        parse_mailbox_url(given, protocol="imap")
    assert ":p@" not in str(caught.value)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, app_store_url=None, event_store_url=None)
    initialise(settings, clock=SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC)), ids=SeededIds(1))
    return data


def invoke(data_dir: Path, *args: str) -> Result:
    env = {"CLARION_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return CliRunner().invoke(app, ["feedback", *args], env=env)


def test_every_feedback_command_and_option_has_help() -> None:
    root = typer.main.get_command(app)
    stack = [("clarion", root)]
    while stack:
        path, command = stack.pop()
        assert (command.help or "").strip(), f"{path} has no help text"
        stack.extend((f"{path} {n}", sub) for n, sub in getattr(command, "commands", {}).items())
        for param in command.params:
            if param.name != "help":
                assert (getattr(param, "help", None) or "").strip(), f"{path} {param.name}"


def test_the_cli_imports_a_directory_and_prints_the_counts(data_dir: Path) -> None:
    result = invoke(data_dir, "import", str(CORPUS), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["read"] == 18
    assert summary["auto_replies"] == 4
    assert summary["unmatched"] == 10  # this fresh installation sent none of them
    table = invoke(data_dir, "import", str(CORPUS))
    assert "auto replies" in table.stdout


def test_the_cli_wants_exactly_one_source(data_dir: Path) -> None:
    result = invoke(data_dir, "import")
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidInput)


@needs_dovecot
def test_the_cli_imports_from_an_imap_mailbox(data_dir: Path, dovecot: DovecotServer) -> None:
    result = invoke(data_dir, "import", "--imap", url("imap", dovecot, dovecot.imap_port), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["auto_replies"], summary["unmatched"]) == (3, 1, 2)
    result = invoke(data_dir, "import", "--pop3", url("pop3", dovecot, dovecot.pop3_port), "--json")
    assert json.loads(result.stdout)["read"] == 3
