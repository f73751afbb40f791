"""`clarion contacts` on an initialised installation: import, show by role, erase, suppress."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from clarion.cli.contacts import contacts_app
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.core.ids import SeededIds
from clarion.instance import initialise
from clarion.settings import Settings

app = typer.Typer(help="A stand-in for the clarion command, with only its contacts commands.")
app.add_typer(contacts_app, name="contacts")

PEOPLE = """\
email;first name;last name;phone;country;newsletter
jane@example.com;Jane;[bold]Doe[/bold];030 1234567;DE;yes
bob@example.org;Bob;;;uk;no
not-an-address;X;;;;
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, app_store_url=None, event_store_url=None)
    initialise(settings, clock=SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC)), ids=SeededIds(1))
    return data


def invoke(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    env = {"CLARION_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return CliRunner().invoke(app, ["contacts", *args], env=env, input=stdin)


def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    return path


def test_every_contacts_command_and_option_has_help() -> None:
    root = typer.main.get_command(app)
    stack = [("clarion", root)]
    while stack:
        path, command = stack.pop()
        assert (command.help or "").strip(), f"{path} has no help text"
        stack.extend((f"{path} {n}", sub) for n, sub in getattr(command, "commands", {}).items())
        for param in command.params:
            if param.name != "help":
                assert (getattr(param, "help", None) or "").strip(), f"{path} {param.name}"


def test_an_import_prints_a_summary_and_exits_1_for_rejected_rows(
    tmp_path: Path, data_dir: Path
) -> None:
    result = invoke(
        data_dir,
        "import",
        str(people(tmp_path)),
        "--map",
        "newsletter=consent:newsletter:email",
        "--consent",
        "marketing:email",
        "--source",
        "fair-2027",
    )
    assert result.exit_code == 1, result.output
    assert "Contacts import" in result.stdout
    assert "3 read: 2 stored" in result.stdout and "2 created" in result.stdout
    assert "row 4, email: 'not-an-address' is not an email address" in result.stderr
    assert (tmp_path / "people.csv.errors.csv").exists()
    again = invoke(data_dir, "import", str(people(tmp_path)), "--map", "newsletter=-", "--json")
    report = json.loads(again.stdout)
    assert (report["created"], report["unchanged"], report["rejected"]) == (0, 2, 1)


def test_a_bad_option_or_file_stops_before_any_store(tmp_path: Path, data_dir: Path) -> None:
    result = invoke(data_dir, "import", str(people(tmp_path)), "--consent", "marketing:fax")
    assert isinstance(result.exception, InvalidInput)
    assert "--consent" in str(result.exception)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in str(invoke(data_dir, "import", str(empty)).exception)


def test_show_masks_by_role_and_escapes_what_the_file_said(tmp_path: Path, data_dir: Path) -> None:
    invoke(data_dir, "import", str(people(tmp_path)), "--consent", "marketing:email")
    admin = invoke(data_dir, "show", "JANE@example.com")
    assert admin.exit_code == 0, admin.output
    assert "jane@example.com" in admin.stdout and "+49301234567" in admin.stdout
    assert "[bold]Doe[/bold]" in admin.stdout  # shown as written, not as Rich markup
    assert "marketing:email granted" in admin.stdout
    analyst = invoke(data_dir, "show", "jane@example.com", "--role", "analyst", "--json")
    view = json.loads(analyst.stdout)
    assert (view["email"], view["first_name"], view["role"]) == (
        "j•••@example.com",
        "J.",
        "analyst",
    )
    wrong = invoke(data_dir, "show", "jane@example.com", "--role", "root")
    assert wrong.exit_code == 2


def test_suppress_and_erase(tmp_path: Path, data_dir: Path) -> None:
    invoke(data_dir, "import", str(people(tmp_path)))
    suppressed = invoke(
        data_dir, "suppress", "bob@example.org", "--reason", "complaint", "--channel", "email"
    )
    assert suppressed.exit_code == 0, suppressed.output
    assert "complaint, email" in suppressed.stdout
    view = json.loads(invoke(data_dir, "show", "bob@example.org", "--json").stdout)
    assert view["suppressed"] is True
    contact_id = view["id"]
    refused = invoke(data_dir, "erase", contact_id, stdin="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    erased = invoke(data_dir, "erase", contact_id, "--yes")
    assert erased.exit_code == 0, erased.output
    assert f"Erased {contact_id}" in erased.stdout
    after = json.loads(invoke(data_dir, "show", contact_id, "--json").stdout)
    assert after["email"] is None and after["erased_at"] is not None
    assert "erased already" in invoke(data_dir, "erase", contact_id, "--yes").stdout
