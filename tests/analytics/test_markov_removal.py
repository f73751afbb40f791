"""Markov removal effects on a chain small enough to work out by hand."""

from __future__ import annotations

import pytest

from clarion.stats.markov import CONVERSION, NULL, START, removal_effects


def test_a_hand_worked_chain() -> None:
    # Journeys: search > email > conversion, search > null, email > conversion, email > null.
    counts = {
        (START, "search"): 2,
        (START, "email"): 2,
        ("search", "email"): 1,
        ("search", NULL): 1,
        ("email", CONVERSION): 2,
        ("email", NULL): 1,
    }
    found = removal_effects(counts)

    # P(conv) = ½·(½·⅔) + ½·⅔ = ½; without email nothing converts; without search ½·⅔ = ⅓.
    assert found.conversion_probability == pytest.approx(0.5)
    assert found.effects["email"] == pytest.approx(1.0)
    assert found.effects["search"] == pytest.approx(1 - (1 / 3) / 0.5)
    assert found.shares() == pytest.approx({"email": 0.75, "search": 0.25})


def test_loops_and_dead_ends_do_not_break_the_solve() -> None:
    counts = {
        (START, "a"): 3,
        ("a", "a"): 2,
        ("a", "b"): 1,
        ("b", CONVERSION): 1,
        ("a", NULL): 2,
        (START, "c"): 1,
        ("c", NULL): 1,
    }
    found = removal_effects(counts)
    assert 0 < found.conversion_probability < 1
    assert found.effects["c"] == pytest.approx(0.0)
    assert found.effects["a"] == pytest.approx(1.0) and found.effects["b"] == pytest.approx(1.0)


def test_no_conversion_gives_no_credit() -> None:
    found = removal_effects({(START, "a"): 1, ("a", NULL): 1})
    assert found.conversion_probability == 0 and found.shares() == {"a": 0.0}
