"""`clarion content` on an initialised installation: add, list, show, publish, tag, preview."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from clarion.cli.contacts import contacts_app
from clarion.cli.content import content_app
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.core.ids import SeededIds
from clarion.instance import initialise
from clarion.settings import Settings

app = typer.Typer(help="A stand-in for the clarion command, with its content and contacts.")
app.add_typer(content_app, name="content")
app.add_typer(contacts_app, name="contacts")

NEWSLETTER = """<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ first_name | default("there") }}!</mj-text>
<mj-button href="https://shop.example/?c={{ id }}">Shop</mj-button>
</mj-column></mj-section></mj-body></mjml>
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, app_store_url=None, event_store_url=None)
    initialise(settings, clock=SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC)), ids=SeededIds(1))
    return data


def invoke(data_dir: Path, *args: str) -> Result:
    env = {"CLARION_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def test_every_content_command_and_option_has_help() -> None:
    root = typer.main.get_command(app).commands["content"]  # type: ignore[attr-defined]
    for name, command in root.commands.items():
        assert (command.help or "").strip(), name
        for param in command.params:
            if param.name != "help":
                assert (getattr(param, "help", None) or "").strip(), f"{name} {param.name}"


def test_add_publish_and_preview_a_newsletter(data_dir: Path, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,first_name\njane@example.com,Jane\n", encoding="utf-8")
    assert invoke(data_dir, "contacts", "import", str(people)).exit_code == 0
    template = tmp_path / "news.mjml"
    template.write_text(NEWSLETTER, encoding="utf-8")

    added = invoke(
        data_dir, "content", "add", str(template), "--key", "news", "--kind", "mjml",
        "--subject", "Hi {{ first_name }}",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.output.startswith("news version 1 (draft, text/mjml")
    assert "news version 1 published" in invoke(data_dir, "content", "publish", "news").output
    assert invoke(data_dir, "content", "tag", "news", "--add", "spring").output == "news: spring\n"
    listed = json.loads(invoke(data_dir, "content", "list", "--tag", "spring", "--json").output)
    assert [(a["key"], a["published_version"]) for a in listed] == [("news", 1)]
    assert "Hello {{ first_name" in invoke(data_dir, "content", "show", "news").output

    out = tmp_path / "preview.html"
    shown = invoke(
        data_dir, "content", "preview", "news", "--contact", "jane@example.com",
        "--html", str(out),
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "Subject: Hi Jane" in shown.output
    assert "Hello Jane!\n\nShop (https://shop.example/?c=ct_" in shown.output
    assert "Hello Jane!" in out.read_text(encoding="utf-8")

    analyst = invoke(
        data_dir, "content", "preview", "news", "-c", "jane@example.com", "--role", "analyst"
    )
    assert "masked: email, first_name" in analyst.output
    assert "Hello J.!" in analyst.output


def test_a_broken_template_is_refused_with_its_line(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<p>ok</p>\n<p>{% for x in range(3) %}</p>\n", encoding="utf-8")
    result = invoke(
        data_dir, "content", "add", str(broken), "--key", "b", "--kind", "html", "--subject", "s"
    )
    assert isinstance(result.exception, InvalidInput)
    assert result.exception.problems[0].path == "body"
    assert result.exception.problems[0].problem.startswith("line 2: Unexpected end of template")
    assert "b" not in invoke(data_dir, "content", "list").output.split()
