"""Scenario files: a market in YAML, read into a Scenario, bad and hostile input refused by path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from clarion.cli.main import app
from clarion.core.errors import InvalidInput
from clarion.delivery.ad_platform import UnitKey
from clarion.simulate.email_behaviour import email_truth
from clarion.simulate.market import Scenario
from clarion.simulate.population import generate_population
from clarion.simulate.scenario_file import load_scenario_file, load_scenario_text, logistic
from clarion.simulate.web_behaviour import sessions

from shared_paths import EXAMPLES


def test_the_example_reads_into_a_scenario_with_its_personas_rates_and_curves() -> None:
    scenario = load_scenario_file(EXAMPLES / "scenario.yaml")
    assert (scenario.contacts, scenario.days, scenario.seed) == (2000, 14, 1)
    assert [p.key for p in scenario.personas] == ["ops-manager", "founder"]
    assert scenario.personas[0].label.startswith("Operations manager")  # from personas.yaml
    assert scenario.weights == (2.0, 1.0)
    email = scenario.email
    assert logistic(email.open_base) == pytest.approx(0.23)
    assert logistic(email.open_base + email.persona_open["ops-manager"]) == pytest.approx(0.30)
    assert logistic(email.click_base + email.persona_click["ops-manager"]) == pytest.approx(0.20)
    assert "founder" not in email.persona_click  # no rate of its own: the file-wide one
    assert email.subject_open == {"b": 0.3}
    web = scenario.web
    assert logistic(web.step[4] + web.persona_purchase["ops-manager"]) == pytest.approx(0.75)
    assert web.persona_order_value == {"ops-manager": 150.0}
    assert scenario.population.privacy_proxy_share == 0.35
    assert scenario.paid_curves is not None
    search = scenario.paid_curves[UnitKey("search", "search-ops", "ops-managers")]
    assert (search.top, search.half, search.shape, search.decay) == (12.0, 400.0, 0.8, 0.3)


def test_an_empty_file_is_the_default_scenario() -> None:
    scenario = load_scenario_text("")
    default = Scenario(contacts=2000, days=14, seed=1, start=scenario.start)
    assert scenario == default
    assert scenario.paid_curves is None  # the paid market is then drawn from the seed


def test_persona_rates_change_what_the_simulated_people_do() -> None:
    scenario = load_scenario_text(
        """
personas:
  - {persona: {key: keen, label: Keen}, open_rate: 0.6, click_rate: 0.5, order_value: 400}
  - {persona: {key: cool, label: Cool}, open_rate: 0.05, click_rate: 0.05, order_value: 40}
"""
    )
    people = generate_population(scenario.personas, 4000, seed=3)
    everyone = np.arange(people.size, dtype=np.int64)
    truth = email_truth(
        people,
        everyone,
        variant="a",
        utc_hour=3.0,
        recent_sends=np.zeros(people.size, dtype=np.int64),
        parameters=scenario.email,
    )
    keen = people.persona == 0
    assert truth.open[keen].mean() > 5 * truth.open[~keen].mean()
    assert truth.click[keen].mean() > 5 * truth.click[~keen].mean()
    visits = sessions(people, everyone, "click", seed=3, batch=1, parameters=scenario.web)
    bought = visits.purchased
    assert np.median(visits.order_value[bought & keen]) > 6 * np.median(
        visits.order_value[bought & ~keen]
    )


BAD_FIELDS = [
    ("market: {contacts: 2000000}", "market.contacts", "less than or equal"),
    ("market: {contacts: '12'}", "market.contacts", "integer"),
    ("market: {days: true}", "market.days", "integer"),
    ("market: {variants: [a, a]}", "market.variants", "once"),
    ("market: {start: yesterday}", "market.start", "date"),
    ("email: {open_rate: 1.0}", "email.open_rate", "less than 1"),
    ("email: {open_rate: .nan}", "email.open_rate", "finite"),
    ("email: {click_rate: [0.2]}", "email.click_rate", "number"),
    ("email: {opne_rate: 0.2}", "email.opne_rate", "unknown field"),
    ("email: {subject_lift: {B: 0.3}}", "email.subject_lift.B", "pattern"),
    ("personas: [{key: nobody}]", "personas[0].key", "not found"),
    ("personas: [{weight: 2}]", "personas[0]", "either key"),
    ("personas: [{persona: {key: x, label: X, channels: [fax]}}]", "personas[0].persona", ""),
    ("population: {activity: {hours: {min: 9, max: 3}}}", "population.activity.hours", "above"),
    ("population: {machine_open_share: 1.5}", "population.machine_open_share", "less than"),
    ("paid: {daily_budget: -5}", "paid.daily_budget", "greater than or equal"),
    (
        "paid: {units: [{channel: search, ad_set: x, top: 1.0e+400, half: 10}]}",
        "paid.units[0].top",
        "finite",
    ),
    (
        "paid: {units: [{channel: search, ad_set: x, top: 1, half: 10, decay: 1}]}",
        "paid.units[0].decay",
        "less than 1",
    ),
    (
        "paid: {units: [{channel: s, ad_set: x, top: 1, half: 9}, {channel: s, ad_set: x, "
        "top: 2, half: 9}]}",
        "paid.units",
        "once",
    ),
    ("[1, 2, 3]", "(root)", "mapping"),
]


@pytest.mark.parametrize(("text", "path", "words"), BAD_FIELDS)
def test_a_bad_field_is_refused_with_its_path(text: str, path: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_scenario_text(text, "rehearsal.yaml")
    problems = {p.path: p.problem for p in caught.value.problems}
    assert any(found.startswith(path) for found in problems), problems
    assert words in " ".join(problems.values())
    assert "rehearsal.yaml" in str(caught.value)


def test_every_bad_field_is_listed_not_only_the_first() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_scenario_text("market: {days: 0}\nemail: {fatigue: -1}\nweb: {funnel: {x: 1}}")
    paths = [p.path for p in caught.value.problems]
    assert paths == ["market.days", "email.fatigue", "web.funnel.x"]


HOSTILE = [
    (
        'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        "c: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
        "aliases",
    ),
    ("market: " + "[" * 40 + "]" * 40, "nested more than"),
    ("market: !!python/object/apply:os.system ['echo pwned']", "malformed YAML"),
    ("market: {campaign: '" + "x" * 300_000 + "'}", "larger than"),
    ('market: {campaign: "<script>alert(1)</script>"}', "pattern"),
    ('market: {campaign: "x\'; drop table contacts; --"}', "pattern"),
    ("---\nmarket: {}\n---\nmarket: {}\n", "malformed YAML"),
]


@pytest.mark.parametrize(("text", "words"), HOSTILE)
def test_hostile_input_is_refused_without_harm(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_scenario_text(text, "hostile.yaml")
    assert words in str(caught.value) + " ".join(p.problem for p in caught.value.problems)


def test_a_file_that_is_not_utf8_or_missing_is_named(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"market: {campaign: \xff\xfe}\n")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_scenario_file(binary)
    with pytest.raises(InvalidInput, match="no such file"):
        load_scenario_file(tmp_path / "absent.yaml")
    (tmp_path / "uses.yaml").write_text("personas_file: gone.yaml\npersonas: [{key: a}]\n")
    with pytest.raises(InvalidInput, match=r"gone\.yaml.*no such file"):
        load_scenario_file(tmp_path / "uses.yaml")


def test_a_persona_in_the_personas_file_is_checked_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "people.yaml").write_text("personas:\n  - {key: ok, label: Ok}\n  - {key: Bad}\n")
    (tmp_path / "s.yaml").write_text("personas_file: people.yaml\npersonas: [{key: ok}]\n")
    with pytest.raises(InvalidInput) as caught:
        load_scenario_file(tmp_path / "s.yaml")
    assert any(p.path.startswith("people.yaml:personas[1]") for p in caught.value.problems)


def test_simulate_runs_a_scenario_file_and_the_options_override_it(tmp_path: Path) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(
        """
market: {contacts: 5000, days: 9, seed: 2, variants: [plain, bold]}
email: {subject_lift: {bold: 0.5}}
paid:
  daily_budget: 100
  units:
    - {channel: search, ad_set: only-search, top: 5, half: 200}
"""
    )
    args = ["simulate", "--scenario", str(scenario), "--contacts", "120", "--days", "1"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    metrics = [row["metric"] for row in report["rates"]]
    assert "click rate bold" in metrics and "click rate plain" in metrics
    assert [(u["channel"], u["ad_set"]) for u in report["paid"]] == [("search", "only-search")]
    assert report["paid"][0]["cost"] == 100.0
    assert math.isfinite(report["paid"][0]["true_cpa"])


def test_simulate_names_the_bad_field_of_a_scenario_file(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("email: {open_rate: 7}\n")
    result = CliRunner().invoke(app, ["simulate", "--scenario", str(scenario)])
    assert result.exit_code == 1
    assert "email.open_rate" in result.output and "Traceback" not in result.output
