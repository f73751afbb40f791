"""The app store: SQLAlchemy engine, shared metadata, column types and migrations."""

from clarion.stores.app.engine import AppStore, open_app_store
from clarion.stores.app.metadata import metadata

__all__ = ["AppStore", "metadata", "open_app_store"]
