"""The HTTP API (FastAPI): thin routes over the slices' service facades."""
