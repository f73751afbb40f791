"""Machine opens and clicks: what open and click rates leave out, and why."""

from datetime import UTC, datetime, timedelta

import pytest

from clarion.tracking.enrich import (
    MACHINE_REASONS,
    MachineRules,
    classify_user_agent,
    is_machine_click,
    is_machine_open,
)

DELIVERED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHROME = classify_user_agent(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
APPLE_MAIL = classify_user_agent(
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
APPLE_MPP = classify_user_agent("Mozilla/5.0")
GMAIL_PROXY = classify_user_agent(
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
MIMECAST = classify_user_agent("Mimecast URL Protect")
CURL = classify_user_agent("curl/8.5.0")
NO_HEADER = classify_user_agent(None)


def after(seconds):
    return DELIVERED + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("opened_after", "user_agent", "ip_class", "burst", "reasons"),
    [
        # A person opening in the morning, in a browser or in Apple Mail with MPP off.
        (3600, CHROME, "residential", 1, ()),
        (600, APPLE_MAIL, "unknown", 1, ()),
        (600, NO_HEADER, "unknown", 1, ()),
        # Gmail's proxy fetches when the reader opens: a real open.
        (600, GMAIL_PROXY, "google_proxy", 1, ()),
        # ...unless it fetched faster than anyone can open.
        (0.5, GMAIL_PROXY, "google_proxy", 1, ("opened_within_seconds_of_delivery",)),
        # Apple MPP prefetches whether or not the mail is read, whenever the phone syncs.
        (7200, APPLE_MPP, "apple_proxy", 1, ("mail_proxy_user_agent", "apple_proxy_ip")),
        (7200, APPLE_MAIL, "apple_proxy", 1, ("apple_proxy_ip",)),
        # Scanners and tools.
        (30, MIMECAST, "datacenter", 1, ("known_bot", "datacenter_ip")),
        (600, CURL, "unknown", 1, ("known_bot",)),
        # Too fast, or too many at once.
        (1, CHROME, "unknown", 1, ("opened_within_seconds_of_delivery",)),
        (-3, CHROME, "unknown", 1, ("opened_within_seconds_of_delivery",)),
        (600, CHROME, "unknown", 5, ("burst",)),
        (600, CHROME, "unknown", 4, ()),
    ],
)
def test_machine_opens(opened_after, user_agent, ip_class, burst, reasons):
    verdict = is_machine_open(
        opened_at=after(opened_after),
        delivered_at=DELIVERED,
        user_agent=user_agent,
        ip_class=ip_class,
        opens_in_burst=burst,
    )
    assert verdict.reasons == reasons
    assert verdict.machine is bool(reasons)


@pytest.mark.parametrize(
    ("clicked_after", "user_agent", "ip_class", "links", "hidden", "reasons"),
    [
        # A person reading, then clicking one or two links.
        (300, CHROME, "residential", 1, False, ()),
        (300, CHROME, "residential", 2, False, ()),
        # Private Relay users click from Apple's addresses too.
        (300, APPLE_MAIL, "apple_proxy", 1, False, ()),
        # A gateway scanning every link as the message passes.
        (
            2,
            MIMECAST,
            "datacenter",
            6,
            False,
            (
                "known_bot",
                "mail_proxy_user_agent",
                "datacenter_ip",
                "clicked_within_seconds_of_delivery",
                "burst",
            ),
        ),
        # A scanner wearing a browser's user agent still gives itself away.
        (3, CHROME, "unknown", 1, False, ("clicked_within_seconds_of_delivery",)),
        (900, CHROME, "unknown", 3, False, ("burst",)),
        (900, CHROME, "unknown", 1, True, ("hidden_link",)),
        # An image proxy has no business clicking.
        (900, GMAIL_PROXY, "google_proxy", 1, False, ("mail_proxy_user_agent",)),
        (900, CURL, "unknown", 1, False, ("known_bot",)),
    ],
)
def test_machine_clicks(clicked_after, user_agent, ip_class, links, hidden, reasons):
    verdict = is_machine_click(
        clicked_at=after(clicked_after),
        delivered_at=DELIVERED,
        user_agent=user_agent,
        ip_class=ip_class,
        links_clicked_within_seconds=links,
        hidden_link=hidden,
    )
    assert verdict.reasons == reasons
    assert verdict.machine is bool(reasons)


def test_unknown_delivery_time_skips_the_timing_rule():
    verdict = is_machine_open(opened_at=DELIVERED, delivered_at=None, user_agent=CHROME)
    assert not verdict.machine


def test_rules_can_be_tuned():
    strict = MachineRules(
        open_min_human_seconds=60, click_burst_links=2, datacenter_is_machine=False
    )
    opened = is_machine_open(
        opened_at=after(30),
        delivered_at=DELIVERED,
        user_agent=CHROME,
        ip_class="datacenter",
        rules=strict,
    )
    clicked = is_machine_click(
        clicked_at=after(600),
        delivered_at=DELIVERED,
        user_agent=CHROME,
        ip_class="datacenter",
        links_clicked_within_seconds=2,
        rules=strict,
    )
    assert opened.reasons == ("opened_within_seconds_of_delivery",)
    assert clicked.reasons == ("burst",)


def test_every_signal_says_why_in_words():
    verdict = is_machine_click(
        clicked_at=after(1),
        delivered_at=DELIVERED,
        user_agent=MIMECAST,
        ip_class="datacenter",
        links_clicked_within_seconds=4,
        hidden_link=True,
    )
    assert set(verdict.reasons) <= set(MACHINE_REASONS)
    assert [signal.detail for signal in verdict.signals] == [
        "user agent is mimecast",
        "mimecast clicked on its own",
        "clicked from a hosting provider",
        "clicked 1.0 s after delivery (a person needs 5 s)",
        "4 links clicked within 10 s",
        "a link no reader can see was clicked",
    ]


def test_naive_instants_are_utc():
    verdict = is_machine_open(
        opened_at=DELIVERED + timedelta(seconds=1),
        delivered_at=DELIVERED.replace(tzinfo=None),
        user_agent=CHROME,
    )
    assert verdict.reasons == ("opened_within_seconds_of_delivery",)
