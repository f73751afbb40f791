"""Alembic migrations of the app store, run by ``clarion init`` and the test harness."""
