"""What the tracking slice shows the rest of the system."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TrackedMessage:
    """A sent message whose opens and clicks Clarion tracks."""

    message_id: str
    workspace_id: str
    campaign_id: str | None
    contact_id: str
    channel: str
    variant: str | None
    sent_at: datetime
    links: tuple[str, ...]
    utm: dict[str, str]


@dataclass(frozen=True)
class TrackingUrls:
    """The URLs a renderer puts in a message: the open pixel and one redirect per link."""

    open_pixel: str
    clicks: tuple[str, ...]
