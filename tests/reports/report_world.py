"""A campaign with known counts for report tests: click rates by persona, a bounce spike, spend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from clarion.stores.events import EventStore

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAYS = 10
HOSTILE = "<script>alert('persona')</script>"
PERSONAS = ("ops", "cfo", HOSTILE)
SPIKE_DAY = 4

PLAN: dict[str, Any] = {
    "key": "autumn",
    "name": "Autumn <script>alert('name')</script>",
    "objective": "Grow sign-ups <img src=x onerror=alert(1)> {{ 7*7 }}",
    "start_date": "2027-03-01",
    "end_date": "2027-03-10",
    "budget": {"total": 1000},
    "kpis": ["click_rate >= 20%", "open_rate >= 25%", "sent >= 500", "cost <= 100 EUR"],
    "hypotheses": [
        {
            "key": "ops-beats-cfo",
            "statement": "Ops managers click more than CFOs <b onmouseover=alert(2)>",
            "metric": "click_rate",
            "groups": [{"persona": "ops"}, {"persona": "cfo"}],
            "expected": "higher",
            "min_ratio": 1.5,
        },
        {
            "key": "ops-twice-cfo",
            "statement": "Ops managers click twice as often as CFOs",
            "metric": "click_rate",
            "groups": [{"persona": "ops"}, {"persona": "cfo"}],
            "expected": "higher",
            "min_ratio": 2,
        },
        {
            "key": "ops-four-times-cfo",
            "statement": "Ops managers click four times as often as CFOs",
            "metric": "click_rate",
            "groups": [{"persona": "ops"}, {"persona": "cfo"}],
            "expected": "higher",
            "min_ratio": 4,
        },
    ],
}


@dataclass(frozen=True)
class Counts:
    """What was appended, per persona: sends delivered and clicked; bounces on the spike day."""

    delivered: dict[str, int]
    clicked: dict[str, int]
    opened: int
    bounced: int
    sent: int


def _clicked(persona: str, k: int) -> bool:
    if persona == "ops":
        return k % 10 < 3  # 30%
    if persona == "cfo":
        return k % 8 == 0  # 12.5%
    return k % 5 == 0  # 20%


def build(store: EventStore, workspace_id: str, campaign_id: str) -> Counts:
    """Append 40 contacts per persona, 10 sends each (one a day), their opens and clicks,
    bounces for half the third persona on the spike day, 10 conversions and search spend."""
    contacts, sends, events = [], [], []
    delivered = dict.fromkeys(PERSONAS, 0)
    clicked = dict.fromkeys(PERSONAS, 0)
    opened = bounced = 0
    for p, persona in enumerate(PERSONAS):
        for i in range(40):
            contact = f"c{p}_{i}"
            contacts.append(
                {
                    "workspace_id": workspace_id,
                    "contact_id": contact,
                    "persona": persona,
                    "updated_at": START - timedelta(days=1),
                }
            )
            for day in range(DAYS):
                k = i * DAYS + day
                message = f"m{p}_{k}"
                at = START + timedelta(days=day, minutes=i)
                sends.append(
                    {
                        "message_id": message,
                        "workspace_id": workspace_id,
                        "campaign_id": campaign_id,
                        "contact_id": contact,
                        "channel": "email",
                        "variant": None,
                        "creative_id": "cr1",
                        "sent_at": at,
                        "status": "sent",
                    }
                )
                common = {
                    "workspace_id": workspace_id,
                    "contact_id": contact,
                    "campaign_id": campaign_id,
                    "message_id": message,
                    "channel": "email",
                }
                after = at + timedelta(minutes=5)
                if persona == HOSTILE and day == SPIKE_DAY and i % 2 == 0:
                    bounced += 1
                    events.append(
                        {
                            **common,
                            "event_id": f"b{p}_{k}",
                            "type": "email_bounce",
                            "ts": after,
                            "properties": '{"bounce_type": "hard"}',
                        }
                    )
                    continue
                delivered[persona] += 1
                if k % 10 < 5:
                    opened += 1
                    events.append(
                        {
                            **common,
                            "event_id": f"o{p}_{k}",
                            "type": "email_open",
                            "ts": after,
                            "is_machine": False,
                        }
                    )
                if _clicked(persona, k):
                    clicked[persona] += 1
                    events.append(
                        {
                            **common,
                            "event_id": f"k{p}_{k}",
                            "type": "email_click",
                            "ts": after + timedelta(minutes=1),
                            "is_machine": False,
                            "url": "https://example.org/",
                        }
                    )
    for n in range(10):
        events.append(
            {
                "workspace_id": workspace_id,
                "event_id": f"v{n}",
                "type": "conversion",
                "ts": START + timedelta(days=DAYS - 1, hours=5),
                "contact_id": f"c0_{n}",
                "campaign_id": campaign_id,
                "channel": "email",
                "revenue": 50.0,
                "currency": "EUR",
            }
        )
    spend = [
        {
            "workspace_id": workspace_id,
            "day": date(2027, 3, 1) + timedelta(days=day),
            "campaign_id": "autumn",
            "channel": "search",
            "ad_set": "as1",
            "audience": "lookalike",
            "impressions": 1000,
            "reach": 500,
            "clicks": 20,
            "cost": 30.0,
            "source": "csv:test",
            "imported_at": START + timedelta(days=DAYS),
        }
        for day in range(DAYS)
    ]
    store.append("contacts", contacts)
    store.append("message_sends", sends)
    store.append("events", events)
    store.append("ad_spend", spend)
    return Counts(delivered, clicked, opened, bounced, len(sends))
