"""Event store: append-only facts (events, sends, spend, identities, contacts) behind Ibis."""

from clarion.stores.events.batch import Rows
from clarion.stores.events.schema import TABLES, TableSpec
from clarion.stores.events.store import EventStore

__all__ = ["TABLES", "EventStore", "Rows", "TableSpec"]
