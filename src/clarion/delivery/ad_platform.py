"""The one shape every paid channel has: daily budgets in, delivery reports out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class UnitKey:
    """An allocation unit on a platform: a channel's ad set aimed at one audience."""

    channel: str  # search, social, display...
    ad_set: str
    audience: str | None = None


@dataclass(frozen=True)
class UnitReport:
    """What the platform reports for one unit and one day (the shape of an ``ad_spend`` row)."""

    unit: UnitKey
    day: date
    cost: Decimal
    currency: str
    impressions: int
    clicks: int
    reach: int | None = None
    conversions: int | None = None  # platform-attributed; Clarion counts its own from events
    creative_id: str | None = None


class AdPlatform(Protocol):
    """A paid channel: Clarion sets daily budgets per unit and reads back what was delivered."""

    name: str  # the ``source`` of the spend rows it reports, e.g. ``simulated_search``

    def units(self) -> Sequence[UnitKey]:
        """The units this platform runs for the campaign."""
        ...

    def set_daily_budgets(self, budgets: Mapping[UnitKey, Decimal], effective: date) -> None:
        """Budgets per unit from ``effective`` on; a unit left out keeps its budget."""
        ...

    def report(self, day: date) -> Sequence[UnitReport]:
        """What was delivered on ``day`` (a finished day), one row per unit that ran."""
        ...
