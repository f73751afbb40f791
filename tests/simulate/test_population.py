"""Simulated people from personas: reproducible, shaped by the personas, imported as contacts."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from clarion.audiences import service as contacts
from clarion.audiences.personas import parse_persona
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.core.ids import SeededIds
from clarion.simulate.contacts_export import import_population, write_contacts_file
from clarion.simulate.population import (
    CHANNELS,
    GOOD,
    HARD_BOUNCE,
    PopulationParameters,
    generate_population,
)
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

OPS = parse_persona(
    {
        "key": "ops-manager",
        "label": "Ops Manager",
        "demographics": {"age": {"min": 30, "max": 45}, "regions": ["DE", "FR-IDF"]},
        "channels": ["email", "search"],
    }
)
FOUNDER = parse_persona(
    {
        "key": "founder",
        "label": "Founder",
        "demographics": {"regions": ["US"]},
        "channels": ["social"],
    }
)


def test_same_seed_same_people_other_seed_other_people() -> None:
    first = generate_population([OPS, FOUNDER], 5_000, seed=42)
    again = generate_population([OPS, FOUNDER], 5_000, seed=42)
    other = generate_population([OPS, FOUNDER], 5_000, seed=43)
    assert first.same_as(again)
    assert not first.same_as(other)


def test_people_follow_their_persona() -> None:
    people = generate_population([OPS, FOUNDER], 20_000, seed=1, weights=[3, 1])
    ops = people.persona == 0
    assert ops.mean() == pytest.approx(0.75, abs=0.02)
    assert people.age[ops].min() >= 30 and people.age[ops].max() <= 45
    countries = np.array(people.countries)
    assert set(countries[people.country[ops]]) == {"DE", "FR"}
    assert set(countries[people.country[~ops]]) == {"US"}
    assert set(people.utc_offset[~ops]) == {-5.0}
    email, social = CHANNELS.index("email"), CHANNELS.index("social")
    assert people.prefers[ops, email].mean() == pytest.approx(0.8, abs=0.02)
    assert people.prefers[ops, social].mean() == pytest.approx(0.15, abs=0.02)
    assert people.prefers[~ops, social].mean() == pytest.approx(0.8, abs=0.03)


def test_latent_traits_and_bad_addresses_have_the_documented_shares() -> None:
    parameters = PopulationParameters(bad_address_share=0.1, email_consent_share=0.5)
    people = generate_population([OPS], 50_000, seed=2, parameters=parameters)
    assert (people.address != GOOD).mean() == pytest.approx(0.1, abs=0.005)
    hard = (people.address == HARD_BOUNCE).sum() / (people.address != GOOD).sum()
    assert hard == pytest.approx(0.7, abs=0.03)
    assert people.email_consent.mean() == pytest.approx(0.5, abs=0.01)
    assert people.interest.mean() == pytest.approx(2 / 7, abs=0.01)  # Beta(2, 5)
    assert people.interest.min() > 0 and people.interest.max() < 1
    assert set(np.unique(people.active_hours)) == set(range(3, 9))


def test_activity_window_is_in_local_time() -> None:
    people = generate_population([FOUNDER], 1_000, seed=3)  # New York, UTC-5
    index = np.arange(people.size)
    opens = int(people.active_from[0])
    utc_hour = (opens + 5) % 24
    assert people.active_at(index[:1], utc_hour)[0]
    assert not people.active_at(index[:1], (utc_hour - 1) % 24)[0]


def test_a_million_people_in_seconds() -> None:
    started = time.perf_counter()
    people = generate_population([OPS, FOUNDER], 1_000_000, seed=4)
    assert people.size == 1_000_000
    assert time.perf_counter() - started < 10


def test_bad_requests_name_the_problem() -> None:
    with pytest.raises(InvalidInput) as refused:
        generate_population([], 0, seed=1)
    assert {p.path for p in refused.value.problems} == {"personas", "size"}
    with pytest.raises(InvalidInput, match="weights"):
        generate_population([OPS, FOUNDER], 10, seed=1, weights=[1, float("nan")])
    with pytest.raises(InvalidInput, match="size"):
        generate_population([OPS], 1_000_001, seed=1)
    with pytest.raises(InvalidInput, match="bad_address_share"):
        generate_population([OPS], 10, seed=1, parameters=PopulationParameters(bad_address_share=2))


@pytest.fixture
def events(clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open("duckdb://:memory:", clock=clock) as store:
        store.create_schema()
        yield store


def test_the_file_holds_what_a_crm_knows_and_no_latent_trait(tmp_path: Path) -> None:
    people = generate_population([OPS], 3, seed=9)
    text = write_contacts_file(people, tmp_path / "people.csv").read_text()
    header = next(csv.reader(io.StringIO(text)))
    assert header == [
        "external_id",
        "email",
        "country",
        "persona",
        "age",
        "timezone",
        "marketing_email_consent",
    ]
    assert people.email(1) in text and people.external_id(2) in text
    assert "interest" not in text and "address" not in text


def test_people_become_contacts_with_consent_through_the_importer(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
    tmp_path: Path,
) -> None:
    people = generate_population([OPS, FOUNDER], 1_000, seed=5)
    report = import_population(
        store,
        events,
        people,
        tmp_path / "people.csv",
        workspace_id=workspace.id,
        clock=clock,
        ids=ids,
    )
    assert (report.created, report.rejected) == (1_000, 0)
    assert report.consents_recorded == int(people.email_consent.sum())
    found = contacts.find_contact(store, workspace.id, email=people.email(7))
    assert found is not None
    assert found.persona == people.persona_keys[people.persona[7]]
    assert found.attributes["age"] == str(people.age[7])  # CSV attributes are text
    decision = contacts.can_contact(
        store, workspace.id, found.id, "marketing", "email", now=clock.now()
    )
    assert decision.allowed is bool(people.email_consent[7])
    again = import_population(
        store,
        events,
        people,
        tmp_path / "people.csv",
        workspace_id=workspace.id,
        clock=clock,
        ids=ids,
    )
    assert (again.created, again.unchanged) == (0, 1_000)
