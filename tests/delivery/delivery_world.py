"""Shared test helpers for delivery: a real EmailRenderer, contacts, an email campaign."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from clarion.audiences import service as audiences
from clarion.campaigns import service as campaigns
from clarion.campaigns.contracts import Campaign
from clarion.campaigns.lifecycle import CampaignState
from clarion.campaigns.plan import parse_plan
from clarion.content.contracts import RenderedEmail, RenderFailed
from clarion.core.clock import Clock
from clarion.core.ids import IdSource
from clarion.settings import SmtpSettings
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

OFFER = "https://shop.example.com/offer?plan=pro&ref=mail"
DOCS = "https://docs.example.com/start"


class GreetingRenderer:
    """A fixed template honouring the EmailRenderer protocol: a greeting and two links."""

    def render(self, contact: Mapping[str, object]) -> RenderedEmail:
        name = str(contact.get("first_name") or "there")
        if name == "Broken":
            raise RenderFailed("the template needs attributes.plan")
        safe = html.escape(name)
        return RenderedEmail(
            subject=f"Hello {name}, spring is here",
            html=(
                f"<html><body><p>Hi {safe},</p>"
                f'<p><a href="{html.escape(OFFER)}">See the offer</a> or '
                f'<a href="{DOCS}">read the docs</a>.</p></body></html>'
            ),
            text=f"Hi {name},\nSee the offer: {OFFER}\nRead the docs: {DOCS}\n",
        )


def add_contacts(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    people: Sequence[dict[str, Any]],
    *,
    clock: Clock,
    ids: IdSource,
) -> list[str]:
    """Create contacts (``consents`` defaults to marketing:email granted); their ids in order."""
    stored: list[str] = []
    for start in range(0, len(people), 1000):
        items = [{"consents": ["marketing:email"], **p} for p in people[start : start + 1000]]
        result = audiences.upsert_contacts(
            store, events, workspace_id, items, clock=clock, ids=ids, source="test"
        )
        assert not result.rejected, result.rejected
        stored.extend(contact_id for _, contact_id, _ in result.stored)
    return stored


def email_campaign(
    store: AppStore,
    workspace_id: str,
    *,
    clock: Clock,
    ids: IdSource,
    key: str = "spring",
    steps: Sequence[dict[str, Any]] | None = None,
    audience: str | None = "all",
) -> Campaign:
    """A scheduled campaign with email steps (default: one step ``launch`` to everyone)."""
    plan = parse_plan(
        {
            "key": key,
            "name": "Spring",
            "objective": "Launch",
            "start_date": date(2027, 2, 1),
            "end_date": date(2027, 3, 31),
            "audience": audience,
            "budget": {"total": 0},
            "email": list(steps or [{"key": "launch", "template": "spring-hello"}]),
        }
    )
    campaigns.apply_plan(store, workspace_id, plan, clock=clock, ids=ids, actor="test")
    return campaigns.transition(
        store, workspace_id, key, CampaignState.SCHEDULED, clock=clock, actor="test"
    )


def smtp_for(port: int, **overrides: Any) -> SmtpSettings:
    """SMTP settings pointing at a loopback sink, unthrottled unless told otherwise."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "from_address": "Spring Team <news@mail.example.com>",
        "rate_per_second": 0,
        "batch_size": 10,
        "in_flight": 4,
        "max_connections": 2,
        "retry_seconds": 0,  # retries on the next batch; the back-off has its own test
    }
    values.update(overrides)
    return SmtpSettings(**values)
