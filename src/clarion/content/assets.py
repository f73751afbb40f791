"""The asset library's shapes and rules: kinds, keys, tags, image sniffing, what is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TypeAlias

from clarion.core.errors import FieldProblem, InvalidInput

AssetKind: TypeAlias = Literal["mjml", "html", "snippet", "image"]
ASSET_KINDS: Final[tuple[AssetKind, ...]] = ("mjml", "html", "snippet", "image")
TEMPLATE_KINDS: Final = ("mjml", "html")
VersionState: TypeAlias = Literal["draft", "published"]

MAX_IMAGE: Final = 1024 * 1024  # bytes; inboxes punish heavier images (and the API's body cap)
MAX_TAGS: Final = 20
_KEY: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,119}")
_TAG: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# The image types an email may carry. SVG is not one: it can hold scripts, and most mail
# clients do not show it.
_SIGNATURES: Final = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True)
class AssetVersion:
    """One version of an asset; its content never changes once ``state`` is published."""

    asset_id: str
    key: str
    kind: AssetKind
    version: int
    state: VersionState
    subject: str | None  # templates only
    body: str | None  # templates and snippets; None for images
    content_type: str
    size: int
    sha256: str
    includes: dict[str, int]  # snippet key → version, pinned when published
    created_at: datetime
    created_by: str
    published_at: datetime | None
    published_by: str | None

    def as_dict(self, *, with_body: bool = True) -> dict[str, Any]:
        """JSON-ready; ``with_body=False`` leaves the subject and body out (listings)."""
        out: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind,
            "version": self.version,
            "state": self.state,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "includes": dict(self.includes),
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "published_by": self.published_by,
        }
        if with_body:
            out["subject"] = self.subject
            out["body"] = self.body
        return out


@dataclass(frozen=True)
class Asset:
    """A template, snippet or image in the library, with its tags and versions (newest last)."""

    id: str
    workspace_id: str
    key: str
    kind: AssetKind
    tags: tuple[str, ...]
    versions: tuple[AssetVersion, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def latest(self) -> AssetVersion:
        return self.versions[-1]

    @property
    def published(self) -> AssetVersion | None:
        """The newest published version, if any."""
        return next((v for v in reversed(self.versions) if v.state == "published"), None)

    def as_dict(self) -> dict[str, Any]:
        published = self.published
        return {
            "key": self.key,
            "kind": self.kind,
            "tags": list(self.tags),
            "latest_version": self.latest.version,
            "published_version": published.version if published else None,
            "versions": [v.as_dict(with_body=False) for v in self.versions],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def check_key(key: str, field: str = "key") -> str:
    """``key`` if it is a valid asset key; InvalidInput naming the rule otherwise."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        problem = (
            f"{str(key)[:40]!r} is not a valid key: 1-120 characters, lower-case letters, "
            "digits, '.', '_' or '-', starting with a letter or digit"
        )
        raise InvalidInput(problem, [FieldProblem(field, problem)])
    return key


def check_kind(kind: str) -> AssetKind:
    """``kind`` if it is an asset kind; InvalidInput naming the kinds otherwise."""
    if kind not in ASSET_KINDS:
        problem = f"unknown kind {str(kind)[:20]!r}; kinds: {', '.join(ASSET_KINDS)}"
        raise InvalidInput(problem, [FieldProblem("kind", problem)])
    return kind


def check_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The tags, each checked (lower-case words); InvalidInput naming the bad one otherwise."""
    problems = [
        FieldProblem(
            f"tags[{i}]",
            f"{str(tag)[:40]!r} is not a valid tag: 1-64 lower-case letters, digits, '_' or '-'",
        )
        for i, tag in enumerate(tags)
        if not isinstance(tag, str) or not _TAG.fullmatch(tag)
    ]
    if problems:
        raise InvalidInput(f"invalid tags: {problems[0].problem}", problems)
    return tuple(dict.fromkeys(tags))


def sniff_image(data: bytes) -> str:
    """The content type of ``data`` from its first bytes; InvalidInput for anything else."""
    if len(data) > MAX_IMAGE:
        problem = f"image is {len(data):,} bytes; the limit is {MAX_IMAGE:,}"
        raise InvalidInput(problem, [FieldProblem("data", problem)])
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    problem = "not a PNG, JPEG, GIF or WebP image (SVG is not accepted: it can carry scripts)"
    raise InvalidInput(problem, [FieldProblem("data", problem)])
