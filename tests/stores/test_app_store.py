"""The app store: migrations match the tables the slices declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import bindparam, insert, select, text

from clarion.audiences.tables import contacts
from clarion.auth import tables as auth_tables
from clarion.auth.contracts import Workspace
from clarion.campaigns import tables as campaign_tables
from clarion.content import tables as content_tables
from clarion.core.clock import SimulatedClock
from clarion.core.errors import NotInitialised
from clarion.delivery import tables as delivery_tables
from clarion.delivery.feedback import tables as feedback_tables
from clarion.experiments import tables as experiment_tables
from clarion.optimize import tables as budget_tables
from clarion.reports import tables as report_tables
from clarion.stores.app import AppStore, metadata, open_app_store
from clarion.stores.app.migrate import current_revision, head_revision, require_current
from clarion.tracking import tables as tracking_tables

SLICE_TABLES = (
    auth_tables,
    campaign_tables,
    content_tables,
    experiment_tables,
    budget_tables,
    report_tables,
    tracking_tables,
    feedback_tables,
    delivery_tables,
)  # every slice that owns app-store tables


def test_migrations_produce_exactly_the_declared_tables(store: AppStore) -> None:
    assert SLICE_TABLES  # importing them registers their tables on the shared metadata
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert current_revision(store) == head_revision()


def test_an_unmigrated_store_names_the_fix(tmp_path: Path) -> None:
    store = open_app_store(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(NotInitialised, match="run 'clarion init'"):
        require_current(store)
    store.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_app_store(f"sqlite:///{tmp_path / 'wal.db'}")
    with store.reading() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.dispose()


def test_refreshed_statistics_steer_id_lookups_to_the_primary_key(
    store: AppStore, workspace: Workspace, clock: SimulatedClock
) -> None:
    # The sender looks 64 recipients up by id within a workspace. Without statistics SQLite
    # guessed the workspace's index and read every contact of the workspace instead.
    now = clock.now()
    with store.transaction() as conn:
        conn.execute(
            insert(contacts),
            [
                {
                    "id": f"ct_{i:05d}",
                    "workspace_id": workspace.id,
                    "email_hash": f"{i:064x}",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(10_000)
            ],
        )
    store.refresh_statistics(("contacts",))
    wanted = [f"ct_{i:05d}" for i in range(0, 9000, 10)]  # 900: the most one IN list holds
    with store.reading() as conn:
        if store.dialect == "sqlite":
            query = select(contacts.c.id).where(
                contacts.c.workspace_id == workspace.id, contacts.c.id.in_(wanted)
            )
            compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
            plan = " ".join(
                str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            )
            assert "sqlite_autoindex_contacts_1 (id=?)" in plan, plan
        else:
            rows = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'contacts'"))
            assert rows.scalar_one() >= 10_000


def test_statistics_are_refreshed_only_for_table_names(store: AppStore) -> None:
    with pytest.raises(ValueError, match="not a table name"):
        store.refresh_statistics(("contacts; DROP TABLE contacts",))


def test_a_one_row_read_gives_what_a_select_gives_on_both_databases(
    store: AppStore, workspace: Workspace
) -> None:
    sent = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    with store.transaction() as conn:
        conn.execute(
            insert(tracking_tables.tracked_messages),
            [
                {
                    "message_id": message_id,
                    "workspace_id": workspace.id,
                    "campaign_id": "cmp_1",
                    "contact_id": "ct_1",
                    "channel": "email",
                    "variant": None,
                    "sent_at": sent,
                    "links": ["https://shop.example/é?a=1&b=2"],
                    "utm": {"utm_source": "clarion"},
                }
                for message_id in ("msg_1", "msg_'; DROP TABLE contacts; --")
            ],
        )
    by_id = select(tracking_tables.tracked_messages).where(
        tracking_tables.tracked_messages.c.message_id == bindparam("message_id")
    )
    for message_id in ("msg_1", "msg_'; DROP TABLE contacts; --"):
        with store.reading() as conn:
            expected = conn.execute(by_id, {"message_id": message_id}).one()
        row = store.read_one(by_id, {"message_id": message_id})
        assert tuple(row) == tuple(expected)
        assert row.sent_at == sent and row.sent_at.tzinfo is not None
        assert row.links == ["https://shop.example/é?a=1&b=2"] and row.variant is None
    assert store.read_one(by_id, {"message_id": "msg_absent"}) is None
    with store.reading() as conn:  # the hostile id was only ever data
        assert conn.execute(select(contacts.c.id)).all() == []
