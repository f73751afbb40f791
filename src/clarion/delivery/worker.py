"""The send worker: claim a batch, re-check, render, mark `sending`, hand over, record, log."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clarion.content.contracts import EmailRenderer, RenderFailed
from clarion.core.clock import Clock
from clarion.core.errors import ClarionError
from clarion.delivery import eventlog, outbox, recipients
from clarion.delivery.compose import Composer
from clarion.delivery.contracts import Send, SendState
from clarion.delivery.dkim import DkimKey
from clarion.delivery.messenger import DeliveryResult, Messenger, Outgoing
from clarion.delivery.mime import envelope_for
from clarion.delivery.outbox import Claimed, Finished, Outcome
from clarion.delivery.tables import outbox_messages, sends
from clarion.delivery.variants import StepExperiment, variant_options
from clarion.settings import SmtpSettings
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore
from clarion.tracking.contracts import TrackedMessage
from clarion.tracking.tables import tracked_messages

MAX_ATTEMPTS: Final = 3  # a temporary refusal is retried on later batches, then it fails

RendererFactory = Callable[[Send], EmailRenderer]  # the template of a send's step
ProgressHook = Callable[[str], None]  # told the send id after every group


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs besides the stores: SMTP settings, keys, URLs, its own name."""

    smtp: SmtpSettings
    signing_key: bytes
    public_url: str
    worker_id: str
    dkim: DkimKey | None = None
    lease: timedelta = timedelta(minutes=5)


@dataclass
class _Group:
    """A group of claimed rows on its way: the composed messages and the rows left out."""

    send: Send
    rows: dict[str, Claimed]  # the group's claimed rows by message id
    now: datetime  # when it was prepared: the instant its skipped rows finished
    outgoing: list[Outgoing]
    tracked: list[TrackedMessage]
    skipped: list[Outcome]
    attempts: dict[str, int]
    domain: str = "localhost"  # the sending domain: the Message-ID's right-hand side


@dataclass
class _Wire:
    """The group handed over last and not settled yet; whoever settles it clears it first."""

    group: _Group | None = None
    sending: asyncio.Task[list[DeliveryResult]] | None = None
    # Rows recorded finished and not yet handed to the event store: they are logged from
    # memory, without reading them back (the sweep in ``log`` finds any a crash left).
    finished: list[Finished] = field(default_factory=list)

    def take_finished(self) -> list[Finished]:
        taken, self.finished = self.finished, []
        return taken


class SendWorker:
    """Sends the outbox rows of running sends, ``in_flight`` at a time, crash-safely."""

    def __init__(
        self,
        store: AppStore,
        events: EventStore,
        messenger: Messenger,
        renderers: RendererFactory,
        *,
        clock: Clock,
        config: WorkerConfig,
        on_progress: ProgressHook | None = None,
    ) -> None:
        self.store = store
        self.events = events
        self.messenger = messenger
        self.renderers = renderers
        self.clock = clock
        self.config = config
        self.on_progress = on_progress
        self._composers: dict[tuple[str, str | None], Composer] = {}
        self._sends: dict[str, Send] = {}

    def recover(self, *, everything: bool) -> tuple[int, int]:
        """Take back rows of dead workers; see ``outbox.recover``."""
        return outbox.recover(self.store, now=self.clock.now(), everything=everything)

    async def run_pending(self, stop: asyncio.Event | None = None) -> int:
        """Work through every running send that is due; the number of rows handed over."""
        handed = 0
        for send in await asyncio.to_thread(outbox.list_sends, self.store, None, SendState.RUNNING):
            handed += await self.run_send(send.id, stop)
        return handed

    async def run_send(self, send_id: str, stop: asyncio.Event | None = None) -> int:
        """Send until nothing is left to claim (done, paused, cancelled, not yet due or stopped)."""
        with _responsive_loop.during_send():
            return await self._run_send(send_id, stop)

    async def _run_send(self, send_id: str, stop: asyncio.Event | None) -> int:
        handed = 0
        cfg = self.config.smtp
        # The last batch's rows go to the event store while the next batch is sent, and its
        # last group is still on the wire while the next batch is claimed and prepared.
        logging: asyncio.Task[None] | None = None
        wire = _Wire()
        try:
            while stop is None or not stop.is_set():
                claimed = await asyncio.to_thread(
                    outbox.claim,
                    self.store,
                    send_id,
                    worker=self.config.worker_id,
                    limit=cfg.batch_size,
                    lease=self.config.lease,
                    now=self.clock.now(),
                )
                if not claimed:
                    if wire.group is None:
                        break
                    # The group still on the wire may put rows back in the queue (a retry
                    # due at once): settle it, then look again.
                    await self._settle(send_id, wire)
                    continue
                try:
                    handed += await self._batch(send_id, claimed, stop, wire)
                except ClarionError:
                    # The step cannot be sent as it is (its template is gone, say): pause the
                    # send with its rows back in the queue, and let the caller tell the operator.
                    await asyncio.to_thread(self._release, [c.id for c in claimed])
                    await asyncio.to_thread(self._pause, send_id)
                    raise
                if logging is not None:
                    await logging
                rows = wire.take_finished()
                logging = asyncio.create_task(asyncio.to_thread(self._log, send_id, rows))
        finally:
            await self._settle(send_id, wire)
            if logging is not None:
                await logging
        await asyncio.to_thread(self._log, send_id, wire.take_finished())
        await asyncio.to_thread(self.log, send_id)
        await asyncio.to_thread(outbox.finish_if_done, self.store, send_id, now=self.clock.now())
        self._notify(send_id)
        return handed

    async def _batch(
        self, send_id: str, claimed: Sequence[Claimed], stop: asyncio.Event | None, wire: _Wire
    ) -> int:
        """Hand the batch over group by group; the next group is prepared while the last one
        is on the wire, so at most two groups are ever in `sending`. The batch's last group
        is left on ``wire``, still going out while the next batch is claimed."""
        handed = 0
        step = self.config.smtp.in_flight
        # The recipients' fields are read once per batch; whether each may be sent to is
        # re-checked per group, just before it goes out.
        people = await asyncio.to_thread(
            recipients.load,
            self.store,
            self._send(send_id).workspace_id,
            [c.contact_id for c in claimed],
        )
        for start in range(0, len(claimed), step):
            group = claimed[start : start + step]
            if stop is not None and stop.is_set():
                await asyncio.to_thread(self._release, [c.id for c in claimed[start:]])
                break
            prepared = await asyncio.to_thread(self._prepare, send_id, group, people)
            wire.finished += outbox.finished(
                prepared.send, prepared.skipped, prepared.rows, now=prepared.now
            )
            sending = asyncio.create_task(self._hand_over(prepared))
            await self._settle(send_id, wire)
            wire.group, wire.sending = prepared, sending
            handed += len(prepared.outgoing)
        return handed

    async def _hand_over(self, group: _Group) -> list[DeliveryResult]:
        return await self.messenger.send_batch(group.outgoing) if group.outgoing else []

    async def _settle(self, send_id: str, wire: _Wire) -> None:
        """Wait for the group on the wire, if any, and record what became of it."""
        group, sending = wire.group, wire.sending
        if group is None or sending is None:
            return
        wire.group = wire.sending = None  # settled once, even if recording fails
        results = await sending
        wire.finished += await asyncio.to_thread(self._record, group, results)
        self._notify(send_id)

    def _notify(self, send_id: str) -> None:
        if self.on_progress is not None:
            self.on_progress(send_id)

    def _composer(self, send: Send, variant: str | None = None) -> Composer:
        """The composer of a send's variant: the step as the variant changes it (an
        experiment's subject line or template), built once per send and variant."""
        composer = self._composers.get((send.id, variant))
        if composer is None:
            options, smtp = variant_options(send.options, variant), self.config.smtp
            envelope = envelope_for(
                options.get("from_address") or smtp.from_address,
                reply_to=options.get("reply_to"),
                domain=smtp.sending_domain,
                unsubscribe_mailto=smtp.unsubscribe_mailto,
                dkim=self.config.dkim,
            )
            composer = Composer(
                renderer=self.renderers(replace(send, options=options)),
                envelope=envelope,
                signing_key=self.config.signing_key,
                public_url=self.config.public_url,
                utm=options.get("utm") or {},
                workspace_id=send.workspace_id,
                campaign_id=send.campaign_id,
            )
            self._composers[(send.id, variant)] = composer
        return composer

    def _prepare(
        self, send_id: str, claimed: Sequence[Claimed], people: Mapping[str, dict[str, Any]]
    ) -> _Group:
        """Re-check each recipient now, compose the allowed ones and mark them `sending`."""
        send = self._send(send_id)
        now = self.clock.now()
        smtp = self.config.smtp
        refused = recipients.refusals(
            self.store,
            send.workspace_id,
            [c.contact_id for c in claimed],
            now=now,
            cap=smtp.frequency_cap,
            cap_days=smtp.frequency_cap_days,
        )
        rows = {c.id: c for c in claimed}
        group = _Group(send, rows, now, [], [], [], {}, self._composer(send).envelope.domain)
        for row in claimed:
            reason = refused.get(row.contact_id)
            contact = people.get(row.contact_id)
            if reason is None and (contact is None or not contact.get("email")):
                reason = "no_address: the contact has no email address"
            if reason is not None:
                group.skipped.append(Outcome(row.id, "skipped", detail=reason))
                continue
            assert contact is not None
            try:
                composer = self._composer(send, row.variant)
                payload, tracked = composer.compose(row.id, contact, row.variant, now)
            except RenderFailed as error:
                group.skipped.append(Outcome(row.id, "failed", detail=f"render failed: {error}"))
                continue
            group.outgoing.append(Outgoing(row.id, str(contact["email"]), payload))
            group.tracked.append(tracked)
            group.attempts[row.id] = row.attempts + 1
        with self.store.transaction() as conn:
            state = conn.execute(select(sends.c.state).where(sends.c.id == send_id)).scalar_one()
            if state == SendState.CANCELLED.value:  # cancelled meanwhile: nothing goes out
                group.skipped = [
                    Outcome(c.id, "cancelled", detail="send cancelled") for c in claimed
                ]
                group.outgoing, group.tracked = [], []
            else:
                _register(conn, group.tracked, self.store.dialect)
                outbox.mark_sending(conn, [m.message_id for m in group.outgoing], now=now)
            outbox.record_in(conn, group.skipped, now=now)
        return group

    def _send(self, send_id: str) -> Send:
        known = self._sends.get(send_id)
        if known is not None:
            return known
        with self.store.reading() as conn:
            workspace_id = conn.execute(
                select(sends.c.workspace_id).where(sends.c.id == send_id)
            ).scalar_one()
        send = outbox.get_send(self.store, workspace_id, send_id)
        self._sends[send_id] = send  # what is read from it (options, ids) never changes
        return send

    def _record(self, group: _Group, results: Sequence[DeliveryResult]) -> list[Finished]:
        """Store each result as soon as the group is answered (the in-doubt window closes);
        the rows that are finished now."""
        domain = group.domain
        done: list[Outcome] = []
        retry: list[str] = []
        for result in results:
            if result.accepted:
                # No provider id: the Message-ID stands for it (filled in by the statement).
                done.append(Outcome(result.message_id, "sent", result.provider_id, result.detail))
            elif result.permanent or group.attempts.get(result.message_id, 1) >= MAX_ATTEMPTS:
                done.append(Outcome(result.message_id, "failed", None, result.detail))
            else:
                retry.append(result.message_id)
        now = self.clock.now()
        outbox.record(self.store, done, now=now, domain=domain)
        finished = outbox.finished(group.send, done, group.rows, now=now, domain=domain)
        if retry:
            # The server may have taken a message before the connection failed: count it.
            # Each row waits before its next try, twice as long after every attempt.
            by_attempt: dict[int, list[str]] = {}
            for message_id in retry:
                by_attempt.setdefault(group.attempts.get(message_id, 1), []).append(message_id)
            with self.store.transaction() as conn:
                for attempts, ids in by_attempt.items():
                    conn.execute(
                        update(outbox_messages)
                        .where(outbox_messages.c.id.in_(ids))
                        .values(
                            state="queued",
                            claimed_by=None,
                            lease_until=None,
                            in_doubt=outbox_messages.c.in_doubt + 1,
                            next_attempt_at=now + self.retry_delay(attempts),
                        )
                    )
        return finished

    def retry_delay(self, attempts: int) -> timedelta:
        """How long a row waits after its ``attempts``-th temporary refusal."""
        return timedelta(seconds=self.config.smtp.retry_seconds * 2 ** max(attempts - 1, 0))

    def _pause(self, send_id: str) -> None:
        send = self._send(send_id)
        outbox.move(self.store, send.workspace_id, send_id, SendState.PAUSED, clock=self.clock)

    def _release(self, message_ids: Sequence[str]) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                update(outbox_messages)
                .where(outbox_messages.c.id.in_(message_ids), outbox_messages.c.state == "claimed")
                .values(state="queued", claimed_by=None, lease_until=None)
            )

    def _log(self, send_id: str, rows: Sequence[Finished]) -> None:
        """Write rows this worker has just recorded finished, then mark them logged."""
        if rows:
            send = self._send(send_id)
            eventlog.write(self.events, rows, arms=StepExperiment.from_options(send.options))
            outbox.mark_logged(self.store, [r.id for r in rows], now=self.clock.now())

    def log(self, send_id: str) -> int:
        """Write finished rows to the event store (message_sends + events, and the exposures
        of an experiment's arms), exactly once."""
        send = self._send(send_id)
        written = 0
        while True:
            rows = outbox.unlogged(self.store, send_id)
            if not rows:
                return written
            eventlog.write(self.events, rows, arms=StepExperiment.from_options(send.options))
            outbox.mark_logged(self.store, [r.id for r in rows], now=self.clock.now())
            written += len(rows)


class _ResponsiveLoop:
    """While sends run, the event loop takes the interpreter back after 0.5 ms, not 5.

    The loop answers SMTP replies; the thread preparing the next group (rendering, signing)
    holds the interpreter for long stretches, and every reply then waited up to the default
    5 ms switch interval: a CPU-bound thread beside the SMTP pool halved its rate in a
    controlled test (decision 0046). The interval is process-wide, so it is restored when
    the last send of the process ends.
    """

    SWITCH: Final = 0.0005  # seconds

    def __init__(self) -> None:
        self._sends = 0
        self._before = sys.getswitchinterval()

    @contextmanager
    def during_send(self) -> Iterator[None]:
        if self._sends == 0:
            self._before = sys.getswitchinterval()
            sys.setswitchinterval(min(self.SWITCH, self._before))
        self._sends += 1
        try:
            yield
        finally:
            self._sends -= 1
            if self._sends == 0:
                sys.setswitchinterval(self._before)


_responsive_loop = _ResponsiveLoop()


def _register(conn: Any, tracked: Sequence[TrackedMessage], dialect: str) -> None:
    """Insert the tracked-message rows not there yet (a resent row keeps its first one), in
    one statement."""
    if not tracked:
        return
    insert_ = sqlite_insert if dialect == "sqlite" else postgresql_insert
    conn.execute(
        insert_(tracked_messages).on_conflict_do_nothing(index_elements=["message_id"]),
        [
            {
                "message_id": t.message_id,
                "workspace_id": t.workspace_id,
                "campaign_id": t.campaign_id,
                "contact_id": t.contact_id,
                "channel": t.channel,
                "variant": t.variant,
                "sent_at": t.sent_at,
                "links": list(t.links),
                "utm": t.utm,
            }
            for t in tracked
        ],
    )
