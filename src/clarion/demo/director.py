"""The demo's campaign team inside the market: sends through the API, budgets by the allocator."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import httpx
import numpy as np

from clarion.delivery.ad_platform import UnitReport
from clarion.instance import Instance
from clarion.optimize import service as budget
from clarion.optimize.contracts import unit_key_text
from clarion.simulate.ad_platforms import SimulatedAdPlatform

SEND_TIMEOUT: Final = 600.0  # seconds of real time a send may take before the demo gives up
POLL: Final = 0.5  # seconds between progress reads: each one counts the outbox rows
ALLOCATOR: Final = "allocator"
SPEND_HEADER: Final = (
    "date",
    "campaign",
    "channel",
    "ad set",
    "audience",
    "creative",
    "impressions",
    "reach",
    "clicks",
    "cost",
    "currency",
    "conversions",
)


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

    def end_of_day(self, day: int, reports: Sequence[UnitReport], web: httpx.Client) -> None:
        """Upload the day's spend reports (``POST /v1/spend``, as a team would each platform's
        export), then ask the server's allocator for tomorrow's split
        (``POST .../budget/recommend``) and give it to the platforms when it was applied."""
        for platform in self.platforms:
            mine = [r for r in reports if r.unit.channel == platform.channel]
            if mine:
                self._upload(platform.name, mine, web)
        if day + 2 >= self.days:
            return  # a split chosen now runs from the day after tomorrow: past the end
        answer = web.post(
            f"/v1/campaigns/{self.campaign}/budget/recommend",
            json={"seed": int(self.rng.integers(2**31))},
            headers=self.auth,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the allocator answered {answer.status_code}: {answer.text}")
        change = answer.json()["change"]
        if change["status"] == "applied":
            self.budget_moves += 1
            self._push({name: Decimal(amount) for name, amount in change["split"].items()})

    def _upload(self, source: str, reports: Sequence[UnitReport], web: httpx.Client) -> None:
        """One platform's day as Clarion's generic spend CSV, uploaded."""
        lines = [",".join(SPEND_HEADER)]
        lines += [
            ",".join(
                str(cell) if cell is not None else ""
                for cell in (
                    r.day.isoformat(),
                    self.campaign,
                    r.unit.channel,
                    r.unit.ad_set,
                    r.unit.audience,
                    r.creative_id,
                    r.impressions,
                    r.reach,
                    r.clicks,
                    r.cost,
                    r.currency,
                    r.conversions,
                )
            )
            for r in reports
        ]
        name = f"{source}-{reports[0].day.isoformat()}.csv"
        answer = web.post(
            "/v1/spend",
            params={"name": name, "layout": "generic"},
            content="\n".join(lines).encode(),
            headers={**self.auth, "Content-Type": "text/csv"},
        )
        if answer.status_code != 200 or answer.json()["rows_rejected"]:
            raise RuntimeError(f"uploading {name} answered {answer.status_code}: {answer.text}")

    def _push(self, split: Mapping[str, Decimal]) -> None:
        """An applied split to the simulated platforms, from tomorrow (as ``budget.apply``
        does for the platforms a server is connected to)."""
        state = budget.budget_state(self.instance.store, self.workspace_id, self.campaign)
        by_name = {u.name: u.key for u in state.units}
        effective = max(self.instance.clock.now().date() + timedelta(days=1), state.start_date)
        for platform in self.platforms:
            runs = {unit_key_text(k) for k in platform.units()}
            budgets = {by_name[n]: amount for n, amount in split.items() if n in runs}
            if budgets:
                platform.set_daily_budgets(budgets, effective)
