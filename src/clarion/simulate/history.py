"""A workspace's history as calibration reads it: email sends and their fates, times, spend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import ibis
import numpy as np
import numpy.typing as npt

from clarion.audiences.mirror import current_contacts
from clarion.stores.events import EventStore
from clarion.tracking.spend import current_spend

OPEN, CLICK, BOUNCE = "email_open", "email_click", "email_bounce"
COMPLAINT, UNSUBSCRIBE, CONVERSION = "email_complaint", "unsubscribe", "conversion"
UNASSIGNED: Final = "unassigned"  # the persona of contacts that have none
RECENT: Final = 7 * 86_400  # seconds: sends this close before another count as recent
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Sends:
    """One row per email sent (``message_sends`` with status sent), with what became of it."""

    contact: npt.NDArray[np.int64]  # index into ``contact_ids``
    contact_ids: tuple[str, ...]
    persona: tuple[str, ...]  # per send
    country: tuple[str | None, ...]  # per send
    variant: tuple[str, ...]  # per send ("" without one)
    sent_at: npt.NDArray[np.int64]  # seconds since the epoch, UTC
    machine: Flags  # a proxy fetched the pixel: the mailbox sits behind a privacy proxy
    opened: Flags  # a human open was seen
    clicked: Flags  # a human click
    bounced: Flags
    complained: Flags
    unsubscribed: Flags
    converted: Flags  # a conversion carries this message (a purchase after its click)

    @property
    def size(self) -> int:
        """How many sends."""
        return int(self.sent_at.shape[0])

    @property
    def utc_hour(self) -> npt.NDArray[np.float64]:
        """The hour of the day each send went out, UTC, with minutes as a fraction."""
        out: npt.NDArray[np.float64] = np.mod(self.sent_at, 86_400) / 3600.0
        return out

    def recent(self) -> npt.NDArray[np.int64]:
        """How many sends each send's contact had in the 7 days before it (the fatigue count)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.int64)
        # One sorted key per send: contact first, then time; a window is a range of keys.
        key = self.contact * (1 << 36) + (self.sent_at - int(self.sent_at.min()))
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        first = np.searchsorted(ordered, ordered - RECENT, side="right")
        counts = np.empty(self.size, dtype=np.int64)
        counts[order] = np.arange(self.size) - first
        return counts


@dataclass(frozen=True)
class Orders:
    """Conversions that came after an email click: their value and their contact's persona."""

    persona: tuple[str, ...]
    value: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Moments:
    """When people acted: human opens and clicks, as UTC instants and their contact's country."""

    at: npt.NDArray[np.int64]  # seconds since the epoch
    country: tuple[str | None, ...]


@dataclass(frozen=True)
class UnitDays:
    """One paid unit's days, oldest first, gaps filled with zero spend."""

    channel: str
    ad_set: str | None
    audience: str | None
    spend: npt.NDArray[np.float64]
    conversions: npt.NDArray[np.float64]
    impressions: int
    clicks: int


@dataclass(frozen=True)
class People:
    """The workspace's current contacts: how many per persona and the countries they live in."""

    per_persona: dict[str, int]
    countries: dict[str, list[str]]  # per persona, most common first


def read_sends(events: EventStore, workspace_id: str) -> Sends:
    """Every email sent in the workspace with its outcome flags (machine opens apart)."""
    table = events.table("events")
    table = table.filter((table.workspace_id == workspace_id) & table.message_id.notnull())
    human = ~table.is_machine.fill_null(False)
    kind = table.type
    outcomes = table.group_by(o_id=table.message_id).aggregate(
        machine=((kind == OPEN) & ~human).any(),
        opened=((kind == OPEN) & human).any(),
        clicked=((kind == CLICK) & human).any(),
        bounced=(kind == BOUNCE).any(),
        complained=(kind == COMPLAINT).any(),
        unsubscribed=(kind == UNSUBSCRIBE).any(),
        converted=(kind == CONVERSION).any(),
    )
    sends = events.table("message_sends")
    sends = sends.filter(
        (sends.workspace_id == workspace_id) & (sends.status == "sent") & (sends.channel == "email")
    )
    people = current_contacts(events, workspace_id).select(
        c_id="contact_id", c_persona="persona", c_country="country"
    )
    joined = sends.left_join(outcomes, sends.message_id == outcomes.o_id).left_join(
        people, sends.contact_id == people.c_id
    )
    flags = ("machine", "opened", "clicked", "bounced", "complained", "unsubscribed", "converted")
    rows = (
        joined.select(
            "contact_id",
            "sent_at",
            variant=joined.variant.fill_null(""),
            persona=joined.c_persona.fill_null(UNASSIGNED),
            country=joined.c_country,
            **{name: joined[name].fill_null(False) for name in flags},
        )
        .order_by(["sent_at", "contact_id"])
        .to_pyarrow()
    )
    ids = rows.column("contact_id").to_pylist()
    known = {cid: i for i, cid in enumerate(dict.fromkeys(ids))}
    return Sends(
        contact=np.array([known[c] for c in ids], dtype=np.int64),
        contact_ids=tuple(known),
        persona=tuple(rows.column("persona").to_pylist()),
        country=tuple(rows.column("country").to_pylist()),
        variant=tuple(rows.column("variant").to_pylist()),
        sent_at=np.array([_seconds(t) for t in rows.column("sent_at").to_pylist()], np.int64),
        **{name: np.array(rows.column(name).to_pylist(), dtype=bool) for name in flags},
    )


def read_orders(events: EventStore, workspace_id: str) -> Orders:
    """Conversions that carry a message (bought after an email click), with their value."""
    table = events.table("events")
    table = table.filter(
        (table.workspace_id == workspace_id)
        & (table.type == CONVERSION)
        & table.message_id.notnull()
        & (table.revenue > 0)
    )
    people = current_contacts(events, workspace_id).select(c_id="contact_id", c_persona="persona")
    joined = table.left_join(people, table.contact_id == people.c_id)
    rows = joined.select(persona=joined.c_persona.fill_null(UNASSIGNED), value=joined.revenue)
    data = rows.to_pyarrow()
    return Orders(
        persona=tuple(data.column("persona").to_pylist()),
        value=np.array(data.column("value").to_pylist(), dtype=float),
    )


def read_moments(events: EventStore, workspace_id: str) -> Moments:
    """The instants of human opens and clicks of known contacts, with the contact's country."""
    table = events.table("events")
    table = table.filter(
        (table.workspace_id == workspace_id)
        & table.type.isin([OPEN, CLICK])
        & ~table.is_machine.fill_null(False)
        & table.contact_id.notnull()
    )
    people = current_contacts(events, workspace_id).select(c_id="contact_id", c_country="country")
    joined = table.inner_join(people, table.contact_id == people.c_id)
    data = joined.select("ts", country=joined.c_country).to_pyarrow()
    return Moments(
        at=np.array([_seconds(t) for t in data.column("ts").to_pylist()], dtype=np.int64),
        country=tuple(data.column("country").to_pylist()),
    )


def read_people(events: EventStore, workspace_id: str) -> People:
    """Contacts per persona and, per persona, their countries by frequency."""
    people = current_contacts(events, workspace_id)
    persona = people.persona.fill_null(UNASSIGNED)
    counts = (
        people.group_by(persona=persona, country=people.country)
        .aggregate(n=people.count())
        .order_by([ibis.desc("n"), "persona", "country"])
        .to_pyarrow()
        .to_pylist()
    )
    per_persona: dict[str, int] = {}
    countries: dict[str, list[str]] = {}
    for row in counts:
        per_persona[row["persona"]] = per_persona.get(row["persona"], 0) + int(row["n"])
        if row["country"]:
            countries.setdefault(row["persona"], []).append(row["country"])
    return People(per_persona=dict(sorted(per_persona.items())), countries=countries)


def read_unit_days(events: EventStore, workspace_id: str) -> list[UnitDays]:
    """Each paid unit's daily spend and platform-reported conversions (current imports only)."""
    spend = current_spend(events, workspace_id)
    daily = (
        spend.group_by(["channel", "ad_set", "audience", "day"])
        .aggregate(
            cost=spend.cost.fill_null(0).sum(),
            conversions=spend.conversions.fill_null(0).sum(),
            impressions=spend.impressions.fill_null(0).sum(),
            clicks=spend.clicks.fill_null(0).sum(),
        )
        .order_by(["channel", "ad_set", "audience", "day"])
        .to_pyarrow()
        .to_pylist()
    )
    if not daily:
        return []
    first = min(r["day"] for r in daily)
    last = max(r["day"] for r in daily)
    length = (last - first).days + 1
    units: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in daily:
        units.setdefault((row["channel"], row["ad_set"], row["audience"]), []).append(row)
    out = []
    for (channel, ad_set, audience), rows in units.items():
        cost, conversions = np.zeros(length), np.zeros(length)
        for row in rows:
            at = (row["day"] - first).days
            cost[at] += float(row["cost"])
            conversions[at] += float(row["conversions"])
        out.append(
            UnitDays(
                channel=channel,
                ad_set=ad_set,
                audience=audience,
                spend=cost,
                conversions=conversions,
                impressions=sum(int(r["impressions"]) for r in rows),
                clicks=sum(int(r["clicks"]) for r in rows),
            )
        )
    return out


def _seconds(instant: datetime) -> int:
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return int(aware.timestamp())


__all__: Sequence[str] = (
    "Moments",
    "Orders",
    "People",
    "Sends",
    "UnitDays",
    "read_moments",
    "read_orders",
    "read_people",
    "read_sends",
    "read_unit_days",
)
