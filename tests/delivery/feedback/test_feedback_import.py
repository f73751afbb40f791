"""Importing returned mail: suppression at once or after repeated soft bounces, events, repeats."""

from __future__ import annotations

import json
import mailbox
from datetime import timedelta
from pathlib import Path

import pytest
from feedback_helpers import contact_with_consent, sent_message, stored_events

from clarion.audiences import service as audiences
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.delivery.feedback.service import import_feedback
from clarion.delivery.feedback.sources import Raw, read_path
from clarion.instance import Instance

CORPUS = Path(__file__).parent / "corpus"


def soft_bounce(message_id: str, day: int) -> Raw:
    raw = (CORPUS / "postfix_soft_delayed.eml").read_bytes()
    raw = raw.replace(b"msg_soft_1", message_id.encode())
    raw = raw.replace(b"Tue,  2 Feb 2027 13:14:05", f"Tue,  {day} Feb 2027 13:14:05".encode())
    return Raw(f"soft {message_id}", raw)


@pytest.fixture
def people(instance: Instance, workspace: Workspace) -> dict[str, str]:
    ids = {}
    for name, email in (
        ("hard", "nobody@example.org"),
        ("complaint", "angry@yahoo.com"),
        ("soft", "slow@example.com"),
        ("ooo", "jane@example.com"),
    ):
        ids[name] = contact_with_consent(instance, workspace.id, email, ["marketing:email"])
    sent_message(instance, workspace.id, ids["hard"], "msg_postfix_hard")
    sent_message(instance, workspace.id, ids["complaint"], "msg_yahoo_complaint")
    sent_message(instance, workspace.id, ids["ooo"], "msg_ooo")
    for n in (1, 2, 3, 4):
        sent_message(instance, workspace.id, ids["soft"], f"msg_soft_{n}")
    return ids


def allowed(instance: Instance, workspace: Workspace, contact_id: str) -> bool:
    return audiences.can_contact(
        instance.store, workspace.id, contact_id, "marketing", "email", now=instance.clock.now()
    ).allowed


def test_importing_the_corpus_suppresses_hard_bounces_and_complaints_only(
    instance: Instance, workspace: Workspace, people: dict[str, str]
) -> None:
    applied = import_feedback(instance, read_path(CORPUS))
    summary = applied.summary
    assert summary.read == 18
    assert (summary.hard_bounces, summary.complaints, summary.soft_bounces) == (1, 1, 1)
    assert (summary.auto_replies, summary.ignored, summary.unrecognised) == (4, 2, 2)
    assert summary.unmatched == 7  # bounces for messages this installation never sent
    assert summary.suppressed == 2
    assert not allowed(instance, workspace, people["hard"])
    assert not allowed(instance, workspace, people["complaint"])
    assert allowed(instance, workspace, people["soft"])  # one soft bounce is not enough
    assert allowed(instance, workspace, people["ooo"])  # an auto-reply is not a bounce
    [hard] = audiences.suppressions_of(instance.store, workspace.id, people["hard"])
    assert (hard.reason, hard.channel, hard.source) == (
        "hard_bounce",
        "email",
        "feedback:mx.shop.example",
    )
    events = stored_events(instance).sort_values("type")
    assert list(events.type) == ["email_bounce", "email_bounce", "email_complaint"]
    by_message = {row.message_id: json.loads(row.properties) for row in events.itertuples()}
    assert by_message["msg_postfix_hard"]["bounce_type"] == "hard"
    assert by_message["msg_postfix_hard"]["status"] == "5.1.1"
    assert by_message["msg_soft_1"]["bounce_type"] == "soft"
    assert by_message["msg_yahoo_complaint"]["feedback_type"] == "abuse"
    assert any("unknown message" in p for p in summary.problems)
    assert any("malformed_report_without_status" in p for p in summary.problems)


def test_importing_the_same_reports_again_changes_nothing(
    instance: Instance, people: dict[str, str]
) -> None:
    import_feedback(instance, read_path(CORPUS))
    again = import_feedback(instance, read_path(CORPUS)).summary
    assert again.duplicates == 3
    assert (again.hard_bounces, again.complaints, again.soft_bounces, again.suppressed) == (
        0,
        0,
        0,
        0,
    )
    assert len(stored_events(instance)) == 3


def test_soft_bounces_suppress_once_the_limit_is_reached_within_the_window(
    instance: Instance, workspace: Workspace, people: dict[str, str], clock: SimulatedClock
) -> None:
    assert instance.settings.feedback.soft_bounce_limit == 3
    import_feedback(instance, [soft_bounce("msg_soft_1", 2)])
    clock.advance(timedelta(days=20))  # outside the 14-day window: the first one expires
    import_feedback(instance, [soft_bounce("msg_soft_2", 3), soft_bounce("msg_soft_3", 4)])
    assert allowed(instance, workspace, people["soft"])
    clock.advance(timedelta(days=1))
    summary = import_feedback(instance, [soft_bounce("msg_soft_4", 5)]).summary
    assert summary.suppressed == 1
    assert not allowed(instance, workspace, people["soft"])
    [entry] = audiences.suppressions_of(instance.store, workspace.id, people["soft"])
    assert entry.source == "feedback:soft_bounce_limit:3_in_14d"
    last = stored_events(instance).sort_values("received_at").iloc[-1]
    assert json.loads(last.properties)["soft_bounces_in_window"] == 3


def test_an_mbox_is_read_message_by_message(tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "returned.mbox")
    for name in ("postfix_hard_user_unknown.eml", "auto_reply_out_of_office.eml"):
        box.add((CORPUS / name).read_bytes())
    box.close()
    found = list(read_path(tmp_path / "returned.mbox"))
    assert [r.ref.rsplit("#", 1)[1] for r in found] == ["1", "2"]
    assert b"msg_postfix_hard" in found[0].data


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file or directory"):
        list(read_path(tmp_path / "nope"))
