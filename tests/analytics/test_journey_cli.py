"""`clarion metrics funnel|cohorts|paths|attribution|clv` on a real installation's DuckDB file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from campaign_journeys import PLAN, STEPS, campaign_log, customers
from journey_log import LINKS
from typer.testing import CliRunner, Result

from clarion.cli.main import app
from clarion.core.errors import InvalidInput
from clarion.stores.events import EventStore


@pytest.fixture(scope="module")
def clarion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Result]]:
    """An initialised data directory with the spring campaign, its journeys and 120 buyers."""
    data = tmp_path_factory.mktemp("cli") / "data"
    env = {"CLARION_DATA_DIR": str(data), "COLUMNS": "200"}
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    initialised = run("init")
    assert initialised.exit_code == 0, initialised.output
    workspace_id = initialised.stdout.split("Workspace", 1)[1].split("(")[1].split(")")[0]
    plan = data.parent / "spring.json"
    plan.write_text(json.dumps(PLAN))
    assert run("campaign", "apply", str(plan)).exit_code == 0
    campaign_id = json.loads(run("campaign", "show", "spring", "--json").stdout)["id"]
    rows, _ = campaign_log(workspace_id, campaign_id)
    with EventStore.open(f"duckdb://{data / 'events.duckdb'}") as events:
        events.append("events", rows)
        events.append("events", customers(workspace_id, 80))
        events.append(
            "identities",
            [
                {"workspace_id": workspace_id, "anonymous_id": a, "contact_id": c, "source": "x"}
                for a, c in LINKS.items()
            ],
        )
    yield run


def _json(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, (result.output, result.exception)
    body: dict[str, object] = json.loads(result.stdout)
    return body


def test_funnel_as_json_and_as_a_table(clarion: Callable[..., Result]) -> None:
    run = clarion
    body = _json(run("metrics", "funnel", "spring", "--steps", STEPS, "--window", "7d", "--json"))
    steps = body["steps"]
    assert isinstance(steps, list) and len(steps) == 4 and steps[0]["reached"] > 0
    table = run("metrics", "funnel", "spring", "--steps", STEPS)
    assert table.exit_code == 0, table.output
    assert "page_view ~ /pricing" in table.stdout and "bottleneck" in table.stdout


def test_cohorts_paths_and_attribution_tables(clarion: Callable[..., Result]) -> None:
    run = clarion
    cohorts = run("metrics", "cohorts", "spring", "--weeks", "3")
    assert cohorts.exit_code == 0, cohorts.output
    assert "cohort (Monday)" in cohorts.stdout and "w3" in cohorts.stdout
    paths = run("metrics", "paths", "spring", "--label", "type", "--max-touches", "2")
    assert paths.exit_code == 0, paths.output
    assert "paths to conversion by type" in paths.stdout and "Exits" in paths.stdout
    credit = run("metrics", "attribution", "spring", "--model", "all")
    assert credit.exit_code == 0, credit.output
    for model in ("first_touch", "markov", "position_based"):
        assert model in credit.stdout
    one = _json(run("metrics", "attribution", "spring", "--model", "linear", "--json"))
    assert list(one["models"]) == ["linear"]  # type: ignore[call-overload]


def test_clv_table_and_json(clarion: Callable[..., Result]) -> None:
    run = clarion
    body = _json(run("metrics", "clv", "--horizon", "26", "--json"))
    assert body["customers"] >= 20  # type: ignore[operator]
    table = run("metrics", "clv")
    assert table.exit_code == 0, table.output
    assert "BG/NBD" in table.stdout or "bgnbd" in table.stdout


def test_the_campaign_table_keeps_its_short_form(clarion: Callable[..., Result]) -> None:
    run = clarion
    short = _json(run("metrics", "spring", "--metric", "conversions", "--json"))
    long = _json(run("metrics", "show", "spring", "--metric", "conversions", "--json"))
    assert short == long
    listed = run("metrics", "--help")
    for name in ("show", "funnel", "cohorts", "paths", "attribution", "clv"):
        assert name in listed.stdout


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["funnel", "spring", "--steps", "signup"], "steps"),
        (["funnel", "spring", "--steps", STEPS, "--window", "forever"], "window"),
        (["attribution", "spring", "--model", "magic"], "model"),
        (["attribution", "spring", "--label", "url"], "label"),
        (["paths", "spring", "--top", "0"], "top"),
        (["cohorts", "spring", "--weeks", "500"], "weeks"),
        (["clv", "--discount-rate", "3"], "discount_rate"),
    ],
)
def test_bad_options_name_their_field(
    clarion: Callable[..., Result], args: list[str], field: str
) -> None:
    run = clarion
    result = run("metrics", *args)
    assert isinstance(result.exception, InvalidInput), result.output
    assert field in [p.path for p in result.exception.problems]
