"""The dashboard over HTTP through the ASGI app: sign-in, pages, escaping, no personal data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dashboard_world import NOW, PERSON, apply, csrf_of, plan, sign_in, spring
from fastapi.testclient import TestClient

from clarion.auth import service as auth
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.experiments import service as experiments
from clarion.experiments.design import read_design
from clarion.instance import Instance
from clarion.web.session import COOKIE


@pytest.fixture
def clock() -> SimulatedClock:
    """Ten days into the campaign's month, so sessions opened now stay valid for the test."""
    return SimulatedClock(NOW)


@pytest.fixture
def browser(client: TestClient, secret_key: str) -> TestClient:
    """A client signed in through the form as a viewer, with no Authorization header."""
    return sign_in(client, secret_key)


def test_pages_need_a_session(client: TestClient) -> None:
    client.headers.pop("Authorization")
    for path in (
        "/dashboard/",
        "/dashboard/campaigns/spring",
        "/dashboard/campaigns/spring/report",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/login"


def test_a_bearer_key_alone_does_not_open_the_pages(client: TestClient) -> None:
    response = client.get("/dashboard/", follow_redirects=False)
    assert response.status_code == 303  # pages read the session cookie, never the header


def test_signing_in_sets_a_strict_httponly_cookie(client: TestClient, secret_key: str) -> None:
    client.headers.pop("Authorization")
    token = csrf_of(client.get("/dashboard/login").text)
    response = client.post(
        "/dashboard/login",
        data={"key": secret_key, "role": "analyst", "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert secret_key not in cookie
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "signed in as <b>analyst</b>" in page.text


def test_a_wrong_key_is_refused_with_the_reason(client: TestClient) -> None:
    client.headers.pop("Authorization")
    token = csrf_of(client.get("/dashboard/login").text)
    response = client.post(
        "/dashboard/login", data={"key": "clr_sk_nope", "role": "viewer", "csrf": token}
    )
    assert response.status_code == 401
    assert "unknown API key" in response.text
    assert COOKIE not in response.headers.get("set-cookie", "")


def test_a_login_post_without_the_forms_token_is_refused(
    client: TestClient, secret_key: str
) -> None:
    client.headers.pop("Authorization")
    response = client.post("/dashboard/login", data={"key": secret_key, "role": "viewer"})
    assert response.status_code == 403
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303


def test_an_unknown_role_is_refused(client: TestClient, secret_key: str) -> None:
    client.headers.pop("Authorization")
    token = csrf_of(client.get("/dashboard/login").text)
    response = client.post(
        "/dashboard/login", data={"key": secret_key, "role": "root", "csrf": token}
    )
    assert response.status_code == 422
    assert "Choose one of the roles" in response.text


def test_a_tampered_session_cookie_is_refused(browser: TestClient) -> None:
    value = browser.cookies[COOKIE]
    body, signature = value.split(".")
    forged = body.replace(body[5], "A" if body[5] != "A" else "B", 1) + "." + signature
    browser.cookies.clear()
    browser.cookies.set(COOKIE, forged)
    assert browser.get("/dashboard/", follow_redirects=False).status_code == 303
    browser.cookies.set(COOKIE, "x" * 5000)
    assert browser.get("/dashboard/", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(
    browser: TestClient, instance: Instance, workspace: Workspace
) -> None:
    assert browser.get("/dashboard/").status_code == 200
    for key in auth.list_keys(instance.store, workspace.id):
        auth.revoke_key(instance.store, workspace.id, key.id, clock=instance.clock)
    assert browser.get("/dashboard/", follow_redirects=False).status_code == 303


def test_sessions_expire(browser: TestClient, instance: Instance) -> None:
    assert isinstance(instance.clock, SimulatedClock)
    instance.clock.advance(timedelta(hours=13))
    assert browser.get("/dashboard/", follow_redirects=False).status_code == 303


def test_signing_out_is_a_post_with_the_sessions_token(browser: TestClient) -> None:
    assert browser.get("/dashboard/logout").status_code == 405  # never a state-changing GET
    assert browser.post("/dashboard/logout", data={"csrf": "guess"}).status_code == 403
    token = csrf_of(browser.get("/dashboard/").text)
    response = browser.post("/dashboard/logout", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    assert browser.get("/dashboard/", follow_redirects=False).status_code == 303


def test_the_campaign_list_shows_each_campaign(
    browser: TestClient, instance: Instance, workspace: Workspace
) -> None:
    apply(instance, workspace.id, plan())
    apply(instance, workspace.id, plan(key="autumn", name="Autumn push"))
    page = browser.get("/dashboard/")
    assert page.status_code == 200
    assert 'href="/dashboard/campaigns/spring"' in page.text
    assert "Autumn push" in page.text
    assert "<code>cpa &lt;= 40 EUR</code>" in page.text


def test_the_campaign_page_answers_is_it_on_track(
    browser: TestClient, instance: Instance, workspace: Workspace
) -> None:
    spring(instance, workspace.id)
    page = browser.get("/dashboard/campaigns/spring")
    assert page.status_code == 200, page.text
    assert "data;dur=" in page.headers["server-timing"]  # where the page's time went
    html = page.text
    statuses = dict(re.findall(r'data-metric="(\w+)" data-status="(\w+)"', html))
    assert set(statuses) == {"cpa", "clicks", "conversions", "mqls"}
    assert statuses["mqls"] == "no_data"  # no lifecycle_change events here: said, not guessed
    assert all(s in ("on_track", "off_track", "inconclusive", "no_data") for s in statuses.values())
    assert "95% interval" in html
    assert "expected by now" in html and "pacing" in html
    assert html.count('<svg class="chart') == 5  # three trends, the funnel, the budget
    assert "search" in html and "social" in html
    assert "of 1,500 EUR" in html  # spend against the plan's split
    assert "budget moves is not on this page yet" in html  # said plainly, never faked
    assert 'href="/dashboard/campaigns/spring/report"' in html
    verdict = re.search(r'data-verdict="(\w+)"', html)
    assert verdict and verdict.group(1) in ("good", "bad", "unsure")


def test_spend_far_behind_plan_raises_a_pacing_alert(
    browser: TestClient, instance: Instance, workspace: Workspace
) -> None:
    spring(instance, workspace.id)  # ~1,100 EUR spent of 3,000 × 10.5/31 ≈ 1,016 planned
    big = plan(budget={"total": 30000, "split": {"search": 30000}})
    apply(instance, workspace.id, big)
    html = browser.get("/dashboard/campaigns/spring").text
    assert "Spend is behind plan" in html
    assert "of 30,000 EUR" in html
    assert re.search(r">social<.*?>\d[\d,]* EUR<", html)  # spent outside the split: still shown


def test_a_campaign_without_facts_is_not_called_on_track(
    browser: TestClient, instance: Instance, workspace: Workspace
) -> None:
    apply(instance, workspace.id, plan())
    html = browser.get("/dashboard/campaigns/spring").text
    assert 'data-verdict="good"' not in html
    assert "No data yet" in html or "Inconclusive" in html


def test_hostile_names_are_escaped(
    browser: TestClient, instance: Instance, workspace: Workspace
) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>{{ 7*7 }}'
    apply(
        instance,
        workspace.id,
        plan(name=hostile[:100], objective="\"><svg onload=alert(1)> {% raw %}' OR 1=1 --"),
    )
    for path in (
        "/dashboard/",
        "/dashboard/campaigns/spring",
        "/dashboard/campaigns/spring/report",
    ):
        html = browser.get(path).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<svg onload" not in html
        assert "&lt;script&gt;" in html
        assert "{{ 7*7 }}" in html and ">49<" not in html


def test_unknown_campaigns_get_a_page_not_a_trace(browser: TestClient) -> None:
    response = browser.get("/dashboard/campaigns/%3Cb%3Enope")
    assert response.status_code == 404
    assert "No such campaign here." in response.text
    assert "<b>nope" not in response.text


def test_no_personal_data_reaches_any_page(
    browser: TestClient, instance: Instance, workspace: Workspace, client: TestClient
) -> None:
    spring(instance, workspace.id)
    for path in (
        "/dashboard/",
        "/dashboard/campaigns/spring",
        "/dashboard/campaigns/spring/report",
    ):
        html = browser.get(path).text
        for value in (PERSON["email"], PERSON["first_name"], PERSON["last_name"], "@example.org"):
            assert value not in html
        assert "+4930" not in html


def test_pages_carry_a_strict_content_security_policy(browser: TestClient) -> None:
    response = browser.get("/dashboard/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["cache-control"] == "no-store"
    assert "<script" not in response.text


def test_the_stylesheet_is_served_from_the_app(client: TestClient) -> None:
    response = client.get("/dashboard/static/dashboard.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "http" not in response.text  # nothing fetched from elsewhere


def test_experiments_show_their_state_and_latest_decision(
    browser: TestClient, instance: Instance, workspace: Workspace
) -> None:
    spring(instance, workspace.id)
    for key, name in (("subject-test", "Subject <i>line</i> test"), ("cta-test", "CTA test")):
        design = read_design(
            {
                "key": key,
                "name": name,
                "campaign": "spring",
                "kind": "subject_line",
                "variants": [
                    {"key": "a", "content": {"subject": "Spring is here"}},
                    {"key": "b", "content": {"subject": "Your spring plan, ready"}},
                ],
                "primary_metric": "click_rate",
            }
        )
        experiments.create_experiment(
            instance.store, workspace.id, design, clock=instance.clock, ids=instance.ids, actor="t"
        )
        experiments.start(instance.store, workspace.id, key, clock=instance.clock, actor="t")
    assert instance.events is not None
    experiments.stop(
        instance.store,
        instance.events,
        workspace.id,
        "subject-test",
        clock=instance.clock,
        ids=instance.ids,
        actor="t",
    )
    html = browser.get("/dashboard/campaigns/spring").text
    assert "Subject &lt;i&gt;line&lt;/i&gt; test" in html
    assert '<span class="state">stopped</span>' in html
    assert '<span class="state">running</span>' in html
    assert "No decision recorded yet." in html  # the running one
    assert "Inconclusive:" in html  # the stopped one, in the experiments slice's own words


def test_the_report_page_is_the_post_campaign_report(
    browser: TestClient, instance: Instance, workspace: Workspace
) -> None:
    spring(instance, workspace.id)
    response = browser.get("/dashboard/campaigns/spring/report")
    assert response.status_code == 200, response.text
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    html = response.text
    assert "<script" not in html
    assert "Recommendations" in html or "recommendations" in html
    assert browser.get("/dashboard/campaigns/nope/report").status_code == 404
