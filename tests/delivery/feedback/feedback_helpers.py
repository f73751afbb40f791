"""What the delivery feedback tests share: a contact with consent and a message sent to it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from clarion.audiences import service as audiences
from clarion.instance import Instance
from clarion.tracking import service as tracking
from clarion.tracking.contracts import TrackedMessage


def contact_with_consent(
    instance: Instance, workspace_id: str, email: str, consents: list[str]
) -> str:
    """A stored contact with these consents granted; its id."""
    assert instance.events is not None
    result = audiences.upsert_contacts(
        instance.store,
        instance.events,
        workspace_id,
        [{"email": email, "consents": consents}],
        clock=instance.clock,
        ids=instance.ids,
        source="form:signup",
        proof_kind="form",
    )
    return result.stored[0][1]


def sent_message(
    instance: Instance, workspace_id: str, contact_id: str, message_id: str = "msg_1"
) -> TrackedMessage:
    """A registered (sent) email message to the contact."""
    message = TrackedMessage(
        message_id=message_id,
        workspace_id=workspace_id,
        campaign_id="cmp_spring",
        contact_id=contact_id,
        channel="email",
        variant=None,
        sent_at=instance.clock.now(),
        links=(),
        utm={},
    )
    key = instance.settings.secrets.signing_key.get_secret_value().encode()
    tracking.register_message(instance.store, message, key=key, base_url="http://testserver")
    return message


def stored_events(instance: Instance) -> pd.DataFrame:
    assert instance.events is not None
    frame: Any = instance.events.table("events").execute()
    return frame
