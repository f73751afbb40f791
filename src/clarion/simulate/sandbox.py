"""A fresh Clarion installation for a rehearsal: its own data directory, keys and clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from clarion.auth import service as auth
from clarion.auth.contracts import KeyKind
from clarion.core.ids import SeededIds
from clarion.instance import Instance, initialise, open_instance
from clarion.settings import Settings, SmtpSettings
from clarion.simulate.market import Keys
from clarion.simulate.shared_clock import SharedSimulatedClock


@dataclass(frozen=True)
class Sandbox:
    """An initialised installation that owns its event store, on a simulated clock."""

    instance: Instance
    clock: SharedSimulatedClock  # a server in another process can read it
    workspace_id: str
    keys: Keys


def open_sandbox(
    data_dir: Path, *, start: datetime, seed: int, smtp: SmtpSettings | None = None
) -> Sandbox:
    """Initialise ``data_dir`` (it must be new or a sandbox) and open it with fresh keys;
    ``smtp`` points its sender at the simulated people's mail server."""
    clock = SharedSimulatedClock(start)
    ids = SeededIds(seed)
    # Every store named explicitly: environment settings must never point a rehearsal at a
    # real installation's databases.
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        data_dir=data_dir,
        app_store_url=f"sqlite:///{data_dir / 'clarion.db'}",
        event_store_url=f"duckdb://{data_dir / 'events.duckdb'}",
        smtp=smtp or SmtpSettings(),
    )
    report = initialise(settings, clock=clock, ids=ids)
    instance = open_instance(settings, clock=clock, ids=ids)
    instance.open_events()
    keys = {
        kind: auth.create_key(
            instance.store,
            report.workspace.id,
            kind,
            pepper=instance.pepper,
            clock=clock,
            ids=ids,
            label="simulator",
        ).plaintext
        for kind in (KeyKind.WRITE, KeyKind.SECRET)
    }
    return Sandbox(
        instance=instance,
        clock=clock,
        workspace_id=report.workspace.id,
        keys=Keys(write=keys[KeyKind.WRITE], secret=keys[KeyKind.SECRET]),
    )
