"""What the contacts part of the audiences slice shows the rest of the system."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

# The fields of a contact that an import column or an API item can set.
CONTACT_FIELDS: Final = (
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "persona",
    "lifecycle_stage",
)
# Personal fields: masked by role (pii.py), removed on erasure.
PERSONAL_FIELDS: Final = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "postal_code",
)

# What consent is given for, and on which channel; a consent is one (purpose, channel) pair.
PURPOSES: Final = ("marketing", "newsletter", "ads_personalisation", "profiling", "analytics")
CHANNELS: Final = ("email", "sms", "push", "phone", "post", "ads", "web")
ConsentStatus: TypeAlias = Literal["granted", "withdrawn"]
# Where a consent's proof is: a web form, an import file, an API call, a person (manual).
ProofKind: TypeAlias = Literal["form", "import", "api", "manual", "email_link"]
PROOF_KINDS: Final = ("form", "import", "api", "manual", "email_link")

SuppressionReason: TypeAlias = Literal[
    "hard_bounce", "complaint", "unsubscribe", "manual", "erased"
]
SUPPRESSION_REASONS: Final = ("hard_bounce", "complaint", "unsubscribe", "manual", "erased")

LIFECYCLE_STAGES: Final = ("subscriber", "lead", "mql", "sql", "opportunity", "customer", "other")


@dataclass(frozen=True)
class Contact:
    """A stored contact. After erasure every personal field is None and ``erased_at`` is set."""

    id: str
    workspace_id: str
    external_id: str | None
    email: str | None
    email_hash: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    region: str | None
    country: str | None
    persona: str | None
    lifecycle_stage: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


@dataclass(frozen=True)
class ConsentEvent:
    """One entry of the append-only consent ledger."""

    id: int
    contact_id: str
    purpose: str
    channel: str
    status: ConsentStatus
    at: datetime  # when the person gave or withdrew it
    recorded_at: datetime  # when Clarion stored it
    source: str  # e.g. "import:contacts.csv", "api:key_…", "cli:alice"
    proof_kind: ProofKind
    proof_ref: str | None  # e.g. "contacts.csv row 12 sha256:…", a form URL; None once erased

    @property
    def pair(self) -> str:
        return f"{self.purpose}:{self.channel}"


@dataclass(frozen=True)
class ConsentState:
    """The current consent of one (purpose, channel): the newest ledger entry decides."""

    purpose: str
    channel: str
    status: ConsentStatus
    since: datetime
    source: str

    @property
    def granted(self) -> bool:
        return self.status == "granted"

    @property
    def pair(self) -> str:
        return f"{self.purpose}:{self.channel}"


@dataclass(frozen=True)
class Suppression:
    """An entry of the suppression list: by contact, by email hash, or both."""

    id: int
    workspace_id: str
    contact_id: str | None
    email_hash: str | None
    channel: str | None  # None: every channel
    reason: SuppressionReason
    source: str
    created_at: datetime
    lifted_at: datetime | None


DecisionReason: TypeAlias = Literal[
    "consent_granted",
    "unknown_contact",
    "erased",
    "suppressed",
    "no_address",
    "consent_withdrawn",
    "no_consent",
]


@dataclass(frozen=True)
class Decision:
    """Whether a contact may be contacted for a purpose on a channel, and why (a stable code)."""

    allowed: bool
    reason: DecisionReason
    detail: str = ""  # one sentence for people, e.g. "suppressed: hard_bounce (smtp)"


@dataclass(frozen=True)
class ItemProblem:
    """Why one item of an API batch (or one row of a file) was rejected."""

    index: int  # the item's position in the batch, or the file's row number
    field: str
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "problem": self.problem}


@dataclass(frozen=True)
class UpsertResult:
    """What a batch upsert did: counts, the id and action of each stored item, rejections."""

    created: int
    updated: int
    unchanged: int
    stored: tuple[tuple[int, str, str], ...]  # (index, contact id, created|updated|unchanged)
    rejected: tuple[ItemProblem, ...]


@dataclass(frozen=True)
class RowProblem:
    """One problem of one row of an import file: row number, field (or column), what is wrong."""

    row: int
    field: str
    problem: str


@dataclass(frozen=True)
class ImportReport:
    """What a contacts import did."""

    source: str  # "import:<file name>", as stored with each consent it granted
    file_format: Literal["csv", "jsonl"]
    rows_read: int  # data rows: created + updated + unchanged + merged + rejected
    created: int
    updated: int
    unchanged: int
    merged: int  # rows for a contact an earlier row of the same file created or changed
    rejected: int
    skipped: int  # blank rows
    consents_recorded: int
    errors_path: Path | None  # FILE.errors.csv, or None when every row was good
    columns: dict[str, str] = field(default_factory=dict)  # file column -> field it fills
    ignored_columns: tuple[str, ...] = ()
    problems: tuple[RowProblem, ...] = ()  # the first few, for display

    @property
    def stored(self) -> int:
        return self.created + self.updated + self.unchanged + self.merged

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "source": self.source,
            "format": self.file_format,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "consents_recorded": self.consents_recorded,
            "errors_path": str(self.errors_path) if self.errors_path else None,
            "columns": dict(self.columns),
            "ignored_columns": list(self.ignored_columns),
            "problems": [p.__dict__ for p in self.problems],
        }
