"""Stores: the app store (entities, state, outbox) and the event store (append-only facts)."""
