"""Event enrichment: pure classifiers of URLs, referrers, user agents and machine activity."""

from clarion.tracking.enrich.machine import (
    DEFAULT_RULES,
    MACHINE_REASONS,
    IpClass,
    MachineReason,
    MachineRules,
    MachineSignal,
    MachineVerdict,
    is_machine_click,
    is_machine_open,
)
from clarion.tracking.enrich.referrer import (
    Referral,
    ReferralKind,
    classify_referrer,
    registrable_domain,
)
from clarion.tracking.enrich.useragent import Device, UserAgent, classify_user_agent
from clarion.tracking.enrich.utm import Utm, append_utm, click_ids, parse_utm

__all__ = [
    "DEFAULT_RULES",
    "MACHINE_REASONS",
    "Device",
    "IpClass",
    "MachineReason",
    "MachineRules",
    "MachineSignal",
    "MachineVerdict",
    "Referral",
    "ReferralKind",
    "UserAgent",
    "Utm",
    "append_utm",
    "classify_referrer",
    "classify_user_agent",
    "click_ids",
    "is_machine_click",
    "is_machine_open",
    "parse_utm",
    "registrable_domain",
]
