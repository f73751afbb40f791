"""Clock, ids and money: the framework-free basics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from clarion.core.clock import SimulatedClock
from clarion.core.ids import SeededIds
from clarion.core.money import Money


def test_a_simulated_clock_moves_only_forward_and_only_when_told() -> None:
    clock = SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(days=30))
    assert clock.now() == datetime(2027, 3, 31, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))


def test_seeded_ids_repeat_and_are_prefixed() -> None:
    a, b = SeededIds(1), SeededIds(1)
    first = a.new("cmp")
    assert first == b.new("cmp")
    assert first.startswith("cmp_") and len(first) == 24
    assert a.new("cmp") != first


def test_money_is_exact_in_minor_units() -> None:
    price = Money.of("19.99", "EUR")
    assert price.minor == 1999
    assert (price + Money.of(Decimal("0.01"), "EUR")).minor == 2000
    assert Money.from_minor(1500, "JPY").amount == Decimal(1500)
    with pytest.raises(ValueError, match="cannot combine"):
        price + Money.of(1, "USD")
