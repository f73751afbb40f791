"""Signed provider webhooks at POST /v1/feedback/{provider}: Mailgun (HMAC) and SendGrid (ECDSA)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from feedback_helpers import contact_with_consent, sent_message, stored_events
from pydantic import SecretStr

from clarion.api.app import create_app
from clarion.audiences import service as audiences
from clarion.auth.contracts import Workspace
from clarion.instance import Instance
from clarion.settings import FeedbackSettings

MAILGUN_KEY = "key-mailgun-signing-0123456789"
SENDGRID_PRIVATE = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(
    SENDGRID_PRIVATE.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


@pytest.fixture
def web(instance: Instance) -> Iterator[TestClient]:
    instance.settings.feedback = FeedbackSettings(
        mailgun_signing_key=SecretStr(MAILGUN_KEY), sendgrid_public_key=SENDGRID_PUBLIC
    )
    with TestClient(create_app(instance)) as client:
        yield client


@pytest.fixture
def bob(instance: Instance, workspace: Workspace) -> str:
    contact = contact_with_consent(instance, workspace.id, "bob@example.com", ["marketing:email"])
    sent_message(instance, workspace.id, contact, "msg_bob")
    return contact


def now_ts(instance: Instance) -> int:
    return int(instance.clock.now().timestamp())


def mailgun_body(
    instance: Instance, *, event: str = "failed", severity: str = "permanent", token: str = "tok1"
) -> dict[str, Any]:
    timestamp = str(now_ts(instance))
    signature = hmac.new(
        MAILGUN_KEY.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "severity": severity,
            "recipient": "bob@example.com",
            "delivery-status": {
                "code": 550 if severity == "permanent" else 452,
                "enhanced-code": "5.1.1" if severity == "permanent" else "4.2.2",
                "message": "5.1.1 The email account that you tried to reach does not exist",
            },
            "message": {"headers": {"message-id": "msg_bob@news.shop.example"}},
        },
    }


def suppressed(instance: Instance, workspace: Workspace, contact: str) -> bool:
    return bool(audiences.suppressions_of(instance.store, workspace.id, contact))


def test_a_signed_mailgun_permanent_failure_is_a_hard_bounce(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str
) -> None:
    response = web.post("/v1/feedback/mailgun", json=mailgun_body(instance))
    assert response.status_code == 200, response.text
    assert response.json()["hard_bounces"] == 1
    assert suppressed(instance, workspace, bob)
    [event] = stored_events(instance).itertuples()
    assert (event.type, event.message_id) == ("email_bounce", "msg_bob")
    assert json.loads(event.properties)["bounce_type"] == "hard"


def test_a_replayed_mailgun_webhook_changes_nothing(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str
) -> None:
    body = mailgun_body(instance, severity="temporary")
    assert web.post("/v1/feedback/mailgun", json=body).json()["soft_bounces"] == 1
    again = web.post("/v1/feedback/mailgun", json=body).json()
    assert (again["duplicates"], again["soft_bounces"]) == (1, 0)
    assert len(stored_events(instance)) == 1


@pytest.mark.parametrize("problem", ["wrong signature", "old timestamp", "no signature"])
def test_a_bad_mailgun_signature_is_refused(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str, problem: str
) -> None:
    body = mailgun_body(instance)
    if problem == "wrong signature":
        body["signature"]["signature"] = "0" * 64
    elif problem == "old timestamp":
        old = str(now_ts(instance) - 3600)
        body["signature"]["timestamp"] = old
        body["signature"]["signature"] = hmac.new(
            MAILGUN_KEY.encode(), (old + "tok1").encode(), hashlib.sha256
        ).hexdigest()
    else:
        del body["signature"]
    response = web.post("/v1/feedback/mailgun", json=body)
    assert response.status_code == 401
    assert "signature refused" in response.json()["error"]["message"]
    assert not suppressed(instance, workspace, bob)
    assert stored_events(instance).empty


def test_a_mailgun_complaint_suppresses(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str
) -> None:
    response = web.post("/v1/feedback/mailgun", json=mailgun_body(instance, event="complained"))
    assert response.json()["complaints"] == 1
    [entry] = audiences.suppressions_of(instance.store, workspace.id, bob)
    assert entry.reason == "complaint"


def sendgrid_post(web: TestClient, events: list[dict[str, Any]], timestamp: str) -> Any:
    body = json.dumps(events).encode()
    signature = SENDGRID_PRIVATE.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return web.post(
        "/v1/feedback/sendgrid",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )


def sendgrid_events(instance: Instance) -> list[dict[str, Any]]:
    ts = now_ts(instance)
    return [
        {
            "email": "bob@example.com",
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "reason": "550 5.1.1 User unknown",
            "sg_event_id": "ev-1",
            "smtp-id": "<msg_bob@news.shop.example>",
            "timestamp": ts,
        },
        {"email": "bob@example.com", "event": "delivered", "sg_event_id": "ev-2", "timestamp": ts},
        {
            "email": "bob@example.com",
            "event": "spamreport",
            "sg_event_id": "ev-3",
            "smtp-id": "<msg_bob@news.shop.example>",
            "timestamp": ts,
        },
    ]


def test_a_signed_sendgrid_batch_applies_bounces_and_spam_reports(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str
) -> None:
    response = sendgrid_post(web, sendgrid_events(instance), str(now_ts(instance)))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["read"], summary["hard_bounces"], summary["complaints"]) == (2, 1, 1)
    reasons = {e.reason for e in audiences.suppressions_of(instance.store, workspace.id, bob)}
    assert reasons == {"hard_bounce", "complaint"}
    assert sorted(stored_events(instance).type) == ["email_bounce", "email_complaint"]


def test_a_tampered_sendgrid_body_is_refused(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str
) -> None:
    timestamp = str(now_ts(instance))
    body = json.dumps(sendgrid_events(instance)).encode()
    signature = SENDGRID_PRIVATE.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    tampered = body.replace(b"bob@example.com", b"eve@example.com")
    response = web.post(
        "/v1/feedback/sendgrid",
        content=tampered,
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )
    assert response.status_code == 401
    assert not suppressed(instance, workspace, bob)


def test_an_old_sendgrid_batch_is_refused_as_a_replay(
    web: TestClient, instance: Instance, bob: str
) -> None:
    response = sendgrid_post(web, sendgrid_events(instance), str(now_ts(instance) - 900))
    assert response.status_code == 401


def test_an_unknown_provider_is_404_and_unconfigured_keys_refuse(
    web: TestClient, instance: Instance
) -> None:
    assert web.post("/v1/feedback/<script>", json={}).status_code == 404
    instance.settings.feedback = FeedbackSettings()
    response = web.post("/v1/feedback/mailgun", json=mailgun_body(instance))
    assert response.status_code == 401
    assert "no Mailgun signing key" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"signature": "x"}', b"\xff\xfe"])
def test_a_malformed_mailgun_body_is_refused_without_effect(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str, body: bytes
) -> None:
    response = web.post(
        "/v1/feedback/mailgun", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 401)
    assert not suppressed(instance, workspace, bob)
