"""A corpus of real-world-shaped DSNs, ARF reports and auto-replies, each classified correctly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.delivery.feedback.parse import classify, receipt_of

CORPUS = Path(__file__).parent / "corpus"

# file -> (kind, Clarion message id, status, recipient)
EXPECTED = {
    "postfix_hard_user_unknown.eml": (
        "hard_bounce",
        "msg_postfix_hard",
        "5.1.1",
        "nobody@example.org",
    ),
    "postfix_soft_delayed.eml": ("soft_bounce", "msg_soft_1", "4.4.1", "slow@example.com"),
    "exim_hard_multipart.eml": ("hard_bounce", "msg_exim_hard", "5.0.0", "gone@example.net"),
    "exim_plain_text.eml": ("hard_bounce", "msg_exim_plain", "5.1.1", None),
    "gmail_hard_no_such_account.eml": (
        "hard_bounce",
        "msg_gmail_hard",
        "5.1.1",
        "nosuchuser@gmail.com",
    ),
    "gmail_over_quota.eml": ("soft_bounce", "msg_gmail_full", "5.2.2", "full@gmail.com"),
    "microsoft_hard_recipient_not_found.eml": (
        "hard_bounce",
        "msg_ms_hard",
        "5.1.10",
        "missing@contoso.com",
    ),
    "yahoo_plain_failure_notice.eml": ("hard_bounce", "msg_yahoo_hard", "5.0.0", None),
    "yahoo_arf_complaint.eml": ("complaint", "msg_yahoo_complaint", None, "angry@yahoo.com"),
    "microsoft_jmrp_complaint.eml": ("complaint", "msg_ms_complaint", None, "unhappy@outlook.com"),
    "arf_not_spam.eml": ("ignored", "msg_not_spam", None, None),
    "auto_reply_out_of_office.eml": ("auto_reply", "msg_ooo", None, None),
    "auto_reply_x_autoreply.eml": ("auto_reply", None, None, None),
    "auto_reply_precedence.eml": ("auto_reply", None, None, None),
    "auto_reply_outlook_subject.eml": ("auto_reply", None, None, None),
    "malformed_report_without_status.eml": ("unrecognised", None, None, None),
    "malformed_truncated_binary.eml": ("unrecognised", None, None, None),
    "delivered_notice.eml": ("ignored", "msg_delivered", "2.0.0", "happy@example.com"),
}


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_corpus_is_classified_correctly(name: str) -> None:
    kind, message_id, status, recipient = EXPECTED[name]
    found = classify((CORPUS / name).read_bytes())
    assert (found.kind, found.message_id, found.status) == (kind, message_id, status), found
    if recipient is not None:
        assert found.recipient == recipient


def test_a_dsn_keeps_the_reporter_diagnostic_and_arrival() -> None:
    found = classify((CORPUS / "postfix_hard_user_unknown.eml").read_bytes())
    assert found.reporter == "mx.shop.example"
    assert "User unknown" in found.detail
    assert (
        found.occurred_at is not None
        and found.occurred_at.isoformat() == "2027-02-01T09:12:01+00:00"
    )
    assert found.receipt == receipt_of((CORPUS / "postfix_hard_user_unknown.eml").read_bytes())


def test_an_arf_report_names_its_feedback_type_and_agent() -> None:
    found = classify((CORPUS / "yahoo_arf_complaint.eml").read_bytes())
    assert found.extra == {"feedback_type": "abuse", "user_agent": "Yahoo!-Mail-Feedback/2.0"}


def test_a_message_id_with_hostile_text_is_not_taken_as_a_clarion_id() -> None:
    raw = (CORPUS / "postfix_hard_user_unknown.eml").read_bytes()
    hostile = raw.replace(
        b"X-Clarion-Message: msg_postfix_hard", b"X-Clarion-Message: x'; DROP TABLE t;--"
    )
    hostile = hostile.replace(b"<msg_postfix_hard@", b"<'; DROP TABLE t;--@")
    assert classify(hostile).message_id is None


def test_a_huge_report_is_cut_not_loaded_whole() -> None:
    raw = (CORPUS / "postfix_hard_user_unknown.eml").read_bytes()
    found = classify(raw + b"x" * (11 * 1024 * 1024))
    assert found.kind == "hard_bounce"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_classify_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    assert classify(raw).kind in (
        "unrecognised",
        "auto_reply",
        "hard_bounce",
        "soft_bounce",
        "ignored",
        "complaint",
    )
