"""A child process of the delivery benchmark: run a send (or the ceiling) and report timings.

``python -m benchmarks._delivery_worker pipeline SEND_ID PORT`` sends through the real worker
(render, link signing, pixel, outbox bookkeeping, event-store logging);
``... ceiling COUNT PORT`` feeds the same sink pre-rendered bytes over the same pool.
Prints one JSON line: {"messages": n, "seconds": s}.
"""

from __future__ import annotations

import asyncio
import html
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from clarion.content.contracts import RenderedEmail
from clarion.core.clock import SystemClock
from clarion.delivery.messenger import Outgoing
from clarion.delivery.smtp import SmtpPool
from clarion.delivery.worker import SendWorker, WorkerConfig
from clarion.settings import SmtpSettings, load_settings
from clarion.stores.app import open_app_store
from clarion.stores.events import EventStore

LINKS = (
    "https://shop.example.com/spring?plan=pro",
    "https://docs.example.com/start",
    "https://blog.example.com/2027/spring-launch",
)


class NewsletterRenderer:
    """A newsletter of a few paragraphs, personalised with the contact's name and city."""

    def render(self, contact: Mapping[str, object]) -> RenderedEmail:
        name = str(contact.get("first_name") or "there")
        city = str(contact.get("city") or "your city")
        paragraphs = "".join(
            f"<p>Paragraph {i} for {html.escape(name)} in {html.escape(city)}: spring news, "
            "product updates and an offer worth reading about.</p>"
            for i in range(8)
        )
        links = "".join(f'<p><a href="{html.escape(u)}">Read more</a></p>' for u in LINKS)
        return RenderedEmail(
            subject=f"{name}, the spring edition is here",
            html=f"<html><body><h1>Hello {html.escape(name)}</h1>{paragraphs}{links}</body></html>",
            text=f"Hello {name}\n" + "\n".join(f"Read more: {u}" for u in LINKS),
        )


def smtp(port: int) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        from_address="Spring Team <news@mail.example.com>",
        rate_per_second=0,
        # Sixteen connections, for the worker and the ceiling alike: the worker's loop shares
        # the interpreter with the preparing thread (decision 0046) and hides that latency
        # behind more connections; the ceiling is the same or slightly higher with them.
        max_connections=16,
        batch_size=500,
        in_flight=64,
    )


async def pipeline(send_id: str, port: int) -> dict[str, Any]:
    settings = load_settings()
    store = open_app_store(settings.resolved_app_store_url)
    events = EventStore.open(settings.resolved_event_store_url)
    config = smtp(port)
    pool = SmtpPool(config)
    key = settings.secrets.signing_key.get_secret_value().encode()
    worker = SendWorker(
        store,
        events,
        pool,
        lambda send: NewsletterRenderer(),
        clock=SystemClock(),
        config=WorkerConfig(config, key, "https://go.example.com", "bench"),
    )
    started = time.perf_counter()
    handed = await worker.run_send(send_id)
    seconds = time.perf_counter() - started
    await pool.close()
    events.close()
    store.dispose()
    return {"messages": handed, "seconds": seconds}


async def ceiling(count: int, port: int, sample: bytes) -> dict[str, Any]:
    config = smtp(port)
    pool = SmtpPool(config)
    messages = [Outgoing(f"msg_{i}", f"r{i}@example.org", sample) for i in range(count)]
    started = time.perf_counter()
    for start in range(0, count, config.in_flight):
        await pool.send_batch(messages[start : start + config.in_flight])
    seconds = time.perf_counter() - started
    await pool.close()
    return {"messages": count, "seconds": seconds}


def main() -> None:
    mode, arg, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        import uvloop  # noqa: PLC0415 - the event loop `clarion serve` runs on

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    if mode == "pipeline":
        result = run(pipeline(arg, port))
    else:
        sample = sys.stdin.buffer.read()
        result = run(ceiling(int(arg), port, sample))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
