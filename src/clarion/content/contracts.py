"""What the content slice hands the sender: a rendered email and the thing that renders it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RenderedEmail:
    """One recipient's email before tracking: subject, HTML (CSS inlined) and plain text."""

    subject: str
    html: str
    text: str


class RenderFailed(Exception):
    """A template could not be rendered for one recipient (too long, too slow, broken)."""


class EmailRenderer(Protocol):
    """Renders one template version for one recipient at a time."""

    def render(self, contact: Mapping[str, object]) -> RenderedEmail:
        """The email for ``contact`` (its unmasked fields and ``attributes``)."""
        ...
