"""The demo's campaign team inside the market: sends through the API, budgets by the allocator."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import httpx
import numpy as np

from clarion.delivery.ad_platform import UnitReport
from clarion.instance import Instance
from clarion.optimize import service as budget
from clarion.simulate.ad_platforms import SimulatedAdPlatform
from clarion.simulate.spend_rows import record_reports

SEND_TIMEOUT: Final = 600.0  # seconds of real time a send may take before the demo gives up
POLL: Final = 0.5  # seconds between progress reads: each one counts the outbox rows
ALLOCATOR: Final = "allocator"


class CampaignDirector:
    """Starts each email step over HTTP as an operator would and lets `clarion serve` send it;
    feeds each day's spend reports to the event store and lets the allocator move tomorrow's
    budget in auto-apply mode through the simulated platforms."""

    def __init__(
        self,
        instance: Instance,
        *,
        workspace_id: str,
        campaign: str,
        secret_key: str,
        schedule: Mapping[int, Sequence[tuple[datetime, str]]],
        platforms: Sequence[SimulatedAdPlatform],
        days: int,
        seed: int,
        daily: Decimal,
    ) -> None:
        self.instance = instance
        self.workspace_id = workspace_id
        self.campaign = campaign
        self.schedule = schedule
        self.platforms = platforms
        self.days = days
        self.daily = daily
        self.rng = np.random.default_rng([seed, 11])
        self.auth = {"Authorization": f"Bearer {secret_key}"}
        self.sends_done: list[dict[str, Any]] = []
        self.budget_moves = 0

    def prepare(self, web: httpx.Client) -> None:
        """Day 0's budgets: the plan's even split over the units, applied to the platforms."""
        state = budget.budget_state(self.instance.store, self.workspace_id, self.campaign)
        per_unit = (self.daily / len(state.units)).quantize(Decimal("0.01"))
        split = {u.name: min(max(per_unit, u.min_daily), u.max_daily) for u in state.units}
        change = budget.propose(
            self.instance.store,
            self.workspace_id,
            state.campaign_id,
            split,
            reason="the plan's even split, before any data",
            expected={},
            clock=self.instance.clock,
            ids=self.instance.ids,
            actor=ALLOCATOR,
        )
        budget.apply(
            self.instance.store,
            self.workspace_id,
            state.campaign_id,
            change.id,
            clock=self.instance.clock,
            actor=ALLOCATOR,
            platforms=self.platforms,
            effective=state.start_date,
        )

    def sends(self, day: int) -> Sequence[tuple[datetime, str]]:
        """The email steps due on ``day``."""
        return self.schedule.get(day, ())

    def send(self, step: str, web: httpx.Client) -> None:
        """``POST /v1/campaigns/{ref}/sends`` and wait for the server's sender to finish it."""
        answer = web.post(
            f"/v1/campaigns/{self.campaign}/sends", json={"step": step}, headers=self.auth
        )
        if answer.status_code not in (200, 201):
            raise RuntimeError(
                f"starting step {step!r} answered {answer.status_code}: {answer.text}"
            )
        send_id = answer.json()["id"]
        deadline = time.monotonic() + SEND_TIMEOUT
        while True:
            progress = web.get(f"/v1/sends/{send_id}", headers=self.auth).json()
            # Done when nothing is left but rows waiting out a retry back-off: those go out
            # later in simulated time (the server's sender retries them) and arrive late.
            waiting = progress["remaining"] - progress.get("retrying", 0)
            if progress["state"] not in ("running", "scheduled") or waiting <= 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"step {step!r} did not finish in {SEND_TIMEOUT:.0f} s")
            time.sleep(POLL)
        self.sends_done.append({"step": step, **progress})

    def end_of_day(self, day: int, reports: Sequence[UnitReport]) -> None:
        """Store the day's spend reports, then let the allocator choose tomorrow's split."""
        events = self.instance.open_events()
        state = budget.budget_state(self.instance.store, self.workspace_id, self.campaign)
        for platform in self.platforms:
            record_reports(
                events,
                [r for r in reports if r.unit.channel == platform.channel],
                workspace_id=self.workspace_id,
                source=platform.name,
                clock=self.instance.clock,
                campaign_id=state.campaign_id,
            )
        if day + 2 >= self.days:
            return  # a split chosen now runs from the day after tomorrow: past the end
        observations = budget.observed(
            self.instance.store,
            events,
            self.workspace_id,
            self.campaign,
            now=self.instance.clock.now(),
        )
        change, _ = budget.recommend(
            self.instance.store,
            self.workspace_id,
            self.campaign,
            observations,
            clock=self.instance.clock,
            ids=self.instance.ids,
            rng=self.rng,
            platforms=self.platforms,
        )
        self.budget_moves += 1 if change.status == "applied" else 0
