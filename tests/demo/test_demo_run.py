"""`clarion demo` at CI size: the whole loop runs and its report is judged against the truth."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clarion.api.app import create_app
from clarion.auth import service as auth
from clarion.auth.contracts import KeyKind
from clarion.cli.main import app
from clarion.core.errors import InvalidInput
from clarion.demo.run import DemoOptions, run_demo
from clarion.instance import open_instance
from clarion.settings import Settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("demo") / "run"
    answer = CliRunner().invoke(
        app,
        ["demo", "--contacts", "2000", "--days", "7", "--no-serve", "--out", str(out), "--json"],
    )
    assert answer.exit_code == 0, answer.output
    summary = json.loads(answer.stdout)
    return {"out": out, "summary": summary, "report": json.loads((out / "report.json").read_text())}


def test_every_kpi_has_a_value_and_a_verdict(demo: dict[str, object]) -> None:
    report = demo["report"]
    assert isinstance(report, dict)
    assert {k["metric"] for k in report["kpis"]} >= {"cpa", "open_rate", "click_rate", "roas"}
    for kpi in report["kpis"]:
        assert kpi["actual"]["value"] is not None, kpi
        assert kpi["verdict"] in ("met", "missed", "inconclusive"), kpi


def test_every_hypothesis_has_a_verdict(demo: dict[str, object]) -> None:
    report = demo["report"]
    assert isinstance(report, dict)
    assert len(report["hypotheses"]) == 2
    for hypothesis in report["hypotheses"]:
        assert hypothesis["verdict"], hypothesis


def test_the_subject_line_decision_agrees_with_the_truth_or_says_inconclusive(
    demo: dict[str, object],
) -> None:
    report = demo["report"]
    assert isinstance(report, dict)
    truth = report["simulation"]["truth"]
    assert truth["true_best_variant"] in ("a", "b")
    assert truth["decision"] in ("winner", "inconclusive", "guardrail_breached", "srm_blocked")
    if truth["decision"] == "winner":
        assert truth["decision_winner"] == truth["true_best_variant"]
    assert truth["agrees_with_truth"] is True


def test_the_allocator_regret_is_reported_and_the_budget_was_spent(
    demo: dict[str, object],
) -> None:
    report = demo["report"]
    assert isinstance(report, dict)
    regret = report["simulation"]["allocator_regret"]
    assert 0.0 <= regret["regret"] < 1.0
    assert regret["spent"] == pytest.approx(600.0 * 7, rel=0.01)  # the paid budget, all of it


def test_mail_went_through_the_real_sender_and_every_format_was_written(
    demo: dict[str, object],
) -> None:
    summary, out = demo["summary"], demo["out"]
    assert isinstance(summary, dict) and isinstance(out, Path)
    steps = {s["step"]: s for s in summary["sends"]}
    assert steps["teaser"]["sent"] > 1500  # 2,000 people, most with email consent
    assert steps["teaser"]["failed"] > 0  # the market's bad addresses bounce at RCPT
    assert steps["teaser"]["remaining"] == steps["teaser"]["retrying"]  # soft bounces wait
    assert "nurture" in steps
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "<svg" in (out / "report.html").read_text()
    assert (out / "plan" / "campaign.yaml").exists()


def test_the_demo_refuses_a_directory_in_use_and_impossible_sizes(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(InvalidInput, match="not empty"):
        run_demo(DemoOptions(out=tmp_path, contacts=2000, days=7))
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    with pytest.raises(InvalidInput, match="--days"):
        run_demo(DemoOptions(out=tmp_path / "new", contacts=2000, days=1))
    assert not (tmp_path / "new").exists()


def test_the_dashboard_over_the_demo_installation_answers_is_it_on_track(
    demo: dict[str, object],
) -> None:
    out = demo["out"]
    assert isinstance(out, Path)
    data = out / "data"
    settings = Settings(
        data_dir=data,
        app_store_url=f"sqlite:///{data / 'clarion.db'}",
        event_store_url=f"duckdb://{data / 'events.duckdb'}",
    )
    instance = open_instance(settings)
    try:
        instance.open_events()
        workspace = instance.workspace(auth.DEFAULT_WORKSPACE)
        key = auth.create_key(
            instance.store,
            workspace.id,
            KeyKind.SECRET,
            pepper=instance.pepper,
            clock=instance.clock,
            ids=instance.ids,
            label="test",
        ).plaintext
        with TestClient(create_app(instance)) as client:
            form = client.get("/dashboard/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            signed = client.post(
                "/dashboard/login",
                data={"key": key, "role": "viewer", "csrf": csrf.group(1)},
                follow_redirects=False,
            )
            assert signed.status_code == 303
            listing = client.get("/dashboard/")
            assert listing.status_code == 200 and "demo-spring-launch" in listing.text
            page = client.get("/dashboard/campaigns/demo-spring-launch")
            assert page.status_code == 200
            assert "<svg" in page.text and "open_rate" in page.text.replace(" ", "_").lower()
            assert "@s7.example.com" not in page.text  # no one's address on an aggregate page
            report = client.get("/dashboard/campaigns/demo-spring-launch/report")
            assert report.status_code == 200 and "Budget moved toward" in report.text
    finally:
        instance.close()
