"""Machine opens and clicks: privacy proxies and scanners that no person is behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from clarion.tracking.enrich.useragent import UserAgent

IpClass = Literal["apple_proxy", "google_proxy", "datacenter", "residential", "unknown"]

MachineReason = Literal[
    "known_bot",
    "mail_proxy_user_agent",
    "apple_proxy_ip",
    "datacenter_ip",
    "opened_within_seconds_of_delivery",
    "clicked_within_seconds_of_delivery",
    "burst",
    "hidden_link",
]
MACHINE_REASONS: tuple[MachineReason, ...] = (
    "known_bot",  # the user agent is a crawler, scanner, HTTP library or headless browser
    "mail_proxy_user_agent",  # a proxy that prefetches opens (Apple MPP), or any proxy clicking
    "apple_proxy_ip",  # an open from Apple's relay addresses: Mail Privacy Protection
    "datacenter_ip",  # from a hosting provider's addresses, where scanners run
    "opened_within_seconds_of_delivery",  # faster than a person can open a message
    "clicked_within_seconds_of_delivery",  # faster than a person can open, read and click
    "burst",  # one fetcher hitting many opens or links at once
    "hidden_link",  # a link no person can see (a trap link) was clicked
)

# An open this soon after our mail server handed the message over is a prefetch: the message
# has still to reach the inbox, and a person to notice and open it.
OPEN_MIN_HUMAN_SECONDS = 2.0
# A click needs an open and a moment of reading on top, so a person is slower still; gateways
# scan every link as the message passes through, before the reader can see it.
CLICK_MIN_HUMAN_SECONDS = 5.0
# Scanners open every link of a message at once: this many distinct links clicked...
CLICK_BURST_LINKS = 3
# ...within this many seconds is not a person reading.
CLICK_BURST_WINDOW_SECONDS = 10.0
# A gateway opens the messages of everyone behind it at once: this many opens from one fetcher
# (same IP and user agent) of one campaign...
OPEN_BURST_OPENS = 5
# ...within this many seconds.
OPEN_BURST_WINDOW_SECONDS = 10.0
# Proxies whose fetch is not caused by a reader opening the message.
PREFETCHING_PROXIES = frozenset({"apple_mail_privacy"})


@dataclass(frozen=True, slots=True)
class MachineRules:
    """The thresholds of the machine rules; the defaults are the module constants.

    The burst windows are for the caller, who counts opens or links within them and passes the
    count as ``opens_in_burst`` or ``links_clicked_within_seconds``.
    """

    open_min_human_seconds: float = OPEN_MIN_HUMAN_SECONDS
    click_min_human_seconds: float = CLICK_MIN_HUMAN_SECONDS
    click_burst_links: int = CLICK_BURST_LINKS
    click_burst_window_seconds: float = CLICK_BURST_WINDOW_SECONDS
    open_burst_opens: int = OPEN_BURST_OPENS
    open_burst_window_seconds: float = OPEN_BURST_WINDOW_SECONDS
    prefetching_proxies: frozenset[str] = PREFETCHING_PROXIES
    # Corporate VPNs also exit from hosting providers; turn off if your audience lives there.
    datacenter_is_machine: bool = True


DEFAULT_RULES = MachineRules()


@dataclass(frozen=True, slots=True)
class MachineSignal:
    """One rule that fired: a stable code and a sentence for people."""

    code: MachineReason
    detail: str


@dataclass(frozen=True, slots=True)
class MachineVerdict:
    """Whether an open or click was made by a machine, and every rule that says so."""

    signals: tuple[MachineSignal, ...] = ()

    @property
    def machine(self) -> bool:
        """True when any rule fired."""
        return bool(self.signals)

    @property
    def reasons(self) -> tuple[MachineReason, ...]:
        """The codes of the rules that fired, in a stable order."""
        return tuple(signal.code for signal in self.signals)


def _aware(moment: datetime) -> datetime:
    # Stores hand back naive datetimes; in Clarion every stored instant is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _seconds_after(moment: datetime, delivered_at: datetime | None) -> float | None:
    """Seconds from delivery to ``moment``; negative (clock skew) counts as immediate."""
    if delivered_at is None:
        return None
    return (_aware(moment) - _aware(delivered_at)).total_seconds()


def _user_agent_signals(
    user_agent: UserAgent, *, clicking: bool, rules: MachineRules
) -> list[MachineSignal]:
    signals: list[MachineSignal] = []
    if user_agent.is_bot:
        signals.append(MachineSignal("known_bot", f"user agent is {user_agent.agent or 'a bot'}"))
    if user_agent.is_mail_proxy and (clicking or user_agent.agent in rules.prefetching_proxies):
        action = "clicked" if clicking else "prefetched"
        signals.append(
            MachineSignal("mail_proxy_user_agent", f"{user_agent.agent} {action} on its own")
        )
    return signals


def is_machine_open(
    *,
    opened_at: datetime,
    delivered_at: datetime | None,
    user_agent: UserAgent,
    ip_class: IpClass = "unknown",
    opens_in_burst: int = 1,
    rules: MachineRules = DEFAULT_RULES,
) -> MachineVerdict:
    """Judge an open (a pixel fetch): machine when any rule fires, with every rule that did.

    "Open rate without machine opens" leaves machine opens out, and **Apple Mail Privacy
    Protection opens are machine**: Apple's relays fetch every image of every message as it
    reaches the device, read or not, so such an open says only "delivered to an Apple Mail
    user" (caught by the bare "Mozilla/5.0" user agent or ``ip_class="apple_proxy"``). Gmail's
    and Yahoo's image proxies are *not* machine by themselves: they fetch when the reader opens
    the message, and count unless another rule fires.

    ``delivered_at`` is when our mail server handed the message over, None if unknown; naive
    instants are taken as UTC. ``opens_in_burst`` counts the opens of this campaign by the same
    IP and user agent within ``rules.open_burst_window_seconds``, this one included.
    """
    signals = _user_agent_signals(user_agent, clicking=False, rules=rules)
    if ip_class == "apple_proxy":
        signals.append(MachineSignal("apple_proxy_ip", "fetched through Apple's relays (MPP)"))
    if ip_class == "datacenter" and rules.datacenter_is_machine:
        signals.append(MachineSignal("datacenter_ip", "fetched from a hosting provider"))
    seconds = _seconds_after(opened_at, delivered_at)
    if seconds is not None and seconds < rules.open_min_human_seconds:
        signals.append(
            MachineSignal(
                "opened_within_seconds_of_delivery",
                f"opened {seconds:.1f} s after delivery"
                f" (a person needs {rules.open_min_human_seconds:g} s)",
            )
        )
    if opens_in_burst >= rules.open_burst_opens:
        signals.append(
            MachineSignal(
                "burst",
                f"{opens_in_burst} opens by one fetcher"
                f" within {rules.open_burst_window_seconds:g} s",
            )
        )
    return MachineVerdict(tuple(signals))


def is_machine_click(
    *,
    clicked_at: datetime,
    delivered_at: datetime | None,
    user_agent: UserAgent,
    ip_class: IpClass = "unknown",
    links_clicked_within_seconds: int = 1,
    hidden_link: bool = False,
    rules: MachineRules = DEFAULT_RULES,
) -> MachineVerdict:
    """Judge a click on a tracked link. ``links_clicked_within_seconds`` counts the distinct
    links of this message clicked by the same IP and user agent within
    ``rules.click_burst_window_seconds``, this one included; ``hidden_link`` marks a trap link
    placed where no reader can see it. An Apple relay address is not a machine sign here:
    people browsing with iCloud Private Relay click from the same addresses.
    """
    signals = _user_agent_signals(user_agent, clicking=True, rules=rules)
    if ip_class == "datacenter" and rules.datacenter_is_machine:
        signals.append(MachineSignal("datacenter_ip", "clicked from a hosting provider"))
    seconds = _seconds_after(clicked_at, delivered_at)
    if seconds is not None and seconds < rules.click_min_human_seconds:
        signals.append(
            MachineSignal(
                "clicked_within_seconds_of_delivery",
                f"clicked {seconds:.1f} s after delivery"
                f" (a person needs {rules.click_min_human_seconds:g} s)",
            )
        )
    if links_clicked_within_seconds >= rules.click_burst_links:
        signals.append(
            MachineSignal(
                "burst",
                f"{links_clicked_within_seconds} links clicked"
                f" within {rules.click_burst_window_seconds:g} s",
            )
        )
    if hidden_link:
        signals.append(MachineSignal("hidden_link", "a link no reader can see was clicked"))
    return MachineVerdict(tuple(signals))
