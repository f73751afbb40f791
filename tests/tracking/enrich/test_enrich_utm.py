"""UTM parameters read from landing URLs and appended to click destinations."""

import pytest

from clarion.tracking.enrich import Utm, append_utm, click_ids, parse_utm

LANDING = "https://acme.example/pricing"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            f"{LANDING}?utm_source=newsletter&utm_medium=email&utm_campaign=Spring-Launch",
            Utm(source="newsletter", medium="email", campaign="Spring-Launch"),
        ),
        # Source and medium are lower-cased; campaign, term and content keep their case.
        (
            f"{LANDING}?utm_source=LinkedIn&utm_medium=Paid_Social&utm_term=Ops%20Manager",
            Utm(source="linkedin", medium="paid_social", term="Ops Manager"),
        ),
        # A parameter given twice keeps its first value.
        (f"{LANDING}?utm_source=google&utm_source=bing", Utm(source="google")),
        # ...its first non-empty one.
        (f"{LANDING}?utm_source=&utm_source=bing", Utm(source="bing")),
        # Percent-encoding and "+" as a space, then trimmed.
        (f"{LANDING}?utm_campaign=+Black%20Friday+%E2%82%AC50+", Utm(campaign="Black Friday €50")),
        (f"{LANDING}?utm_content=a%2Bb", Utm(content="a+b")),
        # Parameter names match whatever their case.
        (f"{LANDING}?UTM_Source=Bing&Utm_Medium=CPC", Utm(source="bing", medium="cpc")),
        # Blank and whitespace-only values are absent.
        (f"{LANDING}?utm_source=%20%20&utm_medium=", Utm()),
        # Parameters in the fragment are not the query.
        (f"{LANDING}#utm_source=google", Utm()),
        (f"{LANDING}?utm_source=google#utm_source=bing", Utm(source="google")),
        # Control characters are dropped, not stored.
        (f"{LANDING}?utm_source=goo%00gle%0A", Utm(source="google")),
        # No scheme, relative, or only a query: the query is still read.
        ("acme.example/?utm_medium=social", Utm(medium="social")),
        ("?utm_source=x", Utm(source="x")),
        # Nothing to read.
        (LANDING, Utm()),
        ("", Utm()),
        (None, Utm()),
        ("javascript:alert(1)", Utm()),
    ],
)
def test_parse_utm(url, expected):
    assert parse_utm(url) == expected


def test_values_are_capped_at_200_characters():
    utm = parse_utm(f"{LANDING}?utm_campaign={'x' * 5000}")
    assert utm.campaign == "x" * 200


def test_as_params_names_the_present_values_in_order():
    assert Utm(medium="email", source="news").as_params() == {
        "utm_source": "news",
        "utm_medium": "email",
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{LANDING}?gclid=Cj0KCQ_abc-123&utm_source=google", {"gclid": "Cj0KCQ_abc-123"}),
        (f"{LANDING}?fbclid=IwAR2x&msclkid=9f8e", {"msclkid": "9f8e", "fbclid": "IwAR2x"}),
        (f"{LANDING}?li_fat_id=1a2b&ttclid=E.C.P", {"li_fat_id": "1a2b", "ttclid": "E.C.P"}),
        (f"{LANDING}?gclid=", {}),
        (LANDING, {}),
        (None, {}),
    ],
)
def test_click_ids(url, expected):
    assert click_ids(url) == expected


SPRING = {"source": "newsletter", "medium": "email", "campaign": "Spring Launch"}


@pytest.mark.parametrize(
    ("destination", "utm", "expected"),
    [
        (
            "https://acme.example/pricing",
            SPRING,
            "https://acme.example/pricing"
            "?utm_source=newsletter&utm_medium=email&utm_campaign=Spring%20Launch",
        ),
        # An existing query is kept as it is, and the fragment stays last.
        (
            "https://acme.example/p?plan=pro&ref=a%20b#faq",
            {"utm_source": "newsletter"},
            "https://acme.example/p?plan=pro&ref=a%20b&utm_source=newsletter#faq",
        ),
        # A tag the author put on the link wins over the campaign's.
        (
            "https://acme.example/p?utm_source=partner",
            SPRING,
            "https://acme.example/p?utm_source=partner"
            "&utm_medium=email&utm_campaign=Spring%20Launch",
        ),
        # ...even in another case.
        (
            "https://acme.example/p?UTM_MEDIUM=sms",
            {"medium": "email"},
            "https://acme.example/p?UTM_MEDIUM=sms",
        ),
        # An empty tag on the link is no tag.
        (
            "https://acme.example/p?utm_source=",
            {"source": "newsletter"},
            "https://acme.example/p?utm_source=&utm_source=newsletter",
        ),
        # A "?" inside the fragment belongs to the fragment (single-page apps).
        (
            "https://acme.example/#/signup?step=2",
            {"source": "newsletter"},
            "https://acme.example/?utm_source=newsletter#/signup?step=2",
        ),
        # A dangling "?" or "&" needs no separator.
        ("https://acme.example/p?", {"source": "a"}, "https://acme.example/p?utm_source=a"),
        ("https://acme.example/p?x=1&", {"source": "a"}, "https://acme.example/p?x=1&utm_source=a"),
        # Reserved characters in values are encoded.
        (
            "https://acme.example/",
            {"campaign": "a&b=c #1"},
            "https://acme.example/?utm_campaign=a%26b%3Dc%20%231",
        ),
        # Nothing to add: the URL comes back untouched.
        ("https://acme.example/p?x=1#top", {}, "https://acme.example/p?x=1#top"),
        ("https://acme.example/p", {"source": "  "}, "https://acme.example/p"),
        # A Utm works as well as a mapping.
        (
            "https://acme.example/",
            Utm(source="a", content="hero"),
            "https://acme.example/?utm_source=a&utm_content=hero",
        ),
    ],
)
def test_append_utm(destination, utm, expected):
    assert append_utm(destination, utm) == expected


def test_appended_values_read_back():
    url = append_utm("https://acme.example/p?x=1#top", SPRING)
    assert parse_utm(url) == Utm(source="newsletter", medium="email", campaign="Spring Launch")


@pytest.mark.parametrize("utm", [{"sauce": "x"}, {"source": "a", "utm_source": "b"}])
def test_append_utm_refuses_what_is_not_a_utm_parameter(utm):
    with pytest.raises(ValueError, match="UTM parameter"):
        append_utm("https://acme.example/", utm)
