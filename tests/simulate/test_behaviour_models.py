"""Email and web behaviour: seeded draws whose measured rates converge to their true chances."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from clarion.audiences.personas import parse_persona
from clarion.core.errors import InvalidInput
from clarion.simulate.email_behaviour import EmailParameters, email_outcomes
from clarion.simulate.population import GOOD, PopulationParameters, generate_population
from clarion.simulate.web_behaviour import PAGES, organic_visitors, sessions

OPS = parse_persona({"key": "ops-manager", "label": "Ops", "channels": ["email", "search"]})
DEV = parse_persona({"key": "developer", "label": "Developer", "channels": ["social"]})
PEOPLE = generate_population(
    [OPS, DEV], 60_000, seed=7, parameters=PopulationParameters(bad_address_share=0.05)
)
EVERYONE = np.arange(PEOPLE.size)
NO_SENDS = np.zeros(PEOPLE.size, dtype=np.int64)


def within(successes: int, trials: int, truth: float, z: float = 4.0) -> bool:
    rate = successes / trials
    return abs(rate - truth) <= z * np.sqrt(truth * (1 - truth) / trials)


def send(
    variant: str = "a", hour: float = 9.0, recent: npt.NDArray[np.int64] = NO_SENDS, **p: object
):  # type: ignore[no-untyped-def]
    return email_outcomes(
        PEOPLE,
        EVERYONE,
        variant=variant,
        utc_hour=hour,
        recent_sends=recent,
        seed=1,
        send_number=1,
        parameters=EmailParameters(**p),  # type: ignore[arg-type]
    )


def test_same_seed_same_answers() -> None:
    first, again = send(), send()
    assert np.array_equal(first.human_open, again.human_open)
    assert np.array_equal(first.click, again.click)


def test_measured_open_and_click_rates_converge_to_the_true_chances() -> None:
    sent = send()
    delivered = sent.delivered
    opens = int(sent.human_open.sum())
    assert within(opens, int(delivered.sum()), float(sent.truth.open[delivered].mean()))
    clicks = int(sent.click.sum())
    assert within(clicks, opens, float(sent.truth.click[sent.human_open].mean()))


def test_bad_addresses_bounce_and_proxies_open_every_delivered_message() -> None:
    sent = send()
    assert np.array_equal(sent.bounce, PEOPLE.address)
    assert not (sent.human_open & ~sent.delivered).any()
    assert np.array_equal(sent.machine_open, (PEOPLE.address == GOOD) & PEOPLE.privacy_proxy)
    assert sent.machine_open.mean() == pytest.approx(0.35 * 0.95, abs=0.01)
    assert not (sent.click & ~sent.human_open).any()


def test_subject_persona_hour_and_fatigue_move_the_open_chance() -> None:
    base = send().truth.open.mean()
    assert send(subject_open={"b": 0.5}, variant="b").truth.open.mean() > base + 0.05
    assert send(persona_open={"developer": -1.0}).truth.open.mean() < base - 0.05
    tired = send(recent=np.full(PEOPLE.size, 5, dtype=np.int64))
    assert tired.truth.open.mean() < base - 0.05
    assert tired.truth.unsubscribe.mean() > send().truth.unsubscribe.mean() * 3
    sent = send()
    awake = PEOPLE.active_at(EVERYONE, 9.0)
    assert sent.truth.open[awake].mean() > sent.truth.open[~awake].mean()


def test_complaints_and_unsubscribes_are_rare_and_bad_parameters_refused() -> None:
    sent = send()
    assert 0 < sent.complaint.mean() < 0.005
    assert 0 <= sent.unsubscribe.mean() < 0.01
    with pytest.raises(InvalidInput, match="complaint"):
        EmailParameters(complaint=2)
    with pytest.raises(InvalidInput, match="recent_sends"):
        send(recent=np.zeros(3, dtype=np.int64))


def test_sessions_walk_the_path_and_purchases_converge_to_their_chance() -> None:
    visits = sessions(PEOPLE, EVERYONE, "search", seed=1, batch=0)
    assert visits.pages(0)[0] == "home"
    for position in range(50):
        path = visits.pages(position)
        assert path == list(PAGES[: len(path)])
    buyers = visits.purchased
    assert (visits.reached[buyers] == PAGES.index("checkout")).all()
    assert within(int(buyers.sum()), PEOPLE.size, float(visits.conversion_chance.mean()))
    assert (visits.order_value[buyers] > 0).all() and (visits.order_value[~buyers] == 0).all()
    sensitive = PEOPLE.price_sensitivity > 0.7
    relaxed = PEOPLE.price_sensitivity < 0.3
    assert visits.conversion_chance[sensitive].mean() < visits.conversion_chance[relaxed].mean()


def test_a_click_lands_on_a_product_page_and_converts_more() -> None:
    clicked = sessions(PEOPLE, EVERYONE, "click", seed=1, batch=0)
    searched = sessions(PEOPLE, EVERYONE, "search", seed=1, batch=0)
    assert clicked.pages(0)[0] == "product"
    assert clicked.conversion_chance.mean() > searched.conversion_chance.mean()
    with pytest.raises(InvalidInput, match="entry"):
        sessions(PEOPLE, EVERYONE, "carrier-pigeon", seed=1, batch=0)  # type: ignore[arg-type]


def test_organic_visits_favour_interested_people_who_prefer_the_channel() -> None:
    days = [organic_visitors(PEOPLE, "social", seed=1, day=d) for d in range(20)]
    assert np.array_equal(days[0], organic_visitors(PEOPLE, "social", seed=1, day=0))
    counts = np.bincount(np.concatenate(days), minlength=PEOPLE.size)
    social = PEOPLE.prefers[:, 2]
    assert counts[social].mean() > 2 * counts[~social].mean()
    with pytest.raises(InvalidInput):
        organic_visitors(PEOPLE, "click", seed=1, day=0)
