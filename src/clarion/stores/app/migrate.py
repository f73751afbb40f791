"""Run and check app store migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from clarion.core.errors import NotInitialised
from clarion.stores.app.engine import AppStore

_SCRIPTS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(store: AppStore) -> str | None:
    """The migration the database is at, or None if it was never migrated."""
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: AppStore, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (default: the newest)."""
    config = _config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def require_current(store: AppStore) -> None:
    """NotInitialised unless the database is migrated to the newest revision."""
    current = current_revision(store)
    if current != head_revision():
        state = "is empty" if current is None else f"is at revision {current}"
        raise NotInitialised(
            f"the app store {state}, this Clarion needs {head_revision()}: run 'clarion init'"
        )
