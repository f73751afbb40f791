"""A send worker in its own process, for the crash test: recover, then send until killed."""

from __future__ import annotations

import asyncio
import os
import sys

from clarion.core.clock import SystemClock
from clarion.delivery.smtp import SmtpPool
from clarion.delivery.worker import SendWorker, WorkerConfig
from clarion.settings import load_settings
from clarion.stores.app import open_app_store
from clarion.stores.events import EventStore

from delivery_world import GreetingRenderer, smtp_for


async def main(send_id: str, port: int) -> None:
    settings = load_settings()  # CLARION_DATA_DIR comes from the parent
    store = open_app_store(settings.resolved_app_store_url)
    events = EventStore.open(settings.resolved_event_store_url)
    smtp = smtp_for(port, batch_size=500, in_flight=32, max_connections=4)
    pool = SmtpPool(smtp)
    key = settings.secrets.signing_key.get_secret_value().encode()
    worker = SendWorker(
        store,
        events,
        pool,
        lambda send: GreetingRenderer(),
        clock=SystemClock(),
        config=WorkerConfig(smtp, key, "https://go.example.com", f"crash-{os.getpid()}"),
    )
    claimed, doubtful = worker.recover(everything=True)
    print(f"ready {claimed} {doubtful}", flush=True)
    await worker.run_send(send_id)
    await pool.close()
    events.close()
    store.dispose()
    print("finished", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
