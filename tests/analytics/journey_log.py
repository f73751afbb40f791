"""A generated journey log (people, touches, conversions) and its people, for analytics tests."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

WS = "ws_journeys"
START = datetime(2027, 3, 1, 9, tzinfo=UTC)
KINDS = [
    ("page_view", "https://x.io/", "search"),
    ("page_view", "https://x.io/pricing", "social"),
    ("email_click", None, "email"),
    ("signup", None, "web"),
    ("checkout", None, "web"),
    ("conversion", None, "web"),
]
LINKS = {"anon3": "p3", "anon8": "p8"}  # identity stitching: anonymous events count for p3, p8


def journeys_log(seed: int) -> list[dict[str, Any]]:
    """150 people's events over 40 days: page views, email clicks, sign-ups, conversions."""
    rng = random.Random(seed)
    rows = []
    for p in range(150):
        at = START + timedelta(days=rng.randrange(40), hours=rng.randrange(10))
        for n in range(rng.randrange(1, 9)):
            kind, url, channel = rng.choice(KINDS)
            person = f"anon{p}" if p in (3, 8) and n % 2 else f"p{p}"
            anonymous = person.startswith("anon")
            rows.append(
                {
                    "event_id": f"j{p}_{n}",
                    "workspace_id": WS,
                    "type": kind,
                    "url": url,
                    "channel": channel,
                    "ts": at,
                    "contact_id": None if anonymous else person,
                    "anonymous_id": person if anonymous else f"device{p}",
                    "is_machine": rng.random() < 0.05,
                    "revenue": (n + 1) * 10.0 if kind == "conversion" else None,
                }
            )
            at += timedelta(hours=rng.choice([1, 5, 30, 200, 400]))
    return rows


def people(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    people: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["is_machine"]:
            continue
        person = row["contact_id"] or LINKS.get(row["anonymous_id"]) or row["anonymous_id"]
        people[person].append(row)
    for events in people.values():
        events.sort(key=lambda r: r["ts"])
    return people
