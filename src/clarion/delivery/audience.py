"""The one place a send's audience becomes contact ids: all contacts or an inline rule tree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from clarion.audiences.segments import segment_contacts
from clarion.audiences.tables import contacts
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

ALL = "all"


def snapshot_contact_ids(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    audience: str | dict[str, Any] | None,
    *,
    now: datetime,
    field: str = "audience",
) -> list[str]:
    """The ids of the contacts ``audience`` names now, sorted; InvalidInput names ``field``.

    ``"all"`` is every contact that is not erased (the app store is the truth); a mapping is
    an inline rule tree, compiled by the segments code and evaluated in the event store.
    Consent and suppression are not applied here: the worker checks them at send time.
    """
    if audience is None:
        problem = "no audience: set the step's or the campaign's audience ('all' for everyone)"
        raise InvalidInput(f"{field}: {problem}", [FieldProblem(field, problem)])
    if audience == ALL:
        with store.reading() as conn:
            found = conn.execute(
                select(contacts.c.id)
                .where(contacts.c.workspace_id == workspace_id, contacts.c.erased_at.is_(None))
                .order_by(contacts.c.id)
            ).scalars()
            return list(found)
    if isinstance(audience, str):
        if audience.startswith("segment:"):
            problem = (
                f"stored segments ({audience!r}) cannot be sent to yet: "
                "use 'all' or an inline rule tree"
            )
        else:
            problem = f"unknown audience {audience[:80]!r}: expected 'all' or an inline rule tree"
        raise InvalidInput(f"{field}: {problem}", [FieldProblem(field, problem)])
    try:
        members = segment_contacts(events, workspace_id, audience, now=now)
    except InvalidInput as error:
        problems = [
            FieldProblem(field + p.path.removeprefix("rule"), p.problem) for p in error.problems
        ]
        first = problems[0]
        raise InvalidInput(f"{first.path}: {first.problem}", problems) from None
    column = members.select("contact_id").to_pyarrow().column("contact_id").to_pylist()
    return sorted(set(column))
