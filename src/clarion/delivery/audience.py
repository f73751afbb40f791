"""The one place a send's audience becomes contact ids: everyone, a segment or a rule tree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from clarion.audiences.segments import segment_contacts
from clarion.audiences.segments.snapshot import segment_members
from clarion.audiences.segments.store import workspace_context
from clarion.audiences.tables import contacts
from clarion.core.errors import FieldProblem, InvalidInput, NotFound
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

ALL = "all"
SEGMENT = "segment:"


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

    ``"all"`` is every contact that is not erased (the app store is the truth);
    ``"segment:KEY"`` the members of a stored segment; a mapping an inline rule tree, checked in
    the workspace's context (so it may name stored segments and personas), compiled by the
    segments code and evaluated in the event store.
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
        if audience.startswith(SEGMENT):
            key = audience.removeprefix(SEGMENT)
            try:
                return segment_members(store, events, workspace_id, key, now=now)
            except NotFound:
                problem = f"no stored segment {key[:80]!r} in this workspace"
                raise InvalidInput(f"{field}: {problem}", [FieldProblem(field, problem)]) from None
        problem = (
            f"unknown audience {audience[:80]!r}: expected 'all', 'segment:KEY' or a rule tree"
        )
        raise InvalidInput(f"{field}: {problem}", [FieldProblem(field, problem)])
    try:
        context = workspace_context(store, workspace_id)
        members = segment_contacts(events, workspace_id, audience, now=now, context=context)
    except InvalidInput as error:
        problems = [
            FieldProblem(field + p.path.removeprefix("rule"), p.problem) for p in error.problems
        ]
        first = problems[0]
        raise InvalidInput(f"{first.path}: {first.problem}", problems) from None
    column = members.select("contact_id").to_pyarrow().column("contact_id").to_pylist()
    return sorted(set(column))
