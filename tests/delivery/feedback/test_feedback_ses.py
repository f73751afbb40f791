"""Amazon SES feedback via SNS: signature, topic allow-list, subscription, bounces, complaints.

Amazon's side (the signing certificate and the subscribe URL) is the one part stood in for:
a certificate made here signs the messages, as SNS's own would.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from feedback_helpers import contact_with_consent, sent_message, stored_events

from clarion.api.app import create_app
from clarion.audiences import service as audiences
from clarion.auth.contracts import Workspace
from clarion.core.errors import Unauthorized
from clarion.delivery.feedback import sns
from clarion.instance import Instance
from clarion.settings import FeedbackSettings

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-feedback"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(KEY, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


PEM = _certificate()


def signed(message: dict[str, Any]) -> dict[str, Any]:
    fields = sns._FIELDS[message["Type"]]
    canonical = "".join(f"{k}\n{message[k]}\n" for k in fields if k in message).encode()
    signature = KEY.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
    return {
        **message,
        "SignatureVersion": "2",
        "Signature": base64.b64encode(signature).decode(),
        "SigningCertURL": CERT_URL,
    }


def notification(
    instance: Instance, ses: dict[str, Any], message_id: str = "sns-1"
) -> dict[str, Any]:
    return signed(
        {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": TOPIC,
            "Message": json.dumps(ses),
            "Timestamp": instance.clock.now().isoformat().replace("+00:00", "Z"),
        }
    )


def bounce(kind: str = "Permanent", status: str = "5.1.1") -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": kind,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": "bob@example.com",
                    "status": status,
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        },
        "mail": {
            "messageId": "0102018f-ses-id",
            "headers": [{"name": "Message-ID", "value": "<msg_bob@news.shop.example>"}],
        },
    }


@pytest.fixture
def web(instance: Instance, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setitem(sns._certificates, CERT_URL, PEM)
    instance.settings.feedback = FeedbackSettings(ses_topic_arns=[TOPIC])
    with TestClient(create_app(instance)) as client:
        yield client


@pytest.fixture
def bob(instance: Instance, workspace: Workspace) -> str:
    contact = contact_with_consent(instance, workspace.id, "bob@example.com", ["marketing:email"])
    sent_message(instance, workspace.id, contact, "msg_bob")
    return contact


def test_a_signed_ses_permanent_bounce_suppresses_and_is_an_event(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str
) -> None:
    response = web.post("/v1/feedback/ses", content=json.dumps(notification(instance, bounce())))
    assert response.status_code == 200, response.text
    assert response.json()["hard_bounces"] == 1
    [entry] = audiences.suppressions_of(instance.store, workspace.id, bob)
    assert (entry.reason, entry.source) == ("hard_bounce", "feedback:amazon-ses")
    [event] = stored_events(instance).itertuples()
    assert json.loads(event.properties)["bounce_type"] == "hard"
    again = web.post("/v1/feedback/ses", content=json.dumps(notification(instance, bounce())))
    assert again.json()["duplicates"] == 1


def test_a_transient_ses_bounce_is_soft_and_a_complaint_suppresses(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str
) -> None:
    soft = notification(instance, bounce("Transient", "4.4.7"), "sns-2")
    assert web.post("/v1/feedback/ses", content=json.dumps(soft)).json()["soft_bounces"] == 1
    complaint = {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": "bob@example.com"}],
            "complaintFeedbackType": "abuse",
        },
        "mail": {"headers": [{"name": "X-Clarion-Message", "value": "msg_bob"}]},
    }
    answer = web.post(
        "/v1/feedback/ses", content=json.dumps(notification(instance, complaint, "sns-3"))
    )
    assert answer.json()["complaints"] == 1
    assert [e.reason for e in audiences.suppressions_of(instance.store, workspace.id, bob)] == [
        "complaint"
    ]


@pytest.mark.parametrize("tamper", ["message", "topic", "cert host", "version 1", "stale"])
def test_forged_or_foreign_sns_messages_are_refused(
    web: TestClient, instance: Instance, workspace: Workspace, bob: str, tamper: str
) -> None:
    message = notification(instance, bounce())
    if tamper == "message":
        message["Message"] = message["Message"].replace("Permanent", "Transient")
    elif tamper == "topic":
        message = notification(instance, bounce())
        message.update(
            signed(
                {
                    **{k: message[k] for k in ("Type", "MessageId", "Message", "Timestamp")},
                    "TopicArn": "arn:aws:sns:eu-west-1:999:evil",
                }
            )
        )
    elif tamper == "cert host":
        message["SigningCertURL"] = "https://evil.example/cert.pem"
    elif tamper == "version 1":
        message["SignatureVersion"] = "1"
    else:
        old = (instance.clock.now() - timedelta(days=2)).isoformat()
        message = signed(
            {
                **{k: message[k] for k in ("Type", "MessageId", "Message", "TopicArn")},
                "Timestamp": old,
            }
        )
    response = web.post("/v1/feedback/ses", content=json.dumps(message))
    assert response.status_code == 401
    assert audiences.suppressions_of(instance.store, workspace.id, bob) == []


def test_a_subscription_is_confirmed_only_for_an_allowed_topic(instance: Instance) -> None:
    fetched: list[str] = []

    def get(url: str) -> bytes:
        fetched.append(url)
        return PEM

    confirmation = signed(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "sub-1",
            "Token": "tok",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe",
            "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok",
            "Timestamp": instance.clock.now().isoformat(),
        }
    )
    settings = FeedbackSettings(ses_topic_arns=[TOPIC])
    body = json.dumps(confirmation).encode()
    assert sns.ses(body, {}, settings=settings, now=instance.clock.now(), get=get) == []
    assert fetched == [CERT_URL, confirmation["SubscribeURL"]]
    fetched.clear()
    with pytest.raises(Unauthorized):
        sns.ses(body, {}, settings=FeedbackSettings(), now=instance.clock.now(), get=get)
    assert confirmation["SubscribeURL"] not in fetched
