"""insert_many writes what SQLAlchemy's executemany writes: types processed, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from clarion.audiences.tables import contacts
from clarion.auth.contracts import Workspace
from clarion.stores.app import AppStore
from clarion.stores.app.bulk import insert_many


def test_rows_round_trip_with_json_and_instants(store: AppStore, workspace: Workspace) -> None:
    paris = timezone(timedelta(hours=1))
    rows = [
        {
            "id": f"ct_{i}",
            "workspace_id": workspace.id,
            "email": f"p{i}@example.com",
            "attributes": {"plan": "pro", "note": "'; DROP TABLE contacts;--", "n": i},
            "created_at": datetime(2027, 1, 1, 10, tzinfo=paris),
            "updated_at": datetime(2027, 1, 1, 9, tzinfo=UTC),
            "erased_at": None,
        }
        for i in range(3)
    ]
    with store.transaction() as conn:
        insert_many(conn, contacts, rows)
        insert_many(conn, contacts, [])
    with store.reading() as conn:
        found = conn.execute(select(contacts).order_by(contacts.c.id)).all()
    assert [row.id for row in found] == ["ct_0", "ct_1", "ct_2"]
    assert found[2].attributes == {"plan": "pro", "note": "'; DROP TABLE contacts;--", "n": 2}
    assert found[0].created_at == datetime(2027, 1, 1, 9, tzinfo=UTC)
    assert found[0].erased_at is None
