"""Write the CLI reference (docs/cli.md) from the commands themselves, so it cannot drift."""

from __future__ import annotations

from typing import Any

import typer


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += _walk(sub, [*path, name])
    return found


def _param_line(param: Any) -> str:
    help_text = (getattr(param, "help", None) or "").strip()
    if param.param_type_name == "argument":
        return f"- `{param.name.upper()}` (argument): {help_text}".rstrip(": ")
    names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
    default = param.default
    shown = (
        f" Default: `{default}`."
        if default not in (None, False, "") and not callable(default)
        else ""
    )
    return f"- {names}: {help_text}{shown}".rstrip()


def cli_reference(app: typer.Typer) -> str:
    """Markdown for every command, its help and its options."""
    root = typer.main.get_command(app)
    lines = ["# CLI reference", "", "Generated from the code by `make docs`; do not edit.", ""]
    for path, command in _walk(root, ["clarion"]):
        if getattr(command, "commands", None) and len(path) > 1:
            lines += [f"## `{' '.join(path)}`", "", (command.help or "").strip(), ""]
            continue
        if len(path) == 1:
            lines += [(command.help or "").strip(), ""]
            continue
        lines += [f"### `{' '.join(path)}`", "", (command.help or "").strip().split("\n")[0], ""]
        params = [p for p in command.params if p.name != "help"]
        lines += [_param_line(p) for p in params]
        if params:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    from clarion.cli.main import app

    print(cli_reference(app), end="")  # noqa: T201 - writes the reference to stdout
