"""Build the ASGI app for an installation (no engine is created at import time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from clarion import __version__
from clarion.api import (
    analysis,
    budget,
    campaigns,
    contacts,
    content,
    experiments,
    feedback,
    metrics,
    personas,
    reports,
    segments,
    sends,
    snippet,
    spend,
    tracking,
    unsubscribe,
)
from clarion.api.deps import WriteKeyCache
from clarion.api.errors import install_error_handlers
from clarion.api.fastpath import TrackingFastPath
from clarion.api.limits import BodyLimit
from clarion.delivery.runner import SendRunner
from clarion.instance import Instance
from clarion.stores.events.checkpointer import Checkpointer
from clarion.stores.events.keeper import SendFactsKeeper
from clarion.tracking.collector import Collector
from clarion.tracking.intake_workers import IntakePlan, IntakeWorkers
from clarion.web import views as dashboard

MAX_BODY_BYTES = 1_048_576  # a campaign plan is a page; tracking routes set their own limits


@asynccontextmanager
async def _owner_work(
    instance: Instance, intake: IntakePlan | None = None
) -> AsyncIterator[
    tuple[Collector | None, SendRunner | None, SendFactsKeeper | None, IntakeWorkers | None]
]:
    """When this process owns the event store: collect events, send, keep the send facts."""
    if instance.events is None:
        if intake is not None:
            intake.close()
        yield None, None, None, None
        return
    checkpointer = Checkpointer(instance.events)
    await checkpointer.start()
    collector = Collector(instance.events)
    await collector.start()
    workers = None
    if intake is not None:
        workers = IntakeWorkers(collector, instance.settings, intake)
        workers.start()
    runner = SendRunner(instance)  # the worker logs to the event store, so it runs here
    await runner.start()
    keeper = SendFactsKeeper(instance.events)
    await keeper.start()
    try:
        yield collector, runner, keeper, workers
    finally:
        if workers is not None:  # their last requests still need the collector
            await asyncio.to_thread(workers.stop)
        await runner.stop()
        await keeper.stop()
        await collector.stop()  # everything acknowledged is committed before exit
        await checkpointer.stop()


def create_app(
    instance: Instance, *, close_on_shutdown: bool = False, intake: IntakePlan | None = None
) -> FastAPI:
    """The HTTP API over ``instance``; OpenAPI at /openapi.json, docs at /docs.

    With an ``intake`` plan, worker processes take event batches on its port as well.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with _owner_work(instance, intake) as (collector, runner, keeper, workers):
                app.state.collector = collector
                app.state.send_runner = runner
                app.state.send_facts_keeper = keeper
                app.state.intake_workers = workers
                yield
        finally:
            if close_on_shutdown:
                instance.close()  # after the collector's last flush

    app = FastAPI(
        title="Clarion",
        version=__version__,
        description="Self-hosted campaign management. Authenticate with a secret API key.",
        lifespan=lifespan,
    )
    app.state.instance = instance
    app.state.write_keys = WriteKeyCache()
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    # Tracking is called from customers' web pages; keys travel as bearer tokens or in the
    # body, never as cookies, so allowing any origin exposes no ambient credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "POST", "PUT"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=86400,
    )
    app.add_middleware(TrackingFastPath)  # added last, so it runs first
    install_error_handlers(app)
    app.include_router(campaigns.router)
    app.include_router(tracking.router)
    app.include_router(contacts.router)
    app.include_router(segments.router)
    app.include_router(personas.router)
    app.include_router(metrics.router)
    app.include_router(analysis.router)  # funnels, cohorts, paths, attribution, CLV
    app.include_router(snippet.router)
    app.include_router(sends.router)
    app.include_router(content.router)
    app.include_router(experiments.router)
    app.include_router(unsubscribe.router)
    app.include_router(feedback.router)
    app.include_router(budget.router)
    app.include_router(spend.router)  # spend exports uploaded over HTTP
    app.include_router(reports.router)
    app.include_router(dashboard.router)  # the web dashboard under /dashboard
    app.add_exception_handler(dashboard.NeedsLogin, dashboard.needs_login)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the server answers."""
        return {"status": "ok", "version": __version__}

    return app
