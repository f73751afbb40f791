"""A campaign's people in the journey log, and buyers for CLV: shared by the entrypoint tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from journey_log import LINKS, journeys_log

PLAN = {
    "key": "spring",
    "name": "Spring",
    "objective": "Sell the spring range",
    "start_date": "2027-03-01",
    "end_date": "2027-04-30",
    "budget": {"total": 1000},
}
STEPS = "page_view~/pricing,signup,checkout,conversion"


def person_of(row: dict[str, Any]) -> str:
    contact = row["contact_id"] or LINKS.get(row["anonymous_id"])
    return str(contact or row["anonymous_id"])


def campaign_log(workspace_id: str, campaign_id: str) -> tuple[list[dict[str, Any]], set[str]]:
    """The journey log in the workspace; every third person's first event carries the campaign
    (its id, or its key as utm_campaign), so those people are the campaign's."""
    rows = [{**r, "workspace_id": workspace_id} for r in journeys_log(11)]
    seen: set[str] = set()
    for row in rows:
        person = person_of(row)
        number = int(person.removeprefix("p").removeprefix("anon"))
        if number % 3 == 0 and person not in seen:
            if number % 2:
                row["utm_campaign"] = "spring"
            else:
                row["campaign_id"] = campaign_id
        seen.add(person)
    people = {person_of(r) for r in rows if r.get("campaign_id") or r.get("utm_campaign")}
    return rows, people


def customers(workspace_id: str, count: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(3)
    rows = []
    start = datetime(2026, 6, 1, 12, tzinfo=UTC)
    for c in range(count):
        at = float(rng.uniform(0, 10))
        while at < 40 and len(rows) < 5000:
            rows.append(
                {
                    "event_id": f"buy{c}_{len(rows)}",
                    "workspace_id": workspace_id,
                    "type": "conversion",
                    "ts": start + timedelta(weeks=at),
                    "contact_id": f"buyer{c}",
                    "revenue": round(float(rng.gamma(4.0, 10.0)), 2),
                }
            )
            if rng.random() < 0.25:
                break
            at += float(rng.exponential(4.0)) + 0.2
    return rows
