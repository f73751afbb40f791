"""Turn one recipient into wire bytes: render, sign links, add the pixel and the headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from clarion.content.contracts import EmailRenderer
from clarion.delivery.links import add_pixel, collect_links, rewrite
from clarion.delivery.mime import Envelope, build_message
from clarion.tracking.contracts import TrackedMessage
from clarion.tracking.service import tracking_urls
from clarion.tracking.tokens import TokenClaims, sign


@dataclass(frozen=True)
class Composer:
    """What composing needs besides the recipient: renderer, envelope, keys and URLs."""

    renderer: EmailRenderer
    envelope: Envelope
    signing_key: bytes
    public_url: str
    utm: Mapping[str, str]
    workspace_id: str
    campaign_id: str

    def compose(
        self, message_id: str, contact: Mapping[str, object], variant: str | None, now: datetime
    ) -> tuple[bytes, TrackedMessage]:
        """The signed email for ``contact`` and the tracked message its tokens refer to.

        Raises ``RenderFailed`` when the template cannot be rendered for this contact.
        """
        rendered = self.renderer.render(contact)
        links = collect_links(rendered.html)
        tracked = TrackedMessage(
            message_id=message_id,
            workspace_id=self.workspace_id,
            campaign_id=self.campaign_id,
            contact_id=str(contact["id"]),
            channel="email",
            variant=variant,
            sent_at=now,
            links=tuple(links),
            utm=dict(self.utm),
        )
        base = self.public_url.rstrip("/")
        urls = tracking_urls(tracked, key=self.signing_key, base_url=base)
        html, text = rewrite(rendered.html, rendered.text, links, urls.clicks)
        html = add_pixel(html, urls.open_pixel)
        unsubscribe = f"{base}/u/{sign(TokenClaims('u', message_id), self.signing_key)}"
        payload = build_message(
            message_id=message_id,
            to=str(contact["email"]),
            subject=rendered.subject,
            text=text,
            html=html,
            envelope=self.envelope,
            unsubscribe_url=unsubscribe,
            date=now,
        )
        return payload, tracked
