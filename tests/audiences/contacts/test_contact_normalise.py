"""Contact values as stored: emails, E.164 phones, countries, text, and the records they make."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.audiences import normalise
from clarion.audiences.records import parse_fields, parse_item
from clarion.tracking.intake import email_pseudonym

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe@Example.COM \t", "jane.doe@example.com"),
        ("o'brien+news@mail.example.co.uk", "o'brien+news@mail.example.co.uk"),
        ("müller@bücher.de", "müller@bücher.de"),
        ("a@xn--bcher-kva.example", "a@xn--bcher-kva.example"),
        ("", None),
        ("   ", None),
    ],
)
def test_emails_are_trimmed_and_lower_cased(given_value: str, stored: str | None) -> None:
    assert normalise.email(given_value) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "plainaddress",
        "@example.com",
        "jane@",
        "jane@example",
        "jane@@example.com",
        "jane doe@example.com",
        "jane..doe@example.com",
        "jane@-example.com",
        "<script>@example.com",
        "jane@example.com'; DROP TABLE contacts;--",
        "jane\x00@example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_what_is_not_an_address_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"email|characters long"):
        normalise.email(bad)


def test_the_email_hash_meets_the_trackers_pseudonym() -> None:
    stored = normalise.email(" Jane@Example.com ")
    assert stored is not None
    digest = normalise.email_hash(stored)
    assert len(digest) == 64
    assert email_pseudonym("jane@example.com") == "eh_" + digest[:40]


@given(st.emails())
def test_normalising_an_address_twice_changes_nothing(address: str) -> None:
    once = normalise.email(address)
    assert once is not None
    assert normalise.email(once) == once
    assert normalise.email(address.upper()) == once


@pytest.mark.parametrize(
    ("given_value", "country", "stored"),
    [
        ("+49 30 1234567", None, "+49301234567"),
        ("030 1234567", "DE", "+49301234567"),
        ("0049 (30) 123-4567", None, "+49301234567"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415.555.2671", "FR", "+14155552671"),  # an international number ignores the country
        ("", "DE", None),
    ],
)
def test_phones_become_e164(given_value: str, country: str | None, stored: str | None) -> None:
    assert normalise.phone(given_value, country) == stored


@pytest.mark.parametrize(
    ("bad", "country", "problem"),
    [
        ("030 1234567", None, "has no country code"),
        ("12", "DE", "not a valid phone number in DE"),
        ("+49 30", None, "not a valid phone number"),
        ("call me", "DE", "not a phone number"),
        ("=1+2", "DE", "not a phone number"),
        ("1" * 40, "DE", "not a phone number"),
    ],
)
def test_what_is_not_a_phone_is_refused(bad: str, country: str | None, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        normalise.phone(bad, country)


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [("de", "DE"), (" gb ", "GB"), ("UK", "GB"), ("Germany", "DE"), ("deu", "DE"), ("", None)],
)
def test_countries_become_iso_codes(given_value: str, stored: str | None) -> None:
    assert normalise.country(given_value) == stored


def test_the_country_list_is_iso_3166_and_unknown_ones_are_named() -> None:
    assert len(normalise.COUNTRIES) == 250  # 249 assigned codes and XK
    with pytest.raises(ValueError, match="'Atlantis' is not a country"):
        normalise.country("Atlantis")


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        ("Jane", "Jane"),
        ("  Jane  ", "Jane"),
        ("Line\nTwo", "Line Two"),
        ("<b>Jane</b>", "<b>Jane</b>"),  # stored as written; every output escapes it
        ("Robert'); DROP TABLE contacts;--", "Robert'); DROP TABLE contacts;--"),
        ("", None),
    ],
)
def test_text_is_stored_as_written_trimmed(given_value: str, stored: str | None) -> None:
    assert normalise.text(given_value, 100) == stored


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("a\x00b", "control character U+0000"),
        ("evil\u202etxt", "control character U+202E"),
        ("x" * 101, "101 characters long"),
        ("caf\udce9", "not valid UTF-8"),
    ],
)
def test_hostile_text_is_refused(bad: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        normalise.text(bad, 100)


def test_a_record_lists_every_problem_with_its_field() -> None:
    record, problems = parse_fields(
        {
            "email": "nope",
            "phone": "0301234567",
            "country": "Narnia",
            "lifecycle_stage": "vip",
            "persona": "Ops Manager!",
            "first_name": "x" * 500,
            "consents": ["marketing:fax", {"purpose": "marketing"}],
        },
        now=NOW,
    )
    assert record is None
    fields = [field for field, _ in problems]
    assert fields == [
        "country",
        "email",
        "phone",
        "first_name",
        "persona",
        "lifecycle_stage",
        "consents[0]",
        "consents[1]",
    ]


def test_a_record_needs_an_email_or_an_external_id() -> None:
    assert parse_fields({"first_name": "Jane"}, now=NOW)[1] == [
        ("email", "an email or an external id is required")
    ]
    record, problems = parse_fields({"external_id": 12345}, now=NOW)
    assert problems == [] and record is not None and record.external_id == "12345"


def test_the_country_of_a_record_reads_its_phone() -> None:
    record, _ = parse_fields({"email": "a@b.de", "phone": "030 1234567", "country": "de"}, now=NOW)
    assert record is not None
    assert record.values["phone"] == "+49301234567"
    assert record.values["email_hash"] == normalise.email_hash("a@b.de")
    fallback, _ = parse_fields(
        {"email": "a@b.de", "phone": "030 1234567"}, default_country="DE", now=NOW
    )
    assert fallback is not None and fallback.values["phone"] == "+49301234567"


@pytest.mark.parametrize(
    ("item", "field", "problem"),
    [
        ("jane@example.com", "*", "expected an object"),
        ({"email": "a@b.de", "password": "x"}, "password", "unknown field"),
        ({"email": ["a@b.de"]}, "email", "expected text"),
        ({"email": "a@b.de", "attributes": {"Bad Key": 1}}, "attributes", "not an attribute"),
        ({"email": "a@b.de", "attributes": {"plan": {"nested": 1}}}, "attributes", "plan:"),
        ({"email": "a@b.de", "attributes": {f"k{i}": i for i in range(51)}}, "attributes", "51"),
        ({"email": "a@b.de", "attributes": {"bio": "x" * 501}}, "attributes", "501 characters"),
        ({"email": "a@b.de", "consents": "marketing:email"}, "consents", "expected a list"),
        (
            {
                "email": "a@b.de",
                "consents": [
                    {"purpose": "marketing", "channel": "email", "at": "2099-01-01T00:00:00Z"}
                ],
            },
            "consents[0]",
            "in the future",
        ),
    ],
)
def test_api_items_are_checked_field_by_field(item: object, field: str, problem: str) -> None:
    record, problems = parse_item(item, now=NOW)
    assert record is None
    assert problems[0][0] == field
    assert problem in problems[0][1]
