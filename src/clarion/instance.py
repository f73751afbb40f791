"""An installation: settings, the opened app store, clock and ids — what entrypoints share."""

from __future__ import annotations

from dataclasses import dataclass, field

from clarion.auth import service as auth
from clarion.auth.contracts import Workspace
from clarion.core.clock import Clock, SystemClock
from clarion.core.ids import IdSource, RandomIds
from clarion.settings import Settings, ensure_secrets
from clarion.stores.app import AppStore, open_app_store
from clarion.stores.app.migrate import current_revision, require_current, upgrade
from clarion.stores.events import EventStore


@dataclass
class Instance:
    """What a CLI command or the HTTP server works with."""

    settings: Settings
    store: AppStore
    clock: Clock = field(default_factory=SystemClock)
    ids: IdSource = field(default_factory=RandomIds)
    events: EventStore | None = None  # opened by the process that owns the event store

    def workspace(self, key: str = auth.DEFAULT_WORKSPACE) -> Workspace:
        return auth.get_workspace(self.store, key)

    @property
    def pepper(self) -> str:
        return self.settings.secrets.api_key_pepper.get_secret_value()

    def open_events(self) -> EventStore:
        """Open the event store for writing; StoreBusy if another process owns the file."""
        if self.events is None:
            self.events = EventStore.open(self.settings.resolved_event_store_url, clock=self.clock)
        return self.events

    def close(self) -> None:
        if self.events is not None:
            self.events.close()
            self.events = None
        self.store.dispose()


@dataclass(frozen=True)
class InitReport:
    """What ``clarion init`` did."""

    data_dir: str
    secrets_created: bool
    migrated_from: str | None
    migrated_to: str
    workspace: Workspace
    workspace_created: bool
    event_store: str


def initialise(settings: Settings, *, clock: Clock, ids: IdSource) -> InitReport:
    """Create or upgrade an installation: secrets, app store schema, event store, workspace."""
    secrets_created = ensure_secrets(settings)
    store = open_app_store(settings.resolved_app_store_url)
    try:
        before = current_revision(store)
        upgrade(store)
        after = current_revision(store)
        assert after is not None
        workspace, created = auth.ensure_workspace(
            store, auth.DEFAULT_WORKSPACE, "Default workspace", clock=clock, ids=ids
        )
    finally:
        store.dispose()
    with EventStore.open(settings.resolved_event_store_url) as events:
        events.create_schema()
    return InitReport(
        data_dir=str(settings.data_dir.resolve()),
        secrets_created=secrets_created,
        migrated_from=before,
        migrated_to=after,
        workspace=workspace,
        workspace_created=created,
        event_store=settings.resolved_event_store_url,
    )


def open_instance(
    settings: Settings, *, clock: Clock | None = None, ids: IdSource | None = None
) -> Instance:
    """Open an initialised installation; NotInitialised (naming the fix) if it is not."""
    settings.secrets  # noqa: B018 - raises NotInitialised with the fix when init has not run
    store = open_app_store(settings.resolved_app_store_url)
    try:
        require_current(store)
    except Exception:
        store.dispose()
        raise
    return Instance(settings, store, clock or SystemClock(), ids or RandomIds())
