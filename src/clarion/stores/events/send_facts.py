"""Send facts: each sent message with what became of it, folded from the append-only tables.

The email metrics need, per send, whether it was opened, clicked, bounced... Working that out
from the raw events means grouping every email event by message and joining the result to
every send, on each query. Send facts keep the answer: one row per sent message with its
dimensions and one flag per outcome, brought up to date by ``fold`` (decision 0049).

Exactness does not depend on how recently the facts were folded. The events and sends tables
are append-only, and DuckDB numbers appended rows in commit order (``rowid``), so a *mark*
records how far each table has been folded. ``current`` reads the folded facts and adds the
tail written since the mark, so it always gives what the raw events give. Outcomes are
flags (an open is an open, however many arrive), so reading part of the tail twice is harmless.
An outcome whose send is not stored yet (a fast bounce) waits in ``send_outcomes_pending``.

DuckDB only: the other engines compute the same rows from the raw events
(``analytics.sources.sends``), which stays the reference the tests compare against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import duckdb
import ibis
import ibis.expr.types as ir

from clarion.stores.events.store import EventStore

# Outcome flag -> the condition on one ``events`` row that sets it (SQL over ``events``).
_HUMAN: Final = "NOT coalesce(is_machine, false)"
_BOUNCE_TYPE: Final = "json_extract_string(properties, '$.bounce_type')"
OUTCOMES: Final[dict[str, str]] = {
    "opened": f"type = 'email_open' AND {_HUMAN}",
    "opened_any": "type = 'email_open'",
    "clicked": f"type = 'email_click' AND {_HUMAN}",
    "clicked_any": "type = 'email_click'",
    "bounced": "type = 'email_bounce'",
    "hard_bounced": f"type = 'email_bounce' AND {_BOUNCE_TYPE} = 'hard'",
    "soft_bounced": f"type = 'email_bounce' AND {_BOUNCE_TYPE} = 'soft'",
    "complained": "type = 'email_complaint'",
    "unsubscribed": "type = 'unsubscribe'",
}
_MESSAGE_EVENTS: Final = (
    "('email_open', 'email_click', 'email_bounce', 'email_complaint', 'unsubscribe')"
)
# The send's own columns copied onto its facts row (what the metrics group by or join on).
SEND_COLUMNS: Final = (
    "workspace_id",
    "message_id",
    "contact_id",
    "campaign_id",
    "channel",
    "variant",
    "creative_id",
    "sent_at",
)
FACTS, PENDING, MARK = "send_facts", "send_outcomes_pending", "send_facts_mark"
# Views numbering the rows of the append-only tables (DuckDB pushes a rowid bound into the scan).
OUTCOME_ROWS, SEND_ROWS = "send_facts_outcome_rows", "send_facts_send_rows"

_FLAG_COLUMNS: Final = ", ".join(f"{name} BOOLEAN NOT NULL" for name in OUTCOMES)
_DDL: Final = (
    f"CREATE TABLE IF NOT EXISTS {FACTS} (workspace_id VARCHAR NOT NULL, "
    "message_id VARCHAR NOT NULL, contact_id VARCHAR NOT NULL, campaign_id VARCHAR, "
    "channel VARCHAR NOT NULL, variant VARCHAR, creative_id VARCHAR, "
    f"sent_at TIMESTAMPTZ NOT NULL, {_FLAG_COLUMNS})",
    f"CREATE TABLE IF NOT EXISTS {PENDING} (workspace_id VARCHAR NOT NULL, "
    f"message_id VARCHAR NOT NULL, {_FLAG_COLUMNS})",
    # rowid of the first events / message_sends row not folded yet, and how many rows lay
    # below it when it was set (a check that rows were never deleted or renumbered).
    f"CREATE TABLE IF NOT EXISTS {MARK} (events_upto BIGINT NOT NULL, "
    "sends_upto BIGINT NOT NULL, events_below BIGINT NOT NULL, sends_below BIGINT NOT NULL)",
    # One row per message event with its flags; the one definition of each outcome.
    f"CREATE OR REPLACE VIEW {OUTCOME_ROWS} AS SELECT rowid AS clarion_row, workspace_id, "  # noqa: S608 (fixed SQL)
    "message_id, "
    + ", ".join(f"coalesce({condition}, false) AS {name}" for name, condition in OUTCOMES.items())
    + f" FROM events WHERE message_id IS NOT NULL AND type IN {_MESSAGE_EVENTS}",
    f"CREATE OR REPLACE VIEW {SEND_ROWS} AS SELECT rowid AS clarion_row, * FROM message_sends "  # noqa: S608
    "WHERE status = 'sent'",
)


@dataclass(frozen=True)
class Mark:
    """How far the facts are folded: rowids of the first events and sends rows not folded."""

    events_upto: int = 0
    sends_upto: int = 0


@dataclass(frozen=True)
class Folded:
    """What one ``fold`` did."""

    events: int  # events rows read (message events or not)
    sends: int  # message_sends rows read
    pending: int  # outcomes still waiting for their send
    rebuilt: bool  # the mark no longer matched the tables, so the facts were built afresh


def _outcomes_sql(since: int, until: int) -> str:
    """Per (workspace, message): the outcome flags of the events rows in [since, until)."""
    flags = ", ".join(f"bool_or({name}) AS {name}" for name in OUTCOMES)
    return (
        f"SELECT workspace_id, message_id, {flags} FROM {OUTCOME_ROWS} "  # noqa: S608 (ints)
        f"WHERE clarion_row >= {int(since)} AND clarion_row < {int(until)} "
        "GROUP BY workspace_id, message_id"
    )


def _run(con: Any, statement: str, params: list[Any] | None = None) -> None:
    """Execute a statement and drain its result (DuckDB wants that before the next one)."""
    con.execute(statement, params).fetchall()


def _read_mark(con: Any) -> tuple[Mark, tuple[int, int]] | None:
    try:
        rows = con.execute(
            f"SELECT events_upto, sends_upto, events_below, sends_below FROM {MARK}"  # noqa: S608
        ).fetchall()
    except duckdb.CatalogException:
        return None
    if not rows:
        return None
    row = rows[0]
    return Mark(int(row[0]), int(row[1])), (int(row[2]), int(row[3]))


def _below(con: Any, table: str, upto: int) -> int:
    query = f"SELECT count(*) FROM {table} WHERE rowid < {int(upto)}"  # noqa: S608
    return int(con.execute(query).fetchall()[0][0])


def _end(con: Any, table: str) -> int:
    query = f"SELECT coalesce(max(rowid) + 1, 0) FROM {table}"  # noqa: S608
    return int(con.execute(query).fetchall()[0][0])


def fold(store: EventStore) -> Folded:
    """Bring the send facts up to date with every events and sends row stored; idempotent.

    One transaction, while no append runs: a crash leaves the facts as they were before.
    """
    return store.maintain(_fold)


def _fold(con: Any) -> Folded:
    _run(con, "BEGIN TRANSACTION")
    try:
        folded = _fold_in_transaction(con)
    except BaseException:
        _run(con, "ROLLBACK")
        raise
    _run(con, "COMMIT")
    return folded


def _fold_in_transaction(con: Any) -> Folded:
    for statement in _DDL:
        _run(con, statement)
    found = _read_mark(con)
    mark, rebuilt = Mark(), False
    if found is not None:
        mark, (events_below, sends_below) = found
        if (
            _below(con, "events", mark.events_upto) != events_below
            or _below(con, "message_sends", mark.sends_upto) != sends_below
        ):
            mark, rebuilt = Mark(), True  # rows vanished or moved: fold everything again
    if found is None or rebuilt:
        for table in (FACTS, PENDING, MARK):
            _run(con, f"DELETE FROM {table}")  # noqa: S608 (fixed names)
    events_end, sends_end = _end(con, "events"), _end(con, "message_sends")
    flags = ", ".join(OUTCOMES)
    any_flags = ", ".join(f"bool_or({name}) AS {name}" for name in OUTCOMES)
    # New outcomes and the ones still waiting, one row per message.
    _run(
        con,
        "CREATE OR REPLACE TEMP TABLE clarion_fold_outcomes AS "  # noqa: S608
        f"SELECT workspace_id, message_id, {any_flags} FROM ("
        f"{_outcomes_sql(mark.events_upto, events_end)} "
        f"UNION ALL SELECT workspace_id, message_id, {flags} FROM {PENDING}) "
        "GROUP BY workspace_id, message_id",
    )
    columns = ", ".join(f"s.{c}" for c in SEND_COLUMNS)
    with_flags = ", ".join(f"coalesce(o.{name}, false)" for name in OUTCOMES)
    # Sends stored since the last fold, with whatever happened to them so far.
    _run(
        con,
        f"INSERT INTO {FACTS} SELECT {columns}, {with_flags} "  # noqa: S608
        f"FROM {SEND_ROWS} s LEFT JOIN clarion_fold_outcomes o "
        "ON o.workspace_id = s.workspace_id AND o.message_id = s.message_id "
        f"WHERE s.clarion_row >= {mark.sends_upto} AND s.clarion_row < {sends_end}",
    )
    # Sends folded before: add the new outcomes (a flag once set stays set).
    changed = ", ".join(f"{name} = f.{name} OR o.{name}" for name in OUTCOMES)
    _run(
        con,
        f"UPDATE {FACTS} AS f SET {changed} FROM clarion_fold_outcomes o "  # noqa: S608
        f"WHERE f.workspace_id = o.workspace_id AND f.message_id = o.message_id "
        f"AND ({' OR '.join(f'(o.{n} AND NOT f.{n})' for n in OUTCOMES)})",
    )
    # Outcomes whose send is not among the facts wait for it.
    _run(con, f"DELETE FROM {PENDING}")  # noqa: S608
    _run(
        con,
        f"INSERT INTO {PENDING} SELECT o.* FROM clarion_fold_outcomes o "  # noqa: S608
        f"ANTI JOIN {FACTS} f ON f.workspace_id = o.workspace_id AND f.message_id = o.message_id",
    )
    pending = int(con.execute(f"SELECT count(*) FROM {PENDING}").fetchall()[0][0])  # noqa: S608
    _run(con, "DROP TABLE clarion_fold_outcomes")
    _run(con, f"DELETE FROM {MARK}")  # noqa: S608
    _run(
        con,
        f"INSERT INTO {MARK} VALUES (?, ?, ?, ?)",  # noqa: S608
        [
            events_end,
            sends_end,
            _below(con, "events", events_end),
            _below(con, "message_sends", sends_end),
        ],
    )
    return Folded(
        events=events_end - mark.events_upto,
        sends=sends_end - mark.sends_upto,
        pending=pending,
        rebuilt=rebuilt,
    )


def current(store: EventStore, workspace_id: str) -> ir.Table | None:
    """Every sent message of the workspace with its outcome flags, exact as of now.

    None when the store has never been folded (or is not DuckDB): read the raw events then.
    The folded facts plus the tail since the mark, as one Ibis expression.
    """
    connection = store.connection
    raw = getattr(connection, "con", None)
    if not isinstance(raw, duckdb.DuckDBPyConnection):
        return None
    found = _read_mark(raw)
    if found is None:
        return None
    mark = found[0]
    mine = ibis.literal(workspace_id)
    facts = connection.table(FACTS)
    facts = facts.filter(facts.workspace_id == mine)
    pending = connection.table(PENDING)
    pending = pending.filter(pending.workspace_id == mine)
    rows = connection.table(OUTCOME_ROWS)
    rows = rows.filter((rows.clarion_row >= mark.events_upto) & (rows.workspace_id == mine))
    tail = rows.group_by("message_id").aggregate(**{n: rows[n].any() for n in OUTCOMES})
    new_sends = connection.table(SEND_ROWS)
    new_sends = new_sends.filter(
        (new_sends.clarion_row >= mark.sends_upto) & (new_sends.workspace_id == mine)
    )
    # Messages the tail says something about: their facts are worked out again below.
    touched = _union(
        tail.select(t_message_id=tail.message_id),
        new_sends.select(t_message_id=new_sends.message_id),
    ).distinct()
    untouched = facts.anti_join(touched, facts.message_id == touched.t_message_id)
    refolded = facts.semi_join(touched, facts.message_id == touched.t_message_id)
    unfolded = new_sends.anti_join(facts, new_sends.message_id == facts.message_id)
    waiting = pending.select(
        w_message_id=pending.message_id, **{f"w_{n}": pending[n] for n in OUTCOMES}
    )
    unfolded = unfolded.left_join(waiting, unfolded.message_id == waiting.w_message_id)
    unfolded = unfolded.select(
        *SEND_COLUMNS, **{n: unfolded[f"w_{n}"].fill_null(False) for n in OUTCOMES}
    )
    fresh = _union(refolded.select(*SEND_COLUMNS, *OUTCOMES), unfolded)
    later = tail.select(l_message_id=tail.message_id, **{f"l_{n}": tail[n] for n in OUTCOMES})
    fresh = fresh.left_join(later, fresh.message_id == later.l_message_id)
    fresh = fresh.select(
        *SEND_COLUMNS, **{n: fresh[n] | fresh[f"l_{n}"].fill_null(False) for n in OUTCOMES}
    )
    return _union(untouched.select(*SEND_COLUMNS, *OUTCOMES), fresh)


def _union(*tables: ir.Table) -> ir.Table:
    """UNION ALL of tables with the same columns, NOT NULL or not (one type per column)."""
    aligned = [
        t.select(**{c: t[c].cast(t[c].type().copy(nullable=True)) for c in t.columns})
        for t in tables
    ]
    return ibis.union(*aligned, distinct=False)
