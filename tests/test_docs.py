"""Docs are part of the change: the CLI reference is current and nothing is left undocumented."""

from __future__ import annotations

from pathlib import Path

import typer

from clarion.cli.main import app
from clarion.cli.reference import cli_reference

ROOT = Path(__file__).resolve().parent.parent


def test_the_cli_reference_is_current() -> None:
    expected = cli_reference(app)
    assert (ROOT / "docs" / "cli.md").read_text() == expected, "run 'make docs'"


def test_every_command_and_option_has_help() -> None:
    root = typer.main.get_command(app)
    stack = [("clarion", root)]
    while stack:
        path, command = stack.pop()
        assert (command.help or "").strip(), f"{path} has no help text"
        for name, sub in getattr(command, "commands", {}).items():
            stack.append((f"{path} {name}", sub))
        for param in command.params:
            if param.name != "help":
                assert (getattr(param, "help", None) or "").strip(), f"{path} {param.name}"


def test_the_docs_a_successor_needs_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make demo") < readme.index("## Quick tour")
    assert "make test" in readme
    for page in ("architecture.md", "concepts.md", "cli.md"):
        assert (ROOT / "docs" / page).exists()
    assert len(list((ROOT / "docs" / "decisions").glob("0*.md"))) >= 2
