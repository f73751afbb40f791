"""A campaign ten days into its month with spend, clicks and conversions, for dashboard tests."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from clarion.audiences import service as audiences
from clarion.campaigns import service as campaigns
from clarion.campaigns.plan import parse_plan
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance

START = date(2027, 3, 1)
NOW = datetime(2027, 3, 11, 12, tzinfo=UTC)
PERSON = {"external_id": "p-1", "email": "ada.lovelace@example.org", "first_name": "Ada",
          "last_name": "Lovelace", "phone": "+4930123456789"}  # fmt: skip


def plan(key: str = "spring", name: str = "Spring launch", **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "objective": "Sell the spring range to operations managers",
        "start_date": START.isoformat(),
        "end_date": "2027-03-31",
        "budget": {"total": 3000, "split": {"search": 1500, "social": 1000, "email": 500}},
        "kpis": ["cpa <= 40 EUR", "clicks >= 600", "conversions >= 40", "mqls >= 100"],
        **extra,
    }


def apply(instance: Instance, workspace_id: str, body: dict[str, Any]) -> str:
    applied = campaigns.apply_plan(
        instance.store,
        workspace_id,
        parse_plan(body),
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
    )
    return applied.campaign.id


def spring(instance: Instance, workspace_id: str, *, seed: int = 5) -> str:
    """The campaign, a contact with personal data, ten days of facts, and the clock at day 11."""
    campaign_id = apply(instance, workspace_id, plan())
    events = instance.events
    assert events is not None
    audiences.upsert_contacts(
        instance.store, events, workspace_id, [PERSON], clock=instance.clock, ids=instance.ids,
        source="test",
    )  # fmt: skip
    rng = random.Random(seed)
    spend, facts = [], []
    for day in range(10):
        at = datetime.combine(START + timedelta(days=day), datetime.min.time(), tzinfo=UTC)
        for channel in ("search", "social"):
            impressions = rng.randrange(2000, 4000)
            spend.append(
                {
                    "workspace_id": workspace_id,
                    "day": (START + timedelta(days=day)),
                    "campaign_id": "spring",
                    "channel": channel,
                    "ad_set": "as1",
                    "impressions": impressions,
                    "reach": impressions // 2,
                    "clicks": rng.randrange(20, 60),
                    "cost": round(rng.uniform(40, 70), 2),
                    "source": "csv:test",
                }
            )
            for n in range(rng.randrange(1, 4)):
                facts.append(
                    {
                        "event_id": f"cv-{day}-{channel}-{n}",
                        "workspace_id": workspace_id,
                        "type": "conversion",
                        "ts": at + timedelta(hours=9 + n),
                        "contact_id": "c-1",
                        "campaign_id": campaign_id,
                        "channel": channel,
                        "revenue": 90.0,
                        "currency": "EUR",
                    }
                )
    events.append("ad_spend", spend)
    events.append("events", facts)
    assert isinstance(instance.clock, SimulatedClock)
    instance.clock.set(NOW)
    return campaign_id


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, key: str, role: str = "viewer") -> TestClient:
    """Sign a TestClient in through the form, as a browser does; it keeps the cookie."""
    client.headers.pop("Authorization", None)
    token = csrf_of(client.get("/dashboard/login").text)
    response = client.post(
        "/dashboard/login",
        data={"key": key, "role": role, "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client
