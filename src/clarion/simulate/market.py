"""The simulated market at Clarion's edges: people answer over real HTTP, in simulated time."""

from __future__ import annotations

import hashlib
import heapq
import itertools
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import httpx
import numpy as np

from clarion.audiences import service as contacts
from clarion.audiences.mirror import current_contacts
from clarion.audiences.personas import Persona, parse_persona
from clarion.core.clock import SimulatedClock
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.delivery.ad_platform import UnitKey, UnitReport
from clarion.instance import Instance
from clarion.simulate.contacts_export import import_population
from clarion.simulate.email_behaviour import EmailParameters, Indices, email_outcomes
from clarion.simulate.fetcher import Fetch, Fetcher
from clarion.simulate.inbox import Letter, Mailboxes
from clarion.simulate.loopback import LoopbackServer
from clarion.simulate.measure import Ledger
from clarion.simulate.paid_market import PaidMarket
from clarion.simulate.population import (
    GOOD,
    Population,
    PopulationParameters,
    generate_population,
)
from clarion.simulate.response import ResponseCurve
from clarion.simulate.server_process import ServerProcess
from clarion.simulate.shared_clock import SharedSimulatedClock
from clarion.simulate.spend_rows import record_reports
from clarion.simulate.web_behaviour import Entry, WebParameters, organic_visitors, sessions
from clarion.tracking import service as tracking
from clarion.tracking.contracts import TrackedMessage

SITE: Final = "https://shop.example"
QUICK_UTM: Final = {"utm_source": "clarion", "utm_medium": "email", "utm_campaign": "simulated"}
PROXY_AGENT: Final = "Mozilla/5.0"  # a privacy proxy fetches images with a bare agent
MAIL_AGENT: Final = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
BROWSER_AGENT: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
REFERRERS: Final = {
    "search": "https://www.google.com/",
    "social": "https://www.linkedin.com/",
    "direct": None,
}
EVENT_BATCH: Final = 500  # page views per POST /v1/events
REQUESTS_AT_ONCE: Final = 16  # paid orders posted together (threads)
FETCHES_AT_ONCE: Final = 64  # pixel, redirect and unsubscribe requests in flight together
STEP: Final = timedelta(minutes=5)  # opens and clicks this close together go out together
# Kinds of pending requests, in same-instant order.
MACHINE_OPEN, HUMAN_OPEN, CLICK, UNSUBSCRIBE = 0, 1, 2, 3
AGENTS: Final = {
    MACHINE_OPEN: PROXY_AGENT,
    HUMAN_OPEN: MAIL_AGENT,
    CLICK: MAIL_AGENT,
    UNSUBSCRIBE: MAIL_AGENT,
}
EXPECTED: Final = {MACHINE_OPEN: 200, HUMAN_OPEN: 200, CLICK: 302, UNSUBSCRIBE: 200}
DEFAULT_PERSONAS: Final = (
    {
        "key": "ops-manager",
        "label": "Ops Manager",
        "channels": ["email", "search"],
        "demographics": {"age": {"min": 30, "max": 50}, "regions": ["DE", "FR", "GB"]},
    },
    {
        "key": "founder",
        "label": "Founder",
        "channels": ["social", "email"],
        "demographics": {"age": {"min": 25, "max": 45}, "regions": ["US", "NL"]},
    },
)


@dataclass(frozen=True)
class Scenario:
    """What to simulate: how many people, how long, the seed, and the campaign's shape."""

    contacts: int
    days: int
    seed: int
    start: datetime
    personas: tuple[Persona, ...] = field(
        default_factory=lambda: tuple(parse_persona(p) for p in DEFAULT_PERSONAS)
    )
    send_every: int = 7  # days between two newsletter sends (the first on day 0)
    send_hour: int = 9  # UTC
    variants: tuple[str, ...] = ("a", "b")
    email: EmailParameters = field(default_factory=lambda: EmailParameters(subject_open={"b": 0.3}))
    web: WebParameters = field(default_factory=WebParameters)
    paid_daily_budget: Decimal = Decimal("600")
    campaign_id: str = "simulated"
    currency: str = "EUR"
    # Subject line as received -> the variant key the behaviour model and the ledger use
    # (mail through a real sender; a subject not listed answers as no variant at all).
    subjects: Mapping[str, str] = field(default_factory=dict)
    weights: tuple[float, ...] | None = None  # persona mix; None: equal
    population: PopulationParameters = field(default_factory=PopulationParameters)
    paid_curves: Mapping[UnitKey, ResponseCurve] | None = None  # None: drawn from the seed

    def paid_market(self, clock: SimulatedClock) -> PaidMarket:
        """The simulated ad platforms: the scenario's own curves, else a market from the seed."""
        if self.paid_curves:
            return PaidMarket.from_curves(
                self.paid_curves,
                clock=clock,
                seed=self.seed,
                start=self.start.date(),
                currency=self.currency,
            )
        return PaidMarket.generate(
            self.seed, clock=clock, start=self.start.date(), currency=self.currency
        )

    def problems(self) -> list[FieldProblem]:
        """What is wrong with this scenario, field by field."""
        checks = (
            ("contacts", 1 <= self.contacts <= 1_000_000, "must be between 1 and 1,000,000"),
            ("days", 1 <= self.days <= 366, "must be between 1 and 366"),
            ("send_every", self.send_every >= 1, "must be at least 1"),
            ("send_hour", 0 <= self.send_hour <= 23, "must be an hour, 0-23"),
            ("variants", len(self.variants) >= 1, "name at least one variant"),
            ("start", self.start.tzinfo is not None, "must be timezone-aware"),
            ("paid_daily_budget", self.paid_daily_budget >= 0, "must not be negative"),
        )
        return [FieldProblem(name, problem) for name, ok, problem in checks if not ok]


@dataclass(frozen=True)
class Keys:
    """The API keys the simulated world uses: a write key for events, a secret for postbacks."""

    write: str
    secret: str


Progress = Callable[[int, int], None]  # (days done, days)
OTHER: Final = "other"  # the ledger's key for mail whose subject names no variant


class Director(Protocol):
    """Who runs a campaign in the market: starts the sends and moves the budgets.

    With a director the market sends nothing itself: mail arrives through its ``Mailboxes``
    (the loopback SMTP server the installation's sender delivers to) and spend reports go to
    the director at the end of each day.
    """

    def prepare(self, web: httpx.Client) -> None:
        """Set the campaign up once the people are imported and the server is listening."""

    def sends(self, day: int) -> Sequence[tuple[datetime, str]]:
        """The email steps to start on day ``day`` and when."""

    def send(self, step: str, web: httpx.Client) -> None:
        """Start step ``step`` and return once the sender has handed all of it over."""

    def end_of_day(self, day: int, reports: Sequence[UnitReport], web: httpx.Client) -> None:
        """Record the day's spend reports and decide tomorrow's budgets."""


class SimulatedMarket:
    """Runs a scenario against a real Clarion instance through its HTTP edges.

    The instance's clock must be the ``SimulatedClock`` given; the market moves it. Mail is
    handed over by registering each send as a tracked message (the delivery slice's job once
    it is merged: then mail will come through the loopback SMTP sink instead).
    """

    def __init__(
        self,
        instance: Instance,
        clock: SimulatedClock,
        scenario: Scenario,
        *,
        workspace_id: str,
        keys: Keys,
        workdir: Path,
        director: Director | None = None,
        mailboxes: Mailboxes | None = None,
        population: Population | None = None,
        paid: PaidMarket | None = None,
        server_process: bool = False,
    ) -> None:
        problems = scenario.problems()
        if server_process and not isinstance(clock, SharedSimulatedClock):
            problems.append(FieldProblem("clock", "a server process reads a SharedSimulatedClock"))
        if (director is None) != (mailboxes is None):
            problems.append(FieldProblem("mailboxes", "a director needs the market's mailboxes"))
        if instance.clock is not clock:
            problems.append(FieldProblem("clock", "must be the instance's own clock"))
        if instance.events is None:
            problems.append(FieldProblem("instance", "must own its event store"))
        if problems:
            raise InvalidInput(f"scenario: {problems[0].path} {problems[0].problem}", problems)
        self.instance = instance
        self.clock = clock
        self.workspace_id = workspace_id
        self.keys = keys
        self.scenario = scenario
        self.workdir = workdir
        self.population: Population = population or generate_population(
            scenario.personas,
            scenario.contacts,
            scenario.seed,
            weights=scenario.weights,
            parameters=scenario.population,
        )
        self.director = director
        self.mailboxes = mailboxes
        self.server_process = server_process
        self.paid = paid or scenario.paid_market(clock)
        self.ledger = Ledger()
        self._contact_ids: list[str | None] = []
        self._recent: list[tuple[int, Indices]] = []  # (day, people mailed) of the last 7 days
        self._sends = 0
        self._orders = 0
        # Opens and clicks still to come: (when, kind order, sequence, action), a heap.
        self._pending: list[tuple[datetime, int, int, int, str]] = []
        self._pool = ThreadPoolExecutor(max_workers=REQUESTS_AT_ONCE)
        self._fetcher: Fetcher | None = None  # while the server runs
        self._sequence = itertools.count()
        self._signing = instance.settings.secrets.signing_key.get_secret_value().encode()

    def run(self, on_progress: Progress | None = None) -> Ledger:
        """Import the people, then live ``days`` simulated days; the ledger holds the truth."""
        scenario = self.scenario
        self.clock.set(scenario.start)
        import_population(
            self.instance.store,
            _events(self.instance),
            self.population,
            self.workdir / f"simulated-contacts-{scenario.seed}.csv",
            workspace_id=self.workspace_id,
            clock=self.clock,
            ids=self.instance.ids,
        )
        self._contact_ids = self._contact_index()
        units = self.paid.units()
        share = (scenario.paid_daily_budget / len(units)).quantize(Decimal("0.01"))
        if self.director is None:
            self.paid.set_daily_budgets(dict.fromkeys(units, share), scenario.start.date())
        reports: list[UnitReport] = []
        with (
            self._pool,  # shut down on the way out, also after an error: a market runs once
            self._server() as server,
            httpx.Client(base_url=server.base_url, timeout=60) as web,
            closing(Fetcher(server.base_url, at_once=FETCHES_AT_ONCE)) as fetcher,
        ):
            self._fetcher = fetcher
            if self.director is not None:
                self.director.prepare(web)
            for day in range(scenario.days):
                midnight = scenario.start + timedelta(days=day)
                self._mail(web, midnight, day)
                self._until(midnight + timedelta(hours=12))
                for entry in ("search", "social", "direct"):
                    self._organic(entry, midnight, day)
                self._until(midnight + timedelta(days=1))
                self.clock.set(midnight + timedelta(days=1))
                today = [r for p in self.paid.platforms.values() for r in p.report(midnight.date())]
                if self.director is not None:
                    self._read_mail(self.clock.now(), day)  # late deliveries (retried soft bounces)
                    self._paid_orders(web, today, midnight)
                    self.director.end_of_day(day, today, web)
                else:
                    reports += today
                if on_progress is not None:
                    on_progress(day + 1, scenario.days)
            # Opens and clicks of the last sends still happen after the last day.
            self._until(datetime.max.replace(tzinfo=UTC))
        if self.director is not None:
            return self.ledger
        # Written once the server has stopped: it is the event store's only writer while it runs.
        for platform in self.paid.platforms.values():
            record_reports(
                _events(self.instance),
                [r for r in reports if r.unit.channel == platform.channel],
                workspace_id=self.workspace_id,
                source=platform.name,
                clock=self.clock,
                campaign_id=scenario.campaign_id,
            )
        self.ledger.paid_truth(self.paid.truth, share, units)
        return self.ledger

    def _server(self) -> LoopbackServer | ServerProcess:
        """The real HTTP server: in a thread, or in a process of its own (a core to itself)."""
        if self.server_process:
            assert isinstance(self.clock, SharedSimulatedClock)
            return ServerProcess(self.instance, self.clock, self.scenario.seed)
        return LoopbackServer(self.instance)

    def _paid_orders(
        self, web: httpx.Client, reports: Sequence[UnitReport], midnight: datetime
    ) -> None:
        """Each order an ad won comes back as a real conversion postback naming its channel."""
        scenario, web_model = self.scenario, self.scenario.web
        orders: list[dict[str, Any]] = []
        for report in reports:
            count = report.conversions or 0
            if not count:
                continue
            unit = report.unit
            rng = np.random.default_rng(
                [
                    scenario.seed,
                    12,
                    int(midnight.timestamp()) // 86_400,
                    zlib.crc32(unit.ad_set.encode()),
                ]
            )
            values = web_model.order_value * rng.lognormal(0.0, web_model.order_sigma, count)
            for k in range(count):
                order = f"paid-{scenario.seed}-{unit.ad_set}-{midnight.date()}-{k}"
                orders.append(
                    {
                        "order_id": order,
                        "value": f"{values[k]:.2f}",
                        "currency": scenario.currency,
                        "ts": (midnight + timedelta(hours=12, minutes=k)).isoformat(),
                        "anonymous_id": f"ad-{order}",
                        "campaign_id": scenario.campaign_id,
                        "channel": unit.channel,
                    }
                )
        headers = {"Authorization": f"Bearer {self.keys.secret}"}
        post = partial(web.post, "/v1/conversions", headers=headers)
        for answer in self._pool.map(lambda body: post(json=body), orders):
            if answer.status_code != 200:
                raise RuntimeError(f"POST /v1/conversions answered {answer.status_code}")

    def _mail(self, web: httpx.Client, midnight: datetime, day: int) -> None:
        """Today's email: the director's sends through the real sender, or the newsletter."""
        scenario = self.scenario
        if self.director is None:
            send_at = midnight + timedelta(hours=scenario.send_hour)
            self._until(send_at)
            if day % scenario.send_every == 0:
                self._send(send_at, day)
            return
        for at, step in sorted(self.director.sends(day)):
            self._until(at)
            self.clock.set(max(at, self.clock.now()))
            self.director.send(step, web)
            self._read_mail(self.clock.now(), day)

    def _read_mail(self, at: datetime, day: int) -> None:
        """People find the mail the sender delivered and decide, per variant, what they do."""
        assert self.mailboxes is not None
        letters = self.mailboxes.take()
        if not letters:
            return
        people, scenario = self.population, self.scenario
        self._recent = [(d, mailed) for d, mailed in self._recent if day - d < 7]
        recent = np.zeros(people.size, dtype=np.int64)
        for _, mailed in self._recent:
            recent[mailed] += 1
        self._recent.append((day, np.array([x.person for x in letters], dtype=np.int64)))
        self._sends += 1
        rng = np.random.default_rng([scenario.seed, 9, self._sends])
        by_variant: dict[str, list[Letter]] = {}
        for letter in letters:
            by_variant.setdefault(scenario.subjects.get(letter.subject, OTHER), []).append(letter)
        for which, (variant, group) in enumerate(sorted(by_variant.items())):
            mine = np.array([x.person for x in group], dtype=np.int64)
            outcome = email_outcomes(
                people,
                mine,
                variant=variant,
                utc_hour=at.hour + at.minute / 60,
                recent_sends=recent[mine],
                seed=scenario.seed,
                send_number=self._sends * 64 + which,
                parameters=scenario.email,
            )
            for _ in group:
                self.ledger.sent(variant)
            self.ledger.email_truth(variant, outcome, people)
            delays = rng.exponential(3.0, size=mine.size)  # hours from delivery to a human open
            for k, letter in enumerate(group):
                opened = at + timedelta(hours=float(delays[k]) + 0.05)
                if letter.pixel is not None:
                    if outcome.machine_open[k]:
                        self._later(
                            at + timedelta(seconds=2), MACHINE_OPEN, letter.person, letter.pixel
                        )
                    elif outcome.human_open[k]:
                        self._later(opened, HUMAN_OPEN, letter.person, letter.pixel)
                if outcome.click[k] and letter.links:
                    self._later(
                        opened + timedelta(minutes=2), CLICK, letter.person, letter.links[0]
                    )
                elif outcome.unsubscribe[k] and letter.unsubscribe is not None:
                    self._later(
                        opened + timedelta(minutes=1),
                        UNSUBSCRIBE,
                        letter.person,
                        letter.unsubscribe,
                    )

    def _contact_index(self) -> list[str | None]:
        """Contact id of each person, found through the mirror by the address's hash."""
        mirror = current_contacts(_events(self.instance), self.workspace_id)
        rows = mirror.select("contact_id", "email_hash").to_pyarrow().to_pylist()
        by_hash = {row["email_hash"]: row["contact_id"] for row in rows}
        return [
            by_hash.get(hashlib.sha256(self.population.email(i).encode()).hexdigest())
            for i in range(self.population.size)
        ]

    def _send(self, at: datetime, day: int) -> None:
        scenario, people = self.scenario, self.population
        self.clock.set(at)
        known = [i for i, cid in enumerate(self._contact_ids) if cid is not None]
        decisions = contacts.can_contact_many(
            self.instance.store,
            self.workspace_id,
            [self._contact_ids[i] or "" for i in known],
            "marketing",
            "email",
            now=at,
        )
        index = np.array(
            [i for i in known if decisions[self._contact_ids[i] or ""].allowed], dtype=np.int64
        )
        self._recent = [(d, mailed) for d, mailed in self._recent if day - d < 7]
        recent = np.zeros(people.size, dtype=np.int64)
        for _, mailed in self._recent:
            recent[mailed] += 1
        self._recent.append((day, index))
        self._sends += 1
        arm = (index + self._sends) % len(scenario.variants)
        rng = np.random.default_rng([scenario.seed, 8, self._sends])
        for which, variant in enumerate(scenario.variants):
            mine = index[arm == which]
            outcome = email_outcomes(
                people,
                mine,
                variant=variant,
                utc_hour=at.hour + at.minute / 60,
                recent_sends=recent[mine],
                seed=scenario.seed,
                send_number=self._sends * len(scenario.variants) + which,
                parameters=scenario.email,
            )
            self.ledger.email_truth(variant, outcome, people)
            delays = rng.exponential(3.0, size=mine.size)  # hours from delivery to a human open
            delivered = [k for k in range(mine.size) if outcome.bounce[k] == GOOD]
            # (the bounce edge arrives with the delivery slice's SMTP worker)
            paths = self._register([int(mine[k]) for k in delivered], variant, at)
            for k, (pixel, link) in zip(delivered, paths, strict=True):
                person = int(mine[k])
                opened = at + timedelta(hours=float(delays[k]) + 0.05)
                if outcome.machine_open[k]:
                    self._later(at + timedelta(seconds=2), MACHINE_OPEN, person, pixel)
                elif outcome.human_open[k]:  # behind a proxy, a person's open is never seen
                    self._later(opened, HUMAN_OPEN, person, pixel)
                if outcome.click[k]:
                    self._later(opened + timedelta(minutes=2), CLICK, person, link)

    def _later(self, when: datetime, kind: int, person: int, path: str) -> None:
        heapq.heappush(self._pending, (when, kind, next(self._sequence), person, path))

    def _until(self, instant: datetime) -> None:
        """Do what people do up to ``instant``, in time order, a few minutes at a time.

        Requests of one step go out together (the collector commits them as one group);
        machine opens form their own step at the exact second they happen.
        """
        while self._pending and self._pending[0][0] <= instant:
            first, kind = self._pending[0][0], self._pending[0][1]
            end = first if kind == MACHINE_OPEN else min(first + STEP, instant)
            step = []
            while (
                self._pending
                and self._pending[0][0] <= end
                and (self._pending[0][1] == MACHINE_OPEN) == (kind == MACHINE_OPEN)
            ):
                step.append(heapq.heappop(self._pending))
            self.clock.set(max(end, self.clock.now()))
            assert self._fetcher is not None, "a market's requests go out while its server runs"
            answers = self._fetcher.fetch([_request(item) for item in step])
            for item, answer in zip(step, answers, strict=True):
                if answer.status_code != EXPECTED[item[1]]:
                    raise RuntimeError(f"{item[4][:8]}… answered {answer.status_code}")
            clicked = [item for item in step if item[1] == CLICK]
            if clicked:
                self._browse(
                    np.array([item[3] for item in clicked], dtype=np.int64),
                    "click",
                    self.clock.now(),
                    tokens=[item[4].rsplit("/", 1)[1] for item in clicked],
                )

    def _register(
        self, persons: Sequence[int], variant: str, at: datetime
    ) -> list[tuple[str, str]]:
        """Each person's message of this send registered (one transaction); pixel and click
        paths in the same order."""
        messages = []
        for person in persons:
            self.ledger.sent(variant)
            messages.append(
                TrackedMessage(
                    message_id=self.instance.ids.new("msg"),
                    workspace_id=self.workspace_id,
                    campaign_id=self.scenario.campaign_id,
                    contact_id=self._contact_ids[person] or "",
                    channel="email",
                    variant=variant,
                    sent_at=at,
                    links=(f"{SITE}/product",),
                    utm={
                        "utm_source": "clarion",
                        "utm_medium": "email",
                        "utm_campaign": "simulated",
                    },
                )
            )
        urls = tracking.register_messages(
            self.instance.store, messages, key=self._signing, base_url="http://simulated.invalid"
        )
        return [(_path(u.open_pixel), _path(u.clicks[0])) for u in urls]

    def _organic(self, entry: Entry, midnight: datetime, day: int) -> None:
        visitors = organic_visitors(
            self.population, entry, seed=self.scenario.seed, day=day, parameters=self.scenario.web
        )
        if visitors.size:
            self._browse(visitors, entry, midnight + timedelta(hours=12))

    def _browse(
        self,
        index: Indices,
        entry: Entry,
        at: datetime,
        *,
        tokens: Sequence[str] | None = None,
    ) -> None:
        self._orders += 1
        visits = sessions(
            self.population,
            index,
            entry,
            seed=self.scenario.seed,
            batch=self._orders,
            parameters=self.scenario.web,
        )
        self.ledger.web_truth(visits)
        referrer = REFERRERS.get(entry)
        events: list[dict[str, Any]] = []
        for k, person in enumerate(index.tolist()):
            anonymous = f"anon-{self.scenario.seed}-{person}"
            for step, page in enumerate(visits.pages(k)):
                events.append(
                    {
                        "event_id": f"sim-{self.scenario.seed}-{self._orders}-{person}-{page}",
                        "type": "page_view",
                        "ts": (at + timedelta(seconds=30 * step)).isoformat(),
                        "anonymous_id": anonymous,
                        "url": f"{SITE}/{page}",
                        **({"referrer": referrer} if referrer and step == 0 else {}),
                    }
                )
        posts = [
            Fetch(
                "/v1/events",
                BROWSER_AGENT,
                json={"batch": events[start : start + EVENT_BATCH]},
                bearer=self.keys.write,
            )
            for start in range(0, len(events), EVENT_BATCH)
        ]
        for k in np.flatnonzero(visits.purchased).tolist():
            person = int(index[k])
            body: dict[str, Any] = {
                "order_id": f"sim-{self.scenario.seed}-{self._orders}-{person}",
                "value": str(visits.order_value[k]),
                "currency": self.scenario.currency,
                "ts": (at + timedelta(minutes=5)).isoformat(),
                "anonymous_id": f"anon-{self.scenario.seed}-{person}",
                "campaign_id": self.scenario.campaign_id if tokens else None,
                "click_token": tokens[k] if tokens else None,
            }
            conversion = {k2: v for k2, v in body.items() if v is not None}
            posts.append(
                Fetch("/v1/conversions", BROWSER_AGENT, json=conversion, bearer=self.keys.secret)
            )
        # The page views and the orders go out together: each event carries its own time, and
        # the collector commits what arrives together as one group.
        assert self._fetcher is not None, "a market's requests go out while its server runs"
        for post, answer in zip(posts, self._fetcher.fetch(posts), strict=True):
            if post.path == "/v1/events" and (
                answer.status_code != 200 or answer.json()["rejected"]
            ):
                raise RuntimeError(
                    f"POST /v1/events refused simulated events: {answer.body[:300]!r}"
                )
            if answer.status_code != 200:
                raise RuntimeError(f"POST {post.path} answered {answer.status_code}")


def _request(item: tuple[datetime, int, int, int, str]) -> Fetch:
    if item[1] == UNSUBSCRIBE:  # the mail client's one-click POST (RFC 8058)
        return Fetch(item[4], AGENTS[item[1]], {"List-Unsubscribe": "One-Click"})
    return Fetch(item[4], AGENTS[item[1]])


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path


def _events(instance: Instance) -> Any:
    if instance.events is None:
        raise RuntimeError("the instance does not own its event store")
    return instance.events


__all__: Sequence[str] = ("Keys", "Scenario", "SimulatedMarket")
