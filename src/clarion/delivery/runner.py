"""Build the send worker of an installation, and run it in the background of `clarion serve`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Final

from clarion.content.contracts import EmailRenderer
from clarion.content.service import ContentService
from clarion.core.errors import ClarionError
from clarion.delivery.contracts import Send
from clarion.delivery.dkim import DkimKey, load_key
from clarion.delivery.smtp import SmtpPool
from clarion.delivery.worker import ProgressHook, RendererFactory, SendWorker, WorkerConfig
from clarion.instance import Instance
from clarion.settings import Settings

log = logging.getLogger(__name__)
POLL_SECONDS: Final = 1.0


def dkim_key(settings: Settings) -> DkimKey | None:
    """The DKIM key the settings name, or None when signing is not configured."""
    smtp = settings.smtp
    if smtp.dkim_key_file is None:
        return None
    domain = smtp.dkim_domain or smtp.sending_domain
    if domain is None or smtp.dkim_selector is None:
        raise ClarionError(
            "DKIM needs smtp.dkim_selector and smtp.dkim_domain (or smtp.sending_domain) "
            "besides smtp.dkim_key_file",
            {"setting": "smtp.dkim_selector"},
            "invalid_settings",
        )
    return load_key(domain, smtp.dkim_selector, smtp.dkim_key_file)


def content_renderers(content: ContentService) -> RendererFactory:
    """Renderers from the content library: a send's template version, with the subject line
    of its experiment variant when the worker asks for a variant's options."""

    def renderer(send: Send) -> EmailRenderer:
        options = send.options
        return content.email_renderer(
            send.workspace_id,
            options["template"],
            options.get("template_version"),
            subject=options.get("subject"),
        )

    return renderer


def build_worker(
    instance: Instance, *, on_progress: ProgressHook | None = None
) -> tuple[SendWorker, SmtpPool]:
    """A worker over the installation's stores, its SMTP pool, and templates from content."""
    settings = instance.settings
    content = ContentService(instance.store, clock=instance.clock, ids=instance.ids)
    renderer = content_renderers(content)
    pool = SmtpPool(settings.smtp)
    config = WorkerConfig(
        smtp=settings.smtp,
        signing_key=settings.secrets.signing_key.get_secret_value().encode(),
        public_url=settings.public_url,
        worker_id=f"{socket.gethostname()}:{os.getpid()}",
        dkim=dkim_key(settings),
    )
    worker = SendWorker(
        instance.store,
        instance.open_events(),
        pool,
        renderer,
        clock=instance.clock,
        config=config,
        on_progress=on_progress,
    )
    return worker, pool


class SendRunner:
    """The worker inside `clarion serve`: works through running sends, then polls for more."""

    def __init__(self, instance: Instance) -> None:
        self._instance = instance
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for work now (a send was just started or resumed)."""
        self._wake.set()

    async def start(self) -> None:
        worker, pool = build_worker(self._instance)
        # The server owns the embedded event store, so no other worker can be running:
        # everything left in flight by a previous process is taken back now.
        await asyncio.to_thread(worker.recover, everything=True)
        self._task = asyncio.create_task(self._loop(worker, pool))

    async def _loop(self, worker: SendWorker, pool: SmtpPool) -> None:
        try:
            while not self._stop.is_set():
                try:
                    await worker.run_pending(self._stop)
                except ClarionError as error:  # the send is paused; the server goes on
                    log.warning("send paused: %s", error.message)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
        finally:
            await pool.close()

    async def stop(self) -> None:
        """Finish the group on the wire, put claimed rows back, close the connections."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
