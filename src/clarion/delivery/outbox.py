"""The outbox in the app store: create a send's rows, claim them, record what became of them."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)

from clarion.core.clock import Clock
from clarion.core.errors import Conflict, NotFound
from clarion.core.ids import IdSource
from clarion.delivery.contracts import OPEN_STATES, Send, SendProgress, SendState, StartResult
from clarion.delivery.tables import outbox_messages, sends
from clarion.stores.app import AppStore

_INSERT_CHUNK: Final = 2000
# Tables a sender reads by id per recipient; their statistics are refreshed when a send starts.
RECIPIENT_TABLES: Final = ("contacts", "consent_events", "suppressions", "outbox_messages")
_IN_CHUNK: Final = 900  # ids per IN (...) list: well under every driver's parameter limit
_MOVES: Final = {
    SendState.RUNNING: (SendState.PAUSED, SendState.CANCELLED),
    SendState.PAUSED: (SendState.RUNNING, SendState.CANCELLED),
}
_out = outbox_messages


def message_id(campaign_id: str, step: str, contact_id: str) -> str:
    """The deterministic id of the message of ``step`` to a contact: ``msg_`` + 24 base32."""
    digest = hashlib.sha256(f"{campaign_id}\x1f{step}\x1f{contact_id}".encode()).digest()
    return "msg_" + base64.b32encode(digest[:15]).decode("ascii").lower()


@dataclass(frozen=True)
class Claimed:
    """An outbox row a worker holds: the message id, its recipient, and its history."""

    id: str
    contact_id: str
    variant: str | None
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row: sent, failed or skipped, with the server's words."""

    id: str
    state: str  # sent, failed, skipped, cancelled
    provider_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Finished:
    """A row as it was just recorded finished: what the event store is told about it."""

    id: str
    workspace_id: str
    campaign_id: str
    contact_id: str
    variant: str | None
    step: str
    state: str  # sent, failed or skipped
    finished_at: datetime
    provider_id: str | None
    detail: str | None


LOGGED_STATES: Final = ("sent", "failed", "skipped")  # the finished states the event store hears of


def finished(
    send: Send,
    outcomes: Sequence[Outcome],
    rows: Mapping[str, Claimed],
    *,
    now: datetime,
    domain: str | None = None,
) -> list[Finished]:
    """The rows ``record_in`` has just stored, as stored (the same provider id and detail),
    without reading them back; a cancelled or retried row is not finished."""
    found: list[Finished] = []
    for o in outcomes:
        if o.state not in LOGGED_STATES:
            continue
        row = rows[o.id]
        found.append(
            Finished(
                o.id,
                send.workspace_id,
                send.campaign_id,
                row.contact_id,
                row.variant,
                send.step,
                o.state,
                now,
                _stored_provider(o.id, o.state, o.provider_id, domain),
                _detail(o.detail),
            )
        )
    return found


def _stored_provider(
    message_id: str, state: str, provider: str | None, domain: str | None
) -> str | None:
    """The provider id a row is stored with: the server's, or for a sent row without one
    its Message-ID, ``<id@domain>`` (``_provider`` is the same rule in SQL)."""
    if provider is None and domain is not None and state == "sent":
        return f"<{message_id}@{domain}>"
    return provider


def _detail(detail: str | None) -> str | None:
    return (detail or "")[:2000] or None


def _to_send(row: Any) -> Send:
    return Send(
        id=row.id,
        workspace_id=row.workspace_id,
        campaign_id=row.campaign_id,
        step=row.step,
        state=SendState(row.state),
        recipients=row.recipients,
        options=dict(row.options),
        not_before=row.not_before,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def create_send(
    store: AppStore,
    workspace_id: str,
    campaign_id: str,
    step: str,
    *,
    audience: Any,
    options: dict[str, Any],
    contact_ids: Sequence[str],
    not_before: datetime | None,
    clock: Clock,
    ids: IdSource,
    actor: str,
    variants: Mapping[str, str] | None = None,
    held: Sequence[str] = (),
) -> StartResult:
    """The send of ``step`` with one queued row per contact, in one transaction; if the step
    was started before, that send (no second row for anyone).

    ``variants``: each contact's experiment arm, kept on its row. ``held``: contacts whose
    rows wait (state ``held``) for a test-then-send decision; they are not claimed until
    ``release_held`` gives them the chosen variant.
    """
    arms = variants or {}
    waiting = set(held)
    now = clock.now()
    with store.transaction() as conn:
        existing = conn.execute(
            select(sends).where(sends.c.campaign_id == campaign_id, sends.c.step == step)
        ).first()
        if existing is not None:
            return StartResult(False, _to_send(existing))
        send_id = ids.new("snd")
        unique = list(dict.fromkeys([*contact_ids, *held]))  # held ones may be in both
        conn.execute(
            insert(sends).values(
                id=send_id,
                workspace_id=workspace_id,
                campaign_id=campaign_id,
                step=step,
                state=SendState.RUNNING.value,
                audience=audience,
                options=options,
                recipients=len(unique),
                not_before=not_before,
                created_at=now,
                updated_at=now,
                actor=actor,
            )
        )
        # Rows are written in message-id order, the order they are claimed in: a batch then
        # lies on a few neighbouring pages, and each of its state changes rewrites those few
        # pages instead of one page per row (ids are hashes, so audience order scatters them).
        by_id = sorted((message_id(campaign_id, step, c), c) for c in unique)
        for part in _chunks(by_id, _INSERT_CHUNK):
            conn.execute(
                insert(_out),
                [
                    {
                        "id": row_id,
                        "workspace_id": workspace_id,
                        "send_id": send_id,
                        "campaign_id": campaign_id,
                        "step": step,
                        "contact_id": contact_id,
                        "variant": arms.get(contact_id),
                        "state": "held" if contact_id in waiting else "queued",
                        "attempts": 0,
                        "in_doubt": 0,
                        "created_at": now,
                    }
                    for row_id, contact_id in part
                ],
            )
        row = conn.execute(select(sends).where(sends.c.id == send_id)).one()
    # The sender looks its recipients up by id in these tables, many times a second.
    store.refresh_statistics(RECIPIENT_TABLES)
    return StartResult(True, _to_send(row))


def find_send(store: AppStore, campaign_id: str, step: str) -> Send | None:
    """The send of a campaign's step, if it was started."""
    with store.reading() as conn:
        row = conn.execute(
            select(sends).where(sends.c.campaign_id == campaign_id, sends.c.step == step)
        ).first()
    return None if row is None else _to_send(row)


def get_send(store: AppStore, workspace_id: str, send_id: str) -> Send:
    """The send with this id in the workspace; NotFound otherwise."""
    with store.reading() as conn:
        row = conn.execute(
            select(sends).where(sends.c.id == send_id, sends.c.workspace_id == workspace_id)
        ).first()
    if row is None:
        raise NotFound("send", send_id)
    return _to_send(row)


def list_sends(
    store: AppStore, workspace_id: str | None = None, state: SendState | None = None
) -> list[Send]:
    """Sends, oldest first; every workspace's when ``workspace_id`` is None (the worker)."""
    query = select(sends).order_by(sends.c.created_at, sends.c.id)
    if workspace_id is not None:
        query = query.where(sends.c.workspace_id == workspace_id)
    if state is not None:
        query = query.where(sends.c.state == state.value)
    with store.reading() as conn:
        return [_to_send(row) for row in conn.execute(query)]


def move(
    store: AppStore, workspace_id: str, send_id: str, target: SendState, *, clock: Clock
) -> Send:
    """Pause, resume or cancel a send; cancelling marks its queued rows cancelled at once."""
    now = clock.now()
    with store.transaction() as conn:
        row = conn.execute(
            select(sends).where(sends.c.id == send_id, sends.c.workspace_id == workspace_id)
        ).first()
        if row is None:
            raise NotFound("send", send_id)
        current = SendState(row.state)
        if current == target:
            return _to_send(row)
        if target not in _MOVES.get(current, ()):
            allowed = ", ".join(s.value for s in _MOVES.get(current, ())) or "none: it is final"
            raise Conflict(
                f"send {send_id} is {current.value}: it cannot become {target.value} "
                f"(allowed: {allowed})",
                {"state": current.value, "target": target.value},
            )
        values: dict[str, Any] = {"state": target.value, "updated_at": now}
        if target is SendState.CANCELLED:
            values["finished_at"] = now
            conn.execute(
                update(_out)
                .where(_out.c.send_id == send_id, _out.c.state.in_(("queued", "held")))
                .values(state="cancelled", finished_at=now, detail="send cancelled")
            )
        conn.execute(update(sends).where(sends.c.id == send_id).values(**values))
        return _to_send(conn.execute(select(sends).where(sends.c.id == send_id)).one())


# The statements the sender runs for every batch or group, built once: building them per call
# coerced every id of the IN list again.
_CLAIM: Final = (
    update(_out)
    .where(_out.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state="claimed",
        claimed_by=bindparam("worker"),
        lease_until=bindparam("lease_until", type_=_out.c.lease_until.type),
    )
)
_MARK_SENDING: Final = (
    update(_out)
    .where(_out.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state="sending",
        sending_at=bindparam("now", type_=_out.c.sending_at.type),
        attempts=_out.c.attempts + 1,
    )
)
_MARK_LOGGED: Final = (
    update(_out)
    .where(_out.c.id.in_(bindparam("ids", expanding=True)))
    .values(logged_at=bindparam("now", type_=_out.c.logged_at.type))
)


def claim(
    store: AppStore,
    send_id: str,
    *,
    worker: str,
    limit: int,
    lease: timedelta,
    now: datetime,
) -> list[Claimed]:
    """Claim up to ``limit`` queued rows of a running send that is due; [] otherwise.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so workers never wait for each other's rows;
    SQLite: the transaction holds the database's write lock from ``BEGIN IMMEDIATE``.
    """
    with store.transaction() as conn:
        send = conn.execute(
            select(sends.c.state, sends.c.not_before).where(sends.c.id == send_id)
        ).first()
        if send is None or send.state != SendState.RUNNING.value:
            return []
        if send.not_before is not None and send.not_before > now:
            return []
        query = (
            select(_out.c.id, _out.c.contact_id, _out.c.variant, _out.c.attempts)
            .where(
                _out.c.send_id == send_id,
                _out.c.state == "queued",
                # A row retried after a temporary refusal waits for its back-off.
                _out.c.next_attempt_at.is_(None) | (_out.c.next_attempt_at <= now),
            )
            .order_by(_out.c.id)
            .limit(limit)
        )
        if store.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).all()
        if rows:
            conn.execute(
                _CLAIM,
                {"ids": [r.id for r in rows], "worker": worker, "lease_until": now + lease},
            )
    return [Claimed(r.id, r.contact_id, r.variant, r.attempts) for r in rows]


def mark_sending(conn: Connection, message_ids: Sequence[str], *, now: datetime) -> None:
    """Record, before any DATA goes out, that these rows are handed to the SMTP server."""
    for part in _chunks(message_ids):
        conn.execute(_MARK_SENDING, {"ids": list(part), "now": now})


def record(
    store: AppStore, outcomes: Sequence[Outcome], *, now: datetime, domain: str | None = None
) -> None:
    """Store what became of each row (one transaction for the whole group)."""
    if not outcomes:
        return
    with store.transaction() as conn:
        record_in(conn, outcomes, now=now, domain=domain)


def record_in(
    conn: Connection, outcomes: Sequence[Outcome], *, now: datetime, domain: str | None = None
) -> None:
    """``record`` inside a transaction the caller holds.

    Rows with the same state, provider id and server reply (a group the server accepted
    alike) are updated by one statement; with ``domain``, a sent row without a provider id
    gets its Message-ID, ``<id@domain>``, as one.
    """
    if not outcomes:
        return
    alike: dict[tuple[str, str | None, str | None], list[str]] = {}
    for o in outcomes:
        alike.setdefault((o.state, o.provider_id, _detail(o.detail)), []).append(o.id)
    single: list[dict[str, Any]] = []
    for (state, provider, detail), ids in alike.items():
        if len(ids) == 1:
            own = _stored_provider(ids[0], state, provider, domain)
            single.append({"b_id": ids[0], "b_state": state, "b_provider": own, "b_detail": detail})
            continue
        for part in _chunks(ids):
            conn.execute(
                update(_out)
                .where(_out.c.id.in_(part))
                .values(
                    state=state,
                    provider_id=_provider(state, provider, domain),
                    detail=detail,
                    finished_at=now,
                    claimed_by=None,
                    lease_until=None,
                )
            )
    if single:
        statement = (
            update(_out)
            .where(_out.c.id == bindparam("b_id"))
            .values(
                state=bindparam("b_state"),
                provider_id=bindparam("b_provider"),
                detail=bindparam("b_detail"),
                finished_at=now,
                claimed_by=None,
                lease_until=None,
            )
        )
        conn.execute(statement, single)


def _message_id_of(domain: str) -> ColumnElement[str]:
    return literal("<") + _out.c.id + literal(f"@{domain}>")


def _provider(state: str, provider: str | None, domain: str | None) -> Any:
    if provider is not None or domain is None or state != "sent":
        return provider
    return _message_id_of(domain)


def recover(store: AppStore, *, now: datetime, everything: bool = False) -> tuple[int, int]:
    """Put rows of dead workers back in the queue: (claimed rows, rows in doubt).

    A row left in ``claimed`` was never handed over: it goes back as it was. A row left in
    ``sending`` may have been accepted before the worker died: it is resent (the only
    possible duplicate) and counted in ``in_doubt``. ``everything`` is for the one worker of
    an installation at its start; otherwise only rows whose lease expired are taken back.
    """
    with store.transaction() as conn:
        expired: ColumnElement[bool] = _out.c.lease_until.is_not(None)
        if not everything:
            expired = expired & (_out.c.lease_until <= now)
        claimed = conn.execute(
            update(_out)
            .where(_out.c.state == "claimed", expired)
            .values(state="queued", claimed_by=None, lease_until=None)
        ).rowcount
        doubtful = conn.execute(
            update(_out)
            .where(_out.c.state == "sending", expired)
            .values(state="queued", claimed_by=None, lease_until=None, in_doubt=_out.c.in_doubt + 1)
        ).rowcount
        # Rows of sends cancelled while a worker held them are not sent after all.
        cancelled = select(sends.c.id).where(sends.c.state == SendState.CANCELLED.value)
        conn.execute(
            update(_out)
            .where(_out.c.state == "queued", _out.c.send_id.in_(cancelled))
            .values(state="cancelled", finished_at=now, detail="send cancelled")
        )
    return int(claimed), int(doubtful)


def finish_if_done(store: AppStore, send_id: str, *, now: datetime) -> bool:
    """Mark a running send done when none of its rows is open; True if it is done now."""
    with store.transaction() as conn:
        left = conn.execute(
            select(func.count())
            .select_from(_out)
            .where(_out.c.send_id == send_id, _out.c.state.in_((*OPEN_STATES, "held")))
        ).scalar_one()
        if left:
            return False
        moved = conn.execute(
            update(sends)
            .where(sends.c.id == send_id, sends.c.state == SendState.RUNNING.value)
            .values(state=SendState.DONE.value, finished_at=now, updated_at=now)
        ).rowcount
        return bool(moved)


def progress(store: AppStore, workspace_id: str, send_id: str) -> SendProgress:
    """Counts by state, the in-doubt resends and the sending rate of a send."""
    send = get_send(store, workspace_id, send_id)
    with store.reading() as conn:
        counts = {
            row.state: int(row.n)
            for row in conn.execute(
                select(_out.c.state, func.count().label("n"))
                .where(_out.c.send_id == send_id)
                .group_by(_out.c.state)
            )
        }
        # Rows refused for now and queued again wait their back-off (``next_attempt_at``).
        retrying = int(
            conn.execute(
                select(func.count()).where(
                    _out.c.send_id == send_id,
                    _out.c.state == "queued",
                    _out.c.next_attempt_at.is_not(None),
                )
            ).scalar_one()
        )
        stats = conn.execute(
            select(
                func.coalesce(func.sum(_out.c.in_doubt), 0).label("doubt"),
                func.min(_out.c.sending_at).label("first"),
                func.max(_out.c.finished_at).label("last"),
            ).where(_out.c.send_id == send_id)
        ).one()
    rate = None
    done = counts.get("sent", 0) + counts.get("failed", 0)
    if stats.first is not None and stats.last is not None and done:
        seconds = (stats.last - stats.first).total_seconds()
        rate = round(done / seconds, 1) if seconds > 0 else None
    return SendProgress(send, counts, int(stats.doubt), rate, retrying)


def unlogged(store: AppStore, send_id: str, limit: int = 5000) -> list[Any]:
    """Finished rows not yet written to the event store (after a crash, or the last batch)."""
    with store.reading() as conn:
        return list(
            conn.execute(
                select(*(_out.c[name] for name in Finished.__dataclass_fields__))
                .where(
                    _out.c.send_id == send_id,
                    _out.c.state.in_(LOGGED_STATES),
                    _out.c.logged_at.is_(None),
                )
                .order_by(_out.c.id)
                .limit(limit)
            )
        )


def mark_logged(store: AppStore, message_ids: Sequence[str], *, now: datetime) -> None:
    """Record that these rows' message_sends rows and events are in the event store."""
    with store.transaction() as conn:
        for part in _chunks(message_ids):
            conn.execute(_MARK_LOGGED, {"ids": list(part), "now": now})


def sent_counts(
    conn: Connection, workspace_id: str, contact_ids: Sequence[str], *, since: datetime
) -> dict[str, int]:
    """Marketing emails handed over to each contact since ``since`` (the frequency cap)."""
    found: dict[str, int] = {}
    for part in _chunks(contact_ids):
        for row in conn.execute(
            select(_out.c.contact_id, func.count().label("n"))
            .where(
                _out.c.workspace_id == workspace_id,
                _out.c.contact_id.in_(part),
                _out.c.state.in_(("sending", "sent")),
                _out.c.sending_at >= since,
            )
            .group_by(_out.c.contact_id)
        ):
            found[row.contact_id] = int(row.n)
    return found
