"""Shared fixtures: every app-store test runs on SQLite and on a throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from clarion.api.app import create_app
from clarion.auth import service as auth
from clarion.auth.contracts import KeyKind, Workspace
from clarion.core.clock import SimulatedClock
from clarion.core.ids import SeededIds
from clarion.delivery.sink import RecordingHandler, start_sink
from clarion.instance import Instance
from clarion.settings import Settings, ensure_secrets
from clarion.stores.app import AppStore, open_app_store
from clarion.stores.app.migrate import upgrade

from postgres_harness import PostgresServer, PostgresUnavailable

_counter = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-postgres",
        action="store_true",
        help="skip the PostgreSQL half of the suite (refused in CI)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--no-postgres"):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("--no-postgres is not allowed in CI: PostgreSQL is always tested")
    skip = pytest.mark.skip(reason="--no-postgres given")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The throwaway server, with a migrated template database every test copies."""
    try:
        server = PostgresServer()
        admin_url = server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is required for this suite and could not start: {exc}")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE clarion_template"))
    template = open_app_store(server.url("clarion_template"))
    upgrade(template)
    template.dispose()
    admin.dispose()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated app store for one test: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
        store = open_app_store(url)
        upgrade(store)
        store.dispose()
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"clarion_test_{next(_counter)}"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE clarion_template"))
    yield server.url(name)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def store(app_store_url: str) -> Iterator[AppStore]:
    store = open_app_store(app_store_url)
    yield store
    store.dispose()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2027, 2, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def ids() -> SeededIds:
    return SeededIds(7)


@pytest.fixture
def workspace(store: AppStore, clock: SimulatedClock, ids: SeededIds) -> Workspace:
    ws, _ = auth.ensure_workspace(store, "default", "Default workspace", clock=clock, ids=ids)
    return ws


@pytest.fixture
def settings(tmp_path: Path, app_store_url: str) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "data",
        app_store_url=app_store_url,
        event_store_url=f"duckdb://{tmp_path / 'data' / 'events.duckdb'}",
    )
    ensure_secrets(settings)
    return settings


@pytest.fixture
def instance(
    settings: Settings, store: AppStore, clock: SimulatedClock, ids: SeededIds, workspace: Workspace
) -> Iterator[Instance]:
    """An installation that owns its event store, as ``clarion serve`` does."""
    instance = Instance(settings, store, clock, ids)
    instance.open_events().create_schema()
    yield instance
    if instance.events is not None:
        instance.events.close()


@pytest.fixture
def secret_key(instance: Instance, workspace: Workspace) -> str:
    new = auth.create_key(
        instance.store,
        workspace.id,
        KeyKind.SECRET,
        pepper=instance.pepper,
        clock=instance.clock,
        ids=instance.ids,
    )
    return new.plaintext


@pytest.fixture
def write_key(instance: Instance, workspace: Workspace) -> str:
    new = auth.create_key(
        instance.store,
        workspace.id,
        KeyKind.WRITE,
        pepper=instance.pepper,
        clock=instance.clock,
        ids=instance.ids,
    )
    return new.plaintext


@pytest.fixture
def client(instance: Instance, secret_key: str) -> Iterator[TestClient]:
    """Real HTTP through the ASGI app, authenticated with a secret key."""
    with TestClient(create_app(instance)) as client:
        client.headers["Authorization"] = f"Bearer {secret_key}"
        yield client


@pytest.fixture
def sink() -> Iterator[tuple[RecordingHandler, int]]:
    """A loopback SMTP sink in a thread that keeps what it accepts; (handler, port)."""
    handler = RecordingHandler(keep=True)
    controller = start_sink(handler)
    yield handler, controller.port
    controller.stop()
