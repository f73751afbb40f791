"""Everything the public posts is hostile: the classifiers never raise and cap what they keep."""

import json
import subprocess
import sys
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.tracking.enrich import (
    append_utm,
    classify_referrer,
    classify_user_agent,
    click_ids,
    parse_utm,
)

HOSTILE = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\x00",
    "http://\x00evil.example/",
    "https://acme.example/?utm_source=\x00\x01\x7f",
    "http://[::1]:80/",
    "http://[::1",
    "http://[not-an-ip]/",
    "http://example.com:99999999/",
    "http://exa%mple.com/",
    "//",
    "?",
    "#",
    "?&&&=&=x&utm_source",
    "%",
    "%zz%",
    "http://例え.テスト/?utm_source=テスト",
    "http://" + "ä" * 70 + ".de/",
    "\u202egoogle.com",
    "a" * 100_000,
    "https://acme.example/?" + "utm_source=x&" * 10_000,
    "https://acme.example/?utm_campaign=" + "%41" * 30_000,
    " \t\r\n ",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_does_not_raise_and_stays_small(text):
    utm = parse_utm(text)
    assert all(value is None or len(value) <= 200 for value in utm.as_params().values())
    assert all(len(value) <= 256 for value in click_ids(text).values())
    referral = classify_referrer(text, text, None)
    assert referral.host is None or len(referral.host) <= 253
    classify_user_agent(text)
    append_utm(text, {"source": "news", "medium": "email"})


def test_control_characters_never_reach_the_values():
    utm = parse_utm("https://acme.example/?utm_source=a%00b&utm_campaign=%E2%80%AEevil%1B[31m")
    assert utm.source == "ab"
    assert utm.campaign == "evil[31m"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600), st.text(max_size=300), st.text(max_size=50))
def test_classifiers_never_raise(referrer, page_url, medium):
    classify_referrer(referrer, page_url, medium)
    classify_user_agent(referrer)
    parse_utm(page_url)
    click_ids(page_url)


utm_values = st.text(st.characters(codec="utf-8"), min_size=1, max_size=60)
utm_mappings = st.dictionaries(
    st.sampled_from(["source", "medium", "campaign", "term", "content"]), utm_values, max_size=5
)
destinations = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda path, query, fragment: f"https://acme.example/{path}{query}{fragment}",
        st.text(st.characters(exclude_characters="?#"), max_size=20),
        st.sampled_from(["", "?", "?a=1", "?a=1&", "?utm_source=partner", "?utm_medium="]),
        st.sampled_from(["", "#", "#top", "#/route?utm_source=x"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(destinations, utm_mappings)
def test_append_utm_reads_back_unless_already_tagged(destination, utm):
    before = parse_utm(destination)
    after = parse_utm(append_utm(destination, utm))
    for field, value in utm.items():
        expected = getattr(before, field)
        if expected is None:
            # What parse_utm makes of the value on its own: trimmed, cleaned, maybe lower-cased.
            expected = getattr(parse_utm("?" + urlencode({f"utm_{field}": value})), field)
        assert getattr(after, field) == expected
    # The fragment is untouched.
    assert append_utm(destination, utm).partition("#")[2] == destination.partition("#")[2]


def test_the_package_needs_only_the_standard_library():
    code = (
        "import json, sys; before = set(sys.modules); import clarion.tracking.enrich; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert loaded - set(sys.stdlib_module_names) == {"clarion"}
