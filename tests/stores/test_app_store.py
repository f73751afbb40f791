"""The app store: migrations match the tables the slices declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from clarion.auth import tables as auth_tables
from clarion.campaigns import tables as campaign_tables
from clarion.content import tables as content_tables
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
