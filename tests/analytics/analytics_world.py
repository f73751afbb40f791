"""A small generated campaign world for analytics tests, and plain-Python reference metrics."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from clarion.stores.events import EventStore

NONE = "(none)"
START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DAYS = 10
SESSION_GAP = 30 * 60


@dataclass
class World:
    """The rows appended to the store, kept as Python dicts for the reference computation."""

    workspace_id: str
    contacts: list[dict[str, Any]] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    spend: list[dict[str, Any]] = field(default_factory=list)  # current rows only
    links: dict[str, str] = field(default_factory=dict)  # anonymous id -> contact (stitching)

    def persona(self, contact_id: str | None) -> str:
        for contact in self.contacts:
            if contact["contact_id"] == contact_id:
                return contact["persona"] or NONE
        return NONE


def _at(rng: random.Random) -> datetime:
    # Daytime only, so a day is the same in any engine time zone near UTC.
    return START + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(0, 10 * 3600))


def build(
    store: EventStore,
    workspace_id: str,
    seed: int,
    campaigns: tuple[str, str, str] = ("cmp_1", "cmp_2", "spring"),
) -> World:
    """Append a seeded world to ``store`` and return what was appended.

    ``campaigns`` are two campaign ids the sends and events carry and the key ad platforms use.
    """
    first, second, key = campaigns
    rng = random.Random(seed)
    world = World(workspace_id)
    counter = iter(range(10**9))

    def event(**row: Any) -> None:
        world.events.append({"event_id": f"e{next(counter)}", "workspace_id": workspace_id, **row})

    for i in range(60):
        world.contacts.append(
            {
                "workspace_id": workspace_id,
                "contact_id": f"c{i}",
                "persona": rng.choice(["ops", "cfo", None]),
                "updated_at": START - timedelta(days=1),
            }
        )
    for i in range(400):
        send = {
            "message_id": f"m{i}",
            "workspace_id": workspace_id,
            "campaign_id": rng.choice([first, second]),
            "contact_id": f"c{rng.randrange(60)}",
            "channel": "email",
            "variant": rng.choice(["A", "B", None]),
            "creative_id": rng.choice(["cr1", "cr2"]),
            "sent_at": _at(rng),
            "status": "sent" if rng.random() < 0.9 else "failed",
        }
        world.sends.append(send)
        if send["status"] != "sent":
            continue
        after = send["sent_at"] + timedelta(minutes=5)
        common = {
            "contact_id": send["contact_id"],
            "campaign_id": send["campaign_id"],
            "message_id": send["message_id"],
            "channel": "email",
            "variant": send["variant"],
        }
        if rng.random() < 0.08:
            kind = rng.choice(["hard", "soft"])
            event(type="email_bounce", ts=after, properties={"bounce_type": kind}, **common)
            continue
        for _ in range(rng.choice([0, 0, 1, 1, 2])):  # repeated opens count once
            event(type="email_open", ts=after, is_machine=False, **common)
        if rng.random() < 0.2:
            event(type="email_open", ts=after, is_machine=True, **common)
        if rng.random() < 0.15:
            event(type="email_click", ts=after, is_machine=False, url="https://x.io/", **common)
        if rng.random() < 0.06:
            event(type="email_click", ts=after, is_machine=True, url="https://x.io/", **common)
        if rng.random() < 0.04:
            event(type="unsubscribe", ts=after, **common)
        if rng.random() < 0.02:
            event(type="email_complaint", ts=after, **common)
    old_import = START + timedelta(days=DAYS)
    new_import = old_import + timedelta(hours=1)
    for day in range(DAYS):
        for channel in ("search", "social"):
            for ad_set in ("as1", "as2"):
                impressions = rng.randrange(500, 5000)
                row = {
                    "workspace_id": workspace_id,
                    "day": (START + timedelta(days=day)).date(),
                    "campaign_id": key,  # ad platforms name the campaign by its key
                    "channel": channel,
                    "ad_set": ad_set,
                    "audience": rng.choice(["lookalike", "retarget"]),
                    "impressions": impressions,
                    "reach": impressions // 2,
                    "clicks": rng.randrange(0, impressions // 20),
                    "cost": round(rng.uniform(5, 80), 2),
                    "source": "csv:test",
                }
                # An older import of the same row key, superseded by the newer one.
                stale = {**row, "clicks": 999_999, "cost": 9999.0, "imported_at": old_import}
                store.append("ad_spend", [stale])
                world.spend.append({**row, "imported_at": new_import})
    for _ in range(120):
        channel = rng.choice(["search", "social", "email"])
        event(
            type="conversion",
            ts=_at(rng),
            contact_id=f"c{rng.randrange(60)}",
            campaign_id=rng.choice([first, key, second]),
            channel=channel,
            variant=rng.choice(["A", "B"]) if channel == "email" else None,
            revenue=round(rng.uniform(10, 200), 2),
            currency="EUR",
        )
    for v in range(40):
        contact = f"c{v}" if v % 3 == 0 else None
        at = _at(rng)
        for _ in range(rng.randrange(1, 6)):
            kind = rng.choice(["search", "social", "internal", "direct", None])
            event(
                type="page_view",
                ts=at,
                anonymous_id=f"a{v}",
                contact_id=contact,
                campaign_id=rng.choice([first, None]),
                channel="web",
                url="https://x.io/",
                referrer_kind=kind,
                referrer_domain=None
                if kind in (None, "direct")
                else f"{kind}{rng.randrange(3)}.io",
                is_machine=rng.random() < 0.05,
            )
            at += timedelta(seconds=rng.choice([30, 300, 1700, 2000, 86400]))
    for _ in range(80):
        event(
            type=rng.choice(["form_view", "form_view", "form_submit"]),
            ts=_at(rng),
            campaign_id=first,
            channel="web",
        )
    world.links = {"a1": "c50", "a2": "c51", "a4": "c52"}
    store.append(
        "identities",
        [
            {"workspace_id": workspace_id, "anonymous_id": a, "contact_id": c, "source": "identify"}
            for a, c in world.links.items()
        ],
    )
    store.append("contacts", world.contacts)
    store.append("message_sends", world.sends)
    store.append("events", [_encoded(e) for e in world.events])
    store.append("ad_spend", world.spend)
    return world


def _encoded(row: dict[str, Any]) -> dict[str, Any]:
    if "properties" in row:
        return {**row, "properties": json.dumps(row["properties"])}
    return row


# ---------------------------------------------------------------- reference metrics in Python


def _text(value: Any) -> str:
    return NONE if value is None else str(value)


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _group(row: dict[str, Any], by: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(_week(row["day"])) if d == "week" else _text(row.get(d)) for d in by)


def facts(world: World) -> dict[str, list[dict[str, Any]]]:
    """The world as flat facts with the standard dimensions, computed without Ibis."""
    by_message: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in world.events:
        if e.get("message_id"):
            by_message[e["message_id"]].append(e)
    sends = []
    for s in world.sends:
        if s["status"] != "sent":
            continue
        evs = by_message[s["message_id"]]

        def has(kind: str, human: bool | None = None, evs: list[dict[str, Any]] = evs) -> int:
            return int(
                any(
                    e["type"] == kind and (human is None or bool(e.get("is_machine")) != human)
                    for e in evs
                )
            )

        bounces = [e["properties"]["bounce_type"] for e in evs if e["type"] == "email_bounce"]
        sends.append(
            {
                "campaign": s["campaign_id"],
                "channel": s["channel"],
                "variant": s["variant"],
                "creative": s["creative_id"],
                "persona": world.persona(s["contact_id"]),
                "day": s["sent_at"].date(),
                "opened": has("email_open", True),
                "opened_any": has("email_open"),
                "clicked": has("email_click", True),
                "clicked_any": has("email_click"),
                "bounced": int(bool(bounces)),
                "hard": int("hard" in bounces),
                "soft": int("soft" in bounces),
                "unsubscribed": has("unsubscribe"),
                "complained": has("email_complaint"),
            }
        )
    spend = [
        {
            "campaign": r["campaign_id"],
            "channel": r["channel"],
            "ad_set": r["ad_set"],
            "segment": r["audience"],
            "creative": None,
            "day": r["day"],
            **{k: r[k] for k in ("impressions", "reach", "clicks", "cost")},
        }
        for r in world.spend
    ]
    conversions = [
        {
            "campaign": e["campaign_id"],
            "channel": e["channel"],
            "variant": e.get("variant"),
            "persona": world.persona(e.get("contact_id")),
            "day": e["ts"].date(),
            "revenue": e["revenue"],
        }
        for e in world.events
        if e["type"] == "conversion"
    ]
    forms = [
        {
            "campaign": e["campaign_id"],
            "channel": e["channel"],
            "day": e["ts"].date(),
            "type": e["type"],
        }
        for e in world.events
        if e["type"] in ("form_view", "form_submit")
    ]
    return {"sends": sends, "spend": spend, "conversions": conversions, "forms": forms}


def _visitor(world: World, event: dict[str, Any]) -> str:
    contact: str | None = event.get("contact_id") or world.links.get(event["anonymous_id"])
    return contact or event["anonymous_id"]


def web_facts(world: World) -> list[dict[str, Any]]:
    """Human page views with visitor and session (30 minutes of silence ends a session)."""
    views = sorted(
        (e for e in world.events if e["type"] == "page_view" and not e.get("is_machine")),
        key=lambda e: (_visitor(world, e), e["ts"]),
    )
    out, last, number = [], {}, defaultdict(int)
    for e in views:
        visitor = _visitor(world, e)
        previous = last.get(visitor)
        if previous is None or (e["ts"] - previous).total_seconds() > SESSION_GAP:
            number[visitor] += 1
        last[visitor] = e["ts"]
        kind = e.get("referrer_kind")
        out.append(
            {
                "campaign": e.get("campaign_id"),
                "channel": e["channel"],
                "persona": world.persona(visitor),
                "day": e["ts"].date(),
                "visitor": visitor,
                "session": f"{visitor}:{number[visitor]}",
                "seconds": e["ts"].timestamp(),
                "search": kind == "search",
                "domain": e["referrer_domain"]
                if kind not in (None, "internal", "direct")
                else None,
            }
        )
    return out


def grouped(
    rows: list[dict[str, Any]], by: tuple[str, ...], where: Callable[[dict[str, Any]], bool]
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if where(row):
            groups[_group(row, by)].append(row)
    return groups
