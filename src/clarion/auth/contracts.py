"""What the auth slice shows the rest of the system."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class KeyKind(StrEnum):
    """Secret keys manage a workspace; write keys only send events and may sit in a web page."""

    SECRET = "secret"  # noqa: S105 - a kind of key, not a password
    WRITE = "write"


@dataclass(frozen=True)
class Workspace:
    """A tenant: everything Clarion stores belongs to exactly one workspace."""

    id: str
    key: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    """A stored API key (its plaintext is shown once, at creation, and never stored)."""

    id: str
    workspace_id: str
    kind: KeyKind
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key and its plaintext, to be shown to the user once."""

    key: ApiKey
    plaintext: str
