"""Build the ASGI app for an installation (no engine is created at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from clarion import __version__
from clarion.api import campaigns
from clarion.api.errors import install_error_handlers
from clarion.api.limits import BodyLimit
from clarion.instance import Instance

MAX_BODY_BYTES = 1_048_576  # a campaign plan is a page; tracking routes set their own limits


def create_app(instance: Instance, *, close_on_shutdown: bool = False) -> FastAPI:
    """The HTTP API over ``instance``; OpenAPI at /openapi.json, docs at /docs."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_on_shutdown:
            instance.close()

    app = FastAPI(
        title="Clarion",
        version=__version__,
        description="Self-hosted campaign management. Authenticate with a secret API key.",
        lifespan=lifespan,
    )
    app.state.instance = instance
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    install_error_handlers(app)
    app.include_router(campaigns.router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the server answers."""
        return {"status": "ok", "version": __version__}

    return app
