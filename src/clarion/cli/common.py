"""What every CLI command shares: settings (one sentence on error), the installation, the user."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from clarion.core.errors import ClarionError
from clarion.core.validation import problems_from
from clarion.instance import Instance, open_instance
from clarion.settings import Settings, load_settings

T = TypeVar("T")


def cli_settings() -> Settings:
    """The settings; a bad CLARION_* variable becomes one sentence, not a pydantic dump."""
    try:
        return load_settings()
    except ValidationError as exc:
        problems = problems_from(exc)
        raise ClarionError(
            "invalid settings: "
            + "; ".join(
                f"CLARION_{p.path.upper().replace('.', '__')}: {p.problem}" for p in problems
            )
        ) from None


def cli_actor() -> str:
    """Who is acting, for lifecycle history: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def with_instance(work: Callable[[Instance], T]) -> T:
    """Run ``work`` on the opened installation, and close it whatever happens."""
    instance = open_instance(cli_settings())
    try:
        return work(instance)
    finally:
        instance.close()
