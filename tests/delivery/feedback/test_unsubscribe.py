"""One-click unsubscribe (RFC 8058) and the preference page, over real HTTP and both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from feedback_helpers import contact_with_consent, sent_message, stored_events

from clarion.api.app import create_app
from clarion.audiences import service as audiences
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.delivery.unsubscribe import Preferences
from clarion.delivery.unsubscribe_page import preference_page
from clarion.instance import Instance
from clarion.tracking.tokens import TokenClaims, sign

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def web(instance: Instance) -> Iterator[TestClient]:
    with TestClient(create_app(instance), follow_redirects=False) as client:
        yield client


@pytest.fixture
def jane(instance: Instance, workspace: Workspace) -> str:
    return contact_with_consent(
        instance, workspace.id, "jane@example.com", ["marketing:email", "newsletter:email"]
    )


@pytest.fixture
def token(instance: Instance, workspace: Workspace, jane: str) -> str:
    sent_message(instance, workspace.id, jane)
    key = instance.settings.secrets.signing_key.get_secret_value().encode()
    return sign(TokenClaims("u", "msg_1"), key)


def can_email(instance: Instance, workspace: Workspace, contact_id: str, purpose: str) -> bool:
    decision = audiences.can_contact(
        instance.store, workspace.id, contact_id, purpose, "email", now=instance.clock.now()
    )
    return decision.allowed


def test_one_click_unsubscribe_stops_every_later_send_and_records_one_event(
    web: TestClient, instance: Instance, workspace: Workspace, jane: str, token: str
) -> None:
    assert can_email(instance, workspace, jane, "marketing")
    response = web.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert not can_email(instance, workspace, jane, "marketing")
    assert not can_email(instance, workspace, jane, "newsletter")
    [entry] = audiences.suppressions_of(instance.store, workspace.id, jane)
    assert (entry.reason, entry.channel, entry.source) == (
        "unsubscribe",
        "email",
        "unsubscribe:msg_1",
    )
    history = audiences.consent_history(instance.store, workspace.id, jane)
    withdrawals = [e for e in history if e.status == "withdrawn"]
    assert {e.purpose for e in withdrawals} == {"marketing", "newsletter"}
    assert all(e.proof_kind == "email_link" for e in withdrawals)
    assert all(e.proof_ref and "message msg_1 token sha256:" in e.proof_ref for e in withdrawals)
    assert token not in str(withdrawals[0].proof_ref)  # a digest, not the token itself
    [event] = stored_events(instance).itertuples()
    assert (event.type, event.contact_id, event.message_id, event.campaign_id) == (
        "unsubscribe",
        jane,
        "msg_1",
        "cmp_spring",
    )
    assert json.loads(event.properties)["via"] == "one_click"


def test_repeating_the_one_click_post_answers_200_and_changes_nothing_more(
    web: TestClient,
    instance: Instance,
    workspace: Workspace,
    jane: str,
    token: str,
    clock: SimulatedClock,
) -> None:
    for _ in range(3):
        response = web.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        assert response.status_code == 200
        clock.advance(timedelta(minutes=1))
    assert len(audiences.suppressions_of(instance.store, workspace.id, jane)) == 1
    history = audiences.consent_history(instance.store, workspace.id, jane)
    assert len([e for e in history if e.status == "withdrawn"]) == 2
    assert len(stored_events(instance)) == 1


def test_the_multipart_body_of_rfc_8058_is_understood(
    web: TestClient, instance: Instance, workspace: Workspace, jane: str, token: str
) -> None:
    boundary = "---FormBoundaryjWmhtjORrn"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        f"One-Click\r\n--{boundary}--\r\n"
    ).encode()
    response = web.post(
        f"/u/{token}",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 200
    assert not can_email(instance, workspace, jane, "marketing")


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        "a.b",
        "x" * 300,
        "' OR 1=1 --",
        "<script>alert(1)</script>",
    ],
)
def test_a_forged_token_gets_a_plain_404_and_changes_nothing(
    web: TestClient, instance: Instance, workspace: Workspace, jane: str, token: str, bad: str
) -> None:
    for response in (
        web.post(f"/u/{bad}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK),
        web.get(f"/u/{bad}"),
    ):
        assert response.status_code == 404
        assert "<script>" not in response.text
    assert can_email(instance, workspace, jane, "marketing")
    assert stored_events(instance).empty


def test_tokens_of_another_kind_or_a_tampered_one_are_refused(
    web: TestClient, instance: Instance, workspace: Workspace, jane: str, token: str
) -> None:
    key = instance.settings.secrets.signing_key.get_secret_value().encode()
    click = sign(TokenClaims("c", "msg_1", 0), key)
    unknown = sign(TokenClaims("u", "msg_unknown"), key)
    payload, tag = token.split(".")
    tampered = f"{payload}.{tag[:-1]}{'A' if tag[-1] != 'A' else 'B'}"
    for bad in (click, unknown, tampered, sign(TokenClaims("u", "msg_1"), b"other key")):
        response = web.post(f"/u/{bad}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        assert response.status_code == 404
    assert can_email(instance, workspace, jane, "marketing")


def test_the_preference_page_is_self_contained_and_masks_the_address(
    web: TestClient, token: str
) -> None:
    response = web.get(f"/u/{token}")
    assert response.status_code == 200
    page = response.text
    assert "j•••@example.com" in page
    assert "jane@example.com" not in page
    assert "<script" not in page and "src=" not in page and "http" not in page.split("<body>")[1]
    assert 'lang="en"' in page and "<label>" in page and "<legend>" in page
    assert 'value="newsletter"' in page and 'value="marketing"' in page
    assert f'action="/u/{token}"' in page
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_preference_form_withdraws_single_purposes_only(
    web: TestClient, instance: Instance, workspace: Workspace, jane: str, token: str
) -> None:
    response = web.post(
        f"/u/{token}",
        content=b"optout=newsletter&optout=evil%3Cb%3E&action=save",
        headers=ONE_CLICK,
    )
    assert response.status_code == 200
    assert "Newsletter" in response.text
    assert not can_email(instance, workspace, jane, "newsletter")
    assert can_email(instance, workspace, jane, "marketing")
    assert audiences.suppressions_of(instance.store, workspace.id, jane) == []
    [event] = stored_events(instance).itertuples()
    assert json.loads(event.properties) == {
        "via": "preference_page",
        "scope": "purposes",
        "withdrawn": ["newsletter"],
    }
    page = web.get(f"/u/{token}").text
    assert 'value="newsletter"' not in page  # nothing left to opt out of there


def test_a_post_without_the_one_click_field_changes_nothing(
    web: TestClient, instance: Instance, workspace: Workspace, jane: str, token: str
) -> None:
    response = web.post(f"/u/{token}", content=b"", headers=ONE_CLICK)
    assert response.status_code == 400
    assert can_email(instance, workspace, jane, "marketing")


def test_an_erased_contact_gets_200_and_nothing_is_recorded(
    web: TestClient, instance: Instance, workspace: Workspace, jane: str, token: str
) -> None:
    assert instance.events is not None
    audiences.erase_contact(
        instance.store, instance.events, workspace.id, jane, clock=instance.clock, source="test"
    )
    response = web.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert response.status_code == 200
    page = web.get(f"/u/{token}").text
    assert "@" not in page
    assert stored_events(instance).empty


def test_an_oversized_form_is_refused_and_changes_nothing(
    web: TestClient, instance: Instance, workspace: Workspace, jane: str, token: str
) -> None:
    body = b"List-Unsubscribe=One-Click&pad=" + b"x" * 20_000
    response = web.post(f"/u/{token}", content=body, headers=ONE_CLICK)
    assert response.status_code == 413
    assert can_email(instance, workspace, jane, "marketing")


def test_the_page_escapes_whatever_it_is_given() -> None:
    hostile = Preferences(
        masked_address='j•••@"><script>alert(1)</script>',
        channel="email",
        granted=("marketing",),
        unsubscribed=False,
    )
    page = preference_page(hostile, '/u/x"><img src=x onerror=alert(1)>')
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&quot;&gt;&lt;img" in page
